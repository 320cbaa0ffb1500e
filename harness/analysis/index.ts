/**
 * Knee analysis of a results file: which questions it answers —
 *   - knees: how many threads before throughput stops scaling (Kneedle), and
 *     why (USL: contention σ, coherency κ, retrograde peak N*)?
 *   - latencyKnees: how much offered load before p99 leaves its flat region?
 *   - findings: the answers above (and the winner, from analysis.relative)
 *     as one plain sentence each, with their uncertainty;
 *   - crossovers: along a write-fraction family (writes-N, churn-N), at what
 *     write fraction does the faster of two maps change?
 * Pure: reads cells, returns plain data; the sweep stores it in the results'
 * `analysis`, `maplab analyze` prints or stores it.
 */
import {
  familyMember,
  isMeasuredCell,
  type Analysis,
  type Cell,
  type FamilyMember,
  type KneeResult,
  type Results,
  type ResultsCell,
} from '../results/results.js';
import type { AnalyzeOptions, LatencyKnee } from './types.js';
import { analyzeScaling } from './scaling.js';
import { latencyKnee, type LoadPoint } from './latency.js';
import { findCrossovers } from './crossovers.js';
import { groupWinners, placementFilterOf, relativeAnswers, runtimeAnswers } from './relative.js';
import { buildFindings } from './findings.js';

export type { AnalyzeOptions, Crossover, LatencyKnee } from './types.js';
export { analyzeScaling, medianPerThreadCount, type ScalingAnalysis } from './scaling.js';
export { fitUsl, uslPeak, uslThroughput, type ScalingPoint } from './usl.js';
export { kneedle, type Knee, type KneedleOptions } from './kneedle.js';
export { firstCrossing } from './crossovers.js';
export { buildFindings, type Finding } from './findings.js';
export { familyMember } from '../results/results.js';
export { parseScalingCsv } from './csv.js';
export {
  chooseReference,
  groupWinners,
  pairCells,
  pairwiseAnswers,
  relativeAnswers,
  runtimeAnswers,
  verdictOf,
  DEFAULT_TIE_MARGIN,
  MIN_PAIRS,
  type GroupWinner,
  type RelativeAnswer,
  type RelativeVerdict,
  type RuntimeAnswer,
} from './relative.js';

/** Closed-loop cells (no `rate`) that did not fail. */
export function isClosedLoopCell(cell: ResultsCell): cell is Cell {
  return isMeasuredCell(cell) && cell.rate == null;
}

/** Open-loop cells (a target `rate`) that did not fail. */
export function isOpenLoopCell(cell: ResultsCell): cell is Cell {
  return isMeasuredCell(cell) && typeof cell.rate === 'number';
}

export function analyzeResults(results: Results, options: AnalyzeOptions = {}): Analysis {
  checkOptions(options);
  const closedLoop = results.cells.filter(isClosedLoopCell);
  const openLoop = results.cells.filter(isOpenLoopCell);
  const workloadDefinitions = results.config.workloadDefinitions;

  const knees: KneeResult[] = groupBy(closedLoop, (cell) => [cell.map, cell.workload, cell.loadFactor]).map((group) => {
    const { map, workload, loadFactor } = group[0];
    const scaling = analyzeScaling(
      group.map((cell) => ({ threads: cell.threads, opsPerSec: cell.opsPerSec.median })),
      options,
    );
    const { note, ...figures } = scaling;
    return { map, workload, loadFactor, ...figures, ...(note === undefined ? {} : { note }) };
  });

  const latencyKnees: LatencyKnee[] = groupBy(openLoop, (cell) => [
    cell.map,
    cell.workload,
    cell.loadFactor,
    cell.threads,
  ]).map((group) => {
    const { map, workload, loadFactor, threads } = group[0];
    const points: LoadPoint[] = group.map((cell) => ({
      offeredOpsPerSec: (cell.rate as number) * cell.threads,
      ratePerThread: cell.rate as number,
      achievedOpsPerSec: achievedTotalOpsPerSec(cell),
      p99Ns: cell.latencyNs.p99,
      ...trialP99s(cell),
      ...machineFloor(cell),
    }));
    return { map, workload, loadFactor, threads, ...latencyKnee(points, options) };
  });

  const relativeOptions = {
    referenceMap: typeof results.config.referenceMap === 'string' ? results.config.referenceMap : null,
    tieMargin: typeof results.config.tieMargin === 'number' ? results.config.tieMargin : undefined,
    placement: placementFilterOf(results.cells),
  };
  const writeFractions: Record<string, FamilyMember> = {};
  for (const cell of results.cells) {
    const member = familyMember(cell.workload, workloadDefinitions);
    if (member !== null) writeFractions[cell.workload] = member;
  }
  const crossovers = findCrossovers(closedLoop, workloadDefinitions);
  const relative = relativeAnswers(results.cells, relativeOptions);
  const winners = groupWinners(results.cells, relativeOptions);
  const findings = buildFindings({
    cells: results.cells,
    winners: winners.length > 0 ? winners : undefined,
    latencyKnees,
    crossovers,
  });
  return {
    knees,
    latencyKnees,
    crossovers,
    writeFractions,
    relative,
    winners,
    runtimes: runtimeAnswers(results.cells, runtimeOrder(results), relativeOptions.tieMargin),
    findings,
  };
}

