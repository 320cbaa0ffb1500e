/**
 * rwmutex: one shared hash table behind one RWMutex — Go's `map` guarded by a
 * `sync.RWMutex`. Readers run in parallel; every write serialises on the one
 * lock, so write-heavy loads stop scaling at one thread's worth of writes (and
 * the readerCount word's cache line bounces between cores even for reads).
 * Use it as the baseline the `sharded` and `readdirty` maps must beat.
 *
 * Shared words (see locked-table.ts for the rules of each): the map header is
 * one LockedTable — RWMutex words, the table root — on its own 128-byte line
 * pair (reader count on the first line, semaphores and root on the second);
 * the table region; per-thread counters (each written only by its thread).
 * get() runs locked-table.ts's lockedGet on these words directly, the same
 * read path as `sharded`'s.
 *
 * Linearisation points: get/size/forEach at their rLock; set, delete,
 * getOrSet, compareAndSet and add at their write lock.
 *
 * Consistency:
 *   size()    — exact: the count at the moment of the read lock.
 *   forEach() — a snapshot: copies every entry under one read lock, then calls
 *               fn outside the lock, so fn may call the map (even write it);
 *               fn sees the map as it was at the snapshot, and nothing written
 *               during the call.
 */
import {
  CACHE_LINE_PAIR_WORDS,
  attachMapMemory,
  createMapMemory,
  forEachPair,
  memoryStats,
  sumCounters,
  type MapMemory,
} from './map-memory.js';
import { hashKey } from './hash-table.js';
import { LockedTable, lockedGet } from './locked-table.js';
import { RW_COUNTER_NAMES } from './rwmutex.js';
import type { ConcurrentMap, MapFactory, MapHandle, MapOptions } from './types.js';
import { checkDelta, checkKey, checkValue, resolveMapOptions } from './validate.js';

const NAME = 'rwmutex';

export class RWMutexMap implements ConcurrentMap {
  private readonly table: LockedTable;
  private readonly memory: Int32Array;
  private readonly header: number;
  private readonly counters: Float64Array;

  constructor(private readonly mapMemory: MapMemory) {
    this.table = new LockedTable(mapMemory.arena, mapMemory.header, mapMemory.counters);
    this.memory = mapMemory.memory;
    this.header = mapMemory.header;
    this.counters = mapMemory.counters;
  }

  get(key: number): number | undefined {
    checkKey(key);
    return lockedGet(this.memory, this.header, this.counters, key, hashKey(key));
  }

  set(key: number, value: number): void {
    checkKey(key);
    checkValue(value);
    this.table.set(key, value);
  }

  delete(key: number): boolean {
    checkKey(key);
    return this.table.delete(key);
  }

  getOrSet(key: number, value: number): number {
    checkKey(key);
    checkValue(value);
    return this.table.getOrSet(key, value);
  }

  compareAndSet(key: number, expected: number, value: number): boolean {
    checkKey(key);
    checkValue(expected, 'expected');
    checkValue(value);
    return this.table.compareAndSet(key, expected, value);
  }

  add(key: number, delta: number): number {
    checkKey(key);
    checkDelta(delta);
    return this.table.add(key, delta);
  }

  size(): number {
    return this.table.size();
  }

  forEach(fn: (key: number, value: number) => void): void {
    forEachPair(this.table.snapshot(), fn);
  }

  /** Lock counters are read first, so the stats call's own read lock is not in them. */
  stats(): Record<string, number> {
    const locks = sumCounters(this.mapMemory, RW_COUNTER_NAMES);
    return { ...this.table.tableStats(), ...locks, ...memoryStats(this.mapMemory) };
  }
}

export const rwmutexMapFactory: MapFactory = {
  name: NAME,
  description: 'one shared hash table behind one RWMutex (Go map + sync.RWMutex)',
  shared: true,
  safeForConcurrentWrites: true,
  create(options?: MapOptions): MapHandle {
    const resolved = resolveMapOptions(options);
    // A whole line pair, so nothing else's hot words share the lock's line.
    const { handle, arena } = createMapMemory(NAME, resolved, CACHE_LINE_PAIR_WORDS, CACHE_LINE_PAIR_WORDS);
    LockedTable.initialise(arena, handle.header, resolved.capacity, resolved.loadFactor);
    return handle;
  },
  attach(handle: MapHandle): ConcurrentMap {
    return new RWMutexMap(attachMapMemory(handle, NAME));
  },
};
