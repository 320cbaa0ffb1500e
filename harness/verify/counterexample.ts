/**
 * Counterexamples: what verify stores in the results and prints when a
 * history is not linearizable. A counterexample is plain data (times in ns
 * relative to the history's first invocation) plus a rendered timeline:
 *
 *   key 2: no order of these 2 ops fits real time and the map's semantics
 *   state of key 2 before them: 10003 (4 earlier ops cut; ░ = the op that left it so)
 *                              0.00 µs                              6.10 µs
 *   t0  set(2, 10003)          |░░░░░░                                  |  0.00–0.90 µs
 *   t0  delete(2) → true       |          ■■■■■■■■■■■                   |  1.20–2.90 µs
 *   t1  get(2) → 10003         |                       ■■■■■■■■■■       |  3.40–4.90 µs
 *
 * Read it top to bottom: a bar is an op's interval (thread t0, t1…); an op
 * whose bar ends left of another's start took effect before it, overlapping
 * bars may take effect in either order. Here the delete returned before the
 * get was called, yet the get saw the deleted value. Values name their
 * writer: (thread + 1) · 10000 + op index, so 10003 is thread 0's op 3.
 */
import type { Violation } from './check-history.js';
import { describeOp, type History, type HistoryOp } from './history.js';
import type { StepBudget } from './linearizability.js';
import { ABSENT, describeState, KeyOpKind, writtenState, type KeyOp } from './model.js';
import { shrinkKeyHistory } from './shrink.js';

export interface CounterexampleOp {
  /** The thread that ran it; −1 for a bar that is not one op. */
  thread: number;
  /** The call and its result as read in a timeline: `get(2) → 10003`, `forEach saw 2 = 10003`. */
  op: string;
  invokeNs: number;
  responseNs: number;
  /** Not part of the violation: an op the shrinker cut that left the key in its starting state. */
  context?: boolean;
}

export interface Counterexample {
  kind: Violation['kind'] | 'exception';
  /** Which history of the run (0-based) it came from. */
  historyIndex: number;
  /** The key involved (single-key and forEach violations). */
  key?: number;
  /** One sentence: what is wrong. */
  summary: string;
  /** The key's possible states before the ops shown, when the shrinker cut earlier ops. */
  stateBefore?: string;
  /** Ops of the key before shrinking, and how many the shrinker dropped. */
  originalOps: number;
  droppedOps: number;
  ops: CounterexampleOp[];
  /** The rendered timeline, one line per entry. */
  timeline: string[];
}

/** Builds (and for single-key violations, shrinks) the counterexample of `violation` found in `history`. */
export function buildCounterexample(
  history: History,
  historyIndex: number,
  violation: Violation,
  shrinkBudget: StepBudget,
): Counterexample {
  switch (violation.kind) {
    case 'linearizability': {
      const shrunk = shrinkKeyHistory(violation.keyOps, shrinkBudget);
      const key = violation.key;
      const ops = shrunk.ops.map((keyOp) => keyOpRow(history, keyOp, key));
      const context = explainingOps(shrunk.cutHead, shrunk.initialStates, shrunk.ops).map((keyOp) => ({
        ...keyOpRow(history, keyOp, key),
        context: true,
      }));
      const stateBefore = shrunk.droppedHead > 0 ? describeStates(shrunk.initialStates) : undefined;
      const summary =
        ops.length === 1
          ? `key ${key}: this op cannot have returned that result at any instant of its call`
          : `key ${key}: no order of these ${ops.length} ops fits real time and the map's semantics`;
      const header = [summary];
      if (stateBefore === undefined) header.push(`state of key ${key} before them: absent (the map started empty)`);
      else {
        const marker = context.length > 0 ? '; ░ = cut ops that wrote that state or a value seen below' : '';
        header.push(`state of key ${key} before them: ${stateBefore} (${shrunk.droppedHead} earlier ops cut${marker})`);
      }
      if (shrunk.ops.length < violation.keyOps.length) {
        header.push(
          `shrunk from ${violation.keyOps.length} ops (${shrunk.droppedHead} earlier, ${shrunk.droppedTail} later, ${shrunk.droppedReads} reads dropped)`,
        );
      }
      return {
        kind: 'linearizability',
        historyIndex,
        key,
        summary,
        ...(stateBefore !== undefined ? { stateBefore } : {}),
        originalOps: violation.keyOps.length,
        droppedOps: violation.keyOps.length - shrunk.ops.length,
        ops: [...context, ...ops],
        timeline: [...header, ...renderTimeline([...context, ...ops])],
      };
    }
    case 'forEach-duplicate': {
      const op = history.ops[violation.opIndex];
      const summary = `forEach reported key ${violation.key} more than once`;
      const ops = [row(op)];
      return {
        kind: violation.kind,
        historyIndex,
        key: violation.key,
        summary,
        originalOps: 1,
        droppedOps: 0,
        ops,
        timeline: [summary, ...renderTimeline(ops)],
      };
    }
    case 'size-bounds': {
      const sizeOp = history.ops[violation.opIndex];
      const summary =
        `size() returned ${String(sizeOp.result)}, but between ${violation.min} and ${violation.max} keys can have been present during the call` +
        ` (certainly present: [${violation.certainlyPresent.join(', ')}]; possibly present: [${violation.possiblyPresent.join(', ')}])`;
      // Everything invoked before size returned can have decided its count.
      const ops = history.ops
        .filter((op) => op.invokeNs <= sizeOp.responseNs)
        .sort(byInvocation)
        .map(row);
      return {
        kind: violation.kind,
        historyIndex,
        summary,
        originalOps: ops.length,
        droppedOps: 0,
        ops,
        timeline: [summary, ...renderTimeline(ops)],
      };
    }
  }
}

