/**
 * The cache-line handoff probe, worker side: two threads pass one shared word
 * back and forth, and the time per pass is what one core pays to see another
 * core's write. harness/run/placement.ts runs it between a sweep's visits.
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
 * Both start together at the trial control's barrier. Worker 0 reports the
 * handoffs (TURN's final value) over the window it measured.
 */
import { TrialControl } from './control.js';
import { monotonicNs } from './clock.js';

/** Bytes of a probe buffer: TURN and STOP each on their own 128-byte line pair. */
export const PROBE_BYTES = 256;
const TURN = 0;
const STOP = 32;
/** Loop iterations between clock and abort checks: a clock read costs ~40–80 ns, a pass ≥ 50 ns. */
const CHECK_EVERY = 256;

export interface HandoffTask {
  kind: 'handoff';
  control: SharedArrayBuffer;
  /** PROBE_BYTES, zeroed by the main thread before each reading. */
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
}

/** Runs one worker's side of a reading; returns null if the reading was aborted before it started. */
export function runHandoff(task: HandoffTask, control: TrialControl): HandoffReport | null {
  const words = new Int32Array(task.probe);
  const me = task.workerIndex;
  if (control.arriveAndWait(2, monotonicNs) === null) return null;
  const startNs = monotonicNs();
  const endNs = startNs + task.windowMs * 1e6;
  let seen = Atomics.load(words, TURN);
  for (let iteration = 1; ; iteration++) {
    if ((seen & 1) === me) {
      Atomics.store(words, TURN, seen + 1);
      seen++;
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
  return { ok: true, workerIndex: me, handoffs: Atomics.load(words, TURN), elapsedNs };
}
