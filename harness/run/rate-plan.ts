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
 * capacity gives the same cells (and `--resume` finds them). The refinement
 * reads the bracket's cells only, so a resumed series refines where a fresh
 * one would.
 *
 * Interleaved sweeps (every preset) run the three steps as phases of rounds
 * (harness/run/sweep.ts, `planAutoRatePhase`): every capacity cell first,
 * then every series' bracket, then every refinement, each phase's trials
 * round-robin like any interleaved cells. A visit holds the maps' cells at
 * the same step of their series (the same fraction of each one's capacity),
 * so a slow spell of the machine lands on every rate of a series alike
 * instead of on the few rates that happened to run during it: a knee is a
 * comparison across rates, and a drift that rises or falls over the minutes
 * a series took would otherwise bend its p99 curve.
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

/** The open-loop cells of `spec`'s series among `cells` (any rate; same map, workload, threads, load factor, runtime). */
function seriesOf(spec: CellSpec, cells: readonly ResultsCell[]): ResultsCell[] {
  const key = cellKey({ ...spec, rate: null });
  return cells.filter((cell) => typeof cell.rate === 'number' && cellKey({ ...cell, rate: null }) === key);
}

/** The bracket's cells of a series: those at the rates `capacity` plans. */
function bracketCells(spec: CellSpec, capacity: number, cells: readonly ResultsCell[]): ResultsCell[] {
  const bracket = new Set(bracketRates(capacity, spec.threads));
  return seriesOf(spec, cells).filter((cell) => bracket.has(cell.rate as number));
}

/** One phase of an interleaved `--rates auto` sweep. */
export type AutoRateStage = 'bracket' | 'refine';

/** A cell an interleaved phase runs, and the visit group it joins: the maps' cells at the same step of their series. */
export interface PhaseCell {
  spec: CellSpec;
  group: string;
}

/**
 * The open-loop cells of one phase of an interleaved `--rates auto` sweep,
 * for every capacity spec whose closed-loop cell is in `cells` and did not
 * fail: 'bracket', the rates AUTO_BRACKET plans that are not measured yet;
 * 'refine', the rates inside the bracket where p99 jumps (refineRates over
 * the bracket's cells) not measured yet. Each cell's `group` names its step
 * (workload, threads, load factor, stage and index), so a visit runs every
 * map at the same fraction of its capacity.
 */
export function planAutoRatePhase(
  stage: AutoRateStage,
  capacitySpecs: readonly CellSpec[],
  cells: readonly ResultsCell[],
): PhaseCell[] {
  const byKey = new Map(cells.map((cell) => [cellKey(cell), cell]));
  const done = new Set(byKey.keys());
  const planned: PhaseCell[] = [];
  for (const spec of capacitySpecs) {
    const capacityCell = byKey.get(cellKey({ ...spec, rate: null }));
    const capacity = capacityCell === undefined ? null : capacityOf(capacityCell);
    if (capacity === null) continue;
    const rates =
      stage === 'bracket' ? bracketRates(capacity, spec.threads) : refineRates(bracketCells(spec, capacity, cells));
    rates.forEach((rate, step) => {
      const rateSpec: CellSpec = { ...spec, rate };
      if (done.has(cellKey(rateSpec))) return;
      planned.push({
        spec: rateSpec,
        group: `${spec.workload}|t${spec.threads}|lf${spec.loadFactor}|${stage} ${step}`,
      });
    });
  }
  return planned;
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
 * Sweeps with `--interleave false`: after the closed-loop `capacityCell` of `spec` finished,
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
  const runRates = async (rates: readonly number[]): Promise<void> => {
    for (const rate of rates) {
      if (stopped()) return;
      const rateSpec = { ...spec, rate };
      if (cells.some((cell) => cellKey(cell) === cellKey(rateSpec))) continue;
      await runCell(rateSpec);
    }
  };
  await runRates(bracketRates(capacity, spec.threads));
  await runRates(refineRates(bracketCells(spec, capacity, cells)));
}
