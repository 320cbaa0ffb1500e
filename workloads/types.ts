/**
 * Workloads are data, not code: a mix of operations, a key distribution, a
 * key-space size and a prefill fraction (../shared/DESIGN.md, "Workloads").
 * The harness turns one into per-worker op streams, pre-generated from
 * (seed, worker index) outside the timed window.
 */

/** Operation codes as stored in an op stream (one byte per op). */
export const Op = {
  get: 0,
  set: 1,
  delete: 2,
  getOrSet: 3,
  add: 4,
  forEach: 5,
  compareAndSet: 6,
} as const;
export type OpName = keyof typeof Op;
export type OpCode = (typeof Op)[OpName];
export const OP_NAMES = Object.keys(Op) as OpName[];

/** Fractions of each operation; they sum to 1 (within 1e-9). Missing ops are 0. */
export type Mix = Partial<Record<OpName, number>>;

export type DistributionName = 'uniform' | 'zipfian' | 'hotspot' | 'latest' | 'sequential-insert';
export const DISTRIBUTION_NAMES: readonly DistributionName[] = [
  'uniform',
  'zipfian',
  'hotspot',
  'latest',
  'sequential-insert',
];

/**
 * Which keys ops touch (workloads/distributions.ts has the details):
 * - uniform, zipfian (scrambled), hotspot: every op draws from [0, keys).
 * - latest (YCSB D): set and getOrSet insert fresh keys above the key space;
 *   every other op draws a zipfian rank back from the newest inserted key.
 * - sequential-insert: set and getOrSet insert fresh keys, disjoint per
 *   worker (keys + n × workerCount + workerIndex); every other op picks
 *   uniformly among the keys known to exist (prefill and own inserts).
 */
export interface Distribution {
  kind: DistributionName;
  /** zipfian: skew θ, default 0.99 (YCSB), scrambled. */
  theta?: number;
  /** hotspot: fraction of keys that are hot, default 0.2. */
  hotKeyFraction?: number;
  /** hotspot: fraction of ops that go to hot keys, default 0.8. */
  hotOpFraction?: number;
}

export interface Workload {
  name: string;
  description: string;
  mix: Mix;
  distribution: Distribution;
  /** Key-space size (distinct keys ops are drawn from), integer ≥ 1. */
  keys: number;
  /** Fraction of the key space inserted before measuring, 0..1. */
  prefill: number;
  /**
   * Optional named op pattern for scenarios a mix cannot express (Go's sync
   * benchmarks: adversarial alloc/delete, unique stores…). Still data: a name
   * and numbers the generator interprets.
   */
  pattern?: { kind: string; [parameter: string]: number | string };
  /**
   * true when the key space is part of the scenario's definition (Go's
   * single-key collisions, fresh-key-only streams): withKeySpace (the --keys
   * override) leaves such a workload unchanged.
   */
  fixedKeySpace?: boolean;
}

/** One worker's pre-generated operations; index i is op i of the stream. */
export interface OpStream {
  /** OpCode per op. */
  ops: Uint8Array;
  /** Key per op (ignored by forEach). */
  keys: Int32Array;
  /** Value for set/getOrSet, delta for add, new value for compareAndSet. */
  values: Int32Array;
  /** compareAndSet: expected value; otherwise unused. */
  expected: Int32Array;
  length: number;
}
