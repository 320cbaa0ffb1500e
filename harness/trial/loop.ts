/**
 * The timed loops: the only code that runs inside a measured window.
 *
 * Each replays a pre-generated op stream (power-of-two length, replayed
 * cyclically) against one map. The loop body is a `switch` on the op code
 * calling the map; results are folded into a checksum the caller returns, so
 * the JIT cannot drop a get. Nothing here allocates but the clock: every
 * `performance.now()` (like `Date.now()` and `process.hrtime.bigint()`)
 * returns a fresh heap number, ~30 bytes (5M reads: 156 scavenges on Node 20,
 * 78 on Node 24), so the loops read it sparingly (see the open loop's wait).
 *
 * Closed loop (`runClosedLoop`): ops back to back. One op in about every
 * `sampleEveryOps` is timed on its own (two clock reads around it) and recorded
 * in its op type's histogram; that same end-of-op clock read is the deadline
 * check, so the clock costs 2 reads per ~sampleEveryOps ops. Sample positions
 * are jittered (xorshift) so a periodic op pattern cannot alias with them.
 * A timed latency includes about one clock read (see config.timing.clockCostNs).
 * The same clock read closes throughput slices (`SliceRecorder`, ~10 ms each):
 * the ops per slice give the window's rate over time, from which the worker
 * reports its quiet rate (see quietRate).
 *
 * Open loop (`runOpenLoop`): op i is due at scheduleStartMs + i / rate. The
 * worker waits (sleeps, then spins) until an op is due, and records every op's
 * latency from its intended start, not its actual start, so time spent behind
 * schedule counts (coordinated omission corrected, like wrk2 / YCSB "intended").
 * Behind schedule, the ops already due run in batches between clock reads.
 * The wait spins on Atomics.load of the control word for up to half of the
 * time left (at most SPIN_CHUNK_MS) between clock reads: reading the clock in
 * a tight spin made a worker at 2.5M ops/s allocate ~170 MB/s and scavenge
 * every ~23 ms for 0.2–0.5 ms, inside the window, lifting the p99 it measured.
 * Gaps in the wait spin beyond the planned spin (the thread was descheduled)
 * go to a stall histogram: the machine's hiccups as this worker suffered them
 * (recordStall).
 * Ops still due when the window closes are recorded with the wait they had
 * already suffered (a lower bound) and counted as backlog.
 */
import { performance } from 'node:perf_hooks';
import { quantile as quantileOf } from 'simple-statistics';
import type { ConcurrentMap } from '../../maps/types.js';
import { Op, type OpStream } from '../../workloads/types.js';
import { ABORT_WORD, type TrialControl } from './control.js';
import { medianRoundMs } from './clock.js';
import type { LatencyHistogram } from './histogram.js';

const OP_GET = Op.get;
const OP_SET = Op.set;
const OP_DELETE = Op.delete;
const OP_GET_OR_SET = Op.getOrSet;
const OP_ADD = Op.add;
const OP_FOR_EACH = Op.forEach;
const OP_COMPARE_AND_SET = Op.compareAndSet;

/** Open loop: waits longer than this sleep (Atomics.wait wakes 14–150 µs late), the rest is spun. */
const SLEEP_THRESHOLD_MS = 1;
const SLEEP_MARGIN_MS = 0.3;
/**
 * Open loop: most ops already due that run back to back between two clock reads. With one clock read per op,
 * a worker behind schedule ran read-heavy at 0.55–0.62 (rwmutex) and 0.54 (readdirty) of its closed-loop ops/s
 * on one thread (a clock read costs about as much as an op); batches of 16: 0.86 / 0.76; of 64: 0.73–0.98 /
 * 0.76–1.00 (noisy shared machine; scripts/evidence/open-loop-ceiling.ts; EVIDENCE.md "Open-loop ceiling").
 */
