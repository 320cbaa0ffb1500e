/**
 * The sweep: plan the cells, run them one after another, and keep the
 * results file current after every cell.
 *
 * The file is rewritten atomically (temp file + rename) after each cell with
 * `incomplete: true`, so a crash or Ctrl-C loses at most the cell in flight,
 * and `--resume` finishes it: finished cells (error cells included) are kept
 * as they are and skipped; the config must match (PLAN_FIELDS), or the resume
 * is refused. Without any plan flag, `--resume` adopts the file's own config.
 *
 * Cells run map by map, then thread count, workload, load factor and rate, so
 * each (map, threads) pool serves a contiguous run of cells and streams are
 * reused across load factors.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median } from 'simple-statistics';
import { getMapFactory } from '../../maps/index.js';
import { addCalibrationRound, measureCalibration } from './calibration.js';
import { QUIET_QUANTILE, QUIET_SLICE_MS } from '../trial/loop.js';
import { planAutoRatePhase, runAutoRateSeries, type AutoRateStage } from './rate-plan.js';
import { CellRunner, cellKey, type BeforeMeasure, type CellSpec } from './cell.js';
import {
  LocalCellBackend,
  RemoteCellBackend,
  type BackendCell,
  type CellBackend,
  type TrialFigures,
} from './cell-backend.js';
import { CLOCK_NAME, measureClockCostNs, measureClockResolutionNs } from '../trial/clock.js';
import { planDifferences, type ResolvedSweep, type SweepConfig } from './config.js';
import { collectEnv } from './env.js';
import { finalizeResults } from './finalize.js';
import { baseMapOf, loadBaseMaps, loadPluginModule } from './map-source.js';
import { UsageError } from './options.js';
import { TrialInterruptedError } from '../trial/pool.js';
import { slotCpu } from '../trial/affinity.js';
import {
  isMeasuredCell,
  readResultsFile,
  RESULTS_SCHEMA,
  writeResultsFile,
  type Results,
  type ResultsCell,
  type VerificationBadge,
} from '../results/results.js';
import {
  comparisonGroups,
  comparisonKey,
  DEFAULT_REMEASURE_RULE,
  disturbance,
  keepRemeasured,
  placementTrouble,
  poolGeneration,
  roundVisits,
  readingPlacement,
  runLevels,
  type Placement,
  visitsToRemeasure,
  type RemeasureRule,
  type RunLevels,
  type VisitHealth,
} from './schedule.js';
import { measurePrimitivesAcross } from '../micro/primitives.js';
import { DriftSentinel, SENTINEL_WORKLOAD, sentinelRate, type SentinelReading } from './sentinel.js';
import { PLACEMENT_WINDOW_MS, PlacementSentinel } from './placement.js';
import { shardCells } from './shard.js';
import { verifyMaps } from '../verify/index.js';

/**
 * The cells a config runs, in run order (with --node, one cell per runtime; with --rates auto, the
 * closed-loop capacity cells, their series planned as they finish): with `config.shard`, only that shard's.
 */
export function planCells(config: SweepConfig): CellSpec[] {
  const cells = planAllCells(config);
  return config.shard === undefined ? cells : shardCells(cells, config, config.shard);
}

/** Every cell of a config, shard or not, in run order. */
export function planAllCells(config: SweepConfig): CellSpec[] {
  const cells: CellSpec[] = [];
  const rates = Array.isArray(config.rates) ? config.rates : [null];
  const runtimes = config.runtimes ?? [];
  for (const map of config.maps) {
    for (const threads of config.threads) {
      for (const workload of config.workloads) {
        for (const loadFactor of config.loadFactorsByWorkload?.[workload] ?? config.loadFactors) {
          for (const rate of rates) {
            if (runtimes.length === 0) cells.push({ map, workload, threads, loadFactor, rate });
            for (const runtime of runtimes)
              cells.push({ map, workload, threads, loadFactor, rate, runtime: runtime.node });
          }
        }
      }
    }
  }
  return cells;
}

