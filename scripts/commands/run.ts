/**
 * `maplab run`: one cell, measured exactly as a sweep measures it, printed as a
 * human summary (or the results document with --json; a file with --out).
 */
import type { Command } from 'commander';
import { action, addOptions } from '../cli-kit.js';
import { resolveRun, runOptionSpecs } from '../../harness/run/config.js';
import { UsageError } from '../../harness/run/options.js';
import { describeSpec, formatCount, runtimeTable } from '../../harness/run/progress.js';
import { formatNs } from '../../reports/format.js';
import {
  serializeResults,
  writeResultsFile,
  type Cell,
  type Results,
  type ResultsCell,
  type Transparency,
} from '../../harness/results/results.js';
import { prepareSweep } from '../../harness/run/sweep.js';
import { measureBareLoop } from '../../harness/trial/transparency.js';
import { streamLength } from '../../harness/run/cell.js';
import { generateOpStream, prefillEntries } from '../../workloads/index.js';
import { profileSummary, runWithSignals, withProfileDir } from './sweep.js';

const EXAMPLES = `
Examples:
  $ maplab run --map js-map --workload read-heavy --threads 2
  $ maplab run --map js-map --mix get=1 --prefill 1 --threads 1 --compare-bare
  $ maplab run --map-module ./my-map.js --map my-map --workload write-heavy --json
  $ maplab run --workload read-heavy --threads 2 --rate 200000        (open loop)`;

export function register(program: Command): void {
  const command = program
    .command('run')
    .description('measure one cell (map, workload, threads, load factor) and print a summary');
  addOptions(command, runOptionSpecs);
  command.addHelpText('after', EXAMPLES);
  command.action(
    action(async (flags: Record<string, unknown>) => {
      const resolved = await resolveRun(flags);
      const { config } = resolved;
      if (config.workloads.length !== 1) {
        throw new UsageError(
          `--workload: the workload file holds ${config.workloads.length} workloads (${config.workloads.join(', ')}); pick one with --workload`,
        );
      }
      if (resolved.compareBare && (config.threads[0] !== 1 || config.rates !== null)) {
        throw new UsageError('--compare-bare compares one closed-loop thread: use --threads 1 and no --rate');
      }
      const prepared = withProfileDir(await prepareSweep(resolved), resolved.config.profileDir ?? null);
      const outcome = await runWithSignals(prepared, {});
      if (outcome.interrupted) return 130;
      const results: Results = outcome.results;
      const cell = results.cells[0];
      if (resolved.compareBare && cell.error === undefined) {
        results.transparency = compareBare(prepared, cell);
        if (prepared.out !== null) writeResultsFile(prepared.out, results);
      }
      if (prepared.json) process.stdout.write(serializeResults(results));
      else if (!prepared.quiet) {
        // --node: one cell per runtime, then each runtime's ratio to the first from paired trials.
        process.stdout.write(
          `${results.cells.map((each) => describeCell(each, results)).join('\n')}\n${profileSummary(prepared)}`,
        );
        const runtimes = runtimeTable(results);
        if (runtimes !== '') process.stdout.write(`\n${runtimes}\n`);
      }
      return results.cells.every((each) => each.error === undefined) ? 0 : 1;
    }),
  );
}

/** Harness ns/op (one thread) against a bare replay of worker 0's stream for about as many ops. */
function compareBare(prepared: Awaited<ReturnType<typeof prepareSweep>>, cell: Cell): Transparency {
  const { config } = prepared;
  const workload = config.workloadDefinitions[cell.workload];
  const { factory } = prepared.maps.get(cell.map)!;
  const length = streamLength(workload, config.streamOps);
  const stream = generateOpStream(workload, { seed: config.seed, workerIndex: 0, workerCount: 1, length });
  const harnessNsPerOp = 1e9 / cell.opsPerSec.median;
  const ops = Math.max(length, Math.round(cell.opsPerSec.median * (config.durationMs / 1000)));
  const bare = measureBareLoop(factory, workload, cell.loadFactor, stream, prefillEntries(workload, config.seed), ops);
  return { harnessNsPerOp, bareNsPerOp: bare.nsPerOp, ratio: harnessNsPerOp / bare.nsPerOp, bareOpsPerRound: ops };
}

function describeCell(cell: ResultsCell, results: Results): string {
  const title = `${describeSpec(cell)}${cell.private ? ' (private copy per thread)' : ''}${cell.oversubscribed ? ' (oversubscribed)' : ''}`;
  if (cell.error !== undefined) return `${title}\n  error: ${cell.error}`;
  const { median, ciLow, ciHigh, ciLevel } = cell.opsPerSec;
  const latency = cell.latencyNs;
  const timing = cell.timing;
  const lines = [
    title,
    `  ops/s      ${formatCount(median)}  (${Math.round((ciLevel ?? 0.95) * 100)}% CI ${formatCount(ciLow)}–${formatCount(ciHigh)}; trials ${cell.trials.map((trial) => formatCount(trial.opsPerSec)).join(' ')})`,
  ];
  if (cell.rate !== undefined) {
    lines.push(
      `  rate       target ${formatCount(cell.rate)}/s per thread, achieved ${formatCount(Number(cell.achievedOpsPerSec))}/s per thread` +
        (Number(cell.backlogOps) > 0
          ? `, ${formatCount(Number(cell.backlogOps))} ops never issued (could not keep up)`
          : ''),
    );
  }
  const timed =
    timing === undefined
      ? 'ops timed'
      : `${timing.method === 'sampled-ops' ? `ops timed, 1 in ~${timing.sampleEveryOps}` : 'ops, from intended start'}; a clock read costs ${timing.clockCostNs.toFixed(0)} ns`;
  lines.push(
    `  latency    p50 ${formatNs(latency.p50)}  p90 ${formatNs(latency.p90)}  p99 ${formatNs(latency.p99)}  p99.9 ${formatNs(latency.p999)}  max ${formatNs(latency.max)}` +
      `  (${formatCount(latency.samples)} ${timed})`,
  );
  const byOp = cell.latencyByOpNs;
  if (byOp && Object.keys(byOp).length > 1) {
    lines.push(
      `  per op     ${Object.entries(byOp)
        .map(([op, summary]) => `${op} p50 ${formatNs(summary.p50)} p99 ${formatNs(summary.p99)}`)
        .join(' · ')}`,
    );
  }
  const opCounts = cell.opCounts ?? {};
  const totalOps = Object.values(opCounts).reduce((sum, count) => sum + count, 0);
  lines.push(
    `  op mix     ${Object.entries(opCounts)
      .map(([op, count]) => `${op} ${((count / totalOps) * 100).toFixed(1)}%`)
      .join('  ')}`,
  );
  const counters = Object.entries(cell.counters);
  if (counters.length > 0)
    lines.push(`  counters   ${counters.map(([name, value]) => `${name}=${Number(value.toFixed(2))}`).join('  ')}`);
  const overhead = cell.overhead;
  if (overhead)
    lines.push(
      `  fixed cost ${overhead.fixedMs.toFixed(0)} ms per cell (${(overhead.fractionOfWindow * 100).toFixed(1)}% of the measured windows)`,
    );
  const transparency = results.transparency;
  if (transparency) {
    lines.push(
      `  bare loop  harness ${transparency.harnessNsPerOp.toFixed(1)} ns/op vs bare ${transparency.bareNsPerOp.toFixed(1)} ns/op → ${transparency.ratio.toFixed(3)}×`,
    );
  }
  return lines.join('\n');
}
