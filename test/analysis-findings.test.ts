import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeResults, buildFindings, type GroupWinner } from '../harness/analysis/index.js';
import type { Crossover, LatencyKnee } from '../harness/analysis/types.js';
import type { Cell } from '../harness/results/results.js';
import { buildCharts, buildModel, renderAnalysisText, renderHtml, renderMarkdown } from '../reports/index.js';
import { buildCell, buildResults } from './fixtures/results-builder.js';

/** analysis.winners as relative.ts groupWinners writes it. */
function winner(
  verdict: GroupWinner['verdict'],
  leader: string,
  tiedWith: string[] = [],
  margin = { median: 1.4, ciLow: 1.3, ciHigh: 1.5 },
): GroupWinner {
  return {
    workload: 'churn-10',
    threads: 2,
    loadFactor: 0.75,
    leader,
    verdict,
    tiedWith,
    margin,
    runnerUp: 'rwmutex',
    pairs: 6,
  };
}

const noData = { cells: [], latencyKnees: [], crossovers: [] };

test("winner: a group winner is named with its lead over the runner-up and that lead's interval", () => {
  const [finding] = buildFindings({ ...noData, winners: [winner('winner', 'readdirty')] });
  assert.equal(finding.determined, true);
  assert.equal(
    finding.sentence,
    'churn-10, 2 threads, load factor 0.75: readdirty is fastest, 1.40× [1.30, 1.50] the ops/s of rwmutex.',
  );
});

test('winner: a tie names every map it cannot tell apart; too few pairs is "not determined"', () => {
  const [tie] = buildFindings({
    ...noData,
    winners: [winner('tie', 'readdirty', ['rwmutex'], { median: 1.01, ciLow: 0.97, ciHigh: 1.05 })],
  });
  assert.equal(tie.determined, false);
  assert.match(
    tie.sentence,
    /readdirty or rwmutex — a tie, not determined \(readdirty 1\.01× \[0\.97, 1\.05\] the ops\/s of rwmutex\)/,
  );
  const [few] = buildFindings({ ...noData, winners: [winner('undetermined', 'readdirty')] });
  assert.match(few.sentence, /winner not determined \(fewer than 3 paired trials\)/);
});

