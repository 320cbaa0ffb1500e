/**
 * The headline of a cell: the median of its trials with a 95% confidence
 * interval that is honest for the 3–10 trials a sweep runs.
 *
 * - n ≥ 6: the distribution-free order-statistic interval for the median.
 *   With B ~ Binomial(n, ½), [x(k), x(n−k+1)] covers the true median with
 *   probability 1 − 2·P(B ≤ k−1); k is the largest rank that keeps this ≥ 95%.
 *   `ciLevel` records the exact coverage (e.g. 0.969 for n = 6, 0.961 for n = 9).
 * - 2 ≤ n ≤ 5: order statistics cannot reach 95% (even [min, max] covers only
 *   1 − 2^(1−n): 75% for 3 trials, 93.8% for 5), so the interval is Student-t
 *   around the median: median ± t(0.975, n−1) · √(π/2) · s / √n, the median's
 *   asymptotic standard error under roughly normal trial noise. Wide for small
 *   n, as it should be.
 * - n = 1: no interval ([x, x], ciLevel 0).
 *
 * Bootstrap was rejected: with 3 trials it has only 10 distinct resamples and
 * its coverage is far below nominal.
 */
import { median as sampleMedian, sampleStandardDeviation } from 'simple-statistics';
import type { MedianCI } from './results.js';

const CONFIDENCE = 0.95;
/** t quantiles at 0.975 for 1..4 degrees of freedom (the only ones the t branch uses). */
const T_975 = [Number.NaN, 12.706204736, 4.302652730, 3.182446305, 2.776445105];
export const ORDER_STATISTIC_METHOD = 'order-statistic (binomial), distribution-free';
export const STUDENT_T_METHOD = 'student-t around the median (n < 6: order statistics cannot reach 95%)';

/** P(B ≤ k) for B ~ Binomial(n, ½). */
function binomialHalfCdf(n: number, k: number): number {
  let term = 1; // C(n, 0)
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum / 2 ** n;
}

export function medianWithCI(values: readonly number[]): Required<MedianCI> {
  const n = values.length;
  if (n === 0) throw new RangeError('medianWithCI needs at least one value');
  const sorted = [...values].sort((a, b) => a - b);
  const median = sampleMedian(sorted);
  if (n === 1) return { median, ciLow: median, ciHigh: median, ciLevel: 0, ciMethod: 'single trial: no interval' };
  const alpha = 1 - CONFIDENCE;
  if (binomialHalfCdf(n, 0) <= alpha / 2) {
    let k = 1;
    while (binomialHalfCdf(n, k) <= alpha / 2) k++;
    const tail = binomialHalfCdf(n, k - 1);
    return { median, ciLow: sorted[k - 1], ciHigh: sorted[n - k], ciLevel: 1 - 2 * tail, ciMethod: ORDER_STATISTIC_METHOD };
  }
  const halfWidth = T_975[n - 1] * Math.sqrt(Math.PI / 2) * sampleStandardDeviation(sorted) / Math.sqrt(n);
  const floor = sorted[0] >= 0 ? 0 : -Infinity; // rates and times are never negative
  return { median, ciLow: Math.max(floor, median - halfWidth), ciHigh: median + halfWidth, ciLevel: CONFIDENCE, ciMethod: STUDENT_T_METHOD };
}

/** Median of each key over records (counters across trials); keys missing from a record are skipped. */
export function medianByKey(records: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const keys = new Set(records.flatMap((record) => Object.keys(record)));
  const out: Record<string, number> = {};
  for (const key of keys) {
    const values = records.map((record) => record[key]).filter((value) => typeof value === 'number' && Number.isFinite(value));
    if (values.length > 0) out[key] = sampleMedian(values);
  }
  return out;
}
