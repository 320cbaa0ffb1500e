/**
 * Checks one recorded history against the map contract.
 *
 * Single-key ops (get, set, delete, getOrSet, compareAndSet, add) must be
 * linearizable. Linearizability is compositional (P-compositionality): the
 * history is linearizable iff every key's sub-history is, so each key is
 * searched on its own (linearizability.ts) — small searches instead of one
 * exponential one.
 *
 * size and forEach span keys, and the maps do not promise a snapshot (Go's
 * Range does not either). They are checked against the weaker, per-key
 * guarantee, made precise by turning each call into one observation per key
 * that must fit into that key's linearization somewhere inside the call:
 *
 * - forEach: every key it reports, with value v, is an observation "key held v
 *   at some instant during the call" — a get returning v with the call's
 *   interval — in that key's sub-history. With `foreachCheck: 'complete'`
 *   every key of the key space it does not report is an observation "key was
 *   absent at some instant during the call" (Go's Range visits every key
 *   present throughout); with 'reported' unreported keys are not judged. No
 *   key may be reported twice.
 * - size: with `sizeCheck: 'bounds'` the count must lie in [min, max], where
 *   min = keys that cannot have been absent at any instant of the call and
 *   max = keys that can have been present at some instant of it — each
 *   decided by a search with a presence probe over the call's interval. That
 *   admits any size() that adds up per-key (or per-shard) presence read at
 *   different instants inside the call, and a counter updated inside each
 *   write's own interval; a count that lags (a batched counter) fails.
 */
import type { History, HistoryOp } from './history.js';
import { checkKeyOps, type SearchOutcome, type StepBudget } from './linearizability.js';
import { ABSENT, KeyOpKind, toKeyOp, writtenState, type KeyOp } from './model.js';

export type ForEachCheck = 'complete' | 'reported' | 'off';
export type SizeCheck = 'bounds' | 'off';

export interface CheckOptions {
  /** Steps (attempts to linearize an op) the whole history may spend before it is 'inconclusive'. */
  stepBudget: number;
  foreachCheck: ForEachCheck;
  sizeCheck: SizeCheck;
}

export const DEFAULT_CHECK_OPTIONS: CheckOptions = {
  stepBudget: 100_000,
  foreachCheck: 'complete',
  sizeCheck: 'bounds',
};

export type Violation =
  | {
      kind: 'linearizability';
      key: number;
      /** The key's whole sub-history (recorded ops and forEach observations). */
      keyOps: KeyOp[];
    }
  | {
      kind: 'forEach-duplicate';
      /** Index in History.ops of the forEach call. */
      opIndex: number;
      key: number;
    }
  | {
      kind: 'size-bounds';
      opIndex: number;
      min: number;
      max: number;
      /** Keys that were present at every instant of the call. */
      certainlyPresent: number[];
      /** Keys that may have been present at some instant of the call (includes certainlyPresent). */
      possiblyPresent: number[];
    };

export interface HistoryVerdict {
  outcome: 'linearizable' | 'violation' | 'inconclusive';
  /** Search steps spent. */
  steps: number;
  violation?: Violation;
}

/** Checks `history`; throws TypeError on a malformed one (a response before its invocation, an unknown kind). */
export function checkHistory(history: History, options: CheckOptions = DEFAULT_CHECK_OPTIONS): HistoryVerdict {
  validateHistory(history);
  const budget: StepBudget = { remaining: options.stepBudget };
  const spent = (): number => options.stepBudget - budget.remaining;

  for (let index = 0; index < history.ops.length; index++) {
    const op = history.ops[index];
    if (op.kind !== 'forEach' || options.foreachCheck === 'off') continue;
    const reported = new Set<number>();
    for (const [key] of op.result as readonly (readonly [number, number])[]) {
      if (reported.has(key))
        return { outcome: 'violation', steps: 0, violation: { kind: 'forEach-duplicate', opIndex: index, key } };
      reported.add(key);
    }
  }

  const keyHistories = splitByKey(history, options.foreachCheck);
  let inconclusive = false;
  // Smallest sub-histories first: a violation found there makes the shortest counterexample.
  const keys = [...keyHistories.keys()].sort(
    (a, b) => keyHistories.get(a)!.length - keyHistories.get(b)!.length || a - b,
  );
  const verdicts = new Map<number, SearchOutcome>();
  for (const key of keys) {
    const keyOps = keyHistories.get(key)!;
    const outcome = checkKeyOps(keyOps, [ABSENT], budget);
    verdicts.set(key, outcome);
    if (outcome === 'violation') {
      return { outcome: 'violation', steps: spent(), violation: { kind: 'linearizability', key, keyOps } };
    }
    if (outcome === 'inconclusive') inconclusive = true;
  }

  if (options.sizeCheck === 'bounds' && !inconclusive) {
    for (let index = 0; index < history.ops.length; index++) {
      const op = history.ops[index];
      if (op.kind !== 'size') continue;
      const judged = judgeSize(op, keyHistories, budget);
      if (judged === 'unknown') inconclusive = true;
      if (judged === 'violation') {
        const bounds = sizeBounds(op, keyHistories, budget);
        return {
          outcome: 'violation',
          steps: spent(),
          violation: {
            kind: 'size-bounds',
            opIndex: index,
            min: bounds.certainlyPresent.length,
            max: bounds.possiblyPresent.length,
            certainlyPresent: bounds.certainlyPresent,
            possiblyPresent: bounds.possiblyPresent,
          },
        };
      }
    }
  }
  return { outcome: inconclusive ? 'inconclusive' : 'linearizable', steps: spent() };
}