test('winner: a file without analysis.relative says "not determined (no paired trials)" instead of reading absolute numbers', () => {
  const cells = [
    buildCell({ map: 'rwmutex', workload: 'mixed', threads: 2, opsPerSec: 1e6 }),
    buildCell({ map: 'sharded', workload: 'mixed', threads: 2, opsPerSec: 9e6 }),
  ];
  const analysis = analyzeResults(buildResults(cells));
  const winners = analysis.findings?.filter((finding) => finding.kind === 'winner') ?? [];
  assert.equal(winners.length, 1);
  assert.equal(winners[0].determined, false);
  assert.match(winners[0].sentence, /not determined \(no paired trials/);
});

test('knees and crossovers become one sentence each, with intervals; undecided ones say so', () => {
  const knee = (verdict: LatencyKnee['verdict'], extra: Partial<LatencyKnee> = {}): LatencyKnee => ({
    map: 'readdirty',
    workload: 'read-heavy',
    loadFactor: 0.75,
    threads: 2,
    verdict,
    tpsAtKnee: 12_800,
    tpsCiLow: 11_000,
    tpsCiHigh: 14_000,
    ratePerThreadAtKnee: 6400,
    achievedOpsPerSecAtKnee: 12_800,
    p99BeforeNs: 1000,
    p99AfterNs: 3700,
    p99Ratio: { median: 3.7, ciLow: 3, ciHigh: 4.5 },
    hiccupP99Ns: 500,
    points: 8,
    ...extra,
  });
  const crossover = (
    writeFraction: number | null,
    ciLow: number | null,
    ciHigh: number | null,
    reason?: string,
  ): Crossover => ({
    family: 'churn',
    threads: 2,
    loadFactor: 0.75,
    map: 'readdirty',
    versus: 'rwmutex',
    writeFraction,
    ciLow,
    ciHigh,
    opsPerSec: 1e6,
    points: 8,
    ...(reason ? { reason } : {}),
  });
  const findings = buildFindings({
    cells: [],
    winners: [],
    latencyKnees: [
      knee('knee'),
      knee('undetermined', { note: 'undetermined (noise): only 40% of resamples find a knee' }),
      knee('machine-limited'),
      knee('no-knee', { tpsAtKnee: null, note: 'no knee within the rates measured: p99 stays flat (max/min 1.10)' }),
    ],
    crossovers: [
      crossover(0.15, 0.12, 0.18),
      crossover(0.2, 0.05, null, 'open interval: 30% of resamples never cross'),
    ],
  });
  const sentences = findings.map((finding) => finding.sentence);
  assert.ok(
    sentences.includes(
      'readdirty (read-heavy, 2 threads, load factor 0.75): knee at 12.8k ops/s offered [11k, 14k], p99 1 µs → 3.7 µs (3.7× [3.0, 4.5]).',
    ),
    sentences.join('\n'),
  );
  assert.ok(
    sentences.some((line) =>
      /knee not determined \(noise: only 40% of resamples find a knee; point estimate 12.8k ops\/s/.test(line),
    ),
  );
  assert.ok(
    sentences.some((line) =>
      /machine-limited — p99 rises past 12.8k ops\/s .* within 2× the machine's own stalls \(p99 500 ns\)/.test(line),
    ),
  );
  assert.ok(sentences.some((line) => /no knee within the rates measured: p99 stays flat/.test(line)));
  assert.ok(
    sentences.includes('churn-N, 2 threads, load factor 0.75: readdirty falls below rwmutex at 15% writes [12%, 18%].'),
  );
  assert.ok(sentences.some((line) => /near 20% writes; interval not determined \(open interval/.test(line)));
  assert.deepEqual(
    findings.filter((finding) => !finding.determined).map((finding) => finding.kind),
    ['knee', 'knee', 'crossover'],
  );
});

test('load-factor trade: bytes/entry against ns/op between the lowest and highest load factor', () => {
  const cell = (loadFactor: number, opsPerSec: number, bytes: number): Cell => ({
    ...buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2, loadFactor, opsPerSec }),
    opsPerSec: { median: opsPerSec, ciLow: opsPerSec * 0.98, ciHigh: opsPerSec * 1.02 },
    counters: { bytes, entries: 1000 },
  });
  const [finding] = buildFindings({
    cells: [cell(0.5, 10e6, 64_000), cell(0.9, 8e6, 36_000)],
    winners: [],
    latencyKnees: [],
    crossovers: [],
  });
  assert.equal(finding.kind, 'load-factor');
  assert.equal(finding.determined, true);
  assert.equal(
    finding.sentence,
    'rwmutex (read-heavy, 2 threads): load factor 0.5 → 0.9: 64 → 36 bytes/entry, ns/op ×1.25 [1.20, 1.30].',
  );
});

test('findings lead the analyze text, the markdown and the HTML report', () => {
  const results = buildResults([buildCell({ map: 'rwmutex', workload: 'mixed', threads: 2, opsPerSec: 1e6 })]);
  results.analysis = analyzeResults(results);
  assert.match(
    renderAnalysisText(results.analysis),
    /^Findings\n=+\n- Winner per workload and thread count: not determined/,
  );
  assert.match(renderMarkdown(results), /### Findings\n\n- Winner per workload/);
  const html = renderHtml(results);
  assert.ok(html.indexOf('id="findings"') > 0 && html.indexOf('id="findings"') < html.indexOf('id="maps"'));
});

test("the p99-vs-offered-load chart carries the machine's hiccup p99 beside each open-loop cell", () => {
  const cell = buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2, rate: 1e5, p99Ns: 40_000 });
  const results = buildResults([
    { ...cell, hiccupNs: { ...cell.latencyNs, p99: 20_000, intervalMs: 1, awakeFraction: 0.002 } },
  ]);
  results.analysis = analyzeResults(results);
  const { datasets } = buildCharts(buildModel(results));
  const kind = datasets.load.columns.indexOf('kind');
  const p99 = datasets.load.columns.indexOf('p99Us');
  const hiccups = datasets.load.rows.filter((row) => row[kind] === 'hiccup');
  assert.equal(hiccups.length, 1);
  assert.equal(hiccups[0][p99], 20);
});
