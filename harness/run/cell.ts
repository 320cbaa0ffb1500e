/**
 * One cell — (map, workload, threads, load factor[, rate]) — from op streams
 * to a results-file `Cell`.
 *
 * Per cell: the workers' op streams are generated once (main thread, into
 * SharedArrayBuffers, reused by every trial and by the next load factor),
 * the prefill entries once. Per trial: a fresh map — a shared map is created
 * and prefilled here on the main thread and workers attach to it; a private
 * map (factory.shared false, js-map) is prefilled by each worker on its own
 * copy — then one task per worker through the start barrier.
 *
 * A cell is measured as begin → step (one trial each, in any order with other
 * cells' steps: sweep --interleave) → finish. `run` does the three back to
 * back. Pools are kept per (map, threads): one at a time, or all at once when
 * steps of several cells alternate.
 *
 * Faults stay inside the cell: a map that throws gives an `error` cell, a
 * trial past the cell's deadline gives a "timeout" cell (the pool is torn down
 * and rebuilt if its workers do not stop), and a map that is not safe for
 * concurrent writes, run with writers on more than one thread, never yields
 * numbers: "concurrent map writes" when its detector fired, otherwise the
 * same error marked "(not detected in this run; result withheld)".
 */
import { performance } from 'node:perf_hooks';
import { median } from 'simple-statistics';
import type { ConcurrentMap, MapFactory, MapHandle } from '../../maps/types.js';
import {
  generateOpStream,
  insertsFreshKeys,
  OP_NAMES,
  mapCapacity,
  prefillEntries,
  writeFraction,
  type OpStream,
  type Workload,
} from '../../workloads/index.js';
import type { SweepConfig } from './config.js';
import { FRESH_KEY_STREAM_FACTOR } from './config.js';
import { TrialControl } from '../trial/control.js';
import { collectGarbageIfGrown } from '../trial/gc.js';
import { fillMap } from '../trial/prefill.js';
import { resolveAffinity, slotCpu, type Affinity } from '../trial/affinity.js';
import {
  DEFAULT_HICCUP_INTERVAL_MS,
  HiccupMeter,
  hiccupP99Ns,
  summarizeHiccups,
  type HiccupReport,
  type HiccupSummary,
} from '../trial/hiccup.js';
import { LatencyHistogram } from '../trial/histogram.js';
import type { MapSource } from './map-source.js';
import { MapPool, TrialInterruptedError, TrialTimeoutError } from '../trial/pool.js';
import { profileStem } from '../trial/profiler.js';
import {
  quietFigures,
  runtimeLabel,
  type Cell,
  type CellIdentity,
  type ErrorCell,
  type LatencyPercentiles,
  type ResultsCell,
  type Trial,
  type TrialMeta,
} from '../results/results.js';
import { medianByKey, medianWithCI } from '../results/stats.js';
import type { TrialTask, WorkerFailure, WorkerReport } from '../trial/worker.js';

export interface CellSpec {
  map: string;
  workload: string;
  threads: number;
  loadFactor: number;
  /** Open loop: target ops/s per thread; null: closed loop. */
  rate: number | null;
  /** Sweeps over several runtimes (--node): the Node version that measures the cell, e.g. 'v24.21.0'. */
  runtime?: string;
}

/** Identity of a cell inside a results file (what `--resume` matches on). */
export function cellKey(cell: {
  map: string;
  workload: string;
  threads: number;
  loadFactor: number;
  rate?: number | null;
  runtime?: unknown;
}): string {
  const runtime = runtimeLabel(cell);
  return (
    `${cell.map}|${cell.workload}|t${cell.threads}|lf${cell.loadFactor}|${cell.rate == null ? 'closed' : `rate${cell.rate}`}` +
    (runtime === '' ? '' : `|${runtime}`)
  );
}

