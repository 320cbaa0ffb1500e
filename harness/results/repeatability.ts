/**
 * Do two runs of the same sweep give the same answers? `maplab repeatability
 * a.json b.json` compares two results files cell by cell and answer by
 * answer, so a user can check their own machine (EVIDENCE.md, "Noise on
 * shared machines"):
 *
 * - cells: how many agree within 10%, how many 95% CIs overlap, the CI
 *   half-widths, and the change of each cell's median between the runs;
 * - ratios: for every pair of maps in every comparison group, how much the
 *   ratio A ÷ B moved between the runs, |ln(r1 / r2)| reported as a percent
 *   (exp − 1): once for the paired ratio the lab answers with
 *   (harness/analysis/relative.ts) and once for the plain ratio of the two
 *   cells' medians;
 * - winners: pairs whose verdicts are opposite (one run says A is faster, the
 *   other that B is), pairs where one run names a winner and the other run's
 *   point estimate points the other way, and comparison groups whose winner
 *   differs;
 * - by threads: the paired-ratio changes per thread count, oversubscribed
 *   counts (more threads than cores) marked: there two threads share each
 *   vCPU, and how the scheduler interleaves them moves a trial by ±30–50%
 *   (EVIDENCE.md, "A second host"), so the spread of the whole lives there;
 * - placement: each run's usual cache-line handoff time (harness/run/placement.ts).
 *   Runs whose vCPUs sat differently on the host (2× or more apart) give
 *   different answers at 2+ threads for a reason outside the maps, and the
 *   report says so;
 * - slow spells: each run's drift-sentinel range and the disturbed visits it
 *   kept once its re-measure budget was spent (harness/run/schedule.ts): a
 *   run that kept many measured much of its time in a slow spell.
 */
import { quantile } from 'simple-statistics';
import {
  comparisonGroupKey,
  groupWinners,
  pairwiseAnswers,
  placementFilterOf,
  type RelativeOptions,
} from '../analysis/relative.js';
import { cellKey } from '../run/cell.js';
import { DEFAULT_REMEASURE_RULE } from '../run/schedule.js';
import { isMeasuredCell, type Cell, type Results, type ResultsCell } from './results.js';

export interface ChangeFigures {
  compared: number;
  /** Median and p90 of the change, percent. */
  medianPct: number | null;
  p90Pct: number | null;
  maxPct: number | null;
}

export interface RepeatabilityReport {
  cells: ChangeFigures & { within10Pct: number; ciOverlap: number; ciHalfWidthMedianPct: number | null; ciHalfWidthMaxPct: number | null };
  pairedRatios: ChangeFigures;
  medianRatios: ChangeFigures;
  verdicts: {
    pairs: number;
    /** Pairs either run calls faster or slower (not a tie). */
    decidedInEither: number;
    /** One run: A faster; the other: A slower. */
    opposite: number;
    /** One run decided; the other's point estimate is on the other side of 1. */
    againstPointEstimate: number;
  };
  winners: { groups: number; bothNamed: number; differ: number; details: string[] };
  /** Each run's usual handoff time, ns (null: not recorded); `differ` when PLACEMENT_SPLIT or more apart. */
  placement: { first: number | null; second: number | null; differ: boolean };
  /** Paired-ratio changes per thread count, ascending; `oversubscribed` when that count exceeds the cores. */
  byThreads: Array<ChangeFigures & { threads: number; oversubscribed: boolean }>;
  /** Each run's slow spells as its sweep recorded them (null: not an interleaved sweep). */
  drift: { first: DriftFigures | null; second: DriftFigures | null };
  /** The largest paired-ratio changes, for a look. */
  largest: Array<{ key: string; first: number; second: number; changePct: number }>;
}

export interface DriftFigures {
  /** The lowest drift-sentinel reading ÷ the run's reference (its best level). */
  sentinelLowest: number | null;
  /** Visits measured again because they were disturbed, and disturbed visits kept once the budget was spent. */
  remeasuredVisits: number;
  disturbedVisitsKept: number;
  visits: number;
}

