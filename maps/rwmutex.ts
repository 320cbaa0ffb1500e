/**
 * RWMutex over seven int32 words of shared memory (spanning 20), with Go's semantics
 * (src/sync/rwmutex.go): any number of readers or one writer; a writer that
 * is waiting blocks new readers, so a stream of readers cannot starve it; a
 * reader that holds the lock must not take it again (a waiting writer would
 * deadlock it, as in Go).
 *
 * Why this design: an uncontended RLock+RUnlock is exactly two Atomics
 * read-modify-writes on one word (readerCount += 1, −= 1, ~20 ns each) plus a
 * plain per-thread counter increment; nothing else is touched unless a writer
 * is about. Writers pay a Mutex plus two more Atomics (~80 ns uncontended).
 *
 * Shared words (offsets from `base`; all accessed only with Atomics; the
 * three hot words on one 64-byte line, the semaphores on the next when
 * `base` is line-aligned, as every map aligns it):
 *   RW_WRITER_MUTEX — a Mutex (mutex.ts) held by the writer, and by a writer
 *                     waiting for readers to leave: writers queue on it.
 *   RW_READER_COUNT — readers holding or waiting for the lock; a writer that
 *                     owns RW_WRITER_MUTEX subtracts MAX_READERS, so a
 *                     negative value means "writer pending or active".
 *                     Readers Atomics.add ±1; the writer ±MAX_READERS.
 *   RW_READER_WAIT  — readers the pending writer still waits for ("departing
 *                     readers"): the writer adds the count it saw, each of
 *                     those readers subtracts 1 as it leaves.
 *   RW_WRITER_SEM   — counting semaphore: the last departing reader posts 1,
 *                     the pending writer takes it.
 *   RW_READER_SEM   — counting semaphore: the writer's Unlock posts one token
 *                     per reader that arrived while it was pending; each such
 *                     reader takes one.
 *   RW_WRITER_SLEEPERS, RW_READER_SLEEPERS — threads about to sleep or
 *                     sleeping in Atomics.wait on the semaphore 2 words
 *                     before (a plain count, not part of Go's design): +1 before the wait, −1 after it. A release
 *                     notifies only when it reads > 0 (Atomics.add of the token
 *                     first, then Atomics.load of this word: with the sleeper's
 *                     add-then-wait, sequential consistency rules out a lost
 *                     wake-up — either the release sees the sleeper, or the
 *                     sleeper's wait sees the token and returns at once).
 * Semaphores spin (SPIN_LIMIT Atomics.loads, mutex.ts) before Atomics.wait,
 * because a wake-up costs 14–150 µs here and critical sections are ~30 ns.
 * The read path (readLock/readUnlock) is also exported as plain functions of
 * (memory, base): the maps call them without an RWMutex object in between.
 *
 * Invariants:
 *   - RW_READER_COUNT ≥ 0 ⇔ no writer holds or waits past RW_WRITER_MUTEX.
 *   - When the writer subtracted MAX_READERS it saw r readers inside; those r
 *     (and only those) decrement RW_READER_WAIT on RUnlock; the one taking it
 *     to 0 posts RW_WRITER_SEM once. Readers arriving later block on
 *     RW_READER_SEM and are counted in RW_READER_COUNT, so Unlock knows how
 *     many tokens to post.
 * Linearisation points:
 *   rLock   — the Atomics.add on RW_READER_COUNT that left it ≥ 0, or, when a
 *             writer was pending, the moment that writer's Unlock restored
 *             RW_READER_COUNT (the reader is admitted with it);
 *   rUnlock — its Atomics.sub on RW_READER_COUNT;
 *   lock    — the Atomics.add on RW_READER_COUNT when it saw 0 readers, else
 *             the last departing reader's Atomics.sub on RW_READER_WAIT;
 *   unlock  — the Atomics.add that restores RW_READER_COUNT (readers may enter).
 * Every step is a sequentially consistent Atomics op, so writes made inside
 * a write-locked section are visible to every later reader and writer.
 *
 * Counters (the calling thread's own slot, plain increments; thread-counters.ts),
 * at `counterBase` + RW_COUNTER_*: read/write acquisitions, acquisitions that
 * had to wait (read: a writer was pending; write: the writer mutex was held),
 * sleeps (Atomics.wait calls that blocked and were woken), and write locks
 * that waited for departing readers.
 */
