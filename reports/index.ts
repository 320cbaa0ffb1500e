/**
 * Renderers of a results file: HTML (vega-lite charts, self-contained),
 * markdown (CI job summary, PR comment) and plain text (terminal), and the
 * report site that collects rendered runs. They read only the results file.
 */
export { renderHtml, escapeHtml, jsonForScript, browserLibraries, type HtmlOptions } from './html.js';
export { renderMarkdown, escapeMarkdown } from './markdown.js';
export { renderText, renderAnalysisText, textTable, type SummaryOptions } from './text.js';
export {
  publishRun,
  listRuns,
  renderSiteIndex,
  runIdOf,
  runEntry,
  slug,
  writeFileAtomic,
  type PublishedRun,
  type PublishOptions,
  type RunEntry,
} from './site.js';
export { buildCharts, type ChartDefinition, type ChartSet, type CompactTable } from './charts.js';
export { buildModel, type ReportModel } from './model.js';

export const REPORT_FORMATS = ['html', 'md', 'txt'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
