/**
 * The latency knee of one open-loop series (fixed map, workload, load factor
 * and threads; the offered rate varies): the offered load past which p99
 * leaves its floor — how much traffic the map takes before queueing
 * dominates — told so that one noisy point cannot fake it.
 *
 * Method:
 *   1. per offered rate, the median over trials of ln(p99);
 *   2. a monotone (isotonic, pool-adjacent-violators) fit of those against
 *      offered load, weighted by trials: a stall that lifted one rate's p99
 *      is pooled with its neighbours instead of reading as a knee;
 *   3. the knee is the last rate before p99 passes `kneeRatio` (default 3)
 *      × the fitted p99 at the lowest rate and stays past it at every higher
 *      rate (stalls only ever add latency: a rise that falls back at a
 *      higher load is a stall); "p99 before → after" are the fitted values
 *      across it;
 *   4. a bootstrap over trials (per rate, trials drawn with replacement)
 *      repeats 1–3: the knee's 95% interval is the percentile interval of
 *      the knee rates found, and the share of resamples with a knee decides
 *      the verdict: knee (≥ 90% and an interval within a factor 2), no knee
 *      within the rates measured (≤ 10%), otherwise undetermined (noise);
 *   5. a knee whose fitted p99 past it is within `hiccupFloorRatio` (2) × the
 *      machine floor at that rate (the larger of the hiccup meter's p99 and
 *      the workers' own stall p99) is "machine-limited": the machine's own
 *      stalls, not the map, set that tail.
 * Without per-trial p99s (files older than the hiccup meter) the fit runs on
 * one value per rate and the verdict is "undetermined": nothing says how
 * noisy the points are.
 */
import { median } from 'simple-statistics';
import { formatOpsInText } from '../../reports/format.js';
import { Sfc32 } from '../../workloads/random.js';
import type { LatencyKnee, LatencyKneeVerdict } from './types.js';
import { isotonicFit } from './isotonic.js';
import { MIN_CURVE_POINTS } from './scaling.js';

export interface LoadPoint {
  /** Offered load over all threads, ops/s (cell `rate` × threads). */
  offeredOpsPerSec: number;
  /** The cell's `rate`: target ops/s per thread. */
  ratePerThread: number;
  achievedOpsPerSec: number;
  /** The cell's p99 (all trials merged), ns. */
  p99Ns: number;
  /** Each trial's p99, ns (absent in older files). */
  trialP99Ns?: number[];
  /** The hiccup meter's p99 over the cell's trials, ns (absent in older files or with the meter off). */
  hiccupP99Ns?: number;
}

export interface LatencyKneeOptions {
  /** p99 max / min below this ratio is flat: no knee. Default 1.5. */
  latencyFlatRatio?: number;
  /** The knee is where fitted p99 passes this × its value at the lowest rate. Default 3. */
  kneeRatio?: number;
  /** p99 within this × the hiccup p99 is machine-limited. Default 2. */
  hiccupFloorRatio?: number;
  /** Kept for the command line's --sensitivity (Kneedle); unused here. */
  sensitivity?: number;
}

export type LatencyKneeFigures = Omit<LatencyKnee, 'map' | 'workload' | 'loadFactor' | 'threads'>;

export const KNEE_RESAMPLES = 2000;
const KNEE_SEED = 0x6b6e6565; // 'knee'
/** Fewest trials at every rate for an interval. */
export const MIN_KNEE_TRIALS = 3;
const KNEE_FOUND_SHARE = 0.9;
const NO_KNEE_SHARE = 0.1;
/** A knee interval wider than this factor (ciHigh / ciLow) is noise. */
const MAX_KNEE_SPREAD = 2;

interface Rate {
  point: LoadPoint;
  logTrials: number[];
}

