/**
 * The piscina worker: runs one worker's share of a trial.
 *
 * A trial task: attach the map (a private map is also prefilled here, one copy
 * per worker), take a clock offset, arrive at the start barrier, warm up until
 * the common warm-up deadline, run the measured window until the common end
 * deadline, then report ops, the window's start and end on the shared timeline,
 * the window's quiet rate (closed loop: p90 of its ~10 ms slice rates),
 * the latency histograms per op type, the ops executed per type and, for a
 * private map, its counters. A worker never throws: a failure aborts the
 * trial for every worker (control block) and comes back as data, so the main
 * thread sees the error's name ('ConcurrentMapWriteError'…) intact.
 */
import { threadId } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { MapHandle } from '../../maps/types.js';
import { OP_NAMES, type OpStream } from '../../workloads/types.js';
import { localClockOffsetMs, measureClockCostNs, monotonicNs } from './clock.js';
import { TrialControl } from './control.js';
import { collectGarbage } from './gc.js';
import { runHandoff, type HandoffTask } from './handoff.js';
import { LatencyHistogram } from './histogram.js';
import { readThreadSchedstat, runqueueWaitFraction, type SchedSample } from './interference.js';
import {
  measureSpinStepMs,
  QUIET_SLICE_MS,
  quietRate,
  runClosedLoop,
  runOpenLoop,
  SliceRecorder,
  type LoopState,
} from './loop.js';
import { loadMapFactory, type MapSource } from '../run/map-source.js';
import { currentCpu, pinThisThread } from './affinity.js';
import { profilePath, ThreadProfiler, type ProfileTarget } from './profiler.js';
import type { HistogramData } from '../results/results.js';

/** Start handshake: every thread of a fresh pool arrives, so all are up and have loaded the map. */
export interface ReadyTask {
  kind: 'ready';
  control: SharedArrayBuffer;
  workerCount: number;
  map: MapSource;
  /** Pin to cpus[slot mod length], the slot taken from `slots` in arrival order (affinity.ts); null: no pinning. */
  cpus: number[] | null;
  /** One int32: the next free slot. */
  slots: SharedArrayBuffer;
}

/** Moves a worker to another CPU (a 1-thread pool follows the sweep's choice of vCPU, affinity.ts). */
export interface PinTask {
  kind: 'pin';
  control: SharedArrayBuffer;
  cpu: number;
}

/** What a worker answers to the ready task. */
export interface ReadyReport {
  threadId: number;
  clockCostNs: number;
  /** The CPU it was on after the barrier (affinity.ts currentCpu); null off Linux. */
  cpu: number | null;
}

export interface TrialTask {
  kind: 'trial';
  control: SharedArrayBuffer;
  workerIndex: number;
  workerCount: number;
  map: MapSource;
  /** Created by the main thread; a shared map is already prefilled, a private one is prefilled here. */
  handle: MapHandle;
  privatePrefill: { keys: Int32Array; values: Int32Array } | null;
  /** SharedArrayBuffer-backed; length is a power of two. */
  stream: OpStream;
  warmupMs: number;
  durationMs: number;
  sampleEveryOps: number;
  /** Open loop: target ops/s of this worker; null for closed loop. */
  ratePerSec: number | null;
  /** Seeds the sample-position jitter. */
  seed: number;
  /** --profile: write a CPU profile of the measured window (profiler.ts); null: no profiling. */
  profile?: ProfileTarget | null;
}

export interface WorkerFailure {
  ok: false;
  workerIndex: number;
  /** true when this worker stopped because another one failed (or the main thread aborted). */
  aborted: boolean;
  error?: { name: string; message: string; stack?: string };
}

