/**
 * `maplab report <results.json>`: renders a results file.
 *
 *   --format html (default)  <out>/<run-id>/index.html + summary.md + results.json + run.json,
 *                            and <out>/index.html listing every run in <out> (default out: reports/site)
 *   --format md | txt        the summary on stdout; with --out, into <out>/<run-id>/summary.md|txt
 *
 * A results file whose analysis lacks latency knees or crossovers (older
 * sweeps, or cells written before the sweep finished) is analysed in memory
 * first; the file itself is never changed.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { analyzeResults } from '../../harness/analysis/index.js';
import { parsers, resolveOptions, UsageError, type OptionSpec } from '../../harness/options.js';
import { readResultsFile, type Results } from '../../harness/results.js';
import { publishRun, renderMarkdown, renderText, REPORT_FORMATS, runIdOf, slug, writeFileAtomic } from '../../reports/index.js';
import { action, addOptions } from '../cli-kit.js';

const DEFAULT_SITE = 'reports/site';

const reportOptionSpecs = [
  { name: 'format', flag: '--format <format>', description: `output format: ${REPORT_FORMATS.join(', ')}`, defaultValue: 'html', parse: parsers.oneOf(REPORT_FORMATS) },
  { name: 'out', flag: '--out <dir>', description: `site folder: the run goes to <dir>/<run-id>/ (html default: ${DEFAULT_SITE}; md and txt print to stdout without it)`, parse: parsers.string() },
  { name: 'runId', flag: '--run-id <id>', description: "the run's folder name (letters, digits, - and _); default: the results' runId, else start time and a content hash", parse: parsers.string() },
] as const satisfies readonly OptionSpec<unknown>[];

export function register(program: Command): void {
  const command = program
    .command('report')
    .description('Render a results file: a self-contained HTML report into a report site, or a markdown / text summary')
    .argument('<results>', 'results file (JSON) to render');
  addOptions(command, reportOptionSpecs);
  command.action(action((resultsPath: string, flags: Record<string, unknown>) => {
    const options = resolveOptions(reportOptionSpecs, [{ source: 'command line', values: flags, flags: true }]);
    const results = withAnalysis(readResultsFile(resultsPath));
    const out = options.out ?? (options.format === 'html' ? DEFAULT_SITE : undefined);
    if (out !== undefined && existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out must be a folder; ${out} is a file`);
    const runId = options.runId === undefined ? runIdOf(results) : slug(options.runId);

    if (options.format === 'html') {
      const published = publishRun(out as string, results, { runId });
      process.stdout.write(`wrote ${join(published.runDirectory, 'index.html')} (${(published.htmlBytes / 1e6).toFixed(2)} MB) and ${join(out as string, 'index.html')} (${published.runsListed} run${published.runsListed === 1 ? '' : 's'})\n`);
      return;
    }
    const summary = options.format === 'md' ? renderMarkdown(results, { runId }) : renderText(results, { runId });
    if (out === undefined) {
      process.stdout.write(summary.endsWith('\n') ? summary : summary + '\n');
      return;
    }
    const runDirectory = join(out, runId);
    mkdirSync(runDirectory, { recursive: true });
    const path = join(runDirectory, `summary.${options.format}`);
    writeFileAtomic(path, summary);
    process.stdout.write(`wrote ${path}\n`);
  }));
}

function withAnalysis(results: Results): Results {
  const analysed = results.analysis.latencyKnees !== undefined && results.analysis.crossovers !== undefined
    && results.analysis.writeFractions !== undefined && results.analysis.findings !== undefined;
  return analysed ? results : { ...results, analysis: { ...results.analysis, ...analyzeResults(results) } };
}
