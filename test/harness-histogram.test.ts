import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUCKET_COUNT,
  bucketIndex,
  bucketRange,
  LatencyHistogram,
  RELATIVE_ERROR,
} from '../harness/trial/histogram.js';

/** Deterministic values spread log-uniformly over 1 ns … ~10 s (xorshift32). */
function logUniformValues(count: number, seed: number): number[] {
  let state = seed;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const unit = (state >>> 0) / 2 ** 32;
    values.push(Math.floor(10 ** (unit * 10)));
  }
  return values;
}

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

test('buckets tile the range without gaps, each exact (1 ns) or at most 1/128 of its low edge wide', () => {
  let expectedLow = 0;
  for (let index = 0; index < BUCKET_COUNT; index++) {
    const { lowNs, widthNs } = bucketRange(index);
    assert.equal(lowNs, expectedLow, `bucket ${index} starts where the previous one ended`);
    assert.equal(bucketIndex(lowNs), index);
    assert.equal(bucketIndex(lowNs + widthNs - 1), index);
    assert.ok(
      widthNs === 1 || widthNs / lowNs <= RELATIVE_ERROR,
      `bucket ${index} is exact or at most 1/128 of its low edge wide`,
    );
    expectedLow = lowNs + widthNs;
  }
});

test('percentiles are within 1% of the exact percentiles of the recorded values', () => {
  const values = logUniformValues(200_000, 0x1234567);
  const histogram = new LatencyHistogram();
  for (const value of values) histogram.record(value);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of [0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1]) {
    const exact = exactQuantile(sorted, q);
    const reported = histogram.valueAtQuantile(q);
    assert.ok(Math.abs(reported - exact) <= 0.01 * exact, `q=${q}: reported ${reported}, exact ${exact}`);
  }
  assert.equal(histogram.maxNs, sorted[sorted.length - 1]);
  assert.equal(histogram.minNs, sorted[0]);
  assert.equal(histogram.totalCount, values.length);
});

test('values below 256 ns are recorded exactly', () => {
  const histogram = new LatencyHistogram();
  for (let value = 0; value < 256; value++) histogram.record(value);
  for (let value = 1; value <= 256; value++) assert.equal(histogram.valueAtQuantile(value / 256), value - 1);
});

test('merging two histograms equals recording every value into one', () => {
  const left = logUniformValues(50_000, 7);
  const right = logUniformValues(30_000, 99).map((value) => value * 3);
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  const all = new LatencyHistogram();
  for (const value of left) {
    a.record(value);
    all.record(value);
  }
  for (const value of right) {
    b.record(value);
    all.record(value);
  }
  a.merge(b);
  assert.deepEqual(Array.from(a.counts), Array.from(all.counts));
  assert.equal(a.totalCount, all.totalCount);
  assert.equal(a.maxNs, all.maxNs);
  assert.equal(a.minNs, all.minNs);
  assert.equal(a.sumNs, all.sumNs);
  for (const q of [0.5, 0.99, 0.999]) assert.equal(a.valueAtQuantile(q), all.valueAtQuantile(q));
});

test('toData and fromData round-trip counts, min, max and sum', () => {
  const histogram = new LatencyHistogram();
  for (const value of logUniformValues(10_000, 3)) histogram.record(value);
  histogram.record(5e12); // past int32 ns: the slow index path
  const data = histogram.toData();
  assert.equal(data.unit, 'ns');
  assert.ok(
    data.buckets.every(
      ([low, high, count], i) => low < high && count > 0 && (i === 0 || data.buckets[i - 1][1] <= low),
    ),
  );
  const copy = LatencyHistogram.fromData(JSON.parse(JSON.stringify(data)));
  assert.deepEqual(Array.from(copy.counts), Array.from(histogram.counts));
  assert.equal(copy.maxNs, 5e12);
  assert.equal(copy.minNs, histogram.minNs);
  assert.equal(copy.sumNs, histogram.sumNs);
});

test('fromData rejects buckets that are not in the maplab layout', () => {
  assert.throws(
    () => LatencyHistogram.fromData({ unit: 'ns', relativeError: RELATIVE_ERROR, buckets: [[300, 303, 1]] }),
    /does not match/,
  );
});

test('recordMany counts a value several times', () => {
  const histogram = new LatencyHistogram();
  histogram.recordMany(1000, 5);
  histogram.record(10);
  assert.equal(histogram.totalCount, 6);
  assert.equal(histogram.valueAtQuantile(0.5), histogram.valueAtQuantile(1));
  assert.ok(Math.abs(histogram.valueAtQuantile(1) - 1000) <= 10);
});