export const CONCURRENT_WRITES_ERROR = 'concurrent map writes';
export const NOT_DETECTED_SUFFIX = ' (not detected in this run; result withheld)';
const CONCURRENT_MAP_WRITE_ERROR_NAME = 'ConcurrentMapWriteError';
/** Streams kept for reuse by later cells (same workload and threads, any map or load factor), bytes. */
const STREAM_CACHE_BYTES = 256 * 1024 * 1024;
/** Prefill entry sets kept for reuse. */
const PREFILL_CACHE_ENTRIES = 4;

interface CellOverhead {
  poolStartMs: number;
  /** The discarded JIT warm-up trials of fresh pools (their windows included). */
  poolWarmupMs: number;
  /** How many fresh pools this cell warmed up (one per pool generation at most). */
  poolWarmups: number;
  streamsMs: number;
  prefillMs: number;
  /** Full collections between trials (harness/trial/gc.ts), main thread. */
  gcMs: number;
}

/** What every trial of a cell shares. */
interface TrialContext {
  pool: MapPool;
  spec: CellSpec;
  factory: MapFactory;
  source: MapSource;
  workload: Workload;
  streams: OpStream[];
  prefill: { keys: Int32Array; values: Int32Array };
  deadlineMs: number;
  overhead: CellOverhead;
  signal: AbortSignal | undefined;
}

/** Runs between a measured trial's prefill and its start; what it returns joins the trial's meta. */
export type BeforeMeasure = () => Promise<TrialMeta>;

/** Shortest discarded warm-up trial on a fresh pool, ms. */
export const POOL_WARMUP_MIN_MS = 200;

/**
 * One measured trial of a cell as the scheduler sees it: the workers' reports
 * and the map's counters, the figures the re-measure rule needs, and
 * `meta` (round, pool generation, sentinel…) copied into the trial record.
 * A `superseded` trial was measured again and is left out of the cell.
 */
export interface TrialEntry {
  readonly reports: WorkerReport[];
  readonly counters: Record<string, number>;
  readonly opsPerSec: number;
  readonly quietOpsPerSec: number | null;
  /** The largest run-queue wait share of the trial's workers (harness/trial/interference.ts); null off Linux. */
  readonly runqueueWaitFraction: number | null;
  /** The machine's hiccups during the trial's window (harness/trial/hiccup.ts); null where the meter is off or failed. */
  readonly hiccups: HiccupReport | null;
  readonly meta: TrialMeta;
  superseded: boolean;
}

/** A cell being measured: set up by `begin`, one trial added by each `step`, turned into a results cell by `finish`. */
export interface CellProgress {
  readonly spec: CellSpec;
  readonly identity: CellIdentity;
  readonly workload: Workload;
  readonly factory: MapFactory;
  readonly source: MapSource;
  /** A map not safe for concurrent writes, run with writers on several threads. */
  readonly unsafeWrites: boolean;
  readonly overhead: CellOverhead;
  /** Every trial measured so far, in the order measured (superseded ones included). */
  readonly entries: TrialEntry[];
  /** Wall time spent on this cell so far (its steps; contiguous when trials are not interleaved), ms. */
  wallMs: number;
  /** Set when the cell ended early (an error or timeout cell): no more steps. */
  ended: ErrorCell | null;
}

export class CellRunner {
  /** Live pools by (map, threads): one at a time, or every cell's at once when trials are interleaved. */
  private readonly pools = new Map<string, MapPool>();
  private readonly streams = new Map<string, OpStream[]>();
  private readonly prefills = new Map<string, { keys: Int32Array; values: Int32Array }>();
  /** One meter thread for the runner's life: trials never overlap, so one suffices. */
  private readonly hiccupMeter: HiccupMeter | null;
  /** Whether and where measuring threads are pinned (harness/trial/affinity.ts). */
  readonly affinity: Affinity;
  /** Where 1-thread pools run when pinned: the first CPU until the sweep picks another (`oneThreadCpuIs`). */
  private oneThreadCpu: number | null;

