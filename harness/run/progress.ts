/**
 * What a person watching a sweep sees: a one-line progress bar with an ETA on
 * stderr (only when stderr is a terminal and not --quiet), and the summary
 * table printed when the sweep ends.
 */
import { formatNs } from '../../reports/format.js';
import { runtimeLabel, type Results, type ResultsCell } from '../results/results.js';
import type { GroupWinner } from '../analysis/types.js';
import type { CellSpec } from './cell.js';

const BAR_WIDTH = 24;

export class ProgressBar {
  private readonly startedMs = Date.now();
  private cellsRun = 0;
  private cellMsTotal = 0;
  private cellStartedMs = 0;
  private current = { done: 0, total: 0, label: '' };
  /** Redraws while a cell runs, so elapsed time and ETA keep moving. */
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly estimatedCellMs: number,
  ) {
    this.ticker = setInterval(() => this.draw(), 500);
    this.ticker.unref();
  }

  cellStarted(spec: CellSpec, done: number, total: number): void {
    this.cellStartedMs = Date.now();
    this.current = { done, total, label: describeSpec(spec) };
    this.draw();
  }

  cellFinished(_cell: ResultsCell, done: number, total: number): void {
    this.cellsRun++;
    this.cellMsTotal += Date.now() - this.cellStartedMs;
    this.current = { done, total, label: '' };
    this.draw();
  }

  /** Clears the line (before other output). */
  clear(): void {
    this.stream.write('\r\x1b[2K');
  }

  /** Clears the line and stops redrawing. */
  stop(): void {
    clearInterval(this.ticker);
    this.clear();
  }

  private draw(): void {
    const { done, total, label } = this.current;
    if (total === 0) return;
    const filled = Math.round((done / total) * BAR_WIDTH);
    const perCellMs = this.cellsRun > 0 ? this.cellMsTotal / this.cellsRun : this.estimatedCellMs;
    const inFlightMs = label === '' ? 0 : Math.min(perCellMs, Date.now() - this.cellStartedMs);
    const etaMs = perCellMs * (total - done) - inFlightMs;
    const elapsed = formatDuration(Date.now() - this.startedMs);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total} cells  ${elapsed} elapsed, ~${formatDuration(etaMs)} left  ${label}`;
    const columns = this.stream.columns || 100;
    this.stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, columns - 1))}`);
  }
}

