/**
 * `maplab analyze --csv`: one scalability curve as `threads,opsPerSec` lines,
 * the input of Gunther's / Hale's `usl` tools. A header line is optional;
 * blank lines and `#` comments are skipped. Anything else that is not two
 * numbers is an input error naming the line.
 */
import { UsageError } from '../run/options.js';
import type { ScalingPoint } from './usl.js';

export function parseScalingCsv(text: string, source: string): ScalingPoint[] {
  const points: ScalingPoint[] = [];
  let seenRow = false;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const lineNumber = index + 1;
    const fields = line.split(',').map((field) => field.trim());
    const isHeader =
      !seenRow && fields.length === 2 && fields.every((field) => field !== '' && Number.isNaN(Number(field)));
    seenRow = true;
    if (isHeader) return;
    const fail = (detail: string): never => {
      throw new UsageError(`${source}:${lineNumber}: ${detail}, got ${JSON.stringify(raw)}`);
    };
    if (fields.length !== 2) fail(`expected 2 columns 'threads,opsPerSec'`);
    const [threads, opsPerSec] = fields.map((field) => (field === '' ? Number.NaN : Number(field)));
    if (!Number.isFinite(threads) || threads < 1) fail('threads must be a number ≥ 1');
    if (!Number.isFinite(opsPerSec) || opsPerSec < 0) fail('opsPerSec must be a number ≥ 0');
    points.push({ threads, opsPerSec });
  });
  if (points.length === 0) throw new UsageError(`${source}: no data lines; expected 'threads,opsPerSec' rows`);
  return points;
}
