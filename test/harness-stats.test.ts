import { test } from 'node:test';
import assert from 'node:assert/strict';
import { medianByKey, medianWithCI, ORDER_STATISTIC_METHOD, STUDENT_T_METHOD } from '../harness/results/stats.js';

test('nine trials: the order-statistic interval [x(2), x(8)] with its exact 96.1% coverage', () => {
  const ci = medianWithCI([9, 1, 8, 2, 7, 3, 6, 4, 5]);
  assert.equal(ci.median, 5);
  assert.equal(ci.ciLow, 2);
  assert.equal(ci.ciHigh, 8);
  assert.equal(ci.ciMethod, ORDER_STATISTIC_METHOD);
  assert.ok(Math.abs(ci.ciLevel - (1 - 2 * (10 / 512))) < 1e-12);
});

test('six trials: [min, max] covers the median with probability 1 − 2/64', () => {
  const ci = medianWithCI([10, 11, 12, 13, 14, 15]);
  assert.equal(ci.median, 12.5);
  assert.deepEqual([ci.ciLow, ci.ciHigh], [10, 15]);
  assert.ok(Math.abs(ci.ciLevel - (1 - 2 / 64)) < 1e-12);
});

test('three trials: a Student-t interval around the median (order statistics cannot reach 95%)', () => {
  const ci = medianWithCI([14, 10, 12]);
  const halfWidth = (4.30265273 * Math.sqrt(Math.PI / 2) * 2) / Math.sqrt(3);
  assert.equal(ci.median, 12);
  assert.ok(Math.abs(ci.ciLow - (12 - halfWidth)) < 1e-9);
  assert.ok(Math.abs(ci.ciHigh - (12 + halfWidth)) < 1e-9);
  assert.equal(ci.ciLevel, 0.95);
  assert.equal(ci.ciMethod, STUDENT_T_METHOD);
});

test('an interval over non-negative data never goes below zero', () => {
  const ci = medianWithCI([1, 100, 2]);
  assert.equal(ci.ciLow, 0);
});

test('one trial has no interval', () => {
  assert.deepEqual(medianWithCI([7]), {
    median: 7,
    ciLow: 7,
    ciHigh: 7,
    ciLevel: 0,
    ciMethod: 'single trial: no interval',
  });
});

test('medianWithCI rejects an empty list', () => {
  assert.throws(() => medianWithCI([]), RangeError);
});

test("medianByKey takes each counter's median over the trials that report it", () => {
  assert.deepEqual(medianByKey([{ misses: 1, resizes: 2 }, { misses: 3 }, { misses: 2, resizes: 4 }]), {
    misses: 2,
    resizes: 3,
  });
});