/** Sweeps over runtimes measure the primitives for this long each (tinybench time per primitive), twice per runtime. */
const PRIMITIVES_TIME_MS = 100;

export interface SweepObserver {
  /** Before a cell runs; `done` cells (including resumed ones) of `total` are finished. */
  cellStarted?(spec: CellSpec, done: number, total: number): void;
  cellFinished?(cell: ResultsCell, done: number, total: number): void;
  note?(message: string): void;
}

export interface PreparedSweep extends ResolvedSweep {
  /** The partial results file being resumed, or null for a new sweep. */
  existing: Results | null;
}

/**
 * Checks the output file before anything runs: an existing `--out` needs
 * `--resume` or `--force`; `--resume` needs a matching config (or adopts the
 * file's when no plan option was given). Throws UsageError, writing nothing.
 */
export async function prepareSweep(resolved: ResolvedSweep): Promise<PreparedSweep> {
  planCells(resolved.config); // refuses a --shard left without cells, before anything is written
  const out = resolved.out;
  if (out === null) {
    if (resolved.resume) throw new UsageError('--resume needs --out (the file to finish)');
    return { ...resolved, existing: null };
  }
  if (resolved.resume && resolved.force)
    throw new UsageError('--resume and --force contradict each other: finish the file, or start over');
  if (!existsSync(out)) return { ...resolved, existing: null };
  if (resolved.force) return { ...resolved, existing: null };
  if (!resolved.resume)
    throw new UsageError(`--out: ${out} already exists; pass --resume to finish it or --force to overwrite it`);
  const existing = readResultsFile(out);
  if (!resolved.explicitPlan) return { ...(await adoptConfig(resolved, existing)), existing };
  const differences = planDifferences(existing.config, resolved.config);
  if (differences.length > 0) {
    const detail = differences
      .map(
        (field) =>
          `${field}: file ${JSON.stringify(existing.config[field] ?? null)} vs now ${JSON.stringify(resolved.config[field] ?? null)}`,
      )
      .join('; ');
    throw new UsageError(
      `--resume: ${out} was written with a different config (${detail.length > 600 ? `${detail.slice(0, 600)}…` : detail}); ` +
        "rerun with the same options, or with only --resume --out to adopt the file's config, or use --force to start over",
    );
  }
  return { ...resolved, config: existing.config as SweepConfig, existing };
}

/** `--resume --out file` alone: run the file's own config (its plugin map reloaded from config.mapModule). */
async function adoptConfig(resolved: ResolvedSweep, existing: Results): Promise<ResolvedSweep> {
  const config = existing.config as SweepConfig;
  if (!Array.isArray(config.maps) || typeof config.workloadDefinitions !== 'object') {
    throw new UsageError(`--resume: ${resolved.out} has no maplab sweep config to adopt`);
  }
  const maps: ResolvedSweep['maps'] = new Map();
  const plugin = config.mapModule ? await loadPluginModule(config.mapModule, `--resume: config.mapModule`) : undefined;
  const baseMaps = config.against ? await loadBaseMaps(config.against, '--resume: config.against') : [];
  for (const name of config.maps) {
    if (plugin && plugin.factory.name === name) {
      maps.set(name, plugin);
      continue;
    }
    const base = baseMaps.find((candidate) => candidate.source.name === name);
    if (base) {
      maps.set(name, base);
      continue;
    }
    try {
      maps.set(name, { source: { name }, factory: getMapFactory(name) });
    } catch (error) {
      throw new UsageError(`--resume: ${resolved.out}: config.maps: ${(error as Error).message}`);
    }
  }
  return { ...resolved, config, maps };
}

export interface SweepOutcome {
  results: Results;
  interrupted: boolean;
}

/**
 * Runs every planned cell not yet in the file. Returns the results (finalized
 * unless interrupted). `signal` aborting (Ctrl-C) stops the cell in flight,
 * writes the file marked incomplete, and returns interrupted: true.
 */
