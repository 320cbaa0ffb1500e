import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareResults, formatDeltaPct, type CompareOptions } from '../harness/gate/compare.js';
import { isMeasuredCell, ResultsFormatError, parseResults } from '../harness/results/results.js';
import { renderComparisonMarkdown } from '../reports/compare-markdown.js';
import { renderComparisonText } from '../reports/compare-text.js';
import { buildResults, gridSpec, trialsAround } from './fixtures/gate-results.js';

const options: CompareOptions = { alpha: 0.05, normalize: false, baseSource: 'base.json', headSource: 'head.json' };

test('the builder makes results files that pass the results reader', () => {
  const results = buildResults({
    cells: [...gridSpec(['rwmutex'], ['read-heavy']), { map: 'plain', error: 'concurrent map writes' }],
  });
  assert.doesNotThrow(() => parseResults(JSON.parse(JSON.stringify(results)), 'built'));
});

test('identical files: every verdict is "~", p = 1 and the geometric mean ratio is 1', () => {
  const results = buildResults({ cells: gridSpec(['rwmutex', 'sharded'], ['read-heavy', 'write-heavy']) });
  const comparison = compareResults(results, results, options);
  assert.equal(comparison.cells.length, 4);
  for (const cell of comparison.cells) {
    assert.equal(cell.opsPerSec.verdict, '~');
    assert.equal(cell.opsPerSec.p, 1);
    assert.equal(cell.p99Ns?.verdict, '~');
  }
  assert.equal(comparison.summary.opsPerSecGeomeanRatio, 1);
  assert.deepEqual(comparison.summary.opsPerSec, { better: 0, worse: 0, unchanged: 4 });
});

test('a cell 30% slower with tight trials gets p = 2/252 and the signed delta as its verdict; the others stay "~"', () => {
  const base = buildResults({ cells: gridSpec(['rwmutex'], ['read-heavy', 'write-heavy']) });
  const head = buildResults({
    cells: [
      { map: 'rwmutex', workload: 'read-heavy', trials: trialsAround(700_000) },
      { map: 'rwmutex', workload: 'write-heavy', trials: trialsAround(1_000_000) },
    ],
  });
  const comparison = compareResults(base, head, options);
  const slow = comparison.cells.find((cell) => cell.label === 'rwmutex/read-heavy/t=1/lf=0.75');
  assert.ok(slow);
  assert.equal(slow.opsPerSec.verdict, '-30.0%');
  assert.ok(Math.abs(slow.opsPerSec.p - 2 / 252) < 1e-12);
  assert.equal(slow.opsPerSec.test, 'exact');
  assert.deepEqual(comparison.summary.opsPerSec, { better: 0, worse: 1, unchanged: 1 });
  assert.ok(Math.abs((comparison.summary.opsPerSecGeomeanRatio ?? 0) - Math.sqrt(0.7)) < 1e-12);
});

test('overlapping trials give "~" even when the medians differ', () => {
  const base = buildResults({ cells: [{ trials: [90, 100, 110, 120, 130] }] });
  const head = buildResults({ cells: [{ trials: [85, 95, 105, 115, 125] }] });
  const [cell] = compareResults(base, head, options).cells;
  assert.ok(cell.opsPerSec.p >= 0.05);
  assert.equal(cell.opsPerSec.verdict, '~');
  assert.ok(cell.opsPerSec.deltaPct < 0);
});

