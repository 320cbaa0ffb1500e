/**
 * The two-sided sign test over paired figures: under "neither side is
 * faster", each pair is as likely to favour head as base, so the count of
 * pairs where head is slower is Binomial(n, ½). It assumes nothing about how
 * the ratios are spread, so the one pair a slow spell hit on one side moves p
 * by one count, no more: the same robustness as the median of the pairs'
 * ratios it goes with (harness/results/stats.ts pairedRatio). Ties (equal
 * figures) say nothing and are dropped.
 */
import { binomialDistribution } from 'simple-statistics';

export interface SignTest {
  /** Pairs where head < base, and where head > base (ties dropped). */
  slower: number;
  faster: number;
  /** Two-sided p, capped at 1. */
  p: number;
}

export function signTest(head: readonly number[], base: readonly number[]): SignTest {
  if (head.length !== base.length) {
    throw new RangeError(`signTest needs two equally long lists, got ${head.length} and ${base.length}`);
  }
  let slower = 0;
  let faster = 0;
  head.forEach((value, index) => {
    if (value < base[index]) slower++;
    else if (value > base[index]) faster++;
  });
  return signTestOfCounts(slower, faster);
}

/** The sign test from the counts alone: how `maplab gate --against` pools a first run's pairs with its re-run's. */
export function signTestOfCounts(slower: number, faster: number): SignTest {
  return { slower, faster, p: twoSidedP(slower + faster, Math.min(slower, faster)) };
}

/** The smallest p n pairs can give (all on one side): at or above alpha, no verdict is possible. */
export function minimumSignTestP(pairs: number): number {
  return twoSidedP(pairs, 0);
}

/** 2 · P(X ≤ k), X ~ Binomial(n, ½), capped at 1. */
function twoSidedP(n: number, k: number): number {
  if (n === 0) return 1;
  const probabilities = binomialDistribution(n, 0.5) ?? [];
  let tail = 0;
  for (let count = 0; count <= k; count++) tail += probabilities[count] ?? 0;
  return Math.min(1, 2 * tail);
}
