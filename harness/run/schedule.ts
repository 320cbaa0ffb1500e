/**
 * The order in which an interleaved sweep measures trials, and which trials it
 * measures again. Pure functions: harness/run/sweep.ts runs what they plan.
 *
 * Why this shape (EVIDENCE.md, "Noise on shared machines"): trials inside one cell
 * agree to a few percent, but the level of the machine moves by tens of
 * percent over seconds to minutes. What the lab answers is relative (map A vs
 * map B), so the trials being compared are measured next to each other:
 *
 * - A comparison group is the cells that differ only by map: same workload,
 *   threads, load factor and rate. A *visit* runs one trial of every map of a
 *   group back to back, after one drift-sentinel reading; trial r of map A and
 *   trial r of map B are then a pair, seconds apart.
 * - Round r visits every group once. Groups are visited in a rotated order
 *   and the maps inside a group in a rotated order, so no map always goes
 *   first and no group always follows the same neighbour.
 * - Rounds are split over pool generations: all pools are closed and started
 *   afresh between generations, so a cell's trials come from more than one
 *   set of worker threads (fresh JIT state, fresh thread placement); a
 *   pool-level mode then shows as spread in the cell's CI instead of hiding
 *   in it.
 * - After the rounds, a visit whose sentinel reading was far below the run's
 *   undisturbed level, or in which a worker waited on a run queue for a
 *   noticeable part of its window, or (2+ threads) whose cache-line handoff
 *   readings mostly show the vCPUs placed otherwise than for most of the run
 *   (harness/run/placement.ts), is measured again (worst first, within a
 *   budget), and the better-looking visit is kept.
 */
import { quantile } from 'simple-statistics';
import { formatNs } from '../../reports/format.js';

/** Cells compared with one another: same workload, threads, load factor and rate. */
export function comparisonKey(cell: {
  workload: string;
  threads: number;
  loadFactor: number;
  rate?: number | null;
}): string {
  return `${cell.workload}|t${cell.threads}|lf${cell.loadFactor}|${cell.rate == null ? 'closed' : `rate${cell.rate}`}`;
}

/**
 * Items grouped by comparisonKey (or `keyOf`: `--rates auto` groups its series by step), groups and members in
 * order of first appearance.
 */
export function comparisonGroups<T extends Parameters<typeof comparisonKey>[0]>(items: readonly T[]): T[][];
export function comparisonGroups<T>(items: readonly T[], keyOf: (item: T) => string): T[][];
export function comparisonGroups<T>(items: readonly T[], keyOf?: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf === undefined ? comparisonKey(item as Parameters<typeof comparisonKey>[0]) : keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}

/** `items` rotated left by `by` (mod length). */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const shift = ((by % items.length) + items.length) % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/**
 * Round r's visits: the groups rotated by r × a stride (so that over the
 * rounds each group starts at a different place in the pass), each group's
 * members rotated by r (each map leads once every `members` rounds).
 * `group` is the group's index in `groups`.
 */
export function roundVisits<T>(
  groups: readonly (readonly T[])[],
  round: number,
  rounds: number,
): Array<{ group: number; members: T[] }> {
  const stride = Math.max(1, Math.floor(groups.length / Math.max(1, rounds)));
  const indexed = groups.map((members, group) => ({ group, members }));
  return rotate(indexed, round * stride).map(({ group, members }) => ({ group, members: rotate(members, round) }));
}

/** The pool generation of round r when `rounds` rounds are split into `generations` contiguous blocks. */
export function poolGeneration(round: number, rounds: number, generations: number): number {
  const blocks = Math.max(1, Math.min(generations, rounds));
  return Math.min(blocks - 1, Math.floor((round * blocks) / rounds));
}

/** What the re-measure rule looks at in one visit. */
export interface VisitHealth {
  /** The sentinel's quiet rate at the visit, ops/s; null without a sentinel. */
  sentinelOpsPerSec: number | null;
  /** The largest run-queue wait share of any worker in any of the visit's trials; null off Linux. */
  runqueueWaitFraction: number | null;
  /** The placement sentinel's readings around (and, 2+ threads, inside) the visit, ns (harness/run/placement.ts); [] without. */
  handoffNs: readonly number[];
  /** The visit's thread count: the vCPUs' placement is judged only where threads share lines (2 or more). */
  threads: number;
}

export interface RemeasureRule {
  /** A visit whose sentinel is below this fraction of the run's undisturbed level is disturbed (0..1). */
  sentinelFloor: number;
  /** A visit in which a worker waited on a run queue for more than this share of its window is disturbed (0..1). */
  runqueueCeiling: number;
  /**
   * The run's handoff readings form two placements when their two clusters
   * (on a log scale) are at least this factor apart (> 1); a multi-thread
   * visit whose readings mostly lie in the placement the run spent less time in
   * is disturbed.
   */
  placementSplit: number;
  /**
   * A handoff reading at or above this, ns, is unclassified: the two probe
   * threads hardly ran at once (a vCPU not running, or a GC helper of the
   * last trial holding a core through the reading). Such readings tell
   * nothing of the placement and are left out of every judgement.
   */
  unclassifiedNs: number;
  /** At most this fraction of the visits is measured again (0..1). */
  budgetFraction: number;
}

