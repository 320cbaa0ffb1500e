/**
 * The rows and notes of a comparison, shared by the text and markdown
 * renderers so both say the same thing.
 */
import type { ComparedCell, Comparison, SideInfo } from '../harness/gate/compare.js';
import { formatP, formatRangeNs, formatRangeRate, formatRate, formatRatioPct } from './compare-format.js';

export const COMPARISON_HEADER = [
  'cell',
  'base ops/s [95% CI]',
  'head ops/s [95% CI]',
  'delta',
  'p',
  'verdict',
  'base p99 [95% CI]',
  'head p99 [95% CI]',
  'p99 delta',
  'p99 verdict',
];

export function cellName(cell: Pick<ComparedCell, 'label' | 'headMap' | 'key' | 'oversubscribed' | 'private'>): string {
  const tags: string[] = [];
  if (cell.headMap !== cell.key.map) tags.push(`head: ${cell.headMap}`);
  if (cell.private) tags.push('private');
  if (cell.oversubscribed) tags.push('oversubscribed');
  return tags.length === 0 ? cell.label : `${cell.label} (${tags.join(', ')})`;
}

export function comparisonRows(comparison: Comparison): string[][] {
  const rows = comparison.cells.map((cell) => {
    const ops = cell.opsPerSec;
    const p99 = cell.p99Ns;
    return [
      cellName(cell),
      formatRangeRate(ops.base.median, ops.base.ciLow, ops.base.ciHigh),
      formatRangeRate(ops.head.median, ops.head.ciLow, ops.head.ciHigh),
      formatRatioPct(ops.ratio),
      formatP(ops.p),
      ops.verdict,
      p99 ? formatRangeNs(p99.base.p99, p99.base.ciLow, p99.base.ciHigh) : 'n/a',
      p99 ? formatRangeNs(p99.head.p99, p99.head.ciLow, p99.head.ciHigh) : 'n/a',
      p99 ? formatRatioPct(p99.ratio) : 'n/a',
      p99 ? p99.verdict : 'n/a',
    ];
  });
  const { summary } = comparison;
  rows.push([
    `geomean of ${summary.compared} cells`,
    '',
    '',
    summary.opsPerSecGeomeanRatio === null ? 'n/a' : formatRatioPct(summary.opsPerSecGeomeanRatio),
    '',
    `${summary.opsPerSec.better} faster, ${summary.opsPerSec.worse} slower, ${summary.opsPerSec.unchanged} ~`,
    '',
    '',
    summary.p99GeomeanRatio === null ? 'n/a' : formatRatioPct(summary.p99GeomeanRatio),
    `${summary.p99.better} lower, ${summary.p99.worse} higher, ${summary.p99.unchanged} ~`,
  ]);
  return rows;
}

function describeSide(side: SideInfo): string {
  const commit = side.commit ? `commit ${side.commit.slice(0, 12)}, ` : '';
  return `${side.source} (${commit}${side.cpuModel} × ${side.cores}, Node ${side.node}, calibration ${formatRate(side.calibrationOpsPerSec)} ops/s)`;
}

/** Lines that go above the table: what was compared and how. */
export function comparisonPreamble(comparison: Comparison): string[] {
  const lines = [
    `base: ${describeSide(comparison.base)}`,
    `head: ${describeSide(comparison.head)}`,
    `ops/s: median of the trials [95% CI]; p: ${TEST_NAMES[comparison.test]}; verdict "~" = not significant at alpha ${comparison.alpha}.`,
    throughputMethod(comparison),
    'p99: one figure per cell; verdict by disjoint 95% CIs from each histogram (sampling error only, so advisory).',
  ];
  if (comparison.normalized) {
    lines.push(
      `normalised: head figures scaled ×${comparison.calibrationScale.toFixed(3)} to the baseline machine (ratio of calibration figures).`,
    );
  }
  const aliases = Object.entries(comparison.mapAliases);
  if (aliases.length > 0)
    lines.push(`map aliases (head = base): ${aliases.map(([head, base]) => `${head}=${base}`).join(', ')}`);
  return lines;
}

const TEST_NAMES: Record<Comparison['test'], string> = {
  'mann-whitney': 'Mann–Whitney U, two-sided, over the trials',
  bootstrap: 'bootstrap of the quantile ratio, two-sided, over the trials',
  paired: 'sign test, two-sided, over the pairs of trials measured in the same round',
};

/** Which per-trial figure the ops/s columns hold, and which quantile the delta compares. */
function throughputMethod(comparison: Comparison): string {
  const fallback = comparison.cells.filter((cell) => cell.opsPerSec.field === 'opsPerSec').length;
  const quietFallback = comparison.cells.filter((cell) => cell.opsPerSec.field === 'quietOpsPerSec').length;
  const figure =
    comparison.metric === 'sentinel'
      ? "quiet ops/s per trial ÷ the drift sentinel read at its visit, shown at the base cell's sentinel level" +
        `${quietFallback > 0 ? `; ${quietFallback} cell(s) without sentinel readings on both sides use quiet ops/s` : ''}` +
        `${fallback > 0 ? `; ${fallback} cell(s) without quiet figures use mean ops/s` : ''}`
      : comparison.metric === 'quiet'
        ? `quiet ops/s per trial (p90 of its 10 ms slice rates)${fallback > 0 ? `; ${fallback} cell(s) without it on both sides use mean ops/s` : ''}`
        : "mean ops/s of each trial's window";
  const delta =
    comparison.test === 'paired'
      ? "delta: the median of the pairs' ratios (each head trial over the base trial of its round)"
      : comparison.effectQuantile === 0.5
        ? 'delta: ratio of the medians'
        : `delta: ratio of the p${Math.round(comparison.effectQuantile * 100)} of each side's trials`;
  return `throughput: ${figure}; ${delta}.`;
}

/** Lines that go below the table: unmatched and failed cells, warnings. */
export function comparisonNotes(comparison: Comparison): string[] {
  const notes: string[] = [];
  for (const cell of comparison.onlyInBase)
    notes.push(`only in base: ${cell.label}${cell.error ? ` (failed: ${cell.error})` : ''}`);
  for (const cell of comparison.onlyInHead)
    notes.push(`only in head: ${cell.label}${cell.error ? ` (failed: ${cell.error})` : ''}`);
  for (const cell of comparison.failed) {
    notes.push(
      `failed: ${cell.label}: base ${cell.baseError === null ? 'ok' : `failed (${cell.baseError})`}, head ${cell.headError === null ? 'ok' : `failed (${cell.headError})`}`,
    );
  }
  for (const warning of comparison.warnings) notes.push(`warning: ${warning}`);
  return notes;
}
