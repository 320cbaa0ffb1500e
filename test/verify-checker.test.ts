import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkHistory, DEFAULT_CHECK_OPTIONS, type CheckOptions } from '../harness/verify/check-history.js';
import type { ForEachEntry, History, HistoryOp, VerifyOpName } from '../harness/verify/history.js';

/** An op of thread `thread` over [invokeNs, responseNs]. */
function op(
  thread: number,
  kind: VerifyOpName,
  key: number,
  args: number[],
  result: HistoryOp['result'],
  invokeNs: number,
  responseNs: number,
): HistoryOp {
  return { thread, kind, key, args, result, invokeNs, responseNs };
}
const history = (ops: HistoryOp[], keys = 2): History => ({ keys, ops });
const check = (ops: HistoryOp[], options: Partial<CheckOptions> = {}, keys = 2) =>
  checkHistory(history(ops, keys), { ...DEFAULT_CHECK_OPTIONS, ...options });

test('a sequential history that follows the map semantics is linearizable', () => {
  const verdict = check([
    op(0, 'get', 0, [], null, 0, 1),
    op(0, 'add', 0, [2], 2, 2, 3), // absent counts as 0
    op(1, 'getOrSet', 0, [20001], 2, 4, 5), // present: returns the stored value
    op(1, 'compareAndSet', 0, [2, 20002], true, 6, 7),
    op(0, 'compareAndSet', 0, [2, 10005], false, 8, 9),
    op(0, 'set', 0, [10006], null, 10, 11),
    op(1, 'get', 0, [], 10006, 12, 13),
    op(1, 'delete', 0, [], true, 14, 15),
    op(0, 'delete', 0, [], false, 16, 17),
    op(0, 'getOrSet', 0, [10009], 10009, 18, 19), // absent: stores and returns its own value
    op(1, 'size', -1, [], 1, 20, 21),
    op(1, 'forEach', -1, [], [[0, 10009]], 22, 23),
  ]);
  assert.equal(verdict.outcome, 'linearizable');
});

test('a stale read after a completed delete is a violation on that key', () => {
  const verdict = check([
    op(0, 'set', 1, [10000], null, 0, 10),
    op(1, 'delete', 1, [], true, 20, 30),
    op(0, 'get', 1, [], 10000, 40, 50),
    op(1, 'set', 0, [20003], null, 40, 50), // another key: no part of the violation
  ]);
  assert.equal(verdict.outcome, 'violation');
  assert.equal(verdict.violation?.kind, 'linearizability');
  assert.equal(verdict.violation?.kind === 'linearizability' && verdict.violation.key, 1);
});

test('a lost update with add is a violation: two overlapping adds cannot both return 1', () => {
  const verdict = check([op(0, 'add', 0, [1], 1, 0, 100), op(1, 'add', 0, [1], 1, 10, 90)]);
  assert.equal(verdict.outcome, 'violation');
});

test('two overlapping adds that return 1 and 2 are linearizable in either order of return', () => {
  assert.equal(check([op(0, 'add', 0, [1], 2, 0, 100), op(1, 'add', 0, [1], 1, 10, 90)]).outcome, 'linearizable');
  assert.equal(check([op(0, 'add', 0, [1], 1, 0, 100), op(1, 'add', 0, [1], 2, 10, 90)]).outcome, 'linearizable');
});

test('concurrent overlapping ops may take effect in either order', () => {
  const write = op(0, 'set', 0, [10000], null, 0, 100);
  assert.equal(check([write, op(1, 'get', 0, [], null, 10, 20)]).outcome, 'linearizable', 'get before the set');
  assert.equal(check([write, op(1, 'get', 0, [], 10000, 10, 20)]).outcome, 'linearizable', 'get after the set');
  assert.equal(check([write, op(1, 'get', 0, [], 20000, 10, 20)]).outcome, 'violation', 'a value nobody wrote');
});

test('an op that returned before another was called must take effect first', () => {
  const verdict = check([op(0, 'set', 0, [10000], null, 0, 10), op(1, 'get', 0, [], null, 11, 20)]);
  assert.equal(verdict.outcome, 'violation');
});

test('equal response and invocation times count as overlap, never as an order', () => {
  const verdict = check([op(0, 'set', 0, [10000], null, 0, 10), op(1, 'get', 0, [], null, 10, 20)]);
  assert.equal(verdict.outcome, 'linearizable');
});

test('getOrSet: only one of two racing inserts can store its value', () => {
  const first = op(0, 'getOrSet', 0, [10000], 10000, 0, 100);
  assert.equal(check([first, op(1, 'getOrSet', 0, [20000], 10000, 10, 90)]).outcome, 'linearizable');
  assert.equal(check([first, op(1, 'getOrSet', 0, [20000], 20000, 10, 90)]).outcome, 'violation');
});

