/**
 * The maps contract, checked on every map in the registry (a new map is
 * covered by adding it to `mapFactories`): a long seeded run of all eight
 * operations against a `Map` reference, across resizes and load factors;
 * bad input rejected with its message and nothing changed; forEach callbacks
 * that call the map; handles that survive structured cloning; stats fields.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConcurrentMapWriteError,
  getMapFactory,
  mapFactories,
  type ConcurrentMap,
  type MapFactory,
  type MapOptions,
} from '../maps/index.js';
import { MAX_KEY, MAX_VALUE, MIN_VALUE } from '../maps/validate.js';
import { seededRandom as prng } from './fixtures/seeded-random.js';

const SMALL_ARENA = 16 * 1024 * 1024;
const sharedFactories = mapFactories.filter((factory) => factory.shared);

function newMap(factory: MapFactory, options: MapOptions = {}): ConcurrentMap {
  return factory.attach(factory.create({ maxBytes: SMALL_ARENA, ...options }));
}

function contents(map: ConcurrentMap): Map<number, number> {
  const seen = new Map<number, number>();
  map.forEach((key, value) => {
    assert.ok(!seen.has(key), `forEach visits key ${key} once`);
    seen.set(key, value);
  });
  return seen;
}

/** Reference semantics of add(): the new value, or a RangeError when it leaves the allowed values. */
function referenceAdd(current: number | undefined, delta: number): number | 'rejected' {
  const sum = (current ?? 0) + delta;
  return sum < MIN_VALUE || sum > MAX_VALUE ? 'rejected' : sum;
}