test('normalisation: a machine 30% slower on every cell and on calibration compares as unchanged', () => {
  const base = buildResults({
    calibrationOpsPerSec: 100e6,
    cells: gridSpec(['rwmutex'], ['read-heavy', 'write-heavy']),
  });
  const head = buildResults({
    calibrationOpsPerSec: 70e6,
    cells: gridSpec(['rwmutex'], ['read-heavy', 'write-heavy'], 700_000),
  });
  const raw = compareResults(base, head, options);
  assert.ok(raw.cells.every((cell) => cell.opsPerSec.verdict === '-30.0%'));
  assert.ok(raw.warnings.some((warning) => /machines differ/.test(warning)));
  const normalized = compareResults(base, head, { ...options, normalize: true });
  assert.ok(Math.abs(normalized.calibrationScale - 100 / 70) < 1e-12);
  for (const cell of normalized.cells) {
    assert.equal(cell.opsPerSec.verdict, '~');
    assert.ok(Math.abs(cell.opsPerSec.ratio - 1) < 1e-9);
    assert.ok(Math.abs((cell.p99Ns?.ratio ?? 0) - 0.7) < 1e-9, 'latency scales the other way');
  }
});

test('cells on one side only are listed, and failed cells are listed with their errors, never dropped', () => {
  const base = buildResults({
    cells: [
      { map: 'rwmutex' },
      { map: 'sharded' },
      { map: 'plain', threads: 2, error: 'concurrent map writes' },
      { map: 'readdirty' },
    ],
  });
  const head = buildResults({
    cells: [
      { map: 'rwmutex' },
      { map: 'js-map', private: true },
      { map: 'plain', threads: 2, error: 'concurrent map writes' },
      { map: 'readdirty', error: 'RangeError: boom' },
    ],
  });
  const comparison = compareResults(base, head, options);
  assert.deepEqual(
    comparison.cells.map((cell) => cell.label),
    ['rwmutex/read-heavy/t=1/lf=0.75'],
  );
  assert.deepEqual(
    comparison.onlyInBase.map((cell) => cell.label),
    ['sharded/read-heavy/t=1/lf=0.75'],
  );
  assert.deepEqual(
    comparison.onlyInHead.map((cell) => cell.label),
    ['js-map/read-heavy/t=1/lf=0.75'],
  );
  assert.deepEqual(comparison.failed, [
    {
      key: { map: 'plain', workload: 'read-heavy', threads: 2, loadFactor: 0.75 },
      label: 'plain/read-heavy/t=2/lf=0.75',
      baseError: 'concurrent map writes',
      headError: 'concurrent map writes',
    },
    {
      key: { map: 'readdirty', workload: 'read-heavy', threads: 1, loadFactor: 0.75 },
      label: 'readdirty/read-heavy/t=1/lf=0.75',
      baseError: null,
      headError: 'RangeError: boom',
    },
  ]);
  const text = renderComparisonText(comparison);
  assert.match(text, /only in base: sharded\/read-heavy\/t=1\/lf=0\.75/);
  assert.match(text, /only in head: js-map\/read-heavy\/t=1\/lf=0\.75/);
  assert.match(text, /failed: readdirty\/read-heavy\/t=1\/lf=0\.75: base ok, head failed \(RangeError: boom\)/);
});

test('open-loop cells match on rate as well', () => {
  const base = buildResults({ cells: [{ rate: 1000 }, { rate: 2000 }] });
  const head = buildResults({ cells: [{ rate: 2000 }, { rate: 4000 }] });
  const comparison = compareResults(base, head, options);
  assert.deepEqual(
    comparison.cells.map((cell) => cell.label),
    ['rwmutex/read-heavy/t=1/lf=0.75/rate=2000'],
  );
  assert.deepEqual(
    comparison.onlyInBase.map((cell) => cell.label),
    ['rwmutex/read-heavy/t=1/lf=0.75/rate=1000'],
  );
});

test('a map alias compares a differently named head map with the baseline map', () => {
  const base = buildResults({ cells: [{ map: 'rwmutex' }] });
  const head = buildResults({ cells: [{ map: 'slowed-rwmutex', trials: trialsAround(700_000) }] });
  const comparison = compareResults(base, head, { ...options, mapAliases: { 'slowed-rwmutex': 'rwmutex' } });
  assert.equal(comparison.cells.length, 1);
  assert.equal(comparison.cells[0].headMap, 'slowed-rwmutex');
  assert.equal(comparison.cells[0].opsPerSec.verdict, '-30.0%');
  assert.match(renderComparisonText(comparison), /rwmutex\/read-heavy\/t=1\/lf=0\.75 \(head: slowed-rwmutex\)/);
});