test('compareAndSet: two swaps from the same expected value cannot both succeed', () => {
  const verdict = check([
    op(0, 'set', 0, [10000], null, 0, 1),
    op(0, 'compareAndSet', 0, [10000, 10002], true, 5, 100),
    op(1, 'compareAndSet', 0, [10000, 20002], true, 10, 90),
  ]);
  assert.equal(verdict.outcome, 'violation');
});

test('delete: two racing deletes of one present key cannot both report it present', () => {
  const setUp = op(0, 'set', 0, [10000], null, 0, 1);
  assert.equal(
    check([setUp, op(0, 'delete', 0, [], true, 5, 100), op(1, 'delete', 0, [], true, 10, 90)]).outcome,
    'violation',
  );
  assert.equal(
    check([setUp, op(0, 'delete', 0, [], true, 5, 100), op(1, 'delete', 0, [], false, 10, 90)]).outcome,
    'linearizable',
  );
});

test('forEach: a value overwritten by an op that completed before the call is a violation', () => {
  const verdict = check([
    op(0, 'set', 0, [10000], null, 0, 10),
    op(0, 'set', 0, [10001], null, 20, 30),
    op(1, 'forEach', -1, [], [[0, 10000]], 40, 50),
  ]);
  assert.equal(verdict.outcome, 'violation');
});

test('forEach: a value written or overwritten during the call may be reported either way', () => {
  const writes = [op(0, 'set', 0, [10000], null, 0, 10), op(0, 'set', 0, [10001], null, 42, 48)];
  assert.equal(check([...writes, op(1, 'forEach', -1, [], [[0, 10000]], 40, 50)]).outcome, 'linearizable');
  assert.equal(check([...writes, op(1, 'forEach', -1, [], [[0, 10001]], 40, 50)]).outcome, 'linearizable');
});

test('forEach: a key deleted during the call may be reported or not', () => {
  const ops = [op(0, 'set', 0, [10000], null, 0, 10), op(0, 'delete', 0, [], true, 42, 48)];
  assert.equal(check([...ops, op(1, 'forEach', -1, [], [[0, 10000]], 40, 50)]).outcome, 'linearizable');
  assert.equal(check([...ops, op(1, 'forEach', -1, [], [], 40, 50)]).outcome, 'linearizable');
});

test('forEach: reporting a key twice is a violation', () => {
  const entries: ForEachEntry[] = [
    [0, 10000],
    [0, 10000],
  ];
  const verdict = check([op(0, 'set', 0, [10000], null, 0, 10), op(1, 'forEach', -1, [], entries, 20, 30)]);
  assert.equal(verdict.outcome, 'violation');
  assert.equal(verdict.violation?.kind, 'forEach-duplicate');
});

test('forEach: missing a key present throughout the call is a violation under the complete rule only', () => {
  const ops = [
    op(0, 'set', 0, [10000], null, 0, 10),
    op(0, 'set', 1, [10001], null, 11, 12),
    op(1, 'forEach', -1, [], [[1, 10001]], 20, 30),
  ];
  assert.equal(check(ops, { foreachCheck: 'complete' }).outcome, 'violation');
  assert.equal(check(ops, { foreachCheck: 'reported' }).outcome, 'linearizable');
  assert.equal(check(ops, { foreachCheck: 'off' }).outcome, 'linearizable');
});

test('forEach: a key outside the key space that nobody wrote is a violation', () => {
  const verdict = check([op(1, 'forEach', -1, [], [[7, 10000]], 20, 30)], { foreachCheck: 'reported' });
  assert.equal(verdict.outcome, 'violation');
});

test('size: a count below the keys present throughout the call is a violation', () => {
  const ops = [op(0, 'set', 0, [10000], null, 0, 10), op(0, 'set', 1, [10001], null, 11, 12)];
  assert.equal(check([...ops, op(1, 'size', -1, [], 1, 20, 30)]).outcome, 'violation');
  assert.equal(check([...ops, op(1, 'size', -1, [], 2, 20, 30)]).outcome, 'linearizable');
  const verdict = check([...ops, op(1, 'size', -1, [], 1, 20, 30)]);
  assert.deepEqual(verdict.violation?.kind === 'size-bounds' && [verdict.violation.min, verdict.violation.max], [2, 2]);
});

test('size: a count above the keys that can have been present is a violation', () => {
  const verdict = check([op(0, 'set', 0, [10000], null, 0, 10), op(1, 'size', -1, [], 2, 20, 30)]);
  assert.equal(verdict.outcome, 'violation');
  assert.equal(verdict.violation?.kind, 'size-bounds');
});

