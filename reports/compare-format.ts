/**
 * Number formats shared by the compare and gate renderers: three significant
 * digits with an SI suffix for rates; latencies as every report shows them
 * (./format.ts).
 */
import { formatNs } from './format.js';

/** 12345678 → '12.3M'. */
export function formatRate(opsPerSec: number): string {
  const units: Array<[number, string]> = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, suffix] of units) {
    if (Math.abs(opsPerSec) >= scale) return `${(opsPerSec / scale).toPrecision(3)}${suffix}`;
  }
  return opsPerSec.toPrecision(3);
}

/** '0.008', '<0.001'. */
export function formatP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

/** A ratio as a signed percentage, '+4.2%' / '-31.0%'. */
export function formatRatioPct(ratio: number): string {
  const pct = Math.round((ratio - 1) * 1000) / 10;
  return `${pct > 0 ? '+' : pct < 0 ? '-' : '±'}${Math.abs(pct).toFixed(1)}%`;
}

export function formatRangeRate(median: number, low: number, high: number): string {
  return `${formatRate(median)} [${formatRate(low)}–${formatRate(high)}]`;
}

export function formatRangeNs(value: number, low: number, high: number): string {
  return `${formatNs(value)} [${formatNs(low)}–${formatNs(high)}]`;
}

/** Left-aligned text table with two-space gutters; the first row is the header. */
export function textTable(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((field, column) => field.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** GitHub-flavoured markdown table; pipes in fields are escaped. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (fields: string[]) => `| ${fields.map((field) => field.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A percentage delta, '+4.2%' / '-31.0%', or 'n/a'. */
export function formatDeltaOrNa(deltaPct: number | null): string {
  return deltaPct === null ? 'n/a' : formatRatioPct(1 + deltaPct / 100);
}
