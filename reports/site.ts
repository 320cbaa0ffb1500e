/**
 * A report site: a folder that holds any number of rendered runs and an index
 * page linking them, publishable as static files (any web server, GitHub
 * Pages, a CI artifact) or opened straight from disk.
 *
 *   <site>/index.html          every run in the folder, newest first
 *   <site>/<run-id>/index.html  the run's report (self-contained)
 *   <site>/<run-id>/summary.md  its markdown summary
 *   <site>/<run-id>/results.json the results file as rendered (analysis included), stored as a sweep writes it
 *   <site>/<run-id>/run.json    what the index lists about the run
 *
 * The index is rebuilt from the run.json files each time a run is added, so
 * runs can be copied in or deleted by hand. Every file is written atomically
 * (temp file + rename): a reader never sees half a page.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from '../harness/results/results.js';
import { escapeHtml, renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { buildModel, formatNumber, isRecord } from './model.js';

export interface RunEntry {
  runId: string;
  /** When the sweep started, if the results file says (`sweep.startedAt`). */
  startedAt: string | null;
  renderedAt: string;
  commit: string | null;
  node: string;
  cpuModel: string;
  cores: number;
  cells: number;
  failed: number;
  maps: string[];
  workloads: string[];
  threads: number[];
  loadFactors: number[];
}

export interface PublishOptions {
  /** Overrides the run id derived from the results (`runIdOf`). */
  runId?: string;
  renderedAt?: string;
  /**
   * The run's results.json as stored (harness/results/results.ts
   * serializeResults, which the report command passes); without it, the
   * in-memory results as JSON (larger: histograms and trials uncompressed).
   */
  resultsText?: string;
}

export interface PublishedRun {
  runId: string;
  runDirectory: string;
  files: string[];
  htmlBytes: number;
  /** How many runs the rewritten site index lists. */
  runsListed: number;
}

/** A folder name from any text: letters, digits, '-' and '_' only (no dots, so never '..' or 'index.html'). */
export function slug(text: string): string {
  return (
    text
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'run'
  );
}

/**
 * The run's folder name: its `runId` when the results carry one; otherwise the
 * start time (if any) and a hash of env, config and cells, so the same run
 * always lands in the same folder and different runs never collide.
 */
export function runIdOf(results: Results): string {
  if (typeof results.runId === 'string' && results.runId.trim() !== '') return slug(results.runId);
  const digest = createHash('sha256')
    .update(JSON.stringify([results.env, results.config, results.cells]))
    .digest('hex')
    .slice(0, 10);
  const startedAt = startedAtOf(results);
  const started = startedAt !== null && !Number.isNaN(Date.parse(startedAt)) ? new Date(startedAt) : null;
  if (!started) return `run-${digest}`;
  const stamp = started
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-');
  return `${stamp}-${digest}`;
}

/** When the sweep started: `sweep.startedAt` as the harness writes it, or a top-level `startedAt`. */
function startedAtOf(results: Results): string | null {
  const sweep = isRecord(results.sweep) ? results.sweep : {};
  const value = typeof sweep.startedAt === 'string' ? sweep.startedAt : results.startedAt;
  return typeof value === 'string' ? value : null;
}

export function writeFileAtomic(path: string, text: string): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export function runEntry(results: Results, runId: string, renderedAt: string): RunEntry {
  const model = buildModel(results);
  return {
    runId,
    startedAt: startedAtOf(results),
    renderedAt,
    commit: results.env.commit ?? null,
    node: results.env.node,
    cpuModel: results.env.cpuModel,
    cores: results.env.cores,
    cells: results.cells.length,
    failed: model.failed.length,
    maps: model.maps.map((map) => map.label),
    workloads: model.workloads,
    threads: model.threads,
    loadFactors: model.loadFactors,
  };
}

