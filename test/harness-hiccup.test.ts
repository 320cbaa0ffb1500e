import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monotonicNs } from '../harness/trial/clock.js';
import { TrialControl } from '../harness/trial/control.js';
import { HiccupMeter, hiccupP99Ns, recordHiccup, summarizeHiccups } from '../harness/trial/hiccup.js';
import { LatencyHistogram } from '../harness/trial/histogram.js';

test('a stall is recorded with the wakes it swallowed, like coordinated-omission-corrected ops', () => {
  const histogram = new LatencyHistogram();
  recordHiccup(histogram, 3_500_000, 1_000_000); // woke 3.5 ms late at a 1 ms interval
  assert.equal(histogram.totalCount, 4);
  assert.ok(Math.abs(histogram.maxNs - 3_500_000) < 1);
  assert.ok(Math.abs(histogram.minNs - 500_000) < 1);
  const onTime = new LatencyHistogram();
  recordHiccup(onTime, -2_000, 1_000_000); // early wake counts as 0 late
  assert.equal(onTime.totalCount, 1);
  assert.equal(onTime.maxNs, 0);
});

test('the meter waits for the trial release, measures its window, and reports wakes and its own awake share', async () => {
  const meter = new HiccupMeter(1);
  try {
    await meter.ready();
    const control = new TrialControl();
    const measuring = meter.measure(control.buffer, 20, 60);
    control.arriveAndWait(1, monotonicNs); // one "worker" releases the trial
    const report = await measuring;
    assert.equal(report.aborted, false);
    assert.ok(report.wakes > 0, `wakes ${report.wakes}`);
    assert.ok(report.awakeFraction >= 0 && report.awakeFraction < 1, `awake ${report.awakeFraction}`);
    const histogram = LatencyHistogram.fromData(report.histogram);
    assert.ok(histogram.totalCount >= report.wakes);
    assert.equal(hiccupP99Ns(report), histogram.valueAtQuantile(0.99));
    // The same thread serves the next trial.
    const next = new TrialControl();
    const again = meter.measure(next.buffer, 0, 20);
    next.arriveAndWait(1, monotonicNs);
    assert.ok((await again).wakes > 0);
  } finally {
    await meter.close();
  }
});

test('a trial aborted before its release ends the measurement with no figure', async () => {
  const meter = new HiccupMeter(1);
  try {
    const control = new TrialControl();
    const measuring = meter.measure(control.buffer, 0, 10_000);
    control.abort();
    const report = await measuring;
    assert.equal(report.aborted, true);
    assert.equal(report.wakes, 0);
    assert.equal(summarizeHiccups([report], 1), null);
  } finally {
    await meter.close();
  }
});

test("a cell's hiccups merge its trials and keep the median awake share", () => {
  const reportOf = (lateNs: number[], awakeFraction: number) => {
    const histogram = new LatencyHistogram();
    for (const value of lateNs) recordHiccup(histogram, value, 1e6);
    return { histogram: histogram.toData(), wakes: lateNs.length, awakeFraction, aborted: false };
  };
  const summary = summarizeHiccups([reportOf([1e3, 2e3], 0.01), reportOf([5e3], 0.03), reportOf([1e3], 0.02)], 1);
  assert.ok(summary !== null);
  assert.equal(summary.samples, 4);
  assert.equal(summary.awakeFraction, 0.02);
  assert.equal(summary.intervalMs, 1);
  assert.throws(() => new HiccupMeter(0), /hiccup intervalMs must be a number in \(0, 100\], got 0/);
});