  /**
   * `keepPools`: keep every (map, threads) pool alive between cells, so that
   * trials of different cells can alternate (sweep --interleave); otherwise a
   * new (map, threads) closes the previous pool.
   */
  constructor(
    private readonly config: SweepConfig,
    private readonly maps: ReadonlyMap<string, { source: MapSource; factory: MapFactory }>,
    private readonly cores: number,
    private readonly keepPools = false,
    /** Set when the sweep spans runtimes: recorded in every cell as `runtime`. */
    private readonly runtime: { node: string; v8: string } | null = null,
  ) {
    this.affinity = resolveAffinity(config.pin === true);
    this.oneThreadCpu = slotCpu(this.affinity, 0);
    const intervalMs = config.hiccupIntervalMs ?? DEFAULT_HICCUP_INTERVAL_MS;
    // The meter on the last CPU: the one a 1-thread trial leaves free.
    this.hiccupMeter =
      intervalMs > 0 ? new HiccupMeter(intervalMs, slotCpu(this.affinity, this.affinity.cpus.length - 1)) : null;
  }

  /** Runs one cell, all its trials back to back; only an interruption (signal) escapes as an exception. */
  async run(spec: CellSpec, signal?: AbortSignal): Promise<ResultsCell> {
    const progress = this.begin(spec);
    const deadlineMs = performance.now() + this.config.cellTimeoutMs;
    for (let trial = 0; trial < this.config.trials && progress.ended === null; trial++)
      await this.step(progress, trial, deadlineMs, signal);
    return this.finish(progress);
  }

  /** Sets up a cell's measurement (nothing runs yet). */
  begin(spec: CellSpec): CellProgress {
    const entry = this.maps.get(spec.map);
    const workload = this.config.workloadDefinitions[spec.workload];
    if (!entry || !workload)
      throw new RangeError(`cell ${cellKey(spec)} names a map or workload the config does not have`);
    const { factory, source } = entry;
    return {
      spec,
      workload,
      factory,
      source,
      identity: this.identity(spec, factory),
      unsafeWrites: !factory.safeForConcurrentWrites && spec.threads > 1 && writeFraction(workload) > 0,
      overhead: { poolStartMs: 0, poolWarmupMs: 0, poolWarmups: 0, streamsMs: 0, prefillMs: 0, gcMs: 0 },
      entries: [],
      wallMs: 0,
      ended: null,
    };
  }