export const DEFAULT_REMEASURE_RULE: RemeasureRule = {
  sentinelFloor: 0.85,
  runqueueCeiling: 0.05,
  placementSplit: 2,
  unclassifiedNs: 1000,
  budgetFraction: 0.15,
};
/** The run's undisturbed sentinel level: this quantile of its readings (the best one alone could be a fluke). */
export const SENTINEL_REFERENCE_QUANTILE = 0.9;

/**
 * Where a run's vCPUs sat (harness/run/placement.ts): on this machine kind the
 * handoff readings cluster at ~60–120 ns (close) and ~230–300 ns (apart), and
 * a placement holds for a minute or more with single stray readings in
 * between (EVIDENCE.md, "vCPU placement").
 */
export interface Placement {
  /** The centre (geometric mean) of the cluster holding most readings, ns. */
  usualNs: number;
  /** The other cluster's centre, ns; null when the readings form one placement. */
  otherNs: number | null;
  /** Readings below this belong to the lower cluster (geometric mean of the centres), ns; null with one placement. */
  boundaryNs: number | null;
}

/** The levels a run's visits are judged against; null where the run has no readings. */
export interface RunLevels {
  /** The undisturbed sentinel level, ops/s (sentinelReference). */
  sentinelOpsPerSec: number | null;
  /** The run's placements (placementOf). */
  placement: Placement | null;
}

/** The undisturbed sentinel level of a run, or null without readings. */
export function sentinelReference(readings: readonly (number | null)[]): number | null {
  const values = readings.filter((value): value is number => value !== null && Number.isFinite(value));
  return values.length === 0 ? null : quantile(values, SENTINEL_REFERENCE_QUANTILE);
}

/** The least share of a run's classified readings that makes a second placement (5%: ~20 of a quick sweep's). */
const MIN_PLACEMENT_SHARE = 0.05;

/**
 * The run's placements from its handoff readings (those below unclassifiedNs):
 * two clusters of log(ns) by 1-D 2-means, kept as two placements when their
 * centres are `placementSplit` apart and the smaller holds at least 5% of
 * the readings (and 3), else one (its centre the median).
 * Neither placement is "right" (users deploy on both): the run answers for the
 * one it spent most readings in, and a visit in the other is measured again.
 */
export function placementOf(
  readings: readonly number[],
  rule: Pick<RemeasureRule, 'placementSplit' | 'unclassifiedNs'> = DEFAULT_REMEASURE_RULE,
): Placement | null {
  const logs = readings
    .filter((ns) => Number.isFinite(ns) && ns > 0 && ns < rule.unclassifiedNs)
    .map(Math.log)
    .sort((x, y) => x - y);
  if (logs.length === 0) return null;
  const single: Placement = { usualNs: Math.exp(quantile(logs, 0.5)), otherNs: null, boundaryNs: null };
  if (logs.length < 2) return single;
  // 1-D 2-means on sorted values: the split minimising the within-cluster sum of squares.
  const prefix = [0];
  const prefixSquares = [0];
  for (const value of logs) {
    prefix.push(prefix[prefix.length - 1] + value);
    prefixSquares.push(prefixSquares[prefixSquares.length - 1] + value * value);
  }
  const cost = (from: number, to: number): number => {
    const n = to - from;
    const sum = prefix[to] - prefix[from];
    return prefixSquares[to] - prefixSquares[from] - (sum * sum) / n;
  };
  let best = 1;
  for (let split = 2; split < logs.length; split++) {
    if (cost(0, split) + cost(split, logs.length) < cost(0, best) + cost(best, logs.length)) best = split;
  }
  const low = (prefix[best] - prefix[0]) / best;
  const high = (prefix[logs.length] - prefix[best]) / (logs.length - best);
  // A handful of readings is not a placement: the smaller cluster must hold MIN_PLACEMENT_SHARE of them.
  const smaller = Math.min(best, logs.length - best);
  if (Math.exp(high - low) < rule.placementSplit || smaller < Math.max(3, MIN_PLACEMENT_SHARE * logs.length)) {
    return single;
  }
  const lowIsUsual = best >= logs.length - best;
  return {
    usualNs: Math.exp(lowIsUsual ? low : high),
    otherNs: Math.exp(lowIsUsual ? high : low),
    boundaryNs: Math.exp((low + high) / 2),
  };
}

/** Which placement a reading shows: the run's usual one, the other one, or none (unclassified). */
export function readingPlacement(
  ns: number,
  placement: Placement,
  rule: Pick<RemeasureRule, 'unclassifiedNs'> = DEFAULT_REMEASURE_RULE,
): 'usual' | 'other' | 'unclassified' {
  if (!(ns > 0) || ns >= rule.unclassifiedNs) return 'unclassified';
  if (placement.boundaryNs === null || placement.otherNs === null) return 'usual';
  return ns < placement.boundaryNs === placement.usualNs < placement.boundaryNs ? 'usual' : 'other';
}

