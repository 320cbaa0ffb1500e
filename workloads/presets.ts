/**
 * The preset registry: every named workload, in the order help text and
 * reports list them. Presets are frozen; withKeySpace and friends copy.
 *
 * Families:
 * - headline: read-heavy, write-heavy, mixed — uniform over 65 536 keys.
 * - YCSB core workloads A–F (Cooper et al., SoCC 2010), E omitted (below).
 * - Go's sync.Map benchmarks (src/sync/map_bench_test.go), one per scenario.
 * - writes-N: the write-fraction sweep of updates to present keys.
 * - churn-N: the write-fraction sweep where writes insert new keys and delete
 *   old ones (equal rates, size stationary): where read/dirty loses.
 */
import { WorkloadError } from './errors.js';
import type { Mix, Workload } from './types.js';

const HEADLINE_KEYS = 65_536;
/**
 * Headline prefill 0.9, not 0.75: under uniform set/delete a key is present
 * with probability set/(set + delete) in steady state, which is 0.9 for all
 * three headline mixes. Starting there keeps the map's size (and so its probe
 * lengths and resize count) stationary through the measured window instead of
 * drifting from 75 % to 90 % occupancy during it.
 */
const HEADLINE_PREFILL = 0.9;
/** YCSB loads every record before the run phase. */
const YCSB_KEYS = 65_536;
const YCSB_PREFILL = 1;
/** Go's Range and AdversarialDelete map size (mapSize = 1 << 10). */
const GO_MAP_SIZE = 1 << 10;
/** The op count the descriptive mix of go-adversarial-alloc is computed over. */
const ALLOC_MIX_OPS = 1_000_000;

function headline(name: string, mix: Mix, what: string): Workload {
  return {
    name,
    description: `${what}; uniform over ${HEADLINE_KEYS} keys, prefill ${HEADLINE_PREFILL}`,
    mix,
    distribution: { kind: 'uniform' },
    keys: HEADLINE_KEYS,
    prefill: HEADLINE_PREFILL,
  };
}

function ycsb(name: string, mix: Mix, what: string, kind: 'zipfian' | 'latest' = 'zipfian'): Workload {
  return {
    name,
    description: `YCSB ${what}; ${kind} θ=0.99 over ${YCSB_KEYS} keys, all loaded first`,
    mix,
    distribution: { kind, theta: 0.99 },
    keys: YCSB_KEYS,
    prefill: YCSB_PREFILL,
  };
}

function writes(percent: number): Workload {
  const writeFraction = percent / 100;
  return {
    name: `writes-${percent}`,
    description: `${percent}% set (updates of existing keys), rest get; uniform over ${HEADLINE_KEYS} keys, all present`,
    mix: percent === 0 ? { get: 1 } : { get: 1 - writeFraction, set: writeFraction },
    distribution: { kind: 'uniform' },
    keys: HEADLINE_KEYS,
    prefill: 1,
  };
}

/** The churn-N write fractions (percent). */
export const CHURN_PERCENTS = [0, 1, 2, 5, 10, 15, 25, 50] as const;

function churn(percent: number): Workload {
  const writeFraction = percent / 100;
  return {
    name: `churn-${percent}`,
    description:
      `${percent}% writes, alternately an insert of a new key and a delete of the oldest; ` +
      `rest get of present keys; ${HEADLINE_KEYS} keys present throughout`,
    mix: percent === 0 ? { get: 1 } : { get: 1 - writeFraction, set: writeFraction / 2, delete: writeFraction / 2 },
    distribution: { kind: 'uniform' },
    keys: HEADLINE_KEYS,
    prefill: 1,
    pattern: { kind: 'churn' },
  };
}

/**
 * The realized op fractions of go-adversarial-alloc over `ops` ops: one
 * getOrSet whenever loads since the last store exceed the stores so far, so
 * after s stores about s²/2 loads have run.
 */
