/**
 * sharded: `shards` independent LockedTables (each its own RWMutex + hash
 * table, locked-table.ts), like Go's concurrent-map (orcaman/concurrent-map).
 * Operations on different shards never touch the same lock or cache line, so
 * writes scale with threads until they collide on a shard; reads pay one
 * uncontended-ish RWMutex each. It loses to `rwmutex` only in whole-map
 * operations (size, forEach visit every shard) and in memory (32 small tables).
 *
 * Shard choice: the low bits of the key's fmix32 hash. The table inside a
 * shard picks its home slot from the high bits (range reduction), so keys in
 * one shard still spread over all of its slots.
 *
 * Shared words: the map header is `shards` blocks of 32 words (128 bytes,
 * 128-byte aligned: one adjacent-line-prefetch pair each, so two shards' lock
 * words never share a line); block s holds shard s's LockedTable — its
 * RWMutex words and table root, each under that shard's lock as described in
 * locked-table.ts. get() finds block s by arithmetic (header + s × 32) and
 * runs lockedGet on its words: no object per shard on the read path. Plus each shard's table region and the per-thread counters.
 * The shard count is fixed at create() and travels in the handle.
 *
 * Linearisation points: each single-key operation at its shard's lock (read
 * lock for get, write lock for the others).
 *
 * Consistency (no global lock is ever taken):
 *   size()    — sums each shard's count, read under that shard's read lock one
 *               after another: exact when no thread writes; under concurrent
 *               writes it may miss or double-count entries that move in or
 *               out while the sum is in progress (it is off by at most the
 *               number of inserts and deletes that overlap the call).
 *   forEach() — shard by shard: snapshot one shard under its read lock, call
 *               fn for its entries outside the lock (fn may call the map), then
 *               the next shard. Every key present for the whole call is visited
 *               exactly once, with a value it held during the call; keys
 *               inserted or deleted during the call may or may not be visited.
 *               Not a snapshot of the whole map.
 */
import { hashKey } from './hash-table.js';
import {
  CACHE_LINE_PAIR_WORDS,
  attachMapMemory,
  createMapMemory,
  forEachPair,
  memoryStats,
  sumCounters,
  type MapMemory,
  type SharedMapHandle,
} from './map-memory.js';
import { LOCKED_TABLE_WORDS, LockedTable, lockedGet } from './locked-table.js';
import { RW_COUNTER_NAMES } from './rwmutex.js';
import type { ConcurrentMap, MapFactory, MapHandle, MapOptions } from './types.js';
import { MAX_SHARDS, checkDelta, checkKey, checkValue, resolveMapOptions } from './validate.js';

const NAME = 'sharded';
/** Words per shard block: one 128-byte line pair. */
export const SHARD_STRIDE_WORDS = CACHE_LINE_PAIR_WORDS;
const SHARD_STRIDE_SHIFT = Math.log2(SHARD_STRIDE_WORDS);
if (LOCKED_TABLE_WORDS > SHARD_STRIDE_WORDS)
  throw new Error('sharded layout: a LockedTable does not fit its shard block');

export interface ShardedMapHandle extends SharedMapHandle {
  readonly shards: number;
}

/**
 * Entries each shard's first table is sized for: an even split plus two
 * standard deviations of the binomial spread of `capacity` random keys, so
 * that filling the map to `capacity` rarely grows a shard (which would halve
 * its occupancy and blur the load-factor axis).
 */
export function shardCapacity(capacity: number, shards: number): number {
  const even = capacity / shards;
  return Math.ceil(even + 2 * Math.sqrt(even));
}

export class ShardedMap implements ConcurrentMap {
  private readonly shards: LockedTable[] = [];
  private readonly shardMask: number;
  private readonly memory: Int32Array;
  private readonly header: number;
  private readonly counters: Float64Array;

  constructor(
    private readonly mapMemory: MapMemory,
    shardCount: number,
  ) {
    for (let shard = 0; shard < shardCount; shard++) {
      this.shards.push(
        new LockedTable(mapMemory.arena, mapMemory.header + shard * SHARD_STRIDE_WORDS, mapMemory.counters),
      );
    }
    this.shardMask = shardCount - 1;
    this.memory = mapMemory.memory;
    this.header = mapMemory.header;
    this.counters = mapMemory.counters;
  }

