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
 *   readings show the vCPUs placed otherwise than for most of the run
 *   (harness/run/placement.ts), is measured again (worst first, within a
 *   budget), and the better-looking visit is kept.
 */
import { quantile } from 'simple-statistics';

/** Cells compared with one another: same workload, threads, load factor and rate. */
export function comparisonKey(cell: {
  workload: string;
  threads: number;
  loadFactor: number;
  rate?: number | null;
}): string {
  return `${cell.workload}|t${cell.threads}|lf${cell.loadFactor}|${cell.rate == null ? 'closed' : `rate${cell.rate}`}`;
}

/** Items grouped by comparisonKey, groups and members in order of first appearance. */
export function comparisonGroups<
  T extends { workload: string; threads: number; loadFactor: number; rate?: number | null },
>(items: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = comparisonKey(item);
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
  /** The placement sentinel's handoff readings before and after the visit, ns (harness/run/placement.ts); [] without. */
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
   * A multi-thread visit with a handoff reading more than this factor away
   * from the run's usual one (either way) is disturbed: the vCPUs sat closer
   * or farther apart than for the rest of the run, or one did not run (> 1).
   */
  placementBand: number;
  /** At most this fraction of the visits is measured again (0..1). */
  budgetFraction: number;
}

export const DEFAULT_REMEASURE_RULE: RemeasureRule = {
  sentinelFloor: 0.85,
  runqueueCeiling: 0.05,
  placementBand: 1.5,
  budgetFraction: 0.15,
};
/** The run's undisturbed sentinel level: this quantile of its readings (the best one alone could be a fluke). */
export const SENTINEL_REFERENCE_QUANTILE = 0.9;

/** The levels a run's visits are judged against; null where the run has no readings. */
export interface RunLevels {
  /** The undisturbed sentinel level, ops/s (sentinelReference). */
  sentinelOpsPerSec: number | null;
  /** The usual handoff time, ns (placementReference). */
  handoffNs: number | null;
}

/** The undisturbed sentinel level of a run, or null without readings. */
export function sentinelReference(readings: readonly (number | null)[]): number | null {
  const values = readings.filter((value): value is number => value !== null && Number.isFinite(value));
  return values.length === 0 ? null : quantile(values, SENTINEL_REFERENCE_QUANTILE);
}

/**
 * The run's usual handoff time: the median of its readings. Neither placement
 * is "right" (users deploy on both); the run's answers are those of the
 * placement it spent most of its time in, and a visit in another is measured again.
 */
export function placementReference(readings: readonly number[]): number | null {
  const values = readings.filter((value) => Number.isFinite(value) && value > 0);
  return values.length === 0 ? null : quantile(values, 0.5);
}

/** The levels of a run from its visits' health. */
export function runLevels(visits: readonly VisitHealth[]): RunLevels {
  return {
    sentinelOpsPerSec: sentinelReference(visits.map((visit) => visit.sentinelOpsPerSec)),
    handoffNs: placementReference(visits.flatMap((visit) => visit.handoffNs)),
  };
}

/** How far the visit's farthest handoff reading is from the run's usual one, as a factor ≥ 1; 1 when not judged. */
function placementFactor(visit: VisitHealth, levels: RunLevels): number {
  if (visit.threads < 2 || levels.handoffNs === null) return 1;
  const reference = levels.handoffNs;
  return Math.max(1, ...visit.handoffNs.map((ns) => Math.max(ns / reference, reference / ns)));
}

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
  if (placementFactor(visit, levels) > rule.placementBand) {
    const farthest = visit.handoffNs.reduce((far, ns) =>
      Math.abs(Math.log(ns / (levels.handoffNs as number))) > Math.abs(Math.log(far / (levels.handoffNs as number)))
        ? ns
        : far,
    );
    reasons.push(
      `a cache-line handoff took ${Math.round(farthest)} ns against the run's usual ${Math.round(levels.handoffNs as number)} ns`,
    );
  }
  return reasons.length === 0 ? null : reasons.join('; ');
}

/** How bad a disturbed visit is, for choosing which to measure again first (higher = worse, 0..1). */
function severity(visit: VisitHealth, levels: RunLevels): number {
  const reference = levels.sentinelOpsPerSec;
  const sentinelLoss =
    reference !== null && visit.sentinelOpsPerSec !== null ? 1 - visit.sentinelOpsPerSec / reference : 0;
  const placementLoss = 1 - 1 / placementFactor(visit, levels);
  return Math.max(sentinelLoss, visit.runqueueWaitFraction ?? 0, placementLoss);
}

/** Indexes of the visits to measure again: disturbed ones, worst first, at most budgetFraction of all (rounded up). */
export function visitsToRemeasure(
  visits: readonly VisitHealth[],
  rule: RemeasureRule = DEFAULT_REMEASURE_RULE,
): number[] {
  const levels = runLevels(visits);
  const budget = Math.ceil(visits.length * rule.budgetFraction);
  return visits
    .map((visit, index) => ({
      index,
      disturbed: disturbance(visit, levels, rule) !== null,
      severity: severity(visit, levels),
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
    const before = severity(original, levels);
    const after = severity(again, levels);
    if (before !== after) return after < before;
  }
  if (original.sentinelOpsPerSec === null || again.sentinelOpsPerSec === null) return true;
  return again.sentinelOpsPerSec >= original.sentinelOpsPerSec;
}
