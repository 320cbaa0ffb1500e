/**
 * The report's charts as vega-lite specs plus the data they draw, built from
 * a results file in Node. Data travels as compact tables (column names once,
 * rows as arrays, numbers at four significant digits) and is expanded into
 * objects in the page; rows of per-cell series (percentiles, histogram
 * bins, counters) name their cell by index into the `cells` table, and a
 * null in a row leaves the joined field as it is.
 *
 * Specs use only fixed field names; names from the results file (maps,
 * workloads, counters) are data values, never field names or expression
 * text, so they cannot change what a spec does. Param options do carry
 * names; vega puts them in <option> elements as text.
 */
import type { Cell } from '../harness/results/results.js';
import { formatNumber, mapInfo, median, unique, type ReportModel } from './model.js';

export interface CompactTable {
  columns: string[];
  rows: unknown[][];
  /** Rows whose first column is an index into this other table (e.g. `cells`) get that row's fields. */
  join?: string;
}

export interface ChartDefinition {
  id: string;
  title: string;
  /** One or two sentences under the title: what to read from it. */
  description: string;
  /** A vega-lite spec whose data are named datasets; absent when `noData` says why. */
  spec?: Record<string, unknown>;
  noData?: string;
}

export interface ChartSet {
  datasets: Record<string, CompactTable>;
  charts: ChartDefinition[];
}

/** Percentiles drawn on the HdrHistogram-style plot (plus min and max). */
const PLOTTED_PERCENTILES = [
  0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99995, 0.99999, 0.999995, 0.999999,
];
/** Histogram bins for the per-map latency histogram: log-spaced, this many per decade. */
const HISTOGRAM_BINS_PER_DECADE = 10;
const PANEL_WIDTH = 210;
/** Points per drawn USL curve (log-spaced between the fewest and most threads). */
const USL_CURVE_STEPS = 24;
const PANEL_HEIGHT = 150;

/** Log scales cannot place 0 (a CI reaching down to 0, a sub-resolution latency): such marks are left out; the tables keep them. */
function positive(field: string): { filter: { field: string; gt: number } } {
  return { filter: { field, gt: 0 } };
}

export function round(value: number, digits = 4): number {
  return Number.isFinite(value) && value !== 0 ? +value.toPrecision(digits) : value;
}

/** What every chart builder shares: the model, map labels and colours, the axes and the selection params. */
interface ChartContext {
  model: ReportModel;
  mapLabels: string[];
  labelOf: (name: string) => string;
  /** The closed-loop cells, in the order of the `cells` dataset that per-cell rows index into. */
  cells: Cell[];
  /** Closed-loop cells that carry a latency histogram, with their index into `cells`. */
  withHistogram: Array<{ cell: Cell; index: number }>;
  colour: Record<string, unknown>;
  threadsAxis: Record<string, unknown>;
  /** The load-factor selector (none when the run has one load factor), and the filter it drives. */
  lfParam: (name?: string) => Array<Record<string, unknown>>;
  lfFilter: Array<Record<string, unknown>>;
  threadsParam: Record<string, unknown>;
  workloadParam: Record<string, unknown>;
  facetWorkload: Record<string, unknown>;
}

/** One chart, and the datasets it adds to the page (any chart may also read `cells`). */
interface BuiltChart {
  datasets?: Record<string, CompactTable>;
  chart: ChartDefinition;
}

const NO_CELLS = 'No data in this run: no successful closed-loop cells.';
const NO_HISTOGRAM = 'No data in this run: no cell carries a latency histogram.';

/** The charts in page order; their datasets are added in the same order, after `cells`. */
const CHART_BUILDERS: ReadonlyArray<(context: ChartContext) => BuiltChart> = [
  throughputChart,
  p99ThreadsChart,
  percentilesChart,
  histogramChart,
  loadFactorThroughputChart,
  loadFactorBytesChart,
  crossoverChart,
  latencyLoadChart,
  countersChart,
];

export function buildCharts(model: ReportModel): ChartSet {
  const context = chartContext(model);
  const datasets: Record<string, CompactTable> = { cells: cellsTable(context) };
  const charts: ChartDefinition[] = [];
  for (const build of CHART_BUILDERS) {
    const built = build(context);
    Object.assign(datasets, built.datasets);
    charts.push(built.chart);
  }
  return { datasets, charts };
}