  private shardOf(key: number): LockedTable {
    return this.shards[hashKey(key) & this.shardMask];
  }

  /** The read path works on the shard's words directly: one hash for shard and slot, no object per shard. */
  get(key: number): number | undefined {
    checkKey(key);
    const hash = hashKey(key);
    return lockedGet(
      this.memory,
      this.header + ((hash & this.shardMask) << SHARD_STRIDE_SHIFT),
      this.counters,
      key,
      hash,
    );
  }

  set(key: number, value: number): void {
    checkKey(key);
    checkValue(value);
    this.shardOf(key).set(key, value);
  }

  delete(key: number): boolean {
    checkKey(key);
    return this.shardOf(key).delete(key);
  }

  getOrSet(key: number, value: number): number {
    checkKey(key);
    checkValue(value);
    return this.shardOf(key).getOrSet(key, value);
  }

  compareAndSet(key: number, expected: number, value: number): boolean {
    checkKey(key);
    checkValue(expected, 'expected');
    checkValue(value);
    return this.shardOf(key).compareAndSet(key, expected, value);
  }

  add(key: number, delta: number): number {
    checkKey(key);
    checkDelta(delta);
    return this.shardOf(key).add(key, delta);
  }

  size(): number {
    let total = 0;
    for (const shard of this.shards) total += shard.size();
    return total;
  }

  forEach(fn: (key: number, value: number) => void): void {
    for (const shard of this.shards) forEachPair(shard.snapshot(), fn);
  }

  /**
   * Table figures summed over shards (averageProbeLength weighted by entries,
   * maxProbeLength the worst shard); lock counters summed over shards and
   * threads, read before the stats call's own read locks.
   */
  stats(): Record<string, number> {
    const locks = sumCounters(this.mapMemory, RW_COUNTER_NAMES);
    let entries = 0,
      slots = 0,
      tableBytes = 0,
      resizes = 0,
      probeTotal = 0,
      maxProbeLength = 0;
    for (const shard of this.shards) {
      const table = shard.tableStats();
      entries += table.entries;
      slots += table.slots;
      tableBytes += table.tableBytes;
      resizes += table.resizes;
      probeTotal += table.averageProbeLength * table.entries;
      maxProbeLength = Math.max(maxProbeLength, table.maxProbeLength);
    }
    return {
      shards: this.shards.length,
      entries,
      slots,
      tableBytes,
      resizes,
      averageProbeLength: entries === 0 ? 0 : probeTotal / entries,
      maxProbeLength,
      ...locks,
      ...memoryStats(this.mapMemory),
    };
  }
}

export const shardedMapFactory: MapFactory = {
  name: NAME,
  description: 'N shards (option shards, default 32), each its own RWMutex + hash table on its own cache lines',
  shared: true,
  safeForConcurrentWrites: true,
  create(options?: MapOptions): MapHandle {
    const resolved = resolveMapOptions(options);
    const { handle, arena } = createMapMemory(NAME, resolved, resolved.shards * SHARD_STRIDE_WORDS, SHARD_STRIDE_WORDS);
    const perShard = shardCapacity(resolved.capacity, resolved.shards);
    for (let shard = 0; shard < resolved.shards; shard++) {
      LockedTable.initialise(arena, handle.header + shard * SHARD_STRIDE_WORDS, perShard, resolved.loadFactor);
    }
    const sharded: ShardedMapHandle = { ...handle, shards: resolved.shards };
    return sharded;
  },
  attach(handle: MapHandle): ConcurrentMap {
    const mapMemory = attachMapMemory(handle, NAME);
    const { shards } = handle as Partial<ShardedMapHandle>;
    if (
      typeof shards !== 'number' ||
      !Number.isInteger(shards) ||
      shards < 1 ||
      shards > MAX_SHARDS ||
      (shards & (shards - 1)) !== 0 ||
      mapMemory.header + shards * SHARD_STRIDE_WORDS > mapMemory.memory.length
    ) {
      throw new TypeError(`handle.shards must be the power of two ${NAME}'s create() stored, got ${String(shards)}`);
    }
    return new ShardedMap(mapMemory, shards);
  },
};
