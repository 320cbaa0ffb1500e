/**
 * Mutex over one int32 word of shared memory: a futex-style lock (Drepper,
 * "Futexes Are Tricky", mutex 3) with a bounded spin before sleeping.
 *
 * Shared word `state` (memory[index]):
 *   0 UNLOCKED
 *   1 LOCKED            — held, nobody sleeping on it
 *   2 LOCKED_CONTENDED  — held, and a thread may be sleeping in Atomics.wait
 * Written only with Atomics (compareExchange/exchange/sub/store); never read
 * with a plain load.
 *
 * Invariants:
 *   - Exactly one thread returns from lock()/tryLock() → true for each
 *     transition out of UNLOCKED; that thread alone calls unlock().
 *   - A thread sleeps only after it has stored LOCKED_CONTENDED, so the holder's
 *     unlock() sees a value ≠ 1 and notifies: no lost wake-up.
 * Linearisation points: lock() — the successful CAS/exchange that moved the
 * word out of UNLOCKED; unlock() — the Atomics.sub (or store) that made it 0.
 * Atomics operations are sequentially consistent, so everything written inside
 * the critical section is visible to the next holder.
 *
 * Costs measured on the target machine kind: an uncontended lock+unlock is two
 * Atomics calls (~40 ns); a wake-up through Atomics.wait/notify costs
 * 14–150 µs, so a contended lock() spins SPIN_LIMIT times (16–60 µs) first.
 *
 * Counters (the calling thread's own slot, plain increments; see
 * thread-counters.ts): acquisitions, contended acquisitions, sleeps (waits
 * that blocked and were woken).
 */

export const UNLOCKED = 0;
export const LOCKED = 1;
export const LOCKED_CONTENDED = 2;

/**
 * Spins (each an Atomics.load: 8 ns on an idle core, ~20–30 ns under load, so
 * 16–60 µs) before a contended lock or an RWMutex semaphore sleeps: about the
 * cheapest wake-up (14 µs), so spinning never costs much more than sleeping
 * would have. Measured at 2 threads, 90/10 get/set, 2^16 keys, load 7–10:
 * sleeps per 10^6 ops 33–38 at 128 spins, 59 at 512, 20 at 2048, 6 at 8192;
 * throughput differences were within the noise. Node 20 has no Atomics.pause.
 */
export const SPIN_LIMIT = 2048;

/** Where a Mutex counts, in the caller's Float64Array counter view. */
export interface MutexCounterIndexes {
  acquisitions: number;
  contended: number;
  sleeps: number;
}

export class Mutex {
  constructor(
    private readonly memory: Int32Array,
    private readonly index: number,
    private readonly counters: Float64Array,
    private readonly counterIndexes: MutexCounterIndexes,
  ) {}

  lock(): void {
    this.counters[this.counterIndexes.acquisitions]++;
    if (Atomics.compareExchange(this.memory, this.index, UNLOCKED, LOCKED) === UNLOCKED) return;
    this.lockContended();
  }

  /** Takes the lock only if it is free right now; never waits. */
  tryLock(): boolean {
    if (Atomics.compareExchange(this.memory, this.index, UNLOCKED, LOCKED) !== UNLOCKED) return false;
    this.counters[this.counterIndexes.acquisitions]++;
    return true;
  }

  unlock(): void {
    const previous = Atomics.sub(this.memory, this.index, 1);
    if (previous === LOCKED) return;
    if (previous === UNLOCKED) {
      Atomics.store(this.memory, this.index, UNLOCKED);
      throw new Error('Mutex.unlock: the mutex was not locked');
    }
    // previous === LOCKED_CONTENDED: someone may sleep; hand the word back and wake one.
    Atomics.store(this.memory, this.index, UNLOCKED);
    Atomics.notify(this.memory, this.index, 1);
  }

  private lockContended(): void {
    const { memory, index, counters, counterIndexes } = this;
    counters[counterIndexes.contended]++;
    for (let spin = 0; spin < SPIN_LIMIT; spin++) {
      if (Atomics.load(memory, index) === UNLOCKED &&
          Atomics.compareExchange(memory, index, UNLOCKED, LOCKED) === UNLOCKED) return;
    }
    // From here on we may sleep, so we must leave the word at LOCKED_CONTENDED
    // whenever we take it: we cannot know whether other sleepers remain.
    while (Atomics.exchange(memory, index, LOCKED_CONTENDED) !== UNLOCKED) {
      if (Atomics.wait(memory, index, LOCKED_CONTENDED) === 'ok') counters[counterIndexes.sleeps]++;
    }
  }
}