  /**
   * Runs trial `trial` of a cell (seed + trial), starting and warming up its
   * pool first if needed, and returns it (null when the cell has ended). A
   * fault ends the cell (progress.ended); only an interruption (signal)
   * escapes as an exception. `meta` is copied into the trial's record, with
   * whatever `beforeMeasure` returns: it runs once the measured trial's map is
   * prefilled, right before its workers start (the sweep's placement reading).
   */
  async step(
    progress: CellProgress,
    trial: number,
    deadlineMs: number,
    signal?: AbortSignal,
    meta: TrialMeta = {},
    beforeMeasure: BeforeMeasure | null = null,
  ): Promise<TrialEntry | null> {
    if (progress.ended !== null) return null;
    const startedAt = performance.now();
    const { spec, workload, factory, source, overhead } = progress;
    try {
      const streams = this.streamsFor(workload, spec.threads, overhead);
      const prefill = this.prefillFor(workload, overhead);
      const fresh = this.livePool(source, spec.threads) === null;
      const pool = await this.poolFor(source, spec.threads, deadlineMs, overhead, signal);
      const context: TrialContext = {
        pool,
        spec,
        factory,
        source,
        workload,
        streams,
        prefill,
        deadlineMs,
        overhead,
        signal,
      };
      if (fresh) {
        // JIT warm-up of a fresh pool (discarded): without it the first cell of every pool measures
        // interpreter/baseline code (3–5× slower first trial, measured on readdirty).
        const warmupStartMs = performance.now();
        await this.runTrial(context, {
          seed: this.config.seed - 1,
          warmupMs: 0,
          durationMs: this.poolWarmupMs(),
          rate: null,
          trial: null,
        });
        overhead.poolWarmupMs += performance.now() - warmupStartMs;
        overhead.poolWarmups++;
      }
      const outcome = await this.runTrial(
        context,
        {
          seed: this.config.seed + trial,
          warmupMs: this.config.warmupMs,
          durationMs: this.config.durationMs,
          rate: spec.rate,
          trial,
        },
        true,
        beforeMeasure === null
          ? null
          : async () => {
              meta = { ...meta, ...(await beforeMeasure()) };
            },
      );
      if ('failure' in outcome) {
        progress.ended = failedCell(
          progress,
          outcome.failure.message,
          outcome.failure.name === CONCURRENT_MAP_WRITE_ERROR_NAME,
        );
        return null;
      }
      const entry = trialEntry(outcome.reports, outcome.counters, outcome.hiccups, meta);
      progress.entries.push(entry);
      return entry;
    } catch (error) {
      if (error instanceof TrialInterruptedError) throw error;
      const message =
        error instanceof TrialTimeoutError
          ? `timeout: the cell ran past ${this.config.cellTimeoutMs} ms (--cell-timeout-ms); ${error.detail}`
          : `${(error as Error).name}: ${(error as Error).message}`;
      progress.ended = failedCell(progress, message, false);
      return null;
    } finally {
      progress.wallMs += performance.now() - startedAt;
    }
  }

  /** The cell: its error if it ended early, else its numbers from every trial run. */
  finish(progress: CellProgress): ResultsCell {
    if (progress.ended !== null) return progress.ended;
    if (progress.unsafeWrites) return { ...progress.identity, error: CONCURRENT_WRITES_ERROR + NOT_DETECTED_SUFFIX }; // never numbers
    return this.assemble(progress);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all([...pools.map((pool) => pool.destroy()), this.hiccupMeter?.close()]);
  }

  private identity(spec: CellSpec, factory: MapFactory): CellIdentity {
    return {
      map: spec.map,
      workload: spec.workload,
      threads: spec.threads,
      loadFactor: spec.loadFactor,
      oversubscribed: spec.threads > this.cores,
      ...(factory.shared ? {} : { private: true }),
      ...(spec.rate === null ? {} : { rate: spec.rate }),
      ...(this.runtime === null ? {} : { runtime: this.runtime }),
    };
  }

  /** Length of the discarded JIT warm-up trial run on every fresh pool, ms. */
  private poolWarmupMs(): number {
    return Math.max(POOL_WARMUP_MIN_MS, this.config.warmupMs + this.config.durationMs);
  }

  private livePool(source: MapSource, threads: number): MapPool | null {
    const pool = this.pools.get(poolKey(source, threads));
    return pool !== undefined && !pool.isDestroyed() ? pool : null;
  }

  /** The pool for (map, threads): reused across that map's cells; started fresh for a new map or thread count. */
  private async poolFor(
    source: MapSource,
    threads: number,
    deadlineMs: number,
    overhead: CellOverhead,
    signal: AbortSignal | undefined,
  ): Promise<MapPool> {
    const live = this.livePool(source, threads);
    if (live !== null) return live;
    const key = poolKey(source, threads);
    if (this.keepPools) await this.pools.get(key)?.destroy();
    else await this.close();
    const remainingMs = Math.max(1, deadlineMs - performance.now());
    const cpus = !this.affinity.pinned ? null : threads === 1 ? [this.oneThreadCpu as number] : this.affinity.cpus;
    const pool = await MapPool.start(source, threads, remainingMs, signal, cpus);
    this.pools.set(key, pool);
    overhead.poolStartMs += pool.startMs;
    return pool;
  }

