import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkHistory, DEFAULT_CHECK_OPTIONS } from '../harness/verify/check-history.js';
import { buildCounterexample } from '../harness/verify/counterexample.js';
import type { History, HistoryOp, VerifyOpName } from '../harness/verify/history.js';
import { checkKeyOps } from '../harness/verify/linearizability.js';
import { ABSENT, toKeyOp, type KeyOp } from '../harness/verify/model.js';
import { shrinkKeyHistory } from '../harness/verify/shrink.js';

function op(
  thread: number,
  kind: VerifyOpName,
  args: number[],
  result: HistoryOp['result'],
  invokeNs: number,
  responseNs: number,
): HistoryOp {
  return { thread, kind, key: 0, args, result, invokeNs, responseNs };
}
const keyOps = (ops: HistoryOp[]): KeyOp[] => ops.map((recorded, index) => toKeyOp(recorded, index));
const budget = () => ({ remaining: 1_000_000 });

/** A stale read (get after a completed delete) buried among ops that have nothing to do with it. */
const buried: HistoryOp[] = [
  op(0, 'set', [10000], null, 0, 10),
  op(1, 'add', [1], 10001, 5, 20),
  op(0, 'get', [], 10001, 30, 40),
  op(1, 'getOrSet', [20003], 10001, 35, 45),
  op(0, 'set', [10004], null, 50, 60),
  op(1, 'delete', [], true, 70, 80), // removes 10004…
  op(0, 'get', [], null, 85, 90),
  op(1, 'get', [], 10004, 95, 100), // …yet it is read back: the violation
  op(0, 'set', [10008], null, 110, 120),
  op(1, 'get', [], 10008, 125, 130),
  op(0, 'add', [2], 10010, 135, 140),
];

test('the shrinker returns a smaller history that is still a violation', () => {
  const original = keyOps(buried);
  assert.equal(checkKeyOps(original, [ABSENT], budget()), 'violation');
  const shrunk = shrinkKeyHistory(original, budget());
  assert.ok(shrunk.ops.length < original.length, `${shrunk.ops.length} ops left of ${original.length}`);
  assert.equal(checkKeyOps(shrunk.ops, shrunk.initialStates, budget()), 'violation');
  for (const kept of shrunk.ops) assert.ok(original.includes(kept), 'the shrunk ops are recorded ops');
});

test('the shrinker cuts the stale read down to the read alone, starting from the state the delete left', () => {
  const shrunk = shrinkKeyHistory(keyOps(buried), budget());
  assert.deepEqual(
    shrunk.ops.map((kept) => buried[kept.source].result),
    [10004],
  );
  assert.deepEqual(shrunk.initialStates, [ABSENT]);
  assert.equal(shrunk.droppedHead + shrunk.droppedTail + shrunk.droppedReads, buried.length - 1);
});

test('the shrinker never drops a write that a remaining op depends on', () => {
  // Dropping the set would leave "get → 10000 from an empty map": a violation, but not the one recorded.
  const lostUpdate: HistoryOp[] = [
    op(0, 'set', [10000], null, 0, 10),
    op(1, 'get', [], 10000, 20, 30),
    op(0, 'add', [1], 10001, 40, 100),
    op(1, 'add', [1], 10001, 50, 90),
  ];
  const shrunk = shrinkKeyHistory(keyOps(lostUpdate), budget());
  const kinds = shrunk.ops.map((kept) => lostUpdate[kept.source].kind);
  assert.deepEqual(kinds, ['add', 'add'], 'both adds of the lost update stay');
  assert.deepEqual(shrunk.initialStates, [10000], 'the set is replaced by the state it leaves, not dropped');
});

test('cutting the head keeps every state the cut ops can leave', () => {
  const ops: HistoryOp[] = [
    op(0, 'set', [10000], null, 0, 20),
    op(1, 'set', [20000], null, 5, 15), // overlaps: either may be last
    op(0, 'delete', [], true, 30, 40),
    op(1, 'delete', [], true, 45, 50), // already deleted: a violation
  ];
  const shrunk = shrinkKeyHistory(keyOps(ops), budget());
  assert.equal(checkKeyOps(shrunk.ops, shrunk.initialStates, budget()), 'violation');
  assert.ok(shrunk.ops.length <= 2);
});

