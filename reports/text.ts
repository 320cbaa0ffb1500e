/**
 * The plain-text summary (`maplab report --format txt`) and the analysis
 * tables `maplab analyze` prints: aligned columns for a terminal.
 */
import type { Analysis, Results } from '../harness/results/results.js';
import {
  analysisTables,
  buildModel,
  findingLines,
  environmentTable,
  failedTable,
  mapInfo,
  primitivesTable,
  runtimeTable,
  summaryLine,
  winnerTable,
  type ReportModel,
  type Table,
  type TableCell,
} from './model.js';

/** Columns padded to their widest cell; `label` renders map cells. */
export function textTable(table: Table, label: (map: string) => string = (map) => map): string {
  const render = (cell: TableCell) => (typeof cell === 'string' ? cell : label(cell.map) + (cell.suffix ?? ''));
  const rows = [table.headers, ...table.rows.map((row) => row.map(render))];
  const widths = table.headers.map((_, column) => Math.max(...rows.map((row) => [...(row[column] ?? '')].length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  const hasHeader = table.headers.some((header) => header !== '');
  const body = rows.slice(1).map(line);
  return (hasHeader ? [line(rows[0]), widths.map((width) => '-'.repeat(width)).join('  '), ...body] : body).join('\n');
}

function section(title: string, body: string): string {
  return `${title}\n${'='.repeat([...title].length)}\n${body}\n`;
}

/** The knee, latency-knee and crossover tables. */
export function renderAnalysisText(analysis: Analysis, label?: (map: string) => string): string {
  const tables = analysisTables(analysis);
  const findings = findingLines(analysis);
  return [
    section('Findings', findings.length ? findings.map((line) => `- ${line}`).join('\n') : 'none (run maplab analyze)'),
    section(
      'Scalability knees (throughput vs threads: Kneedle + USL)',
      tables.knees.rows.length ? textTable(tables.knees, label) : 'no closed-loop cells',
    ),
    section(
      'Latency knees (p99 vs offered load)',
      tables.latencyKnees.rows.length ? textTable(tables.latencyKnees, label) : 'no open-loop cells',
    ),
    section(
      'Write-fraction crossovers',
      tables.crossovers.rows.length
        ? textTable(tables.crossovers, label)
        : 'no write-fraction family (writes-N, churn-N) with two maps',
    ),
  ].join('\n');
}

/** Every badge in the maps list; in tables only the warnings (unsafe, violated), to keep rows short. */
export function textMapLabel(model: ReportModel, badges: 'all' | 'warnings' = 'warnings'): (map: string) => string {
  return (name) => {
    const info = mapInfo(model, name);
    const show = info.verification && (badges === 'all' || info.verification !== 'verified');
    return show ? `${info.label} [${info.verification}]` : info.label;
  };
}

export interface SummaryOptions {
  /** Shown in the title; default none. */
  runId?: string;
}

export function renderText(results: Results, options: SummaryOptions = {}): string {
  const model = buildModel(results);
  const label = textMapLabel(model);
  const title = `maplab results${options.runId ? ` — ${options.runId}` : ''}`;
  return [
    `${title}\n${summaryLine(model)}\n`,
    section('Maps', model.maps.map((map) => `  ${textMapLabel(model, 'all')(map.name)}`).join('\n') || 'none'),
    section(
      'Winner per workload × threads (shared maps, closed loop; lead over the runner-up from paired trials, 95% CI; else a tie)',
      model.winners.length ? textTable(winnerTable(model), label) : 'no successful closed-loop cells',
    ),
    renderAnalysisText(model.analysis, label),
    ...(model.analysis.runtimes?.length
      ? [section('Runtimes (ratio to the first runtime, paired trials, 95% CI)', textTable(runtimeTable(model), label))]
      : []),
    section(
      `Failed cells (${model.failed.length})`,
      model.failed.length ? textTable(failedTable(model), label) : 'none',
    ),
    section('Environment', textTable(environmentTable(results))),
    ...(primitivesTable(results) === null
      ? []
      : [section('Primitives per runtime (ns/op; wake-up µs)', textTable(primitivesTable(results) as Table))]),
  ].join('\n');
}
