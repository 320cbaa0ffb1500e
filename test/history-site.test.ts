/**
 * `maplab report <folder>`: history over 50 generated runs (two machine
 * kinds, two runtimes, gate verdicts beside some), capped, ≤ 5 MB, opened
 * offline in Debian's Chromium with no console error. Without
 * /usr/bin/chromium the browser half is skipped (under CI it fails).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { runGate } from '../harness/gate/gate.js';
import { writeResultsFile, type Results } from '../harness/results/results.js';
import { buildHistory, historyRunOf, summariseRun, type HistoryRun } from '../reports/history.js';
import { trialsAround } from './fixtures/gate-results.js';
import { buildCell, buildResults } from './fixtures/results-builder.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const missingBrowser = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (apt-get install chromium); the browser test needs it`;
if (missingBrowser && process.env.CI) throw new Error(`${missingBrowser}, and CI must run it`);
const SITE_LIMIT_BYTES = 5 * 1024 * 1024;
const RUNS = 50;
const scratch = mkdtempSync(join(tmpdir(), 'maplab-history-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const MAPS = ['js-map', 'plain', 'rwmutex', 'sharded', 'readdirty'];
const WORKLOADS = ['read-heavy', 'write-heavy', 'mixed'];
const MACHINES = [
  { cpuModel: 'AMD EPYC 7B13', cores: 2 },
  { cpuModel: 'Intel(R) Xeon(R) Processor @ 2.10GHz', cores: 4 },
];
const RUNTIMES = ['v20.20.2', 'v22.12.0'];

/** Run `index` of the history: a quick-preset-sized sweep (75 cells, 5 trials); rwmutex 40% slower from run 40 on. */
function generatedRun(index: number): Results {
  const machine = MACHINES[index % 2];
  const cells = MAPS.flatMap((map) =>
    WORKLOADS.flatMap((workload) =>
      [1, 2, 4].flatMap((threads) =>
        (workload === 'read-heavy' ? [0.5, 0.75, 0.9] : [0.75]).map((loadFactor) => {
          const drift = 1 + 0.03 * Math.sin(index / 3);
          const slowdown = map === 'rwmutex' && index >= 40 ? 0.6 : 1;
          const opsPerSec =
            ((map === 'js-map' ? 9e6 : 3e6) * Math.min(threads, machine.cores) * drift * slowdown) /
            (workload === 'read-heavy' ? 1 : 2);
          const cell = buildCell({
            map,
            workload,
            threads,
            loadFactor,
            opsPerSec,
            cores: machine.cores,
            private: map === 'js-map',
            samples: 3000,
            seed: index * 1000 + threads,
          });
          cell.trials = trialsAround(opsPerSec, 0.02, 5).map((rate) => ({
            ops: Math.round(rate * 0.3),
            elapsedNs: 3e8,
            opsPerSec: rate,
          }));
          return cell;
        }),
      ),
    ),
  );
  const startedAt = new Date(Date.UTC(2026, 10, 1) + index * 6 * 3600_000).toISOString();
  return buildResults(cells, {
    env: {
      node: RUNTIMES[Math.floor(index / 2) % 2],
      v8: '12',
      os: 'linux',
      ...machine,
      memoryBytes: 2 ** 33,
      commit: `${(index * 7919).toString(16).padStart(7, '0')}0123456789abcdef`,
    },
    sweep: { startedAt, wallMs: 60_000 },
  });
}

