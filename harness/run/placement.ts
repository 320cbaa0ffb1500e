/**
 * The placement sentinel: a cache-line handoff reading (harness/trial/handoff.ts)
 * between two threads of its own pool, taken before every visit of an
 * interleaved sweep, before every multi-thread trial (after its map's prefill,
 * right before its workers start), and once after the last visit, so each
 * visit is bracketed by readings and each multi-thread trial has its own.
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

/**
 * Readings a `measure` takes at most: a reading at or above its `retryAboveNs`
 * is taken again, up to this many in all. Unpinned (--pin false), 35% of a
 * quick sweep's single readings were ≥ 1 µs per handoff, most ~1.35 ms: both
 * probe threads on one vCPU, taking turns at each scheduler tick. The next
 * reading, 6 ms later, was classified in about 4 of 5 cases. Pinned to two
 * CPUs (affinity.ts), 1–5 readings of ~550 are retaken.
 */
export const MAX_READING_ATTEMPTS = 4;

/** One handoff reading. */
export interface PlacementReading {
  /** Wall-clock time of the reading (Date.now()), ms. */
  atMs: number;
  /** Time of one handoff of a cache line between the two threads, ns (harness/trial/handoff.ts). */
  handoffNs: number;
  /** Readings taken to get this one (1 when the first was below `retryAboveNs`). */
  attempts: number;
}

export class PlacementSentinel {
  private constructor(private readonly pool: MapPool) {}

  /** Starts the probe's two-thread pool and takes one discarded reading (the JIT warms the loop). */
  static async start(options: {
    timeoutMs: number;
    signal?: AbortSignal;
    /** The two CPUs its threads pin themselves to, one each; null: unpinned. */
    cpus?: readonly number[] | null;
  }): Promise<PlacementSentinel> {
    // The pool loads a map module like every pool does; the probe never touches the map.
    const pool = await MapPool.start({ name: 'plain' }, 2, options.timeoutMs, options.signal, options.cpus ?? null);
    const sentinel = new PlacementSentinel(pool);
    await sentinel.measure(performance.now() + options.timeoutMs, options.signal, { windowMs: 50 });
    return sentinel;
  }

  /**
   * One reading of `windowMs`, taken again while it is `retryAboveNs` or more
   * (the probe threads hardly ran at once), at most MAX_READING_ATTEMPTS in
   * all; the last one stands. Throws TrialTimeoutError/TrialInterruptedError
   * like a trial.
   */
  async measure(
    deadlineMs: number,
    signal?: AbortSignal,
    options: { windowMs?: number; retryAboveNs?: number } = {},
  ): Promise<PlacementReading> {
    const { windowMs = PLACEMENT_WINDOW_MS, retryAboveNs = Infinity } = options;
    for (let attempts = 1; ; attempts++) {
      const reading = await this.readOnce(deadlineMs, signal, windowMs);
      if (reading.handoffNs < retryAboveNs || attempts === MAX_READING_ATTEMPTS) return { ...reading, attempts };
    }
  }

  private async readOnce(
    deadlineMs: number,
    signal: AbortSignal | undefined,
    windowMs: number,
  ): Promise<Omit<PlacementReading, 'attempts'>> {
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
