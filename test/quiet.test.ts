/**
 * Measuring through a machine's slow spells: slice rates and the quiet rate
 * (harness/trial/loop.ts), calibration rounds spread over a run, and the compare /
 * gate options that use them (--metric quiet, --effect-quantile).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addCalibrationRound, CALIBRATION_QUANTILE, measureCalibration } from '../harness/run/calibration.js';
import { quantile } from 'simple-statistics';
import { mergeBaselines } from '../harness/gate/baseline.js';
import { bootstrapQuantileRatio } from '../harness/gate/bootstrap.js';
import { compareResults } from '../harness/gate/compare.js';
import { runGate, type GateOptions } from '../harness/gate/gate.js';
import { MIN_QUIET_SLICES, QUIET_QUANTILE, quietRate, SliceRecorder } from '../harness/trial/loop.js';
import { buildResults, gridSpec, trialsAround } from './fixtures/gate-results.js';
import { measured } from './fixtures/measured.js';

test('a slice recorder records ops per slice as ops/s and drops slices past its capacity', () => {
  const recorder = new SliceRecorder(3, 10);
  recorder.start(0, 100);
  assert.equal(recorder.endMs, 110);
  recorder.close(1000, 110); // 1000 ops in 10 ms
  recorder.close(1500, 120); // 500 ops in 10 ms
  recorder.close(3500, 130);
  recorder.close(9999, 140);
  assert.equal(recorder.count, 3);
  assert.deepEqual(Array.from(recorder.rates), [100_000, 50_000, 200_000]);
  assert.equal(recorder.endMs, Infinity, 'a full recorder asks the loop for no more slices');
});

test('a recorder of capacity 0 (warm-up) never asks to close a slice', () => {
  const recorder = new SliceRecorder(0, 10);
  recorder.start(0, 5);
  assert.equal(recorder.endMs, Infinity);
  assert.equal(quietRate(recorder), null);
});

test('the quiet rate is the p90 of the slice rates, so a slow spell in a minority of slices does not lower it', () => {
  const recorder = new SliceRecorder(40, 10);
  recorder.start(0, 0);
  let index = 0;
  for (let slice = 1; slice <= 30; slice++) {
    index += slice % 3 === 0 ? 600 : 1000; // every third slice in a spell at 0.6×
    recorder.close(index, slice * 10);
  }
  assert.equal(QUIET_QUANTILE, 0.9);
  assert.equal(quietRate(recorder), 100_000);
  const mean = (index / 300) * 1000;
  assert.ok(mean < 90_000, `the window's mean rate (${mean}) is what the spell lowered`);
});

test('a window with fewer slices than MIN_QUIET_SLICES has no quiet rate', () => {
  const recorder = new SliceRecorder(10, 10);
  recorder.start(0, 0);
  for (let slice = 1; slice < MIN_QUIET_SLICES; slice++) recorder.close(slice * 1000, slice * 10);
  assert.equal(quietRate(recorder), null);
  recorder.close(MIN_QUIET_SLICES * 1000, MIN_QUIET_SLICES * 10);
  assert.equal(quietRate(recorder), 100_000);
});

test('calibration rounds accumulate over a run and the figure is their upper quantile', () => {
  const first = measureCalibration();
  assert.equal(first.rounds, 7);
  assert.equal(first.roundRates?.length, 7);
  const spread = addCalibrationRound(addCalibrationRound(first));
  assert.equal(spread.rounds, 9);
  assert.deepEqual(spread.roundRates?.slice(0, 7), first.roundRates);
  assert.equal(spread.opsPerSec, Math.round(quantile(spread.roundRates ?? [], CALIBRATION_QUANTILE)));
});

test('a calibration from an older file (one figure, no rounds) keeps that figure as a round', () => {
  const next = addCalibrationRound({ opsPerSec: 123, version: 1, rounds: 7, opsPerRound: 4_000_000 });
  assert.equal(next.rounds, 2);
  assert.equal(next.roundRates?.[0], 123);
});

const quietSlowBy30 = {
  base: buildResults({ cells: [{ trials: trialsAround(1e6), quietTrials: trialsAround(1.2e6) }] }),
  head: buildResults({ cells: [{ trials: trialsAround(1e6), quietTrials: trialsAround(0.84e6) }] }),
};

test("compare --metric quiet compares the trials' quiet figures; the default compares their mean ops/s", () => {
  const sources = { alpha: 0.05, normalize: false, baseSource: 'base', headSource: 'head' };
  const byOps = compareResults(quietSlowBy30.base, quietSlowBy30.head, sources);
  assert.equal(byOps.cells[0].opsPerSec.field, 'opsPerSec');
  assert.equal(byOps.cells[0].opsPerSec.verdict, '~');
  const byQuiet = compareResults(quietSlowBy30.base, quietSlowBy30.head, { ...sources, metric: 'quiet' });
  assert.equal(byQuiet.cells[0].opsPerSec.field, 'quietOpsPerSec');
  assert.ok(Math.abs(byQuiet.cells[0].opsPerSec.deltaPct + 30) < 1e-9, `delta ${byQuiet.cells[0].opsPerSec.deltaPct}`);
  assert.equal(byQuiet.cells[0].opsPerSec.verdict, '-30.0%');
  assert.ok(Math.abs(byQuiet.cells[0].opsPerSec.base.median - 1.2e6) < 1e-6);
});

test('compare --metric quiet falls back to mean ops/s for a cell whose trials on either side lack the quiet figure', () => {
  const head = buildResults({ cells: [{ trials: trialsAround(0.7e6) }] });
  const comparison = compareResults(quietSlowBy30.base, head, {
    alpha: 0.05,
    normalize: false,
    metric: 'quiet',
    baseSource: 'b',
    headSource: 'h',
  });
  assert.equal(comparison.cells[0].opsPerSec.field, 'opsPerSec');
  assert.equal(comparison.cells[0].opsPerSec.verdict, '-30.0%');
});

test('an effect quantile outside [0.5, 1] is refused', () => {
  assert.throws(
    () =>
      compareResults(quietSlowBy30.base, quietSlowBy30.head, {
        alpha: 0.05,
        normalize: false,
        effectQuantile: 0.25,
        baseSource: 'b',
        headSource: 'h',
      }),
    /effectQuantile must be a number in \[0\.5, 1\], got 0\.25/,
  );
});

const gateOptions: GateOptions = {
  alpha: 0.05,
  thresholdPct: 15,
  normalize: true,
  confirm: false,
  calibrationTolerancePct: 25,
  baselineSource: 'base',
  currentSource: 'head',
};
const spellBaseline = buildResults({
  cells: gridSpec(['rwmutex'], ['read-heavy']).map((cell) => ({ ...cell, trials: trialsAround(1e6, 0.02, 15) })),
});
/** Three of five trials caught in a slow spell (0.6×); the other two at full speed. */
const spellHead = buildResults({ cells: [{ trials: [0.6e6, 0.61e6, 0.62e6, 0.985e6, 0.99e6] }] });

