/**
 * `maplab verify`: linearizability checking of the shared maps under
 * concurrent use. The sweep's `--verify` calls verifyMaps and stores
 * `report.maps` in the results file as `verification` (keyed by map name).
 */
export { verifyMaps } from './verify.js';
export type {
  MapVerification,
  VerificationReport,
  VerificationStatus,
  VerificationTimings,
  VerifyConfig,
  VerifyOptions,
} from './verify.js';
export { resolveVerifyOptions, VERIFY_OPTION_SPECS, type VerifyOptionValues } from './options.js';
export { checkHistory, DEFAULT_CHECK_OPTIONS } from './check-history.js';
export type { CheckOptions, ForEachCheck, HistoryVerdict, SizeCheck, Violation } from './check-history.js';
export { buildCounterexample, renderTimeline, type Counterexample, type CounterexampleOp } from './counterexample.js';
export {
  describeOp,
  VERIFY_OP_NAMES,
  type ForEachEntry,
  type History,
  type HistoryOp,
  type VerifyOpName,
} from './history.js';
export { shrinkKeyHistory, type ShrunkKeyHistory } from './shrink.js';
