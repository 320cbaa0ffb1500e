/**
 * `maplab gate --against <baseline code>`: the baseline is not a results file
 * from another day or another host but the baseline version of the code,
 * measured now, on this machine, in the same sweep as the code under test.
 * Each gated cell's map runs twice, as itself and as `<map>@base` (loaded from
 * the baseline tree, harness/run/map-source.ts), in the same interleaved
 * rounds, so trial r of one and trial r of the other were measured side by
 * side (harness/run/schedule.ts) and the machine's drift, which moves whole
 * runs by tens of percent, cancels in their ratio. The gate then reads the
 * median of the pairs' ratios with a sign test over the pairs
 * (compare.ts, test 'paired') instead of comparing two distributions
 * measured apart; there is no calibration to normalise by, and no host
 * difference to allow for.
 *
 * This file turns a preset into the cells to measure, and one such sweep's
 * results into the two sides the gate compares.
 */
import { isMeasuredCell, type Results, type ResultsCell } from '../results/results.js';
import type { SweepConfig } from '../run/config.js';
import { baseMapOf } from '../run/map-source.js';
import type { CellKey } from './compare.js';
import { whyNotGated } from './gate.js';

/**
 * Rounds of the i-th pooled sweep are renumbered to i × stride + round, so
 * that pooling several sweeps never pairs trials of different processes.
 */
export const ROUND_STRIDE = 1_000_000;

export interface AgainstPlan {
  /** Cells in baseline names: the sweep runs each as the head map (through aliases) and as <map>@base. */
  cells: CellKey[];
  /** Maps of the preset left out, with why. */
  skipped: string[];
}

/**
 * The gated cells of a preset: the maps that have a baseline version
 * (directly or through --map-alias), not private, at most `maxThreads`
 * threads and not oversubscribed (gate.ts rule 5), closed loop.
 */
export function planAgainst(
  config: Pick<SweepConfig, 'maps' | 'workloads' | 'threads' | 'loadFactors' | 'loadFactorsByWorkload'>,
  options: {
    /** Whether each swept map shares memory (private maps are never gated). */
    shared: (name: string) => boolean;
    /** Names the baseline code has (without the suffix). */
    baseMaps: readonly string[];
    mapAliases: Readonly<Record<string, string>>;
    maxThreads: number;
    cores: number;
  },
): AgainstPlan {
  const skipped: string[] = [];
  const maps: string[] = [];
  for (const head of config.maps.filter((name) => baseMapOf(name) === null)) {
    const base = options.mapAliases[head] ?? head;
    if (!options.shared(head)) skipped.push(`${head}: private, not gated`);
    else if (!options.baseMaps.includes(base)) skipped.push(`${head}: the baseline code has no '${base}'`);
    else if (!maps.includes(base)) maps.push(base);
  }
  const threads = config.threads.filter(
    (count) => whyNotGated({ threads: count, oversubscribed: count > options.cores }, options.maxThreads) === null,
  );
  const cells: CellKey[] = [];
  for (const workload of config.workloads) {
    const loadFactors = config.loadFactorsByWorkload[workload] ?? config.loadFactors;
    for (const map of maps)
      for (const count of threads)
        for (const loadFactor of loadFactors) cells.push({ map, workload, threads: count, loadFactor });
  }
  return { cells, skipped };
}

/**
 * One sweep's results as the two sides of a gate: the code under test (every
 * map not named <map>@base) and the baseline (the <map>@base cells, named
 * <map> again). Rounds are renumbered by `run` (ROUND_STRIDE) on both sides
 * alike, so pairs stay within this sweep when several are pooled.
 */
export function splitAgainst(results: Results, run: number): { head: Results; base: Results } {
  const renumber = (cell: ResultsCell, map: string): ResultsCell => {
    if (!isMeasuredCell(cell)) return { ...cell, map };
    return {
      ...cell,
      map,
      trials: cell.trials.map((trial) =>
        typeof trial.round === 'number' ? { ...trial, round: run * ROUND_STRIDE + trial.round } : trial,
      ),
    };
  };
  const head: ResultsCell[] = [];
  const base: ResultsCell[] = [];
  for (const cell of results.cells) {
    const baseName = baseMapOf(cell.map);
    if (baseName === null) head.push(renumber(cell, cell.map));
    else base.push(renumber(cell, baseName));
  }
  return { head: { ...results, cells: head }, base: { ...results, cells: base } };
}