test('three of five trials in a slow spell pass the default gate (p75 of the trials) but fail a median gate', async () => {
  const byDefault = await runGate(spellBaseline, spellHead, gateOptions);
  assert.equal(byDefault.verdict, 'pass');
  assert.equal(byDefault.comparison.effectQuantile, 0.75);
  const byMedian = await runGate(spellBaseline, spellHead, { ...gateOptions, effectQuantile: 0.5 });
  assert.equal(byMedian.verdict, 'regression');
  assert.deepEqual(
    byMedian.regressions.map((finding) => finding.label),
    ['rwmutex/read-heavy/t=1/lf=0.75'],
  );
});

test('every trial 30% slower fails the default gate', async () => {
  const slower = buildResults({ cells: [{ trials: trialsAround(0.7e6) }] });
  const report = await runGate(spellBaseline, slower, gateOptions);
  assert.equal(report.verdict, 'regression');
  assert.ok(Math.abs((report.regressions[0].deltaPct ?? 0) + 30) < 1, `delta ${report.regressions[0].deltaPct}`);
});

test('the gate compares quiet figures by default when both sides have them', async () => {
  const report = await runGate(quietSlowBy30.base, quietSlowBy30.head, gateOptions);
  assert.equal(report.comparison.metric, 'quiet');
  assert.equal(report.comparison.cells[0].opsPerSec.field, 'quietOpsPerSec');
  assert.equal(report.verdict, 'regression');
});