const OPEN_LOOP_BATCH = 64;
/** Open loop: a gap this long between two clock reads of the wait spin, beyond the planned spin, means the thread was not running, ms. */
const STALL_GAP_MS = 0.02;
/**
 * Open loop: the longest clock-free spin of the wait, ms. Short enough that a vCPU running 2× slower than when
 * the spin step was measured (measureSpinStepMs) overruns it by at most STALL_GAP_MS, and so never counts as a
 * stall; long enough that a 1 ms wait reads the clock ~60 times instead of ~20 000.
 */
const SPIN_CHUNK_MS = 0.02;
/** Open loop: with less than this to wait, the spin reads the clock back to back, ms. */
const SPIN_MIN_MS = 0.0005;
/** Groups a stall's delayed ops are recorded in (recordMany), so a long stall costs a few records, not one per op. */
const STALL_GROUPS = 16;

/**
 * A stall of `gapNs` seen while waiting: the ops due during it (one per
 * `intervalNs`) would have been delayed by amounts spread evenly over
 * (0, gapNs]; recorded in STALL_GROUPS equal groups. With the window's other
 * ops added as zeros (worker.ts), the histogram is what the thread's own
 * stalls alone would make of the op latencies: the worker-side floor.
 */
export function recordStall(stalls: LatencyHistogram, gapNs: number, intervalNs: number): void {
  const delayedOps = gapNs / intervalNs;
  if (delayedOps < 1) return;
  const groups = Math.min(STALL_GROUPS, Math.floor(delayedOps));
  for (let group = 1; group <= groups; group++) stalls.recordMany((gapNs * group) / groups, delayedOps / groups);
}

/** Open loop: the abort word is polled every 256 ops. */
const ABORT_POLL_MASK = 255;
/** Backlog ops recorded one by one up to this many; beyond, in equal groups. */
const MAX_BACKLOG_RECORDS = 1_000_000;

/**
 * Throughput over time inside one window: ops per slice of about `sliceMs`.
 * Preallocated, so recording allocates nothing; slices past the capacity are
 * dropped (a warm-up recorder has capacity 0 and records nothing, but is
 * called the same way, so warm-up and window run the same code).
 */
export class SliceRecorder {
  readonly rates: Float64Array;
  count = 0;
  private startMs = 0;
  private startIndex = 0;
  /** performance.now() at which the current slice closes. */
  endMs = Infinity;

  constructor(
    capacity: number,
    readonly sliceMs: number,
  ) {
    this.rates = new Float64Array(capacity);
  }

  /** Opens the first slice at stream index `index`, time `nowMs`. */
  start(index: number, nowMs: number): void {
    this.count = 0;
    this.startMs = nowMs;
    this.startIndex = index;
    this.endMs = this.rates.length === 0 ? Infinity : nowMs + this.sliceMs;
  }

  /** Closes the current slice at (index, nowMs), records its ops/s, opens the next. */
  close(index: number, nowMs: number): void {
    if (this.count < this.rates.length)
      this.rates[this.count++] = ((index - this.startIndex) / (nowMs - this.startMs)) * 1000;
    this.startMs = nowMs;
    this.startIndex = index;
    this.endMs = this.count < this.rates.length ? nowMs + this.sliceMs : Infinity;
  }
}

/** Slice length of the closed loop's throughput-over-time record, ms. */
export const QUIET_SLICE_MS = 10;
/** The slice-rate quantile reported as a window's quiet rate. */
export const QUIET_QUANTILE = 0.9;
/** Slices a window needs before its quiet rate means anything. */
export const MIN_QUIET_SLICES = 5;

/**
 * A window's quiet rate: the `quantile` (0.9 by default) of its slice rates,
 * or null with fewer than MIN_QUIET_SLICES slices. On shared machines a vCPU
 * is slowed for 10 ms to seconds at a time by work outside the VM (measured
 * here: a one-thread cell's 10 ms slices drop from ~33 to ~19 Mops/s and back,
 * uncorrelated between the two vCPUs, steal time 0). Interference only ever
 * slows, so an upper quantile of the slices estimates the undisturbed rate;
 * a code change that slows every op moves it as much as the mean.
 */