export async function runSweep(
  sweep: PreparedSweep,
  observer: SweepObserver = {},
  signal?: AbortSignal,
): Promise<SweepOutcome> {
  const startedAt = new Date().toISOString();
  const startMs = performance.now();
  const plan = planCells(sweep.config);
  const order = new Map(plan.map((spec, index) => [cellKey(spec), index]));
  const results = sweep.existing
    ? resumeResults(sweep.existing, startedAt, observer)
    : newResults(sweep.config, startedAt);
  const cells = results.cells;
  const done = new Set(cells.map((cell) => cellKey(cell)));
  const pending = plan.filter((spec) => !done.has(cellKey(spec)));
  const write = (): void => {
    if (sweep.out === null) return;
    cells.sort((a, b) => (order.get(cellKey(a)) ?? Infinity) - (order.get(cellKey(b)) ?? Infinity));
    writeResultsFile(sweep.out, results);
  };
  if (sweep.out !== null) mkdirSync(dirname(sweep.out), { recursive: true });
  write();

  if (sweep.config.verify && results.verification === undefined && !signal?.aborted) {
    results.verification = await verifyBeforeMeasuring(sweep.config, observer);
    write();
  }

  // --rates auto plans each series from a finished cell: interleaved, in phases (capacity, bracket,
  // refinement); otherwise cell after cell (rate-plan.ts).
  const autoRates = sweep.config.rates === 'auto';
  const interleave = sweep.config.interleave === true;
  const runCell = async (spec: CellSpec): Promise<ResultsCell> => {
    observer.cellStarted?.(spec, cells.length, plan.length);
    const cell = await runner.run(spec, signal);
    cells.push(cell);
    write();
    observer.cellFinished?.(cell, cells.length, plan.length);
    return cell;
  };
  const runner = new CellRunner(sweep.config, sweep.maps, results.env.cores, interleave);
  results.env.affinity = runner.affinity;
  const backends = new Map<string, CellBackend>();
  let interrupted = false;
  try {
    if (interleave) {
      const runtimes = sweep.config.runtimes ?? [];
      if (runtimes.length > 0 && results.primitives === undefined && !signal?.aborted) {
        // What the map results rest on, per runtime (scripts/README.md, "Runtimes"): recorded once, shown in the report's environment.
        observer.note?.(`measuring the primitives under ${runtimes.map((runtime) => runtime.node).join(', ')}`);
        results.primitives = await measurePrimitivesAcross(runtimes, { timeMs: PRIMITIVES_TIME_MS, rounds: 2 });
        write();
      }
      for (const runtime of runtimes) {
        observer.note?.(`starting a trial server under node ${runtime.node} (${runtime.execPath})`);
        backends.set(
          runtime.node,
          await RemoteCellBackend.start(runtime.execPath, {
            config: sweep.config,
            maps: sweep.maps,
            cores: results.env.cores,
          }),
        );
      }
      if (backends.size === 0) backends.set('', new LocalCellBackend(runner));
      const stages: AutoRateStage[] = autoRates ? ['bracket', 'refine'] : [];
      const nextPhase = (): Phase | null => {
        const stage = stages.shift();
        if (stage === undefined) return null;
        const planned = planAutoRatePhase(stage, plan, cells);
        const groups = new Map(planned.map(({ spec, group }) => [cellKey(spec), group]));
        return { specs: planned.map(({ spec }) => spec), groupOf: (spec) => groups.get(cellKey(spec)) as string };
      };
      interrupted = await runInterleaved(
        sweep.config,
        backends,
        { specs: pending, groupOf: comparisonKey },
        nextPhase,
        results,
        write,
        observer,
        plan.length,
        signal,
      );
    } else {
      for (const spec of pending) {
        if (signal?.aborted) {
          interrupted = true;
          break;
        }
        results.calibration = addCalibrationRound(results.calibration);
        const cell = await runCell(spec);
        if (autoRates) await runAutoRateSeries(spec, cell, cells, runCell, () => signal?.aborted === true);
      }
    }
  } catch (error) {
    if (!(error instanceof TrialInterruptedError)) throw error;
    interrupted = true;
  } finally {
    await runner.close();
    await Promise.all([...backends.values()].map((backend) => backend.close().catch(() => undefined)));
  }

  const sweepInfo = (results.sweep ??= {});
  sweepInfo.wallMs = Math.round((Number(sweepInfo.wallMs) || 0) + performance.now() - startMs);
  if (interrupted) {
    results.incomplete = true;
    results.interrupted = true;
    write();
    return { results, interrupted };
  }
  sweepInfo.finishedAt = new Date().toISOString();
  sweepInfo.fixedCostFraction = fixedCostSummary(cells);
  const finished = finalizeResults(results);
  if (sweep.out !== null) writeResultsFile(sweep.out, finished);
  return { results: finished, interrupted: false };
}

