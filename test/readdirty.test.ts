/**
 * The read/dirty map (Go's classic sync.Map) on one thread: it agrees with a
 * Map, and its counters prove which path each operation took — promotion
 * exactly when misses reach len(dirty), one rebuild per first new key, lock-free
 * reads after promotion, expunge / un-expunge, Go's miss accounting per
 * operation — and memory stays bounded under churn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getMapFactory } from '../maps/index.js';
import { QUIESCENT_INTERVAL_OPS, readDirtyMapFactory } from '../maps/readdirty.js';
import type { ConcurrentMap, MapOptions } from '../maps/types.js';
import { MAX_VALUE, MIN_VALUE, RESERVED_VALUE_BASE } from '../maps/validate.js';
import { seededRandom as prng } from './fixtures/seeded-random.js';

const MiB = 1024 * 1024;

function newMap(options: MapOptions = {}): ConcurrentMap {
  return readDirtyMapFactory.attach(readDirtyMapFactory.create({ maxBytes: 32 * MiB, ...options }));
}

/** A map holding keys 0..n−1 (value = key) in a promoted read table: not amended, no dirty table. */
function promotedMap(n: number, options: MapOptions = {}): ConcurrentMap {
  const map = newMap({ capacity: n, ...options });
  for (let key = 0; key < n; key++) map.set(key, key);
  for (let key = 0; key < n; key++) map.get(key); // n misses: the n-th promotes
  const stats = map.stats();
  assert.equal(stats.promotions, 1);
  assert.equal(stats.amended, 0);
  assert.equal(stats.dirtyEntries, 0);
  return map;
}

/** Counter changes between two stats() calls. */
function delta(before: Record<string, number>, after: Record<string, number>, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((name) => [name, after[name] - before[name]]));
}

for (const loadFactor of [0.25, 0.5, 0.75, 0.9]) {
  test(`readdirty agrees with a Map through every operation, promotion and rebuild at load factor ${loadFactor}`, () => {
    const map = newMap({ capacity: 16, loadFactor });
    const reference = new Map<number, number>();
    const random = prng(1000 + loadFactor * 100);
    for (let step = 0; step < 40_000; step++) {
      const key = Math.floor(random() * 600);
      const value = Math.floor(random() * 2000) - 1000;
      const roll = random();
      if (roll < 0.3) {
        assert.equal(map.get(key), reference.get(key), `get(${key}) at step ${step}`);
      } else if (roll < 0.48) {
        map.set(key, value);
        reference.set(key, value);
      } else if (roll < 0.62) {
        assert.equal(map.delete(key), reference.delete(key), `delete(${key}) at step ${step}`);
      } else if (roll < 0.72) {
        const expected = reference.get(key) ?? value;
        reference.set(key, expected);
        assert.equal(map.getOrSet(key, value), expected, `getOrSet(${key}) at step ${step}`);
      } else if (roll < 0.82) {
        const expected = reference.has(key) && random() < 0.6 ? (reference.get(key) as number) : value;
        const swapped = reference.get(key) === expected;
        if (swapped) reference.set(key, value + 1);
        assert.equal(map.compareAndSet(key, expected, value + 1), swapped, `compareAndSet(${key}) at step ${step}`);
      } else if (roll < 0.97) {
        const next = (reference.get(key) ?? 0) + (value % 7);
        reference.set(key, next);
        assert.equal(map.add(key, value % 7), next, `add(${key}) at step ${step}`);
      } else if (roll < 0.985) {
        assert.equal(map.size(), reference.size, `size() at step ${step}`);
      } else {
        const seen = new Map<number, number>();
        map.forEach((k, v) => {
          assert.ok(!seen.has(k), `forEach visited ${k} twice`);
          seen.set(k, v);
        });
        assert.deepEqual(seen, reference, `forEach at step ${step}`);
      }
    }
    const stats = map.stats();
    assert.equal(stats.entries, reference.size);
    assert.ok(
      stats.promotions > 50 && stats.dirtyRebuilds > 50 && stats.entriesExpunged > 0 && stats.entriesUnexpunged > 0,
      `the run exercised every path: ${JSON.stringify(stats)}`,
    );
  });
}

test('readdirty is registered in the map registry', () => {
  assert.equal(getMapFactory('readdirty'), readDirtyMapFactory);
  assert.equal(readDirtyMapFactory.shared, true);
  assert.equal(readDirtyMapFactory.safeForConcurrentWrites, true);
});

