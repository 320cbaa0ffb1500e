/**
 * History over commits: `maplab report <folder>` reads every results file in
 * a folder (runs of many commits, machine kinds and runtimes) and draws, per
 * map × workload, the median ops/s with its 95% CI band and the p99 from run
 * to run, for one machine kind (env cpuModel × cores) and runtime (env.node)
 * at a time, marking gate verdicts (a `<results>.gate.json` beside a results
 * file, as `maplab gate --verdict-out` writes it).
 *
 * History is capped so that the site does not grow without bound: the newest
 * `fullRuns` runs keep a point per closed-loop cell; older ones are
 * summarised to their headline cells (the most threads that did not
 * oversubscribe the machine, at load factor 0.75 or the middle one), one
 * point per map × workload. The capped history is written beside the page as
 * history.json; put it back in the folder next time and its summaries carry
 * the older runs forward without their results files.
 */
import type { GateReport } from '../harness/gate/gate.js';
import type { Results } from '../harness/results/results.js';
import { type ChartDefinition, type CompactTable, round } from './charts.js';
import {
  chartSection,
  escapeHtml,
  jsonForScript,
  pageScripts,
  section,
  STYLE,
  usedDatasets,
  VEGA_CONFIG,
} from './html.js';
import { formatCount, isClosedLoop, unique } from './model.js';

export const HISTORY_SCHEMA = 'maplab.history/1';
export const DEFAULT_FULL_RUNS = 20;

/** [map, workload, threads, loadFactor, median ops/s, CI low, CI high, p99 ns (null: none), regressed in the run's gate]. */
export type HistoryPoint = [string, string, number, number, number, number, number, number | null, boolean];

export interface HistoryRun {
  runId: string;
  commit: string | null;
  startedAt: string | null;
  /** 'AMD EPYC 7B13 ×2': the CPU model and cores the run was measured on. */
  machine: string;
  /** 'node v20.20.2'. */
  runtime: string;
  /** false: summarised to its headline cells. */
  full: boolean;
  cells: number;
  failed: number;
  gate: { verdict: string; regressions: string[] } | null;
  points: HistoryPoint[];
}

export interface History {
  schema: typeof HISTORY_SCHEMA;
  fullRuns: number;
  /** Oldest first. */
  runs: HistoryRun[];
}

/** A run's history record with every closed-loop cell; `gate`: the verdict that judged it, if any. */
export function historyRunOf(results: Results, runId: string, gate: GateReport | null): HistoryRun {
  const regressed = new Set((gate?.regressions ?? []).map((finding) => finding.label));
  const label = (cell: Results['cells'][number]) =>
    `${cell.map}/${cell.workload}/t=${cell.threads}/lf=${cell.loadFactor}`;
  const sweep = results.sweep as { startedAt?: unknown } | undefined;
  return {
    runId,
    commit: results.env.commit ?? null,
    startedAt: typeof sweep?.startedAt === 'string' ? sweep.startedAt : null,
    machine: `${results.env.cpuModel} ×${results.env.cores}`,
    runtime: `node ${results.env.node}`,
    full: true,
    cells: results.cells.length,
    failed: results.cells.filter((cell) => cell.error !== undefined).length,
    gate: gate === null ? null : { verdict: gate.verdict, regressions: [...regressed] },
    points: results.cells
      .filter(isClosedLoop)
      .map((cell): HistoryPoint => [
        cell.map,
        cell.workload,
        cell.threads,
        cell.loadFactor,
        round(cell.opsPerSec.median),
        round(cell.opsPerSec.ciLow),
        round(cell.opsPerSec.ciHigh),
        Number.isFinite(cell.latencyNs?.p99) ? round(cell.latencyNs.p99) : null,
        regressed.has(label(cell)),
      ]),
  };
}

/** The run's headline cells only: one point per map × workload (see the top of this file). */
export function summariseRun(run: HistoryRun): HistoryRun {
  if (!run.full) return run;
  const { threads, loadFactor } = headlineOf(run);
  return { ...run, full: false, points: run.points.filter((point) => point[2] === threads && point[3] === loadFactor) };
}

