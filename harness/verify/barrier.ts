/**
 * The control words one batch of histories shares between the main thread
 * and its recording workers (one Int32Array over a SharedArrayBuffer).
 *
 * Layout (Int32 indexes; `histories` = H):
 *   ABORT            0 → 1 by the main thread (timeout, a failed task); every
 *                    wait gives up. Never reset.
 *   ARRIVED + h      threads that reached history h's start (Atomics.add).
 *                    The last one wakes the threads parked on it.
 *   AWAKE + h        threads released from ARRIVED and spinning (Atomics.add).
 *                    The last one stores GO.
 *   GO + h           0 → 1 when every thread is awake: all leave at once.
 *   ABANDONED + h    0 → 1 when an op of history h threw: the others stop h
 *                    early (the map may be corrupt; what is left of h is not
 *                    checked).
 *
 * Why two phases: a thread parked in Atomics.wait wakes 14–150 µs after the
 * notify, longer than a whole history, so releasing threads on "all arrived"
 * lets the first one finish before the last one starts — they take turns
 * instead of overlapping. Waiting for "all awake" and then spinning on GO
 * releases them within one load of each other — provided the threads
 * spinning on GO outlast the others' wake-up, so that phase spins ~2 ms
 * before parking (arrival spins ~40 µs: arrivals can be far apart). When
 * there are more threads than cores, spinning would take the CPU the parked
 * threads need to wake up, so both phases spin only briefly.
 */
import { availableParallelism } from 'node:os';

const ABORT = 0;
const FIRST_HISTORY_WORD = 1;
/** Loads before parking (~20 ns each): ~40 µs. */
const ARRIVAL_SPINS = 2_000;
/** ~2 ms: longer than a parked thread's wake-up (14–150 µs). */
const GO_SPINS = 100_000;
const PARK_SLICE_MS = 50;

export class BarrierTimeoutError extends Error {
  constructor(historyIndex: number, phase: string, count: number, threads: number, timeoutMs: number) {
    super(`start barrier of history ${historyIndex}: ${count} of ${threads} threads ${phase} within ${timeoutMs} ms`);
    this.name = 'BarrierTimeoutError';
  }
}

export class BatchControl {
  readonly words: Int32Array;
  private readonly arrived: number;
  private readonly awake: number;
  private readonly go: number;
  private readonly abandoned: number;

  /** Allocates the words for `histories` histories (main thread). */
  static allocate(histories: number): SharedArrayBuffer {
    return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (FIRST_HISTORY_WORD + 4 * histories));
  }

  constructor(
    buffer: SharedArrayBuffer,
    private readonly histories: number,
  ) {
    this.words = new Int32Array(buffer);
    this.arrived = FIRST_HISTORY_WORD;
    this.awake = this.arrived + histories;
    this.go = this.awake + histories;
    this.abandoned = this.go + histories;
  }

  abort(): void {
    Atomics.store(this.words, ABORT, 1);
    for (let index = 0; index < this.histories; index++) {
      Atomics.notify(this.words, this.arrived + index);
      Atomics.notify(this.words, this.go + index);
    }
  }

  get aborted(): boolean {
    return Atomics.load(this.words, ABORT) !== 0;
  }

  /** Marks history h as abandoned after an op threw. */
  abandon(historyIndex: number): void {
    Atomics.store(this.words, this.abandoned + historyIndex, 1);
  }

  isAbandoned(historyIndex: number): boolean {
    return Atomics.load(this.words, this.abandoned + historyIndex) !== 0;
  }

  /**
   * Arrive at history h's start and return when all `threads` have, all at
   * once. Returns false if the batch was aborted; throws BarrierTimeoutError
   * after `timeoutMs` in either phase.
   */
  arriveAndWait(historyIndex: number, threads: number, timeoutMs: number): boolean {
    const arrived = this.arrived + historyIndex;
    if (Atomics.add(this.words, arrived, 1) + 1 === threads) Atomics.notify(this.words, arrived);
    if (!this.waitFor(arrived, threads, ARRIVAL_SPINS, 'arrived', historyIndex, threads, timeoutMs)) return false;
    const go = this.go + historyIndex;
    if (Atomics.add(this.words, this.awake + historyIndex, 1) + 1 === threads) {
      Atomics.store(this.words, go, 1);
      Atomics.notify(this.words, go);
    }
    const goSpins = threads <= availableParallelism() ? GO_SPINS : ARRIVAL_SPINS;
    return this.waitFor(go, 1, goSpins, 'awake', historyIndex, threads, timeoutMs);
  }

  /** Waits until words[index] ≥ target: spin `spins` loads, then park in slices. False if aborted. */
  private waitFor(
    index: number,
    target: number,
    spins: number,
    phase: string,
    historyIndex: number,
    threads: number,
    timeoutMs: number,
  ): boolean {
    for (let spin = 0; spin < spins; spin++) {
      if (Atomics.load(this.words, index) >= target) return !this.aborted;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = Atomics.load(this.words, index);
      if (current >= target) return !this.aborted;
      if (this.aborted) return false;
      if (Date.now() > deadline) {
        const count = phase === 'arrived' ? current : Atomics.load(this.words, this.awake + historyIndex);
        throw new BarrierTimeoutError(historyIndex, phase, count, threads, timeoutMs);
      }
      Atomics.wait(this.words, index, current, PARK_SLICE_MS);
    }
  }
}
