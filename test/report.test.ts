import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeResults, isClosedLoopCell } from '../harness/analysis/index.js';
import {
  RESULTS_SCHEMA,
  readResultsFile,
  serializeResults,
  writeResultsFile,
  type Results,
} from '../harness/results/results.js';
import {
  escapeMarkdown,
  jsonForScript,
  listRuns,
  publishRun,
  renderHtml,
  renderMarkdown,
  renderText,
  runIdOf,
  slug,
} from '../reports/index.js';
import { environmentTable, isClosedLoop } from '../reports/model.js';
import {
  buildCell,
  buildResults,
  HOSTILE_MAP,
  HOSTILE_WORKLOAD,
  realisticResults,
  usl,
} from './fixtures/results-builder.js';

const cli = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
const maplab = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const scratch = () => mkdtempSync(join(tmpdir(), 'maplab-report-'));

function analysed(results: Results): Results {
  return { ...results, analysis: analyzeResults(results) };
}

/** The page without the contents of its <script> elements (the inlined libraries hold their own markup strings). */
function markupOnly(html: string): string {
  return html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '<script></script>');
}

function dataPayload(html: string): {
  datasets: Record<string, { columns: string[]; rows: unknown[][] }>;
  charts: Array<{ id: string }>;
} {
  const match = /<script type="application\/json" id="maplab-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(match, 'data script present');
  return JSON.parse(match[1]);
}

/** A small sweep with one closed-loop workload, one failed cell and a private map. */
function smallResults(): Results {
  const cells = [
    ...['rwmutex', 'js-map'].flatMap((map) =>
      [1, 2, 4, 8, 16].map((threads) =>
        buildCell({
          map,
          workload: 'mixed',
          threads,
          opsPerSec: usl(threads, 1e6, 0.1, 0.01),
          private: map === 'js-map',
          samples: 200,
          counters: { lockWaits: threads * 10 },
        }),
      ),
    ),
    buildCell({ map: 'plain', workload: 'mixed', threads: 2, error: 'concurrent map writes <detected> | twice' }),
  ];
  return analysed(buildResults(cells));
}

let hostile: Results | undefined;
function hostileResults(): Results {
  hostile ??= analysed(realisticResults({ hostileNames: true, samples: 200 }));
  return hostile;
}

// ---- escaping --------------------------------------------------------------

test('a map or workload named like HTML or a closing script tag renders as text, in markup and in the data', () => {
  const html = renderHtml(hostileResults());
  const markup = markupOnly(html);
  assert.ok(!markup.includes('<img'), 'no img element in the markup');
  assert.ok(!markup.includes('<b>bold</b>'), 'env text escaped');
  assert.ok(markup.includes('&#60;img src=x onerror=alert(1)&#62;'), 'the map name is shown, escaped');
  assert.ok(
    markup.includes('&#60;/script&#62;&#60;script&#62;alert(2)&#60;/script&#62;'),
    'the workload name is shown, escaped',
  );
  const data = /<script type="application\/json" id="maplab-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  assert.ok(!/[<>]/.test(data), 'no < or > inside the data script');
  assert.ok(data.includes('\\u003cimg src=x onerror=alert(1)\\u003e'));
  assert.equal(
    (html.match(/<script\b/g) ?? []).length,
    5,
    'data + vega + vega-lite + vega-embed + bootstrap, nothing injected',
  );
  assert.equal(
    JSON.parse(data).datasets.cells.rows.some(
      (row: unknown[]) => row[0] === HOSTILE_MAP && row[1] === HOSTILE_WORKLOAD,
    ),
    true,
  );
});

test('jsonForScript escapes everything that could end a script element or break a JS string', () => {
  const text = jsonForScript({ name: '</script><!-- & \u2028\u2029' });
  assert.equal(text, '{"name":"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028\\u2029"}');
  assert.deepEqual(JSON.parse(text), { name: '</script><!-- & \u2028\u2029' });
});

test('markdown escapes HTML, pipes and emphasis from the results file', () => {
  assert.equal(escapeMarkdown('<img src=x> | *a* _b_ `c`'), '&lt;img src=x&gt; \\| \\*a\\* \\_b\\_ \\`c\\`');
  const markdown = renderMarkdown(hostileResults());
  assert.ok(!markdown.includes('<img'));
  assert.ok(
    markdown.includes('&lt;img src=x onerror=alert\\(1)&gt;') ||
      markdown.includes('&lt;img src=x onerror=alert(1)&gt;'),
  );
  assert.ok(!/<\/?script/i.test(markdown));
});

// ---- self-contained, no network ---------------------------------------------