/** A random single-key correct execution with one result then corrupted. */
const corrupted = fc
  .tuple(
    fc.array(
      fc.record({
        kind: fc.constantFrom<VerifyOpName>('get', 'set', 'delete', 'getOrSet', 'compareAndSet', 'add'),
        before: fc.integer({ min: 0, max: 250 }),
        after: fc.integer({ min: 0, max: 250 }),
      }),
      { minLength: 2, maxLength: 12 },
    ),
    fc.nat(),
  )
  .map(([plans, pick]) => {
    let current: number | undefined;
    const ops = plans.map((plan, index): HistoryOp => {
      const value = 10000 + index;
      let args: number[] = [];
      let result: HistoryOp['result'] = null;
      switch (plan.kind) {
        case 'get':
          result = current ?? null;
          break;
        case 'set':
          args = [value];
          current = value;
          break;
        case 'delete':
          result = current !== undefined;
          current = undefined;
          break;
        case 'getOrSet':
          args = [value];
          current ??= value;
          result = current;
          break;
        case 'compareAndSet':
          args = [current ?? 1, value];
          result = current !== undefined;
          if (result) current = value;
          break;
        case 'add':
          args = [1];
          current = (current ?? 0) + 1;
          result = current;
          break;
        default:
          break;
      }
      const instant = 1000 + 100 * index;
      return {
        thread: index,
        kind: plan.kind,
        key: 0,
        args,
        result,
        invokeNs: instant - plan.before,
        responseNs: instant + plan.after,
      };
    });
    const withResult = ops
      .map((candidate, index) => ({ candidate, index }))
      .filter(({ candidate }) => candidate.kind !== 'set');
    if (withResult.length === 0) return ops;
    const { candidate, index } = withResult[pick % withResult.length];
    const wrong: HistoryOp['result'] =
      typeof candidate.result === 'boolean' ? !candidate.result : candidate.result === null ? 999_999 : null;
    return ops.map((original, at) => (at === index ? { ...original, result: wrong } : original));
  });

test('property: a shrunk violation is still a violation, no larger, and made of recorded ops', () => {
  fc.assert(
    fc.property(corrupted, (ops) => {
      const original = keyOps(ops);
      fc.pre(checkKeyOps(original, [ABSENT], budget()) === 'violation');
      const shrunk = shrinkKeyHistory(original, budget());
      return (
        checkKeyOps(shrunk.ops, shrunk.initialStates, budget()) === 'violation' &&
        shrunk.ops.length <= original.length &&
        shrunk.ops.every((kept) => original.includes(kept))
      );
    }),
    { numRuns: 200, seed: 7 },
  );
});

test('a counterexample names the key, shows a timeline of the shrunk ops and is plain JSON', () => {
  const history: History = { keys: 1, ops: buried };
  const verdict = checkHistory(history, DEFAULT_CHECK_OPTIONS);
  assert.equal(verdict.outcome, 'violation');
  const example = buildCounterexample(history, 3, verdict.violation!, budget());
  assert.equal(example.kind, 'linearizability');
  assert.equal(example.key, 0);
  assert.equal(example.historyIndex, 3);
  assert.equal(example.stateBefore, 'absent');
  const text = example.timeline.join('\n');
  assert.match(text, /state of key 0 before them: absent \(7 earlier ops cut/);
  assert.match(text, /shrunk from 11 ops \(7 earlier, 3 later, 0 reads dropped\)/);
  assert.match(text, /t1 {2}get\(0\) → 10004 +\| +■+\| {2}0\.10–0\.10 µs/);
  // Context: the cut ops that wrote the starting state and the value read.
  assert.match(text, /t1 {2}delete\(0\) → true +\| *░+ +\| {2}0\.07–0\.08 µs/);
  assert.match(text, /t0 {2}set\(0, 10004\) +\| *░+ +\| {2}0\.05–0\.06 µs/);
  assert.deepEqual(
    example.ops.map((row) => row.context === true),
    [true, true, false],
  );
  assert.deepEqual(JSON.parse(JSON.stringify(example)), example);
});
