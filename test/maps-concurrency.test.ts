/**
 * Shared maps under real concurrency (worker_threads attaching through the
 * registry): no lost updates, no value a writer never wrote and no history
 * running backwards, plain's detection of concurrent writes, and memory that
 * stays bounded under churn. Every shared map in `mapFactories` is covered;
 * maps with `safeForConcurrentWrites: false` get the single-writer variants.
 * Assertions are exact counts and invariants, never timings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getMapFactory, mapFactories } from '../maps/index.js';
import { runWorkers } from './fixtures/maps-workers.js';
import type {
  AddResult,
  ChurnResult,
  HistoryResult,
  MapTask,
  RacingResult,
  WriterSpec,
} from './fixtures/maps-worker.js';

const MAP_WORKER = new URL('./fixtures/maps-worker.js', import.meta.url);
const SMALL_ARENA = 32 * 1024 * 1024;
const sharedFactories = mapFactories.filter((factory) => factory.shared);
const concurrentWriteFactories = sharedFactories.filter((factory) => factory.safeForConcurrentWrites);

for (const factory of concurrentWriteFactories) {
  test(`${factory.name} loses no update: 4 workers add(k, 1) on overlapping keys while the table grows`, async () => {
    const handle = factory.create({ capacity: 16, maxBytes: SMALL_ARENA });
    const keys = 2048;
    const tasks: MapTask[] = [0, 1, 2, 3].map((worker) => ({
      kind: 'add',
      map: factory.name,
      handle,
      seed: 1000 + worker,
      ops: 40_000,
      keys,
    }));
    const results = await runWorkers<MapTask, AddResult>(MAP_WORKER, tasks);
    const map = factory.attach(handle);
    let present = 0;
    for (let key = 0; key < keys; key++) {
      const expected = results.reduce((sum, result) => sum + result.countsByKey[key], 0);
      if (expected > 0) present++;
      assert.equal(map.get(key) ?? 0, expected, `key ${key}`);
    }
    assert.equal(map.size(), present);
    let total = 0;
    map.forEach((_, value) => {
      total += value;
    });
    assert.equal(total, 4 * 40_000, 'the sum of all values is every add');
  });

  test(`${factory.name} readers see only values written for their key, and each writer's history in order`, async () => {
    const handle = factory.create({ capacity: 8, maxBytes: SMALL_ARENA });
    const writers: WriterSpec[] = [
      { writer: 0, seed: 11 },
      { writer: 1, seed: 12 },
    ];
    const common = { map: factory.name, handle, writers, ops: 60_000, keys: 256 };
    const tasks: MapTask[] = [
      { kind: 'history-writer', self: 0, seed: 0, ...common },
      { kind: 'history-writer', self: 1, seed: 0, ...common },
      { kind: 'history-reader', self: 2, seed: 21, ...common },
      { kind: 'history-reader', self: 3, seed: 22, ...common },
    ];
    const results = await runWorkers<MapTask, HistoryResult>(MAP_WORKER, tasks);
    assert.deepEqual(
      results.flatMap((result) => result.violations),
      [],
    );
    assert.deepEqual(
      results.map((result) => result.checked),
      [60_000, 60_000, 120_000, 120_000],
    );
  });
}

for (const factory of sharedFactories.filter((candidate) => !candidate.safeForConcurrentWrites)) {
  test(`${factory.name}: two workers writing at once raise ConcurrentMapWriteError within one second, in every run`, async () => {
    for (let run = 0; run < 3; run++) {
      const handle = factory.create({ maxBytes: SMALL_ARENA });
      const tasks: MapTask[] = [0, 1].map((worker) => ({
        kind: 'racing-writer',
        map: factory.name,
        handle,
        worker,
        budgetMs: 1000,
      }));
      const results = await runWorkers<MapTask, RacingResult>(MAP_WORKER, tasks);
      for (const [worker, result] of results.entries()) {
        assert.equal(
          result.detected,
          true,
          `run ${run}: worker ${worker} wrote ${result.ops} ops for ${result.elapsedMs.toFixed(0)} ms undetected`,
        );
        assert.equal(result.errorName, 'ConcurrentMapWriteError');
        assert.ok(
          ['concurrent map writes', 'concurrent map read and map write'].includes(result.message),
          result.message,
        );
      }
      assert.equal(factory.attach(handle).stats().concurrentUseDetected, 1, 'the map stays failed');
    }
  });
}

for (const factory of sharedFactories) {
  const workers = factory.safeForConcurrentWrites ? 2 : 1;
  // readdirty (Go's sync.Map) keeps deleted keys in both its tables until the next rebuild, so each holds up to
  // ~2× the live keys (×2 more just after doubling), and a retired read table awaits its grace period: see its section in maps/README.md.
  // hashtrie (Go 1.24's HashTrieMap) spends ~60 bytes per key on 96-byte indirect nodes that, as in Go, are pruned
  // only when empty, and like readdirty it holds retired memory back while a thread is descheduled (QSBR).
  const tablesWorth = factory.name === 'readdirty' || factory.name === 'hashtrie' ? 24 : 4;
  test(`${factory.name} memory stays bounded: ${workers} worker(s) churning 10^6 inserts and deletes stay within ${tablesWorth}× of live entries × bytes per entry`, async () => {
    const loadFactor = 0.75;
    const liveEntries = 16_384;
    const handle = factory.create({ loadFactor, maxBytes: 64 * 1024 * 1024 });
    const tasks: MapTask[] = Array.from({ length: workers }, (_, worker) => ({
      kind: 'churn',
      map: factory.name,
      handle,
      worker,
      workers,
      ops: 1_000_000 / workers,
      window: liveEntries / workers,
      sampleEvery: 50_000,
    }));
    const results = await runWorkers<MapTask, ChurnResult>(MAP_WORKER, tasks);
    const bound = tablesWorth * liveEntries * (8 / loadFactor);
    const map = factory.attach(handle);
    const finalBytes = map.stats().bytes;
    const maxBytes = Math.max(finalBytes, ...results.map((result) => result.maxBytes));
    assert.ok(
      results.every((result) => result.samples === 1_000_000 / workers / 50_000),
      'bytes were sampled throughout',
    );
    assert.ok(map.size() >= liveEntries - workers && map.size() <= liveEntries, `live entries ${map.size()}`);
    assert.ok(
      maxBytes <= bound,
      `${factory.name} used ${maxBytes} bytes, more than ${tablesWorth} × ${liveEntries} entries × ${8 / loadFactor} bytes = ${bound}`,
    );
  });
}

test('the concurrency tests cover every shared map in the registry', () => {
  assert.ok(sharedFactories.length >= 3);
  assert.ok(getMapFactory('plain').safeForConcurrentWrites === false);
});
