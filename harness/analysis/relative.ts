/**
 * Relative answers: how much faster is map A than map B in one comparison
 * group (same workload, threads, load factor, rate, runtime), with its own
 * uncertainty — and so, which map wins, or that it is a tie.
 *
 * Each answer comes from paired trials: trial r of A and trial r of B were
 * measured side by side in the same round of an interleaved sweep
 * (harness/run/schedule.ts), so a slow spell of the machine that hits both cancels
 * in their ratio. The ratio is the median of the pairs' ratios with the
 * median's 95% CI on the log scale (harness/results/stats.ts pairedRatio): robust to
 * the one pair a spell hit on one side only. The rate
 * compared is each trial's quiet rate when every trial has one (closed loop:
 * the p90 of 10 ms slice rates, the undisturbed rate), else its ops/s.
 *
 * A verdict names a winner only when the CI excludes 1 and the ratio is
 * beyond the tie margin (default 3%: differences smaller than that are not
 * stable from run to run on shared machines, EVIDENCE.md "Noise on shared
 * machines"); otherwise 'tie'. Fewer than MIN_PAIRS pairs: 'undetermined'.
 *
 * Placement (EVIDENCE.md, "vCPU placement"): at 2+ threads a pair in which
 * either trial's handoff reading lies off the run's usual vCPU placement is
 * left out, as long as MIN_PAIRS pairs remain, so that a run's multi-thread
 * answers are those of one placement rather than of the mix it happened to
 * get (shared maps move 1.3–14× between placements, each by its own factor).
 */
import {
  comparisonGroups,
  comparisonKey,
  DEFAULT_REMEASURE_RULE,
  placementOf,
  readingPlacement,
  type Placement,
} from '../run/schedule.js';
import { pairedRatio, type PairedRatio } from '../results/stats.js';
import { isMeasuredCell, runtimeLabel, type Cell, type ResultsCell } from '../results/results.js';
import type { GroupWinner, RelativeAnswer, RelativeVerdict, RuntimeAnswer } from './types.js';

export type { GroupWinner, RelativeAnswer, RelativeVerdict, RuntimeAnswer } from './types.js';

export const MIN_PAIRS = 3;
export const DEFAULT_TIE_MARGIN = 0.03;
export const DEFAULT_REFERENCE_MAP = 'rwmutex';

export interface RelativeOptions {
  referenceMap?: string | null;
  tieMargin?: number;
  /** The run's vCPU placements (placementFilterOf): multi-thread pairs off the usual one are left out. */
  placement?: PlacementFilter | null;
}

/** What pairing needs of a run's placements. */
export interface PlacementFilter {
  placement: Placement;
  unclassifiedNs: number;
}

/**
 * The placement filter of a run, from its trials' own handoff readings
 * (harness/run/sweep.ts records one per trial) under today's rule
 * (schedule.ts placementOf), or null when the run has none. Computed here
 * rather than read from the drift record, so files written under an older
 * rule are judged as new ones are.
 */
export function placementFilterOf(cells: readonly ResultsCell[]): PlacementFilter | null {
  const readings = measured(cells).flatMap((cell) =>
    cell.trials.map((trial) => trial.handoffNs).filter((ns): ns is number => typeof ns === 'number'),
  );
  const placement = placementOf(readings, DEFAULT_REMEASURE_RULE);
  return placement === null ? null : { placement, unclassifiedNs: DEFAULT_REMEASURE_RULE.unclassifiedNs };
}

/** Measured cells only (no error), as the comparison groups see them. */
function measured(cells: readonly ResultsCell[]): Cell[] {
  return cells.filter(isMeasuredCell).filter((cell) => Array.isArray(cell.trials) && cell.trials.length > 0);
}

/** The comparison group of a cell, runtime included ('workload|tN|lfX|closed|v24.21.0'): cells with one key are compared. */
export function comparisonGroupKey(cell: Cell): string {
  return `${comparisonKey(cell)}|${runtimeLabel(cell)}`;
}

/** Group key including the runtime, so cells of different runtimes are never paired. */
function groups(cells: readonly ResultsCell[]): Cell[][] {
  const byRuntime = new Map<string, Cell[]>();
  for (const cell of measured(cells)) {
    const key = runtimeLabel(cell);
    byRuntime.set(key, [...(byRuntime.get(key) ?? []), cell]);
  }
  return [...byRuntime.values()].flatMap((runtimeCells) => comparisonGroups(runtimeCells));
}

/** The rate of a trial on the metric both cells share. */
function metricOf(a: Cell, b: Cell): 'quietOpsPerSec' | 'opsPerSec' {
  const hasQuiet = (cell: Cell): boolean =>
    cell.trials.every((trial) => typeof trial.quietOpsPerSec === 'number' && trial.quietOpsPerSec > 0);
  return hasQuiet(a) && hasQuiet(b) ? 'quietOpsPerSec' : 'opsPerSec';
}

