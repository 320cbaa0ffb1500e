/**
 * Write-fraction crossovers: for a workload family `<family>-<N>` (writes-N,
 * churn-N, or any user family named that way), per pair of maps, thread
 * count and load factor, the write fraction at which the faster map changes.
 * The headline case: Go's sync.Map design (`readdirty`) ahead of
 * `rwmutex` when reads dominate, behind once enough writes add new keys.
 *
 * Method, per pair (a, b) and measured write fraction f: the log ratio
 * L(f) = ln(median ops/s of a / median ops/s of b) over the cells' trials.
 * The crossing is the first f where L changes sign, interpolated linearly in
 * L between the two bracketing fractions. Its 95% interval is a bootstrap
 * over trials: each resample draws, per write fraction, trial indexes with
 * replacement — the same indexes for both maps when they ran the same number
 * of trials (trial t of each map ran in the same pass of an interleaved
 * sweep, so pairing cancels the machine's drift) — and re-finds the crossing.
 * When more than 5% of the resamples cross nowhere (or first somewhere else
 * far outside the measured brackets) the interval is open: the data do not
 * pin the crossing down.
 */
import { median, quantile } from 'simple-statistics';
import { Sfc32 } from '../../workloads/random.js';
import { familyMember, type Cell } from '../results/results.js';
import type { Crossover } from './types.js';

/** Resamples of the bootstrap; 2000 keeps a sweep of 10 pairs × 4 thread counts under a second. */
export const CROSSOVER_RESAMPLES = 2000;
const CROSSOVER_SEED = 0x63726f73; // 'cros'
/** Fewest trials per (map, write fraction) for an interval: below, the crossing has none. */
export const MIN_CROSSOVER_TRIALS = 3;
/** Share of resamples that may find no crossing before the interval is called open. */
const MAX_MISSING_SHARE = 0.05;

/** Per write fraction, a map's trial ops/s. */
type Series = Map<number, number[]>;

interface Group {
  family: string;
  threads: number;
  loadFactor: number;
  maps: Map<string, Series>;
}

/** `cells`: closed-loop cells without error. Every pair of maps in a family at equal threads and load factor. */
export function findCrossovers(cells: readonly Cell[], workloadDefinitions: unknown): Crossover[] {
  const groups = new Map<string, Group>();
  for (const cell of cells) {
    const member = familyMember(cell.workload, workloadDefinitions);
    if (member === null) continue;
    const key = `${member.family}\u0000${cell.threads}\u0000${cell.loadFactor}`;
    const group = groups.get(key) ?? {
      family: member.family,
      threads: cell.threads,
      loadFactor: cell.loadFactor,
      maps: new Map(),
    };
    groups.set(key, group);
    const series = group.maps.get(cell.map) ?? new Map<number, number[]>();
    group.maps.set(cell.map, series);
    // The rate the relative answers compare (relative.ts): the quiet rate where every trial has one, else ops/s,
    // so a crossover never contradicts the winners (the window mean and the quiet rate part ways at 2 threads).
    const quiet = cell.trials.every((trial) => typeof trial.quietOpsPerSec === 'number' && trial.quietOpsPerSec > 0);
    const trials = cell.trials.map((trial) => (quiet ? (trial.quietOpsPerSec as number) : trial.opsPerSec));
    series.set(member.writeFraction, [...(series.get(member.writeFraction) ?? []), ...trials]);
  }
  const crossovers: Crossover[] = [];
  for (const group of groups.values()) {
    const names = [...group.maps.keys()].sort();
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const crossover = crossingOf(group, names[i], names[j]);
        if (crossover !== null) crossovers.push(crossover);
      }
    }
  }
  return crossovers.sort(
    (a, b) =>
      a.family.localeCompare(b.family) ||
      a.loadFactor - b.loadFactor ||
      a.threads - b.threads ||
      a.map.localeCompare(b.map) ||
      a.versus.localeCompare(b.versus),
  );
}