/** One visit: a sentinel reading, then one trial of every map of a comparison group, back to back. */
interface Visit {
  round: number;
  group: number;
  /** The group's maps in the order this visit measured them (a re-measurement repeats it). */
  members: readonly BackendCell[];
  generation: number;
  sentinel: SentinelReading | null;
  /** Placement sentinel readings, ns: before the visit, one per multi-thread trial once its map is prefilled, then the next one after it. */
  handoffNs: number[];
  entries: TrialFigures[];
  /**
   * Run-queue waits that mean interference: those of cells with no more
   * threads than cores. An oversubscribed cell's workers wait for a CPU by
   * design (on 2 cores, 50 of 90 visits of a quick sweep counted as disturbed
   * when they did), so their waits say nothing about the machine.
   */
  waits: number[];
}

/** What a visit tells the re-measure rule. */
function visitHealth(visit: Visit): VisitHealth {
  const waits = [visit.sentinel?.runqueueWaitFraction ?? null, ...visit.waits].filter(
    (wait): wait is number => wait !== null,
  );
  return {
    sentinelOpsPerSec: visit.sentinel === null ? null : sentinelRate(visit.sentinel),
    runqueueWaitFraction: waits.length === 0 ? null : Math.max(...waits),
    handoffNs: visit.handoffNs,
    threads: visit.members[0]?.spec.threads ?? 1,
  };
}

/**
 * Interleaved sweeps (every preset): rounds of visits, as harness/run/schedule.ts
 * plans them. Round r visits every comparison group once; a visit takes one
 * drift-sentinel reading and one placement reading (which also closes the
 * previous visit), then trial r of every map of the group, back to back, with
 * a placement reading of its own in each multi-thread trial, between its
 * prefill and its start; the
 * maps' trials are pairs measured seconds apart. Rounds are
 * split over `poolGenerations` sets of fresh pools. Afterwards the visits the
 * sentinel, the run queues or the placement readings show as disturbed are measured again (worst
 * first, within --remeasure of all visits) and the better visit is kept. The
 * cost: a phase's cells finish together at its end, so an interruption keeps
 * no pending cell of it. `nextPhase` (`--rates auto`) plans more cells from
 * the finished ones: each phase runs its own rounds and re-measurements, with
 * one sentinel, placement probe and drift record for the whole run. Returns
 * true if interrupted.
 */
