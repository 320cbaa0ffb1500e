/**
 * The trial control block: one small SharedArrayBuffer per trial that the main
 * thread and every worker of the trial share. It is the start barrier, the
 * common timeline and the abort switch.
 *
 * Shared words (int32 unless noted):
 *   ARRIVED — Atomics.add by each worker once its map, stream and clock are
 *             ready; the worker that brings it to `workers` is the releaser.
 *   GO      — 0 until released; Atomics.store(1) by the releaser, after it has
 *             written RELEASE_NS; waiters Atomics.wait on it and are notified.
 *   ABORT   — 0 normally; Atomics.store(1) by a worker that fails, or by the
 *             main thread on timeout or Ctrl-C (then GO is notified too).
 *             Timed loops poll it at every clock check.
 *   SLEEP   — never written: open-loop pacing waits on it with a timeout.
 *   RELEASE_NS (float64) — timeline ns (clock.ts monotonicNs) at release;
 *             plain store before GO's Atomics.store, so any thread that has
 *             seen GO = 1 reads it.
 * Nothing is written during the measured window, so the line is only read
 * while workers run.
 */

const ARRIVED = 0;
const GO = 1;
const ABORT = 2;
const SLEEP = 3;
/** Float64 index of RELEASE_NS (byte offset 16). */
const RELEASE_NS = 2;
const CONTROL_BYTES = 64;
/** How often a waiting worker re-checks ABORT even if nobody notifies, ms. */
const WAIT_SLICE_MS = 100;

export class TrialControl {
  readonly words: Int32Array;
  private readonly times: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(CONTROL_BYTES)) {
    this.words = new Int32Array(buffer);
    this.times = new Float64Array(buffer);
  }

  /**
   * Arrives at the start barrier and waits for every worker. Returns the
   * release time (timeline ns), or null when the trial was aborted first.
   */
  arriveAndWait(workers: number, nowNs: () => number): number | null {
    if (Atomics.add(this.words, ARRIVED, 1) === workers - 1) {
      this.times[RELEASE_NS] = nowNs();
      Atomics.store(this.words, GO, 1);
      Atomics.notify(this.words, GO);
    }
    while (Atomics.load(this.words, GO) === 0 && !this.aborted()) Atomics.wait(this.words, GO, 0, WAIT_SLICE_MS);
    return this.aborted() ? null : this.times[RELEASE_NS];
  }

  /**
   * Waits for the release without arriving (an observer of the trial, such as
   * the hiccup meter). Returns the release time (timeline ns), or null when
   * the trial was aborted first.
   */
  waitForRelease(): number | null {
    while (Atomics.load(this.words, GO) === 0 && !this.aborted()) Atomics.wait(this.words, GO, 0, WAIT_SLICE_MS);
    return this.aborted() ? null : this.times[RELEASE_NS];
  }

  abort(): void {
    Atomics.store(this.words, ABORT, 1);
    Atomics.notify(this.words, GO);
  }

  aborted(): boolean {
    return Atomics.load(this.words, ABORT) !== 0;
  }

  /** Sleeps up to `ms` (open-loop pacing); returns early only on spurious wake-ups. */
  sleep(ms: number): void {
    Atomics.wait(this.words, SLEEP, 0, ms);
  }

  /** How many workers have arrived (for diagnostics on timeout). */
  arrived(): number {
    return Atomics.load(this.words, ARRIVED);
  }
}

/** Index of the ABORT word, for loops that poll `words` directly. */
export const ABORT_WORD = ABORT;
