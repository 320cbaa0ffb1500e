/**
 * readdirty: Go's classic sync.Map (src/sync/map.go, Go 1.9–1.23) ported step
 * for step to shared memory — a read table that threads consult with no lock
 * at all, a dirty table behind a mutex, a misses counter that decides when the
 * dirty table is promoted to be the new read table, and entries shared by
 * both tables whose `p` word is live, nil or expunged.
 *
 * When to use it (Go's advice holds): keys written once and read many times
 * (caches that only grow), or threads that read and overwrite disjoint key
 * sets. A read-table hit is one Atomics.load, a probe with plain loads and one
 * plain load of the entry — no shared write — so reads scale with threads.
 * When not to: a stream of new keys. Every first new key after a promotion
 * copies the whole read table into a fresh dirty table (O(n), dirtyRebuilds /
 * entriesCopied), lookups of keys not yet promoted take the mutex (misses),
 * and deleted keys linger as nil entries until the next rebuild expunges them.
 * There a map behind an RWMutex wins by several times.
 *
 * Shared words (map header, int32; see RD_* below for offsets):
 *   RD_READ (own line pair) — the read table, Go's `read atomic.Pointer[readOnly]`:
 *       (region offset << 1) | AMENDED, where AMENDED means "the dirty table
 *       holds some key the read table lacks". Always safe to load (Atomics);
 *       stored (Atomics) only with mu held. The region it names is immutable
 *       once published.
 *   RD_MU — the Mutex `mu` (mutex.ts). Every other word below it is read and
 *       written only with mu held:
 *   RD_DIRTY_ROOT — root of the dirty table (a HashTable; region 0 = nil).
 *       Holds every non-expunged entry of the read table plus the new keys.
 *   RD_MISSES — lookups since the last promotion that had to take mu to learn
 *       whether a key was present.
 *   RD_ENTRY_* — the entry slab: chunks of one-word entries carved from the
 *       arena, and a free list linked through free entries' words.
 *   RD_EXPUNGED_LIST — entries the last rebuild expunged (block: count, then
 *       entries); at promotion those still expunged are dropped.
 *   entry word `p` (one int32 per entry, in the slab) — written only by
 *       Atomics (CAS, exchange) once the entry is reachable; loaded by anyone.
 * Tables map key → entry offset, so the read and dirty tables share entries
 * and updating an existing key is a CAS on `p`, with no lock.
 *
 * Entry state machine (Go's entry.p; NIL and EXPUNGED are reserved values):
 *   p == NIL      — deleted; the key is still in the read table and, if the
 *                   dirty table exists, in it too. A store may CAS a value in
 *                   without the lock.
 *   p == EXPUNGED — deleted, the dirty table exists, and the entry is missing
 *                   from it. Only the lock holder moves an entry into or out of
 *                   this state: dirtyLocked (NIL → EXPUNGED, tryExpungeLocked)
 *                   and a store, which first un-expunges it (EXPUNGED → NIL,
 *                   unexpungeLocked) and adds it to the dirty table.
 *   otherwise     — the live value, in the read table and (if it exists) the
 *                   dirty table; replaced by CAS, deleted by CAS to NIL.
 *
 * Invariants:
 *   1. dirty ≠ nil ⇔ AMENDED (under mu): the dirty table is built right before
 *      AMENDED is set, and dropped when it becomes the read table.
 *   2. If dirty ≠ nil, every read-table entry not in it is EXPUNGED; no
 *      dirty-table entry is EXPUNGED. Hence a freshly promoted read table has
 *      no EXPUNGED entry, and every rebuild's expunged entries are new ones.
 *   3. Promotion (missLocked once misses ≥ len(dirty), or forEach when
 *      AMENDED) publishes the dirty region as the read table with AMENDED
 *      clear, drops dirty and zeroes misses. The read entries it leaves behind
 *      are exactly the rebuild's entries still EXPUNGED: they are dropped.
 *   4. Memory that lock-free threads may still read — an old read region, a
 *      dropped entry, an entry deleted from the dirty table — is retired to
 *      the epoch domain (epoch.ts) and reused only after every non-idle thread
 *      has passed a quiescent point. Each operation starts at a quiescent
 *      point; a thread announces one every QUIESCENT_INTERVAL_OPS operations
 *      (one Atomics.load per interval) and goes idle with quiesce(). forEach
 *      pins: no announcement while a callback runs.
 *
 * Linearisation points (for every operation, a key in neither table
 * linearises at the Atomics.load of RD_READ that found it absent with AMENDED
 * clear, or at the locked lookup that found it in neither table):
 *   get          — the load of p: plain on a read hit (see Publication below),
 *                  Atomics after a locked lookup.
 *   set          — the successful CAS on p (read hit, not expunged), the
 *                  Atomics.exchange under mu, or a new key's insertion into dirty.
 *   delete       — the CAS of p to NIL, or the load that saw NIL/EXPUNGED.
 *                  A dirty-only key also leaves the dirty table (under mu) and
 *                  its entry is retired at once.
 *   getOrSet     — the load that saw a live value, the CAS NIL → value, or a
 *                  new key's insertion.
 *   compareAndSet — the CAS on p, or the load of p that differed from expected.
 *   add          — the successful CAS on p, or a new key's insertion.
 *   promotion    — the Atomics.store of RD_READ.
 *
 * Publication and the plain load of p: a region and its entries are written
 * before the Atomics.store of RD_READ that publishes them, and readers
 * Atomics.load RD_READ before reading them (sequentially consistent, so also
 * release/acquire), so a reader sees the region's contents and each entry's
 * first value. Later values of p are written by Atomics CAS/exchange; an
 * aligned int32 load never tears, and per-location coherence means the value a
 * plain load returns was p's value at an instant inside the operation — which
 * is all a single-word read needs to linearise. The load of p depends on the
 * probed value word (an address dependency), and the next operation's
 * Atomics.load of RD_READ keeps the JIT from caching it across operations.
 * This saves one Atomics call (~18 ns) on every read hit. Every write of p
 * stays atomic; CAS loops start from a plain load, and a stale one only costs
 * a retry, because compareExchange returns the current value.
 *
 * Consistency:
 *   size()    — counts live entries of the dirty table (or the read table when
 *               there is none) under mu. Lock-free sets and deletes of existing
 *               keys run concurrently, so under writes it is approximate: each
 *               entry is counted as of a slightly different moment.
 *   forEach() — Go's Range: promotes first when AMENDED (an O(n) copy the walk
 *               amortises), then walks that read table without the lock. It is
 *               not a snapshot: no key is visited twice, but a key stored or
 *               deleted concurrently (or by fn) may be seen with any value it
 *               had during the call, or not at all; keys added during the walk
 *               are not visited. fn may call any method of the map.
 *
 * Memory: read and dirty tables (a rebuild sizes dirty for max(capacity,
 * live keys) at the load factor; it grows by doubling), one 4-byte entry per
 * key in either table, plus retired memory awaiting reclamation
 * (stats().bytesAwaitingReclamation). Deleted keys' entries stay in both
 * tables as NIL until the next rebuild and are dropped at the promotion after
 * it, as in Go, then reused after the grace period: memory stays bounded under
 * churn, but each table can hold up to about twice the live keys. Measured:
 * 16384 live keys churned at load factor 0.75 settle at ~1.1 MB (about 6.5×
 * live × 8 B / loadFactor) and peak near 2.5 MB with two threads, when a
 * doubled dirty table, the read table and a retired read table coexist.
 */