async function runInterleaved(
  config: SweepConfig,
  backends: ReadonlyMap<string, CellBackend>,
  first: Phase,
  nextPhase: () => Phase | null,
  results: Results,
  write: () => void,
  observer: SweepObserver,
  planned: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const cells = results.cells;
  const backendOf = (spec: CellSpec): CellBackend => backends.get(spec.runtime ?? '') as CellBackend;
  const rounds = config.trials;
  const generations = config.poolGenerations ?? 1;
  const rule: RemeasureRule = {
    ...DEFAULT_REMEASURE_RULE,
    budgetFraction: config.remeasure ?? DEFAULT_REMEASURE_RULE.budgetFraction,
  };
  /** This phase's cells already finished before it, its visits so far in `visits` start here, and how many it plans. */
  let doneBefore = cells.length;
  let phaseStart = 0;
  let totalVisits = 0;
  let pending: readonly CellSpec[] = [];
  const affinity = results.env.affinity ?? null;
  const sentinel =
    config.sentinel === false
      ? null
      : await DriftSentinel.start({
          seed: config.seed,
          streamOps: config.streamOps,
          sampleEveryOps: config.sampleEveryOps,
          timeoutMs: config.cellTimeoutMs,
          signal,
          cpu: slotCpu(affinity, 0), // where 1-thread trials run
        });
  const placement =
    config.sentinel === false
      ? null
      : await PlacementSentinel.start({
          timeoutMs: config.cellTimeoutMs,
          signal,
          cpus: affinity?.pinned === true ? affinity.cpus : null,
        });
  const visits: Visit[] = [];
  /** Visits measured again, over all phases. */
  let remeasured = 0;
  /** Cells the run will have: the plan, then each phase's cells as it is planned. */
  let total = planned;
  let generation = 0;
  /** The visit the next placement reading closes; null when the last one was closed. */
  let open: Visit | null = null;
  /** Readings taken again because the one before was unclassified. */
  let placementRetries = 0;
  /** Pinned runs: each round's sentinel reading on every CPU and the CPU chosen for its 1-thread trials. */
  const vcpuRounds: VcpuRound[] = [];
  const placementReading = async (): Promise<number | null> => {
    if (placement === null) return null;
    const { handoffNs, attempts } = await placement.measure(performance.now() + config.cellTimeoutMs, signal, {
      retryAboveNs: rule.unclassifiedNs,
    });
    placementRetries += attempts - 1;
    open?.handoffNs.push(handoffNs);
    open = null;
    return handoffNs;
  };

  const visit = async (
    round: number,
    group: number,
    members: readonly BackendCell[],
    remeasure: boolean,
  ): Promise<Visit | null> => {
    if (signal?.aborted) return null;
    const sentinelReading =
      sentinel === null ? null : await sentinel.measure(performance.now() + config.cellTimeoutMs, signal);
    const readings: number[] = [];
    const firstReading = await placementReading();
    if (firstReading !== null) readings.push(firstReading);
    const entries: TrialFigures[] = [];
    const waits: number[] = [];
    for (const cell of members) {
      if (signal?.aborted) return null;
      // A multi-thread trial gets a reading of its own, taken once its map is prefilled, right before
      // its workers start: a trial's pairs are judged by it (relative.ts).
      const ownReading: BeforeMeasure | null =
        placement === null || cell.spec.threads < 2
          ? null
          : async () => {
              const reading = await placementReading();
              if (reading === null) return {};
              readings.push(reading);
              return { handoffNs: Math.round(reading) };
            };
      observer.cellStarted?.(
        cell.spec,
        doneBefore + Math.floor(((visits.length - phaseStart) / totalVisits) * pending.length),
        total,
      );
      const meta: Record<string, unknown> = {
        round,
        poolGeneration: generation,
        ...(sentinelReading === null ? {} : { sentinelOpsPerSec: Math.round(sentinelRate(sentinelReading)) }),
        ...(firstReading === null ? {} : { handoffNs: Math.round(firstReading) }),
        ...(remeasure ? { remeasured: true } : {}),
      };
      const entry = await backendOf(cell.spec).step(cell, round, config.cellTimeoutMs, signal, meta, ownReading);
      if (entry === null) continue;
      entries.push(entry);
      if (entry.runqueueWaitFraction !== null && cell.spec.threads <= results.env.cores)
        waits.push(entry.runqueueWaitFraction);
    }
    const done: Visit = {
      round,
      group,
      members,
      generation,
      sentinel: sentinelReading,
      handoffNs: readings,
      entries,
      waits,
    };
    open = done;
    return done;
  };

  /** Runs one phase's cells; false when interrupted. */
  const runPhase = async (phase: Phase): Promise<boolean> => {
    pending = phase.specs;
    doneBefore = cells.length;
    phaseStart = visits.length;
    const progress: BackendCell[] = [];
    for (const spec of pending) progress.push(await backendOf(spec).begin(spec));
    const groups = comparisonGroups(progress, (cell) => phase.groupOf(cell.spec));
    totalVisits = Math.max(1, rounds * groups.length);
    for (let round = 0; round < rounds; round++) {
      const roundGeneration = poolGeneration(round, rounds, generations);
      if (roundGeneration !== generation) {
        for (const backend of backends.values()) await backend.closePools(); // the next generation starts every pool afresh
        generation = roundGeneration;
      }
      if (sentinel !== null && affinity?.pinned === true && affinity.cpus.length >= 2) {
        vcpuRounds.push(await chooseOneThreadCpu(sentinel, affinity.cpus, backends, round, config, signal));
      }
      results.calibration = addCalibrationRound(results.calibration);
      for (const { group, members } of roundVisits(groups, round, rounds)) {
        const done = await visit(round, group, members, false);
        if (done === null) return false;
        visits.push(done);
      }
    }
    await placementReading(); // closes the last visit of the rounds
    // The re-measure rule judges a phase's visits against the phase's own levels, within its own budget.
    const health = visits.slice(phaseStart).map(visitHealth);
    const levels = runLevels(health, rule);
    const again: Array<{ index: number; done: Visit }> = [];
    for (const offset of visitsToRemeasure(health, rule)) {
      const index = phaseStart + offset;
      const done = await visit(visits[index].round, visits[index].group, visits[index].members, true);
      if (done === null) return false;
      again.push({ index, done });
    }
    await placementReading(); // closes the last re-measured visit
    for (const { index, done } of again) {
      const original = visits[index];
      remeasured++;
      const keepAgain = keepRemeasured(visitHealth(original), visitHealth(done), levels, rule);
      for (const entry of keepAgain ? original.entries : done.entries) entry.superseded = true;
      if (keepAgain) visits[index] = done;
    }
    for (const cell of progress) {
      const finished = await backendOf(cell.spec).finish(cell);
      cells.push(finished);
      observer.cellFinished?.(finished, cells.length, total);
    }
    write();
    return true;
  };

  try {
    for (let phase: Phase | null = first; phase !== null; phase = nextPhase()) {
      if (phase.specs.length === 0) continue;
      total = Math.max(total, cells.length + phase.specs.length);
      if (!(await runPhase(phase))) return true;
    }
    results.sweep = {
      ...results.sweep,
      drift: driftSummary(
        visits,
        runLevels(visits.map(visitHealth), rule),
        rule,
        remeasured,
        generations,
        placementRetries,
        vcpuRounds,
      ),
    };
  } finally {
    await sentinel?.close();
    await placement?.close();
  }
  write();
  return false;
}

