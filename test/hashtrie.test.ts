/**
 * The hash-trie map (Go 1.24's HashTrieMap) on one thread: it agrees with a
 * Map with the real hash and with narrowed hashes (so overflow chains form),
 * its shape follows Go's expand and prune, reads and failed conditional
 * writes take no lock, and retired entries and nodes are reclaimed after a
 * quiescent point so memory stays bounded under churn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getMapFactory } from '../maps/index.js';
import { hashKey } from '../maps/hash-table.js';
import {
  CHILDREN,
  LOCAL_FREE_MAX,
  QUIESCENT_INTERVAL_OPS,
  hashTrieMapFactory,
  narrowHashTrieFactory,
} from '../maps/hashtrie.js';
import type { ConcurrentMap, MapFactory } from '../maps/types.js';
import { MAX_VALUE, MIN_VALUE, RESERVED_VALUE_BASE } from '../maps/validate.js';
import { seededRandom as prng } from './fixtures/seeded-random.js';

const MiB = 1024 * 1024;

function newMap(factory: MapFactory = hashTrieMapFactory): ConcurrentMap {
  return factory.attach(factory.create({ maxBytes: 32 * MiB }));
}

/** Counter changes between two stats() calls. */
function delta(before: Record<string, number>, after: Record<string, number>, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((name) => [name, after[name] - before[name]]));
}

function contents(map: ConcurrentMap): Map<number, number> {
  const seen = new Map<number, number>();
  map.forEach((key, value) => {
    assert.ok(!seen.has(key), `forEach visited ${key} twice`);
    seen.set(key, value);
  });
  return seen;
}

for (const hashBits of [0, 4, 9, 32]) {
  test(`hashtrie with ${hashBits} hash bits agrees with a Map through every operation, expansion, chain and prune`, () => {
    const map = newMap(hashBits === 32 ? hashTrieMapFactory : narrowHashTrieFactory(hashBits));
    const reference = new Map<number, number>();
    const random = prng(77 + hashBits);
    const keys = hashBits === 0 ? 120 : 3000;
    for (let step = 0; step < 30_000; step++) {
      const key = Math.floor(random() * keys);
      const value = Math.floor(random() * 2000) - 1000;
      const roll = random();
      if (roll < 0.3) {
        assert.equal(map.get(key), reference.get(key), `get(${key}) at step ${step}`);
      } else if (roll < 0.48) {
        map.set(key, value);
        reference.set(key, value);
      } else if (roll < 0.64) {
        assert.equal(map.delete(key), reference.delete(key), `delete(${key}) at step ${step}`);
      } else if (roll < 0.74) {
        const expected = reference.get(key) ?? value;
        reference.set(key, expected);
        assert.equal(map.getOrSet(key, value), expected, `getOrSet(${key}) at step ${step}`);
      } else if (roll < 0.84) {
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
        assert.deepEqual(contents(map), reference, `forEach at step ${step}`);
      }
    }
    const stats = map.stats();
    assert.equal(stats.entries, reference.size);
    assert.equal(stats.hashBits, hashBits);
    assert.equal(stats.retries, 0, 'one thread never finds its slot changed under it');
    if (hashBits === 32) assert.equal(stats.overflowInserts, 0, 'the full hash is a bijection: no two keys collide');
    else assert.ok(stats.overflowInserts > 100 && stats.overflowEntries > 0, `chains formed: ${JSON.stringify(stats)}`);
    if (hashBits > 4)
      assert.ok(stats.expansions > 10 && stats.nodesPruned > 0, `the trie grew and shrank: ${JSON.stringify(stats)}`);
  });
}

test('hashtrie is registered in the map registry, after readdirty', () => {
  assert.equal(getMapFactory('hashtrie'), hashTrieMapFactory);
  assert.equal(hashTrieMapFactory.shared, true);
  assert.equal(hashTrieMapFactory.safeForConcurrentWrites, true);
});

test('with no hash bits every key lives in one overflow chain hanging from the root, newest first', () => {
  const map = newMap(narrowHashTrieFactory(0));
  for (let key = 0; key < 10; key++) map.set(key, key * 10);
  let stats = map.stats();
  assert.deepEqual(
    {
      nodes: stats.nodes,
      depth: stats.depth,
      overflowEntries: stats.overflowEntries,
      maxProbeLength: stats.maxProbeLength,
    },
    { nodes: 1, depth: 1, overflowEntries: 9, maxProbeLength: 11 },
    'the root, then a chain of 10',
  );
  assert.deepEqual([...contents(map).keys()], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], 'keys join a chain at its head');
  // Mid-chain, head and tail: swap, compareAndSwap, delete.
  map.set(5, 55);
  assert.equal(map.compareAndSet(3, 30, 33), true);
  assert.equal(map.compareAndSet(3, 30, 34), false);
  assert.equal(map.delete(6), true);
  assert.equal(map.delete(9), true);
  assert.equal(map.delete(0), true);
  assert.equal(map.delete(0), false);
  assert.equal(map.add(4, 1), 41);
  assert.deepEqual(
    [...contents(map)],
    [
      [8, 80],
      [7, 70],
      [5, 55],
      [4, 41],
      [3, 33],
      [2, 20],
      [1, 10],
    ],
    'a replaced entry keeps its place in the chain',
  );
  stats = map.stats();
  assert.equal(stats.overflowEntries, 6);
  for (const key of [9, 8, 7, 6, 5]) map.delete(key);
  for (const key of [4, 3, 2, 1]) map.delete(key);
  assert.equal(map.stats().entries, 0);
  assert.equal(map.get(1), undefined);
});

