/**
 * A full garbage collection on demand, run between trials (main thread and
 * every worker), outside any timed window. Two reasons:
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
