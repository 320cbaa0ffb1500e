import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADD_DELTA,
  generateOpStream,
  getWorkload,
  keyUpperBound,
  mapCapacity,
  Op,
  OP_NAMES,
  prefillEntries,
  workloadPresets,
  type OpStream,
  type Workload,
} from '../workloads/index.js';
import { ZipfianRanks, zeta } from '../workloads/distributions.js';
import { rwmutexMapFactory } from '../maps/rwmutex-map.js';

const SEED = 20240601;

function stream(workload: Workload, workerIndex = 0, workerCount = 1, length = 100_000, seed = SEED): OpStream {
  return generateOpStream(workload, { seed, workerIndex, workerCount, length });
}

function counts(values: ArrayLike<number>): Map<number, number> {
  const tally = new Map<number, number>();
  for (let i = 0; i < values.length; i++) tally.set(values[i], (tally.get(values[i]) ?? 0) + 1);
  return tally;
}

function custom(fields: Partial<Workload>): Workload {
  return {
    name: 'test',
    description: '',
    mix: { get: 1 },
    distribution: { kind: 'uniform' },
    keys: 1000,
    prefill: 0,
    ...fields,
  };
}

test('the observed op mix matches the configured mix within 1% over 10^5 ops', () => {
  for (const name of ['read-heavy', 'write-heavy', 'mixed', 'ycsb-a', 'ycsb-f', 'writes-5']) {
    const workload = getWorkload(name);
    const ops = counts(stream(workload, 1, 4).ops);
    for (const opName of OP_NAMES) {
      const observed = (ops.get(Op[opName]) ?? 0) / 100_000;
      const configured = workload.mix[opName] ?? 0;
      assert.ok(
        Math.abs(observed - configured) < 0.01,
        `${name} ${opName}: observed ${observed}, configured ${configured}`,
      );
    }
  }
});

test('an op with no share in the mix never appears', () => {
  const ops = counts(stream(getWorkload('read-heavy')).ops);
  assert.deepEqual([...ops.keys()].sort(), [Op.get, Op.set, Op.delete].sort());
});

test('the same seed and worker give byte-identical streams', () => {
  for (const name of ['mixed', 'ycsb-a', 'ycsb-d', 'go-adversarial-delete']) {
    const first = stream(getWorkload(name), 2, 4, 50_000);
    const second = stream(getWorkload(name), 2, 4, 50_000);
    assert.deepEqual(Buffer.from(first.ops.buffer), Buffer.from(second.ops.buffer), name);
    assert.deepEqual(Buffer.from(first.keys.buffer), Buffer.from(second.keys.buffer), name);
    assert.deepEqual(Buffer.from(first.values.buffer), Buffer.from(second.values.buffer), name);
    assert.deepEqual(Buffer.from(first.expected.buffer), Buffer.from(second.expected.buffer), name);
  }
});

test('other worker indices and other seeds give different streams', () => {
  const workload = getWorkload('mixed');
  const base = stream(workload, 0, 4, 10_000);
  for (const other of [stream(workload, 1, 4, 10_000), stream(workload, 0, 4, 10_000, SEED + 1)]) {
    let sameKeys = 0;
    for (let i = 0; i < base.length; i++) if (base.keys[i] === other.keys[i]) sameKeys++;
    // Independent uniform draws over 65 536 keys agree at ~1 position in 65 536.
    assert.ok(sameKeys < 20, `${sameKeys} of 10 000 keys equal`);
  }
});

test('every preset stream holds valid op codes, in-range keys, storable values and add delta 1', () => {
  const minValue = -(2 ** 31) + 8;
  for (const workload of workloadPresets) {
    const workerCount = 3;
    const length = 20_000;
    const bound = keyUpperBound(workload, { workerCount, length });
    for (let worker = 0; worker < workerCount; worker++) {
      const { ops, keys, values, expected } = stream(workload, worker, workerCount, length);
      for (let i = 0; i < length; i++) {
        assert.ok(ops[i] <= Op.compareAndSet, `${workload.name}: op ${ops[i]}`);
        assert.ok(
          Number.isInteger(keys[i]) && keys[i] >= 0 && keys[i] < bound,
          `${workload.name}: key ${keys[i]} (bound ${bound})`,
        );
        if (ops[i] === Op.set || ops[i] === Op.getOrSet || ops[i] === Op.compareAndSet) {
          assert.ok(values[i] >= minValue, `${workload.name}: value ${values[i]}`);
          assert.ok(values[i] >= 0 && values[i] < 1 << 22, `${workload.name}: value ${values[i]} leaves add headroom`);
        }
        if (ops[i] === Op.add) assert.equal(values[i], ADD_DELTA);
        if (ops[i] === Op.compareAndSet) assert.ok(expected[i] >= minValue);
      }
    }
  }
});

