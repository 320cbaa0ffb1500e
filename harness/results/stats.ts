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
/** Student-t quantiles at 0.975 for 1..30 degrees of freedom (standard tables); index = degrees of freedom. */
const T_975 = [
  Number.NaN, 12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252,
  2.306004135, 2.262157163, 2.228138852, 2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546,
  2.119905299, 2.109815578, 2.100922040, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610,
  2.063898562, 2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
];
/** Beyond 30 degrees of freedom the normal quantile is within 2% of t's. */
const Z_975 = 1.96;

/** t(0.975, df): the two-sided 95% critical value of Student's t. */
export function tQuantile975(degreesOfFreedom: number): number {
  if (!Number.isInteger(degreesOfFreedom) || degreesOfFreedom < 1) throw new RangeError(`degrees of freedom must be an integer ≥ 1, got ${degreesOfFreedom}`);
  return degreesOfFreedom < T_975.length ? T_975[degreesOfFreedom] : Z_975;
}
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

/** `signed`: the values may be negative (log ratios), so the t interval is never clamped at zero. */
export function medianWithCI(values: readonly number[], signed = false): Required<MedianCI> {
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
  const halfWidth = tQuantile975(n - 1) * Math.sqrt(Math.PI / 2) * sampleStandardDeviation(sorted) / Math.sqrt(n);
  const floor = !signed && sorted[0] >= 0 ? 0 : -Infinity; // rates and times are never negative
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

/** A ratio of two rates estimated from paired measurements, with a 95% CI. */
export interface PairedRatio {
  /** exp(median of the pairs' log ratios). */
  ratio: number;
  ciLow: number;
  ciHigh: number;
  pairs: number;
}

/**
 * The ratio a/b from pairs measured side by side (a[i] beside b[i]): the
 * median of ln(a[i]/b[i]) with medianWithCI's interval (order statistics from
 * 6 pairs on, Student-t around the median below), exponentiated. Pairing is
 * the point: a slow spell that hits both members of a pair cancels in their
 * ratio. The median, not the mean, because a spell that hits only one member
 * of one pair leaves an outlier ratio: on two back-to-back quick sweeps the
 * mean's map-vs-map ratios moved by a median of 6.0% (p90 18.9%) between
 * runs, the median's by 3.0% (p90 11.8%), with no opposite verdicts
 * (EVIDENCE.md, "Noise on shared machines"). One pair: no interval ([r, r]).
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): PairedRatio {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`pairedRatio needs two equally long non-empty lists, got ${a.length} and ${b.length}`);
  const logs = a.map((value, index) => Math.log(value / b[index]));
  if (!logs.every(Number.isFinite)) throw new RangeError('pairedRatio needs positive finite rates');
  const { median, ciLow, ciHigh } = medianWithCI(logs, true);
  return { ratio: Math.exp(median), ciLow: Math.exp(ciLow), ciHigh: Math.exp(ciHigh), pairs: logs.length };
}