export function latencyKnee(points: readonly LoadPoint[], options: LatencyKneeOptions = {}): LatencyKneeFigures {
  const flatRatio = options.latencyFlatRatio ?? 1.5;
  const kneeRatio = options.kneeRatio ?? 3;
  const floorRatio = options.hiccupFloorRatio ?? 2;
  const series = onePointPerRate(points);
  const none = {
    tpsAtKnee: null,
    tpsCiLow: null,
    tpsCiHigh: null,
    ratePerThreadAtKnee: null,
    achievedOpsPerSecAtKnee: null,
    p99BeforeNs: null,
    p99AfterNs: null,
    p99Ratio: null,
    hiccupP99Ns: null,
    points: series.length,
  };
  if (series.length < MIN_CURVE_POINTS) {
    const rates = `${series.length} offered rate${series.length === 1 ? '' : 's'}`;
    return { ...none, verdict: 'undetermined', note: `not enough points: ${rates}, need at least ${MIN_CURVE_POINTS}` };
  }
  const offered = series.map((rate) => rate.point.offeredOpsPerSec);
  const { fitted, medians } = fitLogP99(series.map((rate) => rate.logTrials));
  const p99 = series.map((rate) => Math.max(rate.point.p99Ns, 1));
  const spread = Math.max(...p99) / Math.min(...p99);
  const kneeIndex = findKnee(fitted, medians, kneeRatio);
  const resampled = bootstrapKnees(series, kneeRatio);
  const fewestTrials = Math.min(...series.map((rate) => rate.logTrials.length));
  const figures = kneeIndex === null ? none : kneeFigures(series, fitted, kneeIndex, resampled.ratios);
  const kneeShare = resampled.knees.length / KNEE_RESAMPLES;
  const kneeRates = resampled.knees.map((index) => offered[index]);
  const interval = kneeRates.length > 0 ? percentileInterval(kneeRates) : null;
  const withInterval = { ...figures, tpsCiLow: interval?.low ?? null, tpsCiHigh: interval?.high ?? null };
  const verdict = (value: LatencyKneeVerdict, note?: string): LatencyKneeFigures => ({
    ...withInterval,
    verdict: value,
    ...(note === undefined ? {} : { note }),
  });

  if (fewestTrials < MIN_KNEE_TRIALS) {
    const trials = `${fewestTrials} trial p99${fewestTrials === 1 ? '' : 's'}`;
    return verdict('undetermined', `${trials} at some rate, need ${MIN_KNEE_TRIALS} per rate for an interval`);
  }
  if (kneeIndex === null) {
    if (kneeShare > NO_KNEE_SHARE) {
      return verdict('undetermined', `undetermined (noise): ${(kneeShare * 100).toFixed(0)}% of resamples find a knee`);
    }
    return verdict(
      'no-knee',
      spread < flatRatio
        ? `no knee within the rates measured: p99 stays flat (max/min ${spread.toFixed(2)})`
        : `no knee within the rates measured: p99 does not stay above ${kneeRatio}× its floor`,
    );
  }
  if (kneeShare < KNEE_FOUND_SHARE) {
    const share = `${(kneeShare * 100).toFixed(0)}%`;
    return verdict('undetermined', `undetermined (noise): only ${share} of resamples find a knee`);
  }
  if (interval !== null && interval.high / interval.low > MAX_KNEE_SPREAD) {
    const span = `${formatOpsInText(interval.low)}–${formatOpsInText(interval.high)} ops/s`;
    return verdict('undetermined', `undetermined (noise): the knee's interval spans ${span}`);
  }
  const hiccup = series[kneeIndex + 1].point.hiccupP99Ns;
  if (hiccup !== undefined && hiccup > 0 && (figures.p99AfterNs ?? Infinity) <= floorRatio * hiccup) {
    return verdict(
      'machine-limited',
      `machine-limited: p99 past the knee is within ${floorRatio}× the machine's own stalls`,
    );
  }
  return verdict('knee');
}

/**
 * The knee: the last rate before the p99 medians pass kneeRatio × the fitted
 * floor and stay past it at every higher rate (stalls only ever add latency,
 * so a rise that falls back is a stall, not a knee); null when none does.
 */
function findKnee(fittedLog: readonly number[], medians: readonly number[], kneeRatio: number): number | null {
  const limit = fittedLog[0] + Math.log(kneeRatio);
  let past = medians.length;
  while (past > 0 && medians[past - 1] > limit) past--;
  return past === 0 || past === medians.length ? null : past - 1;
}

function fitLogP99(logTrials: readonly number[][]): { fitted: number[]; medians: number[] } {
  const medians = logTrials.map(median);
  return {
    fitted: isotonicFit(
      medians,
      logTrials.map((trials) => trials.length),
    ),
    medians,
  };
}

function kneeFigures(
  series: readonly Rate[],
  fittedLog: readonly number[],
  index: number,
  ratios: number[],
): Omit<LatencyKneeFigures, 'verdict'> {
  const at = series[index].point;
  const before = Math.exp(fittedLog[index]);
  const after = Math.exp(fittedLog[index + 1]);
  const interval = ratios.length > 0 ? percentileInterval(ratios) : null;
  return {
    tpsAtKnee: at.offeredOpsPerSec,
    tpsCiLow: null,
    tpsCiHigh: null,
    ratePerThreadAtKnee: at.ratePerThread,
    achievedOpsPerSecAtKnee: at.achievedOpsPerSec,
    p99BeforeNs: before,
    p99AfterNs: after,
    p99Ratio: { median: after / before, ciLow: interval?.low ?? null, ciHigh: interval?.high ?? null },
    hiccupP99Ns: series[index + 1].point.hiccupP99Ns ?? null,
    points: series.length,
  };
}

/** Knee indexes of the resamples that found one, and their p99 ratios across the knee. */
function bootstrapKnees(series: readonly Rate[], kneeRatio: number): { knees: number[]; ratios: number[] } {
  const random = new Sfc32(KNEE_SEED);
  const knees: number[] = [];
  const ratios: number[] = [];
  for (let resample = 0; resample < KNEE_RESAMPLES; resample++) {
    const drawn = series.map(({ logTrials }) =>
      logTrials.map(() => logTrials[Math.floor(random.nextFloat() * logTrials.length)]),
    );
    const { fitted, medians } = fitLogP99(drawn);
    const knee = findKnee(fitted, medians, kneeRatio);
    if (knee === null) continue;
    knees.push(knee);
    ratios.push(Math.exp(fitted[knee + 1] - fitted[knee]));
  }
  return { knees, ratios };
}

function percentileInterval(values: readonly number[]): { low: number; high: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
  return { low: at(0.025), high: at(0.975) };
}

/** One entry per offered rate, ascending; repeats of a rate pool their trials (or their cell p99s). */
function onePointPerRate(points: readonly LoadPoint[]): Rate[] {
  const byRate = new Map<number, LoadPoint[]>();
  for (const point of points) {
    byRate.set(point.offeredOpsPerSec, [...(byRate.get(point.offeredOpsPerSec) ?? []), point]);
  }
  return [...byRate.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, repeats]) => {
      const logTrials = repeats
        .flatMap((point) => (point.trialP99Ns?.length ? point.trialP99Ns : [point.p99Ns]))
        .map((p99) => Math.log(Math.max(p99, 1)));
      const point = [...repeats].sort((a, b) => a.p99Ns - b.p99Ns)[(repeats.length - 1) >> 1];
      return { point, logTrials };
    });
}