for (const factory of mapFactories) {
  for (const loadFactor of [0.25, 0.5, 0.75, 0.9]) {
    test(`${factory.name} agrees with a Map reference over a seeded run of all eight operations at load factor ${loadFactor}`, () => {
      const map = newMap(factory, { capacity: 8, loadFactor });
      const reference = new Map<number, number>();
      const random = prng(Math.round(loadFactor * 1000) + factory.name.length);
      const KEYS = 3000;
      const pickKey = (): number =>
        random() < 0.02 ? MAX_KEY - Math.floor(random() * 4) : Math.floor(random() * KEYS);
      const pickValue = (): number => {
        const roll = random();
        if (roll < 0.05) return MIN_VALUE;
        if (roll < 0.1) return MAX_VALUE;
        return Math.floor(random() * 2 ** 20) - 2 ** 19;
      };
      for (let step = 0; step < 40_000; step++) {
        // Grow the key space over the run so the table resizes several times, then churn.
        const key = step < 20_000 ? Math.floor(random() * (1 + step / 7)) : pickKey();
        const roll = random();
        if (roll < 0.25) {
          assert.equal(map.get(key), reference.get(key), `get(${key}) at step ${step}`);
        } else if (roll < 0.45) {
          const value = pickValue();
          map.set(key, value);
          reference.set(key, value);
        } else if (roll < 0.6) {
          assert.equal(map.delete(key), reference.delete(key), `delete(${key}) at step ${step}`);
        } else if (roll < 0.7) {
          const value = pickValue();
          const expected = reference.get(key) ?? value;
          assert.equal(map.getOrSet(key, value), expected, `getOrSet(${key}) at step ${step}`);
          reference.set(key, expected);
        } else if (roll < 0.8) {
          const current = reference.get(key);
          const expectedValue = current !== undefined && random() < 0.6 ? current : pickValue();
          const value = pickValue();
          const swapped = current === expectedValue;
          assert.equal(map.compareAndSet(key, expectedValue, value), swapped, `compareAndSet(${key}) at step ${step}`);
          if (swapped) reference.set(key, value);
        } else if (roll < 0.97) {
          const delta = random() < 0.05 ? (random() < 0.5 ? MAX_VALUE : -MAX_VALUE) : Math.floor(random() * 200) - 100;
          const expected = referenceAdd(reference.get(key), delta);
          if (expected === 'rejected') {
            assert.throws(() => map.add(key, delta), RangeError, `add(${key}, ${delta}) overflows at step ${step}`);
          } else {
            assert.equal(map.add(key, delta), expected, `add(${key}, ${delta}) at step ${step}`);
            reference.set(key, expected);
          }
        } else if (roll < 0.995) {
          assert.equal(map.size(), reference.size, `size() at step ${step}`);
        } else {
          assert.deepEqual(contents(map), reference, `forEach at step ${step}`);
        }
      }
      assert.deepEqual(contents(map), reference);
      assert.equal(map.size(), reference.size);
      const stats = map.stats();
      if (factory.shared) {
        assert.ok(stats.resizes >= 3, `the run crossed several resizes (${stats.resizes})`);
        assert.equal(stats.entries, reference.size);
      }
    });
  }

  test(`${factory.name} rejects bad keys, values and deltas with the allowed range, and changes nothing`, () => {
    const map = newMap(factory);
    map.set(1, 10);
    const before = contents(map);
    const badKeys: unknown[] = [-1, MAX_KEY + 1, 1.5, Number.NaN, Infinity, '1', null, undefined];
    const badValues: unknown[] = [-(2 ** 31), -(2 ** 31) + 7, 2 ** 31, 0.5, Number.NaN, '3'];
    const keyMessage = /key must be an integer 0\.\.2147483647, got /;
    const valueMessage = (name: string): RegExp =>
      new RegExp(`${name} must be an integer -2147483640\\.\\.2147483647 .*reserved.*, got `);
    for (const key of badKeys as number[]) {
      for (const call of [
        () => map.get(key),
        () => map.set(key, 1),
        () => map.delete(key),
        () => map.getOrSet(key, 1),
        () => map.compareAndSet(key, 1, 2),
        () => map.add(key, 1),
      ]) {
        assert.throws(
          call,
          (error: Error) => error instanceof RangeError && keyMessage.test(error.message),
          `key ${String(key)}`,
        );
      }
    }
    for (const value of badValues as number[]) {
      for (const call of [
        () => map.set(2, value),
        () => map.getOrSet(2, value),
        () => map.compareAndSet(1, 10, value),
      ]) {
        assert.throws(
          call,
          (error: Error) => error instanceof RangeError && valueMessage('value').test(error.message),
          `value ${String(value)}`,
        );
      }
      assert.throws(
        () => map.compareAndSet(1, value, 11),
        (error: Error) => error instanceof RangeError && valueMessage('expected').test(error.message),
      );
    }
    for (const delta of [0.5, 2 ** 31, -(2 ** 31) - 1, Number.NaN, '1'] as number[]) {
      assert.throws(() => map.add(1, delta), /delta must be an int32 integer, got /);
    }
    assert.deepEqual(contents(map), before, 'no rejected call changed the map');
  });

  test(`${factory.name} add() that would leave the allowed values throws and leaves the stored value as it was`, () => {
    const map = newMap(factory);
    map.set(5, MAX_VALUE);
    assert.throws(() => map.add(5, 1), /add\(5, 1\) would store 2147483648; values must be/);
    assert.equal(map.get(5), MAX_VALUE);
    map.set(6, MIN_VALUE);
    assert.throws(() => map.add(6, -1), RangeError);
    assert.equal(map.get(6), MIN_VALUE);
    assert.throws(() => map.add(7, -(2 ** 31)), RangeError, 'an absent key counts as 0, and −2^31 is reserved');
    assert.equal(map.get(7), undefined, 'the rejected add did not insert the key');
    assert.equal(map.size(), 2);
    map.set(7, 1); // the map still works (no lock or writing flag left held)
    assert.equal(map.add(7, -1), 0);
  });

  test(`${factory.name} rejects bad options naming the option and its allowed range`, () => {
    const cases: Array<[unknown, RegExp, ErrorConstructor]> = [
      ['big', /options must be an object/, TypeError],
      [null, /options must be an object/, TypeError],
      [{ capacty: 10 }, /unknown map option 'capacty'; allowed: capacity, loadFactor, shards, maxBytes/, TypeError],
      [{ capacity: 0 }, /capacity must be an integer 1\.\.67108864 \(entries\), got 0/, RangeError],
      [{ capacity: 1.5 }, /capacity must be an integer/, RangeError],
      [{ capacity: '10' }, /capacity must be an integer .*got "10"/, RangeError],
      [{ loadFactor: 1 }, /loadFactor must be a number in \(0, 1\) exclusive, got 1/, RangeError],
      [{ loadFactor: 0 }, /loadFactor must be a number in \(0, 1\) exclusive, got 0/, RangeError],
      [{ loadFactor: Number.NaN }, /loadFactor must be a number in \(0, 1\) exclusive, got NaN/, RangeError],
      [{ shards: 3 }, /shards must be a power of two 1\.\.1024, got 3/, RangeError],
      [{ shards: 2048 }, /shards must be a power of two 1\.\.1024, got 2048/, RangeError],
      [{ maxBytes: 1000 }, /maxBytes must be an integer 65536\.\.2147479552 \(bytes\), got 1000/, RangeError],
      [{ maxBytes: 2 ** 31 }, /maxBytes must be an integer/, RangeError],
    ];
    for (const [options, message, type] of cases) {
      assert.throws(
        () => factory.create(options as MapOptions),
        (error: Error) => error instanceof type && message.test(error.message),
        `options ${JSON.stringify(options)}`,
      );
    }
  });

  test(`${factory.name} forEach lets the callback call the map, visiting each entry once`, () => {
    const map = newMap(factory);
    for (let key = 0; key < 500; key++) map.set(key, key);
    let visits = 0;
    map.forEach((key, value) => {
      visits++;
      assert.equal(map.get(key), value);
      map.set(key, value + 1); // a write from inside the callback must not deadlock or throw
    });
    assert.equal(visits, 500);
    for (let key = 0; key < 500; key++) assert.equal(map.get(key), key + 1);
  });

  test(`${factory.name} attach() refuses another map's handle`, () => {
    const other = mapFactories.find((candidate) => candidate.name !== factory.name) ?? getMapFactory('js-map');
    const handle = other.create({ maxBytes: SMALL_ARENA });
    assert.throws(
      () => factory.attach(handle),
      (error: Error) =>
        error instanceof TypeError && error.message.includes(`created by '${other.name}', not '${factory.name}'`),
    );
  });
}

