/**
 * Reclamation and locking under concurrency: a churner stores and deletes
 * keys (expanding and pruning nodes, retiring entries) while an updater
 * replaces the entries of stable keys in the same nodes and two readers run
 * hot get loops and forEach walks — with the real hash, and with 12 hash bits
 * so that entries also sit in overflow chains. No reader may see a value never
 * written for its key, no stable key may go missing or run backwards, no
 * update may be lost, and memory stays bounded.
 *
 * Determinism: nothing is timed. The churner waits (quiescing) whenever more
 * than MAX_PENDING_BYTES await reclamation, so the bound does not depend on
 * how the OS schedules the others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashTrieMapFactory, narrowHashTrieFactory } from '../maps/hashtrie.js';
import { runWorkers } from './fixtures/maps-workers.js';
import { CHURN_WINDOW, STABLE_KEYS, valueOf, type StressResult, type StressTask } from './fixtures/hashtrie-stress.js';

const CHURNER_OPS = 400_000; // versions stay below 2^31 / KEY_SPACE
const MAX_PENDING_BYTES = 256 * 1024;
const fixture = new URL('./fixtures/hashtrie-stress.js', import.meta.url);

for (const hashBits of [32, 12]) {
  test(`hashtrie (${hashBits} hash bits): readers see only values written for their key while nodes are expanded, pruned and reclaimed, and memory stays bounded`, async () => {
    const factory = hashBits === 32 ? hashTrieMapFactory : narrowHashTrieFactory(hashBits);
    const handle = factory.create({ maxBytes: 64 * 1024 * 1024 });
    const main = factory.attach(handle);
    for (let key = 0; key < STABLE_KEYS; key++) main.set(key, valueOf(key, 0));
    main.quiesce?.();
    const control = new SharedArrayBuffer(8);
    const task = (role: StressTask['role'], seed: number): StressTask => ({
      role,
      handle,
      hashBits,
      control,
      churnerOps: CHURNER_OPS,
      maxPendingBytes: MAX_PENDING_BYTES,
      seed,
    });
    const results = await runWorkers<StressTask, StressResult>(
      fixture,
      [task('churner', 1), task('updater', 2), task('reader', 0x9e3779b9), task('reader', 0x7f4a7c15)],
      300_000,
    );

    for (const result of results) {
      assert.deepEqual(result.violations, [], `${result.role}: ${result.violationCount} impossible values`);
      assert.ok(result.ops > 0, `${result.role} ran`);
    }
    main.quiesce?.(); // every thread is idle now: everything retired can go
    const stats = main.stats();
    assert.ok(
      stats.nodesPruned >= 100 && stats.expansions >= 100,
      `nodes came and went: ${stats.expansions} / ${stats.nodesPruned}`,
    );
    if (hashBits < 32) assert.ok(stats.overflowInserts >= 1000, `chains formed: ${stats.overflowInserts}`);
    assert.equal(stats.entriesReclaimed, stats.entriesRetired, 'every retired entry was reclaimed');
    assert.equal(stats.nodesReclaimed, stats.nodesPruned, 'every pruned node was reclaimed');
    assert.equal(stats.bytesAwaitingReclamation, 0);
    assert.equal(stats.entries, STABLE_KEYS + CHURN_WINDOW);
    // Without reclamation the retired entries alone would take ~10 MiB.
    assert.ok(stats.peakBytesInUse <= 3 * 1024 * 1024, `peak bytes in use ${stats.peakBytesInUse} ≤ 3 MiB`);
    // Live entries plus what may await reclamation (16 bytes each), twice over: every entry but those is reused.
    const slotBound = STABLE_KEYS + CHURN_WINDOW + (2 * MAX_PENDING_BYTES) / 16;
    assert.ok(
      stats.entrySlots <= slotBound,
      `entry slots reused: ${stats.entrySlots} carved for ${stats.entriesRetired} retired, bound ${slotBound}`,
    );
    const updater = results[1];
    for (let key = 0; key < STABLE_KEYS; key++) {
      assert.equal(
        main.get(key),
        valueOf(key, updater.lastVersions[key]),
        `stable key ${key} holds the updater's last store`,
      );
    }
    main.quiesce?.();
  });
}
