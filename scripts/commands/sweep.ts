/**
 * `maplab sweep`: map × workload × threads × load factor (× rate), written to a
 * results file after every cell. Ctrl-C keeps every finished cell (exit 130);
 * `--resume` finishes the file.
 */
import type { Command } from 'commander';
import { action, addOptions } from '../cli-kit.js';
import { resolveSweep, sweepOptionSpecs } from '../../harness/run/config.js';
import { describeCellResult, describeSpec, ProgressBar, summaryTable } from '../../harness/run/progress.js';
import { serializeResults } from '../../harness/results/results.js';
import { formatProfileSummary, summariseProfiles } from '../../harness/trial/profile-summary.js';
import {
  planCells,
  prepareSweep,
  runSweep,
  type PreparedSweep,
  type SweepObserver,
  type SweepOutcome,
} from '../../harness/run/sweep.js';

const EXAMPLES = `
Examples:
  $ maplab sweep --preset quick --out results/latest.json
  $ maplab sweep --preset ci --maps js-map,sharded --threads 1,2 --out ci.json --force
  $ maplab sweep --map-module ./my-map.js --maps my-map,rwmutex --workloads read-heavy
  $ maplab sweep --mix get=0.9,set=0.1 --distribution zipfian --prefill 0.75 --threads 1,2,4
  $ maplab sweep --workloads read-heavy --threads 2 --rates 100000,500000,1000000   (open loop)
  $ maplab sweep --resume --out results/latest.json        (finish an interrupted sweep)

Precedence: preset < --config file < flags. Exit codes: 0 done (cells that failed are
recorded as errors), 2 bad flags/config (nothing written), 130 interrupted (file kept, --resume).`;

export function register(program: Command): void {
  const command = program
    .command('sweep')
    .description('sweep maps × workloads × threads × load factors; write a results file after every cell');
  addOptions(command, sweepOptionSpecs);
  command.addHelpText('after', EXAMPLES);
  command.action(
    action(async (flags: Record<string, unknown>) => {
      const resolved = await resolveSweep(flags);
      const prepared = withProfileDir(await prepareSweep(resolved), resolved.config.profileDir ?? null);
      const observer = observerFor(prepared);
      const outcome = await runWithSignals(prepared, observer).finally(() => observer.stop?.());
      const { results } = outcome;
      if (outcome.interrupted) {
        process.stderr.write(
          `maplab: interrupted; ${results.cells.length} finished cells kept in ${prepared.out}; ` +
            `finish with: maplab sweep --resume --out ${prepared.out}\n`,
        );
        return 130;
      }
      if (prepared.json) process.stdout.write(serializeResults(results));
      else if (!prepared.quiet)
        process.stdout.write(`${summaryTable(results)}\n${footer(prepared, outcome)}\n${profileSummary(prepared)}`);
      return 0;
    }),
  );
}

/** --profile applies to this invocation, also when --resume adopted the file's config. */
export function withProfileDir(prepared: PreparedSweep, profileDir: string | null): PreparedSweep {
  return { ...prepared, config: { ...prepared.config, profileDir } };
}

/** With --profile: the top self-time functions per (map, threads), as text ending in a newline; else ''. */
export function profileSummary(prepared: PreparedSweep): string {
  const dir = prepared.config.profileDir;
  if (!dir) return '';
  return `\n${formatProfileSummary(dir, summariseProfiles(dir, planCells(prepared.config), prepared.config.trials))}\n`;
}

function footer(prepared: PreparedSweep, outcome: SweepOutcome): string {
  const cells = outcome.results.cells;
  const failed = cells.filter((cell) => cell.error !== undefined).length;
  const wallMs = Number((outcome.results.sweep as { wallMs?: number } | undefined)?.wallMs ?? 0);
  return (
    `${cells.length} cells (${failed} failed) in ${(wallMs / 1000).toFixed(1)} s` +
    (prepared.out ? ` → ${prepared.out}` : '')
  );
}

/** Progress on stderr: a bar on a terminal, one line per cell otherwise; nothing with --quiet or --json. */
function observerFor(prepared: PreparedSweep): SweepObserver & { stop?(): void } {
  if (prepared.quiet) return {};
  const note = (message: string): void => void process.stderr.write(`maplab: ${message}\n`);
  const { config } = prepared;
  if (process.stderr.isTTY) {
    const bar = new ProgressBar(process.stderr, config.trials * (config.warmupMs + config.durationMs) * 1.1);
    return {
      cellStarted: (spec, done, total) => bar.cellStarted(spec, done, total),
      cellFinished: (cell, done, total) => {
        if (cell.error !== undefined) {
          bar.clear();
          note(`${describeSpec(cell)}: ${cell.error}`);
        }
        bar.cellFinished(cell, done, total);
        if (done === total) bar.stop();
      },
      note: (message) => {
        bar.clear();
        note(message);
      },
      stop: () => bar.stop(),
    };
  }
  if (prepared.json) return { note };
  const total = planCells(config).length;
  return {
    cellFinished: (cell, done) =>
      void process.stderr.write(`[${done}/${total}] ${describeSpec(cell)}: ${describeCellResult(cell)}\n`),
    note,
  };
}

/** Ctrl-C / SIGTERM: stop the cell in flight and keep the file (a second Ctrl-C exits at once). */
export async function runWithSignals(prepared: PreparedSweep, observer: SweepObserver): Promise<SweepOutcome> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runSweep(prepared, observer, controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