/** A run's slow spells from its `sweep.drift` record (harness/run/sweep.ts), or null when it has none. */
function driftFigures(results: Results): DriftFigures | null {
  const drift = (results.sweep as { drift?: Record<string, unknown> } | undefined)?.drift;
  if (drift === undefined || typeof drift.visits !== 'number') return null;
  const sentinel = drift.sentinel as { referenceOpsPerSec?: number; minOpsPerSec?: number } | null;
  const lowest =
    sentinel && typeof sentinel.minOpsPerSec === 'number' && typeof sentinel.referenceOpsPerSec === 'number' && sentinel.referenceOpsPerSec > 0
      ? Math.round((sentinel.minOpsPerSec / sentinel.referenceOpsPerSec) * 100) / 100
      : null;
  return {
    sentinelLowest: lowest,
    remeasuredVisits: Number(drift.remeasuredVisits ?? 0),
    disturbedVisitsKept: Number(drift.disturbedVisitsKept ?? 0),
    visits: drift.visits,
  };
}

/** Two runs' usual handoff times this far apart (either way) count as different placements (the re-measure rule's split). */
const PLACEMENT_SPLIT = DEFAULT_REMEASURE_RULE.placementSplit;

/** A run's usual handoff time from its trials' readings (placementFilterOf), or null. */
function usualHandoffNs(results: Results): number | null {
  const usualNs = placementFilterOf(results.cells)?.placement.usualNs;
  return usualNs === undefined ? null : Math.round(usualNs);
}

const percent = (logChange: number): number => (Math.exp(Math.abs(logChange)) - 1) * 100;
const round1 = (value: number): number => Math.round(value * 10) / 10;

function figures(changesPct: number[]): ChangeFigures {
  if (changesPct.length === 0) return { compared: 0, medianPct: null, p90Pct: null, maxPct: null };
  return {
    compared: changesPct.length,
    medianPct: round1(quantile(changesPct, 0.5)),
    p90Pct: round1(quantile(changesPct, 0.9)),
    maxPct: round1(Math.max(...changesPct)),
  };
}

const measured = (cells: readonly ResultsCell[]): Cell[] => cells.filter(isMeasuredCell).filter((cell) => cell.trials?.length > 0);

