/**
 * plain: one shared hash table with no synchronisation — Go's built-in `map`
 * used without a lock, and the raw-table speed ceiling for one thread.
 *
 * Who may call it: one thread, or any number of readers while no thread
 * writes. It is not thread safe: a write concurrent with any other operation
 * is misuse. Its factory says `safeForConcurrentWrites: false`, and a sweep
 * never reports numbers for it with writers on more than one thread.
 *
 * Misuse is detected, not survived (like Go's runtime/map.go `hashWriting`):
 * a write that finds another write in progress throws ConcurrentMapWriteError
 * "concurrent map writes"; a read that finds a write in progress throws
 * "concurrent map read and map write". Detection is best-effort for a single
 * op (two ops can slip past each other), but writers on two threads are
 * caught within milliseconds. Once detected, the map stays failed: stats()
 * reports `concurrentUseDetected`, every view's writes fail within 64 of its
 * own writes, and reads fail while BROKEN is set in PLAIN_FLAGS.
 *
 * Shared words (the header, on its own 128-byte line pair):
 *   PLAIN_FLAGS — WRITING while a write is in progress, BROKEN once
 *       concurrent use was detected (the readers' signal). A writer checks
 *       it is 0 and stores WRITING, and at the end checks it still reads
 *       WRITING before storing 0, with plain loads and stores (Go's
 *       `h.flags ^= hashWriting`: an Atomics.compareExchange per write would
 *       cost ~8–10 ns a set); every 64th write of a view uses an
 *       Atomics.compareExchange pair instead (CHECKED_WRITE_MASK). Readers
 *       check it is 0 with one plain load, so reads keep raw-table speed.
 *       BROKEN is set with Atomics.or by whichever thread detects the race;
 *       a racing writer's plain `flags = 0` can erase it, which is why
 *       PLAIN_BROKEN exists.
 *   PLAIN_BROKEN — 0, then 1 for good once concurrent use was detected:
 *       written only by fail() (Atomics.store). Every checked write reads it
 *       (Atomics.load) and fails if it is set, so a writer that erased
 *       BROKEN fails within 64 writes and sets the bit again; readers keep
 *       their one-word check of PLAIN_FLAGS.
 *   PLAIN_WRITES — count of writes begun (plain increment by the writer,
 *       wraps); forEach() reads it before and after its copy, so a write
 *       that began and ended inside the copy (the flag clear at both
 *       checks) is still caught as "concurrent map read and map write".
 *   PLAIN_ROOT + ROOT_REGION / ROOT_RESIZES — the table root (hash-table.ts);
 *       written by the (single) writer on growth.
 *   The table region: written by the single writer, plain loads and stores.
 *
 * Memory: growth frees the old region at once (bounded memory under churn).
 * A reader racing with that growth — already a detected misuse if it starts
 * during the write — could meet a freed region; get() checks a region's header
 * is sane before caching its geometry and bounds its probe loop, so such a
 * race throws or returns a stale answer, never hangs.
 *
 * Linearisation points: single-threaded, every operation is atomic by
 * construction. Under concurrent use there are none; that is the point.
 *
 * Consistency: size() exact; forEach() copies the entries first, then calls
 * fn, so fn may read or write the map (it sees the map as of the call).
 */
import { ConcurrentMapWriteError } from './errors.js';
import {
  HashTable,
  MIN_SLOTS,
  ROOT_REGION,
  ROOT_WORDS,
  TABLE_HEADER_WORDS,
  TABLE_SLOTS,
  hashKey,
  snapshotRegion,
} from './hash-table.js';
import {
  CACHE_LINE_PAIR_WORDS,
  attachMapMemory,
  createMapMemory,
  forEachPair,
  memoryStats,
  type MapMemory,
} from './map-memory.js';
import type { ConcurrentMap, MapFactory, MapHandle, MapOptions } from './types.js';
import { checkDelta, checkKey, checkValue, isValidKey, isValidValue, resolveMapOptions } from './validate.js';

const NAME = 'plain';

