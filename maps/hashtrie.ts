/**
 * hashtrie: Go 1.24's HashTrieMap (src/internal/sync/hashtriemap.go, the
 * implementation behind sync.Map since Go 1.24) in shared memory — a trie of
 * 16-way indirect nodes indexed by successive 4-bit digits of the key's hash,
 * from the top bits down. A child slot is nil, an indirect node, or an entry
 * (key, value, overflow chain for keys whose whole hash is equal). Loads take
 * no lock; a write locks the one indirect node whose child slot it changes.
 *
 * When to use it: anywhere the classic sync.Map (readdirty) was used, and
 * more. Reads never touch a lock or a shared counter, new keys cost one node
 * lock instead of an O(n) dirty-table copy, and deletes unlink at once (empty
 * nodes are pruned) instead of lingering until a rebuild. When not to: a read
 * walks one pointer per level (log16 n, ~3 for 1024 keys) where a hash table
 * probes one slot, so a read-only map of a fixed key set is a little faster in
 * readdirty's promoted read table; and every store allocates a new entry, as
 * Go's does (entries are immutable), so update-heavy work pays allocation and
 * reclamation.
 *
 * Shared words (int32; offsets below as HT_*, IND_*, ENTRY_*):
 *   header HT_ROOT — the root indirect node; written once at create (never
 *       replaced: there is no Clear). HT_HASH_MASK — hash bits kept (all but
 *       in test factories); written once at create.
 *   indirect node (Go's indirect): IND_CHILDREN + d for digit d — the child
 *       slot, Go's atomic.Pointer[node]: 0 (nil), an indirect node's offset,
 *       or an entry's offset | ENTRY_TAG (Go's isEntry, kept in the pointer).
 *       Stored (Atomics.store) only with this node's IND_MU held; loaded by
 *       anyone (see "Loads" below).
 *     IND_MU — the node's Mutex (mutex.ts), Go's `mu`: protects the children
 *       and the overflow words of the entries hanging from them.
 *     IND_DEAD — Go's `dead`: 0, then 1 once the node has been unlinked from
 *       its parent (Atomics.store with both this node's and the parent's mu
 *       held; never reset until the node is reclaimed).
 *     IND_PARENT — the parent node (0 for the root); written before publication.
 *   entry (Go's entry): ENTRY_KEY and ENTRY_VALUE — immutable once published
 *       (a store of an existing key publishes a new entry, as Go's swap does);
 *     ENTRY_OVERFLOW — next entry of the collision chain (0 = end), stored
 *       (Atomics) only with the owning node's mu held.
 *   HT_RECLAIM_MU and the words after it — the epoch domain's owner lock
 *       (epoch.ts: retire list) and the shared free list of entries
 *       (HT_FREE_HEAD linked through freed entries' first word, HT_FREE_COUNT);
 *       read and written only with HT_RECLAIM_MU held (HT_FREE_COUNT is also
 *       read plainly, as a hint). HT_ENTRY_SLOTS — entries ever carved (Atomics.add).
 *
 * Node state machine: an indirect node is born private (expand), becomes
 * reachable at the Atomics.store of its parent slot, is unlinked when a delete
 * leaves it empty (dead = 1, parent slot = 0, both locks held), and is retired
 * to the epoch domain. An entry is born private, reachable at the store that
 * links it (a slot or an overflow word), unlinked by a delete or replaced by a
 * store of its key, then retired. Retired memory is reused only after every
 * thread has passed a quiescent point (invariant 5).
 *
 * Invariants:
 *   1. A node at depth k (root 0) lies on the path of every key below it: the
 *      top 4(k+1) hash bits of those keys select it digit by digit; hash bits
 *      run out at depth 7, where a child is never an indirect node.
 *   2. Two entries share a chain iff their hashes are fully equal (expand
 *      chains them only then; it splits on the first differing digit).
 *   3. A live (not dead) node's parent slot on its path points to it; a
 *      non-root live node has at least one non-nil child except between the
 *      delete that empties it and the prune that unlinks it, both under its mu.
 *   4. Writers lock at most a node and then its parent (prune), child before
 *      parent, so lock order follows depth upwards; HT_RECLAIM_MU and the
 *      arena lock nest inside node locks, never the other way round.
 *   5. QSBR (epoch.ts): each operation starts at a quiescent point; a thread
 *      announces one every QUIESCENT_INTERVAL_OPS operations and goes idle with
 *      quiesce(); forEach pins (no announcement while a callback runs). A
 *      thread buffers what it unlinks and retires it in batches of
 *      RETIRE_BATCH under HT_RECLAIM_MU (the tag is loaded after the unlink,
 *      as epoch.ts requires), so memory stays bounded under churn.
 *   6. After locking a node, a writer re-checks (Go) that the node is not dead
 *      and that the slot is still nil or an entry; otherwise it unlocks and
 *      retries from the root (stats().retries).
 *
 * Linearisation points:
 *   get (Go: Load) — the load of the slot or overflow word that yielded the
 *       entry holding the key (its value is immutable), or nil. A key absent
 *       from a chain linearises at the slot load if it was not in the chain
 *       then, else right after the delete that unlinked it during the walk
 *       (keys join a chain only at its head).
 *   set (Go: Store/Swap), add — the Atomics.store that links the new entry,
 *       under the node's mu. add checks the result first: a RangeError leaves
 *       the map unchanged.
 *   delete (Go: LoadAndDelete) — the Atomics.store that unlinks the entry, or
 *       (absent) as get, or the locked re-read that no longer finds it.
 *   getOrSet (Go: LoadOrStore) — a lock-free or locked read that finds the
 *       key, or the store that links the new entry.
 *   compareAndSet (Go: CompareAndSwap) — the store of the new entry, or a
 *       read (lock-free or locked) that finds the key absent or different.
 *
 * Loads: the root's child slot is read with Atomics.load; deeper child slots,
 * overflow words and entry fields with plain loads. Go's atomic loads compile
 * to the same plain MOV on amd64; here Atomics.load costs ~10 ns against ~2 ns
 * for a plain load of an L1-resident word (measured on the target machine
 * kind), so a 3-level walk saves ~25 ns. Why plain is enough: every node and
 * entry is fully written before the Atomics.store that links it; each deeper
 * load's address comes from the previous load (an address dependency, which
 * neither x86 nor V8 reorders across), after the Atomics.load at the root that
 * also keeps the JIT from caching loads across operations; aligned int32 loads
 * never tear; and QSBR keeps everything reachable at the start of an
 * operation from being reused before it ends. Every store to a shared word is
 * an Atomics.store.
 *
 * Consistency:
 *   size()    — walks the trie without locks and counts entries: exact when no
 *               thread writes, otherwise each key is counted as of a slightly
 *               different moment (never twice). O(n).
 *   forEach() — Go's Range: a lock-free walk, not a snapshot. Each key is
 *               visited at most once, with a value it had during the call; a key
 *               present throughout is visited; keys stored or deleted
 *               concurrently (or by fn) may or may not be. fn may call any
 *               method of the map.
 *
 * Memory: one 16-byte entry per key (4 words) plus indirect nodes of 96 bytes
 * (19 words in a 24-word block): for n random keys about 0.36 n nodes, so
 * ~50 bytes per key at 16 384 keys; plus retired memory awaiting reclamation
 * (up to RETIRE_BATCH items per thread before it reaches the epoch domain) and
 * each thread's cache of free entries (at most LOCAL_FREE_MAX).
 *
 * Test hook: narrowHashTrieFactory(hashBits) keeps only the top hashBits bits
 * of the hash. The project's hash (fmix32) is a bijection on 32 bits, so
 * distinct int32 keys never collide in the full hash and overflow chains are
 * unreachable with the real hash; narrowed, they are the common case.
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
import { lockWord, unlockWord, type MutexCounterIndexes } from './mutex.js';
import type { ConcurrentMap, MapFactory, MapHandle, MapOptions } from './types.js';
import {
  MAX_KEY,
  MAX_VALUE,
  MIN_VALUE,
  checkAddResult,
  checkDelta,
  checkKey,
  checkValue,
  isValidValue,
  resolveMapOptions,
} from './validate.js';

const NAME = 'hashtrie';

/** Go's nChildrenLog2: 16 children per indirect node. */
export const CHILDREN_LOG2 = 4;
export const CHILDREN = 1 << CHILDREN_LOG2;
const CHILD_MASK = CHILDREN - 1;
/** The hash is 32 bits: the root digit is hash >>> 28, and depth 7 takes the last digit. */
const ROOT_SHIFT = 32 - CHILDREN_LOG2;
/** Levels of indirect nodes at most: 32 hash bits, 4 per level. */
const TRIE_LEVELS = 32 / CHILDREN_LOG2;
/** Low bit of a child slot: the slot holds an entry (Go's node.isEntry). Entries are 4-word aligned. */
export const ENTRY_TAG = 1;