export function describeSpec(spec: {
  map: string;
  workload: string;
  threads: number;
  loadFactor: number;
  rate?: number | null;
}): string {
  const runtime = runtimeLabel(spec);
  return (
    `${spec.map} ${spec.workload} t=${spec.threads} lf=${spec.loadFactor}${spec.rate == null ? '' : ` rate=${formatCount(spec.rate)}/s`}` +
    (runtime === '' ? '' : ` node ${runtime}`)
  );
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** 12345678 → "12.3M". */
export function formatCount(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(1)}G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

/** One cell as "12.3M ±4% p99 850 ns", or its error. */
export function describeCellResult(cell: ResultsCell): string {
  if (cell.error !== undefined) return cell.error.startsWith('timeout') ? 'timeout' : `error: ${cell.error}`;
  const { median, ciLow, ciHigh } = cell.opsPerSec;
  const spread = median > 0 ? Math.round((Math.max(median - ciLow, ciHigh - median) / median) * 100) : 0;
  const achieved = typeof cell.achievedOpsPerSec === 'number' ? ` (${formatCount(cell.achievedOpsPerSec)}/thr)` : '';
  return `${formatCount(median)}${achieved} ±${spread}% p99 ${formatNs(cell.latencyNs.p99)}`;
}

/**
 * The end-of-sweep table: one block per (workload, load factor, rate), a row
 * per map, a column per thread count; each entry ops/s (± CI half-width) and p99.
 */
export function summaryTable(results: Results): string {
  const cells = results.cells;
  const threads = [...new Set(cells.map((cell) => cell.threads))].sort((a, b) => a - b);
  const groups = new Map<string, ResultsCell[]>();
  for (const cell of cells) {
    const key = `${cell.workload}  lf=${cell.loadFactor}${cell.rate === undefined ? '' : `  rate=${formatCount(cell.rate)}/s per thread`}`;
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  const lines: string[] = [];
  for (const [title, group] of groups) {
    // With --node a row is a map under one runtime: the runtimes of a map sit side by side.
    const rowKey = (cell: ResultsCell): string =>
      `${cell.map}${runtimeLabel(cell) === '' ? '' : ` @ ${runtimeLabel(cell)}`}`;
    const maps = [...new Set(group.map(rowKey))];
    const header = ['map', ...threads.map((count) => `${count} thread${count === 1 ? '' : 's'}`)];
    const rows = maps.map((map) => [
      group.find((cell) => rowKey(cell) === map)?.private ? `${map} (private)` : map,
      ...threads.map((count) => {
        const cell = group.find((candidate) => rowKey(candidate) === map && candidate.threads === count);
        if (!cell) return '';
        return describeCellResult(cell) + (cell.oversubscribed ? ' *' : '');
      }),
    ]);
    lines.push(`${title}  (ops/s ± 95% CI, p99 latency)`, ...columns(header, rows), '');
  }
  if (cells.some((cell) => cell.oversubscribed)) lines.push('* oversubscribed: more threads than cores');
  const relative = relativeTable(results);
  if (relative !== '') lines.push('', relative);
  const runtimes = runtimeTable(results);
  if (runtimes !== '') lines.push('', runtimes);
  return lines.join('\n');
}

/** Cells under several runtimes: each map's ratio to the first runtime per (workload, load factor) and thread count, paired. */
export function runtimeTable(results: Results): string {
  const answers = results.analysis.runtimes ?? [];
  if (answers.length === 0) return '';
  const threads = [...new Set(answers.map((answer) => answer.threads))].sort((a, b) => a - b);
  const lines: string[] = [];
  const titles = [
    ...new Set(
      answers.map(
        (answer) =>
          `${answer.workload}  lf=${answer.loadFactor}${answer.rate === undefined ? '' : `  rate=${answer.rate}`}`,
      ),
    ),
  ];
  for (const title of titles) {
    const inTitle = answers.filter(
      (answer) =>
        `${answer.workload}  lf=${answer.loadFactor}${answer.rate === undefined ? '' : `  rate=${answer.rate}`}` ===
        title,
    );
    const rowKeys = [...new Set(inTitle.map((answer) => `${answer.map} @ ${answer.runtime}`))];
    const header = [
      `÷ node ${inTitle[0].referenceRuntime}`,
      ...threads.map((count) => `${count} thread${count === 1 ? '' : 's'}`),
    ];
    const rows = rowKeys.map((key) => [
      key,
      ...threads.map((count) => {
        const answer = inTitle.find(
          (candidate) => `${candidate.map} @ ${candidate.runtime}` === key && candidate.threads === count,
        );
        return answer ? ratioText(answer) : '';
      }),
    ]);
    lines.push(
      `${title}  (runtime ÷ node ${inTitle[0].referenceRuntime}, same map, paired trials, 95% CI)`,
      ...columns(header, rows),
      '',
    );
  }
  return lines.join('\n').trimEnd();
}

/**
 * The relative answers: per (workload, load factor, rate), each map ÷ the
 * reference map at each thread count from paired trials (ratio and 95% CI,
 * marked + / − where the map is faster / slower beyond the tie margin), then
 * the winner or tie of each group. Empty without paired answers.
 */
export function relativeTable(results: Results): string {
  const relative = results.analysis.relative ?? [];
  const winners = results.analysis.winners ?? [];
  if (relative.length === 0 && winners.length === 0) return '';
  const threads = [...new Set([...relative, ...winners].map((answer) => answer.threads))].sort((a, b) => a - b);
  const titleOf = (answer: { workload: string; loadFactor: number; rate?: number; runtime?: string }): string =>
    `${answer.workload}  lf=${answer.loadFactor}${answer.rate === undefined ? '' : `  rate=${formatCount(answer.rate)}/s per thread`}` +
    (answer.runtime === undefined ? '' : `  node ${answer.runtime}`);
  const titles = [...new Set([...relative, ...winners].map(titleOf))];
  const lines: string[] = [];
  for (const title of titles) {
    const answers = relative.filter((answer) => titleOf(answer) === title);
    const reference = answers[0]?.reference;
    if (answers.length > 0) {
      const maps = [...new Set(answers.map((answer) => answer.map))];
      const header = [`÷ ${reference}`, ...threads.map((count) => `${count} thread${count === 1 ? '' : 's'}`)];
      const rows = maps.map((map) => [
        map,
        ...threads.map((count) => {
          const answer = answers.find((candidate) => candidate.map === map && candidate.threads === count);
          return answer ? ratioText(answer) : '';
        }),
      ]);
      lines.push(
        `${title}  (paired ratio to ${reference}, 95% CI; + faster, − slower, else a tie)`,
        ...columns(header, rows),
      );
    }
    for (const winner of winners.filter((candidate) => titleOf(candidate) === title))
      lines.push(`  ${describeWinner(winner)}`);
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}

/** "2 threads: readdirty wins (1.31× sharded [1.27, 1.35])" / "1 thread: tie between plain, sharded". */
export function describeWinner(winner: GroupWinner): string {
  const at = `${winner.threads} thread${winner.threads === 1 ? '' : 's'}`;
  const margin =
    winner.margin === null || winner.runnerUp === null
      ? ''
      : ` (${winner.margin.median.toFixed(2)}× ${winner.runnerUp} [${winner.margin.ciLow.toFixed(2)}, ${winner.margin.ciHigh.toFixed(2)}])`;
  if (winner.verdict === 'winner') return `${at}: ${winner.leader} wins${margin}`;
  if (winner.verdict === 'tie') return `${at}: tie between ${[winner.leader, ...winner.tiedWith].join(', ')}${margin}`;
  return `${at}: not determined (fewer than 3 paired trials)`;
}

/** A header, a rule and the rows, each column padded to its widest entry. */
function columns(header: string[], rows: string[][]): string[] {
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const format = (row: string[]): string =>
    row
      .map((text, column) => text.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [format(header), format(widths.map((width) => '-'.repeat(width))), ...rows.map(format)];
}

const VERDICT_MARK = { faster: ' +', slower: ' −', tie: '', undetermined: ' ?' } as const;

/** "1.31× [1.27, 1.35] +": a paired ratio, its CI and its verdict. */
function ratioText(answer: {
  ratio: { median: number; ciLow: number; ciHigh: number };
  verdict: keyof typeof VERDICT_MARK;
}): string {
  const { median, ciLow, ciHigh } = answer.ratio;
  return `${median.toFixed(2)}× [${ciLow.toFixed(2)}, ${ciHigh.toFixed(2)}]${VERDICT_MARK[answer.verdict]}`;
}
