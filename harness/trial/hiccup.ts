/**
 * The hiccup meter (Gil Tene's jHiccup idea): how late the machine lets a
 * thread run, measured beside every trial, so an open-loop p99 is blamed on
 * the map only above what the machine itself imposes.
 *
 * A dedicated thread (a plain worker_threads Worker, not a task of any map
 * pool, so no map code shares its JIT or its core time slice) waits for the
 * trial's start barrier (the trial control block's GO word), then sleeps a
 * fixed `intervalMs` again and again (Atomics.wait with a timeout on a word
 * nobody writes) and records how much later than asked it woke, for every
 * wake inside the trial's measured window. A stall of S ms is recorded the
 * way the open loop records the ops due during it (coordinated omission
 * corrected, like jHiccup's expected-interval recording): S, S − interval,
 * S − 2·interval, … down to the interval, so the two histograms answer the
 * same question ("how late was work that was due?").
 *
 * Cost: the thread sleeps all but a few µs per interval. It reports the
 * share of the window it was awake (`awakeFraction`); on this machine kind
 * that was 0.2–0.33% at 1 ms on a 2-thread cell (harness/README.md "Hiccups, knees and crossovers").
 */
import { Worker } from 'node:worker_threads';
import { LatencyHistogram } from './histogram.js';
import type { HistogramData, LatencySummary } from '../results/results.js';

/** What the meter thread is asked to measure: one trial's window. */
export interface HiccupTask {
  /** The trial's control block (harness/trial/control.ts): GO releases, ABORT stops. */
  control: SharedArrayBuffer;
  warmupMs: number;
  durationMs: number;
  intervalMs: number;
}

/** What it reports. */
export interface HiccupReport {
  histogram: HistogramData;
  /** Wakes inside the window. */
  wakes: number;
  /** Share of the window the meter thread spent awake (its own cost), 0..1. */
  awakeFraction: number;
  aborted: boolean;
}

/** A cell's hiccups: the merged histogram's summary plus the meter's settings and cost. */
export interface HiccupSummary extends LatencySummary {
  intervalMs: number;
  /** Median over trials of the share of the window the meter was awake. */
  awakeFraction: number;
}

/** Default sleep interval, ms: short enough to see 1 ms stalls, long enough to cost ~nothing. */
export const DEFAULT_HICCUP_INTERVAL_MS = 1;

const WORKER_URL = new URL('./hiccup-worker.js', import.meta.url);

/** The main thread's handle on the meter thread: one trial at a time. */
export class HiccupMeter {
  private worker: Worker | null = null;
  private online: Promise<void> | null = null;
  private pending: { resolve: (report: HiccupReport) => void; reject: (error: Error) => void } | null = null;

  /** `cpu`: the CPU the meter thread pins itself to (harness/trial/affinity.ts); null: unpinned. */
  constructor(
    readonly intervalMs = DEFAULT_HICCUP_INTERVAL_MS,
    private readonly cpu: number | null = null,
  ) {
    if (!(intervalMs > 0 && intervalMs <= 100)) {
      throw new RangeError(`hiccup intervalMs must be a number in (0, 100], got ${intervalMs}`);
    }
  }

  /** Starts the meter thread (once) and resolves when it has loaded and can measure: await before a trial. */
  ready(): Promise<void> {
    this.thread();
    return this.online!;
  }

  /**
   * Starts measuring the trial whose control block is `control` (call before
   * the trial's tasks are posted). Resolves after the window closes, or when
   * the trial is aborted; a caller whose trial never started must abort it.
   */
  measure(control: SharedArrayBuffer, warmupMs: number, durationMs: number): Promise<HiccupReport> {
    if (this.pending !== null) throw new Error('HiccupMeter.measure: a measurement is already running');
    const worker = this.thread();
    return new Promise<HiccupReport>((resolve, reject) => {
      this.pending = { resolve, reject };
      const task: HiccupTask = { control, warmupMs, durationMs, intervalMs: this.intervalMs };
      worker.postMessage(task);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.online = null;
    if (worker) await worker.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_URL, { workerData: { cpu: this.cpu } });
    worker.unref();
    this.online = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    this.online.catch(() => undefined);
    worker.on('message', (report: HiccupReport | 'ready') => {
      if (report !== 'ready') this.settle((pending) => pending.resolve(report));
    });
    worker.on('error', (error) => this.settle((pending) => pending.reject(error)));
    worker.on('exit', () => {
      if (this.worker === worker) {
        this.worker = null;
        this.online = null;
      }
      this.settle((pending) => pending.reject(new Error('the hiccup meter thread exited')));
    });
    this.worker = worker;
    return worker;
  }

  private settle(action: (pending: NonNullable<HiccupMeter['pending']>) => void): void {
    const pending = this.pending;
    this.pending = null;
    if (pending) action(pending);
  }
}

/** Records one wake `latenessNs` late, plus the wakes a stall that long swallowed (jHiccup's interval fill). */
export function recordHiccup(histogram: LatencyHistogram, latenessNs: number, intervalNs: number): void {
  histogram.record(Math.max(0, latenessNs));
  for (let missedNs = latenessNs - intervalNs; missedNs > 0; missedNs -= intervalNs) histogram.record(missedNs);
}

/** Merges the trials' reports into the cell's `hiccupNs`. */
export function summarizeHiccups(reports: readonly HiccupReport[], intervalMs: number): HiccupSummary | null {
  const measured = reports.filter((report) => !report.aborted && report.wakes > 0);
  if (measured.length === 0) return null;
  const merged = new LatencyHistogram();
  for (const report of measured) merged.merge(LatencyHistogram.fromData(report.histogram));
  const awake = measured.map((report) => report.awakeFraction).sort((a, b) => a - b);
  return { ...merged.summary(), intervalMs, awakeFraction: awake[(awake.length - 1) >> 1] };
}

/** A trial's hiccup p99, ns (0 for an empty report). */
export function hiccupP99Ns(report: HiccupReport): number {
  return LatencyHistogram.fromData(report.histogram).valueAtQuantile(0.99);
}