test('a results file that repeats a cell is rejected, naming the file and both positions', () => {
  const base = buildResults({ cells: [{ map: 'rwmutex' }, { map: 'rwmutex' }] });
  assert.throws(
    () => compareResults(base, base, options),
    (error: Error) =>
      error instanceof ResultsFormatError &&
      /^base\.json: cells\[1\] repeats cell rwmutex\/read-heavy\/t=1\/lf=0\.75 \(first at cells\[0\]\)/.test(
        error.message,
      ),
  );
});

test('many comparisons warn that false positives are likely: expected = cells × alpha', () => {
  const results = buildResults({ cells: gridSpec(['a', 'b', 'c', 'd', 'e'], ['w1', 'w2']) });
  const comparison = compareResults(results, results, options);
  assert.equal(comparison.summary.expectedFalsePositives, 10 * 0.05);
  assert.ok(Math.abs(comparison.summary.falsePositiveChance - (1 - 0.95 ** 10)) < 1e-12);
  assert.ok(comparison.warnings.some((warning) => /10 comparisons at alpha 0\.05: about 0\.5 cells/.test(warning)));
  const few = compareResults(
    buildResults({ cells: gridSpec(['a'], ['w1']) }),
    buildResults({ cells: gridSpec(['a'], ['w1']) }),
    options,
  );
  assert.ok(!few.warnings.some((warning) => /comparisons at alpha/.test(warning)));
});

test('cells with too few trials to ever be significant are called out', () => {
  const results = buildResults({ cells: [{ trials: trialsAround(1e6, 0.02, 3) }] });
  const comparison = compareResults(results, results, options);
  assert.ok(Math.abs(comparison.cells[0].opsPerSec.minimumP - 0.1) < 1e-12);
  assert.ok(
    comparison.warnings.some((warning) =>
      /too few trials to ever reach p < 0\.05 \(e\.g\. 3 vs 3 trials: smallest possible p = 0\.100\)/.test(warning),
    ),
  );
});

test('p99: disjoint histogram confidence intervals give a signed verdict; overlapping ones give "~"', () => {
  const base = buildResults({
    cells: [
      { map: 'a', p99Ns: 1000 },
      { map: 'b', p99Ns: 1000 },
    ],
  });
  const head = buildResults({
    cells: [
      { map: 'a', p99Ns: 3000 },
      { map: 'b', p99Ns: 1100 },
    ],
  });
  const [far, near] = compareResults(base, head, options).cells;
  assert.equal(far.p99Ns?.verdict, '+200.0%');
  assert.ok(far.p99Ns && far.p99Ns.base.ciLow <= 1000 && far.p99Ns.base.ciHigh >= 1000);
  assert.equal(near.p99Ns?.verdict, '~');
  assert.ok(Math.abs((near.p99Ns?.deltaPct ?? 0) - 10) < 1e-9);
});

