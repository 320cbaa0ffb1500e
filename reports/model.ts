/**
 * What every renderer (HTML, markdown, text) needs from a results file,
 * derived once: the axes of the sweep in the order the sweep ran them, map
 * labels ("private", verification badge), the winner table and the failed
 * cells. Reads only the results file: any file from any machine renders.
 */
import { median } from 'simple-statistics';
import type { Analysis, Cell, ErrorCell, Results, ResultsCell } from '../harness/results/results.js';
import { formatNs } from './format.js';

export { median };

export type VerificationStatus = 'verified' | 'violated' | 'unsafe';
const VERIFICATION_STATUSES: readonly string[] = ['verified', 'violated', 'unsafe'];

export interface MapInfo {
  name: string;
  /** js-map: each thread had its own copy; never a shared-memory competitor. */
  private: boolean;
  verification: VerificationStatus | null;
  /** Name as charts and plain text show it: "js-map (private)". */
  label: string;
}

export interface WinnerEntry {
  map: string;
  opsPerSec: number;
  /** How much faster than the runner-up, as a fraction; null when it ran alone. */
  marginOverNext: number | null;
  /**
   * 'winner' / 'tie' / 'undetermined': from the paired answers (analysis.winners);
   * 'by-median': a file without paired trials, ranked by the cells' medians alone.
   */
  verdict: 'winner' | 'tie' | 'undetermined' | 'by-median';
  /** Maps the leader does not beat (a tie). */
  tiedWith: string[];
  /** 95% CI of the margin over the runner-up, as fractions; null without paired trials. */
  marginCi: [number, number] | null;
}

export interface WinnerRow {
  workload: string;
  loadFactor: number;
  /** By thread count; null when no shared map has a successful closed-loop cell there. */
  winners: Map<number, WinnerEntry | null>;
}

export interface ReportModel {
  results: Results;
  analysis: Analysis;
  maps: MapInfo[];
  workloads: string[];
  threads: number[];
  loadFactors: number[];
  /** Closed-loop cells that succeeded (the scaling, latency, load-factor and counter charts). */
  closedLoop: Cell[];
  /** Open-loop cells (a target `rate`) that succeeded. */
  openLoop: Cell[];
  failed: ErrorCell[];
  winners: WinnerRow[];
}

/** Same rule as harness/analysis `isClosedLoopCell` (reports may import only types from harness/). */
export function isFailed(cell: ResultsCell): cell is ErrorCell {
  return cell.error !== undefined;
}
export function isOpenLoop(cell: ResultsCell): cell is Cell {
  return !isFailed(cell) && typeof cell.rate === 'number';
}
export function isClosedLoop(cell: ResultsCell): cell is Cell {
  return !isFailed(cell) && cell.rate == null;
}

export function buildModel(results: Results): ReportModel {
  const cells = results.cells;
  const mapNames = unique(cells.map((cell) => cell.map));
  const verification = isRecord(results.verification) ? results.verification : {};
  const maps = mapNames.map((name): MapInfo => {
    const isPrivate = cells.some((cell) => cell.map === name && cell.private === true);
    const entry = Object.prototype.hasOwnProperty.call(verification, name) ? verification[name] : undefined;
    const status =
      isRecord(entry) && typeof entry.status === 'string' && VERIFICATION_STATUSES.includes(entry.status)
        ? (entry.status as VerificationStatus)
        : null;
    return { name, private: isPrivate, verification: status, label: isPrivate ? `${name} (private)` : name };
  });
  const closedLoop = cells.filter(isClosedLoop);
  const model: ReportModel = {
    results,
    analysis: results.analysis,
    maps,
    workloads: unique(cells.map((cell) => cell.workload)),
    threads: unique(cells.map((cell) => cell.threads)).sort((a, b) => a - b),
    loadFactors: unique(cells.map((cell) => cell.loadFactor)).sort((a, b) => a - b),
    closedLoop,
    openLoop: cells.filter(isOpenLoop),
    failed: cells.filter(isFailed),
    winners: [],
  };
  model.winners = winnerRows(model);
  return model;
}

export function mapInfo(model: ReportModel, name: string): MapInfo {
  return model.maps.find((map) => map.name === name) ?? { name, private: false, verification: null, label: name };
}