/** Renders the run into <site>/<run-id>/ and rewrites <site>/index.html. */
export function publishRun(siteDirectory: string, results: Results, options: PublishOptions = {}): PublishedRun {
  const runId = options.runId ? slug(options.runId) : runIdOf(results);
  const renderedAt = options.renderedAt ?? new Date().toISOString();
  const html = renderHtml(results, { runId, renderedAt });
  const markdown = renderMarkdown(results, { runId });
  const runDirectory = join(siteDirectory, runId);
  mkdirSync(runDirectory, { recursive: true });
  const files = [
    [join(runDirectory, 'results.json'), options.resultsText ?? JSON.stringify(results) + '\n'],
    [join(runDirectory, 'summary.md'), markdown],
    [join(runDirectory, 'index.html'), html],
    [join(runDirectory, 'run.json'), JSON.stringify(runEntry(results, runId, renderedAt), null, 1) + '\n'],
  ] as const;
  for (const [path, text] of files) writeFileAtomic(path, text);
  const runs = listRuns(siteDirectory);
  writeFileAtomic(join(siteDirectory, 'index.html'), renderSiteIndex(runs));
  return {
    runId,
    runDirectory,
    files: [...files.map(([path]) => path), join(siteDirectory, 'index.html')],
    htmlBytes: Buffer.byteLength(html),
    runsListed: runs.length,
  };
}

/** Every <site>/<dir>/run.json that reads as a run entry, newest first. */
export function listRuns(siteDirectory: string): RunEntry[] {
  if (!existsSync(siteDirectory)) return [];
  const runs: RunEntry[] = [];
  for (const name of readdirSync(siteDirectory)) {
    const path = join(siteDirectory, name, 'run.json');
    if (!existsSync(path) || !statSync(join(siteDirectory, name)).isDirectory()) continue;
    try {
      const entry: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (isRecord(entry) && entry.runId === name && typeof entry.renderedAt === 'string')
        runs.push(entry as unknown as RunEntry);
    } catch {
      // A run.json that does not parse is not a run of this site; it is left alone.
    }
  }
  const when = (run: RunEntry) => run.startedAt ?? run.renderedAt;
  return runs.sort((a, b) => when(b).localeCompare(when(a)) || a.runId.localeCompare(b.runId));
}

export function renderSiteIndex(runs: readonly RunEntry[]): string {
  const text = (value: unknown) => escapeHtml(String(value ?? '—'));
  const list = (values: unknown) =>
    Array.isArray(values)
      ? escapeHtml(values.map((value) => (typeof value === 'number' ? formatNumber(value) : String(value))).join(', '))
      : '—';
  const rows = runs.map(
    (run) => `<tr>
<td><a href="${encodeURIComponent(run.runId)}/index.html">${text(run.runId)}</a></td>
<td>${text(run.startedAt ?? '—')}</td><td>${text(run.renderedAt)}</td><td>${text(run.commit ? run.commit.slice(0, 12) : '—')}</td>
<td>${text(run.node)}</td><td>${text(run.cpuModel)} (${text(run.cores)} cores)</td>
<td class="number">${text(run.cells)}</td><td class="number${run.failed ? ' failed' : ''}">${text(run.failed)}</td>
<td>${list(run.maps)}</td><td>${list(run.workloads)}</td><td>${list(run.threads)}</td><td>${list(run.loadFactors)}</td>
<td><a href="${encodeURIComponent(run.runId)}/summary.md">md</a> · <a href="${encodeURIComponent(run.runId)}/results.json">json</a></td>
</tr>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>maplab runs</title>
<style>
body { margin: 0; padding: 20px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; background: #fafbfc; }
h1 { font-size: 22px; margin: 0 0 4px; } p { color: #5b6473; margin: 0 0 16px; }
table { border-collapse: collapse; background: #fff; font-size: 13px; }
th, td { border-bottom: 1px solid #e2e5ea; padding: 5px 10px; text-align: left; vertical-align: top; }
th { background: #f4f5f7; } td.number { text-align: right; } .failed { color: #9b1c1c; font-weight: 600; }
a { color: #2f5fa7; }
</style>
</head>
<body>
<h1>maplab runs</h1>
<p>${runs.length} run${runs.length === 1 ? '' : 's'} in this folder, newest first. Each report is one self-contained page.</p>
${
  runs.length
    ? `<table><thead><tr><th>run</th><th>started</th><th>rendered</th><th>commit</th><th>Node</th><th>CPU</th><th>cells</th><th>failed</th><th>maps</th><th>workloads</th><th>threads</th><th>load factors</th><th>data</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`
    : '<p>No runs yet: <code>maplab report results.json --out DIR</code> adds one.</p>'
}
</body>
</html>
`;
}
