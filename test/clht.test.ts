/**
 * clht-specific behaviour beyond the contract and concurrency suites (which
 * cover it through the registry): long overflow chains, the seqlock's retry
 * path, resizes under concurrent readers, and reclamation of replaced tables
 * and unlinked overflow buckets. Nothing is timed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  B_KEYS,
  B_VALUES,
  BUCKET_WORDS,
  CL_TABLE,
  COUNTER_NAMES,
  ENTRIES_PER_BUCKET,
  TABLE_HEADER_WORDS,
  T_BUCKETS,
  VERSION_STEP,
  WRITING,
  clhtMapFactory,
  bucketsFor,
} from '../maps/clht.js';
import { hashKey } from '../maps/hash-table.js';
import type { SharedMapHandle } from '../maps/map-memory.js';
import { sumThreadCounter } from '../maps/thread-counters.js';
import { runWorkers } from './fixtures/maps-workers.js';
import { STABLE_KEYS, valueOf, type ClhtResult, type ClhtTask } from './fixtures/clht-worker.js';
import { seededRandom } from './fixtures/seeded-random.js';

const fixture = new URL('./fixtures/clht-worker.js', import.meta.url);

/** Word offset of `key`'s head bucket in the map's current table. */
function headBucketOf(handle: SharedMapHandle, key: number): number {
  const memory = new Int32Array(handle.buffer);
  const table = Atomics.load(memory, handle.header + CL_TABLE);
  const bucket = Math.floor(((hashKey(key) >>> 0) * memory[table + T_BUCKETS]) / 2 ** 32);
  return table + TABLE_HEADER_WORDS + BUCKET_WORDS * bucket;
}

test('clht keeps long overflow chains exact through inserts and deletes in head and overflow buckets', () => {
  const capacity = 64;
  const handle = clhtMapFactory.create({ capacity, loadFactor: 0.75, maxBytes: 1 << 20 }) as SharedMapHandle;
  const map = clhtMapFactory.attach(handle);
  const buckets = bucketsFor(capacity, 0.75);
  // 40 keys that all share bucket 0: one full head and five overflow buckets, below the growth threshold.
  const sameBucket: number[] = [];
  for (let key = 0; sameBucket.length < 40; key++) {
    if (Math.floor(((hashKey(key) >>> 0) * buckets) / 2 ** 32) === 0) sameBucket.push(key);
  }
  const reference = new Map<number, number>();
  const random = seededRandom(7);
  let maxChain = 0;
  let unlinkedSeen = false;
  for (let step = 0; step < 20_000; step++) {
    const key = sameBucket[Math.floor(random() * sameBucket.length)];
    if (random() < 0.55) {
      map.set(key, step);
      reference.set(key, step);
    } else {
      assert.equal(map.delete(key), reference.delete(key), `delete(${key}) at step ${step}`);
    }
    if (step % 97 === 0) {
      for (const candidate of sameBucket) {
        assert.equal(map.get(candidate), reference.get(candidate), `get(${candidate}) at step ${step}`);
      }
      const stats = map.stats();
      assert.equal(stats.resizes, 0, 'the chain grew without a resize');
      assert.equal(stats.entries, reference.size);
      maxChain = Math.max(maxChain, stats.maxProbeLength);
      unlinkedSeen ||= stats.overflowBucketsUnlinked > 0;
    }
  }
  assert.ok(maxChain >= 5, `chains reached ${maxChain} buckets`);
  assert.ok(unlinkedSeen, 'emptied overflow buckets were unlinked');
  const seen = new Map<number, number>();
  map.forEach((key, value) => seen.set(key, value));
  assert.deepEqual(seen, reference);
});

test('clht get waits out a WRITING bit, counts a version retry, and returns the value written meanwhile', async () => {
  const handle = clhtMapFactory.create({ capacity: 64, maxBytes: 1 << 20 }) as SharedMapHandle;
  const map = clhtMapFactory.attach(handle);
  const key = 12345;
  map.set(key, 1);
  map.quiesce?.();
  const memory = new Int32Array(handle.buffer);
  const head = headBucketOf(handle, key);
  // Play a writer: take the bucket's WRITING bit, then start a reader.
  const version = Atomics.load(memory, head);
  assert.equal(Atomics.compareExchange(memory, head, version, version | WRITING), version);
  const reader = runWorkers<ClhtTask, ClhtResult>(fixture, [{ role: 'get', handle, key }]);
  const retriesIndex = COUNTER_NAMES.indexOf('versionRetries');
  const retries = (): number => sumThreadCounter(handle.buffer, handle.countersByteOffset, retriesIndex);
  for (let waited = 0; retries() === 0; waited++) {
    assert.ok(waited < 60_000, 'the reader never reported waiting');
    await sleep(1);
  }
  // Change the value under the bit, as a writer would, and release with the next version.
  let slot = -1;
  for (let i = 0; i < ENTRIES_PER_BUCKET; i++) if (memory[head + B_KEYS + i] === key) slot = i;
  assert.ok(slot >= 0, 'the key is in its head bucket');
  memory[head + B_VALUES + slot] = 2;
  Atomics.store(memory, head, version + VERSION_STEP);
  const [result] = await reader;
  assert.equal(result.value, 2, 'the reader returned the value of the completed write, never the one under the bit');
  assert.ok(map.stats().versionRetries >= 1);
});

test(
  'clht readers never see a wrong or missing value while a writer forces resizes and overflow churn; ' +
    'all retired memory is reclaimed',
  async () => {
    const handle = clhtMapFactory.create({ capacity: 8, loadFactor: 0.9, maxBytes: 64 * 1024 * 1024 });
    const main = clhtMapFactory.attach(handle);
    for (let key = 0; key < STABLE_KEYS; key++) main.set(key, valueOf(key, 0));
    const resizesBefore = main.stats().resizes;
    main.quiesce?.();
    const control = new SharedArrayBuffer(8);
    const results = await runWorkers<ClhtTask, ClhtResult>(
      fixture,
      [
        { role: 'writer', handle, control, rounds: 60, seed: 1 },
        { role: 'reader', handle, control, rounds: 0, seed: 0x9e3779b9 },
        { role: 'reader', handle, control, rounds: 0, seed: 0x7f4a7c15 },
      ],
      300_000,
    );
    for (const result of results) {
      assert.deepEqual(result.violations, [], `${result.role}: ${result.violationCount} impossible values`);
      assert.ok(result.ops > 0, `${result.role} ran`);
    }
    main.quiesce?.(); // every thread is idle now: everything retired can go
    const stats = main.stats();
    assert.ok(stats.resizes - resizesBefore >= 3, `the writer forced resizes: ${stats.resizes - resizesBefore}`);
    assert.equal(stats.tablesReclaimed, stats.resizes, 'every replaced table was reclaimed');
    assert.equal(stats.bytesAwaitingReclamation, 0);
    assert.ok(stats.overflowBucketsUnlinked > 0, 'emptied overflow buckets were unlinked');
    assert.ok(stats.overflowBucketsReclaimed > 0, 'overflow buckets were reclaimed for reuse');
    assert.equal(stats.entries, STABLE_KEYS + 4096);
    for (let key = 0; key < STABLE_KEYS; key++) assert.equal((main.get(key) as number) % (1 << 16), key);
    // The table for the peak of 8704 live keys (2048 buckets, 128 KiB), the overflow pool at its peak and the
    // fixed blocks (counter slots, epoch slots: ~17 KiB); the ~10 replaced tables are gone.
    assert.ok(stats.bytes <= 384 * 1024, `bytes in use at the end ${stats.bytes} ≤ 384 KiB`);
  },
);
