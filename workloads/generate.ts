/**
 * Op-stream generation: turns a workload into one worker's pre-generated ops,
 * keys and values, outside the timed window. The same (workload, seed,
 * workerIndex, workerCount, length) always gives byte-identical arrays;
 * another worker index gives an unrelated stream (random.ts: the seed and the
 * worker index are mixed through fmix32 into an sfc32 state).
 *
 * It runs in every trial, so it is written as a few tight passes over typed
 * arrays (ops, then keys with one loop per distribution, then values), each
 * loop monomorphic and free of unpredictable branches. Measured as CPU time
 * per op, best of 7 generateOpStream calls of 10^6 ops after a warm-up, Node
 * 20 on this machine kind (Xeon 2.1 GHz, 2 shared vCPUs, load average ~9 from
 * other work at the time), array allocation included:
 *   Go patterns and single-op presets          5–10 ns/op
 *   uniform headline mixes, writes-N           14–16 ns/op
 *   zipfian ycsb-c / ycsb-a, ycsb-b            14 / 23 ns/op
 *   ycsb-f (add: values-and-deltas pass)       28 ns/op
 *   ycsb-d (latest), hotspot, sequential-insert 50/50   25–29 ns/op
 *   zipfian over 2^24 keys (36 % of draws take the Math.pow tail)   59 ns/op
 * Before the branch-free rewrites (op lookup table, sign-mask alias coin,
 * typed-array PRNG state) the same presets cost 27–57 ns/op.
 *
 * Values: set/getOrSet/compareAndSet store valueFor(key, generation), a small
 * non-negative int32 (< 2^22) that every map accepts (never a reserved
 * sentinel) and that leaves 2^31 − 2^22 increments of headroom for add, whose
 * delta is always 1. compareAndSet expects one of the four values a key can
 * hold, so it succeeds about a quarter of the time on a key no add has touched.
 * Workloads without set/getOrSet/add/compareAndSet leave values 0, and
 * expected[] is filled only when the mix has add or compareAndSet.
 */
import { HotspotSlots, KeyScrambler, zipfianRanks, type ZipfianRanks } from './distributions.js';
import { fillOpsFromMix } from './mix-sampler.js';
import { fillPattern } from './patterns.js';
import { Sfc32, StreamPurpose } from './random.js';
import { Op, OP_NAMES, type OpStream, type Workload } from './types.js';
import {
  DEFAULT_HOT_KEY_FRACTION,
  DEFAULT_HOT_OP_FRACTION,
  DEFAULT_THETA,
  MAX_KEYS,
  validateWorkload,
} from './validate.js';

export interface StreamOptions {
  /** Run seed; any safe integer. */
  seed: number;
  /** This worker, 0..workerCount−1. */
  workerIndex: number;
  /** Workers running the workload together (integer ≥ 1); fresh keys are disjoint between them. */
  workerCount: number;
  /** Ops in the stream, integer 1..MAX_STREAM_LENGTH. */
  length: number;
  /** Allocate the arrays on SharedArrayBuffers (post to a worker without a copy); default false. */
  shared?: boolean;
}

/** 2^27 ops: 1.7 GB of arrays, more than any trial on this machine kind needs. */
export const MAX_STREAM_LENGTH = 2 ** 27;
/** Every value a stream stores is below this. */
export const MAX_STREAM_VALUE = 1 << 22;
/** add() delta in every stream. */
export const ADD_DELTA = 1;

/** The value a stream stores for `key`: ((key mod 2^20) × 4) + (generation mod 4), so 0 ≤ value < 2^22. */
export function valueFor(key: number, generation: number): number {
  return ((key & 0xfffff) << 2) | (generation & 3);
}

/** How many keys the prefill inserts: round(prefill × keys); they are keys 0..count−1. */
export function prefillCount(workload: Workload): number {
  return Math.round(workload.prefill * workload.keys);
}

/** Standard deviations of headroom `mapCapacity` leaves above the steady-state size. */
export const CAPACITY_HEADROOM_SIGMAS = 4;

/**
 * The capacity a cell creates its map with, so that a table sized at load
 * factor lf runs at about lf for the whole trial.
 *
 * A mix that inserts (set, getOrSet, add) and deletes at rates i and d leaves
 * each key it touches present with probability p = i / (i + d), so a uniform
 * stream settles at about p × keys entries, binomially spread (σ = √(keys ×
 * p × (1 − p))): read-heavy's 9% set / 1% delete settles at 0.9 × keys.
 * Sized for exactly that, a table sits on its growth threshold and doubles
 * when the count wanders a few entries past it, halving its load factor for
 * the rest of the trial — one map's "lf 0.75" cell ran at 0.375 while a
 * sharded map's shards, with headroom of their own, stayed near 0.72. So the
 * capacity is the larger of the prefill and the steady state, plus
 * CAPACITY_HEADROOM_SIGMAS σ (at most `keys`, which no such stream exceeds).
 * Skewed streams settle between the prefill and p × keys, so this bounds them
 * too. Patterns and streams of fresh keys keep the prefill count: their
 * growth is part of what they measure.
 */