  /**
   * Pinned runs: 1-thread pools run on `cpu` from now on; live ones are moved
   * there at once (a `taskset` per pool, ~3 ms, between trials).
   */
  async oneThreadCpuIs(cpu: number, deadlineMs: number, signal?: AbortSignal): Promise<void> {
    if (!this.affinity.pinned || cpu === this.oneThreadCpu) return;
    this.oneThreadCpu = cpu;
    for (const pool of this.pools.values()) {
      if (pool.threads === 1 && !pool.isDestroyed()) await pool.pinTo(cpu, deadlineMs, signal);
    }
  }

  /** Worker i's stream: (workload, seed, i, threads) → the same ops for every map, so maps are compared on equal input. */
  private streamsFor(workload: Workload, threads: number, overhead: CellOverhead): OpStream[] {
    const key = `${workload.name}|${threads}`;
    const cached = this.streams.get(key);
    if (cached) return cached;
    const startMs = performance.now();
    const streams = generateCellStreams(workload, {
      seed: this.config.seed,
      threads,
      length: streamLength(workload, this.config.streamOps),
    });
    overhead.streamsMs += performance.now() - startMs;
    remember(this.streams, key, streams, STREAM_CACHE_BYTES, (value) =>
      value.reduce((sum, stream) => sum + stream.length * 13, 0),
    );
    return streams;
  }

  /** Prefill entries, SharedArrayBuffer-backed so private maps' workers read them without a copy. */
  private prefillFor(workload: Workload, overhead: CellOverhead): { keys: Int32Array; values: Int32Array } {
    const key = workload.name;
    const cached = this.prefills.get(key);
    if (cached) return cached;
    const startMs = performance.now();
    const entries = prefillEntries(workload, this.config.seed);
    const keys = new Int32Array(new SharedArrayBuffer(entries.keys.byteLength));
    const values = new Int32Array(new SharedArrayBuffer(entries.values.byteLength));
    keys.set(entries.keys);
    values.set(entries.values);
    overhead.streamsMs += performance.now() - startMs;
    const prefill = { keys, values };
    remember(this.prefills, key, prefill, PREFILL_CACHE_ENTRIES, () => 1);
    return prefill;
  }

