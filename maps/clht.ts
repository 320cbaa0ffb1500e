/**
 * clht: a cache-line hash table in the manner of CLHT (David, Guerraoui,
 * Trigonakis, "Asynchronized Concurrency", ASPLOS 2015) and puzpuzpuz/xsync's
 * MapOf: every bucket is one 64-byte cache line holding a lock/version word,
 * an overflow link and seven keys with their seven values. A get reads one
 * line (two when the bucket overflowed) with plain loads and validates it by
 * the bucket's version, a seqlock; a write locks one bucket. Nothing else is
 * shared on the hot paths: no global lock, no reader count, no shared counter.
 *
 * When to use it: any mix over a key set of any shape — reads scale with
 * threads like readdirty's read table, and writes (including new keys and
 * deletes, where readdirty collapses) only contend when two threads hit the
 * same bucket. When not to: whole-map operations under heavy writes (size and
 * forEach walk every bucket), or a machine without x86's load ordering (see
 * "Seqlock reads" below).
 *
 * Bucket layout (BUCKET_WORDS = 16 int32 words = 64 bytes, 64-byte aligned):
 *   B_VERSION — the head bucket's seqlock word; unused in overflow buckets.
 *   B_NEXT    — word offset of the next (overflow) bucket of the chain, 0 at the end.
 *   B_KEYS    — 7 keys; EMPTY_KEY (−1) marks a free slot.
 *   B_VALUES  — 7 values; value i belongs to key i (VALUE_OFFSET words on).
 * 7 + 7 + 2 = 16 exactly: CLHT's own layout (3 keys, 3 values of 8 bytes, a
 * lock and a next pointer) scaled to 4-byte keys. Storing the keys apart from
 * the values keeps a key scan on one stretch of the line.
 * Slot order: in a head bucket a key starts at its preferred slot
 * (preferredSlot: the hash's low 16 bits scaled to 0..6, independent of the
 * high bits that chose the bucket) and probes forward cyclically, as a
 * 7-slot linear-probing table; overflow buckets are filled in order. Why not
 * fill the head in order too (CLHT does): a hit then costs a scan of half the
 * bucket's entries on average (3.6 compares at load factor 0.75, one
 * mispredicted exit); starting at the preferred slot measured 1.17× `plain`'s
 * get-hit against 1.5× for the in-order scan (2^16 keys, lf 0.75, both
 * without version loads).
 *
 * Version word (B_VERSION of a head bucket):
 *   bit 0 WRITING — a writer holds the bucket; its chain may be mid-change.
 *   bit 1 FROZEN  — a resize has copied (or is copying) the chain to the next
 *                   table; the chain never changes again.
 *   bits 2..31    — the version, +VERSION_STEP at each unlock that changed the chain.
 *   Set to WRITING only by a CAS from a flag-free value (lockBucket), cleared
 *   by the holder's Atomics.store of version + VERSION_STEP (or of the old
 *   version when it changed nothing). Set to FROZEN only by the resizer, with
 *   resizeMu held, by a CAS from a flag-free value; cleared only by a resize
 *   that fails for lack of memory, before it publishes anything (thawBuckets).
 *   A bucket's version word guards its whole chain: every word of every bucket
 *   of the chain is written only by the holder of its WRITING bit, except a
 *   fresh table's, which the resizer writes before publishing it.
 *
 * Shared words (map header; CL_* offsets; one line pair per group):
 *   CL_TABLE (own line pair) — word offset of the current table. Stored
 *       (Atomics) only by the resizer, with resizeMu held, after the new table
 *       is complete; loaded by everyone (plainly on the hot paths: a stale
 *       value names a retired table, whose buckets are all FROZEN, and every
 *       path that meets FROZEN re-loads it with Atomics).
 *   CL_RESIZE_MU — the Mutex serialising resizes. CL_RESIZES is written only
 *       with it held.
 *   CL_POOL_MU — the Mutex of the overflow-bucket pool and of the epoch
 *       domain's retire list (epoch.ts "owner's lock"). CL_POOL_* (free list
 *       linked through B_NEXT, current slab chunk, totals) are read and
 *       written only with it held.
 *   Table region (T_* words, then the buckets): T_BUCKETS, T_GROW_AT, T_BLOCK*
 *       are written once before publication; T_RETIRED_OVERFLOW by the
 *       resizer when it retires the table.
 *   Per-thread counters (thread-counters.ts): C_ENTRIES_DELTA counts this
 *       thread's inserts minus deletes; their sum decides growth.
 *
 * Invariants:
 *   1. Head buckets: every key is reachable from its preferred slot by a
 *      cyclic probe that meets no EMPTY_KEY before it (a delete in the head
 *      shifts later keys back: Knuth's algorithm R on 7 slots), so a probe
 *      stops at the first EMPTY_KEY. Overflow buckets hold entries only while the head is full,
 *      and their occupied slots form a prefix in chain order: a delete in the
 *      head refills the head from the chain's last overflow entry, a delete
 *      in overflow moves that last entry into the hole. At most one
 *      overflow bucket at the end of a chain is empty (hysteresis, so an
 *      insert/delete pair at a full bucket's edge does not allocate and retire
 *      a line each time); it is unlinked once the bucket before it is at most
 *      half full.
 *   2. A key is in at most one chain of the current table: the chain of its
 *      home bucket, floor(hash × buckets / 2^32) (Lemire's range reduction,
 *      as in hash-table.ts, so bucket counts need not be powers of two).
 *   3. Every bucket of a table that is not the current one is FROZEN: the
 *      resizer freezes every bucket before it publishes the new table, and
 *      thaws only a table it never replaced.
 *   4. While a bucket is FROZEN and its table is still current, no thread
 *      writes the keys of its chain anywhere: writers that meet FROZEN wait
 *      for the new table (awaitMigration), and the new table is private until
 *      published. So the frozen chain holds the keys' current values until
 *      the Atomics.store of CL_TABLE.
 *   5. Memory that lock-free readers may still read — a replaced table with
 *      its overflow buckets, an unlinked overflow bucket — is retired to the
 *      epoch domain (epoch.ts, QSBR as readdirty.ts uses it) and reused only
 *      after every non-idle thread has passed a quiescent point. Each
 *      operation starts at a quiescent point; a thread announces every
 *      QUIESCENT_INTERVAL_OPS operations; forEach pins (no announcement while
 *      its callback runs); quiesce() goes idle. Memory stays bounded under churn.
 *
 * Seqlock reads: load the version, scan the chain, load the version again,
 * and accept the result if the version did not change (a FROZEN bit
 * appearing is no change: freezing writes nothing in the chain). On the fast
 * path (get, and the lock-free prefixes of getOrSet and compareAndSet) all of
 * these are plain loads: on x86-64 (TSO) loads are not reordered with older
 * loads, the writer's data stores sit between its lock CAS and its unlocking
 * Atomics.store, and TurboFan neither eliminates nor reorders typed-array
 * loads (its load elimination does not track them; they stay on the effect
 * chain in program order). Each Atomics.load there measured +4-6 ns on a
 * ~20 ns get (2^16 keys): 1.17x plain's get-hit with none, 1.37x with one,
 * 1.71x with two. Every other path (a retry, a frozen bucket, size, forEach,
 * writers) uses Atomics. On a weakly ordered CPU (arm64) the re-load would
 * need a load fence that JavaScript cannot express; maplab's hosts are x86-64.
 * A torn scan — a link followed into a bucket just unlinked — reads memory
 * that invariant 5 keeps allocated and unchanged, and the version check
 * rejects it; probes and walks are bounded anyway (7 slots, MAX_CHAIN_HOPS).
 * The table word is loaded plainly too: a stale value names a retired
 * table, all FROZEN (invariant 3), which sends the read to the slow path.
 *
 * Resize (grow, with resizeMu held): allocate a table of twice the buckets;
 * for each old bucket, wait until no writer holds it, freeze it (CAS), copy
 * its chain into the new table; then publish the new table (Atomics.store of
 * CL_TABLE), and retire the old table with its overflow buckets. Readers never
 * wait for a resize: a frozen chain is complete and unchanging. Writers that
 * meet a frozen bucket wait on resizeMu, then retry in the new table. A
 * resize that runs out of memory (maxBytes) thaws what it froze, frees the
 * unpublished table and throws RangeError before the insert that needed it.
 * Growth: an insert of a new key first checks the sum of every thread's
 * inserts minus deletes against T_GROW_AT = floor(loadFactor × 7 × buckets);
 * the table doubles before that insert would pass it, so occupancy (entries /
 * bucket slots) swings between loadFactor/2 and loadFactor like the other
 * maps'. (The sum is read with plain loads, so concurrent inserts may overshoot
 * it by a few entries; it is exact when threads are quiet. Past 64 attached
 * views counter slots are shared and increments may be lost: growth may then
 * come early or late; correctness and size() do not depend on it.)
 *
 * Linearisation points:
 *   get          — the load of the version that began the accepted scan (the
 *                  chain did not change between it and the re-load); for a scan
 *                  of a bucket FROZEN at that load, the Atomics.load of CL_TABLE
 *                  that found the table still current (invariant 4).
 *   set, delete, getOrSet, compareAndSet, add — while the bucket is locked;
 *                  readers see either none or all of the change, so take the
 *                  unlocking Atomics.store. Their lock-free prefixes:
 *                  getOrSet's hit and compareAndSet's mismatch (value absent or
 *                  different) linearise as a get does.
 *   resize       — the Atomics.store of CL_TABLE; it changes no key's value.
 *
 * Consistency:
 *   size()    — walks the current table, counting each chain under its own
 *               seqlock: exact when no thread writes; under concurrent writes
 *               each chain is counted at a different moment (off by at most
 *               the inserts and deletes that overlap the call). O(buckets).
 *   forEach() — walks the table current at the call, chain by chain: each
 *               chain is copied under its seqlock, then fn runs on the copy,
 *               so fn may call any method of the map. Every key present for
 *               the whole call is visited exactly once, with a value it held
 *               during the call; keys inserted or deleted meanwhile may or may
 *               not be visited. Not a snapshot of the whole map.
 *
 * Memory: 64 bytes a bucket; at load factor lf a table holds 7 × lf entries
 * a bucket before it doubles (between lf/2 and lf full), plus overflow
 * buckets, plus, for one grace period after a resize, the old table.
 * Measured, 2^16 keys filled to the load factor: overflow buckets 2.7% /
 * 16% / 30% of the buckets at lf 0.5 / 0.75 / 0.9 (6% of hits at 0.75 read a
 * second line), 18.8 / 14.2 / 13.2 table bytes an entry (plain: 16 / 10.7 / 8.9).
 */