test('compareAndSet expects a value its key can hold and swaps in a different one', () => {
  const workload = custom({ mix: { set: 0.5, compareAndSet: 0.5 }, keys: 64, prefill: 1 });
  const { ops, keys, values, expected } = stream(workload, 0, 1, 20_000);
  const { keys: prefillKeys, values: prefillValues } = prefillEntries(workload, SEED);
  const possible = new Map<number, Set<number>>();
  for (let i = 0; i < prefillKeys.length; i++) possible.set(prefillKeys[i], new Set([prefillValues[i]]));
  for (let i = 0; i < ops.length; i++) if (ops[i] === Op.set) possible.get(keys[i])?.add(values[i]);
  for (let i = 0; i < ops.length; i++) {
    if (ops[i] !== Op.compareAndSet) continue;
    assert.ok(possible.get(keys[i])?.has(expected[i]), `expected ${expected[i]} was never stored at key ${keys[i]}`);
    assert.notEqual(values[i], expected[i]);
  }
});

test('zipfian: the hottest key gets 1/ζ(n, 0.99) of the ops, the next 1/(2^0.99 ζ)', () => {
  const keys = 65_536;
  let zetaN = 0;
  for (let k = 1; k <= keys; k++) zetaN += Math.pow(k, -0.99);
  const tally = [...counts(stream(getWorkload('ycsb-c'), 0, 1, 200_000).keys).values()].sort((a, b) => b - a);
  const hottest = tally[0] / 200_000;
  const second = tally[1] / 200_000;
  assert.ok(Math.abs(hottest - 1 / zetaN) < 0.003, `hottest share ${hottest}, theory ${1 / zetaN}`);
  assert.ok(Math.abs(second - 1 / (Math.pow(2, 0.99) * zetaN)) < 0.003, `second share ${second}`);
});

