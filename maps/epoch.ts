/**
 * Epoch-based reclamation driven by quiescent states (QSBR) for memory in one
 * Arena. A map whose readers run without a lock (readdirty) unlinks memory —
 * an old read table, entries no table holds any more — while other threads may
 * still be reading it. That memory is *retired* here and handed back to the
 * map's reclaim function only after every thread that could hold a reference
 * has passed a quiescent point.
 *
 * Why quiescent states and not per-operation epoch announcements: classic EBR
 * stores "I am inside" / "I am out" around every operation, two Atomics stores
 * (~40 ns) on a ~25 ns read. Here a thread announces only every K operations
 * (the map decides K), at the start of an operation, where by construction it
 * holds no reference into the map's memory; between announcements it stays
 * "active at the epoch it last announced". A thread that goes idle says so once
 * (goIdle, the map's quiesce()), so it never holds reclamation back.
 *
 * Shared words (int32, offsets from the epoch block's base):
 *   EPOCH_GLOBAL (own cache line pair) — the global epoch: odd, advanced by
 *       EPOCH_STEP so that it never equals IDLE (0), even when it wraps. Loaded
 *       (Atomics) by every thread at its quiescent points; advanced (Atomics)
 *       only by the owner's lock holder in tryReclaimLocked.
 *   EPOCH_SLOT_LIMIT — 1 + the highest slot ever claimed; Atomics (CAS-max) by
 *       registering threads; bounds the reclaimer's scan.
 *   EPOCH_RETIRE_HEAD / _TAIL / _PENDING_BYTES / _PENDING_ITEMS — the
 *       retire list and its totals: read and written
 *       only with the owner's lock held (the "…Locked" methods); other threads
 *       read the totals only for statistics.
 *   slot s (EPOCH_SLOTS + s × SLOT_STRIDE, one cache line pair each):
 *     SLOT_ANNOUNCED — IDLE, or the global epoch its thread loaded at its last
 *         quiescent point. Atomics.store by the owning thread only; Atomics.load
 *         by reclaimers.
 *     SLOT_CLAIMED — 0 free, 1 owned. CAS 0→1 by the thread registering;
 *         Atomics.store 0 by that thread when it goes idle (after storing IDLE).
 * Retire records (arena blocks of RECORD_WORDS, linked from HEAD to TAIL in
 * retirement order, written only under the owner's lock):
 *   [next record, tag (the global epoch at retirement), item count, –,
 *    then ITEMS_PER_RECORD (offset, size) pairs whose meaning is the map's].
 *
 * Invariants and why reclamation is safe:
 *   1. An item is retired only after it was unlinked (no shared word leads to
 *      it any more), and is tagged with the global epoch t loaded *after* the
 *      unlink. Tags along the list never decrease.
 *   2. A thread announces only at a quiescent point, storing an epoch value a
 *      it has just loaded; every reference it uses afterwards is obtained by
 *      loads that follow that Atomics.load in program order.
 *   3. If every non-idle slot shows a > t, each of those threads loaded the
 *      global epoch after it was advanced past t — after t was loaded, after
 *      the unlink (all Atomics are sequentially consistent) — so none can have
 *      reached the item since, and none kept a reference across its quiescent
 *      point. An idle slot belongs to a thread that holds nothing; if it wakes
 *      it stores its announcement before loading any map word, so a reclaimer
 *      that saw IDLE precedes that store, hence precedes the thread's first
 *      load, which therefore already sees the unlinked state.
 *   4. The global epoch advances only when every non-idle slot has announced
 *      the current value, so announced values stay within a few steps of it
 *      and serial-number comparisons ((a − b) | 0) order them even across
 *      int32 wrap-around.
 * Consequence: memory retired stays pending at most until every non-idle
 * thread has passed two quiescent points (one to allow the advance, one to
 * announce the advanced epoch). A thread that stops calling the map without
 * going idle holds every later retirement back — bytes awaiting reclamation
 * then grow until it returns; that is the price of announcement-free reads.
 *
 * Linearisation points: retireLocked — the record write under the owner's
 * lock; tryReclaimLocked — reclaim(...) calls happen under that lock, after
 * the scan of the slots.
 */
import type { Arena } from './arena.js';

export const EPOCH_GLOBAL = 0;
export const EPOCH_SLOT_LIMIT = 32;
export const EPOCH_RETIRE_HEAD = 33;
export const EPOCH_RETIRE_TAIL = 34;
export const EPOCH_PENDING_BYTES = 35;
export const EPOCH_PENDING_ITEMS = 36;
export const EPOCH_SLOTS = 64;
/** Words between two threads' slots: 128 bytes, a cache line pair. */
export const SLOT_STRIDE = 32;
export const SLOT_ANNOUNCED = 0;
export const SLOT_CLAIMED = 1;
/** Threads that may use one map at the same time (idle threads release their slot). */
export const MAX_EPOCH_THREADS = 64;
export const EPOCH_BLOCK_WORDS = EPOCH_SLOTS + MAX_EPOCH_THREADS * SLOT_STRIDE;