test('size: a key inserted or deleted during the call may be counted or not', () => {
  const insert = [op(0, 'set', 0, [10000], null, 22, 28)];
  assert.equal(check([...insert, op(1, 'size', -1, [], 0, 20, 30)]).outcome, 'linearizable');
  assert.equal(check([...insert, op(1, 'size', -1, [], 1, 20, 30)]).outcome, 'linearizable');
  const remove = [op(0, 'set', 0, [10000], null, 0, 10), op(0, 'delete', 0, [], true, 22, 28)];
  assert.equal(check([...remove, op(1, 'size', -1, [], 0, 20, 30)]).outcome, 'linearizable');
  assert.equal(check([...remove, op(1, 'size', -1, [], 1, 20, 30)]).outcome, 'linearizable');
});

test('size: with the check off any count passes', () => {
  assert.equal(check([op(1, 'size', -1, [], 5, 20, 30)], { sizeCheck: 'off' }).outcome, 'linearizable');
});

test('a search that runs out of its step budget is inconclusive, not a verdict', () => {
  const ops = Array.from({ length: 12 }, (_, thread) => op(thread, 'add', 0, [1], thread + 1, 0, 100));
  const verdict = check(ops, { stepBudget: 5 });
  assert.equal(verdict.outcome, 'inconclusive');
  assert.equal(check(ops).outcome, 'linearizable');
});

test('a response recorded before its invocation is rejected as a malformed history', () => {
  assert.throws(
    () => check([op(0, 'get', 0, [], null, 10, 5)]),
    (error: Error) =>
      error instanceof TypeError &&
      /history\.ops\[0\] \(get\) responds at 5 ns, before its invocation at 10 ns/.test(error.message),
  );
});

/**
 * A random correct execution: ops take effect one at a time, in order, at
 * increasing instants; each op's recorded interval is stretched around its
 * instant by random amounts, so intervals overlap freely. Whatever the
 * stretching, the checker must find it linearizable (no false alarms),
 * size and forEach included.
 */
const correctExecution = fc
  .array(
    fc.record({
      kind: fc.constantFrom<VerifyOpName>(
        'get',
        'set',
        'delete',
        'getOrSet',
        'compareAndSet',
        'add',
        'size',
        'forEach',
      ),
      key: fc.integer({ min: 0, max: 2 }),
      useCurrent: fc.boolean(),
      before: fc.integer({ min: 0, max: 250 }),
      after: fc.integer({ min: 0, max: 250 }),
    }),
    { minLength: 1, maxLength: 14 },
  )
  .map((plans) => {
    const state = new Map<number, number>();
    return plans.map((plan, index): HistoryOp => {
      const instant = 1000 + 100 * index; // neighbours' intervals overlap when stretched
      const value = 10000 + index;
      const current = state.get(plan.key);
      let args: number[] = [];
      let result: HistoryOp['result'] = null;
      switch (plan.kind) {
        case 'get':
          result = current ?? null;
          break;
        case 'set':
          args = [value];
          state.set(plan.key, value);
          break;
        case 'delete':
          result = state.delete(plan.key);
          break;
        case 'getOrSet':
          args = [value];
          if (current === undefined) state.set(plan.key, value);
          result = state.get(plan.key)!;
          break;
        case 'compareAndSet': {
          const expected = plan.useCurrent && current !== undefined ? current : value + 1;
          args = [expected, value];
          result = current === expected;
          if (result) state.set(plan.key, value);
          break;
        }
        case 'add':
          args = [1 + (index % 3)];
          result = (current ?? 0) + args[0];
          state.set(plan.key, result);
          break;
        case 'size':
          result = state.size;
          break;
        case 'forEach':
          result = [...state.entries()].map(([key, stored]): ForEachEntry => [key, stored]);
          break;
      }
      // The checker orders ops by their intervals only; each op gets its own thread so none overlaps its thread's others.
      const key = plan.kind === 'size' || plan.kind === 'forEach' ? -1 : plan.key;
      return {
        thread: index,
        kind: plan.kind,
        key,
        args,
        result,
        invokeNs: instant - plan.before,
        responseNs: instant + plan.after,
      };
    });
  });

test('property: every correct execution, with intervals stretched around its instants, is linearizable', () => {
  fc.assert(
    fc.property(
      correctExecution,
      (ops) => checkHistory({ keys: 3, ops }, DEFAULT_CHECK_OPTIONS).outcome === 'linearizable',
    ),
    { numRuns: 300, seed: 42 },
  );
});

test('property: a get that returns a value nobody wrote makes any history a violation', () => {
  fc.assert(
    fc.property(correctExecution, fc.nat(), (ops, pick) => {
      const gets = ops
        .map((candidate, index) => ({ candidate, index }))
        .filter(({ candidate }) => candidate.kind === 'get');
      fc.pre(gets.length > 0);
      const { index } = gets[pick % gets.length];
      const broken = ops.map((candidate, at) => (at === index ? { ...candidate, result: 999_999 } : candidate));
      return checkHistory({ keys: 3, ops: broken }, DEFAULT_CHECK_OPTIONS).outcome === 'violation';
    }),
    { numRuns: 200, seed: 43 },
  );
});
