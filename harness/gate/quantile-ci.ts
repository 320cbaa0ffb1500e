/**
 * A confidence interval for a latency quantile (p99) read from a cell's
 * histogram. A cell has one histogram for all its trials, hence one p99 and
 * no trial-to-trial spread to test; what can be bounded is the sampling error
 * of that quantile. The distribution-free interval for the q-quantile of n
 * samples lies between the order statistics at ranks nq ∓ z·√(nq(1−q))
 * (the binomial count of samples below the true quantile); reading those ranks
 * from the histogram, each widened to its bucket's edges, also covers the
 * histogram's resolution.
 *
 * This interval says nothing about run-to-run variation (another run on a
 * busy machine may move p99 far more), which is why compare reports p99 by
 * interval overlap and the gate does not fail on it.
 */
import { probit } from 'simple-statistics';
import type { HistogramData } from '../results/results.js';

export interface QuantileInterval {
  low: number;
  high: number;
}

/** null when the histogram holds no samples. */
export function quantileInterval(
  histogram: HistogramData,
  quantile: number,
  confidence = 0.95,
): QuantileInterval | null {
  if (!(quantile > 0 && quantile < 1))
    throw new RangeError(`quantile must be a number in (0, 1) exclusive, got ${quantile}`);
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`confidence must be a number in (0, 1) exclusive, got ${confidence}`);
  const samples = histogram.buckets.reduce((sum, [, , count]) => sum + count, 0);
  if (samples === 0) return null;
  const z = probit(1 - (1 - confidence) / 2);
  const centre = samples * quantile;
  const halfWidth = z * Math.sqrt(samples * quantile * (1 - quantile));
  const lowRank = Math.max(1, Math.floor(centre - halfWidth));
  const highRank = Math.min(samples, Math.ceil(centre + halfWidth) + 1);
  return { low: bucketAtRank(histogram, lowRank)[0], high: bucketAtRank(histogram, highRank)[1] };
}

/** The bucket holding the rank-th smallest sample (1-based). */
function bucketAtRank(histogram: HistogramData, rank: number): [number, number, number] {
  let seen = 0;
  for (const bucket of histogram.buckets) {
    seen += bucket[2];
    if (seen >= rank) return bucket;
  }
  return histogram.buckets[histogram.buckets.length - 1];
}