/**
 * An open-loop cell's achieved throughput over all threads: the harness
 * records `achievedOpsPerSec` per thread (beside the per-thread `rate`); the
 * cell's median ops/s is the same figure summed, and stands in without it.
 */
function achievedTotalOpsPerSec(cell: Cell): number {
  const perThread = cell.achievedOpsPerSec;
  return typeof perThread === 'number' && Number.isFinite(perThread) ? perThread * cell.threads : cell.opsPerSec.median;
}

/** The sweep's runtimes in the order given (--node), the reference first. */
function runtimeOrder(results: Results): string[] {
  const runtimes = results.config.runtimes;
  return Array.isArray(runtimes) ? runtimes.map((runtime) => String((runtime as { node?: unknown }).node)) : [];
}

/**
 * The machine's p99 floor for a cell: the larger of the hiccup meter's p99 (a
 * sleeping thread's wake-up lateness) and the workers' own stall p99 (a
 * spinning thread is time-sliced on a busy machine, which the meter does not see).
 */
function machineFloor(cell: Cell): { hiccupP99Ns?: number } {
  const floors = [cell.hiccupNs?.p99, cell.workerStallNs?.p99].filter(
    (value): value is number => typeof value === 'number' && value > 0,
  );
  return floors.length === 0 ? {} : { hiccupP99Ns: Math.max(...floors) };
}

/** The trials' p99s when every trial has one (files older than the hiccup meter have none). */
function trialP99s(cell: Cell): { trialP99Ns?: number[] } {
  const values = cell.trials.map((trial) => trial.p99Ns);
  return values.length > 0 &&
    values.every((value): value is number => typeof value === 'number' && Number.isFinite(value))
    ? { trialP99Ns: values }
    : {};
}

function checkOptions(options: AnalyzeOptions): void {
  const check = (name: string, value: number | undefined, ok: (value: number) => boolean, allowed: string) => {
    if (value !== undefined && !(Number.isFinite(value) && ok(value)))
      throw new RangeError(`${name} must be ${allowed}, got ${value}`);
  };
  check('sensitivity', options.sensitivity, (value) => value > 0, 'a number > 0');
  check('flatTolerance', options.flatTolerance, (value) => value >= 0 && value < 1, 'a fraction 0..1');
  check('latencyFlatRatio', options.latencyFlatRatio, (value) => value >= 1, 'a ratio ≥ 1');
  check('kneeRatio', options.kneeRatio, (value) => value > 1, 'a ratio > 1');
}

/** Groups in order of first appearance, so the analysis lists maps and workloads as the sweep ran them. */
function groupBy(cells: readonly Cell[], key: (cell: Cell) => unknown[]): Cell[][] {
  const groups = new Map<string, Cell[]>();
  for (const cell of cells) {
    const id = JSON.stringify(key(cell));
    const group = groups.get(id);
    if (group) group.push(cell);
    else groups.set(id, [cell]);
  }
  return [...groups.values()];
}
