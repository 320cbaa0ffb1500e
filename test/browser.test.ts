/**
 * The HTML report in a real browser: Debian's Chromium driven by
 * playwright-core, the page opened from file:// as a reader would. Without
 * /usr/bin/chromium the test is skipped with the reason, except under CI,
 * where it fails (.ci/run installs Chromium).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { analyzeResults } from '../harness/analysis/index.js';
import { publishRun } from '../reports/index.js';
import { HOSTILE_MAP, HOSTILE_WORKLOAD, realisticResults } from './fixtures/results-builder.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../results/report-screenshot.png', import.meta.url));
const missingBrowser = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (apt-get install chromium); the browser test needs it`;
if (missingBrowser && process.env.CI) throw new Error(`${missingBrowser}, and CI must run it`);

test(
  'the HTML report opened from file:// draws every chart, loads nothing and runs no injected code',
  { skip: missingBrowser, timeout: 90_000 },
  async (context) => {
    const scratch = mkdtempSync(join(tmpdir(), 'maplab-browser-'));
    const results = realisticResults({ hostileNames: true, samples: 400 });
    const run = publishRun(join(scratch, 'site'), { ...results, analysis: analyzeResults(results) });
    const pageUrl = pathToFileURL(join(run.runDirectory, 'index.html')).href;

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
      viewport: { width: 1400, height: 900 },
    });
    try {
      const page = await browser.newPage();
      const consoleErrors: string[] = [];
      const foreignRequests: string[] = [];
      const dialogs: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      browser.on('request', (request) => {
        const url = request.url();
        if (url !== pageUrl && !url.startsWith('data:') && !url.startsWith('blob:')) foreignRequests.push(url);
      });

      await page.goto(pageUrl, { waitUntil: 'load' });
      // Functions that run in the page are given as source text: this project compiles without DOM types.
      await page.waitForFunction(
        "[...document.querySelectorAll('.chart')].every((chart) => chart.getAttribute('data-rendered'))",
        null,
        { timeout: 60_000 },
      );

      const charts = (await page.evaluate(`[...document.querySelectorAll('.chart')].map((element) => ({
      id: element.id,
      rendered: element.getAttribute('data-rendered'),
      svgs: element.querySelectorAll('svg').length,
      marks: element.querySelectorAll('svg .role-mark > *').length,
    }))`)) as Array<{ id: string; rendered: string | null; svgs: number; marks: number }>;
      assert.equal(charts.length, 9, 'every chart of this run has data');
      for (const chart of charts) {
        assert.equal(chart.rendered, 'true', `${chart.id} drawn`);
        assert.ok(chart.svgs >= 1 && chart.marks > 0, `${chart.id}: ${chart.svgs} svg, ${chart.marks} marks`);
      }

      // Choosing another cell redraws the histogram: the hostile workload is an <option> whose text is the name.
      const workloadSelect = page.locator('#chart-histogram select').first();
      const options = await workloadSelect.locator('option').allTextContents();
      assert.ok(options.includes(HOSTILE_WORKLOAD), 'the payload is an option, as text');
      await workloadSelect.selectOption({ label: HOSTILE_WORKLOAD });
      await page.waitForFunction("document.querySelectorAll('#chart-histogram svg .role-mark > *').length > 0");

      const pageState = (await page.evaluate(`({
      images: document.querySelectorAll('img').length,
      scripts: document.querySelectorAll('script').length,
      text: document.body.textContent,
    })`)) as { images: number; scripts: number; text: string };
      assert.equal(pageState.images, 0, 'no injected <img>');
      assert.equal(pageState.scripts, 5, 'no injected <script>');
      assert.ok(
        pageState.text.includes(HOSTILE_MAP) && pageState.text.includes(HOSTILE_WORKLOAD),
        'the names show as text',
      );
      assert.deepEqual(dialogs, [], 'no alert ran');
      assert.deepEqual(consoleErrors, []);
      assert.deepEqual(foreignRequests, []);

      mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      context.diagnostic(`screenshot: ${SCREENSHOT}; page ${(run.htmlBytes / 1e6).toFixed(2)} MB`);
    } finally {
      await browser.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
);
