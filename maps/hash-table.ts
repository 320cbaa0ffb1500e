/**
 * The shared hash table: open addressing with linear probing over int32 words
 * of an Arena, integer keys 0..2^31−1 and int32 values. Every map built on it
 * supplies its own synchronisation; this file has none.
 *
 * Threading contract: a table region is only ever *mutated* by one thread at a
 * time (the owner's lock holder, or the one thread of the unsynchronised
 * `plain` map). Regions that are never mutated after publication (the
 * read/dirty map's read table) may be read by any number of threads with plain
 * loads, because publication goes through an Atomics store/load pair.
 *
 * Region layout (int32 words from `base`):
 *   TABLE_SLOTS          number of slots (any integer ≥ MIN_SLOTS, not a power of two)
 *   TABLE_COUNT          occupied slots
 *   TABLE_GROW_AT        floor(loadFactor × slots): an insert that would exceed it grows first
 *   TABLE_LOAD_FACTOR    loadFactor × 2^30, rounded
 *   then `slots` pairs [key, value]; key EMPTY_KEY (−1) marks a free slot
 *   (keys are ≥ 0, so −1 can never be a key).
 *
 * Capacity arithmetic (why the load factor is real): slots = ceil(entries /
 * loadFactor) with no rounding to a power of two, and the home slot is chosen
 * by multiply-shift range reduction of a 32-bit hash (Lemire's "fastrange"),
 * which works for any slot count. So a table sized for N entries at load
 * factor 0.5 really is half full at N entries (a power-of-two table would be
 * anywhere from 0.25 to 0.5 full). Growth doubles the slots when an insert
 * would pass TABLE_GROW_AT: occupancy swings between loadFactor/2 and loadFactor.
 *
 * Deletion is backward-shift (Knuth 6.4 algorithm R): later members of the
 * probe run move back into the hole, so there are no tombstones and probe
 * lengths never degrade under churn.
 *
 * Every write-path probe loop is bounded by the slot count: a table corrupted
 * by unsynchronised writers (only `plain` can be) throws
 * ConcurrentMapWriteError instead of spinning forever.
 *
 * Hash: fmix32, MurmurHash3's finaliser (full avalanche). The home slot uses
 * the hash's high bits (range reduction); the sharded map picks shards from
 * the low bits, so shard choice and slot choice are independent.
 */
import type { Arena } from './arena.js';
import { ConcurrentMapWriteError } from './errors.js';
import { checkAddResult } from './validate.js';

export const TABLE_SLOTS = 0;
export const TABLE_COUNT = 1;
export const TABLE_GROW_AT = 2;
export const TABLE_LOAD_FACTOR = 3;
export const TABLE_HEADER_WORDS = 8;
export const EMPTY_KEY = -1;
export const MIN_SLOTS = 8;
const LOAD_FACTOR_SCALE = 2 ** 30;
const TWO_TO_MINUS_32 = 2 ** -32;