/** One phase of an interleaved sweep: its cells, and the visit group of each (cells of one group are visited together). */
interface Phase {
  specs: readonly CellSpec[];
  groupOf: (spec: CellSpec) => string;
}

/** A round's choice of vCPU for its 1-thread trials. */
interface VcpuRound {
  round: number;
  /** The sentinel's rate on each CPU, in the affinity's CPU order, ops/s. */
  sentinelOpsPerSec: number[];
  chosen: number;
}

/**
 * Pinned runs, at the start of every round: a drift-sentinel reading on each
 * CPU, and the fastest CPU becomes the one the round's 1-thread trials (and
 * the sentinel's visit readings) run on. The two vCPUs of this VM kind can
 * differ 1.6× for minutes, and which one is slow changes between runs
 * (EVIDENCE.md, "Which vCPU"): a fixed CPU made two back-to-back runs measure
 * different machines at 1 thread. The fast one is the reproducible one, as
 * the quiet rate is within a trial.
 */
async function chooseOneThreadCpu(
  sentinel: DriftSentinel,
  cpus: readonly number[],
  backends: ReadonlyMap<string, CellBackend>,
  round: number,
  config: SweepConfig,
  signal: AbortSignal | undefined,
): Promise<VcpuRound> {
  const deadline = (): number => performance.now() + config.cellTimeoutMs;
  const rates: number[] = [];
  for (const cpu of cpus) {
    await sentinel.pinTo(cpu, deadline(), signal);
    rates.push(sentinelRate(await sentinel.measure(deadline(), signal)));
  }
  const chosen = cpus[rates.indexOf(Math.max(...rates))];
  await sentinel.pinTo(chosen, deadline(), signal);
  for (const backend of backends.values()) await backend.oneThreadCpuIs?.(chosen, config.cellTimeoutMs, signal);
  return { round, sentinelOpsPerSec: rates.map(Math.round), chosen };
}