test('expand moves a whole chain into a new node when a key with another hash arrives', () => {
  const factory = narrowHashTrieFactory(8);
  const map = newMap(factory);
  // Keys whose top 8 hash bits agree share one full (narrowed) hash: find three, and one that differs only below the root digit.
  const mask = 0xff000000 | 0;
  const byHash = new Map<number, number[]>();
  for (let key = 0; key < 5000; key++) {
    const hash = hashKey(key) & mask;
    byHash.set(hash, [...(byHash.get(hash) ?? []), key]);
  }
  const [hash, chain] = [...byHash].find(([, keys]) => keys.length >= 3) as [number, number[]];
  const sibling = [...byHash].find(([other]) => other >>> 28 === hash >>> 28 && other !== hash)?.[1][0] as number;
  for (const key of chain.slice(0, 3)) map.set(key, key);
  let stats = map.stats();
  assert.deepEqual(
    { nodes: stats.nodes, overflowEntries: stats.overflowEntries, expansions: stats.expansions },
    { nodes: 1, overflowEntries: 2, expansions: 0 },
  );
  map.set(sibling, -1);
  stats = map.stats();
  assert.deepEqual(
    { nodes: stats.nodes, depth: stats.depth, overflowEntries: stats.overflowEntries, expansions: stats.expansions },
    { nodes: 2, depth: 2, overflowEntries: 2, expansions: 1 },
    'one new node tells the hashes apart at the second digit',
  );
  for (const key of chain.slice(0, 3)) assert.equal(map.get(key), key);
  assert.equal(map.get(sibling), -1);
  assert.equal(map.delete(sibling), true);
  assert.equal(map.stats().nodes, 2, 'the node still holds the chain: not pruned');
});

test('deleting every key prunes every node but the root, and the pruned nodes are reclaimed after a quiescent point', () => {
  const map = newMap();
  for (let key = 0; key < 2000; key++) map.set(key, key);
  let stats = map.stats();
  assert.ok(stats.nodes > 100 && stats.depth >= 3, `a deep trie: ${stats.nodes} nodes, depth ${stats.depth}`);
  assert.equal(stats.slots, CHILDREN * stats.nodes);
  assert.equal(stats.resizes, stats.expansions);
  assert.equal(stats.expansions, stats.nodes - 1, 'every node but the root came from expand');
  for (let key = 0; key < 2000; key++) assert.equal(map.delete(key), true);
  stats = map.stats();
  assert.deepEqual(
    { nodes: stats.nodes, depth: stats.depth, entries: stats.entries },
    { nodes: 1, depth: 1, entries: 0 },
  );
  assert.equal(stats.nodesPruned, stats.expansions, 'Go prunes a node as soon as it is empty');
  map.quiesce?.();
  stats = map.stats();
  assert.equal(stats.nodesReclaimed, stats.nodesPruned);
  assert.equal(stats.entriesReclaimed, stats.entriesRetired);
  assert.equal(stats.itemsAwaitingReclamation, 0);
  assert.equal(stats.bytesAwaitingReclamation, 0);
  const slots = stats.entrySlots;
  for (let key = 0; key < 2000; key++) map.set(key, -key - 1);
  assert.equal(map.stats().entrySlots, slots, 'new keys reuse the reclaimed entries');
  for (let key = 0; key < 2000; key++) assert.equal(map.get(key), -key - 1);
});

test('reads, hits of getOrSet and failed conditional writes take no lock; a store locks exactly one node', () => {
  const map = newMap();
  for (let key = 0; key < 500; key++) map.set(key, key);
  let before = map.stats();
  for (let key = 0; key < 1000; key++) assert.equal(map.get(key), key < 500 ? key : undefined);
  for (let key = 0; key < 500; key++) assert.equal(map.getOrSet(key, -1), key);
  for (let key = 0; key < 500; key++) assert.equal(map.compareAndSet(key, key + 1, 0), false);
  for (let key = 500; key < 600; key++) assert.equal(map.delete(key), false);
  assert.deepEqual(delta(before, map.stats(), ['lockAcquisitions', 'retries']), { lockAcquisitions: 0, retries: 0 });
  before = map.stats();
  map.set(7, 70); // an existing key: a new entry in its slot
  map.set(10_000, 1); // a new key
  assert.equal(map.compareAndSet(7, 70, 71), true);
  assert.equal(map.add(8, 1), 9);
  assert.deepEqual(
    delta(before, map.stats(), ['lockAcquisitions', 'entriesRetired']),
    { lockAcquisitions: 4, entriesRetired: 3 },
    "a store of an existing key replaces its entry, as Go's swap does",
  );
});