export function repeatability(first: Results, second: Results, options: RelativeOptions = {}): RepeatabilityReport {
  const a = new Map(measured(first.cells).map((cell) => [cellKey(cell), cell]));
  const b = new Map(measured(second.cells).map((cell) => [cellKey(cell), cell]));

  const cellChanges: number[] = [];
  const halfWidths: number[] = [];
  let within10 = 0;
  let overlap = 0;
  for (const [key, cellA] of a) {
    const cellB = b.get(key);
    if (cellB === undefined) continue;
    const x = cellA.opsPerSec;
    const y = cellB.opsPerSec;
    const change = percent(Math.log(x.median / y.median));
    cellChanges.push(change);
    if (change <= 10) within10++;
    if (x.ciLow <= y.ciHigh && y.ciLow <= x.ciHigh) overlap++;
    for (const ci of [x, y]) halfWidths.push((Math.max(ci.median - ci.ciLow, ci.ciHigh - ci.median) / ci.median) * 100);
  }

  const byMap = (cells: Map<string, Cell>): Map<string, Cell> => new Map([...cells.values()].map((cell) => [`${comparisonGroupKey(cell)}|${cell.map}`, cell]));
  const byMapA = byMap(a);
  const byMapB = byMap(b);
  // Each run's answers as its analysis gives them: multi-thread pairs in its own usual placement.
  const optionsA = { placement: placementFilterOf(first.cells), ...options };
  const optionsB = { placement: placementFilterOf(second.cells), ...options };
  const pairsA = new Map(pairwiseAnswers(first.cells, optionsA).map((answer) => [answer.key, answer]));
  const pairsB = new Map(pairwiseAnswers(second.cells, optionsB).map((answer) => [answer.key, answer]));
  const pairedChanges: Array<{ key: string; first: number; second: number; changePct: number }> = [];
  const changesByThreads = new Map<number, { oversubscribed: boolean; changes: number[] }>();
  const medianChanges: number[] = [];
  const verdicts = { pairs: 0, decidedInEither: 0, opposite: 0, againstPointEstimate: 0 };
  const decided = (verdict: string): boolean => verdict === 'faster' || verdict === 'slower';
  for (const [key, x] of pairsA) {
    const y = pairsB.get(key);
    if (!y) continue;
    verdicts.pairs++;
    const changePct = round1(percent(Math.log(x.ratio.ratio / y.ratio.ratio)));
    pairedChanges.push({ key, first: x.ratio.ratio, second: y.ratio.ratio, changePct });
    const group = x.group;
    const [a1, b1, a2, b2] = [byMapA.get(`${group}|${x.a}`), byMapA.get(`${group}|${x.b}`), byMapB.get(`${group}|${x.a}`), byMapB.get(`${group}|${x.b}`)];
    if (a1) {
      const entry = changesByThreads.get(a1.threads) ?? { oversubscribed: a1.oversubscribed === true, changes: [] };
      entry.changes.push(changePct);
      changesByThreads.set(a1.threads, entry);
    }
    if (a1 && b1 && a2 && b2) {
      medianChanges.push(percent(Math.log((a1.opsPerSec.median / b1.opsPerSec.median) / (a2.opsPerSec.median / b2.opsPerSec.median))));
    }
    if (decided(x.verdict) || decided(y.verdict)) verdicts.decidedInEither++;
    if (decided(x.verdict) && decided(y.verdict) && x.verdict !== y.verdict) verdicts.opposite++;
    const side = (ratio: number): number => Math.sign(Math.log(ratio));
    if ((decided(x.verdict) && side(y.ratio.ratio) !== side(x.ratio.ratio)) || (decided(y.verdict) && side(x.ratio.ratio) !== side(y.ratio.ratio))) {
      verdicts.againstPointEstimate++;
    }
  }

  const winnerKey = (winner: { workload: string; threads: number; loadFactor: number; rate?: number; runtime?: string }): string =>
    `${winner.workload}|t${winner.threads}|lf${winner.loadFactor}|${winner.rate ?? 'closed'}|${winner.runtime ?? ''}`;
  const winnersB = new Map(groupWinners(second.cells, optionsB).map((winner) => [winnerKey(winner), winner]));
  const winners = { groups: 0, bothNamed: 0, differ: 0, details: [] as string[] };
  for (const x of groupWinners(first.cells, optionsA)) {
    const y = winnersB.get(winnerKey(x));
    if (!y) continue;
    winners.groups++;
    if (x.verdict === 'winner' && y.verdict === 'winner') {
      winners.bothNamed++;
      if (x.leader !== y.leader) {
        winners.differ++;
        winners.details.push(`${winnerKey(x)}: ${x.leader} vs ${y.leader}`);
      }
    } else if (x.verdict === 'winner' || y.verdict === 'winner') {
      const [named, other] = x.verdict === 'winner' ? [x, y] : [y, x];
      // A named winner that the other run does not even count among its leaders is a disagreement too.
      if (other.leader !== named.leader && !other.tiedWith.includes(named.leader as string)) {
        winners.differ++;
        winners.details.push(`${winnerKey(x)}: ${named.leader} named in one run, not a leader in the other`);
      }
    }
  }

  const handoffs = [usualHandoffNs(first), usualHandoffNs(second)] as const;
  const placement = {
    first: handoffs[0],
    second: handoffs[1],
    differ:
      handoffs[0] !== null && handoffs[1] !== null && Math.max(handoffs[0] / handoffs[1], handoffs[1] / handoffs[0]) >= PLACEMENT_SPLIT,
  };
  return {
    placement,
    cells: {
      ...figures(cellChanges), within10Pct: within10, ciOverlap: overlap,
      ciHalfWidthMedianPct: halfWidths.length === 0 ? null : round1(quantile(halfWidths, 0.5)),
      ciHalfWidthMaxPct: halfWidths.length === 0 ? null : round1(Math.max(...halfWidths)),
    },
    pairedRatios: figures(pairedChanges.map((change) => change.changePct)),
    medianRatios: figures(medianChanges),
    verdicts,
    winners,
    byThreads: [...changesByThreads]
      .sort(([x], [y]) => x - y)
      .map(([threads, { oversubscribed, changes }]) => ({ threads, oversubscribed, ...figures(changes) })),
    drift: { first: driftFigures(first), second: driftFigures(second) },
    largest: pairedChanges.sort((x, y) => y.changePct - x.changePct).slice(0, 10),
  };
}