/** How the rounds chose: rounds per CPU, and how fast the CPUs not chosen read against the chosen one. */
function oneThreadCpuSummary(rounds: readonly VcpuRound[]): Record<string, unknown> {
  const chosenCounts: Record<string, number> = {};
  const others: number[] = [];
  for (const { sentinelOpsPerSec, chosen } of rounds) {
    chosenCounts[String(chosen)] = (chosenCounts[String(chosen)] ?? 0) + 1;
    const best = Math.max(...sentinelOpsPerSec);
    const rest = sentinelOpsPerSec.filter((rate) => rate !== best);
    if (best > 0 && rest.length > 0) others.push(Math.min(...rest) / best);
  }
  return {
    rule: 'at the start of each round, a drift-sentinel reading on each CPU; the fastest runs the round',
    chosenCounts,
    slowestOtherMedianRatio: others.length === 0 ? null : Math.round(median(others) * 1000) / 1000,
    rounds,
  };
}

/** What the results file says of the run's drift: sentinel level and spread, visits disturbed and measured again. */
function driftSummary(
  visits: readonly Visit[],
  levels: RunLevels,
  rule: RemeasureRule,
  remeasured: number,
  generations: number,
  placementRetries: number,
  vcpuRounds: readonly VcpuRound[],
): Record<string, unknown> {
  const health = visits.map(visitHealth);
  const readings = health.map((item) => item.sentinelOpsPerSec).filter((value): value is number => value !== null);
  const disturbed = health.filter((item) => disturbance(item, levels, rule) !== null).length;
  const handoffs = health.flatMap((item) => item.handoffNs);
  const offPlacement = health.filter((item) => placementTrouble(item, levels, rule) !== null).length;
  return {
    visits: visits.length,
    poolGenerations: generations,
    oneThreadCpu: vcpuRounds.length === 0 ? null : oneThreadCpuSummary(vcpuRounds),
    sentinel:
      readings.length === 0
        ? null
        : {
            workload: SENTINEL_WORKLOAD.description,
            readings: readings.length,
            referenceOpsPerSec: Math.round(levels.sentinelOpsPerSec as number),
            minOpsPerSec: Math.round(Math.min(...readings)),
            maxOpsPerSec: Math.round(Math.max(...readings)),
          },
    placement:
      handoffs.length === 0
        ? null
        : {
            probe: `cache-line handoff between two threads, ${PLACEMENT_WINDOW_MS} ms before each visit, before each multi-thread trial once its map is prefilled, and after the last visit`,
            // Counted per visit: a reading between two visits closes one and opens the next, so it counts twice.
            readings: handoffs.length,
            usualHandoffNs: levels.placement === null ? null : Math.round(levels.placement.usualNs),
            otherHandoffNs: levels.placement?.otherNs == null ? null : Math.round(levels.placement.otherNs),
            readingsInOther:
              levels.placement === null
                ? 0
                : handoffs.filter((ns) => readingPlacement(ns, levels.placement as Placement, rule) === 'other').length,
            unclassifiedReadings: handoffs.filter((ns) => ns >= rule.unclassifiedNs).length,
            retriedReadings: placementRetries,
            minHandoffNs: Math.round(Math.min(...handoffs)),
            maxHandoffNs: Math.round(Math.max(...handoffs)),
            offPlacementVisitsKept: offPlacement,
          },
    rule,
    disturbedVisitsKept: disturbed,
    remeasuredVisits: remeasured,
  };
}

