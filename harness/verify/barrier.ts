/**
 * The control words one batch of histories shares between the main thread
 * and its recording workers (one Int32Array over a SharedArrayBuffer).
 *
 * Layout: Int32 words, then (8-byte aligned) one BigInt64 word per history.
 *   ABORT                      0 → 1 by the main thread (timeout, a failed
 *                              task); every wait gives up. Never reset.
 *   ARRIVALS + h               threads that reached history h's start; each
 *                              adds 1 (Atomics.add).
 *   ARRIVALS + histories + h   0 → 1 (Atomics.store) when an op of history h
 *                              threw: the others stop h early (the map may
 *                              be corrupt; what is left of h is not checked).
 *   start[h] (BigInt64)        0 until the last thread arrives; it stores the
 *                              start time (process.hrtime.bigint() +
 *                              START_DELAY_NS) and wakes the others.
 *
 * Every thread then spins until the start time, so all begin within a clock
 * read of each other. Without the delay a parked thread wakes 14–150 µs after
 * the last one arrives — longer than a whole history — and the threads would
 * take turns instead of overlapping (measured: 0.3% of ops overlapped another
 * thread's op; with it, see the README). Waiting spins first, then parks, so
 * an oversubscribed machine still makes progress.
 */
const ABORT = 0;
const ARRIVALS = 1;
/** Loads before parking: ~20 ns each, so about 40 µs of spinning. */
const SPINS_BEFORE_PARKING = 2000;
const PARK_SLICE_MS = 50;
/** Covers a parked thread's wake-up (14–150 µs) with margin. */
const START_DELAY_NS = 250_000n;

export class BarrierTimeoutError extends Error {
  constructor(historyIndex: number, arrived: number, threads: number, timeoutMs: number) {
    super(`start barrier of history ${historyIndex}: ${arrived} of ${threads} threads arrived within ${timeoutMs} ms`);
    this.name = 'BarrierTimeoutError';
  }
}

export class BatchControl {
  readonly words: Int32Array;
  private readonly startNs: BigInt64Array;

  /** Allocates the words for `histories` histories (main thread). */
  static allocate(histories: number): SharedArrayBuffer {
    return new SharedArrayBuffer(BatchControl.startOffset(histories) + BigInt64Array.BYTES_PER_ELEMENT * histories);
  }

  private static startOffset(histories: number): number {
    const intBytes = Int32Array.BYTES_PER_ELEMENT * (ARRIVALS + 2 * histories);
    return Math.ceil(intBytes / 8) * 8;
  }

  constructor(
    buffer: SharedArrayBuffer,
    private readonly histories: number,
  ) {
    this.words = new Int32Array(buffer, 0, ARRIVALS + 2 * histories);
    this.startNs = new BigInt64Array(buffer, BatchControl.startOffset(histories), histories);
  }

  abort(): void {
    Atomics.store(this.words, ABORT, 1);
    for (let index = 0; index < this.histories; index++) Atomics.notify(this.startNs, index);
  }

  get aborted(): boolean {
    return Atomics.load(this.words, ABORT) !== 0;
  }

  /** Marks history h as abandoned after an op threw. */
  abandon(historyIndex: number): void {
    Atomics.store(this.words, ARRIVALS + this.histories + historyIndex, 1);
  }

  isAbandoned(historyIndex: number): boolean {
    return Atomics.load(this.words, ARRIVALS + this.histories + historyIndex) !== 0;
  }

  /**
   * Arrive at history h's start, wait until all `threads` have, then spin to
   * the common start time. Returns false if the batch was aborted; throws
   * BarrierTimeoutError after `timeoutMs`.
   */
  arriveAndWait(historyIndex: number, threads: number, timeoutMs: number): boolean {
    if (Atomics.add(this.words, ARRIVALS + historyIndex, 1) + 1 >= threads) {
      Atomics.store(this.startNs, historyIndex, process.hrtime.bigint() + START_DELAY_NS);
      Atomics.notify(this.startNs, historyIndex);
    }
    const startNs = this.awaitStart(historyIndex, threads, timeoutMs);
    if (startNs === 0n) return false;
    while (process.hrtime.bigint() < startNs) {
      // all threads leave this loop within a clock read of each other
    }
    return !this.aborted;
  }

  /** The start time once the last thread has arrived; 0n if aborted. */
  private awaitStart(historyIndex: number, threads: number, timeoutMs: number): bigint {
    for (let spin = 0; spin < SPINS_BEFORE_PARKING; spin++) {
      const startNs = Atomics.load(this.startNs, historyIndex);
      if (startNs !== 0n) return startNs;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const startNs = Atomics.load(this.startNs, historyIndex);
      if (startNs !== 0n) return startNs;
      if (this.aborted) return 0n;
      if (Date.now() > deadline) {
        throw new BarrierTimeoutError(historyIndex, Atomics.load(this.words, ARRIVALS + historyIndex), threads, timeoutMs);
      }
      Atomics.wait(this.startNs, historyIndex, 0n, PARK_SLICE_MS);
    }
  }
}
