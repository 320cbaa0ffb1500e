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

/**
 * The lock, as functions over any word: for structures with one mutex per
 * node (hashtrie), where a Mutex object per node would allocate per operation.
 * The Mutex class below is these functions bound to one word.
 */
export function lockWord(
  memory: Int32Array,
  index: number,
  counters: Float64Array,
  counterIndexes: MutexCounterIndexes,
): void {
  counters[counterIndexes.acquisitions]++;
  if (Atomics.compareExchange(memory, index, UNLOCKED, LOCKED) === UNLOCKED) return;
  lockWordContended(memory, index, counters, counterIndexes);
}

/** Takes the lock only if it is free right now; never waits. */
export function tryLockWord(
  memory: Int32Array,
  index: number,
  counters: Float64Array,
  counterIndexes: MutexCounterIndexes,
): boolean {
  if (Atomics.compareExchange(memory, index, UNLOCKED, LOCKED) !== UNLOCKED) return false;
  counters[counterIndexes.acquisitions]++;
  return true;
}

export function unlockWord(memory: Int32Array, index: number): void {
  const previous = Atomics.sub(memory, index, 1);
  if (previous === LOCKED) return;
  if (previous === UNLOCKED) {
    Atomics.store(memory, index, UNLOCKED);
    throw new Error('Mutex.unlock: the mutex was not locked');
  }
  // previous === LOCKED_CONTENDED: someone may sleep; hand the word back and wake one.
  Atomics.store(memory, index, UNLOCKED);
  Atomics.notify(memory, index, 1);
}

function lockWordContended(
  memory: Int32Array,
  index: number,
  counters: Float64Array,
  counterIndexes: MutexCounterIndexes,
): void {
  counters[counterIndexes.contended]++;
  for (let spin = 0; spin < SPIN_LIMIT; spin++) {
    if (
      Atomics.load(memory, index) === UNLOCKED &&
      Atomics.compareExchange(memory, index, UNLOCKED, LOCKED) === UNLOCKED
    )
      return;
  }
  // From here on we may sleep, so we must leave the word at LOCKED_CONTENDED
  // whenever we take it: we cannot know whether other sleepers remain.
  while (Atomics.exchange(memory, index, LOCKED_CONTENDED) !== UNLOCKED) {
    if (Atomics.wait(memory, index, LOCKED_CONTENDED) === 'ok') counters[counterIndexes.sleeps]++;
  }
}

export class Mutex {
  constructor(
    private readonly memory: Int32Array,
    private readonly index: number,
    private readonly counters: Float64Array,
    private readonly counterIndexes: MutexCounterIndexes,
  ) {}

  lock(): void {
    lockWord(this.memory, this.index, this.counters, this.counterIndexes);
  }

  /** Takes the lock only if it is free right now; never waits. */
  tryLock(): boolean {
    return tryLockWord(this.memory, this.index, this.counters, this.counterIndexes);
  }

  unlock(): void {
    unlockWord(this.memory, this.index);
  }
}