function chartContext(model: ReportModel): ChartContext {
  const mapLabels = model.maps.map((map) => map.label);
  const cells = model.closedLoop;
  const loadFactorDefault = defaultLoadFactor(model.loadFactors);
  return {
    model,
    mapLabels,
    labelOf: (name: string) => mapInfo(model, name).label,
    cells,
    withHistogram: cells.map((cell, index) => ({ cell, index })).filter(({ cell }) => histogramTotal(cell) > 0),
    colour: { field: 'mapLabel', type: 'nominal', title: 'map', scale: { domain: mapLabels, scheme: 'tableau10' } },
    threadsAxis: threadsEncoding(model.threads),
    lfParam: (name = 'lf') =>
      model.loadFactors.length > 1
        ? [
            {
              name,
              value: loadFactorDefault,
              bind: { input: 'select', options: model.loadFactors, name: 'load factor ' },
            },
          ]
        : [],
    lfFilter: model.loadFactors.length > 1 ? [{ filter: 'datum.loadFactor == lf' }] : [],
    threadsParam: {
      name: 'th',
      value: defaultThreads(model),
      bind: { input: 'select', options: model.threads, name: 'threads ' },
    },
    workloadParam: {
      name: 'wl',
      value: model.workloads[0] ?? '',
      bind: { input: 'select', options: model.workloads, name: 'workload ' },
    },
    facetWorkload: { field: 'workload', type: 'nominal', title: null, sort: model.workloads },
  };
}

/** One row per closed-loop cell: the table every per-cell series joins. */
function cellsTable({ cells, labelOf }: ChartContext): CompactTable {
  return {
    columns: [
      'mapLabel',
      'workload',
      'threads',
      'loadFactor',
      'ops',
      'ciLow',
      'ciHigh',
      'p50Us',
      'p99Us',
      'p999Us',
      'oversubscribed',
    ],
    rows: cells.map((cell) => [
      labelOf(cell.map),
      cell.workload,
      cell.threads,
      cell.loadFactor,
      round(cell.opsPerSec.median),
      round(cell.opsPerSec.ciLow),
      round(cell.opsPerSec.ciHigh),
      round(cell.latencyNs.p50 / 1e3),
      round(cell.latencyNs.p99 / 1e3),
      round(cell.latencyNs.p999 / 1e3),
      cell.oversubscribed,
    ]),
  };
}

/** Throughput vs threads, with the USL curve and the Kneedle knee. */
function throughputChart({
  model,
  mapLabels,
  labelOf,
  cells,
  colour,
  threadsAxis,
  lfParam,
  lfFilter,
  facetWorkload,
}: ChartContext): BuiltChart {
  const [series, throughput] = throughputTables(model, labelOf);
  const chart: ChartDefinition = {
    id: 'chart-throughput',
    title: 'Throughput vs threads',
    description:
      'Median ops/s (log scale, so that maps of different speeds stay readable) with its 95% confidence interval; dashed: the USL fit; ◇: the Kneedle knee. Hollow points ran more threads than cores.',
    ...(cells.length === 0
      ? { noData: NO_CELLS }
      : {
          spec: {
            data: { name: 'throughput' },
            params: lfParam(),
            transform: lfFilter,
            facet: facetWorkload,
            columns: 4,
            resolve: { scale: { y: 'independent' } },
            spec: {
              width: PANEL_WIDTH,
              height: PANEL_HEIGHT,
              layer: [
                {
                  transform: [{ filter: { field: 'kind', equal: 'usl' } }, positive('ops')],
                  mark: { type: 'line', strokeDash: [4, 3], strokeWidth: 1.5, opacity: 0.8 },
                  encoding: { x: threadsAxis, y: { field: 'ops', type: 'quantitative' }, color: colour },
                },
                {
                  transform: [{ filter: { field: 'kind', equal: 'measured' } }, positive('ciLow')],
                  mark: { type: 'rule', opacity: 0.6 },
                  encoding: {
                    x: threadsAxis,
                    y: { field: 'ciLow', type: 'quantitative' },
                    y2: { field: 'ciHigh' },
                    color: colour,
                  },
                },
                {
                  transform: [{ filter: { field: 'kind', equal: 'measured' } }, positive('ops')],
                  mark: { type: 'point', size: 40 },
                  encoding: {
                    x: threadsAxis,
                    y: {
                      field: 'ops',
                      type: 'quantitative',
                      title: 'ops/s (log)',
                      scale: { type: 'log' },
                      axis: { format: '~s' },
                    },
                    color: colour,
                    fill: {
                      condition: { test: 'datum.oversubscribed', value: 'transparent' },
                      field: 'mapLabel',
                      type: 'nominal',
                      scale: { domain: mapLabels, scheme: 'tableau10' },
                    },
                    tooltip: [
                      { field: 'mapLabel', title: 'map' },
                      { field: 'workload' },
                      { field: 'threads' },
                      { field: 'ops', title: 'ops/s', format: ',.0f' },
                      { field: 'ciLow', title: 'CI low', format: ',.0f' },
                      { field: 'ciHigh', title: 'CI high', format: ',.0f' },
                    ],
                  },
                },
                {
                  transform: [{ filter: { field: 'kind', equal: 'knee' } }, positive('ops')],
                  mark: { type: 'point', shape: 'diamond', size: 180, strokeWidth: 2, filled: false },
                  encoding: {
                    x: threadsAxis,
                    y: { field: 'ops', type: 'quantitative' },
                    color: colour,
                    tooltip: [
                      { field: 'mapLabel', title: 'map' },
                      { field: 'workload' },
                      { field: 'threads', title: 'knee (threads)' },
                      { field: 'ops', title: 'ops/s', format: ',.0f' },
                    ],
                  },
                },
              ],
            },
          },
        }),
  };
  return { datasets: { series, throughput }, chart };
}