test('add: an out-of-range result throws RangeError and changes nothing, in a slot and in a chain', () => {
  for (const factory of [hashTrieMapFactory, narrowHashTrieFactory(0)]) {
    const map = newMap(factory);
    map.set(1, 1);
    map.set(5, MAX_VALUE);
    map.set(6, MIN_VALUE);
    const before = map.stats();
    assert.throws(() => map.add(5, 1), /add\(5, 1\) would store 2147483648/);
    assert.throws(() => map.add(6, -1), RangeError);
    assert.throws(() => map.add(200, RESERVED_VALUE_BASE), RangeError);
    assert.deepEqual(delta(before, map.stats(), ['entriesRetired', 'entries', 'expansions', 'overflowInserts']), {
      entriesRetired: 0,
      entries: 0,
      expansions: 0,
      overflowInserts: 0,
    });
    assert.deepEqual([map.get(5), map.get(6), map.get(200)], [MAX_VALUE, MIN_VALUE, undefined]);
    assert.equal(map.add(5, -3), MAX_VALUE - 3, 'the node lock was released');
  }
});

test('quiesce() inside a forEach callback is ignored: entries deleted during the walk stay unreclaimed until it ends', () => {
  const map = newMap();
  for (let key = 0; key < 300; key++) map.set(key, key);
  map.quiesce?.();
  let pendingInside = -1;
  map.forEach((key) => {
    if (key !== 0 && pendingInside >= 0) return;
    for (let other = 100; other < 300; other++) map.delete(other); // ≥ one retire batch
    for (let i = 0; i < 3 * QUIESCENT_INTERVAL_OPS; i++) map.get(i % 100); // would pass quiescent points
    map.quiesce?.();
    pendingInside = map.stats().itemsAwaitingReclamation;
  });
  assert.ok(pendingInside > 0, 'the deleted entries were still awaiting reclamation inside the walk');
  map.quiesce?.();
  const stats = map.stats();
  assert.equal(stats.itemsAwaitingReclamation, 0, 'reclaimed once the walk ended and the thread went idle');
  assert.equal(stats.entries, 100);
});

test('memory stays bounded under indefinite churn of new keys and deletes on one thread', () => {
  const window = 2000;
  const map = newMap();
  let measuredAtWarmup = 0;
  const steps = 200_000;
  for (let step = 0; step < steps; step++) {
    map.set(step, step);
    assert.equal(map.get(step), step);
    if (step >= window) assert.equal(map.delete(step - window), true);
    if (step === steps / 10) measuredAtWarmup = map.stats().bytes;
  }
  const stats = map.stats();
  assert.equal(stats.entries, window);
  assert.ok(
    stats.entriesReclaimed > steps - 2 * window && stats.nodesReclaimed > 0.9 * stats.nodesPruned,
    `churn went through many reclamations: ${JSON.stringify(stats)}`,
  );
  assert.ok(
    stats.peakBytesInUse <= 1.5 * measuredAtWarmup,
    `peak ${stats.peakBytesInUse} bytes stays within 1.5× the ${measuredAtWarmup} bytes in use after warm-up`,
  );
  assert.ok(
    stats.entrySlots <= window + 2 * LOCAL_FREE_MAX + 512,
    `entry slots are reused (${stats.entrySlots} carved for ${steps} keys)`,
  );
  map.quiesce?.();
  assert.equal(map.stats().bytesAwaitingReclamation, 0);
});

test('narrowHashTrieFactory rejects hash widths outside 0..32; its maps refuse plain hashtrie handles', () => {
  for (const bits of [-1, 33, 1.5, Number.NaN]) {
    assert.throws(() => narrowHashTrieFactory(bits), /hashBits must be an integer 0\.\.32, got /);
  }
  const narrow = narrowHashTrieFactory(3);
  assert.equal(narrow.name, 'hashtrie-hash3');
  assert.throws(
    () => narrow.attach(hashTrieMapFactory.create({ maxBytes: 4 * MiB })),
    /created by 'hashtrie', not 'hashtrie-hash3'/,
  );
});

test('attach on the same thread returns the one view of that map; a handle without its id is refused', () => {
  const handle = hashTrieMapFactory.create({ maxBytes: 4 * MiB });
  const first = hashTrieMapFactory.attach(handle);
  assert.equal(hashTrieMapFactory.attach(handle), first);
  assert.notEqual(hashTrieMapFactory.attach(hashTrieMapFactory.create({ maxBytes: 4 * MiB })), first);
  assert.throws(() => hashTrieMapFactory.attach({ ...handle, id: undefined }), /handle\.id must be the string/);
});

test('a forEach nested in a forEach callback walks the whole trie, and the outer walk then continues where it was', () => {
  const map = newMap();
  for (let key = 0; key < 700; key++) map.set(key, key);
  let outer = 0;
  let inner = 0;
  map.forEach((key) => {
    outer++;
    if (key % 100 === 0)
      map.forEach(() => {
        inner++;
      });
  });
  assert.equal(outer, 700);
  assert.equal(inner, 7 * 700);
});