/** The levels of a run from its visits' health. */
export function runLevels(visits: readonly VisitHealth[], rule: RemeasureRule = DEFAULT_REMEASURE_RULE): RunLevels {
  return {
    sentinelOpsPerSec: sentinelReference(visits.map((visit) => visit.sentinelOpsPerSec)),
    placement: placementOf(
      visits.flatMap((visit) => visit.handoffNs),
      rule,
    ),
  };
}

/**
 * Why a multi-thread visit's placement disturbs it, or null: most of its
 * classified readings (around and inside it) in the run's other placement.
 * A stray reading among usual ones does not count: single readings are
 * noisier than the placement, and a placement lasts a minute or more.
 */
export function placementTrouble(visit: VisitHealth, levels: RunLevels, rule: RemeasureRule): string | null {
  const placement = levels.placement;
  if (visit.threads < 2 || placement === null) return null;
  const kinds = visit.handoffNs.map((ns) => readingPlacement(ns, placement, rule));
  const other = kinds.filter((kind) => kind === 'other').length;
  const usual = kinds.filter((kind) => kind === 'usual').length;
  if (other === 0 || other <= usual) return null;
  const readings = visit.handoffNs.map(wholeNs).join(', ');
  return `the vCPUs sat otherwise than for most of the run (handoff ${readings}; usual ${wholeNs(placement.usualNs)})`;
}

/** A handoff time for a message, to the nanosecond ("61 ns", "900 µs"). */
const wholeNs = (ns: number): string => formatNs(Math.round(ns));

/** Why a visit counts as disturbed, or null if it does not. */
export function disturbance(visit: VisitHealth, levels: RunLevels, rule: RemeasureRule): string | null {
  const reasons: string[] = [];
  const reference = levels.sentinelOpsPerSec;
  if (
    reference !== null &&
    visit.sentinelOpsPerSec !== null &&
    visit.sentinelOpsPerSec < rule.sentinelFloor * reference
  ) {
    reasons.push(`sentinel at ${Math.round((visit.sentinelOpsPerSec / reference) * 100)}% of the run's level`);
  }
  if (visit.runqueueWaitFraction !== null && visit.runqueueWaitFraction > rule.runqueueCeiling) {
    reasons.push(`a worker waited ${Math.round(visit.runqueueWaitFraction * 100)}% of its window for a CPU`);
  }
  const placement = placementTrouble(visit, levels, rule);
  if (placement !== null) reasons.push(placement);
  return reasons.length === 0 ? null : reasons.join('; ');
}

/** Severity of a visit in the other placement: below a sentinel at half the run's level, above a mild spell. */
const PLACEMENT_SEVERITY = 0.3;

/** How bad a disturbed visit is, for choosing which to measure again first (higher = worse, 0..1). */
function severity(visit: VisitHealth, levels: RunLevels, rule: RemeasureRule): number {
  const reference = levels.sentinelOpsPerSec;
  const sentinelLoss =
    reference !== null && visit.sentinelOpsPerSec !== null ? 1 - visit.sentinelOpsPerSec / reference : 0;
  const trouble = placementTrouble(visit, levels, rule);
  const placementLoss = trouble === null ? 0 : PLACEMENT_SEVERITY;
  return Math.max(sentinelLoss, visit.runqueueWaitFraction ?? 0, placementLoss);
}

/** Indexes of the visits to measure again: disturbed ones, worst first, at most budgetFraction of all (rounded up). */
export function visitsToRemeasure(
  visits: readonly VisitHealth[],
  rule: RemeasureRule = DEFAULT_REMEASURE_RULE,
): number[] {
  const levels = runLevels(visits, rule);
  const budget = Math.ceil(visits.length * rule.budgetFraction);
  return visits
    .map((visit, index) => ({
      index,
      disturbed: disturbance(visit, levels, rule) !== null,
      severity: severity(visit, levels, rule),
    }))
    .filter((candidate) => candidate.disturbed)
    .sort((a, b) => b.severity - a.severity || a.index - b.index)
    .slice(0, budget)
    .map((candidate) => candidate.index);
}

/**
 * Of a visit and its re-measurement, the one to keep: the undisturbed one; if
 * both are disturbed, the less disturbed one; if neither, the one with the
 * higher sentinel reading (the re-measurement when there is no sentinel).
 */
export function keepRemeasured(
  original: VisitHealth,
  again: VisitHealth,
  levels: RunLevels,
  rule: RemeasureRule,
): boolean {
  const originalDisturbed = disturbance(original, levels, rule) !== null;
  const againDisturbed = disturbance(again, levels, rule) !== null;
  if (originalDisturbed !== againDisturbed) return originalDisturbed;
  if (originalDisturbed) {
    const before = severity(original, levels, rule);
    const after = severity(again, levels, rule);
    if (before !== after) return after < before;
  }
  if (original.sentinelOpsPerSec === null || again.sentinelOpsPerSec === null) return true;
  return again.sentinelOpsPerSec >= original.sentinelOpsPerSec;
}