  private async runTrial(
    context: TrialContext,
    timing: { seed: number; warmupMs: number; durationMs: number; rate: number | null; trial: number | null },
    meterHiccups = false,
    afterPrefill: (() => Promise<void>) | null = null,
  ): Promise<
    | { reports: WorkerReport[]; counters: Record<string, number>; hiccups: HiccupReport | null }
    | { failure: { name: string; message: string } }
  > {
    const { pool, spec, factory, source, workload, streams, prefill, deadlineMs, overhead, signal } = context;
    const prefillStartMs = performance.now();
    const handle: MapHandle = factory.create({
      capacity: mapCapacity(workload),
      loadFactor: spec.loadFactor,
    });
    let mainView: ConcurrentMap | null = null;
    if (factory.shared) {
      mainView = factory.attach(handle);
      fillMap(mainView, prefill);
    }
    overhead.prefillMs += performance.now() - prefillStartMs;
    await afterPrefill?.();

    const control = new TrialControl();
    const profileDir = this.config.profileDir;
    const profile =
      profileDir && timing.trial !== null ? { dir: profileDir, stem: profileStem(spec, timing.trial) } : null;
    const tasks: TrialTask[] = streams.map((stream, workerIndex) => ({
      kind: 'trial',
      control: control.buffer,
      workerIndex,
      workerCount: spec.threads,
      map: source,
      handle,
      privatePrefill: factory.shared ? null : prefill,
      stream,
      sampleEveryOps: this.config.sampleEveryOps,
      warmupMs: timing.warmupMs,
      durationMs: timing.durationMs,
      ratePerSec: timing.rate,
      seed: timing.seed,
      profile,
    }));
    const meter =
      meterHiccups && this.hiccupMeter
        ? await this.hiccupMeter.ready().then(
            () => this.hiccupMeter,
            () => null,
          )
        : null;
    const hiccups = meter ? meter.measure(control.buffer, timing.warmupMs, timing.durationMs) : null;
    let outcomes: Awaited<ReturnType<MapPool['runTrial']>>;
    try {
      outcomes = await pool.runTrial(tasks, control, deadlineMs, signal);
    } catch (error) {
      control.abort(); // releases the meter if the trial never started
      await hiccups?.catch(() => null);
      throw error;
    }
    // The meter closes its window on its own clock, a hair after the workers; a failed meter only costs its figure.
    const hiccupReport = hiccups === null ? null : await hiccups.catch(() => null);
    const failures = outcomes.filter((outcome): outcome is WorkerFailure => !outcome.ok);
    if (failures.length > 0) {
      const cause = failures.find((failure) => failure.error !== undefined)?.error;
      if (!cause) return { failure: { name: 'Aborted', message: 'the trial was aborted' } };
      const message =
        cause.name === CONCURRENT_MAP_WRITE_ERROR_NAME ? cause.message : `${cause.name}: ${cause.message}`;
      return { failure: { name: cause.name, message } };
    }
    const reports = outcomes as WorkerReport[];
    const counters = mainView ? mainView.stats() : sumCounters(reports.map((report) => report.counters ?? {}));
    // Frees earlier trials' maps once enough memory is waiting (workers collect after each window),
    // as far from the next window as possible.
    const gcStartMs = performance.now();
    collectGarbageIfGrown();
    overhead.gcMs += performance.now() - gcStartMs;
    return { reports, counters, hiccups: hiccupReport };
  }