export interface WorkerReport {
  ok: true;
  workerIndex: number;
  threadId: number;
  ops: number;
  /** Measured window on the shared timeline (clock.ts monotonicNs). */
  windowStartNs: number;
  windowEndNs: number;
  /** Latency histograms of the measured window, by op name (only op types that were timed). */
  histograms: Partial<Record<string, HistogramData>>;
  /** Closed loop: the window's quiet rate (loop.ts quietRate), ops/s; null for open loop or too short a window. */
  quietOpsPerSec: number | null;
  /** Open loop: what this thread's own stalls (gaps in its wait spin) alone would make of the op latencies (loop.ts recordStall). */
  stalls: HistogramData | null;
  /** Ops executed in the measured window, by op name. */
  opCounts: Partial<Record<string, number>>;
  /** A private map's counters (shared maps are read once by the main thread). */
  counters: Record<string, number> | null;
  clockCostNs: number;
  /** Times the stream was replayed from its start during warm-up and window. */
  streamWraps: number;
  /** Open loop only. */
  backlog: number;
  /** Share of the window this thread was runnable but had no CPU (interference.ts); null off Linux. */
  runqueueWaitFraction: number | null;
  checksum: number;
}

export type WorkerOutcome = WorkerReport | WorkerFailure;

const OP_KINDS = OP_NAMES.length;
/** Warm-up latencies go here and are never read: the same record calls as the window, so the same JIT state. */
const discarded = Array.from({ length: OP_KINDS }, () => new LatencyHistogram());
const noSlices = new SliceRecorder(0, QUIET_SLICE_MS);
const discardedStalls = new LatencyHistogram();

/** Pins this worker to `cpu`; on failure aborts `control` (others stop waiting at its barrier) and throws. */
function pinOrThrow(cpu: number, control: TrialControl): void {
  const failure = pinThisThread(cpu);
  if (failure === null) return;
  control.abort();
  throw new Error(`pinning a worker: ${failure}`);
}

export default async function runTask(task: ReadyTask | TrialTask | HandoffTask | PinTask): Promise<unknown> {
  const control = new TrialControl(task.control);
  if (task.kind === 'handoff') return runHandoff(task, control);
  if (task.kind === 'pin') {
    pinOrThrow(task.cpu, control);
    return currentCpu();
  }
  if (task.kind === 'ready') {
    if (task.cpus !== null && task.cpus.length > 0) {
      const slot = Atomics.add(new Int32Array(task.slots), 0, 1);
      pinOrThrow(task.cpus[slot % task.cpus.length], control);
    }
    await loadMapFactory(task.map);
    control.arriveAndWait(task.workerCount, monotonicNs);
    const report: ReadyReport = { threadId, clockCostNs: measureClockCostNs(2000), cpu: currentCpu() };
    return report;
  }
  try {
    return await runTrial(task, control);
  } catch (error) {
    const aborted = control.aborted();
    control.abort();
    const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
    const failure: WorkerFailure = {
      ok: false,
      workerIndex: task.workerIndex,
      aborted,
      error: { name, message, stack },
    };
    return failure;
  }
}