import { Arena } from './arena.js';
import { EpochDomain, createEpochBlock, type Reclaim } from './epoch.js';
import { hashKey } from './hash-table.js';
import {
  CACHE_LINE_PAIR_WORDS,
  COUNTER_ARENA_LOCK,
  attachMapMemory,
  createMapMemory,
  memoryStats,
  sumCounters,
  type MapMemory,
  type SharedMapHandle,
} from './map-memory.js';
import { Mutex } from './mutex.js';
import { COUNTERS_PER_THREAD, MAX_THREAD_SLOTS } from './thread-counters.js';
import type { ConcurrentMap, MapFactory, MapHandle, MapOptions } from './types.js';
import {
  MAX_KEY,
  MAX_VALUE,
  MIN_VALUE,
  RESERVED_VALUE_BASE,
  checkAddResult,
  checkDelta,
  checkKey,
  checkValue,
  isValidValue,
  resolveMapOptions,
} from './validate.js';

const NAME = 'clht';

/** Bucket layout (words from the bucket's first word). */
export const BUCKET_WORDS = 16;
const BUCKET_SHIFT = 4;
export const ENTRIES_PER_BUCKET = 7;
export const B_VERSION = 0;
export const B_NEXT = 1;
export const B_KEYS = 2;
export const B_VALUES = B_KEYS + ENTRIES_PER_BUCKET;
const VALUE_OFFSET = B_VALUES - B_KEYS;
export const EMPTY_KEY = -1;
/** A bucket with at most this many entries is "at most half full" (invariant 1's hysteresis). */
const HALF_FULL_ENTRIES = ENTRIES_PER_BUCKET >> 1;

/** Version word bits. */
export const WRITING = 1;
export const FROZEN = 2;
const FLAGS = WRITING | FROZEN;
export const VERSION_STEP = 4;
/** lockBucket's answer when the bucket is frozen (a flag-free version is never −1). */
const MIGRATING = -1;

/** Table region layout: a 64-byte header, then the buckets (the region is 64-byte aligned). */
export const T_BUCKETS = 0;
export const T_GROW_AT = 1;
const T_BLOCK = 2;
const T_BLOCK_WORDS = 3;
const T_RETIRED_OVERFLOW = 4;
export const TABLE_HEADER_WORDS = 16;
const MIN_BUCKETS = 2;

/** Map header layout (word offsets; one line pair per group). */
export const CL_CAPACITY = 0;
export const CL_LOAD_FACTOR = 1;
export const CL_EPOCH_BLOCK = 2;
export const CL_CLAIM_WORD = 3;
export const CL_TABLE = CACHE_LINE_PAIR_WORDS;
export const CL_RESIZE_MU = 2 * CACHE_LINE_PAIR_WORDS;
export const CL_RESIZES = CL_RESIZE_MU + 1;
export const CL_POOL_MU = 3 * CACHE_LINE_PAIR_WORDS;
const CL_POOL_FREE_HEAD = CL_POOL_MU + 1;
const CL_POOL_CHUNK_NEXT = CL_POOL_MU + 2;
const CL_POOL_CHUNK_END = CL_POOL_MU + 3;
const CL_POOL_CARVED = CL_POOL_MU + 4;
const CL_POOL_FREE = CL_POOL_MU + 5;
export const CL_HEADER_WORDS = 4 * CACHE_LINE_PAIR_WORDS;
const LOAD_FACTOR_SCALE = 2 ** 30;

/** Overflow buckets per slab chunk: 31 × 64 B plus 32 B of alignment slack fill a 2 KiB arena block. */
const OVERFLOW_CHUNK_BUCKETS = 31;
const OVERFLOW_CHUNK_WORDS = OVERFLOW_CHUNK_BUCKETS * BUCKET_WORDS + 8;
const BUCKET_BYTES = BUCKET_WORDS * 4;
/** Operations between two quiescent-point announcements (each costs one Atomics.load). */
export const QUIESCENT_INTERVAL_OPS = 64;
/** Spins (each an Atomics.load, ~12 ns) before a waiter sleeps BACKOFF_MS. */
const SPINS_BEFORE_SLEEP = 128;
/** A waiter's sleep: lock holders never notify, so waiters re-check after this long. */
const BACKOFF_MS = 0.05;
/** More hops than any chain can have (the arena holds at most 2^25 buckets): only a torn walk gets here. */
const MAX_CHAIN_HOPS = 1 << 25;
const TWO_TO_MINUS_32 = 2 ** -32;
/** read()'s answer for an absent key (a reserved value: never stored). */
const ABSENT = RESERVED_VALUE_BASE;