export function mapCapacity(workload: Workload): number {
  const prefilled = Math.max(1, prefillCount(workload));
  if (workload.pattern !== undefined || insertsFreshKeys(workload)) return prefilled;
  const { set = 0, getOrSet = 0, add = 0, delete: remove = 0 } = workload.mix;
  const inserts = set + getOrSet + add;
  if (inserts + remove === 0) return prefilled;
  const present = inserts / (inserts + remove);
  const spread = Math.sqrt(workload.keys * present * (1 - present));
  const settled = Math.max(workload.prefill, present) * workload.keys;
  return Math.max(prefilled, Math.min(workload.keys, Math.ceil(settled + CAPACITY_HEADROOM_SIGMAS * spread)));
}

/**
 * Whether the stream inserts keys no one used before (sequential-insert,
 * latest, Go's unique/alloc/balanced/delete patterns). Replaying such a
 * stream turns its inserts into updates: size `length` to cover the whole
 * measured window, or accept that a replay measures something else.
 */
export function insertsFreshKeys(workload: Workload): boolean {
  const kind = workload.pattern?.kind;
  if (kind !== undefined) return kind !== 'cyclic';
  const insertOps = (workload.mix.set ?? 0) + (workload.mix.getOrSet ?? 0);
  return (
    insertOps > 0 && (workload.distribution.kind === 'latest' || workload.distribution.kind === 'sequential-insert')
  );
}

/**
 * Exclusive upper bound of the keys streams of this shape can touch: size a
 * map's capacity from it, and it must not pass 2^31 (keys are 0..2^31−1).
 */
export function keyUpperBound(workload: Workload, options: { workerCount: number; length: number }): number {
  const freshKeys = options.workerCount * options.length;
  const kind = workload.pattern?.kind;
  if (kind === 'churn') return workload.keys + freshKeys;
  if (kind !== undefined) return kind === 'cyclic' ? workload.keys : Math.max(workload.keys, freshKeys);
  if (insertsFreshKeys(workload)) return workload.keys + freshKeys;
  return workload.keys;
}

function checkStreamOptions(workload: Workload, options: StreamOptions): void {
  const { seed, workerIndex, workerCount, length } = options;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
  if (!Number.isInteger(workerCount) || workerCount < 1 || workerCount > 65536) {
    throw new RangeError(`workerCount must be an integer 1..65536, got ${String(workerCount)}`);
  }
  if (!Number.isInteger(workerIndex) || workerIndex < 0 || workerIndex >= workerCount) {
    throw new RangeError(
      `workerIndex must be an integer 0..${workerCount - 1} (workerCount − 1), got ${String(workerIndex)}`,
    );
  }
  if (!Number.isInteger(length) || length < 1 || length > MAX_STREAM_LENGTH) {
    throw new RangeError(`length must be an integer 1..${MAX_STREAM_LENGTH} (ops), got ${String(length)}`);
  }
  const bound = keyUpperBound(workload, options);
  if (bound > MAX_KEYS) {
    throw new RangeError(
      `workload '${workload.name}': ${workerCount} workers × ${length} ops of fresh keys above a key space of ` +
        `${workload.keys} would pass the largest key 2^31−1; shorten length or the key space`,
    );
  }
}

function allocateStream(length: number, shared: boolean): OpStream {
  const allocate = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  return {
    ops: new Uint8Array(allocate(length)),
    keys: new Int32Array(allocate(length * 4)),
    values: new Int32Array(allocate(length * 4)),
    expected: new Int32Array(allocate(length * 4)),
    length,
  };
}

/**
 * One worker's op stream. Deterministic in (workload, seed, workerIndex,
 * workerCount, length); validates the workload and the options first.
 */
export function generateOpStream(workload: Workload, options: StreamOptions): OpStream {
  validateWorkload(workload);
  checkStreamOptions(workload, options);
  const { seed, workerIndex, workerCount, length } = options;
  const random = Sfc32.fromSeed(seed, StreamPurpose.ops, workerIndex);
  const stream = allocateStream(length, options.shared ?? false);
  const prefilledKeys = prefillCount(workload);
  if (workload.pattern !== undefined) {
    fillPattern(stream, workload, { workerIndex, workerCount, prefilledKeys }, random);
  } else {
    fillOpsFromMix(stream.ops, workload.mix, random);
    fillKeys(stream, workload, { workerIndex, workerCount, prefilledKeys }, random);
  }
  fillValues(stream, workload, random);
  return stream;
}