test(
  `a ${RUNS}-run history site stays ≤ 5 MB, keeps the newest runs in full, and opens offline with no console error`,
  { timeout: 120_000 },
  async (context) => {
    const input = join(scratch, 'results');
    mkdirSync(join(input, 'older'), { recursive: true });
    const runs = Array.from({ length: RUNS }, (_, index) => generatedRun(index));
    for (const [index, results] of runs.entries()) {
      const path = join(input, index < 10 ? 'older' : '', `run-${String(index).padStart(2, '0')}.json`);
      writeResultsFile(path, results);
      if (index >= 38 && index % 2 === 0) {
        // The gate of each of the last runs on machine 0 against the run before it on the same machine kind and runtime.
        const baseline = runs[index - 4];
        const report = await runGate(baseline, results, {
          alpha: 0.05,
          thresholdPct: 18,
          metric: 'ops',
          test: 'mann-whitney',
          effectQuantile: 0.5,
          normalize: false,
          calibrationTolerancePct: 10,
          confirm: false,
          maxThreads: 2,
          baselineSource: 'base',
          currentSource: 'head',
        });
        writeFileSync(path.replace(/\.json$/, '.gate.json'), JSON.stringify(report));
      }
    }
    const site = join(scratch, 'site');
    const result = spawnSync(process.execPath, [CLI, 'report', input, '--out', site], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);

    const siteBytes = readdirSync(site, { recursive: true })
      .map((name) => join(site, String(name)))
      .filter((path) => statSync(path).isFile())
      .reduce((sum, path) => sum + statSync(path).size, 0);
    context.diagnostic(`${RUNS} runs → site ${(siteBytes / 1e6).toFixed(2)} MB`);
    assert.ok(siteBytes <= SITE_LIMIT_BYTES, `site is ${siteBytes} bytes`);
    const history = JSON.parse(readFileSync(join(site, 'history.json'), 'utf8')) as { runs: HistoryRun[] };
    assert.equal(history.runs.length, RUNS);
    assert.deepEqual(
      history.runs.map((run) => run.full),
      Array.from({ length: RUNS }, (_, index) => index >= RUNS - 20),
      'the newest 20 in full',
    );
    assert.equal(
      history.runs[0].points.length,
      MAPS.length * WORKLOADS.length,
      'a summarised run keeps one point per map × workload',
    );
    assert.equal(history.runs.at(-1)?.points.length, 75);
    const gated = history.runs.filter((run) => run.gate !== null);
    assert.equal(gated.length, 6);
    assert.ok(
      gated.some(
        (run) =>
          run.gate?.verdict === 'regression' && run.gate.regressions.some((label) => label.startsWith('rwmutex/')),
      ),
      'the slower rwmutex is a gate regression in the history',
    );

    if (missingBrowser) {
      context.skip(missingBrowser);
      return;
    }
    const pageUrl = pathToFileURL(join(site, 'index.html')).href;
    const browser = await chromium.launchPersistentContext(join(scratch, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const consoleErrors: string[] = [];
      const foreignRequests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
      browser.on('request', (request) => {
        const url = request.url();
        if (url !== pageUrl && !url.startsWith('data:') && !url.startsWith('blob:')) foreignRequests.push(url);
      });
      await page.goto(pageUrl, { waitUntil: 'load' });
      await page.waitForFunction(
        "[...document.querySelectorAll('.chart')].every((chart) => chart.getAttribute('data-rendered'))",
        null,
        { timeout: 60_000 },
      );
      const charts = (await page.evaluate(`[...document.querySelectorAll('.chart')].map((element) => ({
      id: element.id, rendered: element.getAttribute('data-rendered'), marks: element.querySelectorAll('svg .role-mark > *').length,
    }))`)) as Array<{ id: string; rendered: string | null; marks: number }>;
      assert.deepEqual(
        charts.map((chart) => chart.id),
        ['chart-trend-throughput', 'chart-trend-p99'],
      );
      for (const chart of charts)
        assert.ok(chart.rendered === 'true' && chart.marks > 0, `${chart.id}: ${chart.rendered}, ${chart.marks} marks`);
      // The other machine kind redraws.
      await page.locator('#chart-trend-throughput select').first().selectOption({ index: 1 });
      await page.waitForFunction("document.querySelectorAll('#chart-trend-throughput svg .role-mark > *').length > 0");
      assert.deepEqual(consoleErrors, []);
      assert.deepEqual(foreignRequests, [], 'the page loads nothing');
      if (process.env.MAPLAB_HISTORY_SCREENSHOT)
        await page.screenshot({ path: process.env.MAPLAB_HISTORY_SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  },
);

test('report <folder> refuses a folder without results and a verdict file that is not one (exit 2, naming it)', () => {
  const empty = join(scratch, 'empty');
  mkdirSync(empty);
  const site = join(scratch, 'refused-site');
  const none = spawnSync(process.execPath, [CLI, 'report', empty, '--out', site], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no results files \(\*\.json\) in the folder/);
  const folder = join(scratch, 'bad-verdict');
  mkdirSync(folder);
  writeResultsFile(join(folder, 'run.json'), generatedRun(0));
  writeFileSync(join(folder, 'run.gate.json'), '{"verdict": "pass"}');
  const bad = spawnSync(process.execPath, [CLI, 'report', folder, '--out', site], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /run\.gate\.json is not a maplab gate verdict/);
  assert.equal(existsSync(site), false, 'nothing written');
});

test('history keeps one record per run (a full one over a summary) and summarises all but the newest n', () => {
  const [a, b, c] = [0, 1, 2].map((index) => historyRunOf(generatedRun(index), `run-${index}`, null));
  const history = buildHistory([c, summariseRun(b), a, b], 1);
  assert.deepEqual(
    history.runs.map((run) => [run.runId, run.full]),
    [
      ['run-0', false],
      ['run-1', false],
      ['run-2', true],
    ],
  );
  assert.ok(
    history.runs[1].points.every((point) => point[2] === 4 && point[3] === 0.75),
    'headline: most threads within the 4 cores, load factor 0.75',
  );
});