/** Per-thread counters (thread-counters.ts), in this order from index 0. */
export const COUNTER_NAMES = [
  'gets',
  'versionRetries',
  'lockAcquisitions',
  'lockWaits',
  'lockSleeps',
  'migrationWaits',
  'overflowBucketsAllocated',
  'overflowBucketsUnlinked',
  'overflowBucketsReclaimed',
  'tablesReclaimed',
  'entriesCounted',
] as const;
const C_GETS = 0;
const C_VERSION_RETRIES = 1;
const C_LOCK_ACQUISITIONS = 2;
const C_LOCK_WAITS = 3;
const C_LOCK_SLEEPS = 4;
const C_MIGRATION_WAITS = 5;
const C_OVERFLOW_ALLOCATED = 6;
const C_OVERFLOW_UNLINKED = 7;
const C_OVERFLOW_RECLAIMED = 8;
const C_TABLES_RECLAIMED = 9;
const C_ENTRIES_DELTA = 10;
if (COUNTER_NAMES.length > COUNTER_ARENA_LOCK) throw new Error('clht counters overlap the arena lock counters');

/** Retired-item sizes handed to the epoch domain: 0 an overflow bucket, > 0 a table (its block's words). */
const RETIRED_BUCKET = 0;

/** Buckets for `capacity` entries at `loadFactor` without growing. */
export function bucketsFor(capacity: number, loadFactor: number): number {
  let buckets = Math.max(MIN_BUCKETS, Math.ceil(capacity / (loadFactor * ENTRIES_PER_BUCKET)));
  while (growAtFor(buckets, loadFactor) < capacity) buckets++;
  return buckets;
}

function growAtFor(buckets: number, loadFactor: number): number {
  return Math.max(1, Math.floor(loadFactor * ENTRIES_PER_BUCKET * buckets));
}

/** Word offset of the head bucket for `hash` in `table` (Lemire's range reduction; see hash-table.ts homeSlot). */
function headOf(memory: Int32Array, table: number, hash: number): number {
  const bucket = ((hash >>> 0) * memory[table + T_BUCKETS] * TWO_TO_MINUS_32) | 0;
  return table + TABLE_HEADER_WORDS + (bucket << BUCKET_SHIFT);
}

export class ClhtMap implements ConcurrentMap {
  private readonly memory: Int32Array;
  private readonly arena: Arena;
  private readonly counters: Float64Array;
  /** Every thread's counter slots, for the entries sum that decides growth. */
  private readonly allCounters: Float64Array;
  private readonly header: number;
  private readonly tableWord: number;
  private readonly claimWord: number;
  private readonly loadFactor: number;
  /** Uncounted mutexes: resizes and the pool are rare; their waits show as migrationWaits. */
  private readonly resizeMu: Mutex;
  private readonly poolMu: Mutex;
  private readonly epoch: EpochDomain;
  private readonly reclaimItem: Reclaim;
  /**
   * Count down to this thread's next quiescent-point announcement: gets on one
   * countdown (which doubles as the `gets` counter, so a get increments
   * nothing shared), every other operation on the other.
   */
  private getsUntilQuiescentPoint = 0;
  private getsCountdownAtFlush = 0;
  private opsUntilQuiescentPoint = 0;
  /** > 0 while forEach walks a table on this thread: no announcements. */
  private pinDepth = 0;
  /** findLocked's second answer when the key is absent: the first free key word (0: chain full) and the last bucket. */
  private freeKeyWord = 0;
  private tailBucket = 0;
  private cachedTable = -1;
  private cachedScale = 0.5;

  constructor(private readonly mapMemory: MapMemory) {
    const { memory, header, arena, counters, buffer, countersByteOffset } = mapMemory;
    this.memory = memory;
    this.arena = arena;
    this.counters = counters;
    this.allCounters = new Float64Array(buffer, countersByteOffset, MAX_THREAD_SLOTS * COUNTERS_PER_THREAD);
    this.header = header;
    this.tableWord = header + CL_TABLE;
    this.claimWord = memory[header + CL_CLAIM_WORD];
    this.loadFactor = memory[header + CL_LOAD_FACTOR] / LOAD_FACTOR_SCALE;
    const uncounted = { acquisitions: 0, contended: 1, sleeps: 2 };
    this.resizeMu = new Mutex(memory, header + CL_RESIZE_MU, new Float64Array(3), uncounted);
    this.poolMu = new Mutex(memory, header + CL_POOL_MU, new Float64Array(3), uncounted);
    this.epoch = new EpochDomain(arena, memory[header + CL_EPOCH_BLOCK]);
    this.reclaimItem = (offset, size) => this.reclaimLocked(offset, size);
  }

  /** Main thread: lays out the header, the first table and the epoch block. */
  static initialise(arena: Arena, header: number, claimWord: number, capacity: number, loadFactor: number): void {
    const memory = arena.memory;
    memory[header + CL_CAPACITY] = capacity;
    memory[header + CL_LOAD_FACTOR] = Math.round(loadFactor * LOAD_FACTOR_SCALE);
    memory[header + CL_EPOCH_BLOCK] = createEpochBlock(arena);
    memory[header + CL_CLAIM_WORD] = claimWord;
    Atomics.store(memory, header + CL_TABLE, allocateTable(arena, bucketsFor(capacity, loadFactor), loadFactor));
  }