/** p99 vs threads. */
function p99ThreadsChart({ cells, colour, threadsAxis, lfParam, lfFilter, facetWorkload }: ChartContext): BuiltChart {
  const chart: ChartDefinition = {
    id: 'chart-p99-threads',
    title: 'p99 latency vs threads',
    description:
      'The 99th percentile of sampled op latency, log scale. Rising p99 with flat throughput is queueing on a lock.',
    ...(cells.length === 0
      ? { noData: NO_CELLS }
      : {
          spec: {
            data: { name: 'cells' },
            params: lfParam(),
            transform: [...lfFilter, positive('p99Us')],
            facet: facetWorkload,
            columns: 4,
            spec: {
              width: PANEL_WIDTH,
              height: PANEL_HEIGHT,
              mark: { type: 'line', point: true },
              encoding: {
                x: threadsAxis,
                y: { field: 'p99Us', type: 'quantitative', title: 'p99 (µs)', scale: { type: 'log' } },
                color: colour,
                tooltip: [
                  { field: 'mapLabel', title: 'map' },
                  { field: 'workload' },
                  { field: 'threads' },
                  { field: 'p50Us', title: 'p50 µs' },
                  { field: 'p99Us', title: 'p99 µs' },
                  { field: 'p999Us', title: 'p99.9 µs' },
                ],
              },
            },
          },
        }),
  };
  return { chart };
}

/** Percentile distribution, HdrHistogram style. */
function percentilesChart({
  colour,
  lfParam,
  lfFilter,
  threadsParam,
  facetWorkload,
  withHistogram,
}: ChartContext): BuiltChart {
  const percentiles: CompactTable = {
    columns: ['cell', 'inverseTail', 'latencyUs', 'percentile'],
    rows: withHistogram.flatMap(({ cell, index }) => percentileRows(cell, index)),
    join: 'cells',
  };
  const chart: ChartDefinition = {
    id: 'chart-percentiles',
    title: 'Latency percentile distribution',
    description:
      'Latency at each percentile from the recorded histogram; the x axis stretches the tail (1/(1−p), log), as HdrHistogram plots do. Choose threads and load factor.',
    ...(withHistogram.length === 0
      ? { noData: NO_HISTOGRAM }
      : {
          spec: {
            data: { name: 'percentiles' },
            params: [threadsParam, ...lfParam()],
            transform: [{ filter: 'datum.threads == th' }, ...lfFilter, positive('latencyUs')],
            facet: facetWorkload,
            columns: 4,
            spec: {
              width: PANEL_WIDTH,
              height: PANEL_HEIGHT,
              mark: { type: 'line', interpolate: 'step-after' },
              encoding: {
                x: {
                  field: 'inverseTail',
                  type: 'quantitative',
                  title: 'percentile',
                  scale: { type: 'log' },
                  axis: {
                    values: [1, 2, 10, 100, 1e3, 1e4, 1e5, 1e6],
                    labelExpr: "format(100 - 100 / datum.value, '.6~f') + '%'",
                  },
                },
                y: { field: 'latencyUs', type: 'quantitative', title: 'latency (µs)', scale: { type: 'log' } },
                color: colour,
                tooltip: [
                  { field: 'mapLabel', title: 'map' },
                  { field: 'percentile', title: 'percentile (%)' },
                  { field: 'latencyUs', title: 'latency µs' },
                ],
              },
            },
          },
        }),
  };
  return { datasets: { percentiles }, chart };
}