import { Arena } from './arena.js';
import { EpochDomain, createEpochBlock, type Reclaim } from './epoch.js';
import {
  EMPTY_KEY,
  HashTable,
  MIN_SLOTS,
  ROOT_REGION,
  ROOT_RESIZES,
  TABLE_COUNT,
  TABLE_HEADER_WORDS,
  TABLE_SLOTS,
  initRegion,
  probeStats,
  regionGet,
  regionWords,
  removeKey,
} from './hash-table.js';
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

const NAME = 'readdirty';

/** Entry states besides a live value: Go's nil and expunged. */
export const NIL = RESERVED_VALUE_BASE;
export const EXPUNGED = RESERVED_VALUE_BASE + 1;
/** Low bit of RD_READ. */
export const AMENDED = 1;

/** Operations between two quiescent-point announcements (each costs one Atomics.load). */
export const QUIESCENT_INTERVAL_OPS = 64;
/** Entries per slab chunk (4 KiB). */
const ENTRY_CHUNK_WORDS = 1024;
const ENTRY_BYTES = 4;
/**
 * A thread tries to reclaim retired memory every this many acquisitions of mu
 * (when anything is pending): one Atomics.load per registered thread.
 */
const RECLAIM_EVERY_LOCKS = 64;

/** Header layout (word offsets from the header; one line pair per group). */
export const RD_CAPACITY = 0;
export const RD_LOAD_FACTOR = 1;
export const RD_EPOCH_BLOCK = 2;
export const RD_READ = CACHE_LINE_PAIR_WORDS;
export const RD_MU = 2 * CACHE_LINE_PAIR_WORDS;
export const RD_DIRTY_ROOT = RD_MU + 2;
export const RD_MISSES = RD_MU + 4;
export const RD_ENTRY_FREE_HEAD = RD_MU + 5;
export const RD_ENTRY_CHUNK_NEXT = RD_MU + 6;
export const RD_ENTRY_CHUNK_END = RD_MU + 7;
export const RD_ENTRY_SLOTS = RD_MU + 8;
export const RD_ENTRIES_FREE = RD_MU + 9;
export const RD_EXPUNGED_LIST = RD_MU + 10;
export const RD_EXPUNGED_LIST_WORDS = RD_MU + 11;
export const RD_RESIZES = RD_MU + 12;
export const RD_HEADER_WORDS = 3 * CACHE_LINE_PAIR_WORDS;
const LOAD_FACTOR_SCALE = 2 ** 30;

/** Per-thread counters (thread-counters.ts), in this order from index 0. */
const COUNTER_NAMES = [
  'loads',
  'loadsNotInRead',
  'misses',
  'promotions',
  'dirtyRebuilds',
  'entriesCopied',
  'lockAcquisitions',
  'lockContended',
  'lockSleeps',
  'entriesExpunged',
  'entriesUnexpunged',
  'entriesReclaimed',
  'regionsReclaimed',
] as const;
const C_LOADS = 0;
const C_LOADS_NOT_IN_READ = 1;
const C_MISSES = 2;
const C_PROMOTIONS = 3;
const C_DIRTY_REBUILDS = 4;
const C_ENTRIES_COPIED = 5;
const C_LOCK = 6;
const C_ENTRIES_EXPUNGED = 9;
const C_ENTRIES_UNEXPUNGED = 10;
const C_ENTRIES_RECLAIMED = 11;
const C_REGIONS_RECLAIMED = 12;
if (COUNTER_NAMES.length > COUNTER_ARENA_LOCK) throw new Error('readdirty counters overlap the arena lock counters');

