/** `maplab compare --format txt`: a plain-text table for terminals and CI logs. */
import type { Comparison } from '../harness/gate/compare.js';
import { textTable } from './compare-format.js';
import { COMPARISON_HEADER, comparisonNotes, comparisonPreamble, comparisonRows } from './compare-table.js';

export function renderComparisonText(comparison: Comparison): string {
  const notes = comparisonNotes(comparison);
  return (
    [
      ...comparisonPreamble(comparison),
      '',
      textTable([COMPARISON_HEADER, ...comparisonRows(comparison)]),
      ...(notes.length > 0 ? ['', ...notes] : []),
    ].join('\n') + '\n'
  );
}