/** Latency histogram per map for one chosen cell. */
function histogramChart({
  mapLabels,
  colour,
  lfParam,
  lfFilter,
  threadsParam,
  workloadParam,
  withHistogram,
}: ChartContext): BuiltChart {
  const histogram: CompactTable = {
    columns: ['cell', 'lowUs', 'highUs', 'fraction'],
    rows: withHistogram.flatMap(({ cell, index }) => histogramRows(cell, index)),
    join: 'cells',
  };
  const chart: ChartDefinition = {
    id: 'chart-histogram',
    title: 'Latency histogram per map',
    description:
      'Share of sampled ops per latency bin (10 bins per decade) for the chosen workload, threads and load factor, one row per map.',
    ...(withHistogram.length === 0
      ? { noData: NO_HISTOGRAM }
      : {
          spec: {
            data: { name: 'histogram' },
            params: [workloadParam, threadsParam, ...lfParam()],
            transform: [{ filter: 'datum.workload == wl && datum.threads == th' }, ...lfFilter],
            facet: {
              row: {
                field: 'mapLabel',
                type: 'nominal',
                title: null,
                sort: mapLabels,
                header: { labelAngle: 0, labelAlign: 'left' },
              },
            },
            spec: {
              width: 560,
              height: 60,
              mark: { type: 'bar' },
              encoding: {
                x: { field: 'lowUs', type: 'quantitative', title: 'latency (µs)', scale: { type: 'log' } },
                x2: { field: 'highUs' },
                y: { field: 'fraction', type: 'quantitative', title: 'share', axis: { format: '.0%', tickCount: 3 } },
                y2: { datum: 0 },
                color: { ...colour, legend: null },
                tooltip: [
                  { field: 'mapLabel', title: 'map' },
                  { field: 'lowUs', title: 'from µs' },
                  { field: 'highUs', title: 'to µs' },
                  { field: 'fraction', title: 'share', format: '.2%' },
                ],
              },
            },
          },
        }),
  };
  return { datasets: { histogram }, chart };
}

/** Load factor vs throughput. */
function loadFactorThroughputChart({ model, cells, colour, threadsParam, facetWorkload }: ChartContext): BuiltChart {
  const chart: ChartDefinition = {
    id: 'chart-loadfactor-throughput',
    title: 'Load factor vs throughput',
    description:
      'A fuller table probes longer: how much throughput each map loses as the load factor rises. Choose the thread count.',
    ...(cells.length === 0
      ? { noData: NO_CELLS }
      : model.loadFactors.length < 2
        ? { noData: `No data in this run: one load factor only (${formatNumber(model.loadFactors[0])}).` }
        : {
            spec: {
              data: { name: 'cells' },
              params: [threadsParam],
              transform: [{ filter: 'datum.threads == th' }],
              facet: facetWorkload,
              columns: 4,
              resolve: { scale: { y: 'independent' } },
              spec: {
                width: PANEL_WIDTH,
                height: PANEL_HEIGHT,
                mark: { type: 'line', point: true },
                encoding: {
                  x: { field: 'loadFactor', type: 'quantitative', title: 'load factor', scale: { zero: false } },
                  y: { field: 'ops', type: 'quantitative', title: 'ops/s', axis: { format: '~s' } },
                  color: colour,
                  tooltip: [
                    { field: 'mapLabel', title: 'map' },
                    { field: 'workload' },
                    { field: 'loadFactor', title: 'load factor' },
                    { field: 'ops', title: 'ops/s', format: ',.0f' },
                  ],
                },
              },
            },
          }),
  };
  return { chart };
}

/** Load factor vs bytes per entry. */
function loadFactorBytesChart({ labelOf, cells, colour }: ChartContext): BuiltChart {
  const bytesPerEntry = bytesPerEntryTable(cells, labelOf);
  const chart: ChartDefinition = {
    id: 'chart-loadfactor-bytes',
    title: 'Load factor vs bytes per entry',
    description:
      "Memory per stored entry (the map's `bytes` / `entries` counters), median over the run's cells: what a higher load factor saves.",
    ...(bytesPerEntry.rows.length === 0
      ? { noData: 'No data in this run: no cell reports `bytes` and `entries` counters.' }
      : {
          spec: {
            data: { name: 'bytesPerEntry' },
            width: 420,
            height: 220,
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'loadFactor', type: 'quantitative', title: 'load factor', scale: { zero: false } },
              y: { field: 'bytesPerEntry', type: 'quantitative', title: 'bytes per entry' },
              color: colour,
              tooltip: [
                { field: 'mapLabel', title: 'map' },
                { field: 'loadFactor', title: 'load factor' },
                { field: 'bytesPerEntry', title: 'bytes/entry' },
                { field: 'cells', title: 'cells' },
              ],
            },
          },
        }),
  };
  return { datasets: { bytesPerEntry }, chart };
}