test("pooling baseline runs scales each run's quiet figures by its calibration, like its ops/s", () => {
  const fast = buildResults({
    calibrationOpsPerSec: 200e6,
    cells: [{ trials: [2e6, 2e6, 2e6], quietTrials: [2.2e6, 2.2e6, 2.2e6] }],
  });
  const slow = buildResults({
    calibrationOpsPerSec: 100e6,
    cells: [{ trials: [1e6, 1e6, 1e6], quietTrials: [1.1e6, 1.1e6, 1.1e6] }],
  });
  const third = buildResults({
    calibrationOpsPerSec: 100e6,
    cells: [{ trials: [1e6, 1e6, 1e6], quietTrials: [1.1e6, 1.1e6, 1.1e6] }],
  });
  const merged = mergeBaselines([
    { results: fast, source: 'a' },
    { results: slow, source: 'b' },
    { results: third, source: 'c' },
  ]);
  const cell = measured(merged.results.cells[0]);
  const quiet = cell.trials.map((trial) => (trial as { quietOpsPerSec?: number }).quietOpsPerSec);
  assert.deepEqual(
    quiet.map((value) => Math.round(value ?? 0)),
    Array(9).fill(1.1e6),
  );
  assert.equal(Math.round((cell.quietOpsPerSec as { median: number }).median), 1.1e6);
});

test('the bootstrap of a quantile ratio is seeded: the same samples always give the same p', () => {
  const head = [0.7, 0.72, 0.69, 0.71, 0.7];
  const base = trialsAround(1, 0.02, 15);
  const first = bootstrapQuantileRatio(head, base, 0.75);
  assert.deepEqual(bootstrapQuantileRatio(head, base, 0.75), first);
  assert.ok(first.p < 0.001, `p ${first.p}`);
  assert.ok(Math.abs(first.ratio - 0.71 / quantile(base, 0.75)) < 1e-12);
});

test('the bootstrap p is two-sided: identical samples give p = 1, and faster is as significant as slower', () => {
  const base = trialsAround(1, 0.02, 15);
  assert.equal(bootstrapQuantileRatio(base, base, 0.75).p, 1);
  const slower = bootstrapQuantileRatio(trialsAround(0.7, 0.02, 5), base, 0.75);
  const faster = bootstrapQuantileRatio(trialsAround(1.4, 0.02, 5), base, 0.75);
  assert.ok(slower.p < 0.001 && faster.p < 0.001, `${slower.p} ${faster.p}`);
});

/** A baseline whose trials are a mixture: nine at full speed, six caught in slow spells at about half speed. */
const spelledBaseline = buildResults({
  cells: [{ trials: [...trialsAround(16e6, 0.03, 9), ...trialsAround(8.5e6, 0.05, 6)] }],
});
const slowerEverywhere = buildResults({ cells: [{ trials: trialsAround(11.4e6, 0.03, 5) }] });

test('against a baseline with slow-spell trials, a head 29% slower in every trial is not significant by Mann–Whitney but is by the bootstrap', async () => {
  const byRanks = await runGate(spelledBaseline, slowerEverywhere, { ...gateOptions, test: 'mann-whitney' });
  assert.equal(byRanks.verdict, 'pass');
  assert.ok(
    byRanks.comparison.cells[0].opsPerSec.p >= 0.05,
    `Mann–Whitney p ${byRanks.comparison.cells[0].opsPerSec.p}`,
  );
  const byBootstrap = await runGate(spelledBaseline, slowerEverywhere, gateOptions);
  assert.equal(byBootstrap.comparison.test, 'bootstrap');
  assert.equal(byBootstrap.verdict, 'regression');
  assert.ok((byBootstrap.regressions[0].deltaPct ?? 0) < -25);
});

test('against the same baseline, an unchanged head with two of five trials in a spell passes the default gate', async () => {
  const unchanged = buildResults({ cells: [{ trials: [8.4e6, 8.7e6, 15.8e6, 16.1e6, 16.3e6] }] });
  const report = await runGate(spelledBaseline, unchanged, gateOptions);
  assert.equal(report.verdict, 'pass');
  assert.deepEqual(report.findings, []);
});