  // ── get: a seqlock read ─────────────────────────────────────────────────────
  get(key: number): number | undefined {
    // One mask and compare: true exactly for integers 0..2^31−1 (isValidKey's set).
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (--this.getsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const value = this.read(key);
    return value === ABSENT ? undefined : value;
  }

  /** The key's value or ABSENT, lock-free. The caller has passed its quiescent-point check. */
  private read(key: number): number {
    const memory = this.memory;
    const hash = hashKey(key);
    const table = memory[this.tableWord]; // plain: a stale table is all FROZEN
    if (table !== this.cachedTable) this.cacheTable(table);
    const head = table + TABLE_HEADER_WORDS + ((((hash >>> 0) * this.cachedScale) | 0) << BUCKET_SHIFT);
    const version = memory[head]; // plain: see "Seqlock reads"
    if ((version & FLAGS) === 0) {
      const found = scanChain(memory, head, key, hash);
      if (memory[head] === version) return found;
    }
    return this.readSlow(key, hash);
  }

  /**
   * get()'s view of the table's geometry, keyed by its base: buckets × 2^-32
   * (headOf's range-reduction factor). Saves a dependent load and a multiply.
   * A base never names two geometries: bucket counts only double, so two
   * tables of one map never share an arena size class (the arena reuses a
   * block only within its class), and a base is only ever a table's.
   */
  private cacheTable(table: number): void {
    this.cachedTable = table;
    this.cachedScale = this.memory[table + T_BUCKETS] * TWO_TO_MINUS_32;
  }

  /** A read that met a writer, a resize, or a version change: retry until a scan validates. */
  private readSlow(key: number, hash: number): number {
    const memory = this.memory;
    let table = Atomics.load(memory, this.tableWord);
    let spins = 0;
    for (;;) {
      const head = headOf(memory, table, hash);
      const version = Atomics.load(memory, head);
      if ((version & WRITING) !== 0) {
        if (spins === 0) this.counters[C_VERSION_RETRIES]++; // one per wait, however long
        spins = this.backOff(spins, head, version);
        continue;
      }
      const found = scanChain(memory, head, key, hash);
      if ((Atomics.load(memory, head) | FROZEN) !== (version | FROZEN)) {
        this.counters[C_VERSION_RETRIES]++;
        continue;
      }
      if ((version & FROZEN) === 0) return found;
      // Frozen before the scan: current only while the table has not been replaced (invariant 4).
      const current = Atomics.load(memory, this.tableWord);
      if (current === table) return found;
      table = current;
    }
  }

  // ── set ─────────────────────────────────────────────────────────────────────
  set(key: number, value: number): void {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (!isValidValue(value)) checkValue(value);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const memory = this.memory;
    const hash = hashKey(key);
    for (;;) {
      const table = memory[this.tableWord];
      const head = headOf(memory, table, hash);
      const version = this.lockBucket(head);
      if (version === MIGRATING) {
        this.awaitMigration(table);
        continue;
      }
      const keyWord = this.findLocked(head, key, hash);
      if (keyWord >= 0) {
        memory[keyWord + VALUE_OFFSET] = value;
        this.unlockBucket(head, version);
        return;
      }
      if (this.tryInsertLocked(table, head, version, key, value)) return;
    }
  }

  // ── delete ──────────────────────────────────────────────────────────────────
  delete(key: number): boolean {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const memory = this.memory;
    const hash = hashKey(key);
    for (;;) {
      const table = memory[this.tableWord];
      const head = headOf(memory, table, hash);
      const version = this.lockBucket(head);
      if (version === MIGRATING) {
        this.awaitMigration(table);
        continue;
      }
      const keyWord = this.findLocked(head, key, hash);
      if (keyWord < 0) {
        Atomics.store(memory, head, version); // unchanged: the same version
        return false;
      }
      const unlinked = this.removeLocked(head, keyWord);
      this.unlockBucket(head, version);
      this.counters[C_ENTRIES_DELTA]--;
      if (unlinked !== 0) this.retireOverflow(unlinked);
      return true;
    }
  }

  // ── getOrSet (Go: LoadOrStore) ──────────────────────────────────────────────
  getOrSet(key: number, value: number): number {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (!isValidValue(value)) checkValue(value);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    // A hit needs no lock.
    const seen = this.read(key);
    if (seen !== ABSENT) return seen;
    const memory = this.memory;
    const hash = hashKey(key);
    for (;;) {
      const table = memory[this.tableWord];
      const head = headOf(memory, table, hash);
      const version = this.lockBucket(head);
      if (version === MIGRATING) {
        this.awaitMigration(table);
        continue;
      }
      const keyWord = this.findLocked(head, key, hash);
      if (keyWord >= 0) {
        // Re-check: another thread stored it between the read and the lock.
        const actual = memory[keyWord + VALUE_OFFSET];
        Atomics.store(memory, head, version);
        return actual;
      }
      if (this.tryInsertLocked(table, head, version, key, value)) return value;
    }
  }

  // ── compareAndSet (Go: CompareAndSwap) ──────────────────────────────────────
  compareAndSet(key: number, expected: number, value: number): boolean {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (!isValidValue(expected)) checkValue(expected, 'expected');
    if (!isValidValue(value)) checkValue(value);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    // A mismatch needs no lock (ABSENT never equals a valid `expected`).
    if (this.read(key) !== expected) return false;
    const memory = this.memory;
    const hash = hashKey(key);
    for (;;) {
      const table = memory[this.tableWord];
      const head = headOf(memory, table, hash);
      const version = this.lockBucket(head);
      if (version === MIGRATING) {
        this.awaitMigration(table);
        continue;
      }
      const keyWord = this.findLocked(head, key, hash);
      if (keyWord < 0 || memory[keyWord + VALUE_OFFSET] !== expected) {
        Atomics.store(memory, head, version);
        return false;
      }
      memory[keyWord + VALUE_OFFSET] = value;
      this.unlockBucket(head, version);
      return true;
    }
  }

  // ── add: read-modify-write under the bucket lock; an absent key counts as 0 ──
  add(key: number, delta: number): number {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if ((delta | 0) !== delta) checkDelta(delta);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const memory = this.memory;
    const hash = hashKey(key);
    for (;;) {
      const table = memory[this.tableWord];
      const head = headOf(memory, table, hash);
      const version = this.lockBucket(head);
      if (version === MIGRATING) {
        this.awaitMigration(table);
        continue;
      }
      const keyWord = this.findLocked(head, key, hash);
      const current = keyWord >= 0 ? memory[keyWord + VALUE_OFFSET] : 0;
      const next = current + delta;
      if (next < MIN_VALUE || next > MAX_VALUE) {
        Atomics.store(memory, head, version); // rejected: nothing changed
        checkAddResult(key, current, delta);
      }
      if (keyWord >= 0) {
        memory[keyWord + VALUE_OFFSET] = next;
        this.unlockBucket(head, version);
        return next;
      }
      if (this.tryInsertLocked(table, head, version, key, next)) return next;
    }
  }

  // ── size and forEach (Go: Range) ────────────────────────────────────────────
  size(): number {
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const memory = this.memory;
    const table = Atomics.load(memory, this.tableWord);
    const buckets = memory[table + T_BUCKETS];
    const scratch = { pairs: new Int32Array(4 * ENTRIES_PER_BUCKET) };
    let entries = 0;
    for (let bucket = 0; bucket < buckets; bucket++) {
      entries += this.snapshotChain(table + TABLE_HEADER_WORDS + (bucket << BUCKET_SHIFT), scratch);
    }
    return entries;
  }

  forEach(fn: (key: number, value: number) => void): void {
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const memory = this.memory;
    this.pinDepth++;
    try {
      const table = Atomics.load(memory, this.tableWord);
      const buckets = memory[table + T_BUCKETS];
      // Per call, not per view: fn may call forEach again.
      const scratch = { pairs: new Int32Array(4 * ENTRIES_PER_BUCKET) };
      for (let bucket = 0; bucket < buckets; bucket++) {
        const count = this.snapshotChain(table + TABLE_HEADER_WORDS + (bucket << BUCKET_SHIFT), scratch);
        const pairs = scratch.pairs;
        for (let i = 0; i < 2 * count; i += 2) fn(pairs[i], pairs[i + 1]);
      }
    } finally {
      this.pinDepth--;
    }
  }

  /**
   * Copies a chain's entries into scratch.pairs (grown as needed) as [key,
   * value] pairs, validated by the head's version; returns how many. The chain
   * may be frozen: its contents were current when it froze (invariant 4),
   * after the caller loaded its table.
   */
  private snapshotChain(head: number, scratch: { pairs: Int32Array }): number {
    const memory = this.memory;
    let spins = 0;
    for (;;) {
      const version = Atomics.load(memory, head);
      if ((version & WRITING) !== 0) {
        spins = this.backOff(spins, head, version);
        continue;
      }
      let count = 0;
      for (let word = head + B_KEYS; word < head + B_KEYS + ENTRIES_PER_BUCKET; word++) {
        if (memory[word] !== EMPTY_KEY) count = appendPair(scratch, count, memory[word], memory[word + VALUE_OFFSET]);
      }
      let bucket = memory[head + B_NEXT];
      for (let hops = MAX_CHAIN_HOPS; bucket !== 0 && hops > 0; hops--) {
        const keys = bucket + B_KEYS;
        let slot = 0;
        for (; slot < ENTRIES_PER_BUCKET && memory[keys + slot] !== EMPTY_KEY; slot++) {
          count = appendPair(scratch, count, memory[keys + slot], memory[keys + slot + VALUE_OFFSET]);
        }
        bucket = slot === ENTRIES_PER_BUCKET ? memory[bucket + B_NEXT] : 0;
      }
      if ((Atomics.load(memory, head) | FROZEN) === (version | FROZEN)) return count;
      this.counters[C_VERSION_RETRIES]++;
    }
  }

  /**
   * Counters summed over threads (exact once threads stop), the current
   * table's shape (walked chain by chain, O(buckets)), pool, epoch and arena
   * figures. `averageProbeLength` is the mean number of buckets (cache lines)
   * a hit reads; `maxProbeLength` the longest chain, in buckets.
   */
  stats(): Record<string, number> {
    // A quiescent point first, as every operation: the walk below must be covered by this thread's epoch slot.
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    this.flushCounters();
    const { entriesCounted, ...counters } = sumCounters(this.mapMemory, COUNTER_NAMES);
    const memory = this.memory;
    const header = this.header;
    const table = Atomics.load(memory, this.tableWord);
    const buckets = memory[table + T_BUCKETS];
    let entries = 0;
    let overflowBuckets = 0;
    let probeTotal = 0;
    let maxProbeLength = 0;
    const scratch = { pairs: new Int32Array(4 * ENTRIES_PER_BUCKET) };
    for (let bucket = 0; bucket < buckets; bucket++) {
      const count = this.snapshotChain(table + TABLE_HEADER_WORDS + (bucket << BUCKET_SHIFT), scratch);
      const chainBuckets = Math.max(1, Math.ceil(count / ENTRIES_PER_BUCKET));
      entries += count;
      // Overflow holds entries only behind a full head, filled in order: entry i
      // of the snapshot is in the chain's bucket floor(i / 7), read after that many lines.
      for (let i = 0; i < count; i++) probeTotal += 1 + Math.floor(i / ENTRIES_PER_BUCKET);
      if (chainBuckets > maxProbeLength) maxProbeLength = chainBuckets;
    }
    for (let bucket = 0; bucket < buckets; bucket++) {
      let next = memory[table + TABLE_HEADER_WORDS + (bucket << BUCKET_SHIFT) + B_NEXT];
      for (let hops = MAX_CHAIN_HOPS; next !== 0 && hops > 0; hops--, overflowBuckets++) next = memory[next + B_NEXT];
    }
    this.poolMu.lock();
    let pool: Record<string, number>;
    try {
      pool = {
        overflowBucketsCarved: memory[header + CL_POOL_CARVED],
        overflowBucketsFree: memory[header + CL_POOL_FREE],
      };
    } finally {
      this.poolMu.unlock();
    }
    const { epoch, bytesAwaitingReclamation, itemsAwaitingReclamation, activeThreads } = this.epoch.stats();
    return {
      ...counters,
      entries,
      entriesCounted,
      buckets,
      slots: buckets * ENTRIES_PER_BUCKET,
      overflowBuckets,
      tableBytes: (TABLE_HEADER_WORDS + buckets * BUCKET_WORDS) * 4 + overflowBuckets * BUCKET_BYTES,
      resizes: Atomics.load(memory, header + CL_RESIZES),
      averageProbeLength: entries === 0 ? 0 : probeTotal / entries,
      maxProbeLength,
      ...pool,
      epoch,
      bytesAwaitingReclamation,
      itemsAwaitingReclamation,
      activeThreads,
      ...memoryStats(this.mapMemory),
    };
  }

  /**
   * This thread holds nothing of the map until its next call: stop holding
   * reclamation back, and reclaim now if the pool lock is free. Ignored
   * inside a forEach callback, whose walk still holds the table.
   */
  quiesce(): void {
    if (this.pinDepth > 0) return;
    this.flushCounters();
    this.epoch.goIdle();
    // The next operation, whichever it is, announces before it reads anything.
    this.getsUntilQuiescentPoint = this.getsCountdownAtFlush = 0;
    this.opsUntilQuiescentPoint = 0;
    this.tryReclaim();
  }

  // ── Bucket locks ────────────────────────────────────────────────────────────

  /** Takes the bucket's WRITING bit; returns the flag-free version it held, or MIGRATING if it is frozen. */
  private lockBucket(head: number): number {
    const memory = this.memory;
    this.counters[C_LOCK_ACQUISITIONS]++;
    const version = memory[head]; // plain: the CAS checks it
    if ((version & FLAGS) === 0 && Atomics.compareExchange(memory, head, version, version | WRITING) === version) {
      return version;
    }
    return this.lockBucketSlow(head);
  }

  private lockBucketSlow(head: number): number {
    const memory = this.memory;
    this.counters[C_LOCK_WAITS]++;
    let spins = 0;
    for (;;) {
      const version = Atomics.load(memory, head);
      if ((version & FROZEN) !== 0) return MIGRATING;
      if ((version & WRITING) !== 0) {
        spins = this.backOff(spins, head, version);
      } else if (Atomics.compareExchange(memory, head, version, version | WRITING) === version) {
        return version;
      }
    }
  }

  /** Releases a bucket whose chain changed: the next version, flags clear. */
  private unlockBucket(head: number, version: number): void {
    Atomics.store(this.memory, head, (version + VERSION_STEP) | 0);
  }

  /**
   * One step of waiting for a bucket's WRITING bit to clear: spin, and every
   * SPINS_BEFORE_SLEEP steps sleep BACKOFF_MS (a holder descheduled on a busy
   * machine would otherwise make us burn its time slice). Returns the new spin count.
   */
  private backOff(spins: number, head: number, version: number): number {
    if (spins < SPINS_BEFORE_SLEEP) return spins + 1;
    this.counters[C_LOCK_SLEEPS]++;
    Atomics.wait(this.memory, head, version, BACKOFF_MS);
    return 0;
  }

  /** A writer met a frozen bucket of `table`: wait until the resize that froze it has published. */
  private awaitMigration(table: number): void {
    this.counters[C_MIGRATION_WAITS]++;
    for (let spin = 0; spin < SPINS_BEFORE_SLEEP; spin++) {
      if (Atomics.load(this.memory, this.tableWord) !== table) return;
    }
    // The resizer holds resizeMu until it has published (or thawed): sleep on it.
    this.resizeMu.lock();
    this.resizeMu.unlock();
  }

  // ── Chains (the caller holds the head's WRITING bit) ────────────────────────

  /**
   * The key word holding `key` in the chain at `head`, or −1; when −1, also
   * sets freeKeyWord (where an insert goes: the first EMPTY key word on the
   * head's probe, else the first in overflow; 0 if the chain is full) and
   * tailBucket (the chain's last bucket).
   */
  private findLocked(head: number, key: number, hash: number): number {
    const memory = this.memory;
    let slot = preferredSlot(hash);
    for (let probes = ENTRIES_PER_BUCKET; probes > 0; probes--) {
      const word = head + B_KEYS + slot;
      const probed = memory[word];
      if (probed === key) return word;
      if (probed === EMPTY_KEY) {
        this.freeKeyWord = word;
        return -1;
      }
      slot = slot === ENTRIES_PER_BUCKET - 1 ? 0 : slot + 1;
    }
    // The head is full: the overflow buckets, in order (invariant 1).
    let bucket = head;
    for (;;) {
      const next = memory[bucket + B_NEXT];
      if (next === 0) {
        this.freeKeyWord = 0;
        this.tailBucket = bucket;
        return -1;
      }
      bucket = next;
      const keys = bucket + B_KEYS;
      for (let word = keys; word < keys + ENTRIES_PER_BUCKET; word++) {
        const probed = memory[word];
        if (probed === key) return word;
        if (probed === EMPTY_KEY) {
          this.freeKeyWord = word;
          return -1;
        }
      }
    }
  }

  /**
   * Inserts a key findLocked just reported absent, and unlocks. Returns false
   * (bucket released unchanged) when the table had to grow first: the caller
   * retries in the new table. A RangeError (maxBytes) leaves the map unchanged.
   */
  private tryInsertLocked(table: number, head: number, version: number, key: number, value: number): boolean {
    const memory = this.memory;
    if (this.approximateEntries() >= memory[table + T_GROW_AT]) {
      Atomics.store(memory, head, version);
      this.grow(table);
      return false;
    }
    const freeKeyWord = this.freeKeyWord;
    if (freeKeyWord !== 0) {
      memory[freeKeyWord + VALUE_OFFSET] = value;
      memory[freeKeyWord] = key;
    } else {
      const tail = this.tailBucket;
      let fresh: number;
      try {
        fresh = this.allocateOverflow();
      } catch (error) {
        Atomics.store(memory, head, version);
        throw error;
      }
      memory[fresh + B_VALUES] = value;
      memory[fresh + B_KEYS] = key;
      memory[tail + B_NEXT] = fresh;
    }
    this.unlockBucket(head, version);
    this.counters[C_ENTRIES_DELTA]++;
    return true;
  }

  /**
   * Removes the entry at `keyWord` keeping invariant 1: a hole in the head is
   * closed by shifting later keys back and refilled from the chain's last
   * overflow entry; a hole in overflow takes that last entry. Returns an
   * overflow bucket it unlinked (the caller retires it after unlocking), or 0.
   */
  private removeLocked(head: number, keyWord: number): number {
    const memory = this.memory;
    // The chain's last overflow entry, its bucket, and the bucket before that.
    let lastKeyWord = 0;
    let bucket = head;
    let previous = 0;
    for (let next = memory[head + B_NEXT]; next !== 0; next = memory[next + B_NEXT]) {
      previous = bucket;
      bucket = next;
      let count = 0;
      while (count < ENTRIES_PER_BUCKET && memory[bucket + B_KEYS + count] !== EMPTY_KEY) count++;
      if (count > 0) lastKeyWord = bucket + B_KEYS + count - 1;
    }
    if (keyWord >= head && keyWord < head + BUCKET_WORDS) {
      // overflow buckets may lie below the head
      // In the head: close the hole; with overflow entries the head was full, so
      // the hole left is its only free slot, on the probe of any key: refill it.
      const hole = closeHeadHole(memory, head, keyWord - head - B_KEYS);
      if (lastKeyWord !== 0) {
        memory[hole + VALUE_OFFSET] = memory[lastKeyWord + VALUE_OFFSET];
        memory[hole] = memory[lastKeyWord];
        memory[lastKeyWord] = EMPTY_KEY;
      }
    } else if (lastKeyWord !== keyWord) {
      memory[keyWord + VALUE_OFFSET] = memory[lastKeyWord + VALUE_OFFSET];
      memory[keyWord] = memory[lastKeyWord];
      memory[lastKeyWord] = EMPTY_KEY;
    } else {
      memory[keyWord] = EMPTY_KEY;
    }
    return this.unlinkEmptyTail(bucket, previous, head);
  }

  /**
   * Unlinks the chain's last bucket if it is an empty overflow bucket
   * behind an at most half-full one (invariant 1).
   */
  private unlinkEmptyTail(last: number, previous: number, head: number): number {
    const memory = this.memory;
    if (previous === 0 || memory[last + B_KEYS] !== EMPTY_KEY) return 0;
    if (previous === head) {
      let entries = 0;
      for (let word = head + B_KEYS; word < head + B_KEYS + ENTRIES_PER_BUCKET; word++) {
        if (memory[word] !== EMPTY_KEY) entries++;
      }
      if (entries > HALF_FULL_ENTRIES) return 0;
    } else if (memory[previous + B_KEYS + HALF_FULL_ENTRIES] !== EMPTY_KEY) {
      return 0;
    }
    memory[previous + B_NEXT] = 0;
    this.counters[C_OVERFLOW_UNLINKED]++;
    return last;
  }

  // ── Growth ──────────────────────────────────────────────────────────────────

  /** Inserts minus deletes summed over every thread's counter slot (plain loads: approximate under writes). */
  private approximateEntries(): number {
    const all = this.allCounters;
    const claimed = Math.min(this.memory[this.claimWord], MAX_THREAD_SLOTS);
    let entries = 0;
    for (let slot = 0; slot < claimed; slot++) entries += all[slot * COUNTERS_PER_THREAD + C_ENTRIES_DELTA];
    return entries;
  }

  /** Doubles `table` unless another thread already replaced it. The caller holds no bucket. */
  private grow(table: number): void {
    const memory = this.memory;
    this.resizeMu.lock();
    try {
      if (Atomics.load(memory, this.tableWord) !== table) return;
      if (this.approximateEntries() < memory[table + T_GROW_AT]) return; // deletes made room meanwhile
      this.resizeLocked(table);
    } finally {
      this.resizeMu.unlock();
    }
  }

  /** Freezes and copies every chain of `table` into a table twice its size, then publishes it. resizeMu held. */
  private resizeLocked(table: number): void {
    const memory = this.memory;
    const buckets = memory[table + T_BUCKETS];
    const fresh = allocateTable(this.arena, 2 * buckets, this.loadFactor);
    let frozen = 0;
    try {
      for (let bucket = 0; bucket < buckets; bucket++) {
        const head = table + TABLE_HEADER_WORDS + (bucket << BUCKET_SHIFT);
        this.freezeBucket(head);
        frozen++;
        this.copyChain(head, fresh);
      }
    } catch (error) {
      // Out of memory (maxBytes) mid-copy: nothing was published; undo and report.
      thawBuckets(memory, table, frozen);
      this.freeUnpublishedTable(fresh);
      throw error;
    }
    Atomics.store(memory, this.tableWord, fresh);
    memory[this.header + CL_RESIZES]++;
    const retiredOverflow = countOverflowBuckets(memory, table);
    memory[table + T_RETIRED_OVERFLOW] = retiredOverflow;
    this.poolMu.lock();
    try {
      this.epoch.retireLocked(table, memory[table + T_BLOCK_WORDS], retiredTableBytes(memory, table));
      this.epoch.tryReclaimLocked(this.reclaimItem);
    } finally {
      this.poolMu.unlock();
    }
  }

  /** Waits until no writer holds the bucket, then sets FROZEN (a CAS from a flag-free version). */
  private freezeBucket(head: number): void {
    const memory = this.memory;
    let spins = 0;
    for (;;) {
      const version = Atomics.load(memory, head);
      if ((version & WRITING) !== 0) {
        spins = this.backOff(spins, head, version);
      } else if (Atomics.compareExchange(memory, head, version, version | FROZEN) === version) {
        return;
      }
    }
  }

  /** Appends every entry of a frozen chain to its home chain in the unpublished table `fresh`. */
  private copyChain(head: number, fresh: number): void {
    const memory = this.memory;
    for (let word = head + B_KEYS; word < head + B_KEYS + ENTRIES_PER_BUCKET; word++) {
      if (memory[word] !== EMPTY_KEY) this.appendUnpublished(fresh, memory[word], memory[word + VALUE_OFFSET]);
    }
    for (let bucket = memory[head + B_NEXT]; bucket !== 0; bucket = memory[bucket + B_NEXT]) {
      const keys = bucket + B_KEYS;
      for (let word = keys; word < keys + ENTRIES_PER_BUCKET && memory[word] !== EMPTY_KEY; word++) {
        this.appendUnpublished(fresh, memory[word], memory[word + VALUE_OFFSET]);
      }
    }
  }

  /** Adds an absent key to a table no other thread can see yet (plain writes, no lock; insert rule of findLocked). */
  private appendUnpublished(table: number, key: number, value: number): void {
    const memory = this.memory;
    const hash = hashKey(key);
    const head = headOf(memory, table, hash);
    if (this.findLocked(head, key, hash) >= 0) throw new Error(`clht resize: key ${key} copied twice`);
    let word = this.freeKeyWord;
    if (word === 0) {
      const fresh = this.allocateOverflow();
      memory[this.tailBucket + B_NEXT] = fresh;
      word = fresh + B_KEYS;
    }
    memory[word] = key;
    memory[word + VALUE_OFFSET] = value;
  }

  /** A table that was never published: its overflow buckets go straight back to the pool, its block to the arena. */
  private freeUnpublishedTable(table: number): void {
    const memory = this.memory;
    this.poolMu.lock();
    try {
      this.freeOverflowChainsLocked(table);
    } finally {
      this.poolMu.unlock();
    }
    this.arena.free(memory[table + T_BLOCK], memory[table + T_BLOCK_WORDS]);
  }

  // ── Overflow pool and reclamation ───────────────────────────────────────────

  /** An empty overflow bucket (next 0, every key EMPTY): from the free list or the current slab chunk. */
  private allocateOverflow(): number {
    const memory = this.memory;
    const header = this.header;
    let bucket: number;
    this.poolMu.lock();
    try {
      bucket = memory[header + CL_POOL_FREE_HEAD];
      if (bucket !== 0) {
        memory[header + CL_POOL_FREE_HEAD] = memory[bucket + B_NEXT];
        memory[header + CL_POOL_FREE]--;
      } else {
        if (memory[header + CL_POOL_CHUNK_NEXT] === memory[header + CL_POOL_CHUNK_END]) {
          const block = this.arena.allocate(OVERFLOW_CHUNK_WORDS);
          const first = alignToBucket(block);
          memory[header + CL_POOL_CHUNK_NEXT] = first;
          memory[header + CL_POOL_CHUNK_END] = first + OVERFLOW_CHUNK_BUCKETS * BUCKET_WORDS;
        }
        bucket = memory[header + CL_POOL_CHUNK_NEXT];
        memory[header + CL_POOL_CHUNK_NEXT] = bucket + BUCKET_WORDS;
        memory[header + CL_POOL_CARVED]++;
      }
    } finally {
      this.poolMu.unlock();
    }
    // Plain stores: the bucket is published later by the link store under its chain's lock.
    memory[bucket + B_VERSION] = 0;
    memory[bucket + B_NEXT] = 0;
    memory.fill(EMPTY_KEY, bucket + B_KEYS, bucket + B_KEYS + ENTRIES_PER_BUCKET);
    this.counters[C_OVERFLOW_ALLOCATED]++;
    return bucket;
  }

  /** An overflow bucket just unlinked: lock-free readers may still be walking it (invariant 5). */
  private retireOverflow(bucket: number): void {
    this.poolMu.lock();
    try {
      this.epoch.retireLocked(bucket, RETIRED_BUCKET, BUCKET_BYTES);
    } finally {
      this.poolMu.unlock();
    }
  }

  /** Reclaims what has become safe, if anything waits and the pool lock is free right now. */
  private tryReclaim(): void {
    if (!this.epoch.hasPending() || !this.poolMu.tryLock()) return;
    try {
      this.epoch.tryReclaimLocked(this.reclaimItem);
    } finally {
      this.poolMu.unlock();
    }
  }

  /** The epoch domain's callback (poolMu held): frees one retired item; returns the bytes it accounted for. */
  private reclaimLocked(offset: number, size: number): number {
    if (size === RETIRED_BUCKET) {
      this.pushFreeBucketLocked(offset);
      this.counters[C_OVERFLOW_RECLAIMED]++;
      return BUCKET_BYTES;
    }
    const memory = this.memory;
    const bytes = retiredTableBytes(memory, offset);
    this.counters[C_OVERFLOW_RECLAIMED] += this.freeOverflowChainsLocked(offset);
    this.arena.free(memory[offset + T_BLOCK], memory[offset + T_BLOCK_WORDS]);
    this.counters[C_TABLES_RECLAIMED]++;
    return bytes;
  }

  /** Returns every overflow bucket of a table nobody can reach any more to the pool; how many. */
  private freeOverflowChainsLocked(table: number): number {
    const memory = this.memory;
    const buckets = memory[table + T_BUCKETS];
    let freed = 0;
    for (let bucket = 0; bucket < buckets; bucket++) {
      let overflow = memory[table + TABLE_HEADER_WORDS + (bucket << BUCKET_SHIFT) + B_NEXT];
      while (overflow !== 0) {
        const next = memory[overflow + B_NEXT];
        this.pushFreeBucketLocked(overflow);
        freed++;
        overflow = next;
      }
    }
    return freed;
  }

  private pushFreeBucketLocked(bucket: number): void {
    const memory = this.memory;
    memory[bucket + B_NEXT] = memory[this.header + CL_POOL_FREE_HEAD];
    memory[this.header + CL_POOL_FREE_HEAD] = bucket;
    memory[this.header + CL_POOL_FREE]++;
  }

  // ── Quiescent points and counters ───────────────────────────────────────────

  /** Start of an operation: a quiescent point; announce it every QUIESCENT_INTERVAL_OPS, and reclaim. */
  private passQuiescentPoint(): void {
    this.flushCounters();
    this.getsUntilQuiescentPoint = this.getsCountdownAtFlush = QUIESCENT_INTERVAL_OPS - 1;
    this.opsUntilQuiescentPoint = QUIESCENT_INTERVAL_OPS - 1;
    if (this.pinDepth !== 0) return;
    this.epoch.quiescentPoint();
    this.tryReclaim();
  }

  private flushCounters(): void {
    this.counters[C_GETS] += this.getsCountdownAtFlush - this.getsUntilQuiescentPoint;
    this.getsCountdownAtFlush = this.getsUntilQuiescentPoint;
  }
}

/** The key's value in the chain at `head`, or ABSENT; plain loads (the caller validates or holds the lock). */
function scanChain(memory: Int32Array, head: number, key: number, hash: number): number {
  // The preferred slot first, out of the loop: it answers most lookups (a
  // standalone kernel measured the peeled probe 5-10% faster at lf 0.5-0.75).
  const slot = preferredSlot(hash);
  const probed = memory[head + B_KEYS + slot];
  if (probed === key) return memory[head + B_VALUES + slot];
  if (probed === EMPTY_KEY) return ABSENT;
  return scanHeadFrom(memory, head, key, slot);
}

/** The rest of a head probe after `slot`, then the overflow buckets. */
function scanHeadFrom(memory: Int32Array, head: number, key: number, slot: number): number {
  let probe = slot;
  for (let probes = ENTRIES_PER_BUCKET - 1; probes > 0; probes--) {
    probe = probe === ENTRIES_PER_BUCKET - 1 ? 0 : probe + 1;
    const probed = memory[head + B_KEYS + probe];
    if (probed === key) return memory[head + B_VALUES + probe];
    if (probed === EMPTY_KEY) return ABSENT;
  }
  return scanOverflow(memory, memory[head + B_NEXT], key);
}

/** The rest of a lookup behind a full head: overflow buckets are filled in order (invariant 1). */
function scanOverflow(memory: Int32Array, first: number, key: number): number {
  let bucket = first;
  for (let hops = MAX_CHAIN_HOPS; bucket !== 0 && hops > 0; hops--) {
    const keys = bucket + B_KEYS;
    for (let word = keys; word < keys + ENTRIES_PER_BUCKET; word++) {
      const probed = memory[word];
      if (probed === key) return memory[word + VALUE_OFFSET];
      if (probed === EMPTY_KEY) return ABSENT;
    }
    bucket = memory[bucket + B_NEXT];
  }
  return ABSENT; // the end of the chain, or a torn walk (whose version check fails)
}

/** A key's first slot in its head bucket: the hash's low 16 bits scaled to 0..6 (the high bits chose the bucket). */
function preferredSlot(hash: number): number {
  return ((hash & 0xffff) * ENTRIES_PER_BUCKET) >>> 16;
}

/**
 * Empties head slot `slot` by Knuth's algorithm R on the 7-slot cyclic table:
 * later keys whose probe passes the hole move back into it, until the scan
 * meets an empty slot (at the latest the hole itself, once around). Returns
 * the key word of the final hole, EMPTY_KEY.
 */
function closeHeadHole(memory: Int32Array, head: number, slot: number): number {
  const keys = head + B_KEYS;
  memory[keys + slot] = EMPTY_KEY;
  let hole = slot;
  let probe = slot;
  // Each move brings a key closer to its home, so the scan ends; the bound only guards a bug.
  for (let step = 0; step < ENTRIES_PER_BUCKET * ENTRIES_PER_BUCKET; step++) {
    probe = probe === ENTRIES_PER_BUCKET - 1 ? 0 : probe + 1;
    const key = memory[keys + probe];
    if (key === EMPTY_KEY) break;
    const home = preferredSlot(hashKey(key));
    // The key may move back iff the hole lies before its slot on its probe from home.
    if (cyclicDistance(home, hole) < cyclicDistance(home, probe)) {
      memory[keys + hole + VALUE_OFFSET] = memory[keys + probe + VALUE_OFFSET];
      memory[keys + hole] = key;
      memory[keys + probe] = EMPTY_KEY;
      hole = probe;
    }
  }
  return keys + hole;
}

function cyclicDistance(from: number, to: number): number {
  return to >= from ? to - from : to + ENTRIES_PER_BUCKET - from;
}

/** Appends a [key, value] pair at index `count` of scratch.pairs, growing it; returns count + 1. */
function appendPair(scratch: { pairs: Int32Array }, count: number, key: number, value: number): number {
  if (2 * count + 2 > scratch.pairs.length) {
    const grown = new Int32Array(2 * scratch.pairs.length);
    grown.set(scratch.pairs);
    scratch.pairs = grown;
  }
  scratch.pairs[2 * count] = key;
  scratch.pairs[2 * count + 1] = value;
  return count + 1;
}

/** The first 64-byte-aligned word at or after `block` (arena blocks are 32-byte aligned). */
function alignToBucket(block: number): number {
  return (block + BUCKET_WORDS - 1) & ~(BUCKET_WORDS - 1);
}

/** A fresh, empty table of `buckets` buckets (64-byte aligned); returns its word offset. */
function allocateTable(arena: Arena, buckets: number, loadFactor: number): number {
  const memory = arena.memory;
  const words = TABLE_HEADER_WORDS + buckets * BUCKET_WORDS;
  const blockWords = words + 8; // room to align a 32-byte-aligned block to 64 bytes
  const block = arena.allocate(blockWords);
  const table = alignToBucket(block);
  memory.fill(0, table, table + TABLE_HEADER_WORDS);
  memory[table + T_BUCKETS] = buckets;
  memory[table + T_GROW_AT] = growAtFor(buckets, loadFactor);
  memory[table + T_BLOCK] = block;
  memory[table + T_BLOCK_WORDS] = blockWords;
  memory.fill(EMPTY_KEY, table + TABLE_HEADER_WORDS, table + words);
  for (let head = table + TABLE_HEADER_WORDS; head < table + words; head += BUCKET_WORDS) {
    memory[head + B_VERSION] = 0;
    memory[head + B_NEXT] = 0;
  }
  return table;
}

/** Clears FROZEN on the first `count` buckets of a table that was never replaced (a failed resize). */
function thawBuckets(memory: Int32Array, table: number, count: number): void {
  for (let bucket = 0; bucket < count; bucket++) {
    const head = table + TABLE_HEADER_WORDS + (bucket << BUCKET_SHIFT);
    const version = Atomics.load(memory, head);
    Atomics.store(memory, head, ((version & ~FLAGS) + VERSION_STEP) | 0);
  }
}

function countOverflowBuckets(memory: Int32Array, table: number): number {
  const buckets = memory[table + T_BUCKETS];
  let overflow = 0;
  for (let bucket = 0; bucket < buckets; bucket++) {
    let next = memory[table + TABLE_HEADER_WORDS + (bucket << BUCKET_SHIFT) + B_NEXT];
    for (; next !== 0; next = memory[next + B_NEXT]) overflow++;
  }
  return overflow;
}

/** Bytes a retired table accounts for: its block and its overflow buckets (the same at retirement and reclamation). */
function retiredTableBytes(memory: Int32Array, table: number): number {
  return Arena.blockBytes(memory[table + T_BLOCK_WORDS]) + memory[table + T_RETIRED_OVERFLOW] * BUCKET_BYTES;
}

/**
 * One view per map per thread: a second attach() on the same thread returns
 * the first view, so a thread has one epoch slot (a forgotten second view
 * would otherwise hold reclamation back) and one counter slot per map.
 */
const viewsOnThisThread = new Map<string, WeakRef<ClhtMap>>();

interface ClhtHandle extends SharedMapHandle {
  /** Identifies the map across threads (SharedArrayBuffer objects differ per thread). */
  readonly id: string;
}

export const clhtMapFactory: MapFactory = {
  name: NAME,
  description: 'CLHT / xsync MapOf: one cache line per bucket (7 keys, 7 values), seqlock reads, bucket write locks',
  shared: true,
  safeForConcurrentWrites: true,
  create(options?: MapOptions): MapHandle {
    const resolved = resolveMapOptions(options);
    const { handle, arena } = createMapMemory(NAME, resolved, CL_HEADER_WORDS, CACHE_LINE_PAIR_WORDS);
    ClhtMap.initialise(arena, handle.header, handle.claimWord, resolved.capacity, resolved.loadFactor);
    const clhtHandle: ClhtHandle = { ...handle, id: crypto.randomUUID() };
    return clhtHandle;
  },
  attach(handle: MapHandle): ConcurrentMap {
    let id: string | undefined;
    if (handle !== null && typeof handle === 'object' && handle.map === NAME) {
      const candidate = (handle as Partial<ClhtHandle>).id;
      if (typeof candidate !== 'string') {
        throw new TypeError(`handle.id must be the string ${NAME}'s create() returned, got ${String(candidate)}`);
      }
      const cached = viewsOnThisThread.get(candidate)?.deref();
      if (cached !== undefined) return cached;
      id = candidate;
    }
    const view = new ClhtMap(attachMapMemory(handle, NAME)); // throws for any other handle
    for (const [key, ref] of viewsOnThisThread) if (ref.deref() === undefined) viewsOnThisThread.delete(key);
    viewsOnThisThread.set(id as string, new WeakRef(view));
    return view;
  },
};
