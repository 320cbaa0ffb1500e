/**
 * The HTML report: one self-contained file that works from file:// and
 * offline. vega, vega-lite and vega-embed are inlined from node_modules (their
 * browser bundles), the data travels inside the page, and a
 * Content-Security-Policy forbids every load from anywhere: scripts run only
 * when their SHA-256 is listed, so even a name that slipped past escaping
 * could not run.
 *
 * vega compiles expressions with `new Function` unless told otherwise; the
 * page embeds with `ast: true` and vega's expression interpreter, so the CSP
 * needs no 'unsafe-eval'.
 *
 * Everything taken from the results file is escaped: as HTML text here, and
 * as JSON with `<`, `>`, `&`, U+2028/9 written as \u escapes inside the data
 * script, which therefore cannot close its <script> element.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Results, ResultsCell } from '../harness/results/results.js';
import { buildCharts, type ChartDefinition, type CompactTable } from './charts.js';
import {
  analysisTables,
  buildModel,
  configTable,
  findingLines,
  environmentTable,
  failedTable,
  formatCount,
  formatNumber,
  mapInfo,
  primitivesTable,
  runtimeTable,
  summaryLine,
  winnerTable,
  type ReportModel,
  type Table,
  type TableCell,
} from './model.js';
import { formatNs } from './format.js';

export interface HtmlOptions {
  /** Shown in the title and header. */
  runId?: string;
  /** ISO time shown as "rendered"; default now. */
  renderedAt?: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** JSON safe inside a <script> element: nothing in it can end the element or start a comment. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

interface BrowserLibrary {
  name: string;
  version: string;
  source: string;
}

const LIBRARY_BUNDLES = [
  { name: 'vega', file: 'vega.min.js' },
  { name: 'vega-lite', file: 'vega-lite.min.js' },
  { name: 'vega-embed', file: 'vega-embed.min.js' },
] as const;

let libraries: BrowserLibrary[] | undefined;

/** The UMD browser bundles beside each package's entry point (node_modules/<name>/build/). */
export function browserLibraries(): BrowserLibrary[] {
  if (libraries) return libraries;
  const require = createRequire(import.meta.url);
  libraries = LIBRARY_BUNDLES.map(({ name, file }) => {
    const buildDirectory = dirname(require.resolve(name));
    const path = join(buildDirectory, file);
    if (!existsSync(path))
      throw new Error(`cannot find the ${name} browser bundle at ${path}; reinstall dependencies (npm ci)`);
    // The source map comment would make devtools fetch a .map file; nothing else is changed.
    const source = readFileSync(path, 'utf8').replace(/\n?\/\/# sourceMappingURL=\S*\s*$/, '\n');
    if (/<\/script|<!--/i.test(source))
      throw new Error(`${path} contains "</script" or "<!--" and cannot be inlined safely`);
    const packageJson = join(buildDirectory, '..', 'package.json');
    const version = existsSync(packageJson)
      ? String((JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown }).version ?? '?')
      : '?';
    return { name, version, source };
  });
  return libraries;
}

/** Expands the compact tables and draws every chart; reports a failure in the chart's box and on the console. */
export const BOOTSTRAP = `(function () {
  'use strict';
  var payload = JSON.parse(document.getElementById('maplab-data').textContent);
  var expanded = {};
  function table(name) {
    if (expanded[name]) return expanded[name];
    var compact = payload.datasets[name];
    var joined = compact.join ? table(compact.join) : null;
    expanded[name] = compact.rows.map(function (row) {
      var item = joined && row[0] !== null ? Object.assign({}, joined[row[0]]) : {};
      compact.columns.forEach(function (column, index) {
        if (row[index] !== null && row[index] !== undefined) item[column] = row[index];
      });
      return item;
    });
    return expanded[name];
  }
  var options = { mode: 'vega-lite', renderer: 'svg', actions: false, ast: true, expr: vega.expressionInterpreter };
  payload.charts.forEach(function (chart) {
    var element = document.getElementById(chart.id);
    var name = chart.spec.data.name;
    var datasets = {};
    datasets[name] = table(name);
    var spec = Object.assign({}, chart.spec, { datasets: datasets, config: payload.config });
    vegaEmbed(element, spec, options).then(function () {
      element.setAttribute('data-rendered', 'true');
    }).catch(function (error) {
      element.setAttribute('data-rendered', 'error');
      element.textContent = 'This chart could not be drawn: ' + error.message;
      console.error('maplab: chart ' + chart.id + ' failed: ' + error.message);
    });
  });
})();
`;

/** Tables longer than this start folded, so that the charts stay close together. */
const LONG_TABLE_ROWS = 24;

