/**
 * The memory every shared map is built from: one Arena over one fixed
 * SharedArrayBuffer (reserved with the `maxBytes` option), per-thread counter
 * slots, and a header block for the map's own shared words. `createMapMemory`
 * runs once on the creating thread; `attachMapMemory` on every thread that
 * uses the map and returns that thread's views. Each map file (plain,
 * rwmutex-map, sharded…) then only declares its header layout and operations.
 *
 * Layout (inside the arena; offsets travel in the handle, never hard-coded):
 *   claim word     — int32; Atomics.add by attach() to claim a counter slot.
 *   counter slots  — MAX_THREAD_SLOTS × 128 bytes, 128-byte aligned so no two
 *                    threads' slots share a cache line (thread-counters.ts).
 *   map header     — the map's own words, aligned as the map asks (a sharded
 *                    map asks for 128 bytes per shard).
 * Nothing here is written after create() except the claim word (attach) and
 * each thread's own counter slot.
 *
 * Counter slot layout (float64 indexes in a thread's view): 0..12 belong to
 * the map (an RWMutex's counters start at 0); the arena lock counts at
 * COUNTER_ARENA_LOCK + 0..2.
 */
import { Arena, createArenaBuffer } from './arena.js';
import {
  COUNTERS_PER_THREAD,
  THREAD_COUNTERS_BYTES,
  claimThreadSlot,
  sumThreadCounter,
  threadCounterView,
} from './thread-counters.js';
import type { MapHandle } from './types.js';
import type { ResolvedMapOptions } from './validate.js';

/** First counter index of the arena lock's acquisitions, contended, sleeps. */
export const COUNTER_ARENA_LOCK = COUNTERS_PER_THREAD - 3;
/** One cache line pair (the adjacent-line prefetcher pulls lines in pairs). */
export const CACHE_LINE_PAIR_WORDS = 32;

/** What every shared map's handle carries; maps add their own fields. */
export interface SharedMapHandle extends MapHandle {
  readonly buffer: SharedArrayBuffer;
  /** Word offset of the map's header block. */
  readonly header: number;
  /** Byte offset of the per-thread counter slots. */
  readonly countersByteOffset: number;
  /** Word offset of the slot-claim word. */
  readonly claimWord: number;
}

/** One thread's views over a shared map's memory. */
export interface MapMemory {
  readonly buffer: SharedArrayBuffer;
  readonly arena: Arena;
  readonly memory: Int32Array;
  /** This thread's own counter slot (plain increments). */
  readonly counters: Float64Array;
  readonly header: number;
  readonly countersByteOffset: number;
}

/**
 * Reserves the arena and lays out the claim word, counter slots and a
 * zero-filled header of `headerWords` aligned to `headerAlignWords`.
 * Returns the handle fields and the creating thread's arena.
 */
export function createMapMemory(
  name: string,
  options: ResolvedMapOptions,
  headerWords: number,
  headerAlignWords = 8,
): { handle: SharedMapHandle; arena: Arena } {
  const buffer = createArenaBuffer(options.maxBytes);
  const arena = new Arena(buffer);
  const claimWord = arena.allocate(1);
  const countersWord = allocateAligned(arena, THREAD_COUNTERS_BYTES / 4, CACHE_LINE_PAIR_WORDS);
  arena.memory.fill(0, countersWord, countersWord + THREAD_COUNTERS_BYTES / 4);
  const header = allocateAligned(arena, headerWords, headerAlignWords);
  arena.memory.fill(0, header, header + headerWords);
  arena.memory[claimWord] = 0;
  return { handle: { map: name, buffer, header, countersByteOffset: countersWord * 4, claimWord }, arena };
}

/** A block of `words` words whose offset is a multiple of `alignWords`; never freed. */
export function allocateAligned(arena: Arena, words: number, alignWords: number): number {
  const block = arena.allocate(words + alignWords - 8);
  return Math.ceil(block / alignWords) * alignWords;
}

/** Checks a handle came from `name`'s create() and attaches this thread: claims a counter slot. */
export function attachMapMemory(handle: MapHandle, name: string): MapMemory {
  if (handle === null || typeof handle !== 'object') {
    throw new TypeError(`handle must be the object ${name}'s create() returned, got ${String(handle)}`);
  }
  if (handle.map !== name) throw new TypeError(`handle was created by '${String(handle.map)}', not '${name}'`);
  const { buffer, header, countersByteOffset, claimWord } = handle as Partial<SharedMapHandle>;
  if (!(buffer instanceof SharedArrayBuffer))
    throw new TypeError(`handle.buffer must be a SharedArrayBuffer (from ${name}'s create())`);
  const words = buffer.byteLength / 4;
  for (const [field, value, limit] of [
    ['header', header, words],
    ['claimWord', claimWord, words],
    ['countersByteOffset', countersByteOffset, buffer.byteLength],
  ] as const) {
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) >= limit) {
      throw new TypeError(`handle.${field} must be an integer offset inside the buffer, got ${String(value)}`);
    }
  }
  const memory = new Int32Array(buffer);
  const slot = claimThreadSlot(memory, claimWord as number);
  const counters = threadCounterView(buffer, countersByteOffset as number, slot);
  const arena = new Arena(buffer, counters.subarray(COUNTER_ARENA_LOCK, COUNTER_ARENA_LOCK + 3));
  return {
    buffer,
    arena,
    memory,
    counters,
    header: header as number,
    countersByteOffset: countersByteOffset as number,
  };
}

/** Sums the counters `names[i]` (at index `firstIndex + i`) over every thread slot. */
export function sumCounters(mapMemory: MapMemory, names: readonly string[], firstIndex = 0): Record<string, number> {
  const sums: Record<string, number> = {};
  names.forEach((counterName, i) => {
    sums[counterName] = sumThreadCounter(mapMemory.buffer, mapMemory.countersByteOffset, firstIndex + i);
  });
  return sums;
}

/** Arena figures every shared map reports; `bytes` (bytes in use) is what memory tests bound. */
export function memoryStats(mapMemory: MapMemory): Record<string, number> {
  const arena = mapMemory.arena.stats();
  return {
    bytes: arena.bytesInUse,
    bytesInUse: arena.bytesInUse,
    peakBytesInUse: arena.peakBytesInUse,
    bytesTouched: arena.bytesTouched,
    bytesReserved: arena.bytesReserved,
    ...sumCounters(mapMemory, ['arenaLockAcquisitions', 'arenaLockContended', 'arenaLockSleeps'], COUNTER_ARENA_LOCK),
  };
}

/** Calls fn(key, value) for each pair of a snapshot taken with snapshotRegion. */
export function forEachPair(pairs: Int32Array, fn: (key: number, value: number) => void): void {
  for (let i = 0; i < pairs.length; i += 2) fn(pairs[i], pairs[i + 1]);
}