/** fmix32 (MurmurHash3 finaliser); returns an int32. */
export function hashKey(key: number): number {
  let h = key;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Home slot of `hash` in a table of `slots` slots: floor(hash × slots / 2^32).
 * The product can exceed 2^53 and round, but it stays ≥ `slots` below
 * slots × 2^32 (the gap is `slots`, far wider than the rounding step), so the
 * result is always < slots.
 */
export function homeSlot(hash: number, slots: number): number {
  return ((hash >>> 0) * slots * TWO_TO_MINUS_32) | 0;
}

/** Slots to hold `entries` at `loadFactor` without growing. */
export function slotsFor(entries: number, loadFactor: number): number {
  let slots = Math.max(MIN_SLOTS, Math.ceil(entries / loadFactor));
  while (Math.floor(loadFactor * slots) < entries) slots++;
  return slots;
}

/** Words a region with `slots` slots occupies. */
export function regionWords(slots: number): number {
  return TABLE_HEADER_WORDS + 2 * slots;
}

/** Initialises an empty region at `base`. */
export function initRegion(memory: Int32Array, base: number, slots: number, loadFactor: number): void {
  memory[base + TABLE_SLOTS] = slots;
  memory[base + TABLE_COUNT] = 0;
  memory[base + TABLE_GROW_AT] = Math.max(1, Math.floor(loadFactor * slots));
  memory[base + TABLE_LOAD_FACTOR] = Math.round(loadFactor * LOAD_FACTOR_SCALE);
  memory.fill(EMPTY_KEY, base + TABLE_HEADER_WORDS, base + regionWords(slots));
}

export function regionLoadFactor(memory: Int32Array, base: number): number {
  return memory[base + TABLE_LOAD_FACTOR] / LOAD_FACTOR_SCALE;
}

/** Word index of `key`'s value word in the region at `base`, or −1 when absent. */
export function findValueIndex(memory: Int32Array, base: number, key: number): number {
  return findHashedValueIndex(memory, base, key, hashKey(key));
}

/** findValueIndex for a caller that already has hashKey(key) (the sharded map hashes once for shard and slot). */
export function findHashedValueIndex(memory: Int32Array, base: number, key: number, hash: number): number {
  const slots = memory[base + TABLE_SLOTS];
  const first = base + TABLE_HEADER_WORDS;
  const end = first + 2 * slots;
  let index = first + 2 * homeSlot(hash, slots);
  for (let probes = slots; probes > 0; probes--) {
    const probed = memory[index];
    if (probed === key) return index + 1;
    if (probed === EMPTY_KEY) return -1;
    index += 2;
    if (index === end) index = first;
  }
  return tableCorrupted();
}

/**
 * A probe that passed every slot without meeting the key or an empty slot:
 * the table is full beyond its load factor, which only unsynchronised writers
 * (the `plain` map misused from two threads) can cause. Throwing beats looping forever.
 */
function tableCorrupted(): never {
  throw new ConcurrentMapWriteError('concurrent map writes');
}

/** The value of `key` in the region at `base`, or undefined. */
export function regionGet(memory: Int32Array, base: number, key: number): number | undefined {
  const valueIndex = findValueIndex(memory, base, key);
  return valueIndex < 0 ? undefined : memory[valueIndex];
}

/**
 * Inserts a key known to be absent; the caller has checked there is room
 * (count < TABLE_GROW_AT). Returns the value word's index.
 */
export function insertAbsent(memory: Int32Array, base: number, key: number, value: number): number {
  const slots = memory[base + TABLE_SLOTS];
  const first = base + TABLE_HEADER_WORDS;
  const end = first + 2 * slots;
  let index = first + 2 * homeSlot(hashKey(key), slots);
  for (let probes = slots; memory[index] !== EMPTY_KEY; probes--) {
    if (probes === 0) tableCorrupted();
    index += 2;
    if (index === end) index = first;
  }
  memory[index + 1] = value;
  memory[index] = key;
  memory[base + TABLE_COUNT]++;
  return index + 1;
}

/** Removes `key` by backward shift; true if it was present. */
export function removeKey(memory: Int32Array, base: number, key: number): boolean {
  const valueIndex = findValueIndex(memory, base, key);
  if (valueIndex < 0) return false;
  const slots = memory[base + TABLE_SLOTS];
  const first = base + TABLE_HEADER_WORDS;
  let hole = (valueIndex - 1 - first) >> 1;
  let probe = hole;
  for (let probes = slots; ; probes--) {
    if (probes === 0) tableCorrupted();
    probe = probe + 1 === slots ? 0 : probe + 1;
    const probedKey = memory[first + 2 * probe];
    if (probedKey === EMPTY_KEY) break;
    const home = homeSlot(hashKey(probedKey), slots);
    // The entry at `probe` may move back to `hole` unless its home lies
    // cyclically in (hole, probe]: then the hole is not on its probe path.
    const homeInRange = hole <= probe ? home > hole && home <= probe : home > hole || home <= probe;
    if (!homeInRange) {
      memory[first + 2 * hole] = probedKey;
      memory[first + 2 * hole + 1] = memory[first + 2 * probe + 1];
      hole = probe;
    }
  }
  memory[first + 2 * hole] = EMPTY_KEY;
  memory[base + TABLE_COUNT]--;
  return true;
}

/** Calls fn for every entry of the region, in slot order. */
export function forEachInRegion(memory: Int32Array, base: number, fn: (key: number, value: number) => void): void {
  const first = base + TABLE_HEADER_WORDS;
  const end = first + 2 * memory[base + TABLE_SLOTS];
  for (let index = first; index < end; index += 2) {
    const key = memory[index];
    if (key !== EMPTY_KEY) fn(key, memory[index + 1]);
  }
}

/** Copies every [key, value] of the region into a fresh array (for iterating outside a lock). */
export function snapshotRegion(memory: Int32Array, base: number): Int32Array {
  const pairs = new Int32Array(2 * memory[base + TABLE_COUNT]);
  let out = 0;
  forEachInRegion(memory, base, (key, value) => {
    pairs[out++] = key;
    pairs[out++] = value;
  });
  return pairs;
}

/** Rehashes every entry of region `from` into the empty region `to`. */
export function rehashRegion(memory: Int32Array, from: number, to: number): void {
  forEachInRegion(memory, from, (key, value) => {
    insertAbsent(memory, to, key, value);
  });
}

export interface ProbeStats {
  averageProbeLength: number;
  maxProbeLength: number;
}

/** Probe length of an entry = 1 + its distance from its home slot. O(slots). */
export function probeStats(memory: Int32Array, base: number): ProbeStats {
  const slots = memory[base + TABLE_SLOTS];
  const first = base + TABLE_HEADER_WORDS;
  let total = 0;
  let max = 0;
  let count = 0;
  for (let slot = 0; slot < slots; slot++) {
    const key = memory[first + 2 * slot];
    if (key === EMPTY_KEY) continue;
    const home = homeSlot(hashKey(key), slots);
    const length = 1 + (slot >= home ? slot - home : slot + slots - home);
    total += length;
    if (length > max) max = length;
    count++;
  }
  return { averageProbeLength: count === 0 ? 0 : total / count, maxProbeLength: max };
}

/** Root words of a growable table (in the owner's header). */
export const ROOT_REGION = 0;
export const ROOT_RESIZES = 1;
export const ROOT_WORDS = 2;

/**
 * A growable table whose current region offset lives at memory[root +
 * ROOT_REGION]. Not thread-safe: every call is made under the owner's
 * exclusive lock, except get()/findValueIndex(), which the owner may call
 * under a shared (read) lock. Growth allocates the new region, rehashes,
 * publishes it in the root, then hands the old region to `retire` (default:
 * free it at once, which is safe when no thread can be reading it — e.g. the
 * owner holds its write lock, so no reader is inside).
 */
export class HashTable {
  readonly memory: Int32Array;

  constructor(
    private readonly arena: Arena,
    private readonly root: number,
    private readonly retire: (base: number, words: number) => void = (base, words) => arena.free(base, words),
  ) {
    this.memory = arena.memory;
  }

  /** Allocates the first region for `capacity` entries at `loadFactor` and writes the root. */
  static initialise(arena: Arena, root: number, capacity: number, loadFactor: number): void {
    const slots = slotsFor(capacity, loadFactor);
    const base = arena.allocate(regionWords(slots));
    initRegion(arena.memory, base, slots, loadFactor);
    arena.memory[root + ROOT_REGION] = base;
    arena.memory[root + ROOT_RESIZES] = 0;
  }

  get region(): number {
    return this.memory[this.root + ROOT_REGION];
  }

  get(key: number): number | undefined {
    return regionGet(this.memory, this.memory[this.root + ROOT_REGION], key);
  }

  findValueIndex(key: number): number {
    return findValueIndex(this.memory, this.memory[this.root + ROOT_REGION], key);
  }

  /** Inserts a key known to be absent, growing first if needed; returns the value word's index. */
  insertAbsent(key: number, value: number): number {
    const memory = this.memory;
    let base = memory[this.root + ROOT_REGION];
    if (memory[base + TABLE_COUNT] >= memory[base + TABLE_GROW_AT]) base = this.grow(base);
    return insertAbsent(memory, base, key, value);
  }

  /** Stores `value` under `key`; true if the key was new. */
  set(key: number, value: number): boolean {
    const index = this.findValueIndex(key);
    if (index >= 0) {
      this.memory[index] = value;
      return false;
    }
    this.insertAbsent(key, value);
    return true;
  }

  remove(key: number): boolean {
    return removeKey(this.memory, this.memory[this.root + ROOT_REGION], key);
  }

  /** The value stored under `key` after the call: the existing one, or `value` newly inserted. */
  getOrSet(key: number, value: number): number {
    const index = this.findValueIndex(key);
    if (index >= 0) return this.memory[index];
    this.insertAbsent(key, value);
    return value;
  }

  /** Stores `value` only if `key` holds `expected`. */
  compareAndSet(key: number, expected: number, value: number): boolean {
    const index = this.findValueIndex(key);
    const swapped = index >= 0 && this.memory[index] === expected;
    if (swapped) this.memory[index] = value;
    return swapped;
  }

  /** Adds `delta` (an absent key counts as 0); throws RangeError before storing an out-of-range result. */
  add(key: number, delta: number): number {
    const index = this.findValueIndex(key);
    const next = checkAddResult(key, index >= 0 ? this.memory[index] : 0, delta);
    if (index >= 0) this.memory[index] = next;
    else this.insertAbsent(key, next);
    return next;
  }

  get count(): number {
    return this.memory[this.memory[this.root + ROOT_REGION] + TABLE_COUNT];
  }

  forEach(fn: (key: number, value: number) => void): void {
    forEachInRegion(this.memory, this.region, fn);
  }

  snapshot(): Int32Array {
    return snapshotRegion(this.memory, this.region);
  }

  /** entries, slots, bytes, resizes, averageProbeLength, maxProbeLength. O(slots). */
  stats(): Record<string, number> {
    const memory = this.memory;
    const base = this.region;
    const slots = memory[base + TABLE_SLOTS];
    return {
      entries: memory[base + TABLE_COUNT],
      slots,
      bytes: regionWords(slots) * 4,
      resizes: memory[this.root + ROOT_RESIZES],
      ...probeStats(memory, base),
    };
  }

  private grow(base: number): number {
    const memory = this.memory;
    const slots = memory[base + TABLE_SLOTS];
    const newSlots = slots * 2;
    const newBase = this.arena.allocate(regionWords(newSlots));
    initRegion(memory, newBase, newSlots, regionLoadFactor(memory, base));
    rehashRegion(memory, base, newBase);
    memory[this.root + ROOT_REGION] = newBase;
    memory[this.root + ROOT_RESIZES]++;
    this.retire(base, regionWords(slots));
    return newBase;
  }
}
