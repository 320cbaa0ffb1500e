import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, createArenaBuffer, classWords, sizeClassOf } from '../maps/arena.js';
import {
  HashTable,
  ROOT_WORDS,
  TABLE_COUNT,
  TABLE_SLOTS,
  hashKey,
  homeSlot,
  probeStats,
  slotsFor,
} from '../maps/hash-table.js';
import { seededRandom as prng } from './fixtures/seeded-random.js';

function newTable(capacity: number, loadFactor: number): { arena: Arena; table: HashTable } {
  const arena = new Arena(createArenaBuffer(64 * 1024 * 1024));
  const root = arena.allocate(ROOT_WORDS);
  HashTable.initialise(arena, root, capacity, loadFactor);
  return { arena, table: new HashTable(arena, root) };
}

test('size classes waste at most 25% plus one granule and round-trip', () => {
  for (let words = 1; words < 200_000; words += 7) {
    const sizeClass = sizeClassOf(words);
    const block = classWords(sizeClass);
    assert.ok(block >= words, `class ${sizeClass} holds ${block} < ${words} words`);
    assert.ok(block <= Math.max(words * 1.25 + 8, 24), `class ${sizeClass} wastes too much for ${words}`);
    assert.equal(sizeClassOf(block), sizeClass, `a full block of class ${sizeClass} stays in its class`);
  }
});

test('the arena reuses freed blocks and counts bytes in use', () => {
  const arena = new Arena(createArenaBuffer(1024 * 1024));
  const a = arena.allocate(100);
  const before = arena.stats().bytesInUse;
  arena.free(a, 100);
  assert.equal(arena.stats().bytesInUse, before - Arena.blockBytes(100));
  assert.equal(arena.allocate(100), a, 'the freed block is reused for the same class');
  assert.equal(arena.stats().peakBytesInUse, before);
});

test('the arena throws a RangeError naming maxBytes when its reservation is exhausted', () => {
  const arena = new Arena(createArenaBuffer(64 * 1024));
  assert.throws(() => {
    for (;;) arena.allocate(1000);
  }, /map memory exhausted: .*maxBytes/);
});

test('home slots stay inside the table for every slot count, including the largest hashes', () => {
  for (const slots of [8, 9, 13, 1000, 65_536, 87_382, (1 << 27) - 1]) {
    for (const hash of [0, 1, -1, 0x7fffffff, -0x80000000, hashKey(12345)]) {
      const home = homeSlot(hash, slots);
      assert.ok(home >= 0 && home < slots, `home ${home} for ${slots} slots`);
    }
  }
});

test('slotsFor sizes the table so exactly `entries` fit at the load factor', () => {
  for (const loadFactor of [0.25, 0.5, 0.75, 0.9]) {
    for (const entries of [1, 7, 100, 49_152, 65_536]) {
      const slots = slotsFor(entries, loadFactor);
      assert.ok(Math.floor(loadFactor * slots) >= entries);
      assert.ok(slots <= Math.max(8, Math.ceil(entries / loadFactor) + 1), 'no rounding up to a power of two');
    }
  }
});

for (const loadFactor of [0.25, 0.5, 0.75, 0.9]) {
  test(`table agrees with a Map reference through random sets and backward-shift deletes at load factor ${loadFactor}`, () => {
    const { table, arena } = newTable(16, loadFactor);
    const reference = new Map<number, number>();
    const random = prng(42 + loadFactor * 100);
    for (let step = 0; step < 60_000; step++) {
      const key = Math.floor(random() * 3000);
      const roll = random();
      if (roll < 0.55) {
        const value = Math.floor(random() * 2 ** 31);
        assert.equal(table.set(key, value), !reference.has(key));
        reference.set(key, value);
      } else if (roll < 0.85) {
        assert.equal(table.remove(key), reference.delete(key));
      } else {
        assert.equal(table.get(key), reference.get(key));
      }
    }
    assert.equal(table.count, reference.size);
    for (const [key, value] of reference) assert.equal(table.get(key), value);
    const seen = new Map<number, number>();
    table.forEach((key, value) => seen.set(key, value));
    assert.deepEqual(seen, reference);
    const memory = arena.memory;
    const base = table.region;
    assert.ok(
      memory[base + TABLE_COUNT] <= Math.floor(loadFactor * memory[base + TABLE_SLOTS]),
      'occupancy never passes the load factor',
    );
    assert.ok(table.stats().resizes > 0, 'the run crossed several resizes');
  });
}

test('probe statistics are computed from home distances', () => {
  const { table, arena } = newTable(1000, 0.9);
  for (let key = 0; key < 900; key++) table.set(key, key);
  const stats = probeStats(arena.memory, table.region);
  assert.ok(stats.averageProbeLength >= 1 && stats.maxProbeLength >= stats.averageProbeLength);
  for (let key = 0; key < 900; key++) table.remove(key);
  assert.deepEqual(probeStats(arena.memory, table.region), { averageProbeLength: 0, maxProbeLength: 0 });
});