/** Write-fraction crossover. */
function crossoverChart({ model, labelOf, colour, lfParam, lfFilter }: ChartContext): BuiltChart {
  const crossover = crossoverTable(model, labelOf);
  const chart: ChartDefinition = {
    id: 'chart-crossover',
    title: 'Write fraction vs throughput: where the faster map changes',
    description:
      'The write-fraction families (writes-N: updates of present keys; churn-N: inserts of new keys and deletes). ' +
      'Vertical rules: crossovers, where one map falls below another (hover for which).',
    ...(crossover.rows.length === 0
      ? { noData: 'No data in this run: no writes-N or churn-N workloads.' }
      : {
          spec: {
            data: { name: 'crossover' },
            params: lfParam(),
            transform: lfFilter,
            facet: { field: 'panel', type: 'nominal', title: null, sort: 'ascending' },
            columns: 4,
            resolve: { scale: { y: 'independent' } },
            spec: {
              width: PANEL_WIDTH,
              height: PANEL_HEIGHT,
              layer: [
                {
                  transform: [{ filter: { field: 'kind', equal: 'measured' } }],
                  mark: { type: 'line', point: true },
                  encoding: {
                    x: { field: 'writePercent', type: 'quantitative', title: 'writes (%)' },
                    y: { field: 'ops', type: 'quantitative', title: 'ops/s', axis: { format: '~s' } },
                    color: colour,
                    tooltip: [
                      { field: 'mapLabel', title: 'map' },
                      { field: 'workload' },
                      { field: 'writePercent', title: 'writes %' },
                      { field: 'ops', title: 'ops/s', format: ',.0f' },
                    ],
                  },
                },
                {
                  transform: [{ filter: { field: 'kind', equal: 'crossing' } }],
                  mark: { type: 'rule', color: '#333' },
                  encoding: {
                    x: { field: 'writePercent', type: 'quantitative' },
                    strokeDash: { field: 'versus', type: 'nominal', title: 'crossover' },
                    tooltip: [
                      { field: 'versus', title: 'crossover' },
                      { field: 'writePercent', title: 'at writes %', format: '.2f' },
                    ],
                  },
                },
              ],
            },
          },
        }),
  };
  return { datasets: { crossover }, chart };
}

/** p99 vs offered load (open loop). */
function latencyLoadChart({ model, labelOf, colour }: ChartContext): BuiltChart {
  const load = loadTable(model, labelOf);
  const chart: ChartDefinition = {
    id: 'chart-latency-load',
    title: 'p99 vs offered load (open loop)',
    description:
      "Coordinated-omission-corrected p99 as the offered rate rises, beside the machine's own hiccup p99 in the same windows (dotted, grey); the vertical rule marks the TPS at a knee the analysis found.",
    ...(model.openLoop.length === 0
      ? { noData: 'No data in this run: no open-loop cells (cells with a target rate).' }
      : {
          spec: {
            data: { name: 'load' },
            facet: { field: 'panel', type: 'nominal', title: null },
            columns: 3,
            resolve: { scale: { x: 'independent', y: 'independent' } },
            spec: {
              width: 260,
              height: PANEL_HEIGHT,
              layer: [
                {
                  transform: [{ filter: { field: 'kind', equal: 'measured' } }, positive('p99Us')],
                  mark: { type: 'line', point: true },
                  encoding: {
                    x: {
                      field: 'offered',
                      type: 'quantitative',
                      title: 'offered load (ops/s)',
                      axis: { format: '~s', tickCount: 5 },
                    },
                    y: { field: 'p99Us', type: 'quantitative', title: 'p99 (µs)', scale: { type: 'log' } },
                    color: colour,
                    tooltip: [
                      { field: 'mapLabel', title: 'map' },
                      { field: 'offered', title: 'offered ops/s', format: ',.0f' },
                      { field: 'achieved', title: 'achieved ops/s', format: ',.0f' },
                      { field: 'p99Us', title: 'p99 µs' },
                    ],
                  },
                },
                {
                  transform: [{ filter: { field: 'kind', equal: 'hiccup' } }, positive('p99Us')],
                  mark: { type: 'line', strokeDash: [1, 2], color: '#888', point: { color: '#888', size: 12 } },
                  encoding: {
                    x: { field: 'offered', type: 'quantitative' },
                    y: { field: 'p99Us', type: 'quantitative' },
                    detail: { field: 'mapLabel' },
                    tooltip: [
                      { field: 'mapLabel', title: 'cells of' },
                      { field: 'offered', title: 'offered ops/s', format: ',.0f' },
                      { field: 'p99Us', title: 'hiccup p99 µs' },
                    ],
                  },
                },
                {
                  transform: [{ filter: { field: 'kind', equal: 'knee' } }],
                  mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
                  encoding: {
                    x: { field: 'offered', type: 'quantitative' },
                    color: colour,
                    tooltip: [
                      { field: 'mapLabel', title: 'map' },
                      { field: 'offered', title: 'TPS at knee', format: ',.0f' },
                      { field: 'p99Us', title: 'p99 at knee µs' },
                      { field: 'p99AfterUs', title: 'p99 past knee µs' },
                    ],
                  },
                },
              ],
            },
          },
        }),
  };
  return { datasets: { load }, chart };
}