import { Mutex, SPIN_LIMIT } from './mutex.js';

export const RW_WRITER_MUTEX = 0;
export const RW_READER_COUNT = 1;
export const RW_READER_WAIT = 2;
/**
 * The semaphores start one cache line (16 words) after the hot words: a
 * thread spinning on a semaphore then does not pull the readerCount line away
 * from the threads updating it. Words 3..15 are padding (never touched).
 */
export const RW_WRITER_SEM = 16;
export const RW_READER_SEM = 17;
export const RW_WRITER_SLEEPERS = 18;
export const RW_READER_SLEEPERS = 19;
/** A semaphore's sleeper count sits this many words after it. */
const RW_SLEEPERS_OFFSET = RW_WRITER_SLEEPERS - RW_WRITER_SEM;
if (RW_READER_SLEEPERS - RW_READER_SEM !== RW_SLEEPERS_OFFSET)
  throw new Error('RWMutex layout: sleeper words misplaced');
/** Words an RWMutex spans (two 64-byte lines when `base` is line-aligned); all start at 0 (unlocked). */
export const RWMUTEX_WORDS = 20;

/** Go's rwmutexMaxReaders: more simultaneous readers than this is unsupported. */
export const MAX_READERS = 1 << 30;

export const RW_COUNTER_READ_ACQUISITIONS = 0;
export const RW_COUNTER_READ_CONTENDED = 1;
export const RW_COUNTER_READ_SLEEPS = 2;
export const RW_COUNTER_WRITE_ACQUISITIONS = 3;
export const RW_COUNTER_WRITE_CONTENDED = 4;
export const RW_COUNTER_WRITE_SLEEPS = 5;
export const RW_COUNTER_WRITE_WAITS_FOR_READERS = 6;
/** float64 counters an RWMutex uses in the caller's counter view. */
export const RW_COUNTERS = 7;

/** Names of the RW_COUNTER_* slots, in order, as they appear in map stats(). */
export const RW_COUNTER_NAMES = [
  'readAcquisitions',
  'readContended',
  'readSleeps',
  'writeAcquisitions',
  'writeContended',
  'writeSleeps',
  'writeWaitsForReaders',
] as const;

export class RWMutex {
  private readonly writerMutex: Mutex;

  /**
   * A view of the RWMutex at `memory[base .. base + RWMUTEX_WORDS)`, counting
   * into `counters[counterBase .. counterBase + RW_COUNTERS)`.
   */
  constructor(
    private readonly memory: Int32Array,
    private readonly base: number,
    private readonly counters: Float64Array,
    private readonly counterBase: number,
  ) {
    this.writerMutex = new Mutex(memory, base + RW_WRITER_MUTEX, counters, {
      acquisitions: counterBase + RW_COUNTER_WRITE_ACQUISITIONS,
      contended: counterBase + RW_COUNTER_WRITE_CONTENDED,
      sleeps: counterBase + RW_COUNTER_WRITE_SLEEPS,
    });
  }

  rLock(): void {
    readLock(this.memory, this.base, this.counters, this.counterBase);
  }

  rUnlock(): void {
    readUnlock(this.memory, this.base);
  }

  lock(): void {
    const { memory, base } = this;
    this.writerMutex.lock();
    // Announce the writer; the old value is the number of readers inside.
    const readersInside = Atomics.add(memory, base + RW_READER_COUNT, -MAX_READERS);
    if (readersInside !== 0 && Atomics.add(memory, base + RW_READER_WAIT, readersInside) + readersInside !== 0) {
      this.counters[this.counterBase + RW_COUNTER_WRITE_WAITS_FOR_READERS]++;
      acquire(memory, base + RW_WRITER_SEM, this.counters, this.counterBase + RW_COUNTER_WRITE_SLEEPS);
    }
  }

