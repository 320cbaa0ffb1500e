/**
 * The cache-line handoff probe, worker side: two threads pass one shared word
 * back and forth, and the time per pass is what one core pays to see another
 * core's write. harness/run/placement.ts runs it before a sweep's visits and
 * in each multi-thread trial, between its prefill and its start.
 *
 * Why (EVIDENCE.md, "Noise on shared machines"): on a 2-vCPU VM the host
 * moves the two vCPUs between its cores. A pass costs ~220–250 ns when they
 * sit on different core complexes, ~55–65 ns when they share one, and
 * microseconds when one vCPU is not running at all; a shared map at 2
 * threads runs 2–3× faster in the close placement (rwmutex read-heavy 5.2 →
 * 12.2 M ops/s) and loses its parallelism in the last. No other figure the
 * harness has (sentinel, run queues, calibration) sees it.
 *
 * Shared words (int32, the probe's own SharedArrayBuffer of PROBE_BYTES):
 *   TURN (word 0, its own 128-byte line pair) — the counter being passed.
 *           Worker w (0 or 1) waits until TURN's parity is w, then
 *           Atomics.store(TURN + 1). Each increment is one handoff: the
 *           writer's line moved to the other core and back is two.
 *   STOP (word 32, its own line pair) — set to 1 by the first worker whose
 *           window is over, so the other stops waiting for a turn that will
 *           not come.
 * Both start together at the trial control's barrier. Worker 0 times every
 * CHUNK handoffs and reports a low quantile of the chunk times: a reading
 * during which something else holds one core for part of the window (a V8 GC
 * helper, the last trial's workers collect after their window) still finds
 * the chunks in which both threads ran, so it measures the placement. Only
 * when the two threads hardly ran together does the whole window (elapsed ÷
 * handoffs) stand for the figure, which is then microseconds: the schedule's
 * rule leaves such readings unclassified (harness/run/schedule.ts
 * unclassifiedNs), and the sweep takes them again (placement.ts). Most such
 * readings are ~1.35 ms per handoff, a few passes in the window: both probe
 * threads on one vCPU, passing the line once per scheduler tick (a woken
 * thread is put beside its waker). Pinned to different CPUs (affinity.ts),
 * a quick sweep retook 1–5 readings instead of ~280.
 */
import { TrialControl } from './control.js';
import { monotonicNs } from './clock.js';

/** Bytes of a probe buffer: TURN and STOP each on their own 128-byte line pair. */
export const PROBE_BYTES = 256;
const TURN = 0;
const STOP = 32;
/** Loop iterations between clock and abort checks: a clock read costs ~40–80 ns, a pass ≥ 50 ns. */
const CHECK_EVERY = 256;
/** Worker 0 times every CHUNK handoffs (~30 µs close, ~120 µs apart): a 5 ms window gives 40–160 chunks. */
const CHUNK = 512; // a power of two
const MAX_CHUNKS = 4096;
/** The figure: this quantile of the chunk times. A chunk is slow when a GC thread or anything else took a
 * probe thread's CPU for part of it; the fast chunks are the ones in which both threads ran throughout. */
const CHUNK_QUANTILE = 0.1;
/** Fewer timed chunks than this: the threads hardly ran together, and the whole window stands for the figure. */
const MIN_CHUNKS = 5;

export interface HandoffTask {
  kind: 'handoff';
  control: SharedArrayBuffer;
  /** PROBE_BYTES, a fresh (zeroed) buffer for each reading. */
  probe: SharedArrayBuffer;
  workerIndex: 0 | 1;
  windowMs: number;
}

export interface HandoffReport {
  ok: true;
  workerIndex: number;
  /** Handoffs completed in the window (both directions counted). */
  handoffs: number;
  elapsedNs: number;
  /**
   * Worker 0: the time of one handoff, ns, from the fast chunks of the window
   * (CHUNK_QUANTILE of the chunk times ÷ CHUNK), or elapsedNs ÷ handoffs when
   * fewer than MIN_CHUNKS chunks completed. Worker 1: null.
   */
  handoffNs: number | null;
}

/** Runs one worker's side of a reading; returns null if the reading was aborted before it started. */
export function runHandoff(task: HandoffTask, control: TrialControl): HandoffReport | null {
  const words = new Int32Array(task.probe);
  const me = task.workerIndex;
  if (control.arriveAndWait(2, monotonicNs) === null) return null;
  const chunks = me === 0 ? new Float64Array(MAX_CHUNKS) : null;
  let chunkCount = 0;
  const startNs = monotonicNs();
  let chunkStartNs = startNs;
  const endNs = startNs + task.windowMs * 1e6;
  let seen = Atomics.load(words, TURN);
  for (let iteration = 1; ; iteration++) {
    if ((seen & 1) === me) {
      Atomics.store(words, TURN, seen + 1);
      seen++;
      // Worker 0 writes the odd values: 511, 1023, … close a chunk of CHUNK handoffs.
      if (chunks !== null && (seen & (CHUNK - 1)) === CHUNK - 1 && chunkCount < MAX_CHUNKS) {
        const nowNs = monotonicNs();
        chunks[chunkCount++] = nowNs - chunkStartNs;
        chunkStartNs = nowNs;
      }
    }
    if (iteration % CHECK_EVERY === 0) {
      if (Atomics.load(words, STOP) !== 0 || control.aborted()) break;
      if (monotonicNs() >= endNs) {
        Atomics.store(words, STOP, 1);
        break;
      }
    }
    seen = Atomics.load(words, TURN);
  }
  const elapsedNs = monotonicNs() - startNs;
  const handoffs = Atomics.load(words, TURN);
  let handoffNs: number | null = null;
  if (chunks !== null) {
    // The first chunk may start mid-way (the other thread still waking from the barrier): left out.
    const timed = chunks.slice(1, chunkCount).sort();
    handoffNs =
      timed.length >= MIN_CHUNKS
        ? timed[Math.floor(CHUNK_QUANTILE * (timed.length - 1))] / CHUNK
        : elapsedNs / Math.max(1, handoffs);
  }
  return { ok: true, workerIndex: me, handoffs, elapsedNs, handoffNs };
}
