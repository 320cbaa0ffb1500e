/**
 * The markdown summary (`maplab report --format md`): fit for a CI job
 * summary or a PR comment. Text from the results file is escaped, so a map
 * named like HTML renders as text on GitHub and a `|` cannot break a table.
 */
import type { Results } from '../harness/results/results.js';
import {
  analysisTables,
  buildModel,
  environmentTable,
  findingLines,
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
import type { SummaryOptions } from './text.js';

/** Escapes markdown and inline HTML in a table cell or a line of text. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

export function markdownTable(table: Table, label: (map: string) => string): string {
  const render = (cell: TableCell) =>
    typeof cell === 'string' ? escapeMarkdown(cell) : label(cell.map) + escapeMarkdown(cell.suffix ?? '');
  const header = table.headers.map(escapeMarkdown);
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(render).join(' | ')} |`),
  ].join('\n');
}

const BADGE: Record<string, string> = { verified: '✅ verified', violated: '❌ violated', unsafe: '⚠️ unsafe' };

/** Every badge in the maps line; in tables only the warnings (unsafe, violated), to keep rows short. */
function markdownMapLabel(model: ReportModel, badges: 'all' | 'warnings'): (map: string) => string {
  return (name) => {
    const info = mapInfo(model, name);
    const label = `**${escapeMarkdown(info.name)}**${info.private ? ' _(private)_' : ''}`;
    const show = info.verification && (badges === 'all' || info.verification !== 'verified');
    return show ? `${label} ${BADGE[info.verification as string]}` : label;
  };
}

export function renderMarkdown(results: Results, options: SummaryOptions = {}): string {
  const model = buildModel(results);
  const label = markdownMapLabel(model, 'warnings');
  const tables = analysisTables(model.analysis);
  const block = (title: string, table: Table, empty: string) =>
    `### ${title}\n\n${table.rows.length ? markdownTable(table, label) : `_${empty}_`}\n`;
  return [
    `## maplab results${options.runId ? ` — ${escapeMarkdown(options.runId)}` : ''}\n`,
    `${escapeMarkdown(summaryLine(model))}\n`,
    `Maps: ${model.maps.map((map) => markdownMapLabel(model, 'all')(map.name)).join(' · ') || '_none_'}\n`,
    `### Findings\n\n${
      findingLines(model.analysis)
        .map((line) => `- ${escapeMarkdown(line)}`)
        .join('\n') || '_none_'
    }\n`,
    block('Winner per workload × threads', winnerTable(model), 'no successful closed-loop cells'),
    'Shared maps only, closed loop; the lead over the runner-up comes from paired trials with a 95% CI, and a winner is named only where ' +
      'that CI excludes a tie; private maps (js-map) are the no-sharing ceiling, not competitors.\n',
    block('Scalability knees (Kneedle + USL)', tables.knees, 'no closed-loop cells'),
    block('Latency knees (p99 vs offered load)', tables.latencyKnees, 'no open-loop cells'),
    block('Write-fraction crossovers', tables.crossovers, 'no write-fraction family (writes-N, churn-N) with two maps'),
    ...(model.analysis.runtimes?.length
      ? [block('Runtimes (ratio to the first runtime, paired trials)', runtimeTable(model), '')]
      : []),
    block(`Failed cells (${model.failed.length})`, failedTable(model), 'none'),
    block('Environment', { headers: ['field', 'value'], rows: environmentTable(results).rows }, ''),
    ...(primitivesTable(results) === null
      ? []
      : [block('Primitives per runtime (ns/op; wake-up µs)', primitivesTable(results) as Table, '')]),
  ].join('\n');
}