/**
 * a ÷ b from the trials measured in the same round; null when they share
 * none. Only trials that record their round (interleaved sweeps) pair: two
 * trials that merely share a position were not necessarily measured side by
 * side, so files without rounds get no relative answers at all.
 */
export function pairCells(
  a: Cell,
  b: Cell,
  placement: PlacementFilter | null = null,
): (PairedRatio & { metric: 'quietOpsPerSec' | 'opsPerSec' }) | null {
  const metric = metricOf(a, b);
  const byRound = new Map(
    b.trials.filter((trial) => typeof trial.round === 'number').map((trial) => [trial.round, trial]),
  );
  const pairs: Array<{ x: number; y: number; usual: boolean }> = [];
  // Only a reading in the other placement rules a trial out; an unclassified one says nothing.
  const usual = (handoffNs: number | undefined): boolean =>
    placement === null ||
    a.threads < 2 ||
    typeof handoffNs !== 'number' ||
    readingPlacement(handoffNs, placement.placement, placement) !== 'other';
  a.trials.forEach((trial) => {
    if (typeof trial.round !== 'number') return;
    const partner = byRound.get(trial.round);
    const x = trial[metric];
    const y = partner?.[metric];
    if (typeof x === 'number' && typeof y === 'number' && x > 0 && y > 0) {
      pairs.push({ x, y, usual: usual(trial.handoffNs) && usual(partner?.handoffNs) });
    }
  });
  if (pairs.length === 0) return null;
  const inPlacement = pairs.filter((pair) => pair.usual);
  const kept = inPlacement.length >= MIN_PAIRS ? inPlacement : pairs;
  return {
    ...pairedRatio(
      kept.map((pair) => pair.x),
      kept.map((pair) => pair.y),
    ),
    metric,
  };
}

/** faster / slower / tie / undetermined for a ratio a ÷ b. */
export function verdictOf(ratio: PairedRatio, tieMargin = DEFAULT_TIE_MARGIN): RelativeVerdict {
  if (ratio.pairs < MIN_PAIRS) return 'undetermined';
  if (ratio.ciLow > 1 && ratio.ratio > 1 + tieMargin) return 'faster';
  if (ratio.ciHigh < 1 && ratio.ratio < 1 / (1 + tieMargin)) return 'slower';
  return 'tie';
}

/** The reference map of a results file: the configured one, else rwmutex if present, else the first shared map. */
export function chooseReference(cells: readonly ResultsCell[], configured?: string | null): string | null {
  const maps = [...new Set(measured(cells).map((cell) => cell.map))];
  if (configured && maps.includes(configured)) return configured;
  if (maps.includes(DEFAULT_REFERENCE_MAP)) return DEFAULT_REFERENCE_MAP;
  return measured(cells).find((cell) => !cell.private)?.map ?? maps[0] ?? null;
}

function identity(cell: Cell): Pick<RelativeAnswer, 'workload' | 'threads' | 'loadFactor' | 'rate' | 'runtime'> {
  const runtime = runtimeLabel(cell);
  return {
    workload: cell.workload,
    threads: cell.threads,
    loadFactor: cell.loadFactor,
    ...(typeof cell.rate === 'number' ? { rate: cell.rate } : {}),
    ...(runtime === '' ? {} : { runtime }),
  };
}

const rounded = (ratio: PairedRatio): { median: number; ciLow: number; ciHigh: number } => ({
  median: round4(ratio.ratio),
  ciLow: round4(ratio.ciLow),
  ciHigh: round4(ratio.ciHigh),
});
const round4 = (value: number): number => Math.round(value * 1e4) / 1e4;

/** Every measured map against the reference, per comparison group. */
export function relativeAnswers(cells: readonly ResultsCell[], options: RelativeOptions = {}): RelativeAnswer[] {
  const reference = chooseReference(cells, options.referenceMap);
  if (reference === null) return [];
  const answers: RelativeAnswer[] = [];
  for (const group of groups(cells)) {
    const base = group.find((cell) => cell.map === reference);
    if (!base) continue;
    for (const cell of group) {
      if (cell === base) continue;
      const ratio = pairCells(cell, base, options.placement ?? null);
      if (ratio === null) continue;
      answers.push({
        ...identity(cell),
        reference,
        map: cell.map,
        ratio: rounded(ratio),
        pairs: ratio.pairs,
        metric: ratio.metric,
        verdict: verdictOf(ratio, options.tieMargin),
      });
    }
  }
  return answers;
}

/**
 * The winner of each comparison group among its shared maps (a private
 * js-map is the no-sharing ceiling, not a contender): the map with the highest
 * paired score leads; it wins if it is 'faster' than every other shared map,
 * and ties with those it is not.
 */
