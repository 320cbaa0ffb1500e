import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeResults, buildFindings, type RelativeEntry } from '../harness/analysis/index.js';
import type { Crossover, LatencyKnee } from '../harness/analysis/types.js';
import type { Cell } from '../harness/results.js';
import { buildCharts, buildModel, renderAnalysisText, renderHtml, renderMarkdown } from '../reports/index.js';
import { buildCell, buildResults } from './fixtures/results-builder.js';

/** analysis.relative as the sweep's paired-trial analysis writes it (the shape the lead specified). */
function relative(map: string, median: number, ciLow: number, ciHigh: number, verdict: RelativeEntry['verdict'], pairs = 5): RelativeEntry {
  return { workload: 'churn-10', threads: 2, loadFactor: 0.75, reference: 'rwmutex', map, ratio: { median, ciLow, ciHigh }, pairs, verdict };
}

const noData = { cells: [], latencyKnees: [], crossovers: [] };

test('winner: a map faster than the reference and clear of every other map is named, with its ratio and interval', () => {
  const [finding] = buildFindings({ ...noData, relative: [relative('readdirty', 1.4, 1.3, 1.5, 'faster'), relative('sharded', 1.1, 1.0, 1.2, 'tie')] });
  assert.equal(finding.determined, true);
  assert.equal(finding.sentence, 'churn-10, 2 threads, load factor 0.75: readdirty is fastest, 1.40× [1.30, 1.50] the ops/s of rwmutex.');
});

test('winner: the reference wins when every map is slower; overlapping intervals or a tie are "not determined"', () => {
  const [reference] = buildFindings({ ...noData, relative: [relative('readdirty', 0.8, 0.75, 0.85, 'slower')] });
  assert.match(reference.sentence, /rwmutex is fastest; the runner-up readdirty runs at 0\.80× \[0\.75, 0\.85\] of it\./);
  const [overlap] = buildFindings({ ...noData, relative: [relative('readdirty', 1.4, 1.2, 1.5, 'faster'), relative('sharded', 1.3, 1.1, 1.45, 'faster')] });
  assert.equal(overlap.determined, false);
  assert.match(overlap.sentence, /readdirty \(1\.40× \[1\.20, 1\.50\] of rwmutex\) or sharded — not determined/);
  const [tie] = buildFindings({ ...noData, relative: [relative('readdirty', 0.99, 0.95, 1.03, 'tie')] });
  assert.equal(tie.determined, false);
  assert.match(tie.sentence, /not determined/);
  const [few] = buildFindings({ ...noData, relative: [relative('readdirty', 1.4, 1.3, 1.5, 'undetermined', 2)] });
  assert.match(few.sentence, /winner not determined \(fewer than 3 paired trials for readdirty\)/);
});

