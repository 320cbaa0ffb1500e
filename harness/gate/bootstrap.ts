/**
 * A bootstrap test of a quantile ratio: is head's q-quantile of the trials
 * different from base's? The test the gate uses with an upper effect
 * quantile (gate.ts rule 3).
 *
 * Why not Mann–Whitney there: on shared VMs some trials fall whole into a
 * slow spell (~0.5–0.6× speed for seconds), so a baseline's trials are a
 * mixture, e.g. nine near 16M and six near 8.5M ops/s. A head 30% slower in
 * every trial (all near 11.4M) then sits in the middle of the baseline's
 * ranks, and Mann–Whitney, which asks whether one side tends to be larger
 * over the whole distribution, finds nothing: p = 0.06–0.14 in the live runs
 * here, while the upper quartiles (16M against 11.4M) plainly differ. A
 * permutation test of the quantile fares no better: shuffling moves the
 * baseline's slow trials into the head. The bootstrap resamples each side
 * within itself, so it asks the question the effect size asks.
 *
 * p is two-sided: twice the smaller of the fractions of resamples whose ratio
 * is ≥ 1 and ≤ 1, with the usual +1 correction, capped at 1. The resampling
 * is seeded, so the same files always give the same p (a gate must be
 * reproducible). simple-statistics has `quantile` (used here) but no
 * bootstrap.
 */
import { quantile } from 'simple-statistics';
import { Sfc32 } from '../../workloads/random.js';

export const BOOTSTRAP_RESAMPLES = 10_000;
const BOOTSTRAP_SEED = 0x6d61706c; // 'mapl'

export interface BootstrapResult {
  /** head q-quantile / base q-quantile on the samples as given. */
  ratio: number;
  p: number;
  resamples: number;
}

/** Two-sided bootstrap p for quantile(head, q) / quantile(base, q) ≠ 1; both samples need a value. */
export function bootstrapQuantileRatio(
  head: readonly number[],
  base: readonly number[],
  q: number,
  resamples = BOOTSTRAP_RESAMPLES,
): BootstrapResult {
  if (head.length === 0 || base.length === 0)
    throw new RangeError(
      `bootstrapQuantileRatio needs at least one value on each side, got ${head.length} and ${base.length}`,
    );
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be a number in [0, 1], got ${q}`);
  const random = new Sfc32(BOOTSTRAP_SEED);
  const headDraw = new Array<number>(head.length);
  const baseDraw = new Array<number>(base.length);
  let atLeastOne = 0;
  let atMostOne = 0;
  for (let resample = 0; resample < resamples; resample++) {
    for (let i = 0; i < head.length; i++) headDraw[i] = head[Math.floor(random.nextFloat() * head.length)];
    for (let i = 0; i < base.length; i++) baseDraw[i] = base[Math.floor(random.nextFloat() * base.length)];
    const ratio = quantile(headDraw, q) / quantile(baseDraw, q);
    if (ratio >= 1) atLeastOne++;
    if (ratio <= 1) atMostOne++;
  }
  const tail = (Math.min(atLeastOne, atMostOne) + 1) / (resamples + 1);
  return { ratio: quantile([...head], q) / quantile([...base], q), p: Math.min(1, 2 * tail), resamples };
}