export function groupWinners(cells: readonly ResultsCell[], options: RelativeOptions = {}): GroupWinner[] {
  const winners: GroupWinner[] = [];
  for (const group of groups(cells)) {
    const contenders = group.filter((cell) => !cell.private);
    if (contenders.length === 0) continue;
    const anchor = contenders[0];
    // Score each contender by its paired ratio to one anchor, so the ranking itself is drift-free.
    const scored = contenders
      .map((cell) => ({
        cell,
        score: cell === anchor ? 1 : (pairCells(cell, anchor, options.placement ?? null)?.ratio ?? Number.NaN),
      }))
      .filter((item) => Number.isFinite(item.score))
      .sort((a, b) => b.score - a.score);
    // Without paired trials there is no answer for the group (the reports then rank by median and say so).
    if (scored.length <= 1) continue;
    const unpaired = scored.length < contenders.length;
    const leader = scored[0].cell;
    const versus = scored
      .slice(1)
      .map(({ cell }) => ({ cell, ratio: pairCells(leader, cell, options.placement ?? null) }));
    const tiedWith = versus
      .filter(({ ratio }) => ratio === null || verdictOf(ratio, options.tieMargin) !== 'faster')
      .map(({ cell }) => cell.map);
    const runnerUp = versus[0] ?? null;
    const pairs = Math.min(...versus.map(({ ratio }) => ratio?.pairs ?? 0), leader.trials.length);
    const undetermined = unpaired || versus.some(({ ratio }) => ratio === null || ratio.pairs < MIN_PAIRS);
    winners.push({
      ...identity(leader),
      leader: leader.map,
      verdict: undetermined ? 'undetermined' : tiedWith.length === 0 ? 'winner' : 'tie',
      tiedWith,
      margin: runnerUp?.ratio ? rounded(runnerUp.ratio) : null,
      runnerUp: runnerUp?.cell.map ?? null,
      pairs,
    });
  }
  return winners;
}

/** One pair of maps of one comparison group; `key` is `${group}|${a}|${b}`. */
export interface PairwiseAnswer {
  key: string;
  group: string;
  a: string;
  b: string;
  ratio: PairedRatio;
  verdict: RelativeVerdict;
}

/** Every pair of maps (a before b in the group's order) with its paired ratio a ÷ b: what `maplab repeatability` compares. */
export function pairwiseAnswers(cells: readonly ResultsCell[], options: RelativeOptions = {}): Array<PairwiseAnswer> {
  const answers: PairwiseAnswer[] = [];
  for (const group of groups(cells)) {
    const sorted = [...group].sort((x, y) => (x.map < y.map ? -1 : x.map > y.map ? 1 : 0));
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const ratio = pairCells(sorted[i], sorted[j], options.placement ?? null);
        if (ratio === null) continue;
        const group = comparisonGroupKey(sorted[i]);
        answers.push({
          key: `${group}|${sorted[i].map}|${sorted[j].map}`,
          group,
          a: sorted[i].map,
          b: sorted[j].map,
          ratio,
          verdict: verdictOf(ratio, options.tieMargin),
        });
      }
    }
  }
  return answers;
}

/**
 * The runtime comparison (sweeps with --node): each cell under every other
 * runtime ÷ the same cell under the reference runtime (the first of
 * `runtimeOrder`, else the first seen), from trials paired by round: the
 * runtimes' trials of one round ran side by side in the same visit.
 */
export function runtimeAnswers(
  cells: readonly ResultsCell[],
  runtimeOrder: readonly string[] = [],
  tieMargin = DEFAULT_TIE_MARGIN,
): RuntimeAnswer[] {
  const withRuntime = measured(cells).filter((cell) => runtimeLabel(cell) !== '');
  const bySeries = new Map<string, Cell[]>();
  for (const cell of withRuntime) {
    const key = `${cell.map}|${cell.workload}|${cell.threads}|${cell.loadFactor}|${cell.rate ?? 'closed'}`;
    bySeries.set(key, [...(bySeries.get(key) ?? []), cell]);
  }
  const answers: RuntimeAnswer[] = [];
  for (const series of bySeries.values()) {
    const ranked = [...series].sort(
      (a, b) => rank(runtimeOrder, runtimeLabel(a)) - rank(runtimeOrder, runtimeLabel(b)),
    );
    const [reference, ...others] = ranked;
    for (const cell of others) {
      const ratio = pairCells(cell, reference);
      if (ratio === null) continue;
      const { runtime: _runtime, ...where } = identity(cell);
      answers.push({
        ...where,
        map: cell.map,
        runtime: runtimeLabel(cell),
        referenceRuntime: runtimeLabel(reference),
        ratio: rounded(ratio),
        pairs: ratio.pairs,
        metric: ratio.metric,
        verdict: verdictOf(ratio, tieMargin),
      });
    }
  }
  return answers;
}

function rank(order: readonly string[], runtime: string): number {
  const index = order.indexOf(runtime);
  return index === -1 ? order.length : index;
}