/** Indirect node layout (words). */
export const IND_CHILDREN = 0;
export const IND_MU = CHILDREN;
export const IND_DEAD = CHILDREN + 1;
export const IND_PARENT = CHILDREN + 2;
export const INDIRECT_WORDS = CHILDREN + 3;

/** Entry layout (words); one entry is ENTRY_WORDS, 16 bytes, carved from slab chunks. */
export const ENTRY_KEY = 0;
export const ENTRY_VALUE = 1;
export const ENTRY_OVERFLOW = 2;
export const ENTRY_WORDS = 4;
const ENTRY_BYTES = ENTRY_WORDS * 4;
/** Entries per slab chunk: 256 × 16 bytes = 4 KiB. */
const ENTRY_CHUNK_WORDS = 1024;

/** Header layout (word offsets from the header). */
export const HT_ROOT = 0;
export const HT_HASH_MASK = 1;
export const HT_EPOCH_BLOCK = 2;
export const HT_ENTRY_SLOTS = 3;
export const HT_RECLAIM_MU = CACHE_LINE_PAIR_WORDS;
export const HT_FREE_HEAD = HT_RECLAIM_MU + 1;
export const HT_FREE_COUNT = HT_RECLAIM_MU + 2;
export const HT_HEADER_WORDS = 2 * CACHE_LINE_PAIR_WORDS;

/** Operations between two quiescent-point announcements (each costs one Atomics.load). */
export const QUIESCENT_INTERVAL_OPS = 64;
/** Items a thread unlinks before it retires them to the epoch domain (one HT_RECLAIM_MU acquisition). */
export const RETIRE_BATCH = 64;
/** Free entries a thread keeps for itself; more go to the shared free list. */
export const LOCAL_FREE_MAX = 256;
/** Entries a thread takes from the shared free list at once. */
const REFILL_ENTRIES = 64;
/** Retired-item size for an entry (an indirect node retires with size INDIRECT_WORDS). */
const RETIRED_ENTRY = 0;