for (const factory of sharedFactories) {
  test(`${factory.name} handles survive structured cloning and attach to the same memory`, () => {
    const handle = factory.create({ maxBytes: SMALL_ARENA });
    const first = factory.attach(handle);
    const second = factory.attach(structuredClone(handle));
    first.set(42, 7);
    assert.equal(second.get(42), 7);
    second.delete(42);
    assert.equal(first.get(42), undefined);
  });

  test(`${factory.name} stats report table, memory and counter figures`, () => {
    const map = newMap(factory, { capacity: 100, loadFactor: 0.5 });
    for (let key = 0; key < 1000; key++) map.set(key, key);
    const stats = map.stats();
    for (const field of [
      'entries',
      'slots',
      'resizes',
      'averageProbeLength',
      'maxProbeLength',
      'bytes',
      'bytesInUse',
      'bytesReserved',
    ]) {
      assert.equal(typeof stats[field], 'number', `stats.${field}`);
    }
    assert.equal(stats.entries, 1000);
    assert.ok(stats.resizes >= 1);
    assert.ok(stats.averageProbeLength >= 1 && stats.maxProbeLength >= stats.averageProbeLength);
    assert.ok(stats.bytes >= stats.entries * 8, 'bytes in use include the tables');
    assert.equal(stats.bytesReserved, SMALL_ARENA);
  });

  test(`${factory.name} throws a RangeError naming maxBytes when its arena is full, keeping every entry it accepted`, () => {
    const map = newMap(factory, { maxBytes: 256 * 1024, capacity: 8 });
    let inserted = 0;
    assert.throws(
      () => {
        for (;;) {
          map.set(inserted, inserted);
          inserted++;
        }
      },
      (error: Error) => error instanceof RangeError && /maxBytes/.test(error.message),
    );
    assert.equal(map.size(), inserted, 'the rejected insert left nothing behind');
    for (let key = 0; key < inserted; key += 97) assert.equal(map.get(key), key);
    assert.equal(map.get(inserted), undefined);
    map.set(0, -5); // locks and flags were released: the map still works
    assert.equal(map.get(0), -5);
  });
}

