/**
 * Filling a map before it is measured, the one way every caller does it: each
 * prefill entry `set` in order on this thread, then `quiesce`, so a map with
 * safe memory reclamation counts this thread idle from then on and no
 * retired memory waits for it while other threads measure. Never inside a
 * timed window.
 */
import type { ConcurrentMap } from '../../maps/types.js';

/** Prefill entries as `prefillEntries` (workloads/generate.ts) returns them. */
export interface PrefillEntries {
  readonly keys: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

export function fillMap(map: ConcurrentMap, { keys, values }: PrefillEntries): void {
  for (let i = 0; i < keys.length; i++) map.set(keys[i], values[i]);
  map.quiesce?.();
}