/** Per-thread counters (thread-counters.ts), in this order from index 0. */
const COUNTER_NAMES = [
  'lockAcquisitions',
  'lockContended',
  'lockSleeps',
  'retries',
  'expansions',
  'overflowInserts',
  'nodesPruned',
  'entriesRetired',
  'entriesReclaimed',
  'nodesReclaimed',
  'reclaimLockAcquisitions',
  'reclaimLockContended',
  'reclaimLockSleeps',
] as const;
const C_LOCK = 0;
const C_RETRIES = 3;
const C_EXPANSIONS = 4;
const C_OVERFLOW_INSERTS = 5;
const C_NODES_PRUNED = 6;
const C_ENTRIES_RETIRED = 7;
const C_ENTRIES_RECLAIMED = 8;
const C_NODES_RECLAIMED = 9;
const C_RECLAIM_LOCK = 10;
if (COUNTER_NAMES.length > COUNTER_ARENA_LOCK) throw new Error('hashtrie counters overlap the arena lock counters');
const NODE_LOCK_COUNTERS: MutexCounterIndexes = { acquisitions: C_LOCK, contended: C_LOCK + 1, sleeps: C_LOCK + 2 };
const RECLAIM_LOCK_COUNTERS: MutexCounterIndexes = {
  acquisitions: C_RECLAIM_LOCK,
  contended: C_RECLAIM_LOCK + 1,
  sleeps: C_RECLAIM_LOCK + 2,
};

/** lockPath's mode: what the lock-free part of the walk does when it reaches an entry chain. */
const WALK_TO_SLOT = 0; // Go's Swap: lock wherever the walk stops
const WALK_UNLESS_PRESENT = 1; // Go's LoadOrStore: return the value if the key is there
const WALK_IF_PRESENT = 2; // Go's find: give up unless the key is there
const WALK_IF_EQUAL = 3; // Go's find with valEqual: give up unless the key holds `expected`
/** lockPath's results besides a slot's content. */
const WALK_FOUND = -1;
const WALK_GAVE_UP = -2;

/** Figures of one lock-free walk of the whole trie (stats()). */
interface TrieShape {
  nodes: number;
  entries: number;
  overflowEntries: number;
  depth: number;
  probeSum: number;
  maxProbe: number;
}

export class HashTrieMap implements ConcurrentMap {
  private readonly memory: Int32Array;
  private readonly arena: Arena;
  private readonly counters: Float64Array;
  private readonly header: number;
  private readonly root: number;
  private readonly hashMask: number;
  private readonly reclaimMu: number;
  private readonly epoch: EpochDomain;
  private readonly reclaimItem: Reclaim;
  private opsUntilQuiescentPoint = 0;
  /** > 0 while forEach (or stats/size) walks the trie on this thread: no announcements. */
  private pinDepth = 0;
  /** Where lockPath stopped: the locked node, the slot word, the shift of its digit, a value found. */
  private lockedNode = 0;
  private lockedSlot = 0;
  private lockedShift = 0;
  private foundValue = 0;
  /** This thread's free entries (a stack) and its slab chunk's unused tail. */
  private readonly localFree = new Int32Array(LOCAL_FREE_MAX);
  private localFreeCount = 0;
  private chunkNext = 0;
  private chunkEnd = 0;
  /** Unlinked items not yet retired: (offset, size) pairs; flushed at RETIRE_BATCH. */
  private retired = new Int32Array(2 * (RETIRE_BATCH + 2 * CHILDREN));
  private retiredCount = 0;
  /** forEach's path from the root: (node, digit) per level. */
  private iterPath = new Int32Array(2 * TRIE_LEVELS);

  constructor(private readonly mapMemory: MapMemory) {
    const { memory, header, arena, counters } = mapMemory;
    this.memory = memory;
    this.arena = arena;
    this.counters = counters;
    this.header = header;
    this.root = memory[header + HT_ROOT];
    this.hashMask = memory[header + HT_HASH_MASK];
    this.reclaimMu = header + HT_RECLAIM_MU;
    this.epoch = new EpochDomain(arena, memory[header + HT_EPOCH_BLOCK]);
    this.reclaimItem = (offset, size) => this.reclaimLocked(offset, size);
  }

  /** Main thread: lays out the header, an empty root node and the epoch block. */
  static initialise(arena: Arena, header: number, hashMask: number): void {
    const memory = arena.memory;
    memory[header + HT_HASH_MASK] = hashMask;
    memory[header + HT_EPOCH_BLOCK] = createEpochBlock(arena);
    const root = arena.allocate(INDIRECT_WORDS);
    memory.fill(0, root, root + INDIRECT_WORDS);
    Atomics.store(memory, header + HT_ROOT, root);
  }

  private hashOf(key: number): number {
    return hashKey(key) & this.hashMask;
  }

  // ── Go: Load ────────────────────────────────────────────────────────────────
  get(key: number): number | undefined {
    // One mask and compare: true exactly for integers 0..2^31−1 (isValidKey's set).
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const memory = this.memory;
    const hash = hashKey(key) & this.hashMask;
    let shift = ROOT_SHIFT;
    let child = Atomics.load(memory, this.root + (hash >>> ROOT_SHIFT));
    while (child !== 0) {
      if ((child & ENTRY_TAG) !== 0) {
        // Go: entry.lookup — plain loads: see "Loads" above.
        let entry = child ^ ENTRY_TAG;
        do {
          if (memory[entry + ENTRY_KEY] === key) return memory[entry + ENTRY_VALUE];
          entry = memory[entry + ENTRY_OVERFLOW];
        } while (entry !== 0);
        return undefined;
      }
      shift -= CHILDREN_LOG2;
      child = memory[child + IND_CHILDREN + ((hash >>> shift) & CHILD_MASK)];
    }
    return undefined;
  }

