import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_READERS,
  RW_COUNTERS,
  RW_COUNTER_READ_ACQUISITIONS,
  RW_COUNTER_WRITE_ACQUISITIONS,
  RW_READER_COUNT,
  RW_WRITER_SLEEPERS,
  RWMUTEX_WORDS,
  RWMutex,
} from '../maps/rwmutex.js';
import { THREAD_COUNTERS_BYTES, sumThreadCounter } from '../maps/thread-counters.js';
import { runWorkers } from './fixtures/maps-workers.js';
import {
  FLAG,
  LOCK,
  LOCK_TEST_WORDS,
  WORD_A,
  WORD_B,
  type LockResult,
  type LockTask,
} from './fixtures/maps-locks-worker.js';

const LOCK_WORKER = new URL('./fixtures/maps-locks-worker.js', import.meta.url);
const ITERATIONS = 50_000;

function newLock(): { memory: Int32Array; counters: Float64Array; lock: RWMutex } {
  const memory = new Int32Array(new SharedArrayBuffer(LOCK_TEST_WORDS * 4));
  const counters = new Float64Array(RW_COUNTERS);
  return { memory, counters, lock: new RWMutex(memory, LOCK, counters, 0) };
}

/** Polls `condition` every millisecond; fails after a generous 30 s (a hang, not a speed check). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

test('readers share an RWMutex, and it returns to all-zero words when everyone has left', () => {
  const { memory, counters, lock } = newLock();
  lock.rLock();
  lock.rLock();
  assert.equal(Atomics.load(memory, LOCK + RW_READER_COUNT), 2);
  lock.rUnlock();
  lock.rUnlock();
  lock.lock();
  assert.ok(Atomics.load(memory, LOCK + RW_READER_COUNT) < 0, 'a writer makes readerCount negative');
  lock.unlock();
  assert.deepEqual([...memory.subarray(LOCK, LOCK + RWMUTEX_WORDS)], new Array(RWMUTEX_WORDS).fill(0));
  assert.equal(counters[RW_COUNTER_READ_ACQUISITIONS], 2);
  assert.equal(counters[RW_COUNTER_WRITE_ACQUISITIONS], 1);
});

test('rUnlock and unlock of an RWMutex not held throw and leave it usable', () => {
  const { memory, lock } = newLock();
  assert.throws(() => lock.rUnlock(), /not read-locked/);
  assert.throws(() => lock.unlock(), /not write-locked/);
  assert.deepEqual([...memory.subarray(LOCK, LOCK + RWMUTEX_WORDS)], new Array(RWMUTEX_WORDS).fill(0));
  lock.lock();
  assert.throws(() => lock.rUnlock(), /not read-locked/, 'a write lock is not a read lock');
  lock.unlock();
  lock.rLock();
  lock.rUnlock();
});

test('RWMutex write locks exclude: 4 oversubscribed workers incrementing plain words lose no update', async () => {
  const memory = new SharedArrayBuffer(LOCK_TEST_WORDS * 4);
  const counters = new SharedArrayBuffer(THREAD_COUNTERS_BYTES);
  const tasks: LockTask[] = [0, 1, 2, 3].map((slot) => ({
    kind: 'rwmutex-increment',
    memory,
    counters,
    slot,
    iterations: ITERATIONS,
  }));
  const results = await runWorkers<LockTask, LockResult>(LOCK_WORKER, tasks);
  const words = new Int32Array(memory);
  assert.equal(words[WORD_A], 4 * ITERATIONS, 'every increment survived');
  assert.equal(words[WORD_B], 4 * ITERATIONS);
  assert.equal(
    results.reduce((sum, result) => sum + result.torn, 0),
    0,
  );
  assert.deepEqual(
    [...words.subarray(LOCK, LOCK + RWMUTEX_WORDS)],
    new Array(RWMUTEX_WORDS).fill(0),
    'lock words back to unlocked',
  );
  assert.equal(sumThreadCounter(counters, 0, RW_COUNTER_WRITE_ACQUISITIONS), 4 * ITERATIONS);
});

test('readers under RLock never see the two-word invariant half-updated by writers', async () => {
  const memory = new SharedArrayBuffer(LOCK_TEST_WORDS * 4);
  const counters = new SharedArrayBuffer(THREAD_COUNTERS_BYTES);
  const tasks: LockTask[] = [
    { kind: 'rwmutex-increment', memory, counters, slot: 0, iterations: ITERATIONS },
    { kind: 'rwmutex-increment', memory, counters, slot: 1, iterations: ITERATIONS },
    { kind: 'rwmutex-reader', memory, counters, slot: 2, iterations: 2 * ITERATIONS },
    { kind: 'rwmutex-reader', memory, counters, slot: 3, iterations: 2 * ITERATIONS },
  ];
  const results = await runWorkers<LockTask, LockResult>(LOCK_WORKER, tasks);
  assert.deepEqual(
    results.map((result) => result.torn),
    [0, 0, 0, 0],
    'no torn read or write',
  );
  const words = new Int32Array(memory);
  assert.equal(words[WORD_A], 2 * ITERATIONS);
  assert.equal(sumThreadCounter(counters, 0, RW_COUNTER_READ_ACQUISITIONS), 4 * ITERATIONS);
  assert.deepEqual([...words.subarray(LOCK, LOCK + RWMUTEX_WORDS)], new Array(RWMUTEX_WORDS).fill(0));
});

test('a waiting writer blocks new readers: a reader arriving after it gets in only once the writer is done', async () => {
  const memory = new SharedArrayBuffer(LOCK_TEST_WORDS * 4);
  const counters = new SharedArrayBuffer(THREAD_COUNTERS_BYTES);
  const words = new Int32Array(memory);
  const mainLock = new RWMutex(words, LOCK, new Float64Array(RW_COUNTERS), 0);
  mainLock.rLock();
  const writer = runWorkers<LockTask, LockResult>(
    LOCK_WORKER,
    [{ kind: 'rwmutex-set-flag', memory, counters, slot: 0 }],
    60_000,
  );
  const reader = (async () => {
    try {
      await until(() => Atomics.load(words, LOCK + RW_READER_COUNT) < 0, 'the writer is pending behind our read lock');
      const admitted = runWorkers<LockTask, LockResult>(
        LOCK_WORKER,
        [{ kind: 'rwmutex-read-flag', memory, counters, slot: 1 }],
        60_000,
      );
      await until(
        () => Atomics.load(words, LOCK + RW_READER_COUNT) === 2 - MAX_READERS,
        'the reader has arrived and waits',
      );
      return admitted;
    } finally {
      mainLock.rUnlock();
    }
  })();
  await writer;
  const [{ flag }] = await reader;
  assert.equal(flag, 1, 'the reader was admitted after the writer set the flag');
});

test("a writer that announced a sleep while a reader held the lock is woken by that reader's rUnlock", async () => {
  const memory = new SharedArrayBuffer(LOCK_TEST_WORDS * 4);
  const counters = new SharedArrayBuffer(THREAD_COUNTERS_BYTES);
  const words = new Int32Array(memory);
  const mainLock = new RWMutex(words, LOCK, new Float64Array(RW_COUNTERS), 0);
  mainLock.rLock();
  const writer = runWorkers<LockTask, LockResult>(
    LOCK_WORKER,
    [{ kind: 'rwmutex-set-flag', memory, counters, slot: 0 }],
    60_000,
  );
  try {
    await until(
      () => Atomics.load(words, LOCK + RW_WRITER_SLEEPERS) === 1,
      'the writer has spun out and announced its sleep',
    );
  } finally {
    mainLock.rUnlock();
  }
  await writer;
  assert.equal(Atomics.load(words, FLAG), 1, 'the writer got the lock and set the flag');
  assert.deepEqual(
    [...words.subarray(LOCK, LOCK + RWMUTEX_WORDS)],
    new Array(RWMUTEX_WORDS).fill(0),
    'no sleeper left announced',
  );
});