/**
 * Retired-item sizes (the `size` handed to the epoch domain):
 *   > 0  an arena block of that many words (a read-table region);
 *   0    one entry;
 *   < 0  an entry-list block of −size words ([count, entry…]); its entries go with it.
 */
const RETIRED_ENTRY = 0;

export class ReadDirtyMap implements ConcurrentMap {
  private readonly memory: Int32Array;
  private readonly arena: Arena;
  private readonly counters: Float64Array;
  private readonly header: number;
  private readonly readWord: number;
  private readonly dirtyRoot: number;
  private readonly capacity: number;
  private readonly loadFactor: number;
  /** The map's mutex, counting into this thread's counters. */
  private readonly mu: Mutex;
  /** The same lock word, uncounted: for stats() and quiesce(), which are not map operations. */
  private readonly quietMu: Mutex;
  private readonly dirty: HashTable;
  private readonly epoch: EpochDomain;
  private readonly reclaimItem: Reclaim;
  /**
   * Count down to this thread's next quiescent-point announcement: gets on
   * one countdown, every other operation on the other. The gets' countdown
   * doubles as the `loads` counter (what it consumed since the last flush), so
   * a read hit increments nothing.
   */
  private getsUntilQuiescentPoint = 0;
  private getsCountdownAtFlush = 0;
  private opsUntilQuiescentPoint = 0;
  /** > 0 while forEach walks a read table on this thread: no announcements. */
  private pinDepth = 0;
  private locksUntilReclaimAttempt = RECLAIM_EVERY_LOCKS - 1;
  /**
   * get()'s counters live in plain fields and reach the shared slot at each
   * quiescent point, quiesce() and stats(): an increment of a Float64Array over
   * shared memory measured ~6 ns here, against a ~25 ns read hit.
   */
  private unflushedLoadsNotInRead = 0;
  private expungedScratch = new Int32Array(256);

  constructor(private readonly mapMemory: MapMemory) {
    const { memory, header, arena, counters } = mapMemory;
    this.memory = memory;
    this.arena = arena;
    this.counters = counters;
    this.header = header;
    this.readWord = header + RD_READ;
    this.dirtyRoot = header + RD_DIRTY_ROOT;
    this.capacity = memory[header + RD_CAPACITY];
    this.loadFactor = memory[header + RD_LOAD_FACTOR] / LOAD_FACTOR_SCALE;
    this.mu = new Mutex(memory, header + RD_MU, counters, {
      acquisitions: C_LOCK,
      contended: C_LOCK + 1,
      sleeps: C_LOCK + 2,
    });
    this.quietMu = new Mutex(memory, header + RD_MU, new Float64Array(3), { acquisitions: 0, contended: 1, sleeps: 2 });
    this.dirty = new HashTable(arena, this.dirtyRoot);
    this.epoch = new EpochDomain(arena, memory[header + RD_EPOCH_BLOCK]);
    this.reclaimItem = (offset, size) => this.reclaimLocked(offset, size);
  }

  /** Main thread: lays out the header, an empty read table and the epoch block. */
  static initialise(arena: Arena, header: number, capacity: number, loadFactor: number): void {
    const memory = arena.memory;
    memory[header + RD_CAPACITY] = capacity;
    memory[header + RD_LOAD_FACTOR] = Math.round(loadFactor * LOAD_FACTOR_SCALE);
    memory[header + RD_EPOCH_BLOCK] = createEpochBlock(arena);
    const emptyRead = arena.allocate(regionWords(MIN_SLOTS));
    initRegion(memory, emptyRead, MIN_SLOTS, loadFactor);
    Atomics.store(memory, header + RD_READ, emptyRead << 1);
  }