export const VEGA_CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", sans-serif',
  axis: { labelFontSize: 10, titleFontSize: 11, gridOpacity: 0.5 },
  header: { labelFontSize: 12, labelFontWeight: 600 },
  legend: { labelFontSize: 11, titleFontSize: 11 },
  view: { stroke: '#ddd' },
};

export const STYLE = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6473; --rule: #e2e5ea; --accent: #2f5fa7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fafbfc; }
header { padding: 20px 32px 12px; background: #fff; border-bottom: 1px solid var(--rule); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 2px 0; color: var(--muted); }
nav { padding: 8px 32px; background: #fff; border-bottom: 1px solid var(--rule); position: sticky; top: 0; z-index: 2; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; white-space: nowrap; }
main { padding: 8px 32px 48px; }
section { margin: 24px 0; padding: 16px 20px; background: #fff; border: 1px solid var(--rule); border-radius: 6px; }
section h2 { margin: 0 0 6px; font-size: 17px; }
p.description { margin: 0 0 12px; color: var(--muted); max-width: 70em; }
.chart { overflow-x: auto; min-height: 40px; }
.chart form, .chart .vega-bindings { margin: 4px 0 8px; }
.vega-bind { display: inline-block; margin-right: 16px; }
.no-data { padding: 12px 16px; background: #f4f5f7; border-radius: 4px; color: var(--muted); font-style: italic; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f4f5f7; font-weight: 600; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
#winners td, #winners th, #knees td, #crossovers td, #latency-knees td { white-space: nowrap; }
.table-scroll { overflow-x: auto; }
.badge { display: inline-block; margin-left: 4px; padding: 0 6px; border-radius: 9px; font-size: 11px; line-height: 17px; vertical-align: 1px; }
.badge.private { background: #e8e3f3; color: #4b3a78; }
.badge.verified { background: #dcf1e0; color: #1d6b2f; }
.badge.violated { background: #fbdcdc; color: #9b1c1c; }
.badge.unsafe { background: #fdf0d0; color: #8a5a00; }
.failed { color: #9b1c1c; font-weight: 600; }
pre { background: #f4f5f7; padding: 12px; overflow-x: auto; font-size: 12px; }
details summary { cursor: pointer; color: var(--accent); }
footer { padding: 0 32px 32px; color: var(--muted); font-size: 12px; }
`;

export function renderHtml(results: Results, options: HtmlOptions = {}): string {
  const model = buildModel(results);
  const { datasets, charts } = buildCharts(model);
  const mapHtml = mapLabelHtml(model);
  const tables = analysisTables(model.analysis);
  const libs = browserLibraries();
  const drawn = charts.filter((chart) => chart.spec);
  const payload = {
    config: VEGA_CONFIG,
    datasets: usedDatasets(datasets, drawn),
    charts: drawn.map((chart) => ({ id: chart.id, spec: chart.spec })),
  };
  const { scripts, csp } = pageScripts(drawn.length > 0);
  const title = `maplab report${options.runId ? ` — ${options.runId}` : ''}`;
  const chartById = new Map(charts.map((chart) => [chart.id, chart]));
  const chart = (id: string) => chartSection(chartById.get(id)!);
  const htmlTableOf = (table: Table, empty: string, fold = true) => {
    if (table.rows.length === 0) return `<p class="no-data">${escapeHtml(empty)}</p>`;
    const body = htmlTable(table, mapHtml);
    return fold && table.rows.length > LONG_TABLE_ROWS
      ? `<details><summary>Show all ${table.rows.length} rows</summary>${body}</details>`
      : body;
  };

  const findings = findingLines(model.analysis);
  const primitives = primitivesTable(results);
  const sections = [
    section(
      'findings',
      'Findings',
      'The answers of this run, one sentence each with its uncertainty; "not determined" where the data do not decide.',
      findings.length
        ? `<ul>${findings.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`
        : '<p class="no-data">No findings: this file was never analysed.</p>',
    ),
    section(
      'maps',
      'Maps',
      "Each map in this run; private maps give every thread its own copy (the no-sharing ceiling, not a competitor). The badge is the map's concurrency verification, when the run carries one.",
      mapsTable(model, mapHtml),
    ),
    section(
      'winners',
      'Winner per workload × threads',
      'The fastest shared map (closed loop) and its lead over the runner-up from paired trials with a 95% CI; ' +
        'a winner only where the CI excludes a tie (±3%), else "tie". "—": every shared map failed or none ran.',
      htmlTableOf(winnerTable(model), 'No data in this run: no successful closed-loop cells.', false),
    ),
    chart('chart-throughput') +
      section(
        'knees',
        'Scalability knees',
        "Kneedle's knee: the thread count past which adding threads buys much less. USL: λ one thread's throughput, σ contention, κ coherency cost; N* = √((1−σ)/κ) is where throughput peaks (∞: no retrograde peak).",
        htmlTableOf(tables.knees, 'No data in this run: no closed-loop cells.'),
      ),
    chart('chart-p99-threads'),
    chart('chart-percentiles'),
    chart('chart-histogram'),
    chart('chart-loadfactor-throughput'),
    chart('chart-loadfactor-bytes'),
    chart('chart-crossover') +
      section(
        'crossovers',
        'Crossovers',
        'Per write-fraction family and pair of maps: the write fraction where the faster map changes, interpolated in log ratio between measured fractions, with a 95% bootstrap interval over trials.',
        htmlTableOf(
          tables.crossovers,
          'No data in this run: no write-fraction family (writes-N, churn-N) with two maps.',
        ),
      ),
    chart('chart-latency-load') +
      section(
        'latency-knees',
        'Latency knees',
        'TPS at knee: the offered load (ops/s over all threads) past which p99 leaves its flat region, with p99 at the knee and at the next offered rate.',
        htmlTableOf(tables.latencyKnees, 'No data in this run: no open-loop cells.'),
      ),
    chart('chart-counters'),
    ...(model.analysis.runtimes?.length
      ? [
          section(
            'runtimes',
            'Runtimes',
            'Each map under each runtime ÷ the same map under the first runtime (--node), ' +
              "from trials paired by round (the runtimes' trials ran side by side), with a 95% CI.",
            htmlTableOf(runtimeTable(model), ''),
          ),
        ]
      : []),
    section(
      'failed',
      `Failed cells (${model.failed.length})`,
      'A failed cell has no numbers: it is left out of every chart and table above, never drawn as zero.',
      htmlTableOf(failedTable(model), 'None: every cell ran.'),
    ),
    section(
      'environment',
      'Environment',
      'Where and how this run was measured.',
      htmlTable(environmentTable(results), mapHtml, false) +
        (primitives === null ? '' : `<h3>Primitives per runtime</h3>${htmlTable(primitives, mapHtml)}`),
    ),
    section(
      'config',
      'Config',
      'The resolved sweep configuration.',
      `${htmlTable(configTable(results), mapHtml, false)}<details><summary>Whole config as JSON</summary><pre>${escapeHtml(JSON.stringify(results.config, null, 2))}</pre></details>`,
    ),
    section(
      'cells',
      `All cells (${results.cells.length})`,
      'Every cell of the run as measured.',
      `<details><summary>Show the table</summary>${cellsTable(model)}</details>`,
    ),
  ];
  const nav = [
    ['findings', 'Findings'],
    ['maps', 'Maps'],
    ['winners', 'Winners'],
    ['chart-throughput', 'Scaling'],
    ['chart-p99-threads', 'p99'],
    ['chart-percentiles', 'Percentiles'],
    ['chart-histogram', 'Histogram'],
    ['chart-loadfactor-throughput', 'Load factor'],
    ['chart-crossover', 'Crossover'],
    ['chart-latency-load', 'Latency vs load'],
    ['chart-counters', 'Counters'],
    ['failed', 'Failed'],
    ['environment', 'Environment'],
    ['config', 'Config'],
    ['cells', 'Cells'],
  ]
    .map(([id, label]) => `<a href="#${id.startsWith('chart-') ? `section-${id}` : id}">${label}</a>`)
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(summaryLine(model))}</p>
<p>Rendered ${escapeHtml(options.renderedAt ?? new Date().toISOString())} from a results file of schema ${escapeHtml(results.schema)}.</p>
</header>
<nav>${nav}</nav>
<main>
${sections.join('\n')}
</main>
<footer>Charts drawn in the page by ${libs.map((lib) => `${lib.name} ${escapeHtml(lib.version)}`).join(', ')}, inlined: this file loads nothing from anywhere.</footer>
<script type="application/json" id="maplab-data">${jsonForScript(payload)}</script>
${scripts.map((source) => `<script>${source}</script>`).join('\n')}
</body>
</html>
`;
}

/** The inlined libraries and bootstrap (none when nothing is drawn) and a CSP that lets only them run. */
export function pageScripts(drawsCharts: boolean): { scripts: string[]; csp: string } {
  const scripts = drawsCharts ? [...browserLibraries().map((lib) => lib.source), BOOTSTRAP] : [];
  const scriptHashes = scripts.map(
    (source) => `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`,
  );
  const csp = [
    "default-src 'none'",
    `script-src ${scriptHashes.join(' ') || "'none'"}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
    "font-src 'none'",
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return { scripts, csp };
}

export function usedDatasets(
  datasets: Record<string, CompactTable>,
  drawn: ChartDefinition[],
): Record<string, CompactTable> {
  const used = new Set<string>();
  const use = (name: string): void => {
    used.add(name);
    const join = datasets[name]?.join;
    if (join && !used.has(join)) use(join);
  };
  for (const chart of drawn) use((chart.spec!.data as { name: string }).name);
  return Object.fromEntries(Object.entries(datasets).filter(([name]) => used.has(name)));
}

export function section(id: string, title: string, description: string, body: string): string {
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2><p class="description">${escapeHtml(description)}</p>${body}</section>`;
}

export function chartSection(chart: ChartDefinition): string {
  const body = chart.spec
    ? `<div class="chart" id="${chart.id}" data-chart="${chart.id}"></div>`
    : `<p class="no-data" data-no-data="${chart.id}">${escapeHtml(chart.noData ?? 'No data in this run.')}</p>`;
  return section(`section-${chart.id}`, chart.title, chart.description, body);
}

function mapLabelHtml(model: ReportModel): (map: string) => string {
  return (name) => {
    const info = mapInfo(model, name);
    const badges = [
      info.private ? '<span class="badge private">private</span>' : '',
      info.verification ? `<span class="badge ${info.verification}">${info.verification}</span>` : '',
    ].join('');
    return `<span class="map">${escapeHtml(info.name)}</span>${badges}`;
  };
}

const NUMERIC = /^[−\-+]?[\d.,]+(\s?[kMG%])?$|^—$/;

/** `alignNumbers`: right-align cells that hold a number (off for key/value tables). */
export function htmlTable(table: Table, mapHtml: (map: string) => string, alignNumbers = true): string {
  const cell = (value: TableCell) =>
    typeof value === 'string'
      ? `<td${alignNumbers && NUMERIC.test(value) ? ' class="number"' : ''}>${escapeHtml(value)}</td>`
      : `<td>${mapHtml(value.map)}${escapeHtml(value.suffix ?? '')}</td>`;
  const hasHeader = table.headers.some((header) => header !== '');
  return `<div class="table-scroll"><table>${hasHeader ? `<thead><tr>${table.headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead>` : ''}<tbody>${table.rows
    .map((row) => `<tr>${row.map(cell).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

function mapsTable(model: ReportModel, mapHtml: (map: string) => string): string {
  if (model.maps.length === 0) return '<p class="no-data">No cells in this run.</p>';
  const rows = model.maps.map((map) => {
    const cells = model.results.cells.filter((cell) => cell.map === map.name);
    const failed = cells.filter((cell) => cell.error !== undefined).length;
    return `<tr><td>${mapHtml(map.name)}</td><td>${map.private ? 'private copy per thread' : 'shared memory'}</td><td class="number">${cells.length - failed}</td><td class="number${failed ? ' failed' : ''}">${failed}</td></tr>`;
  });
  return `<table><thead><tr><th>map</th><th>memory</th><th>cells run</th><th>cells failed</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Every cell; map names as plain labels ("js-map (private)") to keep a big run's page small. */
function cellsTable(model: ReportModel): string {
  const row = (cell: ResultsCell) => {
    const key = `<td>${escapeHtml(mapInfo(model, cell.map).label)}</td><td>${escapeHtml(cell.workload)}</td><td class="number">${cell.threads}${cell.oversubscribed ? ' (over)' : ''}</td><td class="number">${formatNumber(cell.loadFactor)}</td><td class="number">${typeof cell.rate === 'number' ? escapeHtml(formatCount(cell.rate)) : '—'}</td>`;
    if (cell.error !== undefined)
      return `<tr>${key}<td colspan="4" class="failed">failed: ${escapeHtml(cell.error)}</td></tr>`;
    return `<tr>${key}<td class="number">${escapeHtml(formatCount(cell.opsPerSec.median))}</td><td class="number">${escapeHtml(`${formatCount(cell.opsPerSec.ciLow)} – ${formatCount(cell.opsPerSec.ciHigh)}`)}</td><td class="number">${escapeHtml(formatNs(cell.latencyNs.p50))}</td><td class="number">${escapeHtml(formatNs(cell.latencyNs.p99))}</td></tr>`;
  };
  return `<div class="table-scroll"><table><thead><tr><th>map</th><th>workload</th><th>threads</th><th>load factor</th><th>rate/thread</th><th>ops/s</th><th>95% CI</th><th>p50</th><th>p99</th></tr></thead><tbody>${model.results.cells.map(row).join('')}</tbody></table></div>`;
}