function newResults(config: SweepConfig, startedAt: string): Results {
  const clockCostNs = measureClockCostNs();
  const fullConfig: SweepConfig = {
    ...config,
    timing: {
      clock: CLOCK_NAME,
      clockCostNs: Math.round(clockCostNs * 10) / 10,
      clockResolutionNs: Math.round(measureClockResolutionNs() * 10) / 10,
      closedLoop:
        `sampled-ops: one op in about ${config.sampleEveryOps} (gap uniform in [${config.sampleEveryOps >>> 1}, ` +
        `${(config.sampleEveryOps >>> 1) + config.sampleEveryOps})) timed alone with two clock reads; its latency includes ~1 clock read`,
      quiet:
        `closed loop: each worker's window is cut into ~${QUIET_SLICE_MS} ms slices at its sample clock reads; ` +
        `a trial's quietOpsPerSec is the sum over workers of the p${Math.round(QUIET_QUANTILE * 100)} slice rate (the undisturbed rate on a machine with slow spells)`,
      openLoop:
        'every-op-from-intended-start: op i due at start + i/rate; latency = completion − due time (coordinated omission corrected)',
    },
  };
  return {
    schema: RESULTS_SCHEMA,
    env: collectEnv(),
    config: fullConfig,
    calibration: measureCalibration(),
    cells: [],
    analysis: { knees: [] },
    incomplete: true,
    sweep: { startedAt, wallMs: 0, resumedAt: [] },
  };
}

function resumeResults(existing: Results, startedAt: string, observer: SweepObserver): Results {
  const env = collectEnv();
  for (const field of ['node', 'cpuModel', 'commit'] as const) {
    if (existing.env[field] !== env[field]) {
      observer.note?.(
        `resuming on a different ${field}: file ${String(existing.env[field])}, now ${String(env[field])}`,
      );
    }
  }
  const sweepInfo = existing.sweep ?? {};
  const resumedAt = Array.isArray(sweepInfo.resumedAt) ? sweepInfo.resumedAt : [];
  const results: Results = {
    ...existing,
    cells: [...existing.cells],
    incomplete: true,
    sweep: { ...sweepInfo, resumedAt: [...resumedAt, startedAt] },
  };
  delete results.interrupted;
  return results;
}

/** Fixed cost per cell (pool start, streams, prefill, dispatch, barrier) as a fraction of its measured windows. */
export function fixedCostSummary(cells: readonly ResultsCell[]): { median: number; max: number } | null {
  const fractions = cells
    .map((cell) => (isMeasuredCell(cell) ? cell.overhead?.fractionOfWindow : undefined))
    .filter((value): value is number => typeof value === 'number');
  if (fractions.length === 0) return null;
  return { median: median(fractions), max: Math.max(...fractions) };
}

/** `--verify`: each map's linearizability verdict, keyed by map name (what the reports show as a badge). */
async function verifyBeforeMeasuring(
  config: SweepConfig,
  observer: SweepObserver,
): Promise<Record<string, VerificationBadge>> {
  const settings = config.verify as { histories: number; threads: number };
  observer.note?.(
    `verifying ${config.maps.join(', ')}: ${settings.histories} histories of ${settings.threads} threads each`,
  );
  // Baseline copies (--against) are the old code: what is verified is the code under test.
  const report = await verifyMaps({
    maps: config.maps.filter((name) => baseMapOf(name) === null),
    ...(config.mapModule === null ? {} : { mapModule: [config.mapModule] }),
    histories: settings.histories,
    threads: settings.threads,
    seed: config.seed,
  });
  for (const result of Object.values(report.maps)) {
    if (result.status !== 'verified' && result.status !== 'private')
      observer.note?.(`verify ${result.map}: ${result.status}: ${result.message}`);
  }
  return Object.fromEntries(Object.entries(report.maps).map(([name, result]) => [name, { ...result }]));
}