  private assemble(progress: CellProgress): Cell {
    const { identity, spec, workload, overhead, wallMs } = progress;
    const kept = progress.entries.filter((entry) => !entry.superseded);
    const reportsByTrial = kept.map((entry) => entry.reports);
    const trialCounters = kept.map((entry) => entry.counters);
    const hiccups = kept.map((entry) => entry.hiccups);
    const merged = new LatencyHistogram();
    const stalls = new LatencyHistogram();
    const byOp = new Map<string, LatencyHistogram>();
    const opCounts: Record<string, number> = {};
    const trials: Trial[] = [];
    let backlogOps = 0;
    let streamWraps = 0;
    const clockCosts: number[] = [];
    reportsByTrial.forEach((reports, index) => {
      const ops = reports.reduce((sum, report) => sum + report.ops, 0);
      const windowStartNs = Math.min(...reports.map((r) => r.windowStartNs));
      const elapsedNs = Math.round(Math.max(...reports.map((r) => r.windowEndNs)) - windowStartNs);
      const wait = kept[index].runqueueWaitFraction;
      const trial: Trial = {
        // Rates to 0.1 ops/s: digits beyond carry no information and were a fifth of a results file.
        ops,
        elapsedNs,
        opsPerSec: round((ops / elapsedNs) * 1e9, 1),
        windowStartNs: Math.round(windowStartNs),
        ...(wait === null ? {} : { runqueueWaitFraction: round(wait, 4) }),
        ...kept[index].meta,
      };
      const quiet = reports.map((report) => report.quietOpsPerSec);
      if (quiet.every((rate): rate is number => rate !== null))
        trial.quietOpsPerSec = round(
          quiet.reduce((sum, rate) => sum + rate, 0),
          1,
        );
      const hiccup = hiccups[index];
      if (hiccup) trial.hiccupP99Ns = hiccupP99Ns(hiccup);
      if (spec.rate !== null) {
        trial.slowestWorkerOpsPerSec = Math.min(
          ...reports.map((r) => (r.ops / (r.windowEndNs - r.windowStartNs)) * 1e9),
        );
        trial.backlogOps = reports.reduce((sum, r) => sum + r.backlog, 0);
      }
      trials.push(trial);
      const trialLatency = new LatencyHistogram();
      const trialStalls = new LatencyHistogram();
      for (const report of reports) {
        if (report.stalls) trialStalls.merge(LatencyHistogram.fromData(report.stalls));
        for (const [op, data] of Object.entries(report.histograms)) {
          if (!data) continue;
          const histogram = LatencyHistogram.fromData(data);
          merged.merge(histogram);
          trialLatency.merge(histogram);
          const existing = byOp.get(op);
          if (existing) existing.merge(histogram);
          else byOp.set(op, histogram);
        }
        for (const [op, count] of Object.entries(report.opCounts)) opCounts[op] = (opCounts[op] ?? 0) + (count ?? 0);
        backlogOps += report.backlog;
        streamWraps = Math.max(streamWraps, report.streamWraps);
        clockCosts.push(report.clockCostNs);
      }
      if (trialLatency.totalCount > 0) trial.p99Ns = trialLatency.valueAtQuantile(0.99);
      if (trialStalls.totalCount > 0) {
        trial.stallP99Ns = trialStalls.valueAtQuantile(0.99);
        stalls.merge(trialStalls);
      }
    });
    const latencyByOpNs: Record<string, LatencyPercentiles> = {};
    for (const op of OP_NAMES) {
      const histogram = byOp.get(op);
      if (histogram) latencyByOpNs[op] = histogram.percentiles();
    }
    const measuredMs = progress.entries.length * this.config.durationMs;
    // Fixed cost: everything but the trials' warm-ups and windows and the pool warm-up trial's window.
    const poolWarmupWindowMs = overhead.poolWarmups * this.poolWarmupMs();
    const fixedMs = Math.max(
      0,
      wallMs - progress.entries.length * (this.config.warmupMs + this.config.durationMs) - poolWarmupWindowMs,
    );
    const clockCostNs = clockCosts.length === 0 ? 0 : median(clockCosts);
    const cell: Cell = {
      ...identity,
      trials,
      opsPerSec: medianWithCI(trials.map((trial) => trial.opsPerSec)),
      ...quietSummary(trials),
      latencyNs: merged.summary(),
      latencyByOpNs,
      ...hiccupSummary(hiccups, this.hiccupMeter?.intervalMs ?? 0),
      ...(stalls.totalCount > 0 ? { workerStallNs: stalls.summary() } : {}),
      counters: medianByKey(trialCounters),
      opCounts,
      timing:
        spec.rate === null
          ? { method: 'sampled-ops', sampleEveryOps: this.config.sampleEveryOps, clockCostNs }
          : { method: 'every-op-from-intended-start', clockCostNs },
      mapOptions: { capacity: mapCapacity(workload), loadFactor: spec.loadFactor },
      streamOps: streamLength(workload, this.config.streamOps),
      streamWraps,
      overhead: {
        fixedMs: round(fixedMs),
        poolStartMs: round(overhead.poolStartMs),
        poolWarmupMs: round(overhead.poolWarmupMs),
        streamsMs: round(overhead.streamsMs),
        prefillMs: round(overhead.prefillMs),
        gcMs: round(overhead.gcMs),
        fractionOfWindow: round(fixedMs / measuredMs, 4),
      },
      wallMs: round(wallMs),
    };
    const remeasured = progress.entries.length - kept.length;
    if (remeasured > 0) cell.remeasuredTrials = remeasured;
    if (spec.rate !== null) {
      const achieved = trials.map((trial) => trial.opsPerSec / spec.threads);
      cell.achievedOpsPerSec = median(achieved);
      cell.offeredOpsPerSec = spec.rate * spec.threads;
      cell.backlogOps = backlogOps;
    }
    return cell;
  }
}