export const PLAIN_FLAGS = 0;
export const PLAIN_WRITES = 1;
export const PLAIN_BROKEN = 2;
export const PLAIN_ROOT = 8;
/** PLAIN_FLAGS bits. */
export const WRITING = 1;
export const BROKEN = 2;
if (PLAIN_ROOT + ROOT_WORDS > CACHE_LINE_PAIR_WORDS) throw new Error('plain layout: the header outgrows its line pair');
// Module-local copies of hash-table.ts's layout for get(): an
// imported binding is a live cell with a hole check on every use (~2 ns a
// get measured at 2^16 keys, lf 0.75); a local const folds away.
const SLOTS_WORD = TABLE_SLOTS;
const FIRST_SLOT_WORD = TABLE_HEADER_WORDS;
const SMALLEST_TABLE = MIN_SLOTS;
const TWO_TO_MINUS_32 = 2 ** -32;
/**
 * Every 64th write of a view sets and clears the flag with Atomics.compareExchange
 * instead of plain accesses. Plain accesses alone do not suffice: an optimised
 * loop may keep reusing its own flag value and never see another writer's
 * mark; the CAS pair cannot be elided and does see it.
 * Cost: two CAS (~40 ns) per 64 writes, ~0.6 ns a write.
 */
const CHECKED_WRITE_MASK = 63;

export class PlainMap implements ConcurrentMap {
  private readonly memory: Int32Array;
  private readonly table: HashTable;
  private readonly flags: number;
  private readonly writes: number;
  private readonly broken: number;
  private readonly rootRegion: number;
  // get()'s view of the current region: base, slot count, first and end word,
  // and slots / 2^32 (the range-reduction factor of hash-table.ts homeSlot).
  private cachedRegion = -1;
  private cachedSlots = 0;
  private cachedFirst = 0;
  private cachedEnd = 0;
  private cachedScale = 0.5;
  /** This view's writes, for choosing the checked ones (see CHECKED_WRITE_MASK). */
  private writesSinceCheck = 0;

  constructor(private readonly mapMemory: MapMemory) {
    this.memory = mapMemory.memory;
    this.flags = mapMemory.header + PLAIN_FLAGS;
    this.writes = mapMemory.header + PLAIN_WRITES;
    this.broken = mapMemory.header + PLAIN_BROKEN;
    this.rootRegion = mapMemory.header + PLAIN_ROOT + ROOT_REGION;
    this.table = new HashTable(mapMemory.arena, mapMemory.header + PLAIN_ROOT);
  }

  get(key: number): number | undefined {
    if (!isValidKey(key)) checkKey(key);
    const memory = this.memory;
    if (memory[this.flags] !== 0) this.failRead();
    // The region's geometry is cached per view, keyed by its base: the root
    // only ever names a live region, and a base is never reused for another
    // geometry (regions only double, and the arena reuses a block only for
    // the same size class). Saves a dependent load and a multiply (~1.5 ns).
    const base = memory[this.rootRegion];
    if (base !== this.cachedRegion) this.cacheRegion(base);
    const first = this.cachedFirst;
    const end = this.cachedEnd;
    let index = first + 2 * (((hashKey(key) >>> 0) * this.cachedScale) | 0);
    // Bounded, so a read racing a growth (already a misuse) throws instead of looping.
    for (let probes = this.cachedSlots; probes > 0; probes--) {
      const probed = memory[index];
      if (probed === key) return memory[index + 1];
      if (probed < 0) return undefined; // EMPTY_KEY: keys are ≥ 0
      index += 2;
      if (index === end) index = first;
    }
    return this.failRead();
  }

  set(key: number, value: number): void {
    if (!isValidKey(key)) checkKey(key);
    if (!isValidValue(value)) checkValue(value);
    this.beginWrite();
    try {
      this.table.set(key, value);
    } finally {
      this.endWrite();
    }
  }

  delete(key: number): boolean {
    checkKey(key);
    this.beginWrite();
    const removed = this.table.remove(key);
    this.endWrite();
    return removed;
  }

  getOrSet(key: number, value: number): number {
    checkKey(key);
    checkValue(value);
    this.beginWrite();
    try {
      return this.table.getOrSet(key, value);
    } finally {
      this.endWrite();
    }
  }

  compareAndSet(key: number, expected: number, value: number): boolean {
    checkKey(key);
    checkValue(expected, 'expected');
    checkValue(value);
    this.beginWrite();
    const swapped = this.table.compareAndSet(key, expected, value);
    this.endWrite();
    return swapped;
  }

  add(key: number, delta: number): number {
    checkKey(key);
    checkDelta(delta);
    this.beginWrite();
    try {
      return this.table.add(key, delta);
    } finally {
      this.endWrite();
    }
  }