interface KeyContext {
  workerIndex: number;
  workerCount: number;
  prefilledKeys: number;
}

function fillKeys(stream: OpStream, workload: Workload, context: KeyContext, random: Sfc32): void {
  const { distribution, keys: keySpace } = workload;
  switch (distribution.kind) {
    case 'uniform':
      fillUniformKeys(stream.keys, keySpace, random);
      return;
    case 'zipfian':
      fillZipfianKeys(stream.keys, zipfianRanks(keySpace, distribution.theta ?? DEFAULT_THETA), random);
      return;
    case 'hotspot': {
      const slots = new HotspotSlots(
        keySpace,
        distribution.hotKeyFraction ?? DEFAULT_HOT_KEY_FRACTION,
        distribution.hotOpFraction ?? DEFAULT_HOT_OP_FRACTION,
      );
      fillHotspotKeys(stream.keys, slots, new KeyScrambler(keySpace), random);
      return;
    }
    case 'latest':
      fillLatestKeys(stream, keySpace, zipfianRanks(keySpace, distribution.theta ?? DEFAULT_THETA), context, random);
      return;
    case 'sequential-insert':
      fillSequentialInsertKeys(stream, keySpace, context, random);
      return;
  }
}

function fillUniformKeys(keys: Int32Array, keySpace: number, random: Sfc32): void {
  for (let i = 0; i < keys.length; i++) keys[i] = random.nextBelow(keySpace);
}

function fillZipfianKeys(keys: Int32Array, ranks: ZipfianRanks, random: Sfc32): void {
  for (let i = 0; i < keys.length; i++) keys[i] = ranks.sampleKey(random);
}

function fillHotspotKeys(keys: Int32Array, slots: HotspotSlots, scrambler: KeyScrambler, random: Sfc32): void {
  for (let i = 0; i < keys.length; i++) keys[i] = scrambler.scramble(slots.sample(random));
}

function isInsert(op: number): boolean {
  return op === Op.set || op === Op.getOrSet;
}

/**
 * YCSB's SkewedLatestGenerator. Keys in insertion order: the prefill 0..P−1,
 * then fresh keys above the key space (worker w's n-th insert is
 * keys + n × workerCount + w). Inserts take the next fresh key; other ops read
 * a zipfian rank back from the newest insertion index, estimated as if every
 * worker inserted at this worker's rate (a read may precede a slower peer's
 * insert and miss, as a client racing other clients would).
 */
function fillLatestKeys(
  stream: OpStream,
  keySpace: number,
  ranks: ZipfianRanks,
  context: KeyContext,
  random: Sfc32,
): void {
  const { workerIndex, workerCount, prefilledKeys } = context;
  const { ops, keys } = stream;
  let ownInserts = 0;
  for (let i = 0; i < stream.length; i++) {
    if (isInsert(ops[i])) {
      keys[i] = keySpace + ownInserts * workerCount + workerIndex;
      ownInserts++;
      continue;
    }
    const newest = prefilledKeys - 1 + ownInserts * workerCount;
    const rank = ranks.sample(random);
    // Nothing inserted anywhere yet: read the first key that will be.
    const insertionIndex = newest < 0 ? 0 : rank <= newest ? newest - rank : rank % (newest + 1);
    keys[i] = insertionIndex < prefilledKeys ? insertionIndex : keySpace + (insertionIndex - prefilledKeys);
  }
}

/**
 * Inserts (set, getOrSet) take fresh keys keys + n × workerCount + w, disjoint
 * between workers and from the prefill; other ops pick uniformly among the
 * keys this worker knows exist (the prefill and its own inserts), or the next
 * fresh key (a miss) when there are none.
 */
function fillSequentialInsertKeys(stream: OpStream, keySpace: number, context: KeyContext, random: Sfc32): void {
  const { workerIndex, workerCount, prefilledKeys } = context;
  const { ops, keys } = stream;
  let ownInserts = 0;
  for (let i = 0; i < stream.length; i++) {
    if (isInsert(ops[i])) {
      keys[i] = keySpace + ownInserts * workerCount + workerIndex;
      ownInserts++;
      continue;
    }
    const known = prefilledKeys + ownInserts;
    if (known === 0) {
      keys[i] = keySpace + workerIndex;
      continue;
    }
    const pick = random.nextBelow(known);
    keys[i] = pick < prefilledKeys ? pick : keySpace + (pick - prefilledKeys) * workerCount + workerIndex;
  }
}

