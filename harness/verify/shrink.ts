/**
 * Shrinks one key's non-linearizable sub-history to a small counterexample.
 *
 * "Drop ops while it stays non-linearizable" alone would be unsound: drop the
 * set that wrote a value and a correct read of that value becomes "a value
 * from nowhere" — a violation of the shrunk history that the map never
 * committed. So the shrinker only makes moves after which "the shrunk history
 * is not linearizable" still implies "the recorded one is not":
 *
 * 1. Drop a read-only op (a get, a failed delete or compareAndSet, a getOrSet
 *    that returned an existing value, a forEach observation): removing an op
 *    that changes no state from a valid order leaves a valid order.
 * 2. Cut a tail: at an instant when no op of the key is in flight, drop every
 *    op invoked after it. Ops before it precede the tail in real time, so any
 *    valid order of the whole starts with a valid order of the head.
 * 3. Cut a head: at such an instant, drop every op that returned before it and
 *    start the rest from the set of states the head can end in (all of them,
 *    found by an exhaustive search). The whole is linearizable iff the rest is
 *    from one of those states, so this move keeps the verdict exactly.
 *
 * Moves repeat until none applies; every candidate is re-checked, and a check
 * that runs out of budget counts as "keep the op".
 */
import { checkKeyOps, reachableFinalStates, type StepBudget } from './linearizability.js';
import { ABSENT, isReadOnly, type KeyOp } from './model.js';

export interface ShrunkKeyHistory {
  /** The remaining ops, in invocation order. */
  ops: KeyOp[];
  /** The states the key may be in before them (ABSENT alone when no head was cut). */
  initialStates: number[];
  /** The ops cut from the head, in invocation order (they decided initialStates). */
  cutHead: KeyOp[];
  /** Ops dropped by cutting the head, the tail, and read-only ops dropped one by one. */
  droppedHead: number;
  droppedTail: number;
  droppedReads: number;
}

/** `ops` must be non-linearizable from `initialStates`; the result is too, and is no larger. */
export function shrinkKeyHistory(
  ops: readonly KeyOp[],
  budget: StepBudget,
  initialStates: readonly number[] = [ABSENT],
): ShrunkKeyHistory {
  let current: ShrunkKeyHistory = {
    ops: [...ops].sort(byInvocation),
    initialStates: [...initialStates],
    cutHead: [],
    droppedHead: 0,
    droppedTail: 0,
    droppedReads: 0,
  };
  const isViolation = (candidate: readonly KeyOp[], states: readonly number[]): boolean =>
    checkKeyOps(candidate, states, budget) === 'violation';

  for (let changed = true; changed && budget.remaining > 0;) {
    changed = false;

    // 2. The earliest quiescent cut whose head is already a violation (monotone: binary search).
    const tailCuts = quiescentCuts(current.ops);
    let low = 0;
    let high = tailCuts.length - 1;
    let bestTail = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (isViolation(current.ops.slice(0, tailCuts[middle]), current.initialStates)) {
        bestTail = tailCuts[middle];
        high = middle - 1;
      } else {
        low = middle + 1;
      }
    }
    if (bestTail > 0) {
      current = {
        ...current,
        ops: current.ops.slice(0, bestTail),
        droppedTail: current.droppedTail + current.ops.length - bestTail,
      };
      changed = true;
    }

    // 3. The latest quiescent cut whose head can still be linearized (monotone too).
    const headCuts = quiescentCuts(current.ops);
    low = 0;
    high = headCuts.length - 1;
    let bestHead: { cut: number; states: number[] } | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const states = reachableFinalStates(current.ops.slice(0, headCuts[middle]), current.initialStates, budget);
      if (states !== null && states.length > 0) {
        bestHead = { cut: headCuts[middle], states };
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    if (bestHead) {
      current = {
        ...current,
        ops: current.ops.slice(bestHead.cut),
        initialStates: bestHead.states.sort((a, b) => a - b),
        cutHead: [...current.cutHead, ...current.ops.slice(0, bestHead.cut)],
        droppedHead: current.droppedHead + bestHead.cut,
      };
      changed = true;
    }

    // 1. Read-only ops, one at a time, latest first.
    for (let index = current.ops.length - 1; index >= 0 && budget.remaining > 0; index--) {
      if (!isReadOnly(current.ops[index])) continue;
      const without = current.ops.filter((_, other) => other !== index);
      if (isViolation(without, current.initialStates)) {
        current = { ...current, ops: without, droppedReads: current.droppedReads + 1 };
        changed = true;
      }
    }
  }
  return current;
}

/**
 * Cut positions c (1 ≤ c < ops.length) in invocation-sorted ops such that every
 * op before c returned before every op from c on was invoked.
 */
function quiescentCuts(sorted: readonly KeyOp[]): number[] {
  const cuts: number[] = [];
  let latestResponse = -Infinity;
  for (let index = 0; index < sorted.length; index++) {
    if (index > 0 && latestResponse < sorted[index].invokeNs) cuts.push(index);
    latestResponse = Math.max(latestResponse, sorted[index].responseNs);
  }
  return cuts;
}

function byInvocation(a: KeyOp, b: KeyOp): number {
  return a.invokeNs - b.invokeNs || a.responseNs - b.responseNs;
}