  // ── Go: Store (Swap) ────────────────────────────────────────────────────────
  set(key: number, value: number): void {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (!isValidValue(value)) checkValue(value);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const hash = this.hashOf(key);
    const child = this.lockPath(hash, key, WALK_TO_SLOT, 0);
    try {
      this.storeLocked(hash, key, value, child);
    } finally {
      unlockWord(this.memory, this.lockedNode + IND_MU);
    }
    this.retireIfBatchFull();
  }

  /**
   * Go: Swap's locked part. Replaces the key's entry in the chain at the locked
   * slot with a new one holding `value` (Go's entry.swap), or inserts a new
   * entry: into the nil slot, or through expand.
   */
  private storeLocked(hash: number, key: number, value: number, child: number): void {
    const memory = this.memory;
    if (child !== 0) {
      const head = child ^ ENTRY_TAG;
      let link = this.lockedSlot; // the word that points at `entry`
      let entry = head;
      do {
        if (memory[entry + ENTRY_KEY] === key) {
          const fresh = this.newEntry(key, value, memory[entry + ENTRY_OVERFLOW]);
          Atomics.store(memory, link, link === this.lockedSlot ? fresh | ENTRY_TAG : fresh);
          this.retire(entry, RETIRED_ENTRY);
          return;
        }
        link = entry + ENTRY_OVERFLOW;
        entry = memory[link];
      } while (entry !== 0);
    }
    this.insertLocked(hash, key, value, child);
  }

  /** A new key at the locked slot (nil, or an entry chain without the key). */
  private insertLocked(hash: number, key: number, value: number, child: number): void {
    const fresh = this.newEntry(key, value, 0);
    if (child === 0) {
      // Easy case: create a new entry and store it.
      Atomics.store(this.memory, this.lockedSlot, fresh | ENTRY_TAG);
      return;
    }
    let subtree: number;
    try {
      subtree = this.expand(child ^ ENTRY_TAG, fresh, hash, this.lockedShift, this.lockedNode);
    } catch (error) {
      this.freeEntry(fresh); // never published
      throw error;
    }
    // Publish the node last, which makes both the old chain and the new entry visible at once.
    Atomics.store(this.memory, this.lockedSlot, subtree);
  }

  /**
   * Go: expand. The old chain and a new entry whose hashes agree down to
   * `shift`'s digit: if the hashes are fully equal the new entry heads the
   * chain (an overflow insert); otherwise a private subtree of indirect nodes
   * deep enough to tell them apart. Returns the child word to publish.
   */
  private expand(oldEntry: number, newEntry: number, newHash: number, shift: number, parent: number): number {
    const memory = this.memory;
    const oldHash = this.hashOf(memory[oldEntry + ENTRY_KEY]);
    if (oldHash === newHash) {
      memory[newEntry + ENTRY_OVERFLOW] = oldEntry;
      this.counters[C_OVERFLOW_INSERTS]++;
      return newEntry | ENTRY_TAG;
    }
    let top = 0;
    let created = 0;
    try {
      top = this.newIndirect(parent);
      created++;
      let node = top;
      for (;;) {
        if (shift === 0) throw new Error('hashtrie: ran out of hash bits while inserting');
        shift -= CHILDREN_LOG2; // shift was for the parent's level: one level deeper
        const oldDigit = (oldHash >>> shift) & CHILD_MASK;
        const newDigit = (newHash >>> shift) & CHILD_MASK;
        if (oldDigit !== newDigit) {
          memory[node + IND_CHILDREN + oldDigit] = oldEntry | ENTRY_TAG;
          memory[node + IND_CHILDREN + newDigit] = newEntry | ENTRY_TAG;
          break;
        }
        const next = this.newIndirect(node);
        created++;
        memory[node + IND_CHILDREN + oldDigit] = next;
        node = next;
      }
    } catch (error) {
      this.freeUnpublishedSubtree(top);
      throw error;
    }
    this.counters[C_EXPANSIONS] += created;
    return top;
  }

  /** Frees a path of indirect nodes expand built but never published (each links the next, if any). */
  private freeUnpublishedSubtree(top: number): void {
    const memory = this.memory;
    for (let node = top; node !== 0;) {
      let next = 0;
      for (let digit = 0; digit < CHILDREN; digit++) {
        const child = memory[node + IND_CHILDREN + digit];
        if (child !== 0 && (child & ENTRY_TAG) === 0) next = child;
      }
      this.arena.free(node, INDIRECT_WORDS);
      node = next;
    }
  }

  // ── Go: LoadAndDelete (Delete) ──────────────────────────────────────────────
  delete(key: number): boolean {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const hash = this.hashOf(key);
    const child = this.lockPath(hash, key, WALK_IF_PRESENT, 0);
    if (child === WALK_GAVE_UP) return false;
    let deleted = false;
    try {
      deleted = child !== 0 && this.deleteLocked(hash, key, child);
    } finally {
      if (!deleted) unlockWord(this.memory, this.lockedNode + IND_MU);
    }
    this.retireIfBatchFull();
    return deleted;
  }

