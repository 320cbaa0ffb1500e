/**
 * verifyMaps: records histories of each shared map under concurrent use and
 * checks each one (check-history.ts). Answers: "is this map linearizable
 * under the op mixes it will see, and if not, what is the smallest run that
 * shows it?"
 *
 * What a pass proves: in every history recorded, the single-key ops have a
 * linearization (per key, hence for the map), forEach and size meet their
 * per-key rules, and no op threw. It is evidence, not proof: histories are
 * short and random, and on a machine with few cores threads overlap less than
 * they would on many. What it does not check: performance, memory reclamation
 * or behaviour under keys outside the recorded key space.
 *
 * Per map: private maps (js-map) are skipped ("private, not shared"); maps
 * with safeForConcurrentWrites: false (plain) are expected to fail — a
 * ConcurrentMapWriteError is the documented outcome, reported as 'unsafe'.
 */
import type { MapFactory } from '../../maps/types.js';
import { UsageError } from '../run/options.js';
import { checkHistory, type CheckOptions } from './check-history.js';
import { buildCounterexample, exceptionCounterexample, type Counterexample } from './counterexample.js';
import { overlappingOps } from './history.js';
import { mapFactories } from '../../maps/index.js';
import { loadPluginModule, type MapSource } from '../run/map-source.js';
import { resolveVerifyOptions, type VerifyOptionValues } from './options.js';
import { HistoryRecorder, type RecordedHistory, type RecordParameters } from './recorder.js';

export type VerificationStatus = 'verified' | 'violated' | 'unsafe' | 'private' | 'inconclusive' | 'error';

export interface VerificationTimings {
  totalMs: number;
  /** Wall time of the recording batches (histories of one batch run back to back). */
  recordMs: number;
  /** Checker time, all histories. */
  checkMs: number;
  /** Shrinking the counterexample (not in checkMs). */
  shrinkMs: number;
  recordUsPerHistory: number;
  checkUsPerHistory: number;
  /** The slowest single history check. */
  checkUsMax: number;
}

/** One map's outcome; what the results file stores under `verification[map]`. */
export interface MapVerification {
  map: string;
  status: VerificationStatus;
  /** One line for people. */
  message: string;
  shared: boolean;
  safeForConcurrentWrites: boolean;
  threads: number;
  opsPerHistory: number;
  keys: number;
  seed: number;
  /** Histories recorded. */
  histories: number;
  opsRecorded: number;
  /**
   * Fraction of recorded ops whose interval overlapped an op of another
   * thread: how much concurrency the histories really exercised (low on a
   * busy machine, where threads take turns instead of running together).
   */
  overlap: number;
  /** Histories that went through the checker (those where no op threw). */
  checked: number;
  linearizable: number;
  violations: number;
  inconclusive: number;
  /** Histories in which the map threw ConcurrentMapWriteError. */
  concurrentWritesDetected: number;
  /** Histories in which an op threw anything else. */
  exceptions: number;
  /** The first violation (shrunk), or failing that the first exception. */
  counterexample?: Counterexample;
  /** Recording failed (a batch hung or a worker died). */
  error?: string;
  timings: VerificationTimings;
}

export interface VerificationReport {
  config: VerifyConfig;
  /** Keyed by map name, in the order verified. Goes into the results file as `verification`. */
  maps: Record<string, MapVerification>;
  /** False when a map that claims to be safe was violated or failed to record. */
  passed: boolean;
}

export interface VerifyConfig extends Omit<VerifyOptionValues, 'json' | 'maps' | 'mapModule' | 'durationMs'> {
  maps: string[];
  mapModule: string[];
  durationMs: number | null;
}

/** The CLI options (except --json) plus API-only knobs. */
export interface VerifyOptions extends Partial<Omit<VerifyOptionValues, 'json'>> {
  /** Busy-wait iterations before each op, at most (default 64); 0 runs ops back to back. */
  maxJitterSpins?: number;
  /** A batch slower than this is stopped and the map reported 'error' (default 60000). */
  batchTimeoutMs?: number;
  /** Called once the options and maps are validated, before any recording. */
  onStart?: (config: VerifyConfig) => void;
  /** Called as each map finishes. */
  onMapVerified?: (result: MapVerification) => void;
}

const DEFAULT_MAX_JITTER_SPINS = 64;
const DEFAULT_BATCH_TIMEOUT_MS = 60_000;
/** Shrinking may spend this many times the per-history budget. */
const SHRINK_BUDGET_FACTOR = 20;