/** A slot's announcement when its thread holds nothing (never a global epoch: those are odd). */
export const IDLE = 0;
export const FIRST_EPOCH = 1;
export const EPOCH_STEP = 2;

const RECORD_NEXT = 0;
const RECORD_TAG = 1;
const RECORD_COUNT = 2;
const RECORD_ITEMS = 4;
export const RECORD_WORDS = 64;
export const ITEMS_PER_RECORD = (RECORD_WORDS - RECORD_ITEMS) / 2;

/** Frees one retired item and returns the bytes it accounted for (as given to retireLocked). */
export type Reclaim = (offset: number, size: number) => number;

/** Main thread: allocates and initialises an epoch block; returns its word offset. */
export function createEpochBlock(arena: Arena): number {
  const base = arena.allocate(EPOCH_BLOCK_WORDS);
  arena.memory.fill(0, base, base + EPOCH_BLOCK_WORDS);
  arena.memory[base + EPOCH_GLOBAL] = FIRST_EPOCH;
  return base;
}

/** What a dropped view must release; kept apart from the view so the registry can hold it. */
interface Registration {
  readonly memory: Int32Array;
  readonly base: number;
  slot: number;
}

const releaseOnCollect = new FinalizationRegistry<Registration>((registration) => releaseSlot(registration));

function releaseSlot(registration: Registration): void {
  if (registration.slot < 0) return;
  const slotBase = registration.base + EPOCH_SLOTS + registration.slot * SLOT_STRIDE;
  Atomics.store(registration.memory, slotBase + SLOT_ANNOUNCED, IDLE);
  Atomics.store(registration.memory, slotBase + SLOT_CLAIMED, 0);
  registration.slot = -1;
}

export interface EpochStats {
  epoch: number;
  bytesAwaitingReclamation: number;
  itemsAwaitingReclamation: number;
  activeThreads: number;
}

/**
 * One thread's view of an epoch block: its own slot (claimed lazily at the first
 * quiescent point, released when it goes idle) and the retire/reclaim calls the
 * owner makes under its lock. A view is used by one thread only.
 */
export class EpochDomain {
  readonly memory: Int32Array;
  private readonly registration: Registration;
  /** What this thread last stored in its slot (saves the store when the epoch has not moved). */
  private announced = IDLE;

  constructor(
    private readonly arena: Arena,
    private readonly base: number,
  ) {
    this.memory = arena.memory;
    this.registration = { memory: this.memory, base, slot: -1 };
    releaseOnCollect.register(this, this.registration);
  }

  /**
   * The calling thread holds no reference into reclaimable memory: announce
   * the current epoch. One Atomics.load, plus a store when the epoch moved.
   */
  quiescentPoint(): void {
    if (this.registration.slot < 0) this.register();
    const epoch = Atomics.load(this.memory, this.base + EPOCH_GLOBAL);
    if (epoch !== this.announced) {
      Atomics.store(this.memory, this.slotWord(SLOT_ANNOUNCED), epoch);
      this.announced = epoch;
    }
  }

  /** The calling thread will hold nothing until its next quiescentPoint(): stop holding reclamation back. */
  goIdle(): void {
    releaseSlot(this.registration);
    this.announced = IDLE;
  }

  /** Whether anything waits for reclamation (a plain read: a hint). */
  hasPending(): boolean {
    return this.memory[this.base + EPOCH_PENDING_ITEMS] !== 0;
  }

  /**
   * Retires an item the caller has already unlinked (invariant 1). `size` is
   * opaque here and handed back to reclaim(); `bytes` is what it counts for in
   * bytesAwaitingReclamation. Caller holds the owner's lock.
   */
  retireLocked(offset: number, size: number, bytes: number): void {
    const memory = this.memory;
    const base = this.base;
    const tag = Atomics.load(memory, base + EPOCH_GLOBAL);
    let record = memory[base + EPOCH_RETIRE_TAIL];
    if (record === 0 || memory[record + RECORD_TAG] !== tag || memory[record + RECORD_COUNT] === ITEMS_PER_RECORD) {
      const fresh = this.arena.allocate(RECORD_WORDS);
      memory[fresh + RECORD_NEXT] = 0;
      memory[fresh + RECORD_TAG] = tag;
      memory[fresh + RECORD_COUNT] = 0;
      if (record === 0) memory[base + EPOCH_RETIRE_HEAD] = fresh;
      else memory[record + RECORD_NEXT] = fresh;
      memory[base + EPOCH_RETIRE_TAIL] = fresh;
      record = fresh;
    }
    const count = memory[record + RECORD_COUNT];
    memory[record + RECORD_ITEMS + 2 * count] = offset;
    memory[record + RECORD_ITEMS + 2 * count + 1] = size;
    memory[record + RECORD_COUNT] = count + 1;
    memory[base + EPOCH_PENDING_BYTES] += bytes;
    memory[base + EPOCH_PENDING_ITEMS]++;
  }