function adversarialAllocMix(ops: number): Mix {
  // One round per store (O(√ops) rounds): stores + 1 loads, then the store if the stream has room.
  let stores = 0;
  let emitted = 0;
  while (emitted < ops) {
    const loads = Math.min(stores + 1, ops - emitted);
    emitted += loads;
    if (loads === stores + 1 && emitted < ops) {
      emitted++;
      stores++;
    }
  }
  return { get: (ops - stores) / ops, getOrSet: stores / ops };
}

const presetList: Workload[] = [
  headline('read-heavy', { get: 0.9, set: 0.09, delete: 0.01 }, '90% get, 9% set, 1% delete'),
  headline('write-heavy', { get: 0.1, set: 0.8, delete: 0.1 }, '10% get, 80% set, 10% delete'),
  headline('mixed', { get: 0.5, set: 0.45, delete: 0.05 }, '50% get, 45% set, 5% delete'),

  ycsb('ycsb-a', { get: 0.5, set: 0.5 }, 'A (update heavy): 50% read, 50% update'),
  ycsb('ycsb-b', { get: 0.95, set: 0.05 }, 'B (read mostly): 95% read, 5% update'),
  ycsb('ycsb-c', { get: 1 }, 'C (read only): 100% read'),
  ycsb('ycsb-d', { get: 0.95, set: 0.05 }, 'D (read latest): 95% read, 5% insert of new keys', 'latest'),
  ycsb('ycsb-f', { get: 0.5, add: 0.5 }, 'F (read-modify-write): 50% read, 50% read-modify-write as one atomic add'),

  // Go: BenchmarkLoadMostlyHits — hits, misses = 1023, 1; setup LoadOrStore(0..1022);
  // each goroutine Load(i % 1024) with i counting from id·b.N.
  {
    name: 'go-load-mostly-hits',
    description: 'Go LoadMostlyHits: get(i mod 1024) with keys 0..1022 present (1023 hits : 1 miss)',
    mix: { get: 1 },
    distribution: { kind: 'uniform' },
    keys: 1024,
    prefill: 1023 / 1024,
    pattern: { kind: 'cyclic' },
  },
  // Go: BenchmarkLoadMostlyMisses — hits, misses = 1, 1023; same loop.
  {
    name: 'go-load-mostly-misses',
    description: 'Go LoadMostlyMisses: get(i mod 1024) with only key 0 present (1 hit : 1023 misses)',
    mix: { get: 1 },
    distribution: { kind: 'uniform' },
    keys: 1024,
    prefill: 1 / 1024,
    pattern: { kind: 'cyclic' },
  },
  // Go: BenchmarkLoadOrStoreBalanced — hits, misses = 128, 128; j = i % 256;
  // j < 128 → LoadOrStore(j, i) (a load), else LoadOrStore(i, i) (a store of a new key).
  {
    name: 'go-load-or-store-balanced',
    description: 'Go LoadOrStoreBalanced: getOrSet, half on the 128 present keys, half on fresh keys',
    mix: { getOrSet: 1 },
    distribution: { kind: 'uniform' },
    keys: 256,
    prefill: 0.5,
    pattern: { kind: 'load-or-store-balanced' },
  },
  // Go: BenchmarkLoadOrStoreUnique — empty map; LoadOrStore(i, i), i unique per goroutine.
  {
    name: 'go-load-or-store-unique',
    description: 'Go LoadOrStoreUnique: getOrSet of a fresh key every op, empty map',
    mix: { getOrSet: 1 },
    distribution: { kind: 'sequential-insert' },
    keys: 1,
    prefill: 0,
    fixedKeySpace: true,
  },
  // Go: BenchmarkLoadOrStoreCollision — setup LoadOrStore(0, 0); every op LoadOrStore(0, 0).
  {
    name: 'go-load-or-store-collision',
    description: 'Go LoadOrStoreCollision: every op getOrSet(0) on the one present key',
    mix: { getOrSet: 1 },
    distribution: { kind: 'uniform' },
    keys: 1,
    prefill: 1,
    fixedKeySpace: true,
  },
  // Go: BenchmarkAdversarialAlloc — empty map; Load(i) each step, LoadOrStore(i, stores)
  // whenever loadsSinceStore exceeds stores. The mix below is what a 10^6-op stream realizes.
  {
    name: 'go-adversarial-alloc',
    description: 'Go AdversarialAlloc: get of fresh keys, a getOrSet right after each would-be promotion',
    mix: adversarialAllocMix(ALLOC_MIX_OPS),
    distribution: { kind: 'uniform' },
    keys: 1,
    prefill: 0,
    pattern: { kind: 'adversarial-alloc' },
    fixedKeySpace: true,
  },
  // Go: BenchmarkAdversarialDelete — Store(0..1023); each step Load(i); when i % 1024 == 0,
  // Range to the first key, Delete it and Store(i, i). The mix is the long-run ratio 1024:1:1.
  {
    name: 'go-adversarial-delete',
    description:
      'Go AdversarialDelete: get(i) on a 1024-key map; every 1024 steps delete a present key and set a new one',
    mix: { get: GO_MAP_SIZE / (GO_MAP_SIZE + 2), delete: 1 / (GO_MAP_SIZE + 2), set: 1 / (GO_MAP_SIZE + 2) },
    distribution: { kind: 'uniform' },
    keys: GO_MAP_SIZE,
    prefill: 1,
    pattern: { kind: 'adversarial-delete' },
  },
  // Go: BenchmarkDeleteCollision — setup LoadOrStore(0, 0); every op Delete(0) (all but the first miss).
  {
    name: 'go-delete-collision',
    description: 'Go DeleteCollision: every op delete(0); key 0 present at the start',
    mix: { delete: 1 },
    distribution: { kind: 'uniform' },
    keys: 1,
    prefill: 1,
    fixedKeySpace: true,
  },
  // Go: BenchmarkRange — Store(0..1023); every op a full Range.
  {
    name: 'go-range',
    description: 'Go Range: every op a full forEach over a 1024-key map',
    mix: { forEach: 1 },
    distribution: { kind: 'uniform' },
    keys: GO_MAP_SIZE,
    prefill: 1,
  },

  ...[0, 1, 5, 10, 15, 25, 50].map(writes),
  ...CHURN_PERCENTS.map(churn),
];

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const field of Object.values(value)) deepFreeze(field);
    Object.freeze(value);
  }
  return value;
}

