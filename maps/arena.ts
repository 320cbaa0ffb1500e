/**
 * Arena: a region allocator over one SharedArrayBuffer, shared by every
 * thread attached to a map. Maps carve their headers, hash-table regions and
 * entry slabs out of it and address everything as int32 word offsets into one
 * Int32Array view, so no thread ever needs a new view after start-up.
 *
 * Why a fixed buffer and not a growable one: a typed array over a growable
 * SharedArrayBuffer measured ~3.6× slower to access on the target machine kind,
 * and the OS commits a fixed SharedArrayBuffer's pages lazily (a 1 GiB buffer
 * that is never touched costs no resident memory), so we reserve generously
 * (`maxBytes`) and grow tables inside the reservation.
 *
 * Size classes: requests are rounded up to 32-byte granules, then to one of four
 * sizes per power of two (…, 8, 10, 12, 14, 16, 20, 24, 28, 32… granules), so a
 * block wastes at most 25% (plus < 32 bytes). Freed blocks go on a per-class
 * free list and are reused before fresh memory. Blocks are 32-byte aligned.
 *
 * Shared words (arena header, int32):
 *   ARENA_LOCK            — Mutex word; every other header word is read and
 *                           written only with the lock held.
 *   ARENA_BUMP            — first never-allocated word.
 *   ARENA_WORDS_IN_USE    — words in allocated blocks (class sizes).
 *   ARENA_PEAK_WORDS      — high-water mark of ARENA_WORDS_IN_USE.
 *   ARENA_FREE_LISTS + c  — head of class c's free list (0 = empty); a free
 *                           block's first word holds the next block's offset.
 * Block contents belong to whoever allocated them; the arena never touches an
 * allocated block. Reclamation policy (when it is safe to call free()) belongs
 * to the map: a block that lock-free readers may still read must only be freed
 * after a grace period (see epoch-based reclamation in the map that needs it).
 * Linearisation points: allocate()/free() take effect at the lock release.
 */
import { Mutex } from './mutex.js';

export const ARENA_LOCK = 0;
export const ARENA_BUMP = 1;
export const ARENA_WORDS_IN_USE = 2;
export const ARENA_PEAK_WORDS = 3;
export const ARENA_FREE_LISTS = 8;
const GRANULE_WORDS = 8;
const SIZE_CLASSES = 104;
export const ARENA_HEADER_WORDS = 128;

export const DEFAULT_ARENA_BYTES = 256 * 1024 * 1024;
export const MIN_ARENA_BYTES = 64 * 1024;
export const MAX_ARENA_BYTES = 2 * 1024 * 1024 * 1024 - 4096;

/** Allocates and initialises a new arena buffer of `reservedBytes` (committed lazily by the OS). */
export function createArenaBuffer(reservedBytes: number): SharedArrayBuffer {
  if (!Number.isInteger(reservedBytes) || reservedBytes < MIN_ARENA_BYTES || reservedBytes > MAX_ARENA_BYTES) {
    throw new RangeError(`maxBytes must be an integer ${MIN_ARENA_BYTES}..${MAX_ARENA_BYTES}, got ${reservedBytes}`);
  }
  const buffer = new SharedArrayBuffer(reservedBytes - (reservedBytes % (GRANULE_WORDS * 4)));
  new Int32Array(buffer)[ARENA_BUMP] = ARENA_HEADER_WORDS;
  return buffer;
}

/** Size class of a request of `words` words. */
export function sizeClassOf(words: number): number {
  const granules = Math.ceil(words / GRANULE_WORDS);
  if (granules < 4) return Math.max(granules, 1) - 1;
  const log2 = 31 - Math.clz32(granules);
  const step = 2 ** (log2 - 2);
  const steps = Math.ceil(granules / step); // 4..8; 8 means the next power of two
  return 3 + 4 * (log2 - 2) + (steps - 4);
}

/** Words in a block of class `sizeClass`. */
export function classWords(sizeClass: number): number {
  if (sizeClass < 3) return (sizeClass + 1) * GRANULE_WORDS;
  const j = sizeClass - 3;
  return (4 + (j & 3)) * 2 ** (j >> 2) * GRANULE_WORDS;
}

export interface ArenaStats {
  bytesInUse: number;
  peakBytesInUse: number;
  bytesTouched: number;
  bytesReserved: number;
}

export class Arena {
  readonly memory: Int32Array;
  private readonly lock: Mutex;

  constructor(
    readonly buffer: SharedArrayBuffer,
    lockCounters: Float64Array = new Float64Array(3),
  ) {
    this.memory = new Int32Array(buffer);
    this.lock = new Mutex(this.memory, ARENA_LOCK, lockCounters, { acquisitions: 0, contended: 1, sleeps: 2 });
  }

  /** A block of at least `words` words, 32-byte aligned, contents unspecified. Returns its word offset. */
  allocate(words: number): number {
    const sizeClass = sizeClassOf(words);
    if (sizeClass >= SIZE_CLASSES) throw new RangeError(`allocation of ${words * 4} bytes exceeds the largest block`);
    const blockWords = classWords(sizeClass);
    const memory = this.memory;
    this.lock.lock();
    try {
      let offset = memory[ARENA_FREE_LISTS + sizeClass];
      if (offset !== 0) {
        memory[ARENA_FREE_LISTS + sizeClass] = memory[offset];
      } else {
        offset = memory[ARENA_BUMP];
        if (offset + blockWords > memory.length) {
          throw new RangeError(
            `map memory exhausted: ${memory.length * 4} bytes reserved (option maxBytes), ` +
              `${memory[ARENA_WORDS_IN_USE] * 4} in use, ${blockWords * 4} more requested`,
          );
        }
        memory[ARENA_BUMP] = offset + blockWords;
      }
      const inUse = memory[ARENA_WORDS_IN_USE] + blockWords;
      memory[ARENA_WORDS_IN_USE] = inUse;
      if (inUse > memory[ARENA_PEAK_WORDS]) memory[ARENA_PEAK_WORDS] = inUse;
      return offset;
    } finally {
      this.lock.unlock();
    }
  }

  /** Returns a block; `words` is the size it was allocated with. The caller guarantees no thread can still read it. */
  free(offset: number, words: number): void {
    const sizeClass = sizeClassOf(words);
    const memory = this.memory;
    this.lock.lock();
    try {
      memory[offset] = memory[ARENA_FREE_LISTS + sizeClass];
      memory[ARENA_FREE_LISTS + sizeClass] = offset;
      memory[ARENA_WORDS_IN_USE] -= classWords(sizeClass);
    } finally {
      this.lock.unlock();
    }
  }

  /** Bytes a block for `words` words really occupies. */
  static blockBytes(words: number): number {
    return classWords(sizeClassOf(words)) * 4;
  }

  /** Approximate while other threads allocate (three separate plain loads). */
  stats(): ArenaStats {
    const memory = this.memory;
    return {
      bytesInUse: Atomics.load(memory, ARENA_WORDS_IN_USE) * 4,
      peakBytesInUse: Atomics.load(memory, ARENA_PEAK_WORDS) * 4,
      bytesTouched: Atomics.load(memory, ARENA_BUMP) * 4,
      bytesReserved: memory.length * 4,
    };
  }
}