/** Verifies each requested map in turn; throws UsageError on bad options or an unknown map. */
export async function verifyMaps(options: VerifyOptions = {}): Promise<VerificationReport> {
  const {
    maxJitterSpins = DEFAULT_MAX_JITTER_SPINS,
    batchTimeoutMs = DEFAULT_BATCH_TIMEOUT_MS,
    onStart,
    onMapVerified,
    ...values
  } = options;
  const resolved = resolveVerifyOptions([{ source: 'verify options', values: values as Record<string, unknown> }]);
  if (!Number.isInteger(maxJitterSpins) || maxJitterSpins < 0 || maxJitterSpins > 65_535) {
    throw new UsageError(`maxJitterSpins must be an integer 0..65535, got ${maxJitterSpins}`);
  }
  if (!Number.isInteger(batchTimeoutMs) || batchTimeoutMs < 1)
    throw new UsageError(`batchTimeoutMs must be an integer ≥ 1, got ${batchTimeoutMs}`);

  const candidates: Array<{ factory: MapFactory; source: MapSource }> = mapFactories.map((factory) => ({
    factory,
    source: { name: factory.name },
  }));
  for (const path of resolved.mapModule ?? []) {
    const plugin = await loadPluginModule(path);
    if (candidates.some(({ factory }) => factory.name === plugin.factory.name)) {
      throw new UsageError(`--map-module ${path}: its map is named '${plugin.factory.name}', which is already taken`);
    }
    candidates.push(plugin);
  }
  const requested = resolved.maps ?? candidates.map(({ factory }) => factory.name);
  const selected = requested.map((name) => {
    const found = candidates.find(({ factory }) => factory.name === name);
    if (!found)
      throw new UsageError(
        `--maps: unknown map '${name}'; allowed: ${candidates.map(({ factory }) => factory.name).join(', ')}`,
      );
    return found;
  });

  const config: VerifyConfig = {
    maps: requested,
    mapModule: resolved.mapModule ?? [],
    threads: resolved.threads,
    histories: resolved.histories,
    opsPerHistory: resolved.opsPerHistory,
    keys: resolved.keys,
    seed: resolved.seed,
    durationMs: resolved.durationMs ?? null,
    capacity: resolved.capacity,
    stepBudget: resolved.stepBudget,
    foreachCheck: resolved.foreachCheck,
    sizeCheck: resolved.sizeCheck,
    historiesPerTask: resolved.historiesPerTask,
  };
  onStart?.(config);
  const report: VerificationReport = { config, maps: {}, passed: true };
  const needsPool = selected.some(({ factory }) => factory.shared);
  const recorder = needsPool ? new HistoryRecorder(config.threads) : undefined;
  try {
    for (const { factory, source } of selected) {
      const result = recorder
        ? await verifyOneMap(factory, source, recorder, config, maxJitterSpins, batchTimeoutMs)
        : privateResult(factory, config);
      report.maps[factory.name] = result;
      if (
        factory.shared &&
        factory.safeForConcurrentWrites &&
        (result.status === 'violated' || result.status === 'error')
      )
        report.passed = false;
      onMapVerified?.(result);
    }
  } finally {
    await recorder?.close();
  }
  return report;
}