  /**
   * Go: entry.loadAndDelete, then the prune loop of LoadAndDelete. Unlinks the
   * key's entry from the chain at the locked slot; if the slot is now nil,
   * unlinks every node left empty on the way up. Returns false (lock still
   * held) if the key is not in the chain; true with every lock released.
   */
  private deleteLocked(hash: number, key: number, child: number): boolean {
    const memory = this.memory;
    let link = this.lockedSlot;
    let entry = child ^ ENTRY_TAG;
    while (memory[entry + ENTRY_KEY] !== key) {
      link = entry + ENTRY_OVERFLOW;
      entry = memory[link];
      if (entry === 0) return false;
    }
    const rest = memory[entry + ENTRY_OVERFLOW];
    if (link !== this.lockedSlot) Atomics.store(memory, link, rest);
    else Atomics.store(memory, link, rest === 0 ? 0 : rest | ENTRY_TAG);
    this.retire(entry, RETIRED_ENTRY);
    let node = this.lockedNode;
    let shift = this.lockedShift;
    if (link === this.lockedSlot && rest === 0) {
      // Check if the node is now empty (and isn't the root), and unlink it if so.
      for (
        let parent = memory[node + IND_PARENT];
        parent !== 0 && this.isEmptyLocked(node);
        parent = memory[node + IND_PARENT]
      ) {
        shift += CHILDREN_LOG2;
        lockWord(memory, parent + IND_MU, this.counters, NODE_LOCK_COUNTERS);
        Atomics.store(memory, node + IND_DEAD, 1);
        Atomics.store(memory, parent + IND_CHILDREN + ((hash >>> shift) & CHILD_MASK), 0);
        unlockWord(memory, node + IND_MU);
        this.retire(node, INDIRECT_WORDS);
        this.counters[C_NODES_PRUNED]++;
        node = parent;
      }
    }
    unlockWord(memory, node + IND_MU);
    return true;
  }

  /** Go: indirect.empty. Caller holds the node's mu. */
  private isEmptyLocked(node: number): boolean {
    const memory = this.memory;
    for (let digit = 0; digit < CHILDREN; digit++) if (memory[node + IND_CHILDREN + digit] !== 0) return false;
    return true;
  }

  // ── Go: LoadOrStore ─────────────────────────────────────────────────────────
  getOrSet(key: number, value: number): number {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (!isValidValue(value)) checkValue(value);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const hash = this.hashOf(key);
    const child = this.lockPath(hash, key, WALK_UNLESS_PRESENT, 0);
    if (child === WALK_FOUND) return this.foundValue;
    try {
      // By loading again, it may turn out exactly what we wanted is here.
      if (child !== 0 && this.chainFind(child ^ ENTRY_TAG, key) !== 0) return this.foundValue;
      this.insertLocked(hash, key, value, child);
    } finally {
      unlockWord(this.memory, this.lockedNode + IND_MU);
    }
    return value;
  }

  // ── Go: CompareAndSwap ──────────────────────────────────────────────────────
  compareAndSet(key: number, expected: number, value: number): boolean {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if (!isValidValue(expected)) checkValue(expected, 'expected');
    if (!isValidValue(value)) checkValue(value);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const hash = this.hashOf(key);
    const child = this.lockPath(hash, key, WALK_IF_EQUAL, expected);
    if (child === WALK_GAVE_UP) return false;
    let swapped = false;
    try {
      // Go: entry.compareAndSwap — a new entry in place of the one holding `expected`.
      const entry = child === 0 ? 0 : this.chainFind(child ^ ENTRY_TAG, key);
      if (entry !== 0 && this.foundValue === expected) {
        this.storeLocked(hash, key, value, child);
        swapped = true;
      }
    } finally {
      unlockWord(this.memory, this.lockedNode + IND_MU);
    }
    if (swapped) this.retireIfBatchFull();
    return swapped;
  }

  // ── add: Swap's path with the new value computed under the node's mu ────────
  add(key: number, delta: number): number {
    if ((key & MAX_KEY) !== key) checkKey(key);
    if ((delta | 0) !== delta) checkDelta(delta);
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const hash = this.hashOf(key);
    const child = this.lockPath(hash, key, WALK_TO_SLOT, 0);
    let next: number;
    try {
      const current = child !== 0 && this.chainFind(child ^ ENTRY_TAG, key) !== 0 ? this.foundValue : 0;
      next = current + delta;
      if (next < MIN_VALUE || next > MAX_VALUE) checkAddResult(key, current, delta); // throws: nothing changed
      this.storeLocked(hash, key, next, child);
    } finally {
      unlockWord(this.memory, this.lockedNode + IND_MU);
    }
    this.retireIfBatchFull();
    return next;
  }

  /**
   * The search loop shared by Go's Swap, LoadOrStore and find: walk without
   * locks to the first slot on hash's path that is nil or an entry chain, lock
   * its node and re-check (Go: "Grab the lock and double-check what we saw").
   * Returns the slot's content under the lock, with lockedNode / lockedSlot /
   * lockedShift set — or, with no lock held, WALK_FOUND (foundValue set;
   * WALK_UNLESS_PRESENT) or WALK_GAVE_UP (the key is absent, or differs from
   * `expected`; WALK_IF_PRESENT / WALK_IF_EQUAL).
   */
  private lockPath(hash: number, key: number, mode: number, expected: number): number {
    const memory = this.memory;
    for (;;) {
      let node = this.root;
      let shift = ROOT_SHIFT;
      let slot = node + IND_CHILDREN + (hash >>> ROOT_SHIFT);
      let child = Atomics.load(memory, slot);
      while (child !== 0 && (child & ENTRY_TAG) === 0) {
        node = child;
        shift -= CHILDREN_LOG2;
        slot = node + IND_CHILDREN + ((hash >>> shift) & CHILD_MASK);
        child = memory[slot]; // plain: see "Loads"
      }
      if (mode !== WALK_TO_SLOT) {
        const present = child !== 0 && this.chainFind(child ^ ENTRY_TAG, key) !== 0;
        if (mode === WALK_UNLESS_PRESENT) {
          if (present) return WALK_FOUND;
        } else if (!present || (mode === WALK_IF_EQUAL && this.foundValue !== expected)) {
          return WALK_GAVE_UP;
        }
      }
      lockWord(memory, node + IND_MU, this.counters, NODE_LOCK_COUNTERS);
      child = Atomics.load(memory, slot);
      if ((child === 0 || (child & ENTRY_TAG) !== 0) && Atomics.load(memory, node + IND_DEAD) === 0) {
        this.lockedNode = node;
        this.lockedSlot = slot;
        this.lockedShift = shift;
        return child;
      }
      // The slot became an indirect node, or the node was pruned: start over.
      unlockWord(memory, node + IND_MU);
      this.counters[C_RETRIES]++;
    }
  }

