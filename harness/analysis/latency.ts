/**
 * The latency knee of one open-loop series (fixed map, workload, load factor
 * and threads; the offered rate varies): the offered load past which p99
 * leaves its flat region — how much traffic the map takes before queueing
 * dominates.
 *
 * Kneedle runs on log(p99) against offered load. p99 past saturation grows by
 * decades; on a linear axis the largest point squashes every other one to the
 * floor and the knee lands one step late. log(p99) of a hockey stick is still
 * convex increasing, and its flat region stays flat.
 */
import type { LatencyKnee } from './types.js';
import { kneedle } from './kneedle.js';
import { MIN_CURVE_POINTS } from './scaling.js';

export interface LoadPoint {
  /** Offered load over all threads, ops/s (cell `rate` × threads). */
  offeredOpsPerSec: number;
  /** The cell's `rate`: target ops/s per thread. */
  ratePerThread: number;
  achievedOpsPerSec: number;
  p99Ns: number;
}

export interface LatencyKneeOptions {
  sensitivity?: number;
  /** p99 max / min below this ratio is flat: no knee. Default 1.5. */
  latencyFlatRatio?: number;
}

export type LatencyKneeFigures = Omit<LatencyKnee, 'map' | 'workload' | 'loadFactor' | 'threads'>;

export function latencyKnee(points: readonly LoadPoint[], options: LatencyKneeOptions = {}): LatencyKneeFigures {
  const flatRatio = options.latencyFlatRatio ?? 1.5;
  const series = onePointPerRate(points);
  const none = { tpsAtKnee: null, ratePerThreadAtKnee: null, achievedOpsPerSecAtKnee: null, p99BeforeNs: null, p99AfterNs: null, points: series.length };
  if (series.length < MIN_CURVE_POINTS) {
    return { ...none, note: `not enough points: ${series.length} offered rate${series.length === 1 ? '' : 's'}, need at least ${MIN_CURVE_POINTS}` };
  }
  const p99 = series.map((point) => Math.max(point.p99Ns, 1));
  const ratio = Math.max(...p99) / Math.min(...p99);
  if (ratio < flatRatio) {
    return { ...none, note: `no knee: p99 stays flat (max/min ${ratio.toFixed(2)} < ${flatRatio})` };
  }
  const knee = kneedle(series.map((point) => point.offeredOpsPerSec), p99.map(Math.log), { curve: 'convex', sensitivity: options.sensitivity });
  if (!knee) return { ...none, note: `no knee at sensitivity ${options.sensitivity ?? 1}: p99 has no flat region` };
  const at = series[knee.index];
  return {
    tpsAtKnee: at.offeredOpsPerSec,
    ratePerThreadAtKnee: at.ratePerThread,
    achievedOpsPerSecAtKnee: at.achievedOpsPerSec,
    p99BeforeNs: at.p99Ns,
    p99AfterNs: series[knee.index + 1].p99Ns,
    points: series.length,
  };
}

/** Repeats of an offered rate collapse to the one with the median p99; ascending by offered load. */
function onePointPerRate(points: readonly LoadPoint[]): LoadPoint[] {
  const byRate = new Map<number, LoadPoint[]>();
  for (const point of points) byRate.set(point.offeredOpsPerSec, [...(byRate.get(point.offeredOpsPerSec) ?? []), point]);
  return [...byRate.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, repeats]) => [...repeats].sort((a, b) => a.p99Ns - b.p99Ns)[(repeats.length - 1) >> 1]);
}