function placementLines({ first, second, differ }: RepeatabilityReport['placement']): string[] {
  if (first === null || second === null) return [];
  const line = `vCPU placement: usual cache-line handoff ${Math.round(first)} ns vs ${Math.round(second)} ns`;
  if (!differ) return [`${line} (the same placement)`];
  return [
    `${line}: the runs' vCPUs sat differently on the host, so answers at 2+ threads differ for a reason`,
    '  outside the maps (EVIDENCE.md, "Noise on shared machines"); compare runs of the same placement',
  ];
}

function byThreadsLine(byThreads: RepeatabilityReport['byThreads']): string[] {
  if (byThreads.length < 2) return [];
  const f = (value: number | null): string => (value === null ? '–' : `${value}%`);
  const parts = byThreads.map(
    (entry) => `${entry.threads}t${entry.oversubscribed ? ' (oversubscribed)' : ''} ${f(entry.medianPct)} / ${f(entry.p90Pct)} (${entry.compared})`,
  );
  return [`  by threads, median / p90 (pairs): ${parts.join('; ')}`];
}

function driftLines({ first, second }: RepeatabilityReport['drift']): string[] {
  if (first === null || second === null) return [];
  const one = (figures: DriftFigures): string =>
    `sentinel down to ${figures.sentinelLowest === null ? '–' : `${figures.sentinelLowest}×`} its best, ` +
    `${figures.remeasuredVisits} of ${figures.visits} visits re-measured, ${figures.disturbedVisitsKept} disturbed kept`;
  return [`slow spells: run 1 ${one(first)}; run 2 ${one(second)}`];
}

/** The report as text for the terminal. */
export function renderRepeatability(report: RepeatabilityReport, names: [string, string]): string {
  const f = (value: number | null): string => (value === null ? '–' : `${value}%`);
  const { cells, pairedRatios, medianRatios, verdicts, winners } = report;
  const lines = [
    `repeatability: ${names[0]} vs ${names[1]}`,
    `cells compared: ${cells.compared}; within 10%: ${cells.within10Pct}; 95% CIs overlap: ${cells.ciOverlap}; ` +
      `median change ${f(cells.medianPct)}, p90 ${f(cells.p90Pct)}; CI half-width median ${f(cells.ciHalfWidthMedianPct)}, max ${f(cells.ciHalfWidthMaxPct)}`,
    `map-vs-map ratios (${pairedRatios.compared} pairs of maps): paired ratio change median ${f(pairedRatios.medianPct)}, ` +
      `p90 ${f(pairedRatios.p90Pct)}, max ${f(pairedRatios.maxPct)}`,
    ...byThreadsLine(report.byThreads),
    `  ratio of cell medians: change median ${f(medianRatios.medianPct)}, p90 ${f(medianRatios.p90Pct)}, max ${f(medianRatios.maxPct)}`,
    `verdicts: ${verdicts.decidedInEither} of ${verdicts.pairs} pairs decided in either run; opposite verdicts: ${verdicts.opposite}; ` +
      `a decided verdict against the other run's point estimate: ${verdicts.againstPointEstimate}`,
    `group winners: ${winners.groups} groups, named in both: ${winners.bothNamed}, disagreeing: ${winners.differ}`,
    ...winners.details.map((detail) => `  ${detail}`),
    ...placementLines(report.placement),
    ...driftLines(report.drift),
    'largest paired-ratio changes:',
    ...report.largest.map((change) => `  ${change.key}: ${change.first.toFixed(3)} → ${change.second.toFixed(3)} (${change.changePct}%)`),
  ];
  return `${lines.join('\n')}\n`;
}
