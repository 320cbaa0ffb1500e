/**
 * `maplab compare <base.json> <head.json>`: per-cell deltas with confidence
 * intervals and Mann–Whitney p-values, a geometric-mean summary, one-sided and
 * failed cells listed. Input errors exit 2; a comparison always exits 0
 * (`maplab gate` is the command that fails on regressions).
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { compareResults, type Comparison } from '../../harness/gate/compare.js';
import { compareOptions, type ReportFormat } from '../../harness/gate/options.js';
import { resolveFlags, UsageError } from '../../harness/run/options.js';
import { readResultsFile } from '../../harness/results/results.js';
import { renderComparisonMarkdown } from '../../reports/compare-markdown.js';
import { renderComparisonText } from '../../reports/compare-text.js';
import { action, addOptions } from '../cli-kit.js';

export function renderComparison(comparison: Comparison, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(comparison, null, 2) + '\n';
  return format === 'md' ? renderComparisonMarkdown(comparison) : renderComparisonText(comparison);
}

export function register(program: Command): void {
  const command = program
    .command('compare')
    .description(
      'compare two results files cell by cell: median ops/s and p99 with 95% CIs, delta, Mann–Whitney p-value, verdict',
    )
    .argument('<base.json>', 'the baseline results file')
    .argument('<head.json>', 'the results file of the change');
  addOptions(command, compareOptions).action(
    action((basePath: string, headPath: string, flags: Record<string, unknown>) => {
      const options = resolveFlags(compareOptions, flags);
      if (options.test === 'paired') {
        throw new UsageError(
          '--test paired pairs trials measured side by side in one sweep, and two files are two sweeps: use maplab gate --against',
        );
      }
      const comparison = compareResults(readResultsFile(basePath), readResultsFile(headPath), {
        alpha: options.alpha,
        normalize: options.normalize,
        mapAliases: options.mapAlias ?? {},
        metric: options.metric,
        test: options.test,
        effectQuantile: options.effectQuantile,
        baseSource: basePath,
        headSource: headPath,
      });
      const output = renderComparison(comparison, options.format);
      if (options.out) writeFileSync(options.out, output);
      else process.stdout.write(output);
      return 0;
    }),
  );
}