  /** The key's entry in the chain from `entry` (foundValue set to its value), or 0. */
  private chainFind(entry: number, key: number): number {
    const memory = this.memory;
    do {
      if (memory[entry + ENTRY_KEY] === key) {
        this.foundValue = memory[entry + ENTRY_VALUE];
        return entry;
      }
      entry = memory[entry + ENTRY_OVERFLOW];
    } while (entry !== 0);
    return 0;
  }

  // ── size and Go: Range (All/iter) ───────────────────────────────────────────
  size(): number {
    return this.shape().entries;
  }

  forEach(fn: (key: number, value: number) => void): void {
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    this.pinDepth++;
    const outerPath = this.iterPath;
    // A walk nested in fn (fn may call forEach) gets its own path.
    if (this.pinDepth > 1) this.iterPath = new Int32Array(2 * TRIE_LEVELS);
    try {
      this.iter(fn);
    } finally {
      this.iterPath = outerPath;
      this.pinDepth--;
    }
  }

  /**
   * Go: iter. Depth-first over the children, each chain in order; loads as
   * get's (see "Loads"). A loop over an explicit path instead of Go's
   * recursion: measured 2× faster per Range here.
   */
  private iter(fn: (key: number, value: number) => void): void {
    const memory = this.memory;
    const path = this.iterPath;
    let depth = 0;
    let node = this.root;
    let digit = 0;
    for (;;) {
      if (digit === CHILDREN) {
        if (depth === 0) return;
        // Back up to the parent's next child.
        depth--;
        node = path[2 * depth];
        digit = path[2 * depth + 1] + 1;
        continue;
      }
      const child =
        depth === 0 ? Atomics.load(memory, node + IND_CHILDREN + digit) : memory[node + IND_CHILDREN + digit];
      if (child === 0) {
        digit++;
      } else if ((child & ENTRY_TAG) === 0) {
        path[2 * depth] = node;
        path[2 * depth + 1] = digit;
        depth++;
        node = child;
        digit = 0;
      } else {
        for (let entry = child ^ ENTRY_TAG; entry !== 0; entry = memory[entry + ENTRY_OVERFLOW]) {
          fn(memory[entry + ENTRY_KEY], memory[entry + ENTRY_VALUE]);
        }
        digit++;
      }
    }
  }

  /** One lock-free walk counting nodes, entries, depth and probe lengths (pinned like forEach). */
  private shape(): TrieShape {
    if (--this.opsUntilQuiescentPoint < 0) this.passQuiescentPoint();
    const shape: TrieShape = { nodes: 0, entries: 0, overflowEntries: 0, depth: 0, probeSum: 0, maxProbe: 0 };
    this.pinDepth++;
    try {
      this.measure(this.root, 1, shape);
    } finally {
      this.pinDepth--;
    }
    return shape;
  }

  private measure(node: number, level: number, shape: TrieShape): void {
    const memory = this.memory;
    shape.nodes++;
    if (level > shape.depth) shape.depth = level;
    for (let digit = 0; digit < CHILDREN; digit++) {
      const child = Atomics.load(memory, node + IND_CHILDREN + digit);
      if (child === 0) continue;
      if ((child & ENTRY_TAG) === 0) {
        this.measure(child, level + 1, shape);
        continue;
      }
      // A hit visits `level` nodes, then the chain up to its entry.
      let probe = level;
      for (let entry = child ^ ENTRY_TAG; entry !== 0; entry = Atomics.load(memory, entry + ENTRY_OVERFLOW)) {
        probe++;
        shape.entries++;
        if (probe > level + 1) shape.overflowEntries++;
        shape.probeSum += probe;
        if (probe > shape.maxProbe) shape.maxProbe = probe;
      }
    }
  }

  /**
   * Counters summed over threads (exact once threads stop), then the trie's
   * shape from one lock-free walk (exact when no thread writes), epoch and
   * arena figures. O(n). The hash-table names mean, for a trie:
   *   slots — child slots (16 per indirect node); resizes — indirect nodes
   *   created by expand (the trie's only growth); probe lengths — nodes and
   *   chain entries a hit visits (a key in a root slot: 2).
   */
  stats(): Record<string, number> {
    const counters = sumCounters(this.mapMemory, COUNTER_NAMES);
    const shape = this.shape();
    const { epoch, bytesAwaitingReclamation, itemsAwaitingReclamation, activeThreads } = this.epoch.stats();
    return {
      ...counters,
      entries: shape.entries,
      nodes: shape.nodes,
      depth: shape.depth,
      slots: shape.nodes * CHILDREN,
      overflowEntries: shape.overflowEntries,
      resizes: counters.expansions,
      averageProbeLength: shape.entries === 0 ? 0 : shape.probeSum / shape.entries,
      maxProbeLength: shape.maxProbe,
      hashBits: Math.clz32(~this.hashMask),
      entrySlots: Atomics.load(this.memory, this.header + HT_ENTRY_SLOTS),
      entriesFree: Atomics.load(this.memory, this.header + HT_FREE_COUNT) + this.localFreeCount,
      retiredUnflushed: this.retiredCount,
      epoch,
      bytesAwaitingReclamation,
      itemsAwaitingReclamation,
      activeThreads,
      ...memoryStats(this.mapMemory),
    };
  }