test('zipfian keys are scrambled: the hot keys are spread over the key space, not 0, 1, 2…', () => {
  const tally = [...counts(stream(getWorkload('ycsb-c'), 0, 1, 200_000).keys)].sort((a, b) => b[1] - a[1]);
  const hottest = tally.slice(0, 10).map(([key]) => key);
  assert.notDeepEqual(
    [...hottest].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.ok(Math.max(...hottest) - Math.min(...hottest) > 65_536 / 4, `hot keys ${hottest.join(', ')}`);
});

test('ζ(n, θ) past the exact terms (Euler–Maclaurin) matches the direct sum', () => {
  const n = 2 ** 22;
  let direct = 0;
  for (let k = 1; k <= n; k++) direct += Math.pow(k, -0.99);
  assert.ok(Math.abs(zeta(n, 0.99) - direct) / direct < 1e-9, `${zeta(n, 0.99)} vs ${direct}`);
});

test('zipfian past the exact table (2^24 keys) keeps the theoretical head and tail mass', () => {
  const n = 2 ** 24;
  const draws = 200_000;
  const { keys } = stream(custom({ distribution: { kind: 'zipfian' }, keys: n }), 0, 1, draws);
  // Which keys the tabulated ranks 0..2^20−2 scramble to; every other key is a tail rank.
  const scrambler = new ZipfianRanks(n, 0.99).scrambler;
  const headKeys = new Uint8Array(n);
  for (let rank = 0; rank < (1 << 20) - 1; rank++) headKeys[scrambler.scramble(rank)] = 1;
  let head = 0;
  for (let i = 0; i < draws; i++) head += headKeys[keys[i]];
  const theory = zeta((1 << 20) - 1, 0.99) / zeta(n, 0.99);
  assert.ok(Math.abs(head / draws - theory) < 0.005, `head share ${head / draws}, theory ${theory}`);
  assert.ok(head < draws, 'some draws land in the tail');
});

test('the key scramble is a bijection of the key space', () => {
  for (const n of [1, 2, 3, 1000, 65_536, 100_003]) {
    const scrambler = new ZipfianRanks(n, 0.99).scrambler;
    const seen = new Uint8Array(n);
    for (let index = 0; index < n; index++) seen[scrambler.scramble(index)]++;
    assert.ok(
      seen.every((hits) => hits === 1),
      `n = ${n}`,
    );
  }
});

test('hotspot sends ~80% of ops to ~20% of the keys (±2%), scattered over the key space', () => {
  const keys = 1000;
  const draws = 200_000;
  const tally = [...counts(stream(custom({ distribution: { kind: 'hotspot' }, keys }), 0, 1, draws).keys)].sort(
    (a, b) => b[1] - a[1],
  );
  const hot = tally.slice(0, keys * 0.2);
  const hotShare = hot.reduce((sum, [, count]) => sum + count, 0) / draws;
  assert.ok(Math.abs(hotShare - 0.8) < 0.02, `hot share ${hotShare}`);
  // Hot keys are spread: not the lowest 200 keys.
  assert.ok(hot.filter(([key]) => key < 200).length < 100);
});

test('hotspot honours custom fractions', () => {
  const keys = 1000;
  const draws = 200_000;
  const workload = custom({ distribution: { kind: 'hotspot', hotKeyFraction: 0.05, hotOpFraction: 0.5 }, keys });
  const tally = [...counts(stream(workload, 0, 1, draws).keys).values()].sort((a, b) => b - a);
  const hotShare = tally.slice(0, 50).reduce((sum, count) => sum + count, 0) / draws;
  assert.ok(Math.abs(hotShare - 0.5) < 0.02, `hot share ${hotShare}`);
});

test('sequential-insert: inserted keys are unique across workers and disjoint from the prefill', () => {
  const workload = custom({
    mix: { set: 0.4, getOrSet: 0.1, get: 0.4, delete: 0.1 },
    distribution: { kind: 'sequential-insert' },
    keys: 1000,
    prefill: 0.5,
  });
  const prefill = new Set(prefillEntries(workload, SEED).keys);
  const inserted = new Set<number>();
  let inserts = 0;
  const workerCount = 4;
  for (let worker = 0; worker < workerCount; worker++) {
    const { ops, keys } = stream(workload, worker, workerCount, 20_000);
    const ownInserts = new Set<number>();
    for (let i = 0; i < ops.length; i++) {
      if (ops[i] === Op.set || ops[i] === Op.getOrSet) {
        inserts++;
        inserted.add(keys[i]);
        ownInserts.add(keys[i]);
        assert.ok(!prefill.has(keys[i]) && keys[i] >= workload.keys, `insert of ${keys[i]}`);
      } else {
        // Reads and deletes pick keys known to exist: prefilled or inserted earlier by this worker.
        assert.ok(prefill.has(keys[i]) || ownInserts.has(keys[i]), `read of unknown key ${keys[i]}`);
      }
    }
  }
  assert.equal(inserted.size, inserts);
});

test('latest: inserts take fresh keys and reads skew to the newest keys', () => {
  const workload = getWorkload('ycsb-d');
  const { ops, keys } = stream(workload, 0, 1, 100_000);
  let reads = 0;
  let recentReads = 0;
  let newestInsert = workload.keys - 1;
  let previousInsert = -1;
  for (let i = 0; i < ops.length; i++) {
    if (ops[i] === Op.set) {
      assert.ok(keys[i] > previousInsert && keys[i] >= workload.keys, `insert ${keys[i]}`);
      previousInsert = keys[i];
      newestInsert = keys[i];
      continue;
    }
    reads++;
    assert.ok(keys[i] <= newestInsert, `read of ${keys[i]} beyond the newest insert ${newestInsert}`);
    // In insertion order, keys above the key space follow key 65 535.
    const age =
      keys[i] >= workload.keys
        ? newestInsert - keys[i]
        : newestInsert - workload.keys + 1 + (workload.keys - 1 - keys[i]);
    if (age < 10) recentReads++;
  }
  // Zipf θ=0.99 over 65 536 ranks puts ζ(10)/ζ(65 536) ≈ 26% of reads on the 10 newest keys.
  const theory = zeta(10, 0.99) / zeta(65_536, 0.99);
  assert.ok(
    Math.abs(recentReads / reads - theory) < 0.01,
    `${recentReads / reads} of reads on the 10 newest keys, theory ${theory}`,
  );
});

test('prefill covers round(prefill × keys) keys of the key space, in a seeded order', () => {
  const workload = getWorkload('read-heavy');
  const { keys, values } = prefillEntries(workload, SEED);
  assert.equal(keys.length, Math.round(0.9 * 65_536));
  assert.deepEqual(
    [...keys].sort((a, b) => a - b),
    Array.from({ length: keys.length }, (_, key) => key),
  );
  assert.notDeepEqual([...keys.slice(0, 10)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(prefillEntries(workload, SEED).keys, keys);
  assert.ok(values.every((value) => value >= 0 && value < 1 << 22));
});

test('at prefill 1.0 every get hits; at 0.9 about 90% do', () => {
  for (const [name, hitRatio] of [
    ['ycsb-c', 1],
    ['writes-10', 1],
    ['read-heavy', 0.9],
  ] as const) {
    const workload = getWorkload(name);
    const present = new Set(prefillEntries(workload, SEED).keys);
    const { ops, keys } = stream(workload);
    let gets = 0;
    let hits = 0;
    for (let i = 0; i < ops.length; i++) {
      if (ops[i] !== Op.get) continue;
      gets++;
      if (present.has(keys[i])) hits++;
    }
    assert.ok(Math.abs(hits / gets - hitRatio) < 0.01, `${name}: ${hits / gets}`);
  }
});

test('map capacity covers the steady state of a mix plus 4σ, and the prefill where nothing inserts', () => {
  // read-heavy: 9% set, 1% delete → p = 0.9, σ = √(65536 × 0.9 × 0.1) ≈ 76.8.
  assert.equal(mapCapacity(getWorkload('read-heavy')), Math.ceil(0.9 * 65_536 + 4 * Math.sqrt(65_536 * 0.09)));
  // write-heavy settles at 8/9 of the keys, below its 0.9 prefill: the prefill bounds it.
  const writeHeavy = getWorkload('write-heavy');
  assert.ok(mapCapacity(writeHeavy) > Math.round(0.9 * 65_536));
  assert.ok(mapCapacity(writeHeavy) < Math.round(0.9 * 65_536) + 4 * 81);
  assert.equal(mapCapacity(custom({ mix: { get: 1 }, prefill: 0.5 })), 500, 'nothing inserts: the prefill');
  assert.equal(mapCapacity(custom({ mix: { get: 0.5, set: 0.5 }, prefill: 0.5 })), 1000, 'no deletes: every key');
  assert.equal(mapCapacity(custom({ mix: { get: 1 }, prefill: 0 })), 1, 'never 0');
  const churn = getWorkload('churn-10');
  assert.equal(mapCapacity(churn), Math.round(churn.prefill * churn.keys), 'a pattern keeps the prefill count');
});

test('a table sized by mapCapacity runs read-heavy at its load factor without growing; sized for the prefill it grows', () => {
  const workload = getWorkload('read-heavy');
  const prefill = prefillEntries(workload, SEED);
  const { ops, keys, values } = stream(workload, 0, 1, 1 << 20);
  const run = (capacity: number): Record<string, number> => {
    const map = rwmutexMapFactory.attach(rwmutexMapFactory.create({ capacity, loadFactor: 0.75 }));
    for (let i = 0; i < prefill.keys.length; i++) map.set(prefill.keys[i], prefill.values[i]);
    for (let i = 0; i < ops.length; i++) {
      if (ops[i] === Op.set) map.set(keys[i], values[i]);
      else if (ops[i] === Op.delete) map.delete(keys[i]);
    }
    return map.stats();
  };
  const sized = run(mapCapacity(workload));
  assert.equal(sized.resizes, 0);
  const load = sized.entries / sized.slots;
  assert.ok(load > 0.73 && load <= 0.75, `occupancy ${load}`);
  const tight = run(prefillEntries(workload, SEED).keys.length);
  assert.ok(tight.resizes >= 1, 'sized for the prefill, the steady state passes the threshold');
  assert.ok(tight.entries / tight.slots < 0.4, `occupancy ${tight.entries / tight.slots}`);
});

test('bad stream options name the parameter and its range', () => {
  const workload = getWorkload('mixed');
  assert.throws(() => generateOpStream(workload, { seed: SEED, workerIndex: 4, workerCount: 4, length: 10 }), {
    name: 'RangeError',
    message: 'workerIndex must be an integer 0..3 (workerCount − 1), got 4',
  });
  assert.throws(
    () => generateOpStream(workload, { seed: SEED, workerIndex: 0, workerCount: 1, length: 0 }),
    /^RangeError: length must be an integer 1\.\.134217728 \(ops\), got 0$/,
  );
  assert.throws(
    () => generateOpStream(workload, { seed: 1.5, workerIndex: 0, workerCount: 1, length: 10 }),
    /^RangeError: seed must be a safe integer, got 1.5$/,
  );
});

test('fresh keys that would pass 2^31−1 are refused before generating', () => {
  const workload = custom({ mix: { set: 1 }, distribution: { kind: 'sequential-insert' }, keys: 2 ** 31 - 100 });
  assert.throws(
    () => generateOpStream(workload, { seed: SEED, workerIndex: 0, workerCount: 2, length: 100 }),
    /workload 'test': 2 workers × 100 ops of fresh keys above a key space of 2147483548 would pass the largest key 2\^31−1/,
  );
});

test('prefill entries can live on SharedArrayBuffers', () => {
  const shared = prefillEntries(getWorkload('mixed'), SEED, { shared: true });
  assert.ok(shared.keys.buffer instanceof SharedArrayBuffer && shared.values.buffer instanceof SharedArrayBuffer);
  assert.deepEqual(shared.keys, prefillEntries(getWorkload('mixed'), SEED).keys);
});

test('a stream can live on SharedArrayBuffers', () => {
  const shared = generateOpStream(getWorkload('mixed'), {
    seed: SEED,
    workerIndex: 0,
    workerCount: 1,
    length: 1000,
    shared: true,
  });
  assert.ok(shared.keys.buffer instanceof SharedArrayBuffer && shared.ops.buffer instanceof SharedArrayBuffer);
  assert.deepEqual(
    shared.keys,
    generateOpStream(getWorkload('mixed'), { seed: SEED, workerIndex: 0, workerCount: 1, length: 1000 }).keys,
  );
});

test('churn-N: writes alternate fresh inserts and deletes of present keys, so the size stays put and gets hit', () => {
  for (const percent of [10, 50]) {
    const workload = getWorkload(`churn-${percent}`);
    const workers = 2;
    const length = 40_000;
    const streams = Array.from({ length: workers }, (_, w) => stream(workload, w, workers, length));
    const present = new Set(prefillEntries(workload, SEED).keys);
    const prefilled = present.size;
    let writes = 0,
      inserts = 0,
      deleteHits = 0,
      deletes = 0,
      gets = 0,
      getHits = 0,
      maxDrift = 0;
    // Workers run in lock step: what concurrent workers at equal speed do.
    for (let i = 0; i < length; i++) {
      for (const { ops, keys } of streams) {
        const key = keys[i];
        if (ops[i] === Op.get) {
          gets++;
          if (present.has(key)) getHits++;
          continue;
        }
        writes++;
        if (ops[i] === Op.set) {
          assert.ok(!present.has(key), `churn-${percent}: insert of a key already present (${key})`);
          inserts++;
          present.add(key);
        } else {
          assert.equal(ops[i], Op.delete);
          deletes++;
          if (present.delete(key)) deleteHits++;
        }
      }
      maxDrift = Math.max(maxDrift, Math.abs(present.size - prefilled));
    }
    const fraction = writes / (workers * length);
    assert.ok(Math.abs(fraction - percent / 100) < 0.01, `churn-${percent}: write fraction ${fraction}`);
    assert.ok(Math.abs(inserts - deletes) <= workers, `inserts ${inserts} vs deletes ${deletes}`);
    assert.equal(deleteHits, deletes, 'every delete removes a present key');
    assert.ok(maxDrift <= workers, `size drifted by ${maxDrift}`);
    assert.ok(getHits / gets > 0.99, `churn-${percent}: get hit ratio ${getHits / gets}`);
  }
});

test('churn-0 is all gets of present keys', () => {
  const { ops } = stream(getWorkload('churn-0'), 0, 2, 10_000);
  assert.ok(ops.every((op) => op === Op.get));
});
