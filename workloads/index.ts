/**
 * The workloads package's one public entry point: presets, validation,
 * custom workloads and seeded op-stream generation. The harness imports from
 * here only.
 */
export type { Distribution, DistributionName, Mix, OpCode, OpName, OpStream, Workload } from './types.js';
export { DISTRIBUTION_NAMES, Op, OP_NAMES } from './types.js';
export { WorkloadError } from './errors.js';
export {
  DEFAULT_HOT_KEY_FRACTION,
  DEFAULT_HOT_OP_FRACTION,
  DEFAULT_THETA,
  MAX_KEYS,
  MIX_SUM_TOLERANCE,
  PATTERN_KINDS,
  validateWorkload,
  writeFraction,
} from './validate.js';
export type { PatternKind } from './validate.js';
export { getWorkload, omittedWorkloads, workloadPresetNames, workloadPresets } from './presets.js';
export { CUSTOM_DEFAULTS, loadWorkloadFile, withKeySpace, workloadFromFlags } from './custom.js';
export type { WorkloadFlags } from './custom.js';
export {
  ADD_DELTA,
  generateOpStream,
  insertsFreshKeys,
  keyUpperBound,
  MAX_PREFILL_ENTRIES,
  MAX_STREAM_LENGTH,
  MAX_STREAM_VALUE,
  mapCapacity,
  prefillCount,
  prefillEntries,
  valueFor,
} from './generate.js';
export type { StreamOptions } from './generate.js';