/**
 * Ops in each worker's stream of `workload` (replayed cyclically): --stream-ops,
 * times FRESH_KEY_STREAM_FACTOR for a workload that inserts fresh keys. The
 * one place that says it: the sweep, `maplab run --compare-bare` and the shard
 * planner all use it.
 */
export function streamLength(workload: Workload, streamOps: number): number {
  return streamOps * (insertsFreshKeys(workload) ? FRESH_KEY_STREAM_FACTOR : 1);
}

/** The op streams of a cell's workers, SharedArrayBuffer-backed: a pure function of (workload, seed, threads, length). */
export function generateCellStreams(
  workload: Workload,
  options: { seed: number; threads: number; length: number },
): OpStream[] {
  const { seed, threads, length } = options;
  return Array.from({ length: threads }, (_, workerIndex) =>
    generateOpStream(workload, { seed, workerIndex, workerCount: threads, length, shared: true }),
  );
}

function trialEntry(
  reports: WorkerReport[],
  counters: Record<string, number>,
  hiccups: HiccupReport | null,
  meta: TrialMeta,
): TrialEntry {
  const ops = reports.reduce((sum, report) => sum + report.ops, 0);
  const elapsedNs = Math.max(...reports.map((r) => r.windowEndNs)) - Math.min(...reports.map((r) => r.windowStartNs));
  const quiet = reports.map((report) => report.quietOpsPerSec);
  const waits = reports.map((report) => report.runqueueWaitFraction);
  return {
    reports,
    counters,
    opsPerSec: (ops / elapsedNs) * 1e9,
    quietOpsPerSec: quiet.every((rate): rate is number => rate !== null)
      ? quiet.reduce((sum, rate) => sum + rate, 0)
      : null,
    runqueueWaitFraction: waits.every((wait): wait is number => wait !== null) ? Math.max(...waits) : null,
    hiccups,
    meta,
    superseded: false,
  };
}

/** `quietOpsPerSec` (median with CI of the trials' quiet rates) when every trial has one. */
function quietSummary(trials: readonly Trial[]): { quietOpsPerSec?: ReturnType<typeof medianWithCI> } {
  const rates = quietFigures(trials);
  return rates === null ? {} : { quietOpsPerSec: medianWithCI(rates) };
}

/** `hiccupNs` when the meter measured at least one trial. */
function hiccupSummary(reports: ReadonlyArray<HiccupReport | null>, intervalMs: number): { hiccupNs?: HiccupSummary } {
  const summary = summarizeHiccups(
    reports.filter((report): report is HiccupReport => report !== null),
    intervalMs,
  );
  return summary === null ? {} : { hiccupNs: summary };
}

function poolKey(source: MapSource, threads: number): string {
  return `${source.name}|${threads}`;
}

/**
 * The error cell of a cell that failed with `message`. A map unsafe for
 * concurrent writes, run with writers on several threads, never yields a
 * plain error either: unless its own detector fired (`detected`), the cell
 * says "concurrent map writes (not detected…)" and keeps the message as detail.
 */
function failedCell(progress: CellProgress, message: string, detected: boolean): ErrorCell {
  if (progress.unsafeWrites && !detected) {
    return { ...progress.identity, error: CONCURRENT_WRITES_ERROR + NOT_DETECTED_SUFFIX, errorDetail: message };
  }
  return { ...progress.identity, error: message };
}

function sumCounters(records: Array<Record<string, number>>): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const record of records) for (const [key, value] of Object.entries(record)) sum[key] = (sum[key] ?? 0) + value;
  return sum;
}

/** Least-recently-inserted eviction until the cache's total `size` fits `budget` (the newest entry always stays). */
function remember<V>(cache: Map<string, V>, key: string, value: V, budget: number, size: (value: V) => number): void {
  cache.set(key, value);
  let total = 0;
  for (const entry of cache.values()) total += size(entry);
  for (const [oldest, entry] of cache) {
    if (total <= budget || oldest === key) break;
    total -= size(entry);
    cache.delete(oldest);
  }
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