/** Map counters per cell. */
function countersChart({ cells, colour, threadsAxis, lfParam, lfFilter, workloadParam }: ChartContext): BuiltChart {
  const counters: CompactTable = {
    columns: ['cell', 'counter', 'value'],
    rows: cells.flatMap((cell, index) =>
      Object.entries(cell.counters ?? {})
        .filter(([, value]) => typeof value === 'number' && Number.isFinite(value))
        .map(([counter, value]) => [index, counter, round(value)]),
    ),
    join: 'cells',
  };
  const chart: ChartDefinition = {
    id: 'chart-counters',
    title: 'Map counters',
    description:
      "Each map's internal counters (map.stats(): misses, promotions, dirty rebuilds, lock waits, resizes, probes…) as the cells report them, for the chosen workload and load factor.",
    ...(counters.rows.length === 0
      ? { noData: 'No data in this run: no cell reports map counters.' }
      : {
          spec: {
            data: { name: 'counters' },
            params: [workloadParam, ...lfParam()],
            transform: [{ filter: 'datum.workload == wl' }, ...lfFilter],
            facet: { field: 'counter', type: 'nominal', title: null },
            columns: 4,
            resolve: { scale: { y: 'independent' } },
            spec: {
              width: PANEL_WIDTH,
              height: 120,
              mark: { type: 'line', point: true },
              encoding: {
                x: threadsAxis,
                y: { field: 'value', type: 'quantitative', title: null, axis: { format: '~s' } },
                color: colour,
                tooltip: [
                  { field: 'mapLabel', title: 'map' },
                  { field: 'counter' },
                  { field: 'threads' },
                  { field: 'value', format: ',.0f' },
                ],
              },
            },
          },
        }),
  };
  return { datasets: { counters }, chart };
}

function threadsEncoding(threads: number[]): Record<string, unknown> {
  const logarithmic = threads.length > 2 && threads[threads.length - 1] / threads[0] >= 8;
  return {
    field: 'threads',
    type: 'quantitative',
    title: 'threads',
    scale: logarithmic ? { type: 'log', base: 2 } : { zero: false },
    // d3 format 'd' makes vega drop some explicit tick values; '.0f' prints the same integers.
    axis: { values: threads, format: '.0f' },
  };
}

/** 0.75 when the run has it (the usual default), else the middle one. */
function defaultLoadFactor(loadFactors: number[]): number {
  return loadFactors.includes(0.75) ? 0.75 : (loadFactors[Math.floor((loadFactors.length - 1) / 2)] ?? 0);
}

/** The most threads that did not oversubscribe the machine: where maps compete on equal terms. */
function defaultThreads(model: ReportModel): number {
  const fitting = model.closedLoop.filter((cell) => !cell.oversubscribed).map((cell) => cell.threads);
  return fitting.length ? Math.max(...fitting) : (model.threads[model.threads.length - 1] ?? 1);
}