test('winner: a file without analysis.relative says "not determined (no paired trials)" instead of reading absolute numbers', () => {
  const cells = [buildCell({ map: 'rwmutex', workload: 'mixed', threads: 2, opsPerSec: 1e6 }), buildCell({ map: 'sharded', workload: 'mixed', threads: 2, opsPerSec: 9e6 })];
  const analysis = analyzeResults(buildResults(cells));
  const winners = analysis.findings?.filter((finding) => finding.kind === 'winner') ?? [];
  assert.equal(winners.length, 1);
  assert.equal(winners[0].determined, false);
  assert.match(winners[0].sentence, /not determined \(no paired trials/);
});

test('knees and crossovers become one sentence each, with intervals; undecided ones say so', () => {
  const knee = (verdict: LatencyKnee['verdict'], extra: Partial<LatencyKnee> = {}): LatencyKnee => ({
    map: 'readdirty', workload: 'read-heavy', loadFactor: 0.75, threads: 2, verdict, tpsAtKnee: 12_800, tpsCiLow: 11_000, tpsCiHigh: 14_000,
    ratePerThreadAtKnee: 6400, achievedOpsPerSecAtKnee: 12_800, p99BeforeNs: 1000, p99AfterNs: 3700, p99Ratio: { median: 3.7, ciLow: 3, ciHigh: 4.5 },
    hiccupP99Ns: 500, points: 8, ...extra,
  });
  const crossover = (writeFraction: number | null, ciLow: number | null, ciHigh: number | null, reason?: string): Crossover => ({
    family: 'churn', threads: 2, loadFactor: 0.75, map: 'readdirty', versus: 'rwmutex', writeFraction, ciLow, ciHigh, opsPerSec: 1e6, points: 8,
    ...(reason ? { reason } : {}),
  });
  const findings = buildFindings({
    cells: [], relative: [],
    latencyKnees: [knee('knee'), knee('undetermined', { note: 'undetermined (noise): only 40% of resamples find a knee' }),
      knee('machine-limited'), knee('no-knee', { tpsAtKnee: null, note: 'no knee within the rates measured: p99 stays flat (max/min 1.10)' })],
    crossovers: [crossover(0.15, 0.12, 0.18), crossover(0.2, 0.05, null, 'open interval: 30% of resamples never cross')],
  });
  const sentences = findings.map((finding) => finding.sentence);
  assert.ok(sentences.includes('readdirty (read-heavy, 2 threads, load factor 0.75): knee at 12.8k ops/s offered [11k, 14k], p99 1 µs → 3.7 µs (3.7× [3.0, 4.5]).'), sentences.join('\n'));
  assert.ok(sentences.some((line) => /knee not determined \(noise: only 40% of resamples find a knee; point estimate 12.8k ops\/s/.test(line)));
  assert.ok(sentences.some((line) => /machine-limited — p99 rises past 12.8k ops\/s .* within 2× the machine's own stalls \(p99 500 ns\)/.test(line)));
  assert.ok(sentences.some((line) => /no knee within the rates measured: p99 stays flat/.test(line)));
  assert.ok(sentences.includes('churn-N, 2 threads, load factor 0.75: readdirty falls below rwmutex at 15% writes [12%, 18%].'));
  assert.ok(sentences.some((line) => /near 20% writes; interval not determined \(open interval/.test(line)));
  assert.deepEqual(findings.filter((finding) => !finding.determined).map((finding) => finding.kind), ['knee', 'knee', 'crossover']);
});

test('load-factor trade: bytes/entry against ns/op between the lowest and highest load factor', () => {
  const cell = (loadFactor: number, opsPerSec: number, bytes: number): Cell => ({
    ...buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2, loadFactor, opsPerSec }),
    opsPerSec: { median: opsPerSec, ciLow: opsPerSec * 0.98, ciHigh: opsPerSec * 1.02 }, counters: { bytes, entries: 1000 },
  });
  const [finding] = buildFindings({ cells: [cell(0.5, 10e6, 64_000), cell(0.9, 8e6, 36_000)], relative: [], latencyKnees: [], crossovers: [] });
  assert.equal(finding.kind, 'load-factor');
  assert.equal(finding.determined, true);
  assert.equal(finding.sentence, 'rwmutex (read-heavy, 2 threads): load factor 0.5 → 0.9: 64 → 36 bytes/entry, ns/op ×1.25 [1.20, 1.30].');
});

test('findings lead the analyze text, the markdown and the HTML report', () => {
  const results = buildResults([buildCell({ map: 'rwmutex', workload: 'mixed', threads: 2, opsPerSec: 1e6 })]);
  results.analysis = analyzeResults(results);
  assert.match(renderAnalysisText(results.analysis), /^Findings\n=+\n- Winner per workload and thread count: not determined/);
  assert.match(renderMarkdown(results), /### Findings\n\n- Winner per workload/);
  const html = renderHtml(results);
  assert.ok(html.indexOf('id="findings"') > 0 && html.indexOf('id="findings"') < html.indexOf('id="maps"'));
});

test("the p99-vs-offered-load chart carries the machine's hiccup p99 beside each open-loop cell", () => {
  const cell = buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2, rate: 1e5, p99Ns: 40_000 });
  const results = buildResults([{ ...cell, hiccupNs: { ...cell.latencyNs, p99: 20_000, intervalMs: 1, awakeFraction: 0.002 } }]);
  results.analysis = analyzeResults(results);
  const { datasets } = buildCharts(buildModel(results));
  const kind = datasets.load.columns.indexOf('kind');
  const p99 = datasets.load.columns.indexOf('p99Us');
  const hiccups = datasets.load.rows.filter((row) => row[kind] === 'hiccup');
  assert.equal(hiccups.length, 1);
  assert.equal(hiccups[0][p99], 20);
});