/**
 * Three bits per op choosing which of its key's values it stores: the top of a
 * Weyl sequence over the op index, offset per stream by one PRNG draw. About
 * 1 ns against ~3 ns for a PRNG draw per op, and spread enough for picking one
 * of four values (the values' only job is to be plausible).
 */
function generationBits(index: number, streamOffset: number): number {
  return (Math.imul(index, 0x9e3779b9) + streamOffset) >>> 29;
}

/** Values for a stream whose ops are get/set/delete/getOrSet/forEach; ops that take no value ignore theirs. */
function fillStoredValues(stream: OpStream, random: Sfc32): void {
  const { keys, values, length } = stream;
  const streamOffset = random.nextUint32();
  for (let i = 0; i < length; i++) values[i] = valueFor(keys[i], generationBits(i, streamOffset));
}

/** Per op code: whether values[] keeps the drawn value (all but add), add's delta, and whether it is a compareAndSet. */
const KEEP_DRAWN_VALUE = new Int32Array(OP_NAMES.length).fill(-1);
const DELTA = new Int32Array(OP_NAMES.length);
const IS_COMPARE_AND_SET = new Int32Array(OP_NAMES.length);
KEEP_DRAWN_VALUE[Op.add] = 0;
DELTA[Op.add] = ADD_DELTA;
IS_COMPARE_AND_SET[Op.compareAndSet] = 1;

/**
 * Values when the mix has add or compareAndSet. Branch-free over op codes
 * (lookup tables instead of a switch: in a random mix the op is unpredictable
 * and each mispredicted branch cost ~5 ns). compareAndSet's new value is one
 * or two generations past the expected one, so a successful swap changes it.
 */
function fillValuesAndDeltas(stream: OpStream, random: Sfc32): void {
  const { ops, keys, values, expected, length } = stream;
  const keepDrawnValue = KEEP_DRAWN_VALUE;
  const delta = DELTA;
  const isCompareAndSet = IS_COMPARE_AND_SET;
  const streamOffset = random.nextUint32();
  for (let i = 0; i < length; i++) {
    const op = ops[i];
    const key = keys[i];
    const bits = generationBits(i, streamOffset);
    const generation = bits + isCompareAndSet[op] * (1 + (bits >>> 2));
    expected[i] = valueFor(key, bits);
    values[i] = (valueFor(key, generation) & keepDrawnValue[op]) | delta[op];
  }
}

function fillValues(stream: OpStream, workload: Workload, random: Sfc32): void {
  const { set = 0, getOrSet = 0, add = 0, compareAndSet = 0 } = workload.mix;
  if (add + compareAndSet > 0) fillValuesAndDeltas(stream, random);
  // Patterns emit set and getOrSet whatever their descriptive mix says.
  else if (set + getOrSet > 0 || workload.pattern !== undefined) fillStoredValues(stream, random);
}

/**
 * What to insert before measuring: keys 0..round(prefill × keys)−1, the same
 * key space every distribution draws from (so at prefill 1.0 every get of a
 * uniform, zipfian or hotspot workload hits), with values valueFor(key, ·).
 * Insertion order is a seeded shuffle, so no map gets a best-case ascending
 * load; latest and Go-pattern workloads insert in ascending order, as YCSB's
 * load phase and Go's setup loops do. `shared: true` allocates both arrays on
 * SharedArrayBuffers (workers read them without a copy).
 */
export function prefillEntries(
  workload: Workload,
  seed: number,
  options: { shared?: boolean } = {},
): { keys: Int32Array; values: Int32Array } {
  validateWorkload(workload);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
  const count = prefillCount(workload);
  if (count > MAX_PREFILL_ENTRIES) {
    throw new RangeError(
      `workload '${workload.name}': prefill of ${count} entries is beyond the ${MAX_PREFILL_ENTRIES} ` +
        'a map can be created for; lower prefill or keys',
    );
  }
  const random = Sfc32.fromSeed(seed, StreamPurpose.prefill, 0);
  const allocate = (bytes: number) => (options.shared === true ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const keys = new Int32Array(allocate(count * 4));
  for (let key = 0; key < count; key++) keys[key] = key;
  const ordered = workload.pattern !== undefined || workload.distribution.kind === 'latest';
  if (!ordered) {
    for (let i = count - 1; i > 0; i--) {
      const j = random.nextBelow(i + 1);
      const swap = keys[i];
      keys[i] = keys[j];
      keys[j] = swap;
    }
  }
  const values = new Int32Array(allocate(count * 4));
  for (let i = 0; i < count; i++) values[i] = valueFor(keys[i], random.nextUint32());
  return { keys, values };
}

/** The maps contract's largest initial capacity (maps/validate.ts MAX_CAPACITY, 2^26). */
export const MAX_PREFILL_ENTRIES = 2 ** 26;