function headlineOf(run: HistoryRun): { threads: number; loadFactor: number } {
  const cores = Number(/×(\d+)$/.exec(run.machine)?.[1] ?? Infinity);
  const threads = unique(run.points.map((point) => point[2])).sort((a, b) => a - b);
  const fitting = threads.filter((count) => count <= cores);
  const loadFactors = unique(run.points.map((point) => point[3])).sort((a, b) => a - b);
  return {
    threads: fitting.at(-1) ?? threads[0] ?? 1,
    loadFactor: loadFactors.includes(0.75) ? 0.75 : (loadFactors[Math.floor((loadFactors.length - 1) / 2)] ?? 0.75),
  };
}

/** Oldest first (start time, then run id); one record per run id, a full one preferred; all but the newest `fullRuns` summarised. */
export function buildHistory(runs: readonly HistoryRun[], fullRuns: number): History {
  const byId = new Map<string, HistoryRun>();
  for (const run of runs) {
    const known = byId.get(run.runId);
    if (known === undefined || (run.full && !known.full)) byId.set(run.runId, run);
  }
  const ordered = [...byId.values()].sort(
    (a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? '') || a.runId.localeCompare(b.runId),
  );
  const firstFull = Math.max(0, ordered.length - fullRuns);
  return {
    schema: HISTORY_SCHEMA,
    fullRuns,
    runs: ordered.map((run, index) => (index < firstFull ? summariseRun(run) : run)),
  };
}

/** Reads a history.json written by an earlier render; throws naming `source` and the field. */
export function parseHistory(json: unknown, source: string): HistoryRun[] {
  const document = json as Partial<History> | null;
  if (
    document === null ||
    typeof document !== 'object' ||
    document.schema !== HISTORY_SCHEMA ||
    !Array.isArray(document.runs)
  ) {
    throw new RangeError(`${source}: not a maplab history file (schema must be "${HISTORY_SCHEMA}" with a runs array)`);
  }
  document.runs.forEach((run, index) => {
    if (
      typeof run?.runId !== 'string' ||
      !Array.isArray(run.points) ||
      typeof run.machine !== 'string' ||
      typeof run.runtime !== 'string'
    ) {
      throw new RangeError(
        `${source}: runs[${index}] must have runId, machine, runtime (strings) and points (an array)`,
      );
    }
  });
  return document.runs;
}