/** The pair's crossover, `map` being the one ahead at the fewest writes; null with fewer than 2 common fractions. */
function crossingOf(group: Group, first: string, second: string): Crossover | null {
  const a = group.maps.get(first)!;
  const b = group.maps.get(second)!;
  const fractions = [...a.keys()].filter((fraction) => b.has(fraction)).sort((x, y) => x - y);
  if (fractions.length < 2) return null;
  const aTrials = fractions.map((fraction) => a.get(fraction)!);
  const bTrials = fractions.map((fraction) => b.get(fraction)!);
  const logRatios = fractions.map((_, k) => Math.log(median(aTrials[k]) / median(bTrials[k])));
  const aLeads = logRatios[0] >= 0;
  const [map, versus] = aLeads ? [first, second] : [second, first];
  const [ahead, behind] = aLeads ? [aTrials, bTrials] : [bTrials, aTrials];
  const lead = aLeads ? logRatios : logRatios.map((value) => -value);
  const { family, threads, loadFactor } = group;
  const base = { family, threads, loadFactor, map, versus, points: fractions.length };
  const percent = (fraction: number) => `${+(fraction * 100).toFixed(2)}%`;
  const crossing = firstCrossing(fractions, lead);
  if (crossing === null) {
    return {
      ...base,
      writeFraction: null,
      ciLow: null,
      ciHigh: null,
      opsPerSec: null,
      reason:
        `${map} stays ahead of ${versus} from ${percent(fractions[0])} to ` +
        `${percent(fractions[fractions.length - 1])} writes`,
    };
  }
  const opsPerSec = interpolate(crossing, fractions, ahead.map(median));
  const fewest = Math.min(...ahead.map((trials) => trials.length), ...behind.map((trials) => trials.length));
  if (fewest < MIN_CROSSOVER_TRIALS) {
    return {
      ...base,
      writeFraction: crossing,
      ciLow: null,
      ciHigh: null,
      opsPerSec,
      reason:
        `no interval: ${fewest} trial${fewest === 1 ? '' : 's'} at some write fraction, ` +
        `need ${MIN_CROSSOVER_TRIALS}`,
    };
  }
  const interval = bootstrapCrossing(fractions, ahead, behind);
  return {
    ...base,
    writeFraction: crossing,
    ciLow: interval.low,
    ciHigh: interval.high,
    opsPerSec,
    ...(interval.note === undefined ? {} : { reason: interval.note }),
  };
}

/** The first write fraction where `lead` (ln ahead/behind) goes from ≥ 0 to < 0, interpolated; null if never. */
export function firstCrossing(fractions: readonly number[], lead: readonly number[]): number | null {
  for (let k = 0; k + 1 < fractions.length; k++) {
    if (lead[k] >= 0 && lead[k + 1] < 0) {
      const t = lead[k] / (lead[k] - lead[k + 1]);
      return fractions[k] + t * (fractions[k + 1] - fractions[k]);
    }
  }
  return null;
}

/** 95% percentile interval of the crossing over trial resamples (paired by trial index where the counts match). */
function bootstrapCrossing(
  fractions: readonly number[],
  ahead: readonly number[][],
  behind: readonly number[][],
  resamples = CROSSOVER_RESAMPLES,
): { low: number | null; high: number | null; note?: string } {
  const random = new Sfc32(CROSSOVER_SEED);
  const crossings: number[] = [];
  const lead = new Array<number>(fractions.length);
  for (let resample = 0; resample < resamples; resample++) {
    for (let k = 0; k < fractions.length; k++) {
      const paired = ahead[k].length === behind[k].length;
      const aheadDraw = new Array<number>(ahead[k].length);
      const behindDraw = new Array<number>(behind[k].length);
      for (let i = 0; i < aheadDraw.length; i++) {
        const index = Math.floor(random.nextFloat() * aheadDraw.length);
        aheadDraw[i] = ahead[k][index];
        if (paired) behindDraw[i] = behind[k][index];
      }
      if (!paired) {
        for (let i = 0; i < behindDraw.length; i++) {
          behindDraw[i] = behind[k][Math.floor(random.nextFloat() * behindDraw.length)];
        }
      }
      lead[k] = Math.log(median(aheadDraw) / median(behindDraw));
    }
    // A resample that starts behind crosses "before the first fraction": count it at the lowest fraction.
    const crossing = lead[0] < 0 ? fractions[0] : firstCrossing(fractions, lead);
    if (crossing !== null) crossings.push(crossing);
  }
  const missing = 1 - crossings.length / resamples;
  if (missing > MAX_MISSING_SHARE) {
    const low = crossings.length > 0 ? quantile(crossings, 0.025) : null;
    return { low, high: null, note: `open interval: ${(missing * 100).toFixed(0)}% of resamples never cross` };
  }
  // The missing share sits above the highest fraction: shift the upper quantile accordingly.
  const high = quantile(crossings, Math.min(1, 0.975 / (1 - missing)));
  return { low: quantile(crossings, 0.025), high };
}

function interpolate(at: number, xs: readonly number[], ys: readonly number[]): number {
  for (let k = 0; k + 1 < xs.length; k++) {
    if (at >= xs[k] && at <= xs[k + 1]) return ys[k] + ((at - xs[k]) / (xs[k + 1] - xs[k])) * (ys[k + 1] - ys[k]);
  }
  return at <= xs[0] ? ys[0] : ys[ys.length - 1];
}