test('promotion happens exactly when misses reach len(dirty), and not one miss earlier', () => {
  const map = promotedMap(100);
  map.set(1000, 1); // first new key: rebuild, dirty = 100 copied + 1
  assert.equal(map.stats().dirtyEntries, 101);
  for (let i = 1; i <= 100; i++) assert.equal(map.get(1000), 1); // each takes the lock and misses
  let stats = map.stats();
  assert.equal(stats.missesSincePromotion, 100);
  assert.equal(stats.promotions, 1, 'no promotion at 100 misses < len(dirty) = 101');
  map.get(1000);
  stats = map.stats();
  assert.equal(stats.promotions, 2, 'the 101st miss promotes');
  assert.equal(stats.missesSincePromotion, 0);
  assert.equal(stats.amended, 0);
  assert.equal(stats.readEntries, 101);
});

test('after promotion a read-only phase adds no misses and takes no lock', () => {
  const map = promotedMap(100);
  const before = map.stats();
  for (let round = 0; round < 10; round++) {
    for (let key = 0; key < 100; key++) assert.equal(map.get(key), key);
    assert.equal(map.get(5000 + round), undefined); // absent, not amended: answered without the lock
  }
  const change = delta(before, map.stats(), ['loads', 'readHits', 'misses', 'lockAcquisitions', 'promotions']);
  assert.deepEqual(change, { loads: 1010, readHits: 1000, misses: 0, lockAcquisitions: 0, promotions: 0 });
});

test('the first new-key store after a promotion rebuilds the dirty table exactly once, copying live entries and expunging deleted ones', () => {
  const map = promotedMap(100);
  for (let key = 0; key < 10; key++) assert.equal(map.delete(key), true);
  let before = map.stats();
  map.set(1000, 1000);
  let change = delta(before, map.stats(), ['dirtyRebuilds', 'entriesCopied', 'entriesExpunged', 'lockAcquisitions']);
  assert.deepEqual(change, { dirtyRebuilds: 1, entriesCopied: 90, entriesExpunged: 10, lockAcquisitions: 1 });
  before = map.stats();
  map.set(1001, 1001); // dirty exists: no rebuild
  map.set(50, -50); // existing key: a CAS on its entry, no lock
  change = delta(before, map.stats(), ['dirtyRebuilds', 'entriesCopied', 'lockAcquisitions']);
  assert.deepEqual(change, { dirtyRebuilds: 0, entriesCopied: 0, lockAcquisitions: 1 });
  assert.equal(map.get(50), -50);
});

test('a deleted entry is expunged by the next rebuild; a later store un-expunges it under the lock and adds it to dirty', () => {
  const map = promotedMap(100);
  assert.equal(map.delete(7), true); // read hit: CAS to nil, no lock
  map.set(1000, 1); // rebuild: entry 7 is nil, so it is expunged instead of copied
  let stats = map.stats();
  assert.equal(stats.entriesExpunged, 1);
  assert.equal(stats.dirtyEntries, 100, '99 copied + 1 new; 7 is not in dirty');
  const before = map.stats();
  assert.equal(map.get(7), undefined, 'an expunged entry reads as absent, from the read table');
  map.set(7, 77);
  stats = map.stats();
  assert.deepEqual(delta(before, stats, ['entriesUnexpunged', 'lockAcquisitions', 'misses', 'readHits']), {
    entriesUnexpunged: 1,
    lockAcquisitions: 1,
    misses: 0,
    readHits: 1,
  });
  assert.equal(stats.dirtyEntries, 101, 'un-expunged entry added to dirty');
  assert.equal(map.get(7), 77);
  map.forEach(() => {}); // promote: 7 survives in the new read table
  assert.equal(map.stats().readEntries, 101);
  assert.equal(map.get(7), 77);
});

test('entries dropped at promotion are reclaimed after a quiescent point and their slots reused', () => {
  const map = promotedMap(100);
  for (let key = 0; key < 10; key++) map.delete(key);
  map.set(1000, 1); // rebuild: expunges 0..9
  map.forEach(() => {}); // promotion: 0..9 are in no table now; the old read table is retired too
  let stats = map.stats();
  assert.equal(stats.readEntries, 91);
  assert.equal(stats.entriesReclaimed, 0, 'this thread has not passed a quiescent point since');
  assert.ok(stats.itemsAwaitingReclamation >= 2 && stats.bytesAwaitingReclamation > 0);
  map.quiesce?.(); // idle: nothing can reach the retired memory any more
  stats = map.stats();
  assert.equal(stats.entriesReclaimed, 10);
  assert.ok(stats.regionsReclaimed >= 1);
  assert.equal(stats.itemsAwaitingReclamation, 0);
  assert.equal(stats.bytesAwaitingReclamation, 0);
  assert.ok(stats.entriesFree >= 10);
  const slots = stats.entrySlots;
  for (let key = 2000; key < 2010; key++) map.set(key, key);
  assert.equal(map.stats().entrySlots, slots, 'new keys reuse the reclaimed entries');
  for (let key = 10; key < 100; key++) assert.equal(map.get(key), key);
  for (let key = 2000; key < 2010; key++) assert.equal(map.get(key), key);
});

