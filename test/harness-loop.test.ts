import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrialControl } from '../harness/trial/control.js';
import { LatencyHistogram } from '../harness/trial/histogram.js';
import { measureSpinStepMs, recordStall, runOpenLoop, type LoopState } from '../harness/trial/loop.js';
import { getMapFactory } from '../maps/index.js';
import { generateOpStream, getWorkload } from '../workloads/index.js';
import { performance } from 'node:perf_hooks';

function loopState(control: TrialControl): LoopState {
  const factory = getMapFactory('js-map');
  const map = factory.attach(factory.create({ capacity: 1024, loadFactor: 0.75 }));
  const stream = generateOpStream(getWorkload('read-heavy'), {
    seed: 1,
    workerIndex: 0,
    workerCount: 1,
    length: 1 << 12,
  });
  return { map, stream, controlWords: control.words, sampleEveryOps: 128, index: 0, checksum: 0, rng: 1 };
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

test('open loop on schedule: one op per due time, none early', () => {
  const control = new TrialControl();
  const state = loopState(control);
  const byOp = Array.from({ length: 8 }, () => new LatencyHistogram());
  const startMs = Math.floor(performance.now()); // whole ms: due times start + i × 0.5 are exact, so the 20th op is never a rounding away from the end
  const outcome = runOpenLoop(state, byOp, control, startMs, 0.5, startMs + 10, new LatencyHistogram()); // 2000 ops/s for 10 ms: 20 ops due
  assert.equal(outcome.issued + outcome.backlog, 20);
  assert.ok(byOp.every((histogram) => histogram.totalCount === 0 || histogram.minNs >= 0));
});

test('the wait spins clock-free between sparse clock reads: far fewer reads, still one op per due time and none early', () => {
  const control = new TrialControl();
  const realNow = performance.now.bind(performance);
  let reads = 0;
  const run = (spinStepMs: number): { issued: number; minNs: number } => {
    const state = { ...loopState(control), spinStepMs };
    const byOp = Array.from({ length: 8 }, () => new LatencyHistogram());
    const startMs = Math.floor(realNow());
    reads = 0;
    const outcome = runOpenLoop(state, byOp, control, startMs, 0.5, startMs + 10, new LatencyHistogram()); // 20 ops due
    const recorded = byOp.filter((histogram) => histogram.totalCount > 0);
    return { issued: outcome.issued + outcome.backlog, minNs: Math.min(...recorded.map((h) => h.minNs)) };
  };
  performance.now = () => {
    reads++;
    return realNow();
  };
  try {
    const spinStepMs = measureSpinStepMs(control.words);
    run(0); // warm-up: both runs below use optimised code
    run(spinStepMs);
    const tight = run(0);
    const tightReads = reads;
    const spun = run(spinStepMs);
    const spunReads = reads;
    assert.equal(tight.issued, 20);
    assert.equal(spun.issued, 20);
    assert.ok(spun.minNs >= 0 && tight.minNs >= 0, 'no op starts before it is due');
    // ~10 ms of waiting: ~100 000+ back-to-back reads against ~600 with 20 µs clock-free spins.
    assert.ok(spunReads * 10 < tightReads, `clock reads: ${spunReads} with the spin, ${tightReads} without`);
  } finally {
    performance.now = realNow;
  }
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