async function runTrial(task: TrialTask, control: TrialControl): Promise<WorkerOutcome> {
  const factory = await loadMapFactory(task.map);
  const map = factory.attach(task.handle);
  if (task.privatePrefill) {
    const { keys, values } = task.privatePrefill;
    for (let i = 0; i < keys.length; i++) map.set(keys[i], values[i]);
  }
  const clockCostNs = measureClockCostNs(2000);
  const byOp = Array.from({ length: OP_KINDS }, () => new LatencyHistogram());
  const state: LoopState = {
    map,
    stream: task.stream,
    controlWords: control.words,
    sampleEveryOps: task.sampleEveryOps,
    index: 0,
    checksum: 0,
    rng: (Math.imul(task.seed ^ 0x9e3779b9, task.workerIndex + 1) | 1) >>> 0,
    spinStepMs: task.ratePerSec === null ? 0 : measureSpinStepMs(control.words, 5000),
  };
  const offsetMs = localClockOffsetMs();
  const profiler = task.profile ? ThreadProfiler.forThisThread() : null;
  const releaseNs = control.arriveAndWait(task.workerCount, monotonicNs);
  if (releaseNs === null) return { ok: false, workerIndex: task.workerIndex, aborted: true };

  const warmupEndMs = releaseNs / 1e6 + offsetMs + task.warmupMs;
  const windowEndMs = warmupEndMs + task.durationMs;
  let windowStartMs: number;
  let windowStopMs: number;
  let backlog = 0;
  let windowStartIndex: number;
  let quietOpsPerSec: number | null = null;
  let schedAtStart: SchedSample | null = null;
  const stalls = new LatencyHistogram();
  if (task.ratePerSec === null) {
    const slices = new SliceRecorder(Math.ceil(task.durationMs / QUIET_SLICE_MS) + 1, QUIET_SLICE_MS);
    if (task.warmupMs > 0) runClosedLoop(state, discarded, noSlices, warmupEndMs);
    windowStartIndex = state.index;
    schedAtStart = readThreadSchedstat();
    profiler?.start();
    windowStartMs = performance.now();
    slices.start(windowStartIndex, windowStartMs);
    runClosedLoop(state, byOp, slices, windowEndMs);
    windowStopMs = performance.now();
    if (profiler && task.profile) profiler.stopAndWrite(profilePath(task.profile, task.workerIndex));
    quietOpsPerSec = quietRate(slices);
  } else {
    const intervalMs = 1000 / task.ratePerSec;
    const releaseMs = warmupEndMs - task.warmupMs;
    if (task.warmupMs > 0) runOpenLoop(state, discarded, control, releaseMs, intervalMs, warmupEndMs, discardedStalls);
    windowStartIndex = state.index;
    schedAtStart = readThreadSchedstat();
    // The window is the schedule's, even if warm-up overran: ops due meanwhile count as late, not as a burst.
    windowStartMs = warmupEndMs;
    profiler?.start();
    const outcome = runOpenLoop(state, byOp, control, warmupEndMs, intervalMs, windowEndMs, stalls);
    if (profiler && task.profile) profiler.stopAndWrite(profilePath(task.profile, task.workerIndex));
    backlog = outcome.backlog;
    stalls.recordMany(0, outcome.issued + outcome.backlog - stalls.totalCount);
    windowStopMs = outcome.endMs;
  }
  const schedAtEnd = readThreadSchedstat();
  map.quiesce?.();
  if (control.aborted()) return { ok: false, workerIndex: task.workerIndex, aborted: true };

  const histograms: WorkerReport['histograms'] = {};
  byOp.forEach((histogram, code) => {
    if (histogram.totalCount > 0) histograms[OP_NAMES[code]] = histogram.toData();
  });
  const report: WorkerReport = {
    ok: true,
    workerIndex: task.workerIndex,
    threadId,
    ops: state.index - windowStartIndex,
    windowStartNs: (windowStartMs - offsetMs) * 1e6,
    windowEndNs: (windowStopMs - offsetMs) * 1e6,
    histograms,
    quietOpsPerSec,
    stalls: task.ratePerSec === null ? null : stalls.toData(),
    opCounts: countOps(task.stream, windowStartIndex, state.index),
    counters: factory.shared ? null : map.stats(),
    clockCostNs,
    streamWraps: Math.floor(state.index / task.stream.length),
    backlog,
    runqueueWaitFraction: runqueueWaitFraction(schedAtStart, schedAtEnd, (windowStopMs - windowStartMs) * 1e6),
    checksum: state.checksum,
  };
  // Frees the previous trial's map (this one is still referenced, so the hidden classes the optimized
  // code depends on stay alive). Here, after the window: a collection just before the window slowed
  // js-map 5–20% (measured), from work the collector leaves to finish concurrently.
  collectGarbage();
  return report;
}

/** Ops per type executed between stream indexes [from, to) of a cyclically replayed stream. */
export function countOps(stream: OpStream, from: number, to: number): Partial<Record<string, number>> {
  const length = stream.length;
  const perCycle = new Float64Array(OP_KINDS);
  const partial = new Float64Array(OP_KINDS);
  const cycles = Math.floor((to - from) / length);
  if (cycles > 0) for (let i = 0; i < length; i++) perCycle[stream.ops[i]]++;
  for (let i = from + cycles * length; i < to; i++) partial[stream.ops[i % length]]++;
  const counts: Partial<Record<string, number>> = {};
  for (let code = 0; code < OP_KINDS; code++) {
    const count = perCycle[code] * cycles + partial[code];
    if (count > 0) counts[OP_NAMES[code]] = count;
  }
  return counts;
}