test("dirty-only keys: getOrSet, compareAndSet, get, delete and add count a miss (Go), set does not (Go's Swap)", () => {
  const map = promotedMap(100);
  map.set(1000, 1); // new key: dirty-only from now on
  const missesAfter = (op: () => unknown): number => {
    const before = map.stats().misses;
    op();
    return map.stats().misses - before;
  };
  assert.equal(
    missesAfter(() => map.set(1000, 2)),
    0,
  );
  assert.equal(
    missesAfter(() => assert.equal(map.getOrSet(1000, 9), 2)),
    1,
  );
  assert.equal(
    missesAfter(() => assert.equal(map.compareAndSet(1000, 2, 3), true)),
    1,
  );
  assert.equal(
    missesAfter(() => assert.equal(map.get(1000), 3)),
    1,
  );
  assert.equal(
    missesAfter(() => assert.equal(map.add(1000, 4), 7)),
    1,
  );
  assert.equal(
    missesAfter(() => assert.equal(map.delete(1000), true)),
    1,
  );
  assert.equal(
    missesAfter(() => assert.equal(map.getOrSet(2000, 5), 5)),
    0,
    'a new key is no miss',
  );
  assert.equal(
    missesAfter(() => assert.equal(map.compareAndSet(3000, 1, 2), false)),
    0,
    "absent from both tables: a locked lookup but no miss, as in Go's CompareAndSwap",
  );
  assert.equal(
    missesAfter(() => assert.equal(map.get(3000), undefined)),
    1,
    'Load counts a miss whether or not the key is present',
  );
  assert.equal(map.stats().promotions, 1, 'still far from len(dirty) misses');
});

test('add: an absent key counts as 0, and an out-of-range result throws RangeError and changes nothing on every path', () => {
  const map = promotedMap(10);
  map.set(5, MAX_VALUE);
  assert.throws(() => map.add(5, 1), /add\(5, 1\) would store 2147483648/); // read hit
  assert.equal(map.get(5), MAX_VALUE);
  assert.equal(map.add(5, -3), MAX_VALUE - 3);

  map.set(100, MIN_VALUE); // dirty-only key
  assert.throws(() => map.add(100, -1), RangeError);
  assert.equal(map.get(100), MIN_VALUE);

  assert.throws(() => map.add(200, RESERVED_VALUE_BASE), RangeError); // absent key: 0 + delta is reserved
  assert.equal(map.get(200), undefined);

  map.forEach(() => {}); // promote; then make key 3 expunged
  map.delete(3);
  map.set(300, 1); // rebuild expunges 3
  const before = map.stats();
  assert.throws(() => map.add(3, RESERVED_VALUE_BASE), RangeError);
  assert.deepEqual(delta(before, map.stats(), ['entriesUnexpunged', 'dirtyEntries', 'entries']), {
    entriesUnexpunged: 0,
    dirtyEntries: 0,
    entries: 0,
  });
  assert.equal(map.get(3), undefined);
  assert.equal(map.add(3, 4), 4, 'an expunged key counts as absent');
  assert.equal(map.add(400, -6), -6, 'a new key starts from 0');
});

test('forEach promotes an amended map first, visits each live key once, and lets fn call the map', () => {
  const map = newMap({ capacity: 8 });
  for (let key = 0; key < 50; key++) map.set(key, key * 10); // all in dirty: amended
  assert.equal(map.stats().amended, 1);
  const seen = new Map<number, number>();
  map.forEach((key, value) => {
    seen.set(key, value);
    map.set(key, value + 1); // existing key: visible to later gets
    map.set(10_000 + key, 1); // new keys go to dirty: not visited by this walk
  });
  assert.equal(seen.size, 50);
  for (let key = 0; key < 50; key++) {
    assert.equal(seen.get(key), key * 10);
    assert.equal(map.get(key), key * 10 + 1);
  }
  assert.equal(map.stats().promotions, 1);
  assert.equal(map.size(), 100);
});