test('rwmutex and sharded count every read and write acquisition', () => {
  for (const name of ['rwmutex', 'sharded']) {
    const map = newMap(getMapFactory(name));
    for (let key = 0; key < 100; key++) map.set(key, key);
    for (let key = 0; key < 300; key++) map.get(key);
    map.delete(3);
    const stats = map.stats();
    assert.equal(stats.writeAcquisitions, 101, `${name} write locks`);
    assert.equal(stats.readAcquisitions, 300, `${name} read locks`);
    assert.equal(
      stats.readContended + stats.writeContended + stats.readSleeps + stats.writeSleeps,
      0,
      `${name}: one thread never waits`,
    );
  }
});

test('sharded spreads keys over every shard and honours the shards option', () => {
  const map = newMap(getMapFactory('sharded'), { shards: 4, capacity: 16 });
  for (let key = 0; key < 4000; key++) map.set(key, key);
  const stats = map.stats();
  assert.equal(stats.shards, 4);
  assert.equal(stats.entries, 4000);
  // 4 shards of at least 1000 / 0.75 slots each: shards grow evenly, so the total stays near 4000 / 0.75 × (1..2).
  assert.ok(stats.slots >= 4000 / 0.75 && stats.slots <= (2 * 4000) / 0.75 + 64, `slots ${stats.slots}`);
});

test('plain, once it has detected concurrent use, fails every later operation (the map may be corrupt)', () => {
  const factory = getMapFactory('plain');
  const handle = factory.create({ maxBytes: SMALL_ARENA });
  const map = factory.attach(handle);
  map.set(1, 1);
  // Simulate another thread caught mid-write: its writing flag is set when we read.
  const { buffer, header } = handle as unknown as { buffer: SharedArrayBuffer; header: number };
  const words = new Int32Array(buffer);
  words[header] = 1;
  assert.throws(
    () => map.get(1),
    (error: Error) => error instanceof ConcurrentMapWriteError && error.message === 'concurrent map read and map write',
  );
  words[header] &= ~1; // that writer finished; the failure is sticky all the same
  assert.throws(
    () => map.set(2, 2),
    (error: Error) => error instanceof ConcurrentMapWriteError && error.message === 'concurrent map writes',
  );
  assert.throws(() => map.get(1), ConcurrentMapWriteError);
  assert.equal(map.stats().concurrentUseDetected, 1);
});

test('plain: a detection whose flag bit another writer erased still fails that writer within 64 writes', () => {
  const factory = getMapFactory('plain');
  const handle = factory.create({ maxBytes: SMALL_ARENA });
  const detector = factory.attach(handle);
  const eraser = factory.attach(handle);
  const { buffer, header } = handle as unknown as { buffer: SharedArrayBuffer; header: number };
  const words = new Int32Array(buffer);
  words[header] = 1; // another writer is mid-write when the detector starts one
  assert.throws(() => detector.set(1, 1), ConcurrentMapWriteError);
  // That writer's plain end-of-write store of 0 erases the BROKEN bit (what happened in CI).
  words[header] = 0;
  let writes = 0;
  assert.throws(
    () => {
      for (; writes < 1000; writes++) eraser.set(writes, writes);
    },
    (error: Error) => error instanceof ConcurrentMapWriteError && error.message === 'concurrent map writes',
  );
  assert.ok(writes < 64, `the eraser wrote ${writes} times before failing`);
  assert.throws(() => detector.get(1), ConcurrentMapWriteError, 'the eraser set the bit again for readers');
  assert.equal(eraser.stats().concurrentUseDetected, 1);
});