  unlock(): void {
    const { memory, base } = this;
    const readersWaiting = Atomics.add(memory, base + RW_READER_COUNT, MAX_READERS) + MAX_READERS;
    if (readersWaiting >= MAX_READERS) {
      Atomics.sub(memory, base + RW_READER_COUNT, MAX_READERS);
      throw new Error('RWMutex.unlock: the RWMutex was not write-locked');
    }
    if (readersWaiting > 0) release(memory, base + RW_READER_SEM, readersWaiting);
    this.writerMutex.unlock();
  }
}

/**
 * RWMutex.rLock on the RWMutex at `memory[base…]`, without an object: the
 * maps' read path calls this directly (one call level less to inline).
 */
export function readLock(memory: Int32Array, base: number, counters: Float64Array, counterBase: number): void {
  counters[counterBase + RW_COUNTER_READ_ACQUISITIONS]++;
  if (Atomics.add(memory, base + RW_READER_COUNT, 1) + 1 < 0) readLockSlow(memory, base, counters, counterBase);
}

/** RWMutex.rUnlock on the RWMutex at `memory[base…]`. */
export function readUnlock(memory: Int32Array, base: number): void {
  const readers = Atomics.sub(memory, base + RW_READER_COUNT, 1) - 1;
  if (readers < 0) readUnlockSlow(memory, base, readers);
}

/** A writer is pending or active: wait for its Unlock to hand us a token. */
function readLockSlow(memory: Int32Array, base: number, counters: Float64Array, counterBase: number): void {
  counters[counterBase + RW_COUNTER_READ_CONTENDED]++;
  acquire(memory, base + RW_READER_SEM, counters, counterBase + RW_COUNTER_READ_SLEEPS);
}

function readUnlockSlow(memory: Int32Array, base: number, readers: number): void {
  if (readers + 1 === 0 || readers + 1 === -MAX_READERS) {
    Atomics.add(memory, base + RW_READER_COUNT, 1);
    throw new Error('RWMutex.rUnlock: the RWMutex was not read-locked');
  }
  // A writer is pending; the last reader it waits for lets it in.
  if (Atomics.sub(memory, base + RW_READER_WAIT, 1) - 1 === 0) release(memory, base + RW_WRITER_SEM, 1);
}

/**
 * Takes one token from the semaphore word `index`: spin, then sleep. A
 * sleeper announces itself in `index + RW_SLEEPERS_OFFSET` before it waits,
 * so release() can skip Atomics.notify when nobody sleeps.
 */
function acquire(memory: Int32Array, index: number, counters: Float64Array, sleepsIndex: number): void {
  for (let spin = 0; ; spin++) {
    const tokens = Atomics.load(memory, index);
    if (tokens > 0) {
      if (Atomics.compareExchange(memory, index, tokens, tokens - 1) === tokens) return;
    } else if (spin >= SPIN_LIMIT) {
      // Announce, then wait only while the word is still 0: a release either sees us here and
      // notifies, or posted its token before our wait, which then returns 'not-equal' at once.
      Atomics.add(memory, index + RW_SLEEPERS_OFFSET, 1);
      if (Atomics.wait(memory, index, 0) === 'ok') counters[sleepsIndex]++;
      Atomics.sub(memory, index + RW_SLEEPERS_OFFSET, 1);
    }
  }
}

/**
 * Posts `tokens` to the semaphore word `index` and, if anyone announced a
 * sleep, wakes as many sleepers. Atomics.notify takes V8's process-wide futex
 * lock even with no waiter (~60 ns alone, far more when both threads call it):
 * 19% of rwmutex's samples at 2 threads before this check.
 */
function release(memory: Int32Array, index: number, tokens: number): void {
  Atomics.add(memory, index, tokens);
  if (Atomics.load(memory, index + RW_SLEEPERS_OFFSET) > 0) Atomics.notify(memory, index, tokens);
}
