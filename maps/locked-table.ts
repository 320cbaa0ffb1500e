/**
 * LockedTable: one hash table behind one RWMutex — Go's `map` + `sync.RWMutex`
 * (the RWMutexMap of Go's sync/map_reference_test.go). The `rwmutex` map is one
 * LockedTable; the `sharded` map is an array of them. Reads take the read lock;
 * every write (set, delete, getOrSet, compareAndSet, add) takes the write lock
 * directly, as Go's reference does.
 *
 * Shared words (offsets from `base`, which the maps align to 128 bytes;
 * LOCKED_TABLE_WORDS ≤ 32, so one LockedTable fills one 128-byte line pair):
 *   LOCKED_TABLE_LOCK + 0..19 — the RWMutex (rwmutex.ts): its reader count on
 *       the first 64-byte line, its semaphores on the second; Atomics only.
 *   LOCKED_TABLE_ROOT + ROOT_REGION  — offset of the current table region;
 *       written only under the write lock (on growth), read under either lock.
 *   LOCKED_TABLE_ROOT + ROOT_RESIZES — growth count; write lock only.
 *   The table region itself (hash-table.ts layout): written only under the
 *       write lock, read under either lock.
 * Memory: growth frees the old region at once — no reader can be inside it,
 * because the grower holds the write lock — so bytes in use stay within the
 * current region (occupancy loadFactor/2..loadFactor) plus arena rounding,
 * under any amount of churn (deletion is backward-shift: no tombstones).
 *
 * Linearisation points: a read (get, size, the forEach snapshot) at its
 * rLock; a write at its lock. add() checks its result before storing, so a
 * rejected add changes nothing; an insert that cannot get memory throws the
 * arena's RangeError before anything is written. Every path that can throw
 * inside the lock releases it (try/finally).
 */
import type { Arena } from './arena.js';
import { findHashedValueIndex, hashKey, HashTable, ROOT_REGION, ROOT_WORDS, type ProbeStats } from './hash-table.js';
import { readLock, readUnlock, RWMUTEX_WORDS, RWMutex } from './rwmutex.js';

export const LOCKED_TABLE_LOCK = 0;
export const LOCKED_TABLE_ROOT = LOCKED_TABLE_LOCK + RWMUTEX_WORDS;
export const LOCKED_TABLE_WORDS = LOCKED_TABLE_ROOT + ROOT_WORDS;
if (LOCKED_TABLE_LOCK + RWMUTEX_WORDS > LOCKED_TABLE_ROOT)
  throw new Error('LockedTable layout: the RWMutex overlaps the root');

/** Table figures of one LockedTable, read under its read lock. */
export interface LockedTableStats extends ProbeStats {
  entries: number;
  slots: number;
  tableBytes: number;
  resizes: number;
}

export class LockedTable {
  readonly lock: RWMutex;
  private readonly table: HashTable;
  private readonly memory: Int32Array;

  /** Main thread: lays out an unlocked RWMutex and an empty table for `capacity` entries at `base`. */
  static initialise(arena: Arena, base: number, capacity: number, loadFactor: number): void {
    arena.memory.fill(0, base + LOCKED_TABLE_LOCK, base + LOCKED_TABLE_LOCK + RWMUTEX_WORDS);
    HashTable.initialise(arena, base + LOCKED_TABLE_ROOT, capacity, loadFactor);
  }

  /** A view of the LockedTable at `base`, counting its lock into `counters[0 .. RW_COUNTERS)`. */
  constructor(
    arena: Arena,
    private readonly base: number,
    private readonly counters: Float64Array,
  ) {
    this.memory = arena.memory;
    this.lock = new RWMutex(arena.memory, base + LOCKED_TABLE_LOCK, counters, 0);
    this.table = new HashTable(arena, base + LOCKED_TABLE_ROOT);
  }

  get(key: number): number | undefined {
    return lockedGet(this.memory, this.base, this.counters, key, hashKey(key));
  }

  set(key: number, value: number): void {
    this.lock.lock();
    try {
      this.table.set(key, value);
    } finally {
      this.lock.unlock();
    }
  }

  delete(key: number): boolean {
    this.lock.lock();
    const removed = this.table.remove(key);
    this.lock.unlock();
    return removed;
  }

  getOrSet(key: number, value: number): number {
    this.lock.lock();
    try {
      return this.table.getOrSet(key, value);
    } finally {
      this.lock.unlock();
    }
  }

  compareAndSet(key: number, expected: number, value: number): boolean {
    this.lock.lock();
    const swapped = this.table.compareAndSet(key, expected, value);
    this.lock.unlock();
    return swapped;
  }

  add(key: number, delta: number): number {
    this.lock.lock();
    try {
      return this.table.add(key, delta);
    } finally {
      this.lock.unlock();
    }
  }

  size(): number {
    this.lock.rLock();
    const count = this.table.count;
    this.lock.rUnlock();
    return count;
  }

  /** Copies every [key, value] under the read lock (so the caller can iterate outside it). */
  snapshot(): Int32Array {
    this.lock.rLock();
    try {
      return this.table.snapshot();
    } finally {
      this.lock.rUnlock();
    }
  }

  /** O(slots) under the read lock. */
  tableStats(): LockedTableStats {
    this.lock.rLock();
    try {
      const { entries, slots, bytes, resizes, averageProbeLength, maxProbeLength } = this.table.stats();
      return { entries, slots, tableBytes: bytes, resizes, averageProbeLength, maxProbeLength };
    } finally {
      this.lock.rUnlock();
    }
  }
}

/**
 * LockedTable.get of the LockedTable at `base` for a key whose hashKey is
 * `hash`, as a plain function: the read path of both `rwmutex` and `sharded`,
 * so the two do the same lock and probe work (sharded adds only the shard
 * index). With objects per shard in between, the chain of inlined calls
 * outgrew V8's inlining budget and the probe stayed a call (profile, sharded 1t).
 */
export function lockedGet(
  memory: Int32Array,
  base: number,
  counters: Float64Array,
  key: number,
  hash: number,
): number | undefined {
  readLock(memory, base + LOCKED_TABLE_LOCK, counters, 0);
  const valueIndex = findHashedValueIndex(memory, memory[base + LOCKED_TABLE_ROOT + ROOT_REGION], key, hash);
  const value = valueIndex < 0 ? undefined : memory[valueIndex];
  readUnlock(memory, base + LOCKED_TABLE_LOCK);
  return value;
}
