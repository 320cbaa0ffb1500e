/**
 * Per-thread statistics counters in shared memory.
 *
 * Each attached thread claims one slot of COUNTERS_PER_THREAD float64 words
 * (128 bytes, its own cache line pair) and increments its counters with plain,
 * non-atomic writes: no other thread writes that slot, so an increment costs a
 * typed-array write (~2 ns) instead of an Atomics.add (~20 ns).
 *
 * Shared words:
 *   claimWord (int32, in the owner's header) — Atomics.add by attach() to pick a slot.
 *   slot s, counter c (float64) — written only by the thread that claimed s
 *     (plain stores); read by stats() on any thread with plain loads.
 *
 * Consistency: a sum read while threads run is approximate (each slot is read
 * at a slightly different moment, and a plain load may miss the latest store);
 * once the threads have stopped (the harness collects stats after a trial) the
 * sum is exact. More than MAX_THREAD_SLOTS attached threads share slots
 * round-robin, and then increments may be lost: counters become lower bounds.
 */

export const MAX_THREAD_SLOTS = 64;
/** float64 counters per thread: 16 × 8 bytes = 128 bytes, padded apart. */
export const COUNTERS_PER_THREAD = 16;
export const THREAD_COUNTERS_BYTES = MAX_THREAD_SLOTS * COUNTERS_PER_THREAD * 8;

/** Claims a slot; `claimWord` is an int32 word in shared memory starting at 0. */
export function claimThreadSlot(memory: Int32Array, claimWord: number): number {
  return Atomics.add(memory, claimWord, 1) % MAX_THREAD_SLOTS;
}

/** The calling thread's own counters: a 16-element view over its slot. */
export function threadCounterView(buffer: SharedArrayBuffer, countersByteOffset: number, slot: number): Float64Array {
  return new Float64Array(buffer, countersByteOffset + slot * COUNTERS_PER_THREAD * 8, COUNTERS_PER_THREAD);
}

/** Sums counter `index` over every slot (see the consistency note above). */
export function sumThreadCounter(buffer: SharedArrayBuffer, countersByteOffset: number, index: number): number {
  const all = new Float64Array(buffer, countersByteOffset, MAX_THREAD_SLOTS * COUNTERS_PER_THREAD);
  let total = 0;
  for (let slot = 0; slot < MAX_THREAD_SLOTS; slot++) total += all[slot * COUNTERS_PER_THREAD + index];
  return total;
}