  /**
   * This thread holds nothing of the map until its next call: retire what it
   * unlinked, hand its free entries back to the shared list, stop holding
   * reclamation back, and reclaim what is safe. Ignored inside a forEach
   * callback, whose walk still holds nodes.
   */
  quiesce(): void {
    if (this.pinDepth > 0) return;
    this.epoch.goIdle();
    // The next operation, whichever it is, announces before it reads anything.
    this.opsUntilQuiescentPoint = 0;
    const memory = this.memory;
    const quietCounters = new Float64Array(3);
    lockWord(memory, this.reclaimMu, quietCounters, { acquisitions: 0, contended: 1, sleeps: 2 });
    try {
      this.retireAllLocked();
      while (this.localFreeCount > 0) this.pushSharedFreeLocked(this.localFree[--this.localFreeCount]);
      for (; this.chunkNext < this.chunkEnd; this.chunkNext += ENTRY_WORDS) this.pushSharedFreeLocked(this.chunkNext);
      this.epoch.tryReclaimLocked(this.reclaimItem);
    } finally {
      unlockWord(memory, this.reclaimMu);
    }
  }

  // ── Internals: quiescent points, allocation, retirement, reclamation ─────────

  /** Start of an operation: a quiescent point; announce it every QUIESCENT_INTERVAL_OPS. */
  private passQuiescentPoint(): void {
    this.opsUntilQuiescentPoint = QUIESCENT_INTERVAL_OPS - 1;
    if (this.pinDepth === 0) this.epoch.quiescentPoint();
  }

  /** A fresh indirect node (Go: newIndirectNode), private until linked. */
  private newIndirect(parent: number): number {
    const memory = this.memory;
    const node = this.arena.allocate(INDIRECT_WORDS);
    // A loop, not TypedArray.prototype.fill: a builtin call costs more than 19 stores.
    for (let word = 0; word < INDIRECT_WORDS; word++) memory[node + word] = 0;
    memory[node + IND_PARENT] = parent;
    return node;
  }

  /**
   * A fresh entry (Go: newEntryNode), private until linked, so plain stores:
   * from this thread's free stack, else the shared free list, else this
   * thread's slab chunk (a new chunk from the arena when it is used up).
   */
  private newEntry(key: number, value: number, overflow: number): number {
    const memory = this.memory;
    let entry: number;
    if (this.localFreeCount > 0 || this.refillLocalFree()) entry = this.localFree[--this.localFreeCount];
    else {
      if (this.chunkNext === this.chunkEnd) this.carveChunk();
      entry = this.chunkNext;
      this.chunkNext += ENTRY_WORDS;
    }
    memory[entry + ENTRY_KEY] = key;
    memory[entry + ENTRY_VALUE] = value;
    memory[entry + ENTRY_OVERFLOW] = overflow;
    return entry;
  }

  /**
   * A new slab chunk for this thread. Near the end of the arena a smaller one,
   * so that the last bytes still hold entries (a store of an existing key needs
   * one too: entries are immutable).
   */
  private carveChunk(): void {
    let words = ENTRY_CHUNK_WORDS;
    for (;;) {
      try {
        this.chunkNext = this.arena.allocate(words);
        break;
      } catch (error) {
        if (words <= ENTRY_WORDS) throw error;
        words >>= 1;
      }
    }
    this.chunkEnd = this.chunkNext + words;
    Atomics.add(this.memory, this.header + HT_ENTRY_SLOTS, words / ENTRY_WORDS);
  }

  /** Takes up to REFILL_ENTRIES from the shared free list; false if it was empty. */
  private refillLocalFree(): boolean {
    const memory = this.memory;
    const header = this.header;
    if (memory[header + HT_FREE_COUNT] === 0) return false; // plain: a hint, re-checked under the lock
    lockWord(memory, this.reclaimMu, this.counters, RECLAIM_LOCK_COUNTERS);
    try {
      let entry = memory[header + HT_FREE_HEAD];
      while (entry !== 0 && this.localFreeCount < REFILL_ENTRIES) {
        this.localFree[this.localFreeCount++] = entry;
        entry = memory[entry];
      }
      memory[header + HT_FREE_HEAD] = entry;
      memory[header + HT_FREE_COUNT] -= this.localFreeCount;
    } finally {
      unlockWord(memory, this.reclaimMu);
    }
    return this.localFreeCount > 0;
  }

  /** An entry nobody else ever saw (a failed insert): straight back to a free list. */
  private freeEntry(entry: number): void {
    if (this.localFreeCount < LOCAL_FREE_MAX) {
      this.localFree[this.localFreeCount++] = entry;
      return;
    }
    lockWord(this.memory, this.reclaimMu, this.counters, RECLAIM_LOCK_COUNTERS);
    try {
      this.pushSharedFreeLocked(entry);
    } finally {
      unlockWord(this.memory, this.reclaimMu);
    }
  }