  size(): number {
    if (this.memory[this.flags] !== 0) this.failRead();
    return this.table.count;
  }

  forEach(fn: (key: number, value: number) => void): void {
    const memory = this.memory;
    const writesBefore = memory[this.writes];
    if (memory[this.flags] !== 0) this.failRead();
    const pairs = snapshotRegion(memory, this.table.region);
    // A write that began and ended inside the copy leaves the flag clear but moves the count.
    if (memory[this.flags] !== 0 || memory[this.writes] !== writesBefore) this.failRead();
    forEachPair(pairs, fn);
  }

  stats(): Record<string, number> {
    const { entries, slots, bytes, resizes, averageProbeLength, maxProbeLength } = this.table.stats();
    return {
      entries,
      slots,
      tableBytes: bytes,
      resizes,
      averageProbeLength,
      maxProbeLength,
      concurrentUseDetected: Atomics.load(this.memory, this.broken),
      ...memoryStats(this.mapMemory),
    };
  }

  /** Go's mapassign entry: fail if a write is in progress, then mark ours. */
  private beginWrite(): void {
    const memory = this.memory;
    if ((++this.writesSinceCheck & CHECKED_WRITE_MASK) === 0) {
      // A checked write: the flag is taken with a CAS, which sees another
      // thread's write in progress and stops the JIT reusing plain flag values;
      // the sticky word catches a detection whose BROKEN bit was erased.
      const previous = Atomics.compareExchange(memory, this.flags, 0, WRITING);
      if (previous !== 0) this.fail(previous, 'concurrent map writes');
      if (Atomics.load(memory, this.broken) !== 0) this.fail(BROKEN, 'concurrent map writes');
    } else {
      const flags = memory[this.flags];
      if (flags !== 0) this.fail(flags, 'concurrent map writes');
      memory[this.flags] = flags ^ WRITING;
    }
    memory[this.writes] = (memory[this.writes] + 1) | 0;
  }

  /** Go's mapassign exit: another writer cleared or broke our mark meanwhile → fail. */
  private endWrite(): void {
    const memory = this.memory;
    if ((this.writesSinceCheck & CHECKED_WRITE_MASK) === 0) {
      const previous = Atomics.compareExchange(memory, this.flags, WRITING, 0);
      if (previous !== WRITING) this.fail(previous, 'concurrent map writes');
      return;
    }
    if (memory[this.flags] !== WRITING) this.fail(memory[this.flags], 'concurrent map writes');
    memory[this.flags] = 0;
  }

  /** Caches the geometry of the region at `base`, refusing one that cannot be a live table (freed under a racing read). */
  private cacheRegion(base: number): void {
    const slots = this.memory[base + SLOTS_WORD];
    const first = base + FIRST_SLOT_WORD;
    if (slots < SMALLEST_TABLE || first + 2 * slots > this.memory.length) this.failRead();
    this.cachedRegion = base;
    this.cachedSlots = slots;
    this.cachedFirst = first;
    this.cachedEnd = first + 2 * slots;
    this.cachedScale = slots * TWO_TO_MINUS_32;
  }

  private failRead(): never {
    return this.fail(this.memory[this.flags], 'concurrent map read and map write');
  }

  /** Marks the map BROKEN for every thread (Go's fatal stops the process) and throws. */
  private fail(flags: number, message: 'concurrent map writes' | 'concurrent map read and map write'): never {
    Atomics.store(this.memory, this.broken, 1);
    Atomics.or(this.memory, this.flags, BROKEN);
    throw new ConcurrentMapWriteError((flags & BROKEN) !== 0 ? 'concurrent map writes' : message);
  }
}

export const plainMapFactory: MapFactory = {
  name: NAME,
  description:
    'the shared hash table with no lock: one thread only; concurrent writes are detected and fail (Go map without a mutex)',
  shared: true,
  safeForConcurrentWrites: false,
  create(options?: MapOptions): MapHandle {
    const resolved = resolveMapOptions(options);
    const { handle, arena } = createMapMemory(NAME, resolved, CACHE_LINE_PAIR_WORDS, CACHE_LINE_PAIR_WORDS);
    HashTable.initialise(arena, handle.header + PLAIN_ROOT, resolved.capacity, resolved.loadFactor);
    return handle;
  },
  attach(handle: MapHandle): ConcurrentMap {
    return new PlainMap(attachMapMemory(handle, NAME));
  },
};
