/**
 * Results in other tools' formats.
 *
 * github-action-benchmark's custom tools read a JSON array of
 * `{ name, unit, value, range?, extra? }`; one file is either
 * `customBiggerIsBetter` or `customSmallerIsBetter`, so a results file gives
 * two exports, chosen by `metric`: 'ops' (median ops/s, bigger is better) and
 * 'p99' (p99 latency in ns, smaller is better). `range` is the larger side of
 * the 95% CI around the value ("± 1234"). Failed cells have no numbers and are
 * left out (and reported to the caller).
 *
 * CSV has one row per cell with both metrics and the CI bounds, for
 * spreadsheets and pandas.
 */
import type { Results } from '../results/results.js';
import { cellKeyOf, cellLabel } from './compare.js';
import { quantileInterval } from './quantile-ci.js';

export type ExportMetric = 'ops' | 'p99';
export const EXPORT_METRICS: readonly ExportMetric[] = ['ops', 'p99'];

export interface BenchmarkEntry {
  name: string;
  unit: string;
  value: number;
  range: string;
  extra: string;
}

export interface BenchmarkExport {
  /** The github-action-benchmark `tool` this array is for. */
  tool: 'customBiggerIsBetter' | 'customSmallerIsBetter';
  entries: BenchmarkEntry[];
  /** Labels of failed cells left out. */
  skipped: string[];
}

export function toGithubActionBenchmark(results: Results, metric: ExportMetric): BenchmarkExport {
  const entries: BenchmarkEntry[] = [];
  const skipped: string[] = [];
  for (const cell of results.cells) {
    const name = cellLabel(cellKeyOf(cell));
    if (cell.error !== undefined) {
      skipped.push(name);
      continue;
    }
    const notes = [`${cell.trials.length} trials`];
    if (cell.oversubscribed) notes.push('oversubscribed');
    if (cell.private) notes.push('private');
    if (metric === 'ops') {
      const { median, ciLow, ciHigh } = cell.opsPerSec;
      notes.push(`95% CI ${Math.round(ciLow)}..${Math.round(ciHigh)}`);
      entries.push({
        name,
        unit: 'ops/s',
        value: Math.round(median),
        range: `± ${Math.round(Math.max(median - ciLow, ciHigh - median))}`,
        extra: notes.join('; '),
      });
    } else {
      const p99 = cell.latencyNs.p99;
      const interval = quantileInterval(cell.latencyNs.histogram, 0.99);
      const spread = interval ? Math.max(p99 - interval.low, interval.high - p99, 0) : 0;
      notes.push(
        interval ? `95% CI ${Math.round(interval.low)}..${Math.round(interval.high)} ns (sampling)` : 'no histogram',
      );
      entries.push({
        name,
        unit: 'ns',
        value: Math.round(p99),
        range: `± ${Math.round(spread)}`,
        extra: notes.join('; '),
      });
    }
  }
  return { tool: metric === 'ops' ? 'customBiggerIsBetter' : 'customSmallerIsBetter', entries, skipped };
}

export const CSV_COLUMNS = [
  'map',
  'workload',
  'threads',
  'loadFactor',
  'rate',
  'oversubscribed',
  'private',
  'trials',
  'opsPerSecMedian',
  'opsPerSecCiLow',
  'opsPerSecCiHigh',
  'p50Ns',
  'p90Ns',
  'p99Ns',
  'p999Ns',
  'maxNs',
  'latencySamples',
  'calibrationOpsPerSec',
  'commit',
  'error',
] as const;

/** RFC 4180: header row, CRLF line ends, fields with comma, quote or newline quoted. */
export function toCsv(results: Results): string {
  const rows = results.cells.map((cell) => {
    const failed = cell.error !== undefined;
    const row: Record<(typeof CSV_COLUMNS)[number], string | number | boolean | undefined> = {
      map: cell.map,
      workload: cell.workload,
      threads: cell.threads,
      loadFactor: cell.loadFactor,
      rate: cell.rate,
      oversubscribed: cell.oversubscribed,
      private: cell.private === true,
      trials: failed ? undefined : cell.trials.length,
      opsPerSecMedian: failed ? undefined : cell.opsPerSec.median,
      opsPerSecCiLow: failed ? undefined : cell.opsPerSec.ciLow,
      opsPerSecCiHigh: failed ? undefined : cell.opsPerSec.ciHigh,
      p50Ns: failed ? undefined : cell.latencyNs.p50,
      p90Ns: failed ? undefined : cell.latencyNs.p90,
      p99Ns: failed ? undefined : cell.latencyNs.p99,
      p999Ns: failed ? undefined : cell.latencyNs.p999,
      maxNs: failed ? undefined : cell.latencyNs.max,
      latencySamples: failed ? undefined : cell.latencyNs.samples,
      calibrationOpsPerSec: results.calibration.opsPerSec,
      commit: results.env.commit,
      error: cell.error,
    };
    return CSV_COLUMNS.map((column) => csvField(row[column]));
  });
  return [CSV_COLUMNS.join(','), ...rows.map((row) => row.join(','))].map((line) => `${line}\r\n`).join('');
}

function csvField(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
