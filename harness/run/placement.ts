/**
 * The placement sentinel: a cache-line handoff reading (harness/trial/handoff.ts)
 * between two threads of its own pool, taken before every visit of an
 * interleaved sweep, before every later trial of a multi-thread visit, and
 * once after the last visit, so each visit is bracketed by readings and each
 * multi-thread trial has its own.
 *
 * What it sees that the drift sentinel cannot: where the host has put the
 * VM's vCPUs. The drift sentinel is one thread reading a table, so it
 * measures the memory system; a shared map at 2+ threads pays for every line
 * the other core wrote, and that price moves ~4× with the vCPUs' placement
 * (EVIDENCE.md, "vCPU placement"). The re-measure rule (harness/run/schedule.ts)
 * measures again a multi-thread visit whose placement was not the run's
 * usual one, and the relative answers (harness/analysis/relative.ts) leave
 * out the pairs measured in the other placement.
 *
 * One pool for the whole sweep (started once, like the sentinel's), a fresh
 * probe buffer per reading.
 */
import { TrialControl } from '../trial/control.js';
import { PROBE_BYTES, type HandoffTask } from '../trial/handoff.js';
import { MapPool } from '../trial/pool.js';

/** Window of one reading, ms: ~40 chunks of 512 handoffs apart, ~160 close, enough for the chunk quantile. */
export const PLACEMENT_WINDOW_MS = 5;

/** One handoff reading. */
export interface PlacementReading {
  /** Wall-clock time of the reading (Date.now()), ms. */
  atMs: number;
  /** Mean time of one handoff of a cache line between the two threads, ns. */
  handoffNs: number;
}

export class PlacementSentinel {
  private constructor(private readonly pool: MapPool) {}

  /** Starts the probe's two-thread pool and takes one discarded reading (the JIT warms the loop). */
  static async start(options: { timeoutMs: number; signal?: AbortSignal }): Promise<PlacementSentinel> {
    // The pool loads a map module like every pool does; the probe never touches the map.
    const pool = await MapPool.start({ name: 'plain' }, 2, options.timeoutMs, options.signal);
    const sentinel = new PlacementSentinel(pool);
    await sentinel.measure(performance.now() + options.timeoutMs, options.signal, 50);
    return sentinel;
  }

  /** One reading of PLACEMENT_WINDOW_MS (or `windowMs`). Throws TrialTimeoutError/TrialInterruptedError like a trial. */
  async measure(deadlineMs: number, signal?: AbortSignal, windowMs = PLACEMENT_WINDOW_MS): Promise<PlacementReading> {
    const control = new TrialControl();
    const probe = new SharedArrayBuffer(PROBE_BYTES);
    const task = (workerIndex: 0 | 1): HandoffTask => ({
      kind: 'handoff',
      control: control.buffer,
      probe,
      workerIndex,
      windowMs,
    });
    const atMs = Date.now();
    const [first] = await this.pool.runHandoff([task(0), task(1)], control, deadlineMs, signal);
    if (first === null || first.handoffNs === null) {
      throw new Error('the placement sentinel was aborted before it started');
    }
    return { atMs, handoffNs: first.handoffNs };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
