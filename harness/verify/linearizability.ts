/**
 * Linearizability of one key's sub-history: the Wing–Gong search with Lowe's
 * improvements, as the Porcupine checker runs it.
 *
 * The history becomes a doubly linked list of call and return events in time
 * order (a call before a return at the same instant: ties count as overlap).
 * The search walks the list: at a call it tries to linearize that op next —
 * run the model; if the result fits, record (set of linearized ops, state) in
 * a cache, push, unlink the op's call and return, restart from the head. At a
 * return whose call is not linearized yet it backtracks: that op had to take
 * effect before its return and nothing ordered it there. The cache is what
 * makes it practical: two paths that linearized the same set of ops and
 * reached the same state have the same future, so the second is cut.
 *
 * Only the call events before the first pending return are candidates, which
 * is exactly the set of ops that no unlinearized op precedes in real time.
 *
 * Each attempt to linearize an op costs one step of a shared budget; when it
 * runs out the answer is 'inconclusive', never a guess.
 */
import { INVALID, step, type KeyOp } from './model.js';

export type SearchOutcome = 'linearizable' | 'violation' | 'inconclusive';

/** Steps left for this history's searches; every search takes from it. */
export interface StepBudget {
  remaining: number;
}

/** Is there an order of `ops`, respecting real time, that the model accepts starting from one of `initialStates`? */
export function checkKeyOps(
  ops: readonly KeyOp[],
  initialStates: readonly number[],
  budget: StepBudget,
): SearchOutcome {
  return search(ops, initialStates, budget, false).outcome;
}

/**
 * Every state the key can be in after all of `ops` (under some linearization
 * from some initial state); empty when none exists, null when the budget ran out.
 */
export function reachableFinalStates(
  ops: readonly KeyOp[],
  initialStates: readonly number[],
  budget: StepBudget,
): number[] | null {
  const { outcome, finalStates } = search(ops, initialStates, budget, true);
  return outcome === 'inconclusive' ? null : finalStates;
}

const NIL = -1;

function search(
  ops: readonly KeyOp[],
  initialStates: readonly number[],
  budget: StepBudget,
  collectFinalStates: boolean,
): { outcome: SearchOutcome; finalStates: number[] } {
  const opCount = ops.length;
  if (opCount === 0) return { outcome: 'linearizable', finalStates: [...new Set(initialStates)] };

  // Events: entry 2i is op i's call, 2i+1 its return; `order` sorts them by time.
  const times = new Float64Array(2 * opCount);
  const order: number[] = new Array<number>(2 * opCount);
  for (let index = 0; index < opCount; index++) {
    times[2 * index] = ops[index].invokeNs;
    times[2 * index + 1] = ops[index].responseNs;
    order[2 * index] = 2 * index;
    order[2 * index + 1] = 2 * index + 1;
  }
  order.sort((a, b) => times[a] - times[b] || (a & 1) - (b & 1) || a - b);

  const head = 2 * opCount;
  const next = new Int32Array(2 * opCount + 1);
  const prev = new Int32Array(2 * opCount + 1);
  let last = head;
  for (const entry of order) {
    next[last] = entry;
    prev[entry] = last;
    last = entry;
  }
  next[last] = NIL;

  const lift = (call: number): void => {
    const ret = call + 1;
    next[prev[call]] = next[call];
    prev[next[call]] = prev[call]; // a call is always followed by its return, never NIL
    next[prev[ret]] = next[ret];
    if (next[ret] !== NIL) prev[next[ret]] = prev[ret];
  };
  const unlift = (call: number): void => {
    const ret = call + 1;
    next[prev[ret]] = ret;
    if (next[ret] !== NIL) prev[next[ret]] = ret;
    next[prev[call]] = call;
    prev[next[call]] = call;
  };

  const linearized = new Uint32Array(Math.ceil(opCount / 32));
  const cacheKey =
    linearized.length === 1
      ? (state: number): string => `${linearized[0]}|${state}`
      : (state: number): string => `${linearized.join(',')}|${state}`;
  // Shared by every initial state: a (linearized set, state) node has one future whatever led to it.
  const seen = new Set<string>();
  const stackCall = new Int32Array(opCount);
  const stackState = new Float64Array(opCount);
  const finalStates = new Set<number>();

  for (const initialState of initialStates) {
    let depth = 0;
    let state = initialState;
    let entry = next[head];
    for (;;) {
      let backtrack = false;
      if (entry === NIL) {
        if (!collectFinalStates) return { outcome: 'linearizable', finalStates: [] };
        finalStates.add(state);
        backtrack = true;
      } else if ((entry & 1) === 0) {
        if (budget.remaining <= 0) return { outcome: 'inconclusive', finalStates: [] };
        budget.remaining--;
        const opIndex = entry >> 1;
        const nextState = step(state, ops[opIndex]);
        if (nextState !== INVALID) {
          linearized[opIndex >> 5] |= 1 << (opIndex & 31);
          const key = cacheKey(nextState);
          if (!seen.has(key)) {
            seen.add(key);
            stackCall[depth] = entry;
            stackState[depth] = state;
            depth++;
            state = nextState;
            lift(entry);
            entry = next[head];
            continue;
          }
          linearized[opIndex >> 5] &= ~(1 << (opIndex & 31));
        }
        entry = next[entry];
      } else {
        backtrack = true;
      }
      if (backtrack) {
        if (depth === 0) break;
        depth--;
        const call = stackCall[depth];
        state = stackState[depth];
        const opIndex = call >> 1;
        linearized[opIndex >> 5] &= ~(1 << (opIndex & 31));
        unlift(call);
        entry = next[call];
      }
    }
  }
  if (collectFinalStates && finalStates.size > 0) return { outcome: 'linearizable', finalStates: [...finalStates] };
  return { outcome: 'violation', finalStates: [] };
}