/**
 * Each key's sub-history: its single-key ops plus one observation per forEach
 * call (see the file comment). Keys: the key space, every key an op names and
 * every key a forEach reported.
 */
export function splitByKey(history: History, foreachCheck: ForEachCheck): Map<number, KeyOp[]> {
  const byKey = new Map<number, KeyOp[]>();
  const opsOf = (key: number): KeyOp[] => {
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    return list;
  };
  for (let key = 0; key < history.keys; key++) opsOf(key);
  history.ops.forEach((op, index) => {
    if (op.kind === 'size') return;
    if (op.kind === 'forEach') {
      for (const [key] of op.result as readonly (readonly [number, number])[]) opsOf(key);
      return;
    }
    opsOf(op.key).push(toKeyOp(op, index));
  });
  if (foreachCheck === 'off') return byKey;
  history.ops.forEach((op, index) => {
    if (op.kind !== 'forEach') return;
    const reported = new Map(op.result as readonly (readonly [number, number])[]);
    for (const [key, keyOps] of byKey) {
      const value = reported.get(key);
      if (value === undefined && foreachCheck === 'reported') continue;
      keyOps.push({
        kind: KeyOpKind.get,
        arg1: 0,
        arg2: 0,
        result: value ?? ABSENT,
        invokeNs: op.invokeNs,
        responseNs: op.responseNs,
        source: index,
        probe: 'forEach',
      });
    }
  });
  return byKey;
}

/**
 * Whether size's count lies in [min, max] (file comment), probing only as
 * many keys as the answer needs: the count needs `count` keys that can have
 * been present, and `candidates − count` that can have been absent. A probe
 * that runs out of budget counts as "can", and makes a pass 'unknown'.
 */
function judgeSize(
  sizeOp: HistoryOp,
  keyHistories: Map<number, KeyOp[]>,
  budget: StepBudget,
): 'ok' | 'violation' | 'unknown' {
  const count = sizeOp.result as number;
  const candidates = sizeCandidates(sizeOp, keyHistories);
  if (!Number.isInteger(count) || count < 0 || count > candidates.length) return 'violation';
  let unknown = false;
  const enough = (present: boolean, needed: number): boolean => {
    let found = 0;
    for (const keyOps of candidates) {
      if (found >= needed) break;
      const outcome = probePresence(sizeOp, keyOps, present, budget);
      if (outcome === 'inconclusive') unknown = true;
      if (outcome !== 'violation') found++;
    }
    return found >= needed;
  };
  if (!enough(true, count) || !enough(false, candidates.length - count)) return 'violation';
  return unknown ? 'unknown' : 'ok';
}

interface SizeBounds {
  certainlyPresent: number[];
  possiblyPresent: number[];
}

/** Every key's classification, for the message of a size violation. */
function sizeBounds(sizeOp: HistoryOp, keyHistories: Map<number, KeyOp[]>, budget: StepBudget): SizeBounds {
  const bounds: SizeBounds = { certainlyPresent: [], possiblyPresent: [] };
  for (const [key, keyOps] of keyHistories) {
    if (!sizeCandidates(sizeOp, new Map([[key, keyOps]])).length) continue;
    if (probePresence(sizeOp, keyOps, true, budget) !== 'violation') bounds.possiblyPresent.push(key);
    if (probePresence(sizeOp, keyOps, false, budget) === 'violation') bounds.certainlyPresent.push(key);
  }
  return bounds;
}

/** Keys something may have written before the size call returned; every other key was absent throughout it. */
function sizeCandidates(sizeOp: HistoryOp, keyHistories: Map<number, KeyOp[]>): KeyOp[][] {
  const candidates: KeyOp[][] = [];
  for (const keyOps of keyHistories.values()) {
    if (keyOps.some((op) => op.invokeNs <= sizeOp.responseNs && op.probe === undefined && stores(op)))
      candidates.push(keyOps);
  }
  return candidates;
}

/** Can the key have been present (or absent) at some instant of the size call, consistently with its sub-history? */
function probePresence(
  sizeOp: HistoryOp,
  keyOps: readonly KeyOp[],
  present: boolean,
  budget: StepBudget,
): SearchOutcome {
  const presence: KeyOp = {
    kind: KeyOpKind.present,
    arg1: 0,
    arg2: 0,
    result: present ? 1 : 0,
    invokeNs: sizeOp.invokeNs,
    responseNs: sizeOp.responseNs,
    source: -1,
    probe: 'size',
  };
  return checkKeyOps([...keyOps, presence], [ABSENT], budget);
}

/** Whether the op can have stored a value (a key nothing stores into stays absent). */
function stores(op: KeyOp): boolean {
  const state = writtenState(op);
  return state !== undefined && state !== ABSENT;
}

function validateHistory(history: History): void {
  if (!Number.isInteger(history.keys) || history.keys < 0)
    throw new TypeError(`history.keys must be an integer ≥ 0, got ${history.keys}`);
  history.ops.forEach((op, index) => {
    if (!(op.responseNs >= op.invokeNs)) {
      throw new TypeError(
        `history.ops[${index}] (${op.kind}) responds at ${op.responseNs} ns, before its invocation at ${op.invokeNs} ns`,
      );
    }
  });
}
