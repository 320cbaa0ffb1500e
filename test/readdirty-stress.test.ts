/**
 * Reclamation under concurrency: readers run hot get loops on worker threads
 * while a writer forces thousands of promotions and dirty rebuilds (10^6
 * operations), so old read tables and dropped entries are retired and reused
 * all the time. No reader may ever see a value that was never written for its
 * key, and memory stays bounded.
 *
 * Determinism: nothing is timed. The writer waits (quiescing, so it holds
 * nothing back itself) whenever more than MAX_PENDING_BYTES await
 * reclamation, so the bound does not depend on how the OS schedules readers;
 * if reclamation stopped making progress that wait would fail the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDirtyMapFactory } from '../maps/readdirty.js';
import { runWorkers } from './fixtures/maps-workers.js';
import { CHURN_WINDOW, STABLE_KEYS, valueOf, type StressResult, type StressTask } from './fixtures/readdirty-stress.js';

const WRITER_OPS = 1_000_000;
const READERS = 2;
const MAX_PENDING_BYTES = 256 * 1024;
const fixture = new URL('./fixtures/readdirty-stress.js', import.meta.url);

test('readers never see a value not written for their key while a writer forces promotions and rebuilds, and memory stays bounded', async () => {
  const handle = readDirtyMapFactory.create({ capacity: STABLE_KEYS + CHURN_WINDOW, maxBytes: 64 * 1024 * 1024 });
  const main = readDirtyMapFactory.attach(handle);
  for (let key = 0; key < STABLE_KEYS; key++) main.set(key, valueOf(key, 0));
  main.quiesce?.();
  const control = new SharedArrayBuffer(8);
  const task = (role: StressTask['role'], seed: number): StressTask => ({
    role,
    handle,
    control,
    writerOps: WRITER_OPS,
    maxPendingBytes: MAX_PENDING_BYTES,
    seed,
  });
  const results = await runWorkers<StressTask, StressResult>(
    fixture,
    [task('writer', 1), ...Array.from({ length: READERS }, (_, i) => task('reader', 0x9e3779b9 + i))],
    300_000,
  );

  for (const result of results) {
    assert.deepEqual(result.violations, [], `${result.role}: ${result.violationCount} impossible values`);
    assert.ok(result.ops > 0, `${result.role} ran`);
  }
  const writer = results[0];
  assert.ok(writer.ops >= WRITER_OPS);

  main.quiesce?.(); // every thread is idle now: everything retired can go
  const stats = main.stats();
  assert.ok(
    stats.promotions >= 3000 && stats.dirtyRebuilds >= 3000,
    `the writer forced thousands of promotions and rebuilds: ${stats.promotions} / ${stats.dirtyRebuilds}`,
  );
  assert.ok(stats.regionsReclaimed >= stats.promotions - 1, 'every replaced read table was reclaimed');
  assert.equal(stats.bytesAwaitingReclamation, 0);
  assert.equal(stats.entries, STABLE_KEYS + CHURN_WINDOW);
  // Without reclamation the retired read tables alone would exceed 15 MiB.
  assert.ok(stats.peakBytesInUse <= 2 * 1024 * 1024, `peak bytes in use ${stats.peakBytesInUse} ≤ 2 MiB`);
  assert.ok(stats.bytes <= 512 * 1024, `bytes in use at the end ${stats.bytes} ≤ 512 KiB`);
  assert.ok(stats.entrySlots <= 16 * (STABLE_KEYS + CHURN_WINDOW), `entry slots reused: ${stats.entrySlots} carved`);
  for (let key = 0; key < STABLE_KEYS; key++) assert.equal((main.get(key) as number) % 8192, key);
  main.quiesce?.();
});