/**
 * The winner per (workload, loadFactor, threads), closed loop: the paired
 * answer of analysis.winners (a winner only where its CI excludes a tie),
 * or, for files without paired trials, the fastest shared map by median.
 * Private maps (js-map) are left out: sharing nothing, they are the ceiling,
 * not a competitor. Repeated cells count by their median.
 */
function winnerRows(model: ReportModel): WinnerRow[] {
  const paired = (model.analysis.winners ?? []).filter((winner) => winner.rate === undefined);
  if (paired.length > 0) return pairedWinnerRows(model, paired);
  const privateMaps = new Set(model.maps.filter((map) => map.private).map((map) => map.name));
  const rows: WinnerRow[] = [];
  for (const loadFactor of model.loadFactors) {
    for (const workload of model.workloads) {
      const candidates = model.closedLoop.filter(
        (cell) => cell.workload === workload && cell.loadFactor === loadFactor && !privateMaps.has(cell.map),
      );
      if (candidates.length === 0) continue;
      const winners = new Map<number, WinnerEntry | null>();
      for (const threads of model.threads) {
        const ranked = rankMaps(candidates.filter((cell) => cell.threads === threads));
        winners.set(
          threads,
          ranked.length === 0
            ? null
            : {
                map: ranked[0].map,
                opsPerSec: ranked[0].opsPerSec,
                marginOverNext:
                  ranked.length > 1 && ranked[1].opsPerSec > 0 ? ranked[0].opsPerSec / ranked[1].opsPerSec - 1 : null,
                verdict: 'by-median',
                tiedWith: [],
                marginCi: null,
              },
        );
      }
      rows.push({ workload, loadFactor, winners });
    }
  }
  return rows;
}

function pairedWinnerRows(model: ReportModel, paired: NonNullable<Analysis['winners']>): WinnerRow[] {
  const rows: WinnerRow[] = [];
  for (const loadFactor of model.loadFactors) {
    for (const workload of model.workloads) {
      const answers = paired.filter((winner) => winner.workload === workload && winner.loadFactor === loadFactor);
      if (answers.length === 0) continue;
      const winners = new Map<number, WinnerEntry | null>();
      for (const threads of model.threads) {
        const answer = answers.find((candidate) => candidate.threads === threads);
        const cell =
          answer &&
          model.closedLoop.find(
            (candidate) =>
              candidate.map === answer.leader &&
              candidate.workload === workload &&
              candidate.loadFactor === loadFactor &&
              candidate.threads === threads,
          );
        winners.set(
          threads,
          !answer || answer.leader === null || !cell
            ? null
            : {
                map: answer.leader,
                opsPerSec: cell.opsPerSec.median,
                marginOverNext: answer.margin === null ? null : answer.margin.median - 1,
                verdict: answer.verdict,
                tiedWith: answer.tiedWith,
                marginCi: answer.margin === null ? null : [answer.margin.ciLow - 1, answer.margin.ciHigh - 1],
              },
        );
      }
      rows.push({ workload, loadFactor, winners });
    }
  }
  return rows;
}

function rankMaps(cells: Cell[]): Array<{ map: string; opsPerSec: number }> {
  const byMap = new Map<string, number[]>();
  for (const cell of cells) byMap.set(cell.map, [...(byMap.get(cell.map) ?? []), cell.opsPerSec.median]);
  return [...byMap.entries()]
    .map(([map, values]) => ({ map, opsPerSec: median(values) }))
    .sort((a, b) => b.opsPerSec - a.opsPerSec);
}

export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** "12.3 M", "950 k", "12" — ops/s and counts at three significant digits. */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const magnitude = Math.abs(value);
  const [divisor, suffix] =
    magnitude >= 1e9 ? [1e9, ' G'] : magnitude >= 1e6 ? [1e6, ' M'] : magnitude >= 1e3 ? [1e3, ' k'] : [1, ''];
  return `${+(value / divisor).toPrecision(3)}${suffix}`;
}

