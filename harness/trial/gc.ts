/**
 * Full garbage collections on demand, between trials (main thread and every
 * worker), outside any timed window. Two reasons:
 * - Every trial's map lives in fresh SharedArrayBuffers; they are freed only
 *   when every thread that saw them has collected its references. Without
 *   this, memory grew ~28 MB per trial on 1M-key maps (1.8 GB after 60 trials).
 * - A collection that is due happens here, not as concurrent marking on
 *   background threads during the next measured window.
 * `gc` is exposed through the V8 flag at run time (no --expose-gc needed).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const gc = exposeGc();

export function collectGarbage(): void {
  gc();
}

/** Resident-memory growth that triggers a main-thread collection. */
const GROWTH_BYTES = 128 * 1024 * 1024;
let residentAfterLastGc = 0;

/**
 * The main thread's policy: a full collection (~5–20 ms on the main heap)
 * only once resident memory has grown by GROWTH_BYTES since the last one, so
 * small maps do not pay it every trial. Resident, not array-buffer bytes: the
 * shared maps reserve 256 MB of address space each and touch a few MB of it.
 * Returns whether it collected.
 */
export function collectGarbageIfGrown(): boolean {
  if (process.memoryUsage.rss() - residentAfterLastGc < GROWTH_BYTES) return false;
  gc();
  residentAfterLastGc = process.memoryUsage.rss();
  return true;
}