/** Measured points, USL curves and knees; curve and knee rows name their (map, workload, load factor) by index into `series`. */
function throughputTables(model: ReportModel, labelOf: (map: string) => string): [CompactTable, CompactTable] {
  const series: CompactTable = { columns: ['mapLabel', 'workload', 'loadFactor'], rows: [] };
  const rows: unknown[][] = model.closedLoop.map((cell) => [
    null,
    'measured',
    labelOf(cell.map),
    cell.workload,
    cell.loadFactor,
    cell.threads,
    round(cell.opsPerSec.median),
    round(cell.opsPerSec.ciLow),
    round(cell.opsPerSec.ciHigh),
    cell.oversubscribed,
  ]);
  const low = Math.min(...model.threads);
  const high = Math.max(...model.threads);
  for (const knee of model.analysis.knees) {
    const index = series.rows.push([labelOf(knee.map), knee.workload, knee.loadFactor]) - 1;
    if (knee.usl && high > low) {
      for (let step = 0; step <= USL_CURVE_STEPS; step++) {
        const threads = low * (high / low) ** (step / USL_CURVE_STEPS);
        const { lambda, sigma, kappa } = knee.usl;
        rows.push([
          index,
          'usl',
          null,
          null,
          null,
          round(threads, 3),
          round((lambda * threads) / (1 + sigma * (threads - 1) + kappa * threads * (threads - 1)), 3),
        ]);
      }
    }
    if (knee.kneeThreads !== null) {
      const at =
        typeof knee.kneeOpsPerSec === 'number'
          ? knee.kneeOpsPerSec
          : kneeThroughput(model, knee.map, knee.workload, knee.loadFactor, knee.kneeThreads);
      if (at !== null) rows.push([index, 'knee', null, null, null, knee.kneeThreads, round(at)]);
    }
  }
  return [
    series,
    {
      columns: [
        'series',
        'kind',
        'mapLabel',
        'workload',
        'loadFactor',
        'threads',
        'ops',
        'ciLow',
        'ciHigh',
        'oversubscribed',
      ],
      rows,
      join: 'series',
    },
  ];
}

function kneeThroughput(
  model: ReportModel,
  map: string,
  workload: string,
  loadFactor: number,
  threads: number,
): number | null {
  const values = model.closedLoop
    .filter(
      (cell) =>
        cell.map === map && cell.workload === workload && cell.loadFactor === loadFactor && cell.threads === threads,
    )
    .map((cell) => cell.opsPerSec.median);
  return values.length ? median(values) : null;
}

function histogramTotal(cell: Cell): number {
  return (cell.latencyNs?.histogram?.buckets ?? []).reduce((sum, bucket) => sum + bucket[2], 0);
}

/** Latency at each plotted percentile: the high edge of the bucket holding that rank (HdrHistogram's highest equivalent value). */
function percentileRows(cell: Cell, index: number): unknown[][] {
  const buckets = cell.latencyNs.histogram.buckets;
  const total = histogramTotal(cell);
  const rows: unknown[][] = [[index, 1, round(buckets[0][0] / 1e3), 0]];
  let cumulative = 0;
  let bucket = 0;
  for (const percentile of PLOTTED_PERCENTILES) {
    if ((1 - percentile) * total < 1) break;
    while (bucket < buckets.length - 1 && cumulative + buckets[bucket][2] < percentile * total)
      cumulative += buckets[bucket++][2];
    rows.push([index, round(1 / (1 - percentile)), round(buckets[bucket][1] / 1e3), round(percentile * 100, 7)]);
  }
  const maxNs = Math.max(cell.latencyNs.max, buckets[buckets.length - 1][0]);
  rows.push([index, round(total), round(maxNs / 1e3), 100]);
  return rows;
}

/** Re-bins the log-linear buckets into log-spaced bins, as shares of all samples. */
function histogramRows(cell: Cell, index: number): unknown[][] {
  const total = histogramTotal(cell);
  const bins = new Map<number, number>();
  for (const [lowNs, highNs, count] of cell.latencyNs.histogram.buckets) {
    const bin = Math.floor(Math.log10(Math.sqrt(Math.max(lowNs, 1) * Math.max(highNs, 1))) * HISTOGRAM_BINS_PER_DECADE);
    bins.set(bin, (bins.get(bin) ?? 0) + count);
  }
  return [...bins.entries()]
    .sort(([a], [b]) => a - b)
    .map(([bin, count]) => [
      index,
      round(10 ** (bin / HISTOGRAM_BINS_PER_DECADE) / 1e3),
      round(10 ** ((bin + 1) / HISTOGRAM_BINS_PER_DECADE) / 1e3),
      round(count / total),
    ]);
}

