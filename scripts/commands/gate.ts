/**
 * `maplab gate`: the CI regression gate. Compares the code under test with a
 * baseline results file and exits 0 (pass, or inconclusive: a slowdown seen
 * only on a busy machine), 1 (a cell regressed, confirmed by a re-run when the
 * gate ran the sweep) or 2 (bad flags or an unusable baseline/current file,
 * named in the message). The rules and why they are
 * what they are: harness/gate/gate.ts and harness/README.md, "Compare and gate".
 */
import type { Command } from 'commander';
import { appendFileSync, existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { cellKeyOf, cellLabel } from '../../harness/gate/compare.js';
import {
  expandBaselinePaths,
  mergeBaselines,
  selectBaselineRuns,
  type BaselineRun,
} from '../../harness/gate/baseline.js';
import { commitOf, localMachineKind } from '../../harness/run/env.js';
import { planAgainst, splitAgainst } from '../../harness/gate/against.js';
import { resolveSweep } from '../../harness/run/config.js';
import { baseMapOf, loadBaseMaps } from '../../harness/run/map-source.js';
import { CLI_PATH } from '../../harness/run/jit.js';
import { maxThreadsFor, runGate, whyNotGated, type GateReport, type Remeasure } from '../../harness/gate/gate.js';
import { gateOptions, type ReportFormat } from '../../harness/gate/options.js';
import { runSweepProcess, SweepFailedError, type SweepRequest } from '../../harness/gate/sweep-process.js';
import { resolveFlags, UsageError } from '../../harness/run/options.js';
import { readResultsFile, writeResultsFile, type Results } from '../../harness/results/results.js';
import { renderGateMarkdown, renderGateText } from '../../reports/compare-gate.js';
import { writeFileAtomic } from '../../reports/site.js';
import { action, addOptions } from '../cli-kit.js';

/** dist/scripts/cli.js, beside this command's directory once compiled. */

function renderGate(report: GateReport, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(report, null, 2) + '\n';
  return format === 'md' ? renderGateMarkdown(report) : renderGateText(report);
}

export function register(program: Command): void {
  const command = program
    .command('gate')
    .description(
      'fail (exit 1) when the code under test is significantly and materially slower than a baseline results file',
    );
  addOptions(command, gateOptions).action(
    action(async (flags: Record<string, unknown>) => {
      const options = resolveFlags(gateOptions, flags);
      if (options.against !== undefined) return gateAgainst(options, flags);
      if (options.test === 'paired') {
        throw new UsageError(
          '--test paired pairs trials measured side by side in one sweep: it needs --against <baseline code>',
        );
      }
      if (options.baseline === undefined)
        throw new UsageError('gate needs --baseline <results.json> (stored runs) or --against <path> (code)');
      if (options.current === undefined && options.preset === undefined) {
        throw new UsageError(
          'gate needs --current <results.json> (measured already) or --preset <name> (run the sweep now)',
        );
      }
      const confirm = options.confirm ?? options.current === undefined;
      if (confirm && options.preset === undefined) {
        throw new UsageError('--confirm re-runs regressed cells with the sweep: give --preset <name> as well');
      }
      const baselineRuns = expandBaselinePaths(options.baseline).map((path) => ({
        results: readResultsFile(path),
        source: path,
      }));
      // Pool only the runs measured on the gated machine's CPU when the baseline has them (baseline.ts, selectBaselineRuns).
      const measured = options.current === undefined ? undefined : readResultsFile(options.current);
      const gatedMachine = measured?.env ?? localMachineKind();
      const selection = selectBaselineRuns(baselineRuns, gatedMachine);
      const merged = mergeBaselines(selection.runs);
      const baselineSource = merged.source;
      const fullBaseline = merged.results;
      if (fullBaseline.cells.every((cell) => cell.error !== undefined)) {
        throw new UsageError(`${baselineSource}: the baseline has no cell with numbers to compare against`);
      }
      const mapAliases = options.mapAlias ?? {};
      // Running the sweep here: measure only the cells that can be gated (rule 5, harness/gate/gate.ts), which also
      // keeps the CI step short. This machine is the one the sweep will run on, so its cores bound the default.
      let baseline = fullBaseline;
      let maxThreads = options.maxThreads;
      const skipped: string[] = [];
      if (options.current === undefined) {
        maxThreads ??= maxThreadsFor(fullBaseline.env.cores, availableParallelism());
        const limit = maxThreads;
        const gateable = (cell: Results['cells'][number]) => whyNotGated(cell, limit) === null;
        baseline = { ...fullBaseline, cells: fullBaseline.cells.filter(gateable) };
        skipped.push(...fullBaseline.cells.filter((cell) => !gateable(cell)).map((cell) => cellLabel(cellKeyOf(cell))));
        if (baseline.cells.every((cell) => cell.error !== undefined)) {
          throw new UsageError(
            `${baselineSource}: no baseline cell with numbers can be gated (≤ ${limit} threads, --max-threads; not private, not oversubscribed)`,
          );
        }
      }
      const measurable = baseline.cells.filter((cell) => cell.error === undefined);

      // --runs fresh sweep processes, pooled per cell like a multi-run baseline: a slow state that holds a
      // worker for a whole run (seen here: every trial of one cell at 0.6× for 25 s) then weighs one run in n.
      const sweep = async (cells: SweepRequest['cells']): Promise<Results> => {
        const runs: BaselineRun[] = [];
        for (let run = 1; run <= options.runs; run++) {
          const results = await runSweepProcess(sweepRequest(options, cells, mapAliases));
          runs.push({ results, source: `run ${run}` });
        }
        return mergeBaselines(runs).results;
      };
      let report: GateReport;
      try {
        let current: Results;
        let currentSource: string;
        if (measured !== undefined) {
          current = measured;
          currentSource = options.current as string;
        } else {
          current = await sweep(measurable.map((cell) => cellKeyOf(cell)));
          currentSource = `sweep --preset ${options.preset} (run now, ${options.runs} run(s) pooled)`;
        }
        if (options.out !== undefined) writeResultsFile(options.out, current);
        const remeasure: Remeasure | undefined =
          options.preset === undefined
            ? undefined
            : async (cells) => ({
                results: await sweep(cells),
                source: `sweep --preset ${options.preset} (confirmation re-run)`,
              });
        report = await runGate(
          baseline,
          current,
          {
            alpha: options.alpha,
            thresholdPct: options.threshold,
            metric: options.metric,
            effectQuantile: options.effectQuantile,
            test: options.test,
            normalize: options.normalize ?? true,
            confirm,
            calibrationTolerancePct: options.calibrationTolerance,
            maxThreads,
            mapAliases,
            baselineSource,
            currentSource,
          },
          remeasure,
        );
        const tolerance = 1 + options.calibrationTolerance / 100;
        if (merged.calibrationRatios.some((ratio) => ratio > tolerance || ratio < 1 / tolerance)) {
          report.warnings.push(
            `the ${merged.runs} baseline runs disagree on calibration (${merged.calibrationRatios.map((ratio) => `×${ratio.toFixed(2)}`).join(', ')} ` +
              `of their median): some were measured on a busy machine; refresh the baseline on a quiet one`,
          );
        }
        if (selection.note !== null) report.warnings.push(selection.note);
        if (skipped.length > 0) {
          report.warnings.push(
            `${skipped.length} baseline cell(s) that are not gated (more than ${maxThreads} threads, private or oversubscribed) were not measured: ${skipped.join(', ')}`,
          );
        }
      } catch (error) {
        return sweepFailed(error);
      }
      return publishVerdict(report, options);
    }),
  );
}

type GateFlags = ReturnType<typeof resolveFlags<typeof gateOptions>>;

/** One of the sweeps the gate runs: the preset, restricted to `cells`, with the plugin and runtimes passed through. */
function sweepRequest(
  options: GateFlags,
  cells: SweepRequest['cells'],
  mapAliases: Readonly<Record<string, string>>,
): SweepRequest {
  return {
    cliPath: CLI_PATH,
    preset: options.preset as string,
    cells,
    mapModule: options.mapModule,
    mapAliases,
    node: options.node,
    timeoutMs: options.timeout * 1000,
  };
}

/**
 * `--against`: the baseline code measured now, beside the code under test
 * (harness/gate/against.ts): every gated cell of the preset as <map> and
 * <map>@base in one interleaved sweep, `--runs` fresh processes, each cell
 * compared pair by pair; the re-run of a candidate measures both sides again.
 */
async function gateAgainst(options: GateFlags, flags: Record<string, unknown>): Promise<number> {
  // Commander sets normalize to true unless --no-normalize is given.
  const clash = (['baseline', 'current'] as const).find((name) => flags[name] !== undefined);
  if (clash !== undefined || flags.normalize === false) {
    throw new UsageError(
      `--against measures the baseline now, beside the code under test: drop --${clash ?? 'no-normalize'}`,
    );
  }
  if (options.preset === undefined)
    throw new UsageError('--against runs the sweep now: give --preset <name> (e.g. ci)');
  if (flags.test !== undefined && options.test !== 'paired') {
    throw new UsageError(`--against compares trials pair by pair: --test must be paired, got ${options.test}`);
  }
  const against = options.against as string;
  const baseMaps = (await loadBaseMaps(against)).map((base) => baseMapOf(base.source.name) as string);
  // The preset's plan as the sweep would resolve it (maps, workloads, threads, load factors).
  const resolved = await resolveSweep({
    preset: options.preset,
    ...(options.mapModule === undefined ? {} : { mapModule: options.mapModule }),
  });
  const mapAliases = options.mapAlias ?? {};
  const cores = availableParallelism();
  const maxThreads = options.maxThreads ?? maxThreadsFor(cores, cores);
  const plan = planAgainst(resolved.config, {
    shared: (name) => resolved.maps.get(name)?.factory.shared !== false,
    baseMaps,
    mapAliases,
    maxThreads,
    cores,
  });
  if (plan.cells.length === 0) {
    throw new UsageError(
      `--against: no cell of --preset ${options.preset} can be gated against ${against} (${plan.skipped.join('; ') || `no thread count ≤ ${maxThreads}`})`,
    );
  }
  const baseCommit = existsSync(against) && statSync(against).isDirectory() ? commitOf(against) : undefined;
  const measure = async (cells: SweepRequest['cells']): Promise<{ head: Results; base: Results }> => {
    const heads: BaselineRun[] = [];
    const bases: BaselineRun[] = [];
    for (let run = 1; run <= options.runs; run++) {
      const results = await runSweepProcess({ ...sweepRequest(options, cells, mapAliases), against });
      const sides = splitAgainst(results, run);
      heads.push({ results: sides.head, source: `run ${run}` });
      // Measured in the same process, but of other code: its own commit, when the path is a git work tree.
      const {
        commit: _head,
        commitDirty: _dirty,
        ...env
      } = sides.base.env as Results['env'] & { commitDirty?: boolean };
      const baseEnv = baseCommit === undefined ? env : { ...env, commit: baseCommit };
      bases.push({ results: { ...sides.base, env: baseEnv }, source: `run ${run}` });
    }
    return { head: mergeBaselines(heads).results, base: mergeBaselines(bases).results };
  };
  const baselineSource = `${against} (measured now, beside the code under test)`;
  let report: GateReport;
  try {
    const first = await measure(plan.cells);
    if (options.out !== undefined) writeResultsFile(options.out, first.head);
    report = await runGate(
      first.base,
      first.head,
      {
        alpha: options.alpha,
        thresholdPct: options.threshold,
        metric: options.metric,
        effectQuantile: options.effectQuantile,
        test: 'paired',
        normalize: false,
        confirm: options.confirm ?? true,
        calibrationTolerancePct: options.calibrationTolerance,
        maxThreads,
        mapAliases,
        baselineSource,
        currentSource: `sweep --preset ${options.preset} (run now, ${options.runs} run(s) pooled)`,
      },
      async (cells) => {
        const rerun = await measure(cells);
        return {
          results: rerun.head,
          baseline: rerun.base,
          source: `sweep --preset ${options.preset} (confirmation re-run)`,
        };
      },
    );
    if (plan.skipped.length > 0) report.warnings.push(`not gated: ${plan.skipped.join('; ')}`);
  } catch (error) {
    return sweepFailed(error);
  }
  return publishVerdict(report, options);
}

/** The code under test did not run to completion: that fails the gate, but it is not a usage error. */
function sweepFailed(error: unknown): number {
  if (!(error instanceof SweepFailedError)) throw error;
  process.stderr.write(`maplab gate: FAIL: ${error.message}\n`);
  appendStepSummary(`## maplab gate: ❌ FAIL: the benchmark did not complete\n\n\`${error.message}\`\n`);
  return 1;
}

/** Prints the verdict, saves it when asked, adds it to the CI step summary; the exit code. */
function publishVerdict(report: GateReport, options: GateFlags): number {
  process.stdout.write(renderGate(report, options.format));
  if (options.verdictOut !== undefined) writeFileAtomic(options.verdictOut, renderGate(report, 'json'));
  appendStepSummary(renderGateMarkdown(report));
  return report.passed ? 0 : 1;
}

/** GitHub Actions shows whatever a step appends to $GITHUB_STEP_SUMMARY on the run's page. */
function appendStepSummary(markdown: string): void {
  const path = process.env.GITHUB_STEP_SUMMARY;
  if (path) appendFileSync(path, markdown + '\n');
}
