import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOCKED, Mutex, UNLOCKED } from '../maps/mutex.js';
import { COUNTERS_PER_THREAD, THREAD_COUNTERS_BYTES, sumThreadCounter } from '../maps/thread-counters.js';
import { runWorkers } from './fixtures/maps-workers.js';
import { LOCK, LOCK_TEST_WORDS, WORD_A, WORD_B, type LockResult, type LockTask } from './fixtures/maps-locks-worker.js';

const LOCK_WORKER = new URL('./fixtures/maps-locks-worker.js', import.meta.url);
const WORKERS = 4; // on 2 cores: oversubscribed, so holders get preempted inside the lock
const ITERATIONS = 50_000;

test('a Mutex counts its acquisitions and is free again after unlock', () => {
  const memory = new Int32Array(new SharedArrayBuffer(64));
  const counters = new Float64Array(COUNTERS_PER_THREAD);
  const mutex = new Mutex(memory, 0, counters, { acquisitions: 0, contended: 1, sleeps: 2 });
  mutex.lock();
  assert.equal(Atomics.load(memory, 0), LOCKED);
  assert.equal(mutex.tryLock(), false, 'tryLock fails while held');
  mutex.unlock();
  assert.equal(Atomics.load(memory, 0), UNLOCKED);
  assert.equal(mutex.tryLock(), true);
  mutex.unlock();
  assert.deepEqual([...counters.subarray(0, 3)], [2, 0, 0]);
});

test('unlocking a Mutex that is not locked throws and leaves it usable', () => {
  const memory = new Int32Array(new SharedArrayBuffer(64));
  const mutex = new Mutex(memory, 0, new Float64Array(3), { acquisitions: 0, contended: 1, sleeps: 2 });
  assert.throws(() => mutex.unlock(), /not locked/);
  assert.equal(Atomics.load(memory, 0), UNLOCKED);
  mutex.lock();
  mutex.unlock();
});

test(`a Mutex excludes: ${WORKERS} oversubscribed workers incrementing plain words inside it lose no update`, async () => {
  const memory = new SharedArrayBuffer(LOCK_TEST_WORDS * 4);
  const counters = new SharedArrayBuffer(THREAD_COUNTERS_BYTES);
  const tasks: LockTask[] = Array.from({ length: WORKERS }, (_, slot) => ({
    kind: 'mutex-increment',
    memory,
    counters,
    slot,
    iterations: ITERATIONS,
  }));
  const results = await runWorkers<LockTask, LockResult>(LOCK_WORKER, tasks);
  const words = new Int32Array(memory);
  assert.equal(words[WORD_A], WORKERS * ITERATIONS, 'every increment survived');
  assert.equal(words[WORD_B], WORKERS * ITERATIONS);
  assert.equal(
    results.reduce((sum, result) => sum + result.torn, 0),
    0,
    "no holder saw another holder's half-done update",
  );
  assert.equal(words[LOCK], UNLOCKED);
  assert.equal(sumThreadCounter(counters, 0, 0), WORKERS * ITERATIONS, 'every acquisition is counted');
  assert.ok(sumThreadCounter(counters, 0, 1) <= WORKERS * ITERATIONS);
});