/** Every preset, frozen, in the order help text and reports list them. */
export const workloadPresets: readonly Workload[] = deepFreeze(presetList);
export const workloadPresetNames: readonly string[] = Object.freeze(workloadPresets.map((preset) => preset.name));

/**
 * Workloads deliberately not provided, with the reason getWorkload gives.
 * YCSB E is 95% short range scans (up to 100 records in key order) and 5%
 * inserts. A hash map has no ordered range scan; the nearest op, forEach,
 * visits the whole map, so E would measure full-table iteration whose cost
 * grows with every insert — a different, non-stationary benchmark that would
 * dominate any sweep it is in. go-range measures forEach on a fixed 1024-key map.
 */
export const omittedWorkloads: Readonly<Record<string, string>> = Object.freeze({
  'ycsb-e':
    'YCSB E (95% range scan) is omitted: hash maps have no ordered scan, and a full forEach per op ' +
    'grows with every insert; use go-range for forEach cost',
});

/** The preset named `name`; a WorkloadError listing the allowed names otherwise. */
export function getWorkload(name: string): Workload {
  const preset = workloadPresets.find((candidate) => candidate.name === name);
  if (preset) return preset;
  const allowed = `allowed: ${workloadPresetNames.join(', ')}`;
  if (Object.hasOwn(omittedWorkloads, name))
    throw new WorkloadError(`workload '${name}': ${omittedWorkloads[name]}; ${allowed}`);
  throw new WorkloadError(`unknown workload '${name}'; ${allowed}`);
}
