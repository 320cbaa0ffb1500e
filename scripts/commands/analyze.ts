/**
 * `maplab analyze`: where throughput stops scaling and why.
 *
 *   maplab analyze results.json [--json] [--write]   findings, knees, USL fits, latency knees, crossovers
 *   maplab analyze --csv points.csv [--json]         one curve (threads,opsPerSec), like the `usl` tool
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { analyzeResults, analyzeScaling, parseScalingCsv, type AnalyzeOptions } from '../../harness/analysis/index.js';
import { defineOption, parsers, resolveFlags, UsageError } from '../../harness/run/options.js';
import { readResultsFile, writeResultsFile } from '../../harness/results/results.js';
import { renderAnalysisText } from '../../reports/index.js';
import { action, addOptions } from '../cli-kit.js';

const analyzeOptionSpecs = [
  defineOption({
    name: 'csv',
    flag: '--csv <file>',
    description: 'fit one curve from a CSV of threads,opsPerSec (header optional) instead of a results file',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'json',
    flag: '--json',
    description: 'print JSON instead of tables',
    defaultValue: false,
    parse: parsers.boolean(),
  }),
  defineOption({
    name: 'write',
    flag: '--write',
    description: "store the analysis in the results file's `analysis` (atomically)",
    defaultValue: false,
    parse: parsers.boolean(),
  }),
  defineOption({
    name: 'sensitivity',
    flag: '--sensitivity <S>',
    description: 'Kneedle sensitivity S: how sharp a bend must be to count as a knee, a number in (0, 100)',
    defaultValue: 1,
    parse: parsers.number(0, 100, true),
  }),
  defineOption({
    name: 'flatTolerance',
    flag: '--flat-tolerance <fraction>',
    description: 'throughput whose (max − min) / max is below this is flat (no knee), a fraction 0..0.99',
    defaultValue: 0.05,
    parse: parsers.number(0, 0.99),
  }),
  defineOption({
    name: 'latencyFlatRatio',
    flag: '--latency-flat-ratio <ratio>',
    description: 'p99 whose max / min is below this never left its flat region (no latency knee), a ratio 1..1000',
    defaultValue: 1.5,
    parse: parsers.number(1, 1000),
  }),
  defineOption({
    name: 'kneeRatio',
    flag: '--knee-ratio <ratio>',
    description:
      'latency knee: the last offered rate before p99 passes this × its fitted floor for good, a ratio in (1, 1000)',
    defaultValue: 3,
    parse: parsers.number(1, 1000, true),
  }),
] as const;

export function register(program: Command): void {
  const command = program
    .command('analyze')
    .description(
      'Findings, knees (Kneedle), USL fits, latency knees and write-fraction crossovers of a results file, or of one curve in a CSV',
    )
    .argument('[results]', 'results file (JSON) to analyse');
  addOptions(command, analyzeOptionSpecs);
  command.action(
    action((resultsPath: string | undefined, flags: Record<string, unknown>) => {
      const options = resolveFlags(analyzeOptionSpecs, flags);
      const tuning: AnalyzeOptions = {
        sensitivity: options.sensitivity,
        flatTolerance: options.flatTolerance,
        latencyFlatRatio: options.latencyFlatRatio,
        kneeRatio: options.kneeRatio,
      };
      if (options.csv !== undefined) {
        if (resultsPath !== undefined) throw new UsageError('give either a results file or --csv <file>, not both');
        if (options.write) throw new UsageError('--write stores into a results file; it does not apply to --csv');
        analyzeCsv(options.csv, options.json, tuning);
        return;
      }
      if (resultsPath === undefined)
        throw new UsageError('missing input: give a results file (maplab analyze results.json) or --csv <file>');
      const results = readResultsFile(resultsPath);
      const analysis = analyzeResults(results, tuning);
      if (options.write) writeResultsFile(resultsPath, { ...results, analysis });
      process.stdout.write(options.json ? JSON.stringify(analysis, null, 2) + '\n' : renderAnalysisText(analysis));
      if (options.write) process.stderr.write(`maplab: analysis stored in ${resultsPath}\n`);
    }),
  );
}

function analyzeCsv(path: string, json: boolean, tuning: AnalyzeOptions): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--csv: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const scaling = analyzeScaling(parseScalingCsv(text, path), tuning);
  if (json) {
    const { kneeThreads, usl, note } = scaling;
    process.stdout.write(JSON.stringify({ kneeThreads, usl, ...(note === undefined ? {} : { note }) }, null, 2) + '\n');
    return;
  }
  const lines = [
    `points: ${scaling.points} thread counts`,
    `knee (Kneedle): ${scaling.kneeThreads === null ? `none — ${scaling.note ?? ''}` : `${scaling.kneeThreads} threads (${format(scaling.kneeOpsPerSec)} ops/s)`}`,
  ];
  const usl = scaling.usl;
  if (usl) {
    lines.push(
      `USL: X(N) = λN / (1 + σ(N−1) + κN(N−1))`,
      `  λ (one thread)  ${format(usl.lambda)} ops/s`,
      `  σ (contention)  ${format(usl.sigma)}`,
      `  κ (coherency)   ${format(usl.kappa)}`,
      `  R²              ${format(usl.r2)}`,
      usl.peakThreads === null
        ? `  peak            none: κ = 0, throughput ${usl.sigma > 0 ? `approaches λ/σ = ${format(usl.lambda / usl.sigma)} ops/s` : 'grows linearly'}`
        : `  peak N*         ${format(usl.peakThreads)} threads, X(N*) = ${format(usl.peakOpsPerSec)} ops/s`,
    );
  } else {
    lines.push(`USL: not fitted — ${scaling.note ?? 'not enough points'}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

function format(value: number | null): string {
  return value === null ? '—' : `${+value.toPrecision(4)}`;
}