export function quietRate(recorder: SliceRecorder, quantile = QUIET_QUANTILE): number | null {
  if (recorder.count < MIN_QUIET_SLICES) return null;
  return quantileOf(Array.from(recorder.rates.subarray(0, recorder.count)), quantile);
}

/** Where a worker is in its stream; the loops advance it in place. */
export interface LoopState {
  readonly map: ConcurrentMap;
  readonly stream: OpStream;
  /** The trial control block's words (polled for ABORT). */
  readonly controlWords: Int32Array;
  /** Mean ops between timed ops (closed loop), ≥ 2. */
  readonly sampleEveryOps: number;
  /** Ops issued so far; the stream position is index & (length − 1). */
  index: number;
  checksum: number;
  /** xorshift32 state for sample jitter, never 0. */
  rng: number;
  /** Open loop: one Atomics.load of the wait spin, ms (measureSpinStepMs); absent or 0: the wait reads the clock back to back. */
  readonly spinStepMs?: number;
}

/**
 * The cost of one step of the open loop's clock-free spin (an Atomics.load of
 * the control word), ms, as clock.ts medianRoundMs measures a loop (a high
 * estimate only spins less).
 */
export function measureSpinStepMs(controlWords: Int32Array, steps = 20_000): number {
  return medianRoundMs(() => {
    let seen = 0;
    for (let i = 0; i < steps; i++) seen |= Atomics.load(controlWords, ABORT_WORD);
    return seen;
  }, steps);
}

let entriesVisited = 0;
function countEntry(): void {
  entriesVisited++;
}

/** Applies op `position` of the stream to the map; returns a number derived from the result. */
export function applyOp(map: ConcurrentMap, stream: OpStream, position: number): number {
  const key = stream.keys[position];
  switch (stream.ops[position]) {
    case OP_GET: {
      const value = map.get(key);
      return value === undefined ? -1 : value;
    }
    case OP_SET:
      map.set(key, stream.values[position]);
      return 1;
    case OP_DELETE:
      return map.delete(key) ? 1 : 0;
    case OP_GET_OR_SET:
      return map.getOrSet(key, stream.values[position]);
    case OP_ADD:
      return map.add(key, stream.values[position]);
    case OP_COMPARE_AND_SET:
      return map.compareAndSet(key, stream.expected[position], stream.values[position]) ? 1 : 0;
    case OP_FOR_EACH:
      entriesVisited = 0;
      map.forEach(countEntry);
      return entriesVisited;
    default:
      throw new RangeError(`op code ${stream.ops[position]} at stream position ${position} is not an Op`);
  }
}

/** Runs ops back to back until the clock passes `untilMs` (performance.now) or the trial aborts. */
export function runClosedLoop(
  state: LoopState,
  byOp: readonly LatencyHistogram[],
  slices: SliceRecorder,
  untilMs: number,
): void {
  const { map, stream, controlWords, sampleEveryOps } = state;
  const mask = stream.length - 1;
  const halfGap = sampleEveryOps >>> 1;
  let { index, checksum, rng } = state;
  for (;;) {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    const nextSample = index + halfGap + ((rng >>> 0) % sampleEveryOps);
    for (; index < nextSample; index++) checksum = (checksum + applyOp(map, stream, index & mask)) | 0;
    const position = index & mask;
    const startMs = performance.now();
    checksum = (checksum + applyOp(map, stream, position)) | 0;
    const endMs = performance.now();
    index++;
    byOp[stream.ops[position]].record((endMs - startMs) * 1e6);
    if (endMs >= slices.endMs) slices.close(index, endMs);
    if (endMs >= untilMs || Atomics.load(controlWords, ABORT_WORD) !== 0) break;
  }
  state.index = index;
  state.checksum = checksum;
  state.rng = rng;
}

export interface OpenLoopOutcome {
  /** Ops issued and completed in the window. */
  issued: number;
  /** Ops due before the window closed but never issued (the worker could not keep up). */
  backlog: number;
  /** performance.now() when the loop stopped. */
  endMs: number;
}