  private pushSharedFreeLocked(entry: number): void {
    const memory = this.memory;
    memory[entry] = memory[this.header + HT_FREE_HEAD];
    memory[this.header + HT_FREE_HEAD] = entry;
    memory[this.header + HT_FREE_COUNT]++;
  }

  /** An item this thread has just unlinked; retired to the epoch domain with the next batch. */
  private retire(offset: number, size: number): void {
    const count = this.retiredCount;
    this.retired[2 * count] = offset;
    this.retired[2 * count + 1] = size;
    this.retiredCount = count + 1;
    if (size === RETIRED_ENTRY) this.counters[C_ENTRIES_RETIRED]++;
  }

  /**
   * After an operation, with no node lock held: retire a full batch and
   * reclaim what is safe. The end of an operation is a quiescent point too, so
   * announce it before and after (unless pinned): otherwise the reclaimer's
   * own stale announcement held back most attempts (measured: 1 epoch advance
   * in 10 attempts under a 2-thread churn).
   */
  private retireIfBatchFull(): void {
    if (this.retiredCount < RETIRE_BATCH) return;
    if (this.pinDepth === 0) this.passQuiescentPoint();
    lockWord(this.memory, this.reclaimMu, this.counters, RECLAIM_LOCK_COUNTERS);
    try {
      this.retireAllLocked();
      this.epoch.tryReclaimLocked(this.reclaimItem);
    } finally {
      unlockWord(this.memory, this.reclaimMu);
    }
    // Announce the epoch this attempt may have advanced to, so the next attempt need not wait for us.
    if (this.pinDepth === 0) this.epoch.quiescentPoint();
  }

  private retireAllLocked(): void {
    const retired = this.retired;
    for (let item = 0; item < this.retiredCount; item++) {
      const offset = retired[2 * item];
      const size = retired[2 * item + 1];
      this.epoch.retireLocked(offset, size, retiredBytes(size));
    }
    this.retiredCount = 0;
  }

  /** The epoch domain's callback, under HT_RECLAIM_MU: frees one retired item. */
  private reclaimLocked(offset: number, size: number): number {
    if (size === RETIRED_ENTRY) {
      if (this.localFreeCount < LOCAL_FREE_MAX) this.localFree[this.localFreeCount++] = offset;
      else this.pushSharedFreeLocked(offset);
      this.counters[C_ENTRIES_RECLAIMED]++;
    } else {
      this.arena.free(offset, size);
      this.counters[C_NODES_RECLAIMED]++;
    }
    return retiredBytes(size);
  }
}

/** Bytes a retired item accounts for; the same figure at retirement and at reclamation. */
function retiredBytes(size: number): number {
  return size === RETIRED_ENTRY ? ENTRY_BYTES : Arena.blockBytes(size);
}

/**
 * One view per map per thread: a second attach() on the same thread returns
 * the first view, so a thread has one epoch slot, one free-entry cache and one
 * counter slot per map.
 */
const viewsOnThisThread = new Map<string, WeakRef<HashTrieMap>>();

interface HashTrieHandle extends SharedMapHandle {
  /** Identifies the map across threads (SharedArrayBuffer objects differ per thread). */
  readonly id: string;
}

function createFactory(name: string, description: string, hashBits: number): MapFactory {
  const hashMask = hashBits === 0 ? 0 : (-1 << (32 - hashBits)) | 0;
  return {
    name,
    description,
    shared: true,
    safeForConcurrentWrites: true,
    create(options?: MapOptions): MapHandle {
      const resolved = resolveMapOptions(options); // capacity and loadFactor are checked; a trie sizes itself
      const { handle, arena } = createMapMemory(name, resolved, HT_HEADER_WORDS, CACHE_LINE_PAIR_WORDS);
      HashTrieMap.initialise(arena, handle.header, hashMask);
      const trieHandle: HashTrieHandle = { ...handle, id: crypto.randomUUID() };
      return trieHandle;
    },
    attach(handle: MapHandle): ConcurrentMap {
      let id: string | undefined;
      if (handle !== null && typeof handle === 'object' && handle.map === name) {
        const candidate = (handle as Partial<HashTrieHandle>).id;
        if (typeof candidate !== 'string')
          throw new TypeError(`handle.id must be the string ${name}'s create() returned, got ${String(candidate)}`);
        const cached = viewsOnThisThread.get(candidate)?.deref();
        if (cached !== undefined) return cached;
        id = candidate;
      }
      const view = new HashTrieMap(attachMapMemory(handle, name)); // throws for any other handle
      for (const [key, ref] of viewsOnThisThread) if (ref.deref() === undefined) viewsOnThisThread.delete(key);
      viewsOnThisThread.set(id as string, new WeakRef(view));
      return view;
    },
  };
}

export const hashTrieMapFactory: MapFactory = createFactory(
  NAME,
  "Go 1.24's HashTrieMap (sync.Map since 1.24): lock-free loads over a 16-way trie, writes lock one node",
  32,
);

/**
 * For tests only: a hashtrie (named `hashtrie-hash<bits>`) that keeps only the
 * top `hashBits` bits of the hash, so that distinct keys collide and overflow
 * chains form (with the full hash they cannot: fmix32 is a bijection).
 */
export function narrowHashTrieFactory(hashBits: number): MapFactory {
  if (!Number.isInteger(hashBits) || hashBits < 0 || hashBits > 32) {
    throw new RangeError(`hashBits must be an integer 0..32, got ${String(hashBits)}`);
  }
  return createFactory(
    `${NAME}-hash${hashBits}`,
    `hashtrie keeping ${hashBits} hash bits (tests: overflow chains)`,
    hashBits,
  );
}