test('the HTML report forbids remote loads with a CSP whose script hashes match every inline script', () => {
  const html = renderHtml(smallResults());
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1].replace(/&#39;/g, "'");
  assert.ok(csp, 'CSP meta present');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-eval|https?:|\*/);
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]);
  assert.equal(scripts.length, 4);
  for (const source of scripts) {
    assert.ok(csp.includes(`'sha256-${createHash('sha256').update(source).digest('base64')}'`), 'hash listed');
  }
  assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<style>'), 'CSP comes before anything it governs');
});

test('the HTML report references nothing outside itself', () => {
  const markup = markupOnly(renderHtml(hostileResults()));
  assert.doesNotMatch(markup, /<(link|iframe|img|object|embed|base)\b/i);
  assert.doesNotMatch(markup, /\b(src|href)\s*=\s*"(?!#)/i, 'only in-page anchors');
  assert.doesNotMatch(markup, /url\(/i);
  assert.ok(
    renderHtml(smallResults()).includes('vega.expressionInterpreter'),
    'expressions are interpreted, not eval-ed',
  );
});

// ---- what the report shows ---------------------------------------------------

test('failed cells are listed with their reason, never plotted, never counted as zero', () => {
  const results = smallResults();
  const html = renderHtml(results);
  const markup = markupOnly(html);
  assert.match(markup, /Failed cells \(1\)/);
  assert.ok(markup.includes('concurrent map writes &#60;detected&#62; | twice'));
  assert.match(markup, /class="failed">failed: concurrent map writes/);
  const payload = dataPayload(html);
  const plotted = payload.datasets.cells.rows.map((row) => row[0]);
  assert.equal(plotted.length, results.cells.filter((cell) => cell.error === undefined).length);
  assert.ok(!plotted.includes('plain'));
  assert.ok(renderText(results).includes('concurrent map writes <detected> | twice'));
  assert.ok(renderMarkdown(results).includes('concurrent map writes &lt;detected&gt; \\| twice'));
});

test('private maps are labelled private in the HTML, the charts, markdown and text', () => {
  const results = smallResults();
  const html = renderHtml(results);
  assert.match(markupOnly(html), /<span class="map">js-map<\/span><span class="badge private">private<\/span>/);
  assert.ok(dataPayload(html).datasets.cells.rows.some((row) => row[0] === 'js-map (private)'));
  assert.match(renderMarkdown(results), /\*\*js-map\*\* _\(private\)_/);
  assert.match(renderText(results), /js-map \(private\)/);
});

test('winners leave private maps out and name the fastest shared map per workload and threads', () => {
  const text = renderText(smallResults());
  assert.match(
    text,
    /mixed\s+rwmutex 1 M by median\s+rwmutex/,
    'a file without paired trials ranks by median and says so',
  );
  assert.doesNotMatch(text.split('Winner per workload')[1].split('Scalability knees')[0], /js-map/);
});

test('verification badges appear beside each map when the results carry them, and not otherwise', () => {
  const results: Results = {
    ...smallResults(),
    verification: { rwmutex: { status: 'verified' }, plain: { status: 'violated' }, 'js-map': { status: '<b>' } },
  };
  const markup = markupOnly(renderHtml(results));
  assert.match(markup, /<span class="map">rwmutex<\/span><span class="badge verified">verified<\/span>/);
  assert.match(markup, /<span class="map">plain<\/span><span class="badge violated">violated<\/span>/);
  assert.doesNotMatch(markup, /badge &#60;b&#62;|<b>/, 'an unknown status is not shown');
  assert.match(renderText(results), /plain \[violated\]/);
  assert.match(renderMarkdown(results), /\*\*plain\*\* ❌ violated/);
  assert.doesNotMatch(markupOnly(renderHtml(smallResults())), /badge (verified|violated|unsafe)/);
});

test('a chart whose data this run lacks shows a "no data in this run" note instead of an empty chart', () => {
  const html = renderHtml(smallResults());
  const markup = markupOnly(html);
  for (const id of ['chart-latency-load', 'chart-crossover', 'chart-loadfactor-throughput', 'chart-loadfactor-bytes']) {
    assert.match(markup, new RegExp(`data-no-data="${id}">No data in this run`), id);
    assert.doesNotMatch(markup, new RegExp(`<div class="chart" id="${id}"`), id);
  }
  for (const id of [
    'chart-throughput',
    'chart-p99-threads',
    'chart-percentiles',
    'chart-histogram',
    'chart-counters',
  ]) {
    assert.match(markup, new RegExp(`<div class="chart" id="${id}"`), id);
  }
  assert.deepEqual(
    dataPayload(html).charts.map((chart) => chart.id),
    ['chart-throughput', 'chart-p99-threads', 'chart-percentiles', 'chart-histogram', 'chart-counters'],
  );
});

test('a run with no cells renders every chart as a note and inlines no script at all', () => {
  const html = renderHtml(buildResults([]));
  assert.equal((html.match(/data-no-data=/g) ?? []).length, 9);
  assert.equal((html.match(/<script>/g) ?? []).length, 0);
  assert.match(html, /script-src 'none'|script-src &#39;none&#39;/);
});

test('the throughput chart carries the USL curve and the knee of each analysed series', () => {
  const results = smallResults();
  const payload = dataPayload(renderHtml(results));
  const throughput = payload.datasets.throughput;
  const kind = throughput.columns.indexOf('kind');
  const knee = results.analysis.knees.find((entry) => entry.map === 'rwmutex');
  assert.ok(knee?.kneeThreads);
  assert.ok(throughput.rows.some((row) => row[kind] === 'usl'));
  assert.ok(
    throughput.rows.some(
      (row) => row[kind] === 'knee' && row[throughput.columns.indexOf('threads')] === knee.kneeThreads,
    ),
  );
});

test('the markdown summary has the winner, knee and failed-cell tables', () => {
  const markdown = renderMarkdown(smallResults(), { runId: 'r1' });
  assert.match(markdown, /^## maplab results — r1/);
  assert.match(
    markdown,
    /### Winner per workload × threads\n\n\| workload \| 1 thread \| 2 threads \| 4 threads \| 8 threads \| 16 threads \|/,
  );
  assert.match(markdown, /### Scalability knees/);
  assert.match(markdown, /### Failed cells \(1\)\n\n\| map \|/);
  assert.match(markdown, /_no open-loop cells_/);
});

test("reports keep harness/analysis's rule for closed-loop cells", () => {
  const results = hostileResults();
  for (const cell of results.cells) assert.equal(isClosedLoop(cell), isClosedLoopCell(cell));
});

test('reports/ imports nothing from outside reports/ but types from harness/', () => {
  const directory = join(repositoryRoot, 'reports');
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(directory, file), 'utf8');
    for (const match of source.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'(\.\.\/[^']+)'/gms)) {
      assert.ok(match[1] !== undefined, `${file} imports values from ${match[2]}`);
      assert.match(match[2], /^\.\.\/harness\//, `${file} imports ${match[2]}`);
    }
  }
});

// ---- the site ----------------------------------------------------------------

test('publishing two runs into a site writes each in its own folder and an index linking both', () => {
  const site = join(scratch(), 'site');
  const first = publishRun(site, smallResults(), {
    renderedAt: '2026-01-01T00:00:00.000Z',
    resultsText: serializeResults(smallResults()),
  });
  const second = publishRun(
    site,
    { ...smallResults(), runId: 'nightly <2>', sweep: { startedAt: '2026-02-01T10:00:00Z' } },
    { renderedAt: '2026-02-01T11:00:00.000Z' },
  );
  assert.equal(second.runId, 'nightly-2');
  for (const run of [first, second]) {
    assert.deepEqual(readdirSync(run.runDirectory).sort(), ['index.html', 'results.json', 'run.json', 'summary.md']);
  }
  // Given the stored form (what the sweep writes, as the report command passes it), results.json is that text.
  const stored = readFileSync(join(first.runDirectory, 'results.json'), 'utf8');
  assert.equal(stored, serializeResults(smallResults()));
  assert.equal(JSON.parse(stored).schema, RESULTS_SCHEMA);
  assert.deepEqual(readResultsFile(join(first.runDirectory, 'results.json')).cells, smallResults().cells);
  const index = readFileSync(join(site, 'index.html'), 'utf8');
  assert.ok(
    index.indexOf('href="nightly-2/index.html"') < index.indexOf(`href="${first.runId}/index.html"`),
    'newest first',
  );
  assert.equal(second.runsListed, 2);
  assert.match(index, /default-src 'none'/);
  assert.doesNotMatch(index, /<script/);
  // Re-publishing the same run replaces it; a folder without run.json is not a run.
  mkdirSync(join(site, 'assets'));
  const again = publishRun(site, smallResults());
  assert.equal(again.runId, first.runId);
  assert.deepEqual(
    listRuns(site)
      .map((run) => run.runId)
      .sort(),
    [first.runId, 'nightly-2'].sort(),
  );
  assert.equal(readdirSync(site).filter((name) => name.endsWith('.tmp')).length, 0);
});

test('run ids: the results runId, else start time and content hash; always a safe folder name', () => {
  const results = smallResults();
  assert.equal(runIdOf(results), runIdOf(structuredClone(results)), 'deterministic');
  assert.match(runIdOf(results), /^run-[0-9a-f]{10}$/);
  assert.match(
    runIdOf({ ...results, sweep: { startedAt: '2026-03-04T05:06:07.890Z' } }),
    /^20260304-050607-[0-9a-f]{10}$/,
  );
  assert.notEqual(runIdOf(results), runIdOf({ ...results, cells: results.cells.slice(1) }));
  assert.equal(runIdOf({ ...results, runId: '../../etc' }), 'etc');
  assert.equal(slug('index.html'), 'index-html');
  assert.equal(slug('...'), 'run');
});

// ---- the command ---------------------------------------------------------------

test('maplab report writes the run and the site index; md and txt print to stdout', () => {
  const dir = scratch();
  const file = join(dir, 'results.json');
  writeResultsFile(file, smallResults());
  const site = join(dir, 'site');
  const html = maplab('report', file, '--out', site, '--run-id', 'first');
  assert.equal(html.status, 0, html.stderr);
  assert.match(html.stdout, /wrote .*first\/index\.html .* MB\) and .*index\.html \(1 run\)/);
  assert.ok(existsSync(join(site, 'first', 'index.html')) && existsSync(join(site, 'index.html')));
  // The site's copy is stored like the sweep's file: schema 3, a cell's trials as columns.
  const copy = readFileSync(join(site, 'first', 'results.json'), 'utf8');
  assert.equal(JSON.parse(copy).schema, RESULTS_SCHEMA);
  assert.match(copy, /"trials": ?\{"ops": ?\[/);
  assert.doesNotMatch(copy, /"trials": ?\[/);
  assert.deepEqual(readResultsFile(join(site, 'first', 'results.json')).cells, readResultsFile(file).cells);
  const md = maplab('report', file, '--format', 'md');
  assert.equal(md.status, 0, md.stderr);
  assert.match(md.stdout, /^## maplab results/);
  const txt = maplab('report', file, '--format', 'txt');
  assert.match(txt.stdout, /^maplab results/);
  assert.match(txt.stdout, /Failed cells \(1\)/);
  const mdToSite = maplab('report', file, '--format', 'md', '--out', site, '--run-id', 'first');
  assert.equal(mdToSite.status, 0);
  assert.ok(readFileSync(join(site, 'first', 'summary.md'), 'utf8').startsWith('## maplab results — first'));
});

test('maplab report analyses a results file that has no analysis yet, without changing the file', () => {
  const dir = scratch();
  const file = join(dir, 'results.json');
  const results = { ...smallResults(), analysis: { knees: [] } };
  writeResultsFile(file, results);
  const before = readFileSync(file, 'utf8');
  const txt = maplab('report', file, '--format', 'txt');
  assert.equal(txt.status, 0, txt.stderr);
  assert.match(txt.stdout, /rwmutex\s+mixed\s+0\.75\s+\d/);
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('maplab report exits 2 and writes nothing on a missing or malformed file, an unknown format or a file as --out', () => {
  const dir = scratch();
  const site = join(dir, 'site');
  const good = join(dir, 'results.json');
  writeResultsFile(good, smallResults());
  const malformed = join(dir, 'malformed.json');
  writeFileSync(malformed, '{ not json');
  const cases = [
    [[join(dir, 'missing.json'), '--out', site], /cannot read results file \(ENOENT\)/],
    [[malformed, '--out', site], /malformed\.json: not valid JSON/],
    [[good, '--out', site, '--format', 'pdf'], /--format must be one of html, md, txt, got "pdf"/],
    [[good, '--out', good], /--out must be a folder/],
  ] as const;
  for (const [args, message] of cases) {
    const run = maplab('report', ...args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(existsSync(site), false, 'nothing written');
  }
  assert.deepEqual(readdirSync(dir).sort(), ['malformed.json', 'results.json']);
});

test('report size for a realistic sweep (reported, not asserted)', (context) => {
  const results = analysed(realisticResults());
  const html = renderHtml(results);
  const bytes = Buffer.byteLength(html);
  context.diagnostic(
    `${results.cells.length} cells, results file ${(Buffer.byteLength(JSON.stringify(results)) / 1e6).toFixed(2)} MB → index.html ${(bytes / 1e6).toFixed(2)} MB`,
  );
  assert.ok(bytes > 0);
});

test('with paired answers the winner table names a winner with its CI, says "tie" where it cannot, and the environment shows the drift record', () => {
  const drift = [1, 0.7, 1.3, 0.8, 1.1, 0.75];
  const cellWith = (map: string, threads: number, speed: number): Results['cells'][number] => {
    const rates = drift.map((level, round) => speed * 1e7 * level * (1 + 0.004 * ((round + map.length) % 3)));
    const cell = buildCell({ map, workload: 'read-heavy', threads, opsPerSec: speed * 1e7 });
    return {
      ...cell,
      trials: rates.map((rate, round) => ({ ops: rate, elapsedNs: 1e9, opsPerSec: rate, quietOpsPerSec: rate, round })),
    };
  };
  const base = buildResults([]);
  const results = analysed({
    ...base,
    cells: [
      cellWith('rwmutex', 1, 1),
      cellWith('sharded', 1, 1.01),
      cellWith('rwmutex', 2, 1),
      cellWith('readdirty', 2, 2),
    ],
    sweep: {
      drift: {
        visits: 12,
        poolGenerations: 2,
        remeasuredVisits: 2,
        disturbedVisitsKept: 1,
        sentinel: { readings: 12, referenceOpsPerSec: 3e7, minOpsPerSec: 2e7, maxOpsPerSec: 3.1e7 },
        oneThreadCpu: { chosenCounts: { '1': 4, '0': 2 }, slowestOtherMedianRatio: 0.62, rounds: [] },
        placement: {
          readings: 24,
          usualHandoffNs: 241,
          otherHandoffNs: 61,
          readingsInOther: 5,
          unclassifiedReadings: 1,
          retriedReadings: 7,
          minHandoffNs: 58,
          maxHandoffNs: 90200,
          offPlacementVisitsKept: 1,
        },
      },
    },
  });
  const text = renderText(results);
  const winners = text.split('Winner per workload')[1].split('Scalability knees')[0];
  assert.match(winners, /tie: rwmutex = sharded|tie: sharded = rwmutex/);
  assert.match(winners, /readdirty 20(\.\d)? M \(\+\d+% \[\+\d+%, \+\d+%\]\)/);
  assert.match(text, /re-measured\s+2 of 12 visits measured again/);
  assert.match(text, /pool generations\s+2/);
  assert.match(
    text,
    /1-thread vCPU\s+the fastest by the drift sentinel at each round: CPU 0 in 2 rounds, CPU 1 in 4 rounds; the other read 0\.62× the chosen one \(median\)/,
  );
  assert.match(
    text,
    /vCPU placement\s+24 cache-line handoff readings, usual 241 ns; 5 in another placement at 61 ns; 1 unclassified after 7 retaken \(the probe threads hardly ran at once\); 1 multi-thread visits kept off it/,
  );
});

test('a sweep over runtimes shows its primitives per runtime in the environment, each later runtime with its ratio to the first', () => {
  const cells = (atomicsNs: number) => [
    { name: 'Atomics.load', unit: 'ns/op', median: atomicsNs },
    { name: 'wait→notify wake-up', unit: 'µs', median: 15 },
  ];
  const results: Results = {
    ...smallResults(),
    primitives: [
      { node: 'v20.20.2', v8: '11', cells: cells(12) },
      { node: 'v24.21.0', v8: '13', cells: cells(6) },
    ],
  };
  const text = renderText(results);
  assert.match(text, /Primitives per runtime/);
  assert.match(text, /Atomics\.load\s+ns\/op\s+12\s+6 \(0\.50×\)/);
  assert.match(renderMarkdown(results), /Primitives per runtime/);
  assert.match(markupOnly(renderHtml(results)), /<h3>Primitives per runtime<\/h3>/);
  assert.doesNotMatch(renderText(smallResults()), /Primitives per runtime/, 'a one-runtime sweep has no such table');
});

test('the environment says whether and where measuring threads were pinned', () => {
  const row = (affinity: Results['env']['affinity']): string => {
    const results = smallResults();
    const table = environmentTable({ ...results, env: { ...results.env, affinity } });
    return String(table.rows.find((cells) => cells[0] === 'vCPU pinning')?.[1]);
  };
  assert.equal(
    row({ pinned: true, cpus: [0, 1] }),
    'pinned: 1-thread trials and the drift sentinel on one CPU (below), worker i of a multi-thread pool on CPU i mod 2 (CPUs 0, 1)',
  );
  assert.equal(
    row({ pinned: false, cpus: [0, 1], reason: 'turned off (--pin false)' }),
    'not pinned: turned off (--pin false)',
  );
  assert.equal(row(undefined), 'not recorded (not pinned)');
});
