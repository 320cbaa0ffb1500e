/**
 * Where throughput stops scaling with threads, for one curve: Kneedle's knee
 * (the thread count past which adding threads buys much less) and the USL fit
 * (why: contention σ, coherency κ, and the retrograde peak N*). Shared by
 * `analyzeResults` and `maplab analyze --csv`.
 */
import { median } from 'simple-statistics';
import type { UslFit } from '../results/results.js';
import { kneedle } from './kneedle.js';
import { fitUsl, type ScalingPoint } from './usl.js';

export interface ScalingAnalysis {
  /** Kneedle's knee; null with a `note` when there is none. */
  kneeThreads: number | null;
  /** Measured throughput at the knee (median of the cells at that thread count), ops/s. */
  kneeOpsPerSec: number | null;
  usl: UslFit | null;
  /** Distinct thread counts measured. */
  points: number;
  note?: string;
}

export interface ScalingOptions {
  /** Kneedle sensitivity S, default 1. */
  sensitivity?: number;
  /** Relative spread (max − min) / max under which the curve is flat, default 0.05. */
  flatTolerance?: number;
}

export const MIN_CURVE_POINTS = 3;

export function analyzeScaling(points: readonly ScalingPoint[], options: ScalingOptions = {}): ScalingAnalysis {
  const flatTolerance = options.flatTolerance ?? 0.05;
  const curve = medianPerThreadCount(points);
  const threads = curve.map((point) => point.threads);
  const opsPerSec = curve.map((point) => point.opsPerSec);
  if (curve.length < MIN_CURVE_POINTS) {
    return {
      kneeThreads: null,
      kneeOpsPerSec: null,
      usl: null,
      points: curve.length,
      note: `not enough points: ${curve.length} thread count${curve.length === 1 ? '' : 's'}, need at least ${MIN_CURVE_POINTS}`,
    };
  }
  const usl = fitUsl(curve);
  const highest = Math.max(...opsPerSec);
  const spread = highest > 0 ? (highest - Math.min(...opsPerSec)) / highest : 0;
  if (spread < flatTolerance) {
    return {
      kneeThreads: null,
      kneeOpsPerSec: null,
      usl,
      points: curve.length,
      note: `no knee: throughput is flat (spread ${(spread * 100).toFixed(1)}% < ${(flatTolerance * 100).toFixed(1)}%)`,
    };
  }
  const knee = kneedle(threads, opsPerSec, { curve: 'concave', sensitivity: options.sensitivity });
  if (knee) return { kneeThreads: knee.x, kneeOpsPerSec: knee.y, usl, points: curve.length };
  const peakIndex = opsPerSec.indexOf(highest);
  const note =
    peakIndex === curve.length - 1
      ? `no knee: throughput still rising at ${threads[peakIndex]} threads`
      : peakIndex === 0
        ? `no knee: throughput is highest at the fewest threads (${threads[0]})`
        : `no knee at sensitivity ${options.sensitivity ?? 1}`;
  return { kneeThreads: null, kneeOpsPerSec: null, usl, points: curve.length, note };
}

/** One point per thread count (the median of repeats), ascending. */
export function medianPerThreadCount(points: readonly ScalingPoint[]): ScalingPoint[] {
  const byThreads = new Map<number, number[]>();
  for (const point of points) byThreads.set(point.threads, [...(byThreads.get(point.threads) ?? []), point.opsPerSec]);
  return [...byThreads.entries()]
    .sort(([a], [b]) => a - b)
    .map(([threads, values]) => ({ threads, opsPerSec: median(values) }));
}