  // ── Go: Load ────────────────────────────────────────────────────────────────
  get(key: number): number | undefined {
    // One mask and compare: true exactly for integers 0..2^31−1 (isValidKey's set).
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (--this.getsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const memory = this.memory;
    const read = Atomics.load(memory, this.readWord);
    const entry = regionGet(memory, read >> 1, key);
    if (entry !== undefined) {
      const p = memory[entry]; // plain load: see "Publication" above
      return p < MIN_VALUE ? undefined : p;
    }
    this.unflushedLoadsNotInRead++;
    if ((read & AMENDED) === 0) return undefined;
    return this.loadSlow(key);
  }

  private loadSlow(key: number): number | undefined {
    const memory = this.memory;
    let entry: number | undefined;
    this.lockMu();
    try {
      // Re-check: read may have been promoted while we waited for mu (a spurious
      // miss would hasten a promotion that the next lookups do not need).
      const read = Atomics.load(memory, this.readWord);
      entry = regionGet(memory, read >> 1, key);
      if (entry === undefined && (read & AMENDED) !== 0) {
        entry = this.dirtyGetLocked(key);
        // Present or not, record a miss: this key takes the slow path until promotion.
        this.missLocked();
      }
    } finally {
      this.mu.unlock();
    }
    if (entry === undefined) return undefined;
    const p = Atomics.load(memory, entry);
    return p < MIN_VALUE ? undefined : p;
  }

  // ── Go: Store (Swap) ────────────────────────────────────────────────────────
  set(key: number, value: number): void {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (!isValidValue(value)) checkValue(value);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const read = Atomics.load(this.memory, this.readWord);
    const entry = regionGet(this.memory, read >> 1, key);
    if (entry !== undefined && this.trySwap(entry, value)) return;
    this.swapSlow(key, value);
  }

  /** Stores `value` unless the entry is expunged; false (entry unchanged) if it is. */
  private trySwap(entry: number, value: number): boolean {
    const memory = this.memory;
    let p = memory[entry];
    for (;;) {
      if (p === EXPUNGED) return false;
      const seen = Atomics.compareExchange(memory, entry, p, value);
      if (seen === p) return true;
      p = seen;
    }
  }

  private swapSlow(key: number, value: number): void {
    const memory = this.memory;
    this.lockMu();
    try {
      const read = Atomics.load(memory, this.readWord);
      const entry = regionGet(memory, read >> 1, key);
      if (entry !== undefined) {
        // Expunged implies a dirty table exists and lacks this entry: add it before storing.
        if (this.unexpungeLocked(entry)) this.dirty.insertAbsent(key, entry);
        Atomics.exchange(memory, entry, value); // swapLocked
        return;
      }
      const dirtyEntry = this.dirtyGetLocked(key);
      // Go's Swap counts no miss here: stores to dirty-only keys never hasten promotion.
      if (dirtyEntry !== undefined) Atomics.exchange(memory, dirtyEntry, value);
      else this.storeNewKeyLocked(read, key, value);
    } finally {
      this.mu.unlock();
    }
  }

  // ── Go: LoadAndDelete ───────────────────────────────────────────────────────
  delete(key: number): boolean {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const read = Atomics.load(this.memory, this.readWord);
    let entry = regionGet(this.memory, read >> 1, key);
    if (entry === undefined) {
      if ((read & AMENDED) === 0) return false;
      entry = this.deleteSlow(key);
      if (entry === undefined) return false;
    }
    return this.deleteEntry(entry);
  }

  /** Finds a key under mu; if only the dirty table holds it, removes it there and retires its entry. */
  private deleteSlow(key: number): number | undefined {
    const memory = this.memory;
    this.lockMu();
    try {
      const read = Atomics.load(memory, this.readWord);
      let entry = regionGet(memory, read >> 1, key);
      if (entry === undefined && (read & AMENDED) !== 0) {
        entry = this.dirtyGetLocked(key);
        if (entry !== undefined) {
          removeKey(memory, memory[this.dirtyRoot + ROOT_REGION], key);
          // No table leads to it now; threads that found it earlier (this one
          // included, for the CAS below) may still touch it until their next
          // quiescent point.
          this.retireLocked(entry, RETIRED_ENTRY);
        }
        this.missLocked();
      }
      return entry;
    } finally {
      this.mu.unlock();
    }
  }

  /** CAS p to NIL; false if it was already deleted (NIL or EXPUNGED). */
  private deleteEntry(entry: number): boolean {
    const memory = this.memory;
    let p = memory[entry];
    for (;;) {
      if (p < MIN_VALUE) return false;
      const seen = Atomics.compareExchange(memory, entry, p, NIL);
      if (seen === p) return true;
      p = seen;
    }
  }

  // ── Go: LoadOrStore ─────────────────────────────────────────────────────────
  getOrSet(key: number, value: number): number {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (!isValidValue(value)) checkValue(value);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    // Avoid locking if it's a clean hit.
    const read = Atomics.load(this.memory, this.readWord);
    const entry = regionGet(this.memory, read >> 1, key);
    if (entry !== undefined) {
      const actual = this.tryLoadOrStore(entry, value);
      if (actual !== EXPUNGED) return actual;
    }
    return this.loadOrStoreSlow(key, value);
  }

  /** The live value, or `value` after a CAS from NIL; EXPUNGED (entry unchanged) if expunged. */
  private tryLoadOrStore(entry: number, value: number): number {
    const memory = this.memory;
    let p = memory[entry];
    for (;;) {
      if (p !== NIL) return p; // a live value, or EXPUNGED
      const seen = Atomics.compareExchange(memory, entry, NIL, value);
      if (seen === NIL) return value;
      p = seen;
    }
  }

  private loadOrStoreSlow(key: number, value: number): number {
    const memory = this.memory;
    this.lockMu();
    try {
      const read = Atomics.load(memory, this.readWord);
      const entry = regionGet(memory, read >> 1, key);
      if (entry !== undefined) {
        if (this.unexpungeLocked(entry)) this.dirty.insertAbsent(key, entry);
        return this.tryLoadOrStore(entry, value); // cannot be EXPUNGED: only mu holders expunge
      }
      const dirtyEntry = this.dirtyGetLocked(key);
      if (dirtyEntry !== undefined) {
        const actual = this.tryLoadOrStore(dirtyEntry, value);
        this.missLocked();
        return actual;
      }
      this.storeNewKeyLocked(read, key, value);
      return value;
    } finally {
      this.mu.unlock();
    }
  }

  // ── Go: CompareAndSwap ──────────────────────────────────────────────────────
  compareAndSet(key: number, expected: number, value: number): boolean {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (!isValidValue(expected)) checkValue(expected, 'expected');
    if (!isValidValue(value)) checkValue(value);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const read = Atomics.load(this.memory, this.readWord);
    const entry = regionGet(this.memory, read >> 1, key);
    if (entry !== undefined) return this.tryCompareAndSwap(entry, expected, value);
    if ((read & AMENDED) === 0) return false; // no existing value for key
    return this.compareAndSwapSlow(key, expected, value);
  }

  /**
   * CAS expected → value. `expected` is a valid value, so NIL and EXPUNGED
   * never match: a deleted or expunged entry fails, unchanged.
   */
  private tryCompareAndSwap(entry: number, expected: number, value: number): boolean {
    const memory = this.memory;
    if (memory[entry] !== expected) return false;
    return Atomics.compareExchange(memory, entry, expected, value) === expected;
  }

  private compareAndSwapSlow(key: number, expected: number, value: number): boolean {
    const memory = this.memory;
    this.lockMu();
    try {
      const read = Atomics.load(memory, this.readWord);
      const entry = regionGet(memory, read >> 1, key);
      if (entry !== undefined) return this.tryCompareAndSwap(entry, expected, value);
      const dirtyEntry = this.dirtyGetLocked(key);
      if (dirtyEntry === undefined) return false;
      const swapped = this.tryCompareAndSwap(dirtyEntry, expected, value);
      // The key set did not change, so promoting would make this key cheap: count a miss.
      this.missLocked();
      return swapped;
    } finally {
      this.mu.unlock();
    }
  }

  // ── add: a CAS loop on the entry; an absent key counts as 0 (LoadOrStore's paths) ──
  add(key: number, delta: number): number {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if ((delta | 0) !== delta) checkDelta(delta);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const read = Atomics.load(this.memory, this.readWord);
    const entry = regionGet(this.memory, read >> 1, key);
    if (entry !== undefined) {
      const next = this.tryAdd(key, entry, delta);
      if (next !== EXPUNGED) return next;
    }
    return this.addSlow(key, delta);
  }

  /**
   * Adds `delta` (NIL counts as 0) by CAS; EXPUNGED (entry unchanged) if the
   * entry is expunged. A result outside the allowed values throws RangeError
   * before the CAS, so nothing changes.
   */
  private tryAdd(key: number, entry: number, delta: number): number {
    const memory = this.memory;
    let p = memory[entry];
    for (;;) {
      if (p === EXPUNGED) return EXPUNGED;
      const current = p === NIL ? 0 : p;
      const next = current + delta;
      if (next < MIN_VALUE || next > MAX_VALUE) checkAddResult(key, current, delta);
      const seen = Atomics.compareExchange(memory, entry, p, next);
      if (seen === p) return next;
      p = seen;
    }
  }

  private addSlow(key: number, delta: number): number {
    const memory = this.memory;
    this.lockMu();
    try {
      const read = Atomics.load(memory, this.readWord);
      const entry = regionGet(memory, read >> 1, key);
      if (entry !== undefined) {
        if (memory[entry] === EXPUNGED) {
          checkAddResult(key, 0, delta); // before un-expunging: a rejected add changes nothing
          this.unexpungeLocked(entry);
          this.dirty.insertAbsent(key, entry);
        }
        return this.tryAdd(key, entry, delta);
      }
      const dirtyEntry = this.dirtyGetLocked(key);
      if (dirtyEntry !== undefined) {
        const next = this.tryAdd(key, dirtyEntry, delta);
        this.missLocked();
        return next;
      }
      const next = checkAddResult(key, 0, delta);
      this.storeNewKeyLocked(read, key, next);
      return next;
    } finally {
      this.mu.unlock();
    }
  }

  // ── size and Go: Range ──────────────────────────────────────────────────────
  size(): number {
    const memory = this.memory;
    this.lockMu();
    try {
      const dirtyBase = memory[this.dirtyRoot + ROOT_REGION];
      return this.countLiveLocked(dirtyBase !== 0 ? dirtyBase : Atomics.load(memory, this.readWord) >> 1);
    } finally {
      this.mu.unlock();
    }
  }

  forEach(fn: (key: number, value: number) => void): void {
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const memory = this.memory;
    this.pinDepth++;
    try {
      let read = Atomics.load(memory, this.readWord);
      if ((read & AMENDED) !== 0) {
        // The dirty table holds keys the read table lacks. The walk is O(n)
        // anyway, so it amortises a whole copy: promote now.
        this.lockMu();
        try {
          read = Atomics.load(memory, this.readWord);
          if ((read & AMENDED) !== 0) {
            this.promoteLocked();
            read = Atomics.load(memory, this.readWord);
          }
        } finally {
          this.mu.unlock();
        }
      }
      const base = read >> 1;
      const first = base + TABLE_HEADER_WORDS;
      const end = first + 2 * memory[base + TABLE_SLOTS];
      for (let index = first; index < end; index += 2) {
        const key = memory[index];
        if (key === EMPTY_KEY) continue;
        const p = Atomics.load(memory, memory[index + 1]);
        if (p >= MIN_VALUE) fn(key, p);
      }
    } finally {
      this.pinDepth--;
    }
  }

  /**
   * Counters summed over threads (exact once threads stop), table figures read
   * under mu (stats() is not counted in lockAcquisitions), epoch and arena
   * figures. `slots` and the probe lengths are the dirty table's when there is
   * one (it holds every live key), else the read table's. O(slots).
   */
  stats(): Record<string, number> {
    this.flushCounters();
    const counters = sumCounters(this.mapMemory, COUNTER_NAMES);
    const memory = this.memory;
    const header = this.header;
    let tables: Record<string, number>;
    this.quietMu.lock();
    try {
      const read = Atomics.load(memory, this.readWord);
      const readBase = read >> 1;
      const dirtyBase = memory[this.dirtyRoot + ROOT_REGION];
      // The table that holds every live key: dirty when there is one.
      const fullBase = dirtyBase !== 0 ? dirtyBase : readBase;
      tables = {
        entries: this.countLiveLocked(fullBase),
        readEntries: memory[readBase + TABLE_COUNT],
        slots: memory[fullBase + TABLE_SLOTS],
        readSlots: memory[readBase + TABLE_SLOTS],
        dirtyEntries: dirtyBase !== 0 ? memory[dirtyBase + TABLE_COUNT] : 0,
        amended: read & AMENDED,
        missesSincePromotion: memory[header + RD_MISSES],
        resizes: memory[header + RD_RESIZES] + memory[this.dirtyRoot + ROOT_RESIZES],
        entrySlots: memory[header + RD_ENTRY_SLOTS],
        entriesFree: memory[header + RD_ENTRIES_FREE],
        ...probeStats(memory, fullBase),
      };
    } finally {
      this.quietMu.unlock();
    }
    const { epoch, bytesAwaitingReclamation, itemsAwaitingReclamation, activeThreads } = this.epoch.stats();
    return {
      ...counters,
      readHits: counters.loads - counters.loadsNotInRead,
      ...tables,
      epoch,
      bytesAwaitingReclamation,
      itemsAwaitingReclamation,
      activeThreads,
      ...memoryStats(this.mapMemory),
    };
  }

  /**
   * This thread holds nothing of the map until its next call: stop holding
   * reclamation back, and reclaim now if the lock is free (not counted in
   * lockAcquisitions). Ignored inside a forEach callback, whose walk still
   * holds the read table.
   */
  quiesce(): void {
    if (this.pinDepth > 0) return;
    this.flushCounters();
    this.epoch.goIdle();
    // The next operation, whichever it is, announces before it reads anything.
    this.getsUntilQuiescentPoint = this.getsCountdownAtFlush = 0;
    this.opsUntilQuiescentPoint = 0;
    if (this.epoch.hasPending() && this.quietMu.tryLock()) {
      try {
        this.epoch.tryReclaimLocked(this.reclaimItem);
      } finally {
        this.quietMu.unlock();
      }
    }
  }

  // ── Internals (Go: missLocked, dirtyLocked, tryExpungeLocked, unexpungeLocked) ──

  /** Takes mu for an operation; every RECLAIM_EVERY_LOCKS times, also reclaims what has become safe. */
  private lockMu(): void {
    this.mu.lock();
    if (--this.locksUntilReclaimAttempt >= 0) return;
    this.locksUntilReclaimAttempt = RECLAIM_EVERY_LOCKS - 1;
    if (this.epoch.hasPending()) this.epoch.tryReclaimLocked(this.reclaimItem);
  }

  /** Start of an operation: a quiescent point; announce it every QUIESCENT_INTERVAL_OPS. */
  private passQuiescentPoint(): void {
    this.flushCounters();
    this.getsUntilQuiescentPoint = this.getsCountdownAtFlush = QUIESCENT_INTERVAL_OPS - 1;
    this.opsUntilQuiescentPoint = QUIESCENT_INTERVAL_OPS - 1;
    if (this.pinDepth === 0) this.epoch.quiescentPoint();
  }

  private flushCounters(): void {
    this.counters[C_LOADS] += this.getsCountdownAtFlush - this.getsUntilQuiescentPoint;
    this.getsCountdownAtFlush = this.getsUntilQuiescentPoint;
    this.counters[C_LOADS_NOT_IN_READ] += this.unflushedLoadsNotInRead;
    this.unflushedLoadsNotInRead = 0;
  }

  private dirtyGetLocked(key: number): number | undefined {
    const dirtyBase = this.memory[this.dirtyRoot + ROOT_REGION];
    return dirtyBase === 0 ? undefined : regionGet(this.memory, dirtyBase, key);
  }

  /** A new key: build the dirty table first if this is the first new key since promotion. */
  private storeNewKeyLocked(read: number, key: number, value: number): void {
    if ((read & AMENDED) === 0) {
      // We're adding the first new key to the dirty table: make sure it exists,
      // and mark the read table as incomplete.
      this.dirtyLocked();
      Atomics.store(this.memory, this.readWord, read | AMENDED);
    }
    this.dirty.insertAbsent(key, this.newEntryLocked(value));
  }

  private missLocked(): void {
    const memory = this.memory;
    this.counters[C_MISSES]++;
    const misses = memory[this.header + RD_MISSES] + 1;
    memory[this.header + RD_MISSES] = misses;
    if (misses < memory[memory[this.dirtyRoot + ROOT_REGION] + TABLE_COUNT]) return;
    this.promoteLocked();
  }

  /** The dirty table becomes the read table (AMENDED clear); dirty is dropped; misses reset. */
  private promoteLocked(): void {
    const memory = this.memory;
    const header = this.header;
    const oldRead = memory[this.readWord] >> 1; // plain: only mu holders store it
    Atomics.store(memory, this.readWord, memory[this.dirtyRoot + ROOT_REGION] << 1);
    memory[header + RD_RESIZES] += memory[this.dirtyRoot + ROOT_RESIZES];
    memory[this.dirtyRoot + ROOT_REGION] = 0;
    memory[this.dirtyRoot + ROOT_RESIZES] = 0;
    memory[header + RD_MISSES] = 0;
    this.counters[C_PROMOTIONS]++;
    // Lock-free readers may still be probing the old read table.
    const oldReadWords = regionWords(memory[oldRead + TABLE_SLOTS]);
    this.epoch.retireLocked(oldRead, oldReadWords, this.retiredBytes(oldRead, oldReadWords));
    this.dropExpungedLocked();
    this.epoch.tryReclaimLocked(this.reclaimItem);
  }

  /**
   * Entries the last rebuild expunged and nobody un-expunged since are in no
   * table now (invariant 3): retire them. An EXPUNGED entry can only leave that
   * state under mu, so the check is stable here.
   */
  private dropExpungedLocked(): void {
    const memory = this.memory;
    const header = this.header;
    const list = memory[header + RD_EXPUNGED_LIST];
    if (list === 0) return;
    const words = memory[header + RD_EXPUNGED_LIST_WORDS];
    memory[header + RD_EXPUNGED_LIST] = 0;
    memory[header + RD_EXPUNGED_LIST_WORDS] = 0;
    const count = memory[list];
    let kept = 0;
    for (let i = 1; i <= count; i++) {
      const entry = memory[list + i];
      if (memory[entry] === EXPUNGED) memory[list + 1 + kept++] = entry;
    }
    memory[list] = kept;
    if (kept === 0) this.arena.free(list, words);
    else this.epoch.retireLocked(list, -words, this.retiredBytes(list, -words));
  }

  /**
   * Go's dirtyLocked: if there is no dirty table, build one by copying every
   * read-table entry that is not deleted; deleted (NIL) ones are expunged
   * instead. O(read table) — the cost a stream of new keys pays.
   * Go sizes the copy for len(read), deleted entries included; this one is
   * sized for the live entries (a plain-load pre-pass, cheap next to the
   * copy's atomics), so under churn, where up to half the read table can be
   * deleted entries, the dirty table is not born twice too big.
   */
  private dirtyLocked(): void {
    const memory = this.memory;
    if (memory[this.dirtyRoot + ROOT_REGION] !== 0) return;
    const readBase = memory[this.readWord] >> 1;
    HashTable.initialise(
      this.arena,
      this.dirtyRoot,
      Math.max(this.capacity, this.countLiveLocked(readBase)),
      this.loadFactor,
    );
    let scratch = this.expungedScratch;
    let expunged = 0;
    let copied = 0;
    const first = readBase + TABLE_HEADER_WORDS;
    const end = first + 2 * memory[readBase + TABLE_SLOTS];
    for (let index = first; index < end; index += 2) {
      const key = memory[index];
      if (key === EMPTY_KEY) continue;
      const entry = memory[index + 1];
      if (!this.tryExpungeLocked(entry)) {
        // Grows if entries were stored into deleted ones since the count.
        this.dirty.insertAbsent(key, entry);
        copied++;
        continue;
      }
      if (expunged === scratch.length) {
        const grown = new Int32Array(scratch.length * 2);
        grown.set(scratch);
        scratch = this.expungedScratch = grown;
      }
      scratch[expunged++] = entry;
    }
    const counters = this.counters;
    counters[C_DIRTY_REBUILDS]++;
    counters[C_ENTRIES_COPIED] += copied;
    counters[C_ENTRIES_EXPUNGED] += expunged;
    if (expunged === 0) return;
    const words = 1 + expunged;
    const list = this.arena.allocate(words);
    memory[list] = expunged;
    memory.set(scratch.subarray(0, expunged), list + 1);
    memory[this.header + RD_EXPUNGED_LIST] = list;
    memory[this.header + RD_EXPUNGED_LIST_WORDS] = words;
  }

  /** NIL → EXPUNGED; true if the entry is (now) expunged. Caller holds mu. */
  private tryExpungeLocked(entry: number): boolean {
    const memory = this.memory;
    let p = Atomics.load(memory, entry);
    while (p === NIL) {
      const seen = Atomics.compareExchange(memory, entry, NIL, EXPUNGED);
      if (seen === NIL) return true;
      p = seen;
    }
    return p === EXPUNGED;
  }

  /**
   * EXPUNGED → NIL; true if it was expunged, in which case the caller must add
   * the entry to the dirty table before releasing mu.
   */
  private unexpungeLocked(entry: number): boolean {
    if (Atomics.compareExchange(this.memory, entry, EXPUNGED, NIL) !== EXPUNGED) return false;
    this.counters[C_ENTRIES_UNEXPUNGED]++;
    return true;
  }

  /** A fresh entry holding `value`, from the free list or the current slab chunk. */
  private newEntryLocked(value: number): number {
    const memory = this.memory;
    const header = this.header;
    let entry = memory[header + RD_ENTRY_FREE_HEAD];
    if (entry !== 0) {
      memory[header + RD_ENTRY_FREE_HEAD] = memory[entry];
      memory[header + RD_ENTRIES_FREE]--;
    } else {
      entry = memory[header + RD_ENTRY_CHUNK_NEXT];
      if (entry === memory[header + RD_ENTRY_CHUNK_END]) {
        entry = this.arena.allocate(ENTRY_CHUNK_WORDS);
        memory[header + RD_ENTRY_CHUNK_END] = entry + ENTRY_CHUNK_WORDS;
      }
      memory[header + RD_ENTRY_CHUNK_NEXT] = entry + 1;
      memory[header + RD_ENTRY_SLOTS]++;
    }
    // Plain store: the entry is published later, under mu (and by the Atomics
    // store of RD_READ at promotion); no thread can hold it from a past life.
    memory[entry] = value;
    return entry;
  }

  private freeEntryLocked(entry: number): void {
    const memory = this.memory;
    memory[entry] = memory[this.header + RD_ENTRY_FREE_HEAD];
    memory[this.header + RD_ENTRY_FREE_HEAD] = entry;
    memory[this.header + RD_ENTRIES_FREE]++;
  }

  private retireLocked(offset: number, size: number): void {
    this.epoch.retireLocked(offset, size, this.retiredBytes(offset, size));
  }

  /** Bytes a retired item accounts for; the same figure at retirement and at reclamation. */
  private retiredBytes(offset: number, size: number): number {
    if (size === RETIRED_ENTRY) return ENTRY_BYTES;
    if (size > 0) return Arena.blockBytes(size);
    return Arena.blockBytes(-size) + ENTRY_BYTES * this.memory[offset];
  }

  /** The epoch domain's callback: frees one retired item (see the size encoding above). */
  private reclaimLocked(offset: number, size: number): number {
    const memory = this.memory;
    const bytes = this.retiredBytes(offset, size);
    if (size === RETIRED_ENTRY) {
      this.freeEntryLocked(offset);
      this.counters[C_ENTRIES_RECLAIMED]++;
    } else if (size > 0) {
      this.arena.free(offset, size);
      this.counters[C_REGIONS_RECLAIMED]++;
    } else {
      const count = memory[offset];
      for (let i = 1; i <= count; i++) this.freeEntryLocked(memory[offset + i]);
      this.counters[C_ENTRIES_RECLAIMED] += count;
      this.arena.free(offset, -size);
    }
    return bytes;
  }

  /** Live entries (p is a value) of a table region. */
  private countLiveLocked(base: number): number {
    const memory = this.memory;
    const first = base + TABLE_HEADER_WORDS;
    const end = first + 2 * memory[base + TABLE_SLOTS];
    let live = 0;
    for (let index = first; index < end; index += 2) {
      if (memory[index] !== EMPTY_KEY && memory[memory[index + 1]] >= MIN_VALUE) live++;
    }
    return live;
  }
}

/**
 * One view per map per thread: a second attach() on the same thread returns
 * the first view, so a thread has one epoch slot (a forgotten second view
 * would otherwise hold reclamation back) and one counter slot per map.
 */
const viewsOnThisThread = new Map<string, WeakRef<ReadDirtyMap>>();

interface ReadDirtyHandle extends SharedMapHandle {
  /** Identifies the map across threads (SharedArrayBuffer objects differ per thread). */
  readonly id: string;
}

export const readDirtyMapFactory: MapFactory = {
  name: NAME,
  description:
    "Go's classic sync.Map: lock-free read table, dirty table under a mutex, misses, promotion, expunged entries",
  shared: true,
  safeForConcurrentWrites: true,
  create(options?: MapOptions): MapHandle {
    const resolved = resolveMapOptions(options);
    const { handle, arena } = createMapMemory(NAME, resolved, RD_HEADER_WORDS, CACHE_LINE_PAIR_WORDS);
    ReadDirtyMap.initialise(arena, handle.header, resolved.capacity, resolved.loadFactor);
    const readDirtyHandle: ReadDirtyHandle = { ...handle, id: crypto.randomUUID() };
    return readDirtyHandle;
  },
  attach(handle: MapHandle): ConcurrentMap {
    let id: string | undefined;
    if (handle !== null && typeof handle === 'object' && handle.map === NAME) {
      const candidate = (handle as Partial<ReadDirtyHandle>).id;
      if (typeof candidate !== 'string')
        throw new TypeError(`handle.id must be the string ${NAME}'s create() returned, got ${String(candidate)}`);
      const cached = viewsOnThisThread.get(candidate)?.deref();
      if (cached !== undefined) return cached;
      id = candidate;
    }
    const view = new ReadDirtyMap(attachMapMemory(handle, NAME)); // throws for any other handle
    for (const [key, ref] of viewsOnThisThread) if (ref.deref() === undefined) viewsOnThisThread.delete(key);
    viewsOnThisThread.set(id as string, new WeakRef(view));
    return view;
  },
};