function bytesPerEntryTable(cells: Cell[], labelOf: (map: string) => string): CompactTable {
  const groups = new Map<string, { map: string; loadFactor: number; values: number[] }>();
  for (const cell of cells) {
    const { bytes, entries } = cell.counters ?? {};
    if (!(typeof bytes === 'number' && typeof entries === 'number' && entries > 0 && Number.isFinite(bytes))) continue;
    const key = JSON.stringify([cell.map, cell.loadFactor]);
    const group = groups.get(key) ?? { map: cell.map, loadFactor: cell.loadFactor, values: [] };
    group.values.push(bytes / entries);
    groups.set(key, group);
  }
  return {
    columns: ['mapLabel', 'loadFactor', 'bytesPerEntry', 'cells'],
    rows: [...groups.values()]
      .sort((a, b) => a.loadFactor - b.loadFactor)
      .map((group) => [labelOf(group.map), group.loadFactor, round(median(group.values)), group.values.length]),
  };
}

function crossoverTable(model: ReportModel, labelOf: (map: string) => string): CompactTable {
  // The one write-fraction rule is harness/results/results.ts familyMember; the analysis records its verdict per workload.
  const families = model.analysis.writeFractions ?? {};
  const rows: unknown[][] = [];
  const panel = (family: string, threads: number) => `${family}-N · ${threads} thread${threads === 1 ? '' : 's'}`;
  for (const cell of model.closedLoop) {
    const member = families[cell.workload];
    if (member === undefined) continue;
    rows.push([
      'measured',
      labelOf(cell.map),
      cell.workload,
      panel(member.family, cell.threads),
      cell.threads,
      cell.loadFactor,
      round(member.writeFraction * 100),
      round(cell.opsPerSec.median),
      null,
    ]);
  }
  if (rows.length === 0) return { columns: [], rows };
  for (const crossover of model.analysis.crossovers ?? []) {
    if (crossover.writeFraction === null) continue;
    rows.push([
      'crossing',
      labelOf(crossover.map),
      '',
      panel(crossover.family ?? 'writes', crossover.threads),
      crossover.threads,
      crossover.loadFactor,
      round(crossover.writeFraction * 100),
      round(crossover.opsPerSec ?? 0),
      `${labelOf(crossover.map)} falls below ${labelOf(crossover.versus)}`,
    ]);
  }
  return {
    columns: ['kind', 'mapLabel', 'workload', 'panel', 'threads', 'loadFactor', 'writePercent', 'ops', 'versus'],
    rows,
  };
}

function loadTable(model: ReportModel, labelOf: (map: string) => string): CompactTable {
  const severalLoadFactors = unique(model.openLoop.map((cell) => cell.loadFactor)).length > 1;
  const panel = (workload: string, threads: number, loadFactor: number) =>
    `${workload} · ${threads} thread${threads === 1 ? '' : 's'}${severalLoadFactors ? ` · load factor ${formatNumber(loadFactor)}` : ''}`;
  const rows: unknown[][] = model.openLoop.map((cell) => {
    // achievedOpsPerSec is per thread, like rate (harness/analysis reads it the same way).
    const achieved =
      typeof cell.achievedOpsPerSec === 'number' ? cell.achievedOpsPerSec * cell.threads : cell.opsPerSec.median;
    return [
      'measured',
      labelOf(cell.map),
      panel(cell.workload, cell.threads, cell.loadFactor),
      round((cell.rate as number) * cell.threads),
      round(achieved),
      round(cell.latencyNs.p99 / 1e3),
      null,
    ];
  });
  for (const cell of model.openLoop) {
    const hiccup = (cell.hiccupNs as { p99?: unknown } | undefined)?.p99;
    if (typeof hiccup !== 'number') continue;
    rows.push([
      'hiccup',
      labelOf(cell.map),
      panel(cell.workload, cell.threads, cell.loadFactor),
      round((cell.rate as number) * cell.threads),
      null,
      round(hiccup / 1e3),
      null,
    ]);
  }
  for (const knee of model.analysis.latencyKnees ?? []) {
    if (knee.tpsAtKnee === null || (knee.verdict !== undefined && knee.verdict !== 'knee')) continue;
    rows.push([
      'knee',
      labelOf(knee.map),
      panel(knee.workload, knee.threads, knee.loadFactor),
      round(knee.tpsAtKnee),
      round(knee.achievedOpsPerSecAtKnee ?? knee.tpsAtKnee),
      round((knee.p99BeforeNs ?? 0) / 1e3),
      round((knee.p99AfterNs ?? 0) / 1e3),
    ]);
  }
  return { columns: ['kind', 'mapLabel', 'panel', 'offered', 'achieved', 'p99Us', 'p99AfterUs'], rows };
}