/** An op that threw in a map, with the ops of the history that overlapped it. */
export interface ThrownOp {
  thread: number;
  /** The call as written in a timeline, e.g. `set(2, 10004)`. */
  call: string;
  name: string;
  message: string;
  invokeNs: number;
  /** When the exception reached the recorder. */
  thrownNs: number;
}

/** A counterexample for ops that threw: each thrown op and every op that overlapped one. */
export function exceptionCounterexample(
  historyIndex: number,
  thrown: readonly ThrownOp[],
  ops: readonly HistoryOp[],
): Counterexample {
  const [first] = thrown;
  const summary = `thread ${first.thread}: ${first.call} threw ${first.name}: ${first.message}`;
  const overlapping = ops.filter((op) =>
    thrown.some((failed) => op.invokeNs <= failed.thrownNs && failed.invokeNs <= op.responseNs),
  );
  const rows = [
    ...overlapping.map(row),
    ...thrown.map((failed) => ({
      thread: failed.thread,
      op: `${failed.call} threw ${failed.message}`,
      invokeNs: failed.invokeNs,
      responseNs: failed.thrownNs,
    })),
  ].sort((a, b) => a.invokeNs - b.invokeNs || a.responseNs - b.responseNs);
  return {
    kind: 'exception',
    historyIndex,
    summary,
    originalOps: ops.length + thrown.length,
    droppedOps: ops.length - overlapping.length,
    ops: rows,
    timeline: [summary, 'ops that overlapped it:', ...renderTimeline(rows)],
  };
}

const BAR_WIDTH = 48;

/** One line per op: thread, call → result, a bar on a shared time axis, and the interval in µs. */
export function renderTimeline(ops: readonly CounterexampleOp[]): string[] {
  if (ops.length === 0) return [];
  const start = Math.min(...ops.map((op) => op.invokeNs));
  const end = Math.max(...ops.map((op) => op.responseNs));
  const span = Math.max(end - start, 1);
  const labelWidth = Math.max(...ops.map((op) => op.op.length)) + 6;
  const column = (ns: number): number => Math.min(BAR_WIDTH - 1, Math.floor(((ns - start) / span) * BAR_WIDTH));
  const micros = (ns: number): string => (ns / 1000).toFixed(2);
  const axis = `${' '.repeat(labelWidth)} ${micros(start)} µs`.padEnd(labelWidth + BAR_WIDTH - 6) + `${micros(end)} µs`;
  const lines = [axis];
  for (const op of ops) {
    const from = column(op.invokeNs);
    const to = Math.max(from, column(op.responseNs));
    const bar = ' '.repeat(from) + (op.context ? '░' : '■').repeat(to - from + 1) + ' '.repeat(BAR_WIDTH - to - 1);
    const label = `${op.thread >= 0 ? `t${op.thread}` : '  '}  ${op.op}`.padEnd(labelWidth);
    lines.push(`${label}|${bar}|  ${micros(op.invokeNs)}–${micros(op.responseNs)} µs`);
  }
  return lines;
}

function row(op: HistoryOp): CounterexampleOp {
  return { thread: op.thread, op: describeOp(op), invokeNs: op.invokeNs, responseNs: op.responseNs };
}

function keyOpRow(history: History, keyOp: KeyOp, key: number): CounterexampleOp {
  const recorded = history.ops[keyOp.source];
  if (keyOp.probe === 'forEach') {
    const op = keyOp.result === ABSENT ? `forEach() did not report ${key}` : `forEach() saw ${key} = ${keyOp.result}`;
    return { thread: recorded.thread, op, invokeNs: keyOp.invokeNs, responseNs: keyOp.responseNs };
  }
  return row(recorded);
}

/**
 * The cut ops a reader needs to follow the example: for each starting state
 * and each value the remaining ops observed, the latest cut op that wrote it
 * (a delete for "absent").
 */
function explainingOps(cutHead: readonly KeyOp[], states: readonly number[], remaining: readonly KeyOp[]): KeyOp[] {
  const wanted = new Set<number>(states);
  for (const op of remaining) {
    const observed = observedValue(op);
    if (observed !== undefined) wanted.add(observed);
  }
  const found = new Set<KeyOp>();
  for (const state of wanted) {
    let latest: KeyOp | undefined;
    for (const op of cutHead) {
      if (writtenState(op) === state && (!latest || op.responseNs > latest.responseNs)) latest = op;
    }
    if (latest) found.add(latest);
  }
  return [...found].sort((a, b) => a.invokeNs - b.invokeNs);
}

/** The value an op saw in the map, if it reports one. */
function observedValue(op: KeyOp): number | undefined {
  switch (op.kind) {
    case KeyOpKind.get:
      return op.result === ABSENT ? undefined : op.result;
    case KeyOpKind.getOrSet:
      return op.result === op.arg1 ? undefined : op.result;
    case KeyOpKind.compareAndSet:
      return op.result === 1 ? op.arg1 : undefined;
    case KeyOpKind.add:
      return op.result - op.arg1;
    default:
      return undefined;
  }
}

function describeStates(states: readonly number[]): string {
  return states.length === 1 ? describeState(states[0]) : `one of ${states.map(describeState).join(', ')}`;
}

function byInvocation(a: HistoryOp, b: HistoryOp): number {
  return a.invokeNs - b.invokeNs || a.responseNs - b.responseNs;
}