async function verifyOneMap(
  factory: MapFactory,
  source: MapSource,
  recorder: HistoryRecorder,
  config: VerifyConfig,
  maxJitterSpins: number,
  batchTimeoutMs: number,
): Promise<MapVerification> {
  if (!factory.shared) return privateResult(factory, config);
  const result = emptyResult(factory, config);
  const checkOptions: CheckOptions = {
    stepBudget: config.stepBudget,
    foreachCheck: config.foreachCheck,
    sizeCheck: config.sizeCheck,
  };
  const parameters: RecordParameters = {
    threads: config.threads,
    opsPerHistory: config.opsPerHistory,
    keys: config.keys,
    seed: config.seed,
    capacity: config.capacity,
    maxJitterSpins,
    batchTimeoutMs,
  };
  let exceptionExample: Counterexample | undefined;
  const startedMs = performance.now();
  let recordMs = 0;
  let checkMs = 0;
  let shrinkMs = 0;
  let checkMsMax = 0;
  let overlapping = 0;

  while (
    result.histories < config.histories &&
    (config.durationMs === null || performance.now() - startedMs < config.durationMs)
  ) {
    const count = Math.min(config.historiesPerTask, config.histories - result.histories);
    const firstHistoryIndex = result.histories;
    let batch: RecordedHistory[];
    const recordStartMs = performance.now();
    try {
      batch = await recorder.record(factory, source, firstHistoryIndex, count, parameters);
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error);
      break;
    } finally {
      recordMs += performance.now() - recordStartMs;
    }
    result.histories += count;
    batch.forEach(({ history, thrown }, batchIndex) => {
      const historyIndex = firstHistoryIndex + batchIndex;
      result.opsRecorded += history.ops.length + thrown.length;
      overlapping += overlappingOps(history);
      if (thrown.length > 0) {
        if (thrown.some((failed) => failed.name === 'ConcurrentMapWriteError')) result.concurrentWritesDetected++;
        else result.exceptions++;
        exceptionExample ??= exceptionCounterexample(historyIndex, thrown, history.ops);
        return;
      }
      const checkStartMs = performance.now();
      const verdict = checkHistory(history, checkOptions);
      const elapsedMs = performance.now() - checkStartMs;
      checkMs += elapsedMs;
      checkMsMax = Math.max(checkMsMax, elapsedMs);
      result.checked++;
      if (verdict.outcome === 'linearizable') result.linearizable++;
      else if (verdict.outcome === 'inconclusive') result.inconclusive++;
      else {
        result.violations++;
        if (!result.counterexample && verdict.violation) {
          const shrinkStartMs = performance.now();
          result.counterexample = buildCounterexample(history, historyIndex, verdict.violation, {
            remaining: config.stepBudget * SHRINK_BUDGET_FACTOR,
          });
          shrinkMs += performance.now() - shrinkStartMs;
        }
      }
    });
  }
  if (!result.counterexample && exceptionExample) result.counterexample = exceptionExample;
  result.overlap = result.opsRecorded > 0 ? round(overlapping / result.opsRecorded, 4) : 0;
  result.timings = {
    totalMs: round(performance.now() - startedMs),
    recordMs: round(recordMs),
    checkMs: round(checkMs),
    shrinkMs: round(shrinkMs),
    recordUsPerHistory: result.histories > 0 ? round((recordMs * 1000) / result.histories) : 0,
    checkUsPerHistory: result.checked > 0 ? round((checkMs * 1000) / result.checked) : 0,
    checkUsMax: round(checkMsMax * 1000),
  };
  [result.status, result.message] = judge(factory, result, config);
  return result;
}

/** The status and its one-line explanation, from the counts. */
function judge(factory: MapFactory, result: MapVerification, config: VerifyConfig): [VerificationStatus, string] {
  const of = `of ${result.histories} histories`;
  const unexplained = result.violations > 0 ? `; ${result.violations} ${of} not linearizable without a detection` : '';
  const failure = result.error !== undefined ? `; recording stopped: ${result.error}` : '';
  if (!factory.safeForConcurrentWrites) {
    if (result.concurrentWritesDetected > 0) {
      return [
        'unsafe',
        `unsafe: concurrent map writes detected, as documented (in ${result.concurrentWritesDetected} ${of})${unexplained}${failure}`,
      ];
    }
    return [
      'unsafe',
      `unsafe (documented): no concurrent write detected in ${result.histories} histories${unexplained}${failure}`,
    ];
  }
  if (result.violations > 0) return ['violated', `${result.violations} ${of} not linearizable${failure}`];
  const thrown = result.exceptions + result.concurrentWritesDetected;
  if (thrown > 0)
    return ['violated', `an op threw in ${thrown} ${of}: ${result.counterexample?.summary ?? ''}${failure}`];
  if (result.error !== undefined)
    return ['error', `recording failed after ${result.histories} histories: ${result.error}`];
  if (result.inconclusive > 0) {
    return [
      'inconclusive',
      `no violation, but ${result.inconclusive} ${of} were inconclusive (step budget ${config.stepBudget})`,
    ];
  }
  return ['verified', `linearizable in all ${result.histories} histories (${result.opsRecorded} ops)`];
}

function emptyResult(factory: MapFactory, config: VerifyConfig): MapVerification {
  return {
    map: factory.name,
    status: 'verified',
    message: '',
    shared: factory.shared,
    safeForConcurrentWrites: factory.safeForConcurrentWrites,
    threads: config.threads,
    opsPerHistory: config.opsPerHistory,
    keys: config.keys,
    seed: config.seed,
    histories: 0,
    opsRecorded: 0,
    overlap: 0,
    checked: 0,
    linearizable: 0,
    violations: 0,
    inconclusive: 0,
    concurrentWritesDetected: 0,
    exceptions: 0,
    timings: {
      totalMs: 0,
      recordMs: 0,
      checkMs: 0,
      shrinkMs: 0,
      recordUsPerHistory: 0,
      checkUsPerHistory: 0,
      checkUsMax: 0,
    },
  };
}

function privateResult(factory: MapFactory, config: VerifyConfig): MapVerification {
  return {
    ...emptyResult(factory, config),
    status: 'private',
    message: 'private, not shared: each thread has its own copy, so there is nothing to verify across threads',
  };
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