test('quiesce() inside a forEach callback is ignored: the walked read table stays unreclaimed until the walk ends', () => {
  const map = promotedMap(40);
  let pendingInside = -1;
  map.forEach((key) => {
    if (key !== 0 && pendingInside >= 0) return;
    map.set(5000, 1); // new key: rebuild
    map.forEach(() => {}); // nested walk promotes: the table being walked is retired
    for (let i = 0; i < 3 * QUIESCENT_INTERVAL_OPS; i++) map.get(i % 40); // would pass quiescent points
    map.quiesce?.();
    pendingInside = map.stats().itemsAwaitingReclamation;
  });
  assert.ok(pendingInside > 0, 'the walked table was still awaiting reclamation inside the walk');
  map.quiesce?.();
  assert.equal(map.stats().itemsAwaitingReclamation, 0, 'reclaimed once the walk ended and the thread went idle');
});

test('bad input throws a RangeError naming the parameter and changes nothing', () => {
  const map = promotedMap(10);
  const before = map.stats();
  for (const key of [-1, 2 ** 31, 1.5, Number.NaN, Infinity]) {
    assert.throws(() => map.get(key), /key must be an integer 0\.\.2147483647/);
    assert.throws(() => map.set(key, 1), /key must be/);
    assert.throws(() => map.delete(key), /key must be/);
    assert.throws(() => map.getOrSet(key, 1), /key must be/);
    assert.throws(() => map.compareAndSet(key, 1, 2), /key must be/);
    assert.throws(() => map.add(key, 1), /key must be/);
  }
  for (const value of [RESERVED_VALUE_BASE, RESERVED_VALUE_BASE + 7, 2 ** 31, 0.5, Number.NaN]) {
    assert.throws(() => map.set(1, value), /value must be an integer/);
    assert.throws(() => map.set(1000, value), /value must be/);
    assert.throws(() => map.getOrSet(1000, value), /value must be/);
    assert.throws(() => map.compareAndSet(1, value, 2), /expected must be/);
    assert.throws(() => map.compareAndSet(1, 1, value), /value must be/);
  }
  assert.throws(() => map.add(1, 0.5), /delta must be an int32/);
  assert.throws(() => map.add(1, 2 ** 31), /delta must be/);
  assert.throws(() => map.get('1' as unknown as number), RangeError);
  const after = map.stats();
  assert.deepEqual(delta(before, after, ['entries', 'lockAcquisitions', 'loads', 'dirtyEntries']), {
    entries: 0,
    lockAcquisitions: 0,
    loads: 0,
    dirtyEntries: 0,
  });
  for (let key = 0; key < 10; key++) assert.equal(map.get(key), key);
});

test('attach on the same thread returns the one view of that map; foreign handles are refused', () => {
  const handle = readDirtyMapFactory.create({ maxBytes: 4 * MiB });
  const first = readDirtyMapFactory.attach(handle);
  assert.equal(readDirtyMapFactory.attach(handle), first);
  assert.notEqual(readDirtyMapFactory.attach(readDirtyMapFactory.create({ maxBytes: 4 * MiB })), first);
  const jsMap = getMapFactory('js-map');
  assert.throws(() => readDirtyMapFactory.attach(jsMap.create()), /handle was created by 'js-map', not 'readdirty'/);
  assert.throws(() => readDirtyMapFactory.attach({ ...handle, id: undefined }), /handle\.id must be the string/);
  assert.throws(() => readDirtyMapFactory.create({ capacity: 0 }), /capacity must be/);
});

test('memory stays bounded under indefinite churn of new keys and deletes on one thread', () => {
  const window = 500;
  const map = newMap({ capacity: 1024 });
  let measuredAtWarmup = 0;
  const steps = 150_000;
  for (let step = 0; step < steps; step++) {
    map.set(step, step);
    assert.equal(map.get(step), step); // misses until promotion
    if (step >= window) assert.equal(map.delete(step - window), true);
    if (step === steps / 10) measuredAtWarmup = map.stats().bytes;
  }
  const stats = map.stats();
  assert.equal(stats.entries, window);
  assert.ok(
    stats.promotions > 100 &&
      stats.regionsReclaimed > 100 &&
      stats.entriesReclaimed > steps - 2 * window - stats.entrySlots,
    `churn went through many promotions and reclamations: ${JSON.stringify(stats)}`,
  );
  assert.ok(
    stats.peakBytesInUse <= 2 * measuredAtWarmup,
    `peak ${stats.peakBytesInUse} bytes stays within 2× the ${measuredAtWarmup} bytes in use after warm-up`,
  );
  assert.ok(stats.entrySlots <= 8 * window, `entry slots are reused (${stats.entrySlots} carved for ${steps} keys)`);
  map.quiesce?.();
  assert.equal(map.stats().bytesAwaitingReclamation, 0);
});
