/**
 * Mann–Whitney U test (Wilcoxon rank-sum), two-sided: do two sets of trials
 * come from the same distribution, or does one tend to be larger? It assumes
 * nothing about the shape of the distribution, which matters for benchmark
 * trials: they are skewed (a slow outlier is common, a fast one is not).
 *
 * Small samples (the CI preset runs 5 trials a cell) use the exact
 * distribution of the rank sum, conditional on the ties actually present,
 * counted by dynamic programming over all C(n1+n2, n1) ways to split the pooled
 * ranks. Larger samples use the normal approximation with tie and continuity
 * corrections. simple-statistics has the rank sum but no p-value, and its
 * `permutationTest` samples at random (a gate must give the same answer for
 * the same files), hence this file.
 */
import { errorFunction } from 'simple-statistics';

export interface MannWhitneyResult {
  /** U of the first sample: pairs (a, b) with a > b, a tie counting ½. */
  u: number;
  /** Two-sided p-value: twice the smaller tail, capped at 1. */
  p: number;
  /** 'exact' for n1 + n2 ≤ EXACT_MAX_TOTAL, else 'normal'. */
  method: 'exact' | 'normal';
  n1: number;
  n2: number;
}

/**
 * Up to this many pooled values the exact distribution is counted. The counts
 * are C(n1+n2, n1) at most; C(50, 25) ≈ 1.3e14 is still an exact integer in a
 * double, and the dynamic programme costs about 50 · 25 · 2550 additions.
 */
export const EXACT_MAX_TOTAL = 50;

/**
 * Two-sided test of `a` against `b`; both need at least one value. `method`
 * forces the exact count or the normal approximation (tests compare the two).
 */
export function mannWhitneyU(
  a: readonly number[],
  b: readonly number[],
  method?: 'exact' | 'normal',
): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0)
    throw new RangeError(`mannWhitneyU needs at least one value in each sample, got ${n1} and ${n2}`);
  for (const value of [...a, ...b]) {
    if (!Number.isFinite(value)) throw new RangeError(`mannWhitneyU needs finite values, got ${value}`);
  }
  const { doubledRanks, tieGroupSizes } = doubledMidRanks([...a, ...b]);
  // Doubled mid-ranks are integers (a tie group over ranks i..j gets i + j), so sums can index an array.
  let doubledRankSumA = 0;
  for (let i = 0; i < n1; i++) doubledRankSumA += doubledRanks[i];
  const u = (doubledRankSumA - n1 * (n1 + 1)) / 2;

  if (method === 'exact' || (method === undefined && n1 + n2 <= EXACT_MAX_TOTAL)) {
    return { u, p: exactTwoSidedP(doubledRanks, n1, doubledRankSumA), method: 'exact', n1, n2 };
  }
  return { u, p: normalTwoSidedP(u, n1, n2, tieGroupSizes), method: 'normal', n1, n2 };
}

/** The smallest two-sided p-value samples of these sizes can reach (no ties): 2 / C(n1+n2, n1). */
export function minimumTwoSidedP(n1: number, n2: number): number {
  let combinations = 1;
  for (let i = 1; i <= n1; i++) combinations = (combinations * (n2 + i)) / i;
  return Math.min(1, 2 / combinations);
}

/** Each value's rank among all values (1-based, ties averaged), doubled to stay an integer. */
function doubledMidRanks(values: readonly number[]): { doubledRanks: number[]; tieGroupSizes: number[] } {
  const order = values.map((_, index) => index).sort((x, y) => values[x] - values[y]);
  const doubledRanks = new Array<number>(values.length);
  const tieGroupSizes: number[] = [];
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]] === values[order[start]]) end++;
    // Positions start..end hold ranks start+1..end+1; their mean, doubled, is start + end + 2.
    for (let k = start; k <= end; k++) doubledRanks[order[k]] = start + end + 2;
    tieGroupSizes.push(end - start + 1);
    start = end + 1;
  }
  return { doubledRanks, tieGroupSizes };
}

/**
 * Exact p: over every way to pick n1 of the pooled (doubled) ranks, how often
 * is the picked sum at most, or at least, the observed one?
 * ways[k][s] = number of k-subsets of the ranks seen so far whose sum is s.
 */
function exactTwoSidedP(doubledRanks: readonly number[], n1: number, observed: number): number {
  const maxSum = doubledRanks.reduce((sum, rank) => sum + rank, 0);
  const ways: Float64Array[] = Array.from({ length: n1 + 1 }, () => new Float64Array(maxSum + 1));
  ways[0][0] = 1;
  for (const rank of doubledRanks) {
    for (let k = n1; k >= 1; k--) {
      const into = ways[k];
      const from = ways[k - 1];
      for (let s = maxSum; s >= rank; s--) into[s] += from[s - rank];
    }
  }
  let total = 0;
  let atMost = 0;
  let atLeast = 0;
  ways[n1].forEach((count, sum) => {
    total += count;
    if (sum <= observed) atMost += count;
    if (sum >= observed) atLeast += count;
  });
  return Math.min(1, (2 * Math.min(atMost, atLeast)) / total);
}

/** Normal approximation to U with the tie-corrected variance and a continuity correction of ½. */
function normalTwoSidedP(u: number, n1: number, n2: number, tieGroupSizes: readonly number[]): number {
  const total = n1 + n2;
  const tieTerm = tieGroupSizes.reduce((sum, t) => sum + (t * t * t - t), 0) / (total * (total - 1));
  const variance = ((n1 * n2) / 12) * (total + 1 - tieTerm);
  if (variance <= 0) return 1; // every value tied: no evidence either way
  const z = Math.max(0, Math.abs(u - (n1 * n2) / 2) - 0.5) / Math.sqrt(variance);
  // Two-sided normal tail: 2·(1 − Φ(z)) = 1 − erf(z/√2).
  return Math.min(1, Math.max(0, 1 - errorFunction(z / Math.SQRT2)));
}