export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${+value.toPrecision(digits)}`;
}

export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** A table cell: text, or a map name that each format labels its own way (private, verification badge). */
export type TableCell = string | { map: string; suffix?: string };

export interface Table {
  headers: string[];
  rows: TableCell[][];
}

/** Kneedle/USL figures as the tables show them; shared by every format. */
export interface AnalysisTables {
  knees: Table;
  latencyKnees: Table;
  crossovers: Table;
}

export function analysisTables(analysis: Analysis): AnalysisTables {
  const label = (map: string): TableCell => ({ map });
  return {
    knees: {
      headers: [
        'map',
        'workload',
        'load factor',
        'knee (threads)',
        'USL λ (ops/s)',
        'σ',
        'κ',
        'peak N*',
        'X(N*) (ops/s)',
        'R²',
        'note',
      ],
      rows: analysis.knees.map((knee) => [
        label(knee.map),
        knee.workload,
        formatNumber(knee.loadFactor),
        knee.kneeThreads === null ? '—' : String(knee.kneeThreads),
        formatCount(knee.usl?.lambda),
        formatNumber(knee.usl?.sigma),
        formatNumber(knee.usl?.kappa),
        knee.usl ? (knee.usl.peakThreads === null ? '∞' : formatNumber(knee.usl.peakThreads)) : '—',
        formatCount(knee.usl?.peakOpsPerSec),
        formatNumber(knee.usl?.r2, 4),
        knee.note ?? '',
      ]),
    },
    latencyKnees: {
      headers: [
        'map',
        'workload',
        'load factor',
        'threads',
        'verdict',
        'TPS at knee (offered ops/s)',
        '95% CI',
        'p99 at knee',
        'p99 past knee',
        'ratio',
        'hiccup p99',
        'note',
      ],
      rows: (analysis.latencyKnees ?? []).map((knee) => [
        label(knee.map),
        knee.workload,
        formatNumber(knee.loadFactor),
        String(knee.threads),
        knee.verdict ?? '—',
        formatCount(knee.tpsAtKnee),
        knee.tpsCiLow == null ? '—' : `${formatCount(knee.tpsCiLow)} – ${formatCount(knee.tpsCiHigh ?? null)}`,
        formatNs(knee.p99BeforeNs),
        formatNs(knee.p99AfterNs),
        knee.p99Ratio == null ? '—' : `${knee.p99Ratio.median.toFixed(1)}×`,
        formatNs(knee.hiccupP99Ns ?? null),
        knee.note ?? '',
      ]),
    },
    crossovers: {
      headers: [
        'family',
        'threads',
        'load factor',
        'map',
        'falls below',
        'at write fraction',
        '95% CI',
        'ops/s there',
        'note',
      ],
      rows: (analysis.crossovers ?? []).map((crossover) => [
        `${crossover.family ?? 'writes'}-N`,
        String(crossover.threads),
        formatNumber(crossover.loadFactor),
        label(crossover.map),
        label(crossover.versus),
        formatPercent(crossover.writeFraction),
        crossover.ciLow == null
          ? '—'
          : `${formatPercent(crossover.ciLow)} – ${formatPercent(crossover.ciHigh ?? null)}`,
        formatCount(crossover.opsPerSec),
        crossover.reason ?? '',
      ]),
    },
  };
}

/** The findings' sentences, undetermined ones marked; [] when the analysis has none (a file never analysed). */
export function findingLines(analysis: Analysis): string[] {
  return (analysis.findings ?? []).map((finding) => finding.sentence);
}

/**
 * Winner per workload × threads: "readdirty 5.2 M (+12% [+9%, +15%])" where
 * the paired answer names a winner, "tie: sharded = readdirty" where it does
 * not, "not determined" with too few pairs, "—" where every shared map failed
 * or none ran; files without paired trials: by median, and said so.
 */
export function winnerTable(model: ReportModel): Table {
  const severalLoadFactors = model.loadFactors.length > 1;
  return {
    headers: [
      'workload',
      ...(severalLoadFactors ? ['load factor'] : []),
      ...model.threads.map((threads) => `${threads} thread${threads === 1 ? '' : 's'}`),
    ],
    rows: model.winners.map((row) => [
      row.workload,
      ...(severalLoadFactors ? [formatNumber(row.loadFactor)] : []),
      ...model.threads.map((threads): TableCell => {
        const winner = row.winners.get(threads);
        if (!winner) return '—';
        if (winner.verdict === 'tie') return `tie: ${[winner.map, ...winner.tiedWith].join(' = ')}`;
        if (winner.verdict === 'undetermined') return 'not determined';
        const ci =
          winner.marginCi === null
            ? ''
            : ` [+${formatPercent(winner.marginCi[0], 0)}, +${formatPercent(winner.marginCi[1], 0)}]`;
        const margin = winner.marginOverNext === null ? '' : ` (+${formatPercent(winner.marginOverNext, 0)}${ci})`;
        return {
          map: winner.map,
          suffix: ` ${formatCount(winner.opsPerSec)}${margin}${winner.verdict === 'by-median' ? ' by median' : ''}`,
        };
      }),
    ]),
  };
}

/**
 * Sweeps over several runtimes (--node): each map's throughput under a runtime
 * ÷ under the first runtime, per workload × load factor × threads, from
 * trials paired by round, with the 95% CI and the verdict.
 */
export function runtimeTable(model: ReportModel): Table {
  const answers = model.analysis.runtimes ?? [];
  return {
    headers: ['map', 'workload', 'load factor', 'threads', 'runtime', 'ratio to first runtime', '95% CI', 'verdict'],
    rows: answers.map((answer) => [
      { map: answer.map },
      answer.workload,
      formatNumber(answer.loadFactor),
      String(answer.threads),
      `${answer.runtime} ÷ ${answer.referenceRuntime}`,
      `${answer.ratio.median.toFixed(2)}×`,
      `${answer.ratio.ciLow.toFixed(2)}–${answer.ratio.ciHigh.toFixed(2)}`,
      answer.verdict,
    ]),
  };
}

export function failedTable(model: ReportModel): Table {
  return {
    headers: ['map', 'workload', 'threads', 'load factor', 'rate (ops/s per thread)', 'reason'],
    rows: model.failed.map((cell) => [
      { map: cell.map },
      cell.workload,
      String(cell.threads),
      formatNumber(cell.loadFactor),
      typeof cell.rate === 'number' ? formatCount(cell.rate) : '—',
      cell.error,
    ]),
  };
}

function jitLabel(jit: Results['env']['jit']): string {
  if (jit === 'sync') return 'synchronous (--no-concurrent-recompilation)';
  if (jit === 'concurrent') return 'concurrent (V8 default)';
  return 'not recorded';
}

function affinityLabel(affinity: Results['env']['affinity']): string {
  if (affinity === undefined) return 'not recorded (not pinned)';
  if (!affinity.pinned) return `not pinned: ${affinity.reason ?? 'unknown reason'}`;
  return `pinned: 1-thread trials and the drift sentinel on one CPU (below), worker i of a multi-thread pool on CPU i mod ${affinity.cpus.length} (CPUs ${affinity.cpus.join(', ')})`;
}

export function environmentTable(results: Results): Table {
  const env = results.env;
  const rows: TableCell[][] = [
    ['Node.js', env.node],
    ['V8', env.v8],
    ['V8 optimisation', jitLabel(env.jit)],
    ['OS', env.os],
    ['CPU', env.cpuModel],
    ['cores', String(env.cores)],
    ['vCPU pinning', affinityLabel(env.affinity)],
    ['memory', `${formatNumber(env.memoryBytes / 2 ** 30)} GiB`],
    ['commit', env.commit ?? '—'],
    ['calibration', `${formatCount(results.calibration.opsPerSec)} ops/s (fixed reference loop, same run)`],
    ...runtimeRows(results),
    ...driftRows(results),
  ];
  return { headers: ['', ''], rows };
}

/**
 * Sweeps over runtimes: what the map results rest on, per runtime (plain
 * typed-array read, Atomics, the wait→notify wake-up, a clock read, Map.get),
 * each later runtime with its ratio to the first. null without the record.
 */
export function primitivesTable(results: Results): Table | null {
  const records = Array.isArray(results.primitives) ? results.primitives : [];
  if (records.length === 0) return null;
  const first = records[0];
  return {
    headers: ['primitive', 'unit', ...records.map((record) => `Node ${record.node}`)],
    rows: first.cells.map((cell) => [
      cell.name,
      cell.unit,
      ...records.map((record, index) => {
        const own = record.cells.find((candidate) => candidate.name === cell.name);
        if (!own) return '—';
        return `${formatNumber(own.median)}${index > 0 && cell.median > 0 ? ` (${(own.median / cell.median).toFixed(2)}×)` : ''}`;
      }),
    ]),
  };
}

/** Sweeps over several runtimes: one row per runtime (Node, V8, binary), the first being the reference. */
function runtimeRows(results: Results): TableCell[][] {
  const runtimes = Array.isArray(results.config.runtimes) ? results.config.runtimes : [];
  return runtimes
    .filter(isRecord)
    .map((runtime, index) => [
      index === 0 ? 'runtimes' : '',
      `${String(runtime.node)} (V8 ${String(runtime.v8)}) ${String(runtime.execPath)}${index === 0 ? ' — the reference' : ''}`,
    ]);
}

/** What an interleaved sweep recorded of the machine's drift (harness/run/sweep.ts driftSummary): sentinel range, vCPU placement and re-measured visits. */
function driftRows(results: Results): TableCell[][] {
  const sweep = isRecord(results.sweep) ? results.sweep : {};
  const drift = isRecord(sweep.drift) ? sweep.drift : null;
  if (drift === null) return [];
  const rows: TableCell[][] = [];
  const sentinel = isRecord(drift.sentinel) ? drift.sentinel : null;
  if (sentinel !== null) {
    rows.push([
      'drift sentinel',
      `${String(sentinel.readings)} readings, ${formatCount(Number(sentinel.minOpsPerSec))}–` +
        `${formatCount(Number(sentinel.maxOpsPerSec))} ops/s (run level ${formatCount(Number(sentinel.referenceOpsPerSec))})`,
    ]);
  }
  const oneThreadCpu = isRecord(drift.oneThreadCpu) ? drift.oneThreadCpu : null;
  if (oneThreadCpu !== null && isRecord(oneThreadCpu.chosenCounts)) {
    const counts = Object.entries(oneThreadCpu.chosenCounts)
      .map(([cpu, rounds]) => `CPU ${cpu} in ${String(rounds)} round${rounds === 1 ? '' : 's'}`)
      .join(', ');
    const other =
      typeof oneThreadCpu.slowestOtherMedianRatio === 'number'
        ? `; the other read ${formatNumber(oneThreadCpu.slowestOtherMedianRatio)}× the chosen one (median)`
        : '';
    rows.push(['1-thread vCPU', `the fastest by the drift sentinel at each round: ${counts}${other}`]);
  }
  const placement = isRecord(drift.placement) ? drift.placement : null;
  if (placement !== null) {
    const other =
      typeof placement.otherHandoffNs === 'number'
        ? `; ${String(placement.readingsInOther)} in another placement at ${String(placement.otherHandoffNs)} ns`
        : '';
    const retried = Number(placement.retriedReadings) > 0 ? ` after ${String(placement.retriedReadings)} retaken` : '';
    const stalled =
      Number(placement.unclassifiedReadings) > 0
        ? `; ${String(placement.unclassifiedReadings)} unclassified${retried} (the probe threads hardly ran at once)`
        : '';
    rows.push([
      'vCPU placement',
      `${String(placement.readings)} cache-line handoff readings, usual ${String(placement.usualHandoffNs)} ns` +
        `${other}${stalled}; ${String(placement.offPlacementVisitsKept)} multi-thread visits kept off it`,
    ]);
  }
  rows.push([
    're-measured',
    `${String(drift.remeasuredVisits)} of ${String(drift.visits)} visits measured again; ` +
      `${String(drift.disturbedVisitsKept)} disturbed visits kept (over the re-measure budget, or no better on re-measure)`,
  ]);
  rows.push([
    'pool generations',
    `${String(drift.poolGenerations)} (each cell's trials come from this many sets of fresh worker pools)`,
  ]);
  return rows;
}

/** Top-level config fields; long values are cut in the summary formats (the HTML shows the whole config too). */
export function configTable(results: Results, maxValueLength = 160): Table {
  return {
    headers: ['field', 'value'],
    rows: Object.entries(results.config).map(([field, value]) => {
      const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
      return [field, text.length > maxValueLength ? `${text.slice(0, maxValueLength - 1)}…` : text];
    }),
  };
}

/** One line: what ran, where. */
export function summaryLine(model: ReportModel): string {
  const { results } = model;
  const parts = [
    ...(results.incomplete === true || results.interrupted === true
      ? ['INCOMPLETE run (the sweep is still running or was interrupted)']
      : []),
    `${results.cells.length} cells (${model.failed.length} failed)`,
    `${model.maps.length} maps`,
    `${model.workloads.length} workloads`,
    `threads ${model.threads.join(', ') || '—'}`,
    `load factor ${model.loadFactors.map((value) => formatNumber(value)).join(', ') || '—'}`,
    `Node ${results.env.node}`,
    `${results.env.cpuModel} (${results.env.cores} cores)`,
  ];
  if (results.env.commit) parts.push(`commit ${results.env.commit.slice(0, 12)}`);
  return parts.join(' · ');
}
