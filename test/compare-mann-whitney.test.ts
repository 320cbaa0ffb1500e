import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mannWhitneyU, minimumTwoSidedP } from '../harness/gate/mann-whitney.js';

/** Sample `a` holding exactly these ranks of 1..n1+n2 (b holds the rest). */
function samplesWithRanks(ranksOfA: number[], total: number): [number[], number[]] {
  const a = ranksOfA;
  const b = Array.from({ length: total }, (_, i) => i + 1).filter((rank) => !a.includes(rank));
  return [a, b];
}

/** Two-sided p by listing every split of the pooled values: independent of the implementation's counting. */
function bruteForceP(a: number[], b: number[]): number {
  const pooled = [...a, ...b];
  const u = (x: number[], y: number[]) =>
    x.reduce((sum, xi) => sum + y.reduce((s, yj) => s + (xi > yj ? 1 : xi === yj ? 0.5 : 0), 0), 0);
  const observed = u(a, b);
  let atMost = 0;
  let atLeast = 0;
  let total = 0;
  const choose = (start: number, picked: number[]): void => {
    if (picked.length === a.length) {
      const first = picked.map((index) => pooled[index]);
      const rest = pooled.filter((_, index) => !picked.includes(index));
      const value = u(first, rest);
      total++;
      if (value <= observed + 1e-9) atMost++;
      if (value >= observed - 1e-9) atLeast++;
      return;
    }
    for (let index = start; index < pooled.length; index++) choose(index + 1, [...picked, index]);
  };
  choose(0, []);
  return Math.min(1, (2 * Math.min(atMost, atLeast)) / total);
}

test('completely separated samples of 5 and 5 give the exact p = 2/252 (R: wilcox.test(1:5, 6:10) → 0.007937)', () => {
  const result = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
  assert.equal(result.u, 0);
  assert.equal(result.method, 'exact');
  assert.ok(Math.abs(result.p - 2 / 252) < 1e-12);
});

test('completely separated samples of 3 and 3 cannot reach p < 0.1 (R: wilcox.test(1:3, 4:6) → 0.1)', () => {
  assert.ok(Math.abs(mannWhitneyU([4, 5, 6], [1, 2, 3]).p - 0.1) < 1e-12);
  assert.ok(Math.abs(minimumTwoSidedP(3, 3) - 0.1) < 1e-12);
  assert.ok(Math.abs(minimumTwoSidedP(5, 5) - 2 / 252) < 1e-12);
});

test('n1 = n2 = 5: the textbook two-sided 5% critical value is U = 2 (p = 8/252), and U = 3 is not significant (p = 14/252)', () => {
  const atCritical = mannWhitneyU(...samplesWithRanks([1, 2, 3, 4, 7], 10));
  assert.equal(atCritical.u, 2);
  assert.ok(Math.abs(atCritical.p - 8 / 252) < 1e-12);
  const above = mannWhitneyU(...samplesWithRanks([1, 2, 3, 4, 8], 10));
  assert.equal(above.u, 3);
  assert.ok(Math.abs(above.p - 14 / 252) < 1e-12);
});

test('n1 = n2 = 10: the textbook two-sided 5% critical value is U = 23 (p ≈ 0.0433); U = 24 gives p ≈ 0.0524', () => {
  const atCritical = mannWhitneyU(...samplesWithRanks([1, 2, 3, 4, 5, 6, 7, 15, 17, 18], 20));
  assert.equal(atCritical.u, 23);
  assert.ok(Math.abs(atCritical.p - 0.0433) < 5e-5, `p = ${atCritical.p}`);
  const above = mannWhitneyU(...samplesWithRanks([1, 2, 3, 4, 5, 6, 7, 15, 17, 19], 20));
  assert.equal(above.u, 24);
  assert.ok(Math.abs(above.p - 0.0524) < 5e-5, `p = ${above.p}`);
});

test('with ties the exact p is the conditional permutation p over the mid-ranks (checked by listing every split)', () => {
  const cases: Array<[number[], number[]]> = [
    [
      [1, 2, 2, 3, 3],
      [2, 3, 4, 4, 5],
    ],
    [
      [10, 10, 10, 12],
      [10, 11, 12, 12, 13, 14],
    ],
    [
      [5, 5, 5],
      [5, 5, 5],
    ],
    [
      [1.5, 2.5, 2.5, 9, 9, 9],
      [2.5, 3, 9, 10],
    ],
  ];
  for (const [a, b] of cases) {
    assert.ok(
      Math.abs(mannWhitneyU(a, b).p - bruteForceP(a, b)) < 1e-12,
      `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
    );
  }
});

test('the test is symmetric: swapping the samples keeps p and mirrors U (U_ab + U_ba = n1·n2)', () => {
  const a = [3.1, 4.7, 2.2, 5.9, 4.4, 3.3];
  const b = [5.1, 6.2, 4.9, 7.0, 5.5];
  const forward = mannWhitneyU(a, b);
  const backward = mannWhitneyU(b, a);
  assert.equal(forward.p, backward.p);
  assert.equal(forward.u + backward.u, a.length * b.length);
});

test('the normal approximation agrees with the exact count at 20 vs 20 to within 0.005', () => {
  const a = Array.from({ length: 20 }, (_, i) => 100 + i * 3 + (i % 4));
  const b = Array.from({ length: 20 }, (_, i) => 108 + i * 3 - (i % 3));
  const exact = mannWhitneyU(a, b, 'exact');
  const normal = mannWhitneyU(a, b, 'normal');
  assert.equal(exact.u, normal.u);
  assert.ok(exact.p > 0.01 && exact.p < 0.5, `a mid-range p makes the check meaningful, got ${exact.p}`);
  assert.ok(Math.abs(exact.p - normal.p) < 0.005, `exact ${exact.p}, normal ${normal.p}`);
});

test('large samples switch to the normal approximation: separated → tiny p, identical → p = 1', () => {
  const low = Array.from({ length: 40 }, (_, i) => i);
  const high = Array.from({ length: 40 }, (_, i) => 100 + i);
  const separated = mannWhitneyU(low, high);
  assert.equal(separated.method, 'normal');
  assert.ok(separated.p < 1e-6);
  assert.equal(mannWhitneyU(low, [...low]).p, 1);
});

test('empty samples and non-finite values are rejected', () => {
  assert.throws(() => mannWhitneyU([], [1]), RangeError);
  assert.throws(() => mannWhitneyU([1, Number.NaN], [1]), RangeError);
});
