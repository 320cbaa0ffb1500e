/**
 * A baseline made of several runs of the same code.
 *
 * One baseline run carries that run's luck: every cell is measured in one
 * process at one moment, and a cell that happened to run fast makes every
 * later gate run against it look slower, the same cell every time, which a
 * confirming re-run cannot fix (it compares with the same lucky number). Pooling
 * k runs per cell (each scaled to a common calibration) puts the run-to-run
 * spread into the baseline's trials. The median then carries 1/√k of one
 * run's luck, and a head run that lands inside the baseline runs' spread no
 * longer tests as significant.
 *
 * scripts/evidence/gate-simulate.ts (8 gated cells, per-trial noise 10–15%, per-run
 * per-cell noise 5%, threshold 15%): one baseline run gives a 24–25% chance of
 * at least one false failure in 10 gate runs, three runs 13–16%; the same
 * three runs lift detection of a 30% loss from 65–90% to 88–98%.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { medianWithCI } from '../results/stats.js';
import { isMeasuredCell, type Cell, type Results, type ResultsCell } from '../results/results.js';
import { cellKeyOf, cellLabel, trialFigures } from './compare.js';
import { UsageError } from '../run/options.js';

export interface BaselineRun {
  results: Results;
  source: string;
}

/** The CPU a run was measured on, as the gate matches it: model and core count. */
export interface MachineKind {
  cpuModel: string;
  cores: number;
}

const machineLabel = (machine: MachineKind): string => `${machine.cpuModel} × ${machine.cores}`;

/**
 * `--baseline` entries as files: a file stays as it is; a directory gives
 * every `.json` file under it (subdirectories included, sorted by path), so
 * `results/baseline` holds one subdirectory of runs per machine kind. Hidden
 * names (a segment starting with '.') are skipped: `npm run baseline` records
 * under `.recording-<n>.json` until every run has succeeded.
 * A directory with no results file is a usage error naming it.
 */
export function expandBaselinePaths(paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      return [path]; // reading it reports what is wrong, with the path
    }
    if (!isDirectory) return [path];
    const files = readdirSync(path, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.json') && !name.split(sep).some((segment) => segment.startsWith('.')))
      .map((name) => join(path, name))
      .filter((file) => statSync(file).isFile())
      .sort();
    if (files.length === 0) throw new UsageError(`--baseline: the directory ${path} holds no .json results file`);
    return files;
  });
}

export interface BaselineSelection {
  runs: BaselineRun[];
  /** Said in the gate's warnings; null when every run was on the gated machine's CPU. */
  note: string | null;
}

/**
 * Which baseline runs to pool for a gate on `machine`. Calibration
 * normalisation corrects a machine's speed, not its shape: measured here, an
 * Intel Xeon baseline against an AMD EPYC head put the normalised cells
 * anywhere from +6% to +20% (memory-bound cells move more than the
 * arithmetic reference loop), which is as large as the threshold. So when the
 * baseline holds runs from several CPU models, only the runs measured on this
 * machine's CPU (model and cores) are pooled. When none was, all are pooled
 * and the note says the deltas can be off by that much.
 */
export function selectBaselineRuns(runs: readonly BaselineRun[], machine: MachineKind): BaselineSelection {
  const kinds = [...new Set(runs.map((run) => machineLabel(run.results.env)))];
  const here = machineLabel(machine);
  const matching = runs.filter((run) => machineLabel(run.results.env) === here);
  if (matching.length === runs.length) return { runs: [...runs], note: null };
  if (matching.length > 0) {
    return {
      runs: matching,
      note: `the baseline holds runs from ${kinds.length} CPU kinds (${kinds.join('; ')}); pooled the ${matching.length} measured on this one (${here}) and set ${runs.length - matching.length} aside`,
    };
  }
  return {
    runs: [...runs],
    note:
      `no baseline run was measured on this CPU (${here}); pooled all ${runs.length} from ${kinds.join('; ')}. ` +
      'Normalised deltas across CPU models can be off by as much as the threshold: record a baseline on this machine kind (npm run baseline) and commit it',
  };
}

export interface MergedBaseline {
  results: Results;
  /** 'a.json + b.json + c.json'. */
  source: string;
  runs: number;
  /** Each run's calibration over the merged reference calibration. */
  calibrationRatios: number[];
}

/**
 * Pools the trials of each cell over the runs, each run's trials scaled by
 * reference / run calibration; the reference is the median calibration of the
 * runs. A cell that failed in some runs is pooled over the others; one that
 * failed in all keeps its error. Cells are kept in first-seen order.
 */
export function mergeBaselines(runs: readonly BaselineRun[]): MergedBaseline {
  if (runs.length === 0) throw new UsageError('--baseline needs at least one results file');
  const source = runs.map((run) => run.source).join(' + ');
  if (runs.length === 1) return { results: runs[0].results, source, runs: 1, calibrationRatios: [1] };

  const calibrations = runs.map((run) => run.results.calibration.opsPerSec);
  const reference = [...calibrations].sort((a, b) => a - b)[Math.floor((calibrations.length - 1) / 2)];
  const byLabel = new Map<string, Array<{ cell: ResultsCell; scale: number }>>();
  runs.forEach((run, index) => {
    const scale = reference / calibrations[index];
    for (const cell of run.results.cells) {
      const label = cellLabel(cellKeyOf(cell));
      const entries = byLabel.get(label) ?? [];
      if (entries.length === 0) byLabel.set(label, entries);
      entries.push({ cell, scale });
    }
  });

  const cells: ResultsCell[] = [];
  for (const entries of byLabel.values()) {
    const measured = entries.flatMap(({ cell, scale }) => (isMeasuredCell(cell) ? [{ cell, scale }] : []));
    if (measured.length === 0) {
      cells.push(entries[0].cell);
      continue;
    }
    const trials = measured.flatMap(({ cell, scale }) =>
      cell.trials.map((trial) => ({
        ...trial,
        opsPerSec: trial.opsPerSec * scale,
        ...(trial.quietOpsPerSec === undefined ? {} : { quietOpsPerSec: trial.quietOpsPerSec * scale }),
        // Scaled alike, so quiet ÷ sentinel (the 'sentinel' metric) is unchanged by pooling.
        ...(trial.sentinelOpsPerSec === undefined ? {} : { sentinelOpsPerSec: trial.sentinelOpsPerSec * scale }),
      })),
    );
    const merged: Cell = {
      ...measured[0].cell,
      trials,
      opsPerSec: medianWithCI(trials.map((trial) => trial.opsPerSec)),
      baselineRuns: measured.length,
    };
    const quiet = trialFigures(merged, 'quiet');
    if (quiet) merged.quietOpsPerSec = medianWithCI(quiet);
    else delete merged.quietOpsPerSec;
    cells.push(merged);
  }
  const first = runs[0].results;
  return {
    results: {
      ...first,
      calibration: { ...first.calibration, opsPerSec: reference },
      cells,
      baselineSources: runs.map((run) => run.source),
    },
    source,
    runs: runs.length,
    calibrationRatios: calibrations.map((calibration) => calibration / reference),
  };
}
