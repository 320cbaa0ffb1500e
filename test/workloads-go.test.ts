/**
 * Each go-* preset's streams follow the loop of its Go counterpart in
 * src/sync/map_bench_test.go, where goroutine `id` counts i from id·b.N (here
 * worker w counts from w × length).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateOpStream, getWorkload, Op, prefillEntries, type OpStream } from '../workloads/index.js';

const SEED = 7;
const WORKERS = 4;
const LENGTH = 50_000;

function streams(name: string, length = LENGTH): OpStream[] {
  const workload = getWorkload(name);
  return Array.from({ length: WORKERS }, (_, workerIndex) =>
    generateOpStream(workload, { seed: SEED, workerIndex, workerCount: WORKERS, length }),
  );
}

function prefilled(name: string): Set<number> {
  return new Set(prefillEntries(getWorkload(name), SEED).keys);
}

function onlyOp(stream: OpStream, op: number): boolean {
  return stream.ops.every((code) => code === op);
}

test('go-load-mostly-hits: Load(i % 1024) against keys 0..1022 hits 1023 times in 1024', () => {
  const present = prefilled('go-load-mostly-hits');
  assert.deepEqual(
    [...present].sort((a, b) => a - b),
    Array.from({ length: 1023 }, (_, key) => key),
  );
  streams('go-load-mostly-hits').forEach((stream, worker) => {
    assert.ok(onlyOp(stream, Op.get));
    let misses = 0;
    for (let n = 0; n < stream.length; n++) {
      assert.equal(stream.keys[n], (worker * LENGTH + n) % 1024);
      if (!present.has(stream.keys[n])) misses++;
    }
    assert.ok(Math.abs(misses - stream.length / 1024) <= 1, `${misses} misses`);
  });
});

test('go-load-mostly-misses: Load(i % 1024) against key 0 alone hits once in 1024', () => {
  assert.deepEqual([...prefilled('go-load-mostly-misses')], [0]);
  for (const stream of streams('go-load-mostly-misses')) {
    assert.ok(onlyOp(stream, Op.get));
    const hits = stream.keys.filter((key) => key === 0).length;
    assert.ok(Math.abs(hits - stream.length / 1024) <= 1, `${hits} hits`);
  }
});

test('go-load-or-store-balanced: half loads of the 128 present keys, half stores of fresh keys', () => {
  const present = prefilled('go-load-or-store-balanced');
  assert.equal(present.size, 128);
  const stored = new Set<number>();
  streams('go-load-or-store-balanced').forEach((stream, worker) => {
    assert.ok(onlyOp(stream, Op.getOrSet));
    for (let n = 0; n < stream.length; n++) {
      const i = worker * LENGTH + n;
      const key = stream.keys[n];
      if (i % 256 < 128) {
        assert.equal(key, i % 256);
        assert.ok(present.has(key));
      } else {
        assert.equal(key, i);
        assert.ok(!present.has(key) && !stored.has(key), `key ${key} is not fresh`);
        stored.add(key);
      }
    }
  });
  // Workers' counters tile 0..WORKERS·LENGTH−1; each i with i % 256 ≥ 128 stores once.
  let expectedStores = 0;
  for (let i = 0; i < WORKERS * LENGTH; i++) if (i % 256 >= 128) expectedStores++;
  assert.equal(stored.size, expectedStores);
});

test('go-load-or-store-unique: every op a LoadOrStore of a key no one used before', () => {
  assert.equal(prefilled('go-load-or-store-unique').size, 0);
  const seen = new Set<number>();
  for (const stream of streams('go-load-or-store-unique')) {
    assert.ok(onlyOp(stream, Op.getOrSet));
    for (const key of stream.keys) seen.add(key);
  }
  assert.equal(seen.size, WORKERS * LENGTH);
});

test('go-load-or-store-collision: every op LoadOrStore(0) on the one present key', () => {
  assert.deepEqual([...prefilled('go-load-or-store-collision')], [0]);
  for (const stream of streams('go-load-or-store-collision')) {
    assert.ok(onlyOp(stream, Op.getOrSet));
    assert.ok(stream.keys.every((key) => key === 0));
  }
});

test('go-adversarial-alloc: Load(i) each step, LoadOrStore(i) once loads since the last store exceed the stores', () => {
  assert.equal(prefilled('go-adversarial-alloc').size, 0);
  streams('go-adversarial-alloc').forEach((stream, worker) => {
    let i = worker * LENGTH;
    let stores = 0;
    let loadsSinceStore = 0;
    for (let n = 0; n < stream.length; n++) {
      if (stream.ops[n] === Op.get) {
        assert.equal(stream.keys[n], i++, `op ${n}: loads walk i`);
        loadsSinceStore++;
        continue;
      }
      assert.equal(stream.ops[n], Op.getOrSet);
      assert.equal(stream.keys[n], stream.keys[n - 1], 'stores the key just loaded');
      assert.equal(loadsSinceStore, stores + 1, `store ${stores} after ${loadsSinceStore} loads`);
      stores++;
      loadsSinceStore = 0;
    }
    // s stores take s(s+1)/2 loads: ~√(2·50 000) ≈ 316.
    assert.ok(stores > 300 && stores < 330, `${stores} stores`);
  });
});

test('go-adversarial-delete: Load(i) each step; every 1024 steps delete a present key and store i', () => {
  const present = prefilled('go-adversarial-delete');
  assert.equal(present.size, 1024);
  const deletedByAnyone = new Set<number>();
  streams('go-adversarial-delete').forEach((stream, worker) => {
    let i = worker * LENGTH;
    const ownPresent = new Set([...present].filter((key) => key % WORKERS === worker));
    let deletes = 0;
    let stores = 0;
    for (let n = 0; n < stream.length; n++) {
      const { ops, keys } = stream;
      if (ops[n] === Op.get) {
        assert.equal(keys[n], i++);
        continue;
      }
      if (ops[n] === Op.delete) {
        assert.equal((i - 1) % 1024, 0, 'deletes follow the load of a multiple of 1024');
        assert.ok(ownPresent.delete(keys[n]), `deletes a key it knows is present, not ${keys[n]}`);
        assert.ok(!deletedByAnyone.has(keys[n]) || keys[n] === 0, `key ${keys[n]} deleted by two workers`);
        deletedByAnyone.add(keys[n]);
        deletes++;
        continue;
      }
      assert.equal(ops[n], Op.set);
      assert.equal(keys[n], i - 1, 'stores the key just loaded');
      ownPresent.add(keys[n]);
      stores++;
    }
    assert.ok(
      deletes >= 48 && Math.abs(deletes - stores) <= 1,
      `${deletes} deletes, ${stores} stores: the map keeps its size`,
    );
  });
});

test('go-delete-collision: every op Delete(0), key 0 present at the start', () => {
  assert.deepEqual([...prefilled('go-delete-collision')], [0]);
  for (const stream of streams('go-delete-collision')) {
    assert.ok(onlyOp(stream, Op.delete));
    assert.ok(stream.keys.every((key) => key === 0));
  }
});

test('go-range: every op a full Range over keys 0..1023', () => {
  assert.equal(prefilled('go-range').size, 1024);
  for (const stream of streams('go-range', 1000)) assert.ok(onlyOp(stream, Op.forEach));
});

test("a patterned preset's mix is the op mix its stream realizes (10^6 ops)", () => {
  for (const name of [
    'go-adversarial-alloc',
    'go-adversarial-delete',
    'go-load-or-store-balanced',
    'go-load-mostly-hits',
  ]) {
    const workload = getWorkload(name);
    const { ops } = generateOpStream(workload, { seed: SEED, workerIndex: 0, workerCount: 1, length: 1_000_000 });
    const tally = new Map<number, number>();
    for (const op of ops) tally.set(op, (tally.get(op) ?? 0) + 1);
    for (const [opName, fraction] of Object.entries(workload.mix)) {
      const observed = (tally.get(Op[opName as keyof typeof Op]) ?? 0) / ops.length;
      assert.ok(Math.abs(observed - fraction) < 0.0005, `${name} ${opName}: observed ${observed}, mix ${fraction}`);
    }
  }
});
