/** `maplab compare --format md`: a GitHub-flavoured markdown table (PR comments, step summaries). */
import type { Comparison } from '../harness/gate/compare.js';
import { markdownTable } from './compare-format.js';
import { COMPARISON_HEADER, comparisonNotes, comparisonPreamble, comparisonRows } from './compare-table.js';

export function renderComparisonMarkdown(comparison: Comparison, heading = '## maplab compare'): string {
  const rows = comparisonRows(comparison);
  const summary = rows.pop() as string[];
  summary[0] = `**${summary[0]}**`;
  const notes = comparisonNotes(comparison);
  return (
    [
      heading,
      '',
      ...comparisonPreamble(comparison).map((line) => `- ${line}`),
      '',
      markdownTable(COMPARISON_HEADER, [...rows, summary]),
      ...(notes.length > 0 ? ['', ...notes.map((note) => `- ${note}`)] : []),
    ].join('\n') + '\n'
  );
}
