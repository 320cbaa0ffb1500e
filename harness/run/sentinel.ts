/**
 * The drift sentinel: a fixed reference workload measured in the same time
 * slots as the cells, so that a trial run while the machine was slow can be
 * recognised and re-measured.
 *
 * Why not the calibration loop: on shared VMs the level of a whole run moves
 * by tens of percent over minutes while a compute-bound loop stays within 4%
 * (EVIDENCE.md, "Noise on shared machines"): the drift is in the memory system
 * (neighbours on the host). So the sentinel's working set is a cell's: the
 * `plain` hash table over 65,536 keys (prefill 0.9, lf 0.75) read by one
 * worker replaying a uniform get-only stream of the sweep's stream length —
 * the same table, stream bytes and code path as a one-thread read-heavy cell,
 * with no lock and no write, so nothing but the machine can move it.
 *
 * One map and one stream for the whole sweep, created once; the sentinel has
 * its own one-thread pool, so its JIT feedback never meets a cell's maps.
 */
import { getMapFactory } from '../../maps/index.js';
import type { MapHandle } from '../../maps/types.js';
import { generateOpStream, prefillEntries, type OpStream, type Workload } from '../../workloads/index.js';
import { TrialControl } from '../trial/control.js';
import { fillMap } from '../trial/prefill.js';
import type { MapSource } from './map-source.js';
import { MapPool } from '../trial/pool.js';
import type { TrialTask, WorkerOutcome, WorkerReport } from '../trial/worker.js';

/** The sentinel's workload: a read-heavy cell's keys and table, gets only. */
export const SENTINEL_WORKLOAD: Workload = {
  name: 'sentinel',
  description: 'drift sentinel: uniform gets over 65,536 keys of a plain table (prefill 0.9)',
  mix: { get: 1 },
  distribution: { kind: 'uniform' },
  keys: 65_536,
  prefill: 0.9,
};
const SENTINEL_MAP: MapSource = { name: 'plain' };
const SENTINEL_LOAD_FACTOR = 0.75;
/** One reading: warm-up (caches and TLB, the JIT is warm) and window, ms. Six 10 ms slices give a quiet rate. */
export const SENTINEL_WARMUP_MS = 10;
export const SENTINEL_WINDOW_MS = 60;

/** One sentinel measurement. */
export interface SentinelReading {
  /** Wall-clock time of the reading (Date.now()), ms. */
  atMs: number;
  opsPerSec: number;
  /** p90 of the window's 10 ms slice rates (harness/trial/loop.ts quietRate), or null. */
  quietOpsPerSec: number | null;
  runqueueWaitFraction: number | null;
}

/** The figure a reading stands for: its quiet rate, or its mean rate when the window closed too few slices. */
export function sentinelRate(reading: SentinelReading): number {
  return reading.quietOpsPerSec ?? reading.opsPerSec;
}

export class DriftSentinel {
  private constructor(
    private readonly pool: MapPool,
    private readonly handle: MapHandle,
    private readonly stream: OpStream,
    private readonly sampleEveryOps: number,
  ) {}

  /** Starts the sentinel's pool and builds its table and stream (once per sweep). */
  static async start(options: {
    seed: number;
    streamOps: number;
    sampleEveryOps: number;
    timeoutMs: number;
    signal?: AbortSignal;
    /** The CPU its worker pins itself to (the one 1-thread trials run on); null: unpinned. */
    cpu?: number | null;
  }): Promise<DriftSentinel> {
    const factory = getMapFactory(SENTINEL_MAP.name);
    const handle = factory.create({
      capacity: Math.round(SENTINEL_WORKLOAD.keys * SENTINEL_WORKLOAD.prefill),
      loadFactor: SENTINEL_LOAD_FACTOR,
    });
    const view = factory.attach(handle);
    fillMap(view, prefillEntries(SENTINEL_WORKLOAD, options.seed));
    const stream = generateOpStream(SENTINEL_WORKLOAD, {
      seed: options.seed,
      workerIndex: 0,
      workerCount: 1,
      length: options.streamOps,
      shared: true,
    });
    const cpu = options.cpu ?? null;
    const pool = await MapPool.start(SENTINEL_MAP, 1, options.timeoutMs, options.signal, cpu === null ? null : [cpu]);
    const sentinel = new DriftSentinel(pool, handle, stream, options.sampleEveryOps);
    // JIT warm-up, discarded: the first readings would otherwise measure baseline code.
    await sentinel.measure(performance.now() + options.timeoutMs, options.signal, 200);
    return sentinel;
  }

  /** One reading of SENTINEL_WINDOW_MS (or `windowMs`). Throws TrialTimeoutError/TrialInterruptedError like a trial. */
  async measure(deadlineMs: number, signal?: AbortSignal, windowMs = SENTINEL_WINDOW_MS): Promise<SentinelReading> {
    const control = new TrialControl();
    const task: TrialTask = {
      kind: 'trial',
      control: control.buffer,
      workerIndex: 0,
      workerCount: 1,
      map: SENTINEL_MAP,
      handle: this.handle,
      privatePrefill: null,
      stream: this.stream,
      sampleEveryOps: this.sampleEveryOps,
      warmupMs: SENTINEL_WARMUP_MS,
      durationMs: windowMs,
      ratePerSec: null,
      seed: 0,
    };
    const atMs = Date.now();
    const [outcome] = (await this.pool.runTrial([task], control, deadlineMs, signal)) as WorkerOutcome[];
    if (!outcome.ok) throw new Error(`the drift sentinel failed: ${outcome.error?.message ?? 'aborted'}`);
    const report = outcome as WorkerReport;
    const elapsedNs = report.windowEndNs - report.windowStartNs;
    return {
      atMs,
      opsPerSec: (report.ops / elapsedNs) * 1e9,
      quietOpsPerSec: report.quietOpsPerSec,
      runqueueWaitFraction: report.runqueueWaitFraction,
    };
  }

  /** Moves the sentinel's worker to `cpu` (when the sweep changes its 1-thread vCPU). */
  pinTo(cpu: number, deadlineMs: number, signal?: AbortSignal): Promise<void> {
    return this.pool.pinTo(cpu, deadlineMs, signal);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