test('text, markdown and JSON outputs carry the cells, the verdicts and the geometric-mean row', () => {
  const base = buildResults({ cells: gridSpec(['rwmutex'], ['read-heavy', 'write-heavy']) });
  const head = buildResults({
    cells: [
      { map: 'rwmutex', workload: 'read-heavy', trials: trialsAround(700_000) },
      { map: 'rwmutex', workload: 'write-heavy', trials: trialsAround(1_000_000) },
    ],
  });
  const comparison = compareResults(base, head, options);
  const text = renderComparisonText(comparison);
  assert.match(
    text,
    /rwmutex\/read-heavy\/t=1\/lf=0\.75 +1\.00M \[980k–1\.02M\] +700k \[686k–714k\] +-30\.0% +0\.008 +-30\.0%/,
  );
  assert.match(text, /geomean of 2 cells +-16\.3% +0 faster, 1 slower, 1 ~/);
  const markdown = renderComparisonMarkdown(comparison);
  assert.match(markdown, /^## maplab compare/);
  assert.match(markdown, /\| cell \| base ops\/s \[95% CI\] \|/);
  assert.match(markdown, /\| \*\*geomean of 2 cells\*\* \|/);
  const json = JSON.parse(JSON.stringify(comparison)) as typeof comparison;
  assert.equal(json.schema, 'maplab.compare/1');
  assert.equal(json.cells[0].opsPerSec.verdict, '-30.0%');
});

test('deltas format with a sign and one decimal', () => {
  assert.equal(formatDeltaPct(12.345), '+12.3%');
  assert.equal(formatDeltaPct(-8.06), '-8.1%');
  assert.equal(formatDeltaPct(0.01), '±0.0%');
});

test("metric sentinel divides each trial's quiet rate by its sentinel reading: a machine 25% slower throughout is no regression", () => {
  const withSentinel = (results: ReturnType<typeof buildResults>, level: number): ReturnType<typeof buildResults> => {
    for (const cell of results.cells.filter(isMeasuredCell)) {
      cell.trials = cell.trials.map((trial) => ({ ...trial, sentinelOpsPerSec: 30e6 * level }));
    }
    return results;
  };
  const quiet = trialsAround(1_000_000);
  const base = withSentinel(buildResults({ cells: [{ trials: quiet, quietTrials: quiet }] }), 1);
  const slowQuiet = quiet.map((rate) => rate * 0.75);
  const head = withSentinel(buildResults({ cells: [{ trials: slowQuiet, quietTrials: slowQuiet }] }), 0.75);
  const [byQuiet] = compareResults(base, head, { ...options, metric: 'quiet' }).cells;
  assert.equal(byQuiet.opsPerSec.verdict, '-25.0%');
  const [bySentinel] = compareResults(base, head, { ...options, metric: 'sentinel' }).cells;
  assert.equal(bySentinel.opsPerSec.field, 'quietOpsPerSec/sentinel');
  assert.ok(Math.abs(bySentinel.opsPerSec.ratio - 1) < 1e-12);
  assert.equal(bySentinel.opsPerSec.verdict, '~');
  assert.ok(Math.abs(bySentinel.opsPerSec.base.median - 1_000_000) < 1e-6, "shown at the base cell's sentinel level");
  const noSentinel = buildResults({ cells: [{ trials: slowQuiet, quietTrials: slowQuiet }] });
  const [fallback] = compareResults(base, noSentinel, { ...options, metric: 'sentinel' }).cells;
  assert.equal(
    fallback.opsPerSec.field,
    'quietOpsPerSec',
    'a side without sentinel readings falls back to the quiet rate',
  );
});

test('cells of different runtimes match per runtime and are labelled with it', () => {
  const withRuntime = (results: ReturnType<typeof buildResults>, nodes: string[]): ReturnType<typeof buildResults> => {
    results.cells = results.cells.map((cell, index) => ({ ...cell, runtime: { node: nodes[index], v8: 'x' } }));
    return results;
  };
  const base = withRuntime(
    buildResults({ cells: [{ trials: trialsAround(1_000_000) }, { trials: trialsAround(2_000_000) }] }),
    ['v20.20.2', 'v24.21.0'],
  );
  const head = withRuntime(
    buildResults({ cells: [{ trials: trialsAround(2_000_000) }, { trials: trialsAround(1_000_000) }] }),
    ['v24.21.0', 'v20.20.2'],
  );
  const comparison = compareResults(base, head, options);
  assert.deepEqual(comparison.cells.map((cell) => cell.label).sort(), [
    'rwmutex/read-heavy/t=1/lf=0.75/node=v20.20.2',
    'rwmutex/read-heavy/t=1/lf=0.75/node=v24.21.0',
  ]);
  assert.ok(
    comparison.cells.every((cell) => cell.opsPerSec.verdict === '~'),
    'each runtime against its own baseline: unchanged',
  );
});
