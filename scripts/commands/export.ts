/**
 * `maplab export <results.json>`: the results in other tools' formats —
 * github-action-benchmark's custom JSON (one metric per file: --metric ops or
 * p99) or CSV (one row per cell, both metrics).
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { toCsv, toGithubActionBenchmark } from '../../harness/gate/export.js';
import { exportOptions } from '../../harness/gate/options.js';
import { resolveFlags, UsageError } from '../../harness/run/options.js';
import { readResultsFile } from '../../harness/results/results.js';
import { action, addOptions } from '../cli-kit.js';

export function register(program: Command): void {
  const command = program
    .command('export')
    .description(
      'write a results file as github-action-benchmark JSON (customBiggerIsBetter for ops, customSmallerIsBetter for p99) or CSV',
    )
    .argument('<results.json>', 'the results file to export');
  addOptions(command, exportOptions).action(
    action((path: string, flags: Record<string, unknown>) => {
      const options = resolveFlags(exportOptions, flags);
      if (options.format === 'csv' && flags.metric !== undefined) {
        throw new UsageError(
          '--metric applies to --format github-action-benchmark only; csv carries both ops/s and p99',
        );
      }
      const results = readResultsFile(path);
      let output: string;
      if (options.format === 'csv') {
        output = toCsv(results);
      } else {
        const exported = toGithubActionBenchmark(results, options.metric);
        if (exported.skipped.length > 0) {
          process.stderr.write(
            `maplab export: left out ${exported.skipped.length} failed cell(s): ${exported.skipped.join(', ')}\n`,
          );
        }
        output = JSON.stringify(exported.entries, null, 2) + '\n';
      }
      if (options.out) writeFileSync(options.out, output);
      else process.stdout.write(output);
      return 0;
    }),
  );
}
