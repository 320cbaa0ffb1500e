/**
 * `--rates auto`: the offered rates of an open-loop series chosen from the
 * cell's own capacity, so nobody has to guess them.
 *
 *   1. capacity: the closed-loop cell (same map, workload, threads, load
 *      factor) is measured first; its median ops/s is the capacity C;
 *   2. bracket: offered loads at AUTO_BRACKET × C (0.1 … 1.2), per thread;
 *   3. refine: once those ran, the knee analysis (analysis/latency.ts) names
 *      the last rate before p99 jumps; AUTO_REFINE_POINTS more rates are
 *      placed evenly inside that bracket, where the knee's interval is decided.
 * Rates are rounded to 3 significant digits, so a re-plan from the same
 * capacity gives the same cells (and `--resume` finds them).
 */
import { latencyKnee, type LoadPoint } from '../analysis/latency.js';
import { cellKey, type CellSpec } from './cell.js';
import { isMeasuredCell, type ResultsCell } from '../results/results.js';

/** Offered load as fractions of the closed-loop capacity. */
export const AUTO_BRACKET = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2] as const;
/** Rates added inside the knee's bracket. */
export const AUTO_REFINE_POINTS = 3;

/** Per-thread rates bracketing a capacity (ops/s over all threads). */
export function bracketRates(capacityOpsPerSec: number, threads: number): number[] {
  if (!(capacityOpsPerSec > 0) || !Number.isFinite(capacityOpsPerSec)) {
    throw new RangeError(`capacityOpsPerSec must be a finite number > 0, got ${capacityOpsPerSec}`);
  }
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`threads must be an integer ≥ 1, got ${threads}`);
  }
  return unique(AUTO_BRACKET.map((fraction) => roundRate((fraction * capacityOpsPerSec) / threads)));
}

/**
 * Extra per-thread rates inside the bracket where p99 jumps, given the
 * open-loop cells measured so far for one series; [] when the series shows
 * no knee (nothing to refine) or fewer than 3 rates ran.
 */
export function refineRates(cells: readonly ResultsCell[], points = AUTO_REFINE_POINTS): number[] {
  const series = cells.filter(isMeasuredCell).filter((cell) => typeof cell.rate === 'number');
  if (series.length < 3) return [];
  const loadPoints: LoadPoint[] = series.map((cell) => ({
    offeredOpsPerSec: (cell.rate as number) * cell.threads,
    ratePerThread: cell.rate as number,
    achievedOpsPerSec: cell.opsPerSec.median,
    p99Ns: cell.latencyNs.p99,
    trialP99Ns: cell.trials.map((trial) => trial.p99Ns).filter((value): value is number => typeof value === 'number'),
  }));
  const knee = latencyKnee(loadPoints);
  if (knee.ratePerThreadAtKnee === null) return [];
  const rates = [...new Set(series.map((cell) => cell.rate as number))].sort((a, b) => a - b);
  const at = rates.indexOf(knee.ratePerThreadAtKnee);
  if (at < 0 || at + 1 >= rates.length) return [];
  const low = rates[at];
  const high = rates[at + 1];
  const extra = Array.from({ length: points }, (_, i) => roundRate(low + ((i + 1) * (high - low)) / (points + 1)));
  return unique(extra).filter((rate) => !rates.includes(rate));
}

/** The capacity a closed-loop cell gives the planner, ops/s over all threads; null for a failed cell. */
export function capacityOf(cell: ResultsCell): number | null {
  if (!isMeasuredCell(cell) || typeof cell.rate === 'number') return null;
  return cell.opsPerSec.median > 0 ? cell.opsPerSec.median : null;
}

function roundRate(rate: number): number {
  return Math.max(1, Number(rate.toPrecision(3)));
}

function unique(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

/**
 * The sweep's hook: after the closed-loop `capacityCell` of `spec` finished,
 * runs its open-loop series — the bracket, then the refinement — through
 * `runCell`, skipping rates already in `cells` (a resumed file). Stops early
 * when `stopped()` (Ctrl-C). A failed capacity cell plans nothing.
 */
export async function runAutoRateSeries(
  spec: CellSpec,
  capacityCell: ResultsCell,
  cells: readonly ResultsCell[],
  runCell: (spec: CellSpec) => Promise<ResultsCell>,
  stopped: () => boolean,
): Promise<void> {
  const capacity = capacityOf(capacityCell);
  if (capacity === null) return;
  const series = (): ResultsCell[] =>
    cells.filter(
      (cell) =>
        typeof cell.rate === 'number' &&
        cell.map === spec.map &&
        cell.workload === spec.workload &&
        cell.threads === spec.threads &&
        cell.loadFactor === spec.loadFactor,
    );
  const runRates = async (rates: readonly number[]): Promise<void> => {
    for (const rate of rates) {
      if (stopped()) return;
      const rateSpec = { ...spec, rate };
      if (cells.some((cell) => cellKey(cell) === cellKey(rateSpec))) continue;
      await runCell(rateSpec);
    }
  };
  await runRates(bracketRates(capacity, spec.threads));
  await runRates(refineRates(series()));
}
