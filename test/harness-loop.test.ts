import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrialControl } from '../harness/trial/control.js';
import { LatencyHistogram } from '../harness/trial/histogram.js';
import { measureSpinStepMs, recordStall, runOpenLoop, type LoopState } from '../harness/trial/loop.js';
import { getMapFactory } from '../maps/index.js';
import { generateOpStream, getWorkload } from '../workloads/index.js';
import { performance } from 'node:perf_hooks';

/** A read-heavy js-map loop; `spinStepMs` > 0 gives the open loop's wait its clock-free spin. */
function loopState(control: TrialControl, spinStepMs = 0): LoopState {
  const factory = getMapFactory('js-map');
  const map = factory.attach(factory.create({ capacity: 1024, loadFactor: 0.75 }));
  const stream = generateOpStream(getWorkload('read-heavy'), {
    seed: 1,
    workerIndex: 0,
    workerCount: 1,
    length: 1 << 12,
  });
  return { map, stream, controlWords: control.words, sampleEveryOps: 128, index: 0, checksum: 0, rng: 1, spinStepMs };
}

test('open loop behind schedule: every due op is issued or counted as backlog, each recorded once, never early', () => {
  const control = new TrialControl();
  const state = loopState(control);
  const byOp = Array.from({ length: 8 }, () => new LatencyHistogram());
  // Whole ms and a power-of-two interval: the window and every due time are exact in binary, so the count of due
  // ops is 20 × 2^20 with no rounding at the edge (with performance.now() and 1e-6 it was off by one now and then).
  const startMs = Math.floor(performance.now());
  const intervalMs = 2 ** -20; // ~1e9 ops/s: always behind, so ops run in batches between clock reads.
  const outcome = runOpenLoop(state, byOp, control, startMs, intervalMs, startMs + 20, new LatencyHistogram());
  const recorded = byOp.reduce((sum, histogram) => sum + histogram.totalCount, 0);
  assert.equal(recorded, outcome.issued + outcome.backlog);
  assert.equal(outcome.issued + outcome.backlog, 20 * 2 ** 20);
  assert.equal(state.index, outcome.issued);
  assert.ok(byOp.every((histogram) => histogram.totalCount === 0 || histogram.minNs >= 0));
});

/** 2000 ops/s for 10 ms from now (20 ops due): one op per due time, none early; `spin` gives the wait its clock-free spin. */
function assertOnSchedule(spin: boolean): void {
  const control = new TrialControl();
  const state = loopState(control, spin ? measureSpinStepMs(control.words) : 0);
  const byOp = Array.from({ length: 8 }, () => new LatencyHistogram());
  const startMs = Math.floor(performance.now()); // whole ms: due times start + i × 0.5 are exact, so the 20th op is never a rounding away from the end
  const outcome = runOpenLoop(state, byOp, control, startMs, 0.5, startMs + 10, new LatencyHistogram());
  assert.equal(outcome.issued + outcome.backlog, 20);
  assert.ok(byOp.every((histogram) => histogram.totalCount === 0 || histogram.minNs >= 0));
}

test('open loop on schedule: one op per due time, none early', () => {
  assertOnSchedule(false);
});

test('with a clock-free wait spin: one op per due time, none early', () => {
  assertOnSchedule(true);
});

test('the clock-free wait spin polls the abort word: an aborted trial stops waiting instead of issuing its ops', () => {
  const control = new TrialControl();
  const state = loopState(control, measureSpinStepMs(control.words));
  const byOp = Array.from({ length: 8 }, () => new LatencyHistogram());
  control.abort();
  // The first op is due in 30 ms: the loop sleeps, then spins, sees the abort, and leaves. Without the spin's
  // poll (abort is otherwise polled every 256 ops) it would issue all 60 ops of the window.
  const startMs = Math.floor(performance.now()) + 30;
  const outcome = runOpenLoop(state, byOp, control, startMs, 0.5, startMs + 30, new LatencyHistogram());
  assert.ok(outcome.issued < 60, `issued ${outcome.issued} of 60`);
  assert.equal(outcome.backlog, 0, 'an aborted trial reports no backlog');
});

test('a stall in the wait spin records the ops due during it, delays spread evenly up to the stall', () => {
  const stalls = new LatencyHistogram();
  recordStall(stalls, 10_000_000, 1_000); // 10 ms descheduled at one op per µs: 10 000 ops delayed 0..10 ms
  assert.ok(Math.abs(stalls.totalCount - 10_000) < 1e-6);
  assert.ok(Math.abs(stalls.maxNs - 10_000_000) < 1);
  assert.ok(Math.abs(stalls.valueAtQuantile(0.5) - 5_000_000) / 5_000_000 < 0.1);
  const short = new LatencyHistogram();
  recordStall(short, 500, 1_000); // shorter than one op interval: nothing was due
  assert.equal(short.totalCount, 0);
});