  /**
   * Frees (through `reclaim`) every retired item no thread can still reach
   * (invariant 3), then advances the global epoch if every non-idle thread has
   * caught up with it, so that what remains becomes reclaimable after one more
   * quiescent point per thread. Caller holds the owner's lock. Returns the
   * number of items freed.
   */
  tryReclaimLocked(reclaim: Reclaim): number {
    const memory = this.memory;
    const base = this.base;
    if (memory[base + EPOCH_PENDING_ITEMS] === 0) return 0;
    const global = Atomics.load(memory, base + EPOCH_GLOBAL);
    let oldest = global;
    let active = false;
    const limit = Atomics.load(memory, base + EPOCH_SLOT_LIMIT);
    for (let slot = 0; slot < limit; slot++) {
      const announced = Atomics.load(memory, base + EPOCH_SLOTS + slot * SLOT_STRIDE + SLOT_ANNOUNCED);
      if (announced === IDLE) continue;
      active = true;
      if (((global - announced) | 0) > ((global - oldest) | 0)) oldest = announced;
    }
    let freedItems = 0;
    let freedBytes = 0;
    let record = memory[base + EPOCH_RETIRE_HEAD];
    // Safe when every non-idle thread announced an epoch after the record's tag.
    while (record !== 0 && (!active || ((oldest - memory[record + RECORD_TAG]) | 0) > 0)) {
      const count = memory[record + RECORD_COUNT];
      for (let item = 0; item < count; item++) {
        freedBytes += reclaim(memory[record + RECORD_ITEMS + 2 * item], memory[record + RECORD_ITEMS + 2 * item + 1]);
      }
      freedItems += count;
      const next = memory[record + RECORD_NEXT];
      this.arena.free(record, RECORD_WORDS);
      record = next;
    }
    memory[base + EPOCH_RETIRE_HEAD] = record;
    if (record === 0) memory[base + EPOCH_RETIRE_TAIL] = 0;
    memory[base + EPOCH_PENDING_ITEMS] -= freedItems;
    memory[base + EPOCH_PENDING_BYTES] -= freedBytes;
    if (record !== 0 && oldest === global) Atomics.store(memory, base + EPOCH_GLOBAL, (global + EPOCH_STEP) | 0);
    return freedItems;
  }

  /** Approximate while threads run (plain and separate loads). */
  stats(): EpochStats {
    const memory = this.memory;
    const base = this.base;
    let activeThreads = 0;
    const limit = Atomics.load(memory, base + EPOCH_SLOT_LIMIT);
    for (let slot = 0; slot < limit; slot++) {
      if (Atomics.load(memory, base + EPOCH_SLOTS + slot * SLOT_STRIDE + SLOT_ANNOUNCED) !== IDLE) activeThreads++;
    }
    return {
      epoch: Atomics.load(memory, base + EPOCH_GLOBAL),
      bytesAwaitingReclamation: Atomics.load(memory, base + EPOCH_PENDING_BYTES),
      itemsAwaitingReclamation: Atomics.load(memory, base + EPOCH_PENDING_ITEMS),
      activeThreads,
    };
  }

  private slotWord(field: number): number {
    return this.base + EPOCH_SLOTS + this.registration.slot * SLOT_STRIDE + field;
  }

  private register(): void {
    const memory = this.memory;
    const base = this.base;
    for (let slot = 0; slot < MAX_EPOCH_THREADS; slot++) {
      const claimed = base + EPOCH_SLOTS + slot * SLOT_STRIDE + SLOT_CLAIMED;
      if (Atomics.load(memory, claimed) !== 0 || Atomics.compareExchange(memory, claimed, 0, 1) !== 0) continue;
      this.registration.slot = slot;
      let limit = Atomics.load(memory, base + EPOCH_SLOT_LIMIT);
      while (limit <= slot) {
        const seen = Atomics.compareExchange(memory, base + EPOCH_SLOT_LIMIT, limit, slot + 1);
        if (seen === limit) break;
        limit = seen;
      }
      return;
    }
    throw new RangeError(
      `more than ${MAX_EPOCH_THREADS} threads are using one map at the same time; ` +
        'call quiesce() on threads that have finished with it',
    );
  }
}