/**
 * Issues op i at scheduleStartMs + i·intervalMs until untilMs; every op's latency is measured from its due time.
 * Ops already due when the worker gets to them (it is behind schedule) run in a batch of up to OPEN_LOOP_BATCH
 * with one clock read after the batch; each op's completion is interpolated linearly across the batch.
 */
export function runOpenLoop(
  state: LoopState,
  byOp: readonly LatencyHistogram[],
  control: TrialControl,
  scheduleStartMs: number,
  intervalMs: number,
  untilMs: number,
  stalls: LatencyHistogram,
): OpenLoopOutcome {
  const { map, stream, controlWords } = state;
  const spinStepMs = state.spinStepMs ?? 0;
  const mask = stream.length - 1;
  const ops = stream.ops;
  const dueInWindow = Math.ceil((untilMs - scheduleStartMs) / intervalMs);
  let { index, checksum } = state;
  let issued = 0;
  let nextAbortPoll = ABORT_POLL_MASK + 1;
  let nowMs = performance.now();
  for (;;) {
    const intendedMs = scheduleStartMs + issued * intervalMs;
    if (intendedMs >= untilMs) break;
    if (nowMs < intendedMs) {
      if (intendedMs - nowMs > SLEEP_THRESHOLD_MS) control.sleep(intendedMs - nowMs - SLEEP_MARGIN_MS);
      let previousMs = performance.now();
      let aborted = 0;
      do {
        const spinMs = Math.min(SPIN_CHUNK_MS, (intendedMs - previousMs) / 2);
        const steps = spinMs > SPIN_MIN_MS && spinStepMs > 0 ? Math.floor(spinMs / spinStepMs) : 0;
        for (let step = 0; step < steps; step++) aborted |= Atomics.load(controlWords, ABORT_WORD);
        nowMs = performance.now();
        const gapMs = nowMs - previousMs - steps * spinStepMs;
        if (gapMs > STALL_GAP_MS) recordStall(stalls, gapMs * 1e6, intervalMs * 1e6);
        previousMs = nowMs;
      } while (nowMs < intendedMs && aborted === 0);
      if (aborted !== 0) break;
    } else if (nowMs >= untilMs) {
      break;
    }
    const overdue = Math.floor((nowMs - scheduleStartMs) / intervalMs) + 1 - issued;
    const batch = Math.max(1, Math.min(OPEN_LOOP_BATCH, overdue, dueInWindow - issued));
    const batchStartMs = nowMs;
    for (let k = 0; k < batch; k++) checksum = (checksum + applyOp(map, stream, (index + k) & mask)) | 0;
    nowMs = performance.now();
    const perOpMs = (nowMs - batchStartMs) / batch;
    for (let k = 0; k < batch; k++) {
      const completedMs = batchStartMs + (k + 1) * perOpMs;
      byOp[ops[(index + k) & mask]].record((completedMs - (scheduleStartMs + (issued + k) * intervalMs)) * 1e6);
    }
    index += batch;
    issued += batch;
    if (issued >= nextAbortPoll) {
      nextAbortPoll += ABORT_POLL_MASK + 1;
      if (Atomics.load(controlWords, ABORT_WORD) !== 0) break;
    }
  }
  const due = Math.max(0, dueInWindow);
  const backlog = Atomics.load(controlWords, ABORT_WORD) !== 0 ? 0 : Math.max(0, due - issued);
  const group = Math.max(1, Math.ceil(backlog / MAX_BACKLOG_RECORDS));
  for (let first = 0; first < backlog; first += group) {
    const intendedMs = scheduleStartMs + (issued + first) * intervalMs;
    byOp[stream.ops[(index + first) & mask]].recordMany((nowMs - intendedMs) * 1e6, Math.min(group, backlog - first));
  }
  state.index = index;
  state.checksum = checksum;
  return { issued, backlog, endMs: nowMs };
}