/** The history page: self-contained like a run's report (vega inlined, nothing loaded from anywhere). */
export function renderHistoryHtml(history: History, options: { renderedAt?: string } = {}): string {
  const runs = history.runs;
  const newest = runs.at(-1);
  const machines = unique(runs.map((run) => run.machine));
  const runtimes = unique(runs.map((run) => run.runtime));
  const allPoints = runs.flatMap((run) => run.points);
  const threads = unique(allPoints.map((point) => point[2])).sort((a, b) => a - b);
  const loadFactors = unique(allPoints.map((point) => point[3])).sort((a, b) => a - b);
  const workloads = unique(allPoints.map((point) => point[1]));
  const maps = unique(allPoints.map((point) => point[0]));
  const headline = newest ? headlineOf(newest) : { threads: threads[0] ?? 1, loadFactor: loadFactors[0] ?? 0.75 };

  const datasets: Record<string, CompactTable> = {
    runs: {
      columns: ['runLabel', 'order', 'machine', 'runtime', 'verdict', 'full'],
      rows: runs.map((run, order) => [
        runLabel(run, order),
        order,
        run.machine,
        run.runtime,
        run.gate?.verdict ?? null,
        run.full,
      ]),
    },
    points: {
      columns: ['run', 'map', 'workload', 'threads', 'loadFactor', 'ops', 'ciLow', 'ciHigh', 'p99Us', 'regressed'],
      rows: runs.flatMap((run, order) =>
        run.points.map(([map, workload, count, loadFactor, ops, ciLow, ciHigh, p99Ns, regressed]) => [
          order,
          map,
          workload,
          count,
          loadFactor,
          ops,
          ciLow,
          ciHigh,
          p99Ns === null ? null : round(p99Ns / 1e3),
          regressed,
        ]),
      ),
      join: 'runs',
    },
  };
  const select = (name: string, value: unknown, values: unknown[], label: string) => ({
    name,
    value,
    bind: { input: 'select', options: values, name: label },
  });
  const params = [
    select('machine', newest?.machine ?? '', machines, 'machine '),
    select('runtime', newest?.runtime ?? '', runtimes, 'runtime '),
    select('th', headline.threads, threads, 'threads '),
    select('lf', headline.loadFactor, loadFactors, 'load factor '),
  ];
  const transform = [
    { filter: 'datum.machine == machine && datum.runtime == runtime && datum.threads == th && datum.loadFactor == lf' },
  ];
  const x = {
    field: 'runLabel',
    type: 'ordinal',
    title: 'run (commit, start)',
    sort: { field: 'order' },
    axis: { labelAngle: -50, labelLimit: 120 },
  };
  const colour = { field: 'map', type: 'nominal', title: 'map', scale: { domain: maps, scheme: 'tableau10' } };
  const tooltip = [
    { field: 'map' },
    { field: 'workload' },
    { field: 'runLabel', title: 'run' },
    { field: 'ops', title: 'ops/s', format: ',.0f' },
    { field: 'ciLow', title: 'CI low', format: ',.0f' },
    { field: 'ciHigh', title: 'CI high', format: ',.0f' },
    { field: 'p99Us', title: 'p99 µs' },
    { field: 'verdict', title: 'gate' },
  ];
  const facet = { field: 'workload', type: 'nominal', title: null, sort: workloads };
  const verdictLayer = (yField: string) => ({
    transform: [{ filter: 'isValid(datum.verdict)' }],
    mark: { type: 'point', size: 70, strokeWidth: 2, filled: false },
    encoding: {
      x,
      y: { field: yField, type: 'quantitative' },
      shape: {
        field: 'verdict',
        type: 'nominal',
        title: 'gate verdict',
        scale: { domain: ['pass', 'inconclusive', 'regression'], range: ['circle', 'triangle-up', 'cross'] },
      },
      stroke: { value: '#333' },
      tooltip,
    },
  });
  const regressedLayer = (yField: string) => ({
    transform: [{ filter: 'datum.regressed' }],
    mark: { type: 'point', size: 260, strokeWidth: 3, filled: false, color: '#c0392b' },
    encoding: { x, y: { field: yField, type: 'quantitative' }, tooltip },
  });
  const charts: ChartDefinition[] = [];
  const noData = 'No data: the folder holds no run with a successful closed-loop cell.';
  charts.push({
    id: 'chart-trend-throughput',
    title: 'Throughput over runs',
    description:
      'Median ops/s per map (log scale) with its 95% confidence interval as a band, run after run, for the chosen machine kind, runtime, threads and load factor. ' +
      'Gate verdicts: ○ pass, △ inconclusive, ✕ regression; a red ring marks a cell the gate found regressed. Summarised (older) runs keep only their headline threads and load factor.',
    ...(allPoints.length === 0
      ? { noData }
      : {
          spec: {
            data: { name: 'points' },
            params,
            transform,
            facet,
            columns: 3,
            resolve: { scale: { y: 'independent' } },
            spec: {
              width: 300,
              height: 170,
              layer: [
                {
                  mark: { type: 'area', opacity: 0.18 },
                  encoding: {
                    x,
                    y: {
                      field: 'ciLow',
                      type: 'quantitative',
                      scale: { type: 'log' },
                      title: 'ops/s (log)',
                      axis: { format: '~s' },
                    },
                    y2: { field: 'ciHigh' },
                    color: colour,
                  },
                },
                {
                  mark: { type: 'line', point: true },
                  encoding: { x, y: { field: 'ops', type: 'quantitative' }, color: colour, tooltip },
                },
                verdictLayer('ops'),
                regressedLayer('ops'),
              ],
            },
          },
        }),
  });
  charts.push({
    id: 'chart-trend-p99',
    title: 'p99 latency over runs',
    description:
      'The 99th percentile of sampled op latency per map (log scale), run after run, with the same choices and verdict marks.',
    ...(allPoints.length === 0
      ? { noData }
      : {
          spec: {
            data: { name: 'points' },
            params,
            transform: [...transform, { filter: 'datum.p99Us > 0' }],
            facet,
            columns: 3,
            resolve: { scale: { y: 'independent' } },
            spec: {
              width: 300,
              height: 150,
              layer: [
                {
                  mark: { type: 'line', point: true },
                  encoding: {
                    x,
                    y: { field: 'p99Us', type: 'quantitative', title: 'p99 (µs, log)', scale: { type: 'log' } },
                    color: colour,
                    tooltip,
                  },
                },
                verdictLayer('p99Us'),
                regressedLayer('p99Us'),
              ],
            },
          },
        }),
  });

  const drawn = charts.filter((chart) => chart.spec);
  const { scripts, csp } = pageScripts(drawn.length > 0);
  const payload = {
    config: VEGA_CONFIG,
    datasets: usedDatasets(datasets, drawn),
    charts: drawn.map((chart) => ({ id: chart.id, spec: chart.spec })),
  };
  const full = runs.filter((run) => run.full).length;
  return (
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>maplab history</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>maplab history</h1>
<p>${runs.length} run${runs.length === 1 ? '' : 's'} on ${machines.length} machine kind(s) and ${runtimes.length} runtime(s); the newest ${full} in full, ` +
    `${runs.length - full} older summarised (history capped at ${history.fullRuns} full runs; data: history.json).</p>
<p>Rendered ${escapeHtml(options.renderedAt ?? new Date().toISOString())}.</p>
</header>
<main>
${charts.map(chartSection).join('\n')}
${section('runs', `Runs (${runs.length})`, 'Newest first. A gate verdict shows where the run was gated (maplab gate --verdict-out beside its results file).', runsTable(runs))}
</main>
<footer>Drawn in the page by vega-lite, inlined: this file loads nothing from anywhere.</footer>
<script type="application/json" id="maplab-data">${jsonForScript(payload)}</script>
${scripts.map((source) => `<script>${source}</script>`).join('\n')}
</body>
</html>
`
  );
}

function runLabel(run: HistoryRun, order: number): string {
  const when = run.startedAt ? run.startedAt.slice(5, 16).replace('T', ' ') : `#${order + 1}`;
  return `${run.commit ? run.commit.slice(0, 7) : 'no commit'} ${when}`;
}

function runsTable(runs: readonly HistoryRun[]): string {
  if (runs.length === 0) return '<p class="no-data">No runs in this folder.</p>';
  const rows = [...runs].reverse().map((run) => {
    const verdict =
      run.gate === null
        ? '—'
        : `${run.gate.verdict}${run.gate.regressions.length ? `: ${run.gate.regressions.join(', ')}` : ''}`;
    const best = run.points.reduce((top, point) => Math.max(top, point[4]), 0);
    return (
      `<tr><td>${escapeHtml(run.runId)}</td><td>${escapeHtml(run.startedAt ?? '—')}</td><td>${escapeHtml(run.commit?.slice(0, 12) ?? '—')}</td>` +
      `<td>${escapeHtml(run.machine)}</td><td>${escapeHtml(run.runtime)}</td><td class="number">${run.cells}</td>` +
      `<td class="number${run.failed ? ' failed' : ''}">${run.failed}</td><td class="number">${escapeHtml(formatCount(best))}</td>` +
      `<td${run.gate?.verdict === 'regression' ? ' class="failed"' : ''}>${escapeHtml(verdict)}</td><td>${run.full ? 'full' : 'summary'}</td></tr>`
    );
  });
  return (
    `<div class="table-scroll"><table><thead><tr><th>run</th><th>started</th><th>commit</th><th>machine</th><th>runtime</th><th>cells</th><th>failed</th>` +
    `<th>best ops/s</th><th>gate</th><th>kept</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
  );
}
