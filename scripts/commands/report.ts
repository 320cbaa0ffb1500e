/**
 * `maplab report <results.json>`: renders a results file.
 *
 *   --format html (default)  <out>/<run-id>/index.html + summary.md + results.json + run.json,
 *                            and <out>/index.html listing every run in <out> (default out: reports/site)
 *   --format md | txt        the summary on stdout; with --out, into <out>/<run-id>/summary.md|txt
 *
 * `maplab report <folder>`: the history of every results file in the folder
 * (and below): <out>/index.html with trends per map × workload per machine
 * kind and runtime, gate verdicts from <results>.gate.json files, and
 * <out>/history.json (capped: --full-runs; reports/history.ts). A history.json
 * in the folder carries earlier, summarised runs forward.
 *
 * A results file whose analysis lacks latency knees or crossovers (older
 * sweeps, or cells written before the sweep finished) is analysed in memory
 * first; the file itself is never changed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { analyzeResults } from '../../harness/analysis/index.js';
import { defineOption, parsers, resolveFlags, UsageError } from '../../harness/run/options.js';
import { readResultsFile, serializeResults, type Results } from '../../harness/results/results.js';
import type { GateReport } from '../../harness/gate/gate.js';
import {
  buildHistory,
  DEFAULT_FULL_RUNS,
  historyRunOf,
  parseHistory,
  renderHistoryHtml,
  type HistoryRun,
} from '../../reports/history.js';
import {
  publishRun,
  renderMarkdown,
  renderText,
  REPORT_FORMATS,
  runIdOf,
  slug,
  writeFileAtomic,
} from '../../reports/index.js';
import { action, addOptions } from '../cli-kit.js';

const DEFAULT_SITE = 'reports/site';

const reportOptionSpecs = [
  defineOption({
    name: 'format',
    flag: '--format <format>',
    description: `output format: ${REPORT_FORMATS.join(', ')}`,
    defaultValue: 'html',
    parse: parsers.oneOf(REPORT_FORMATS),
  }),
  defineOption({
    name: 'out',
    flag: '--out <dir>',
    description: `site folder: the run goes to <dir>/<run-id>/ (html default: ${DEFAULT_SITE}; md and txt print to stdout without it)`,
    parse: parsers.string(),
  }),
  defineOption({
    name: 'fullRuns',
    flag: '--full-runs <n>',
    description:
      'history (a folder): the newest n runs keep every cell, older ones only their headline cells, integer 1..1000',
    defaultValue: DEFAULT_FULL_RUNS,
    parse: parsers.integer(1, 1000),
  }),
  defineOption({
    name: 'runId',
    flag: '--run-id <id>',
    description:
      "the run's folder name (letters, digits, - and _); default: the results' runId, else start time and a content hash",
    parse: parsers.string(),
  }),
] as const;

export function register(program: Command): void {
  const command = program
    .command('report')
    .description(
      'Render a results file: a self-contained HTML report into a report site, or a markdown / text summary; a folder of them: a history site',
    )
    .argument('<results>', 'results file (JSON) to render, or a folder of them (history over runs)');
  addOptions(command, reportOptionSpecs);
  command.action(
    action((resultsPath: string, flags: Record<string, unknown>) => {
      const options = resolveFlags(reportOptionSpecs, flags);
      const out = options.out ?? (options.format === 'html' ? DEFAULT_SITE : undefined);
      if (out !== undefined && existsSync(out) && !statSync(out).isDirectory())
        throw new UsageError(`--out must be a folder; ${out} is a file`);
      if (existsSync(resultsPath) && statSync(resultsPath).isDirectory()) {
        if (options.format !== 'html')
          throw new UsageError('a folder renders as an HTML history site: --format html (the default)');
        const history = buildHistory(readHistoryFolder(resultsPath), options.fullRuns);
        mkdirSync(out as string, { recursive: true });
        const html = renderHistoryHtml(history);
        writeFileAtomic(join(out as string, 'history.json'), JSON.stringify(history) + '\n');
        writeFileAtomic(join(out as string, 'index.html'), html);
        process.stdout.write(
          `wrote ${join(out as string, 'index.html')} (${(Buffer.byteLength(html) / 1e6).toFixed(2)} MB, ${history.runs.length} runs) and history.json\n`,
        );
        return;
      }
      const results = withAnalysis(readResultsFile(resultsPath));
      const runId = options.runId === undefined ? runIdOf(results) : slug(options.runId);

      if (options.format === 'html') {
        const published = publishRun(out as string, results, { runId, resultsText: serializeResults(results) });
        process.stdout.write(
          `wrote ${join(published.runDirectory, 'index.html')} (${(published.htmlBytes / 1e6).toFixed(2)} MB) and ${join(out as string, 'index.html')} (${published.runsListed} run${published.runsListed === 1 ? '' : 's'})\n`,
        );
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
    }),
  );
}

function withAnalysis(results: Results): Results {
  const analysed =
    results.analysis.latencyKnees !== undefined &&
    results.analysis.crossovers !== undefined &&
    results.analysis.writeFractions !== undefined &&
    results.analysis.findings !== undefined;
  return analysed ? results : { ...results, analysis: { ...results.analysis, ...analyzeResults(results) } };
}

/** Every run under a folder: results files (with their <name>.gate.json verdicts) and any earlier history.json. */
function readHistoryFolder(folder: string): HistoryRun[] {
  const runs: HistoryRun[] = [];
  const visit = (directory: string): void => {
    for (const name of readdirSync(directory).sort()) {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) visit(path);
      else if (name === 'history.json') runs.push(...parseJsonFile(path, (json) => parseHistory(json, path)));
      else if (name.endsWith('.json') && !name.endsWith('.gate.json')) {
        const results = readResultsFile(path);
        if (results.incomplete === true) {
          process.stderr.write(`maplab: ${path}: incomplete (an interrupted sweep); left out of the history\n`);
          continue;
        }
        const verdictPath = path.replace(/\.json$/, '.gate.json');
        const gate = existsSync(verdictPath)
          ? parseJsonFile(verdictPath, (json) => gateVerdict(json, verdictPath))
          : null;
        runs.push(historyRunOf(results, runIdOf(results), gate));
      }
    }
  };
  visit(folder);
  if (runs.length === 0) throw new UsageError(`${folder}: no results files (*.json) in the folder`);
  return runs;
}

function parseJsonFile<T>(path: string, read: (json: unknown) => T): T {
  try {
    return read(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new UsageError(`${basename(path)}: ${(error as Error).message} (${path})`);
  }
}

function gateVerdict(json: unknown, path: string): GateReport {
  const report = json as Partial<GateReport> | null;
  if (
    report === null ||
    typeof report !== 'object' ||
    report.schema !== 'maplab.gate/1' ||
    typeof report.verdict !== 'string' ||
    !Array.isArray(report.regressions)
  ) {
    throw new RangeError(`${path} is not a maplab gate verdict (maplab gate --verdict-out writes one)`);
  }
  return report as GateReport;
}
