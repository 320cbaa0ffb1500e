/**
 * A recorded history: every operation the workers ran against one map, with
 * its arguments, its result and its invocation and response times on one
 * process-wide monotonic clock (nanoseconds relative to the history's first
 * invocation). Plain JSON-serialisable data, so a history can be written into
 * a test, stored in a results file or replayed through the checker.
 *
 * Real-time order: op A precedes op B iff A.responseNs < B.invokeNs. Equal
 * times count as overlapping, the conservative reading (it never invents an
 * order the clock did not see).
 */

/** The eight map operations a history may contain. */
export type VerifyOpName = 'get' | 'set' | 'delete' | 'getOrSet' | 'compareAndSet' | 'add' | 'size' | 'forEach';

export const VERIFY_OP_NAMES: readonly VerifyOpName[] = [
  'get',
  'set',
  'delete',
  'getOrSet',
  'compareAndSet',
  'add',
  'size',
  'forEach',
];

/** A (key, value) pair reported by forEach, in the order reported. */
export type ForEachEntry = readonly [key: number, value: number];

/**
 * One completed operation.
 *
 * | kind          | key      | args                 | result                          |
 * |---------------|----------|----------------------|---------------------------------|
 * | get           | the key  | []                   | value, or null when absent      |
 * | set           | the key  | [value]              | null                            |
 * | delete        | the key  | []                   | true if the key was present     |
 * | getOrSet      | the key  | [value]              | the value stored after the call |
 * | compareAndSet | the key  | [expected, value]    | true if it swapped              |
 * | add           | the key  | [delta]              | the new value                   |
 * | size          | −1       | []                   | the count returned              |
 * | forEach       | −1       | []                   | the entries reported            |
 */
export interface HistoryOp {
  /** Index of the worker thread that ran it (0-based). */
  thread: number;
  kind: VerifyOpName;
  key: number;
  args: readonly number[];
  result: number | boolean | null | readonly ForEachEntry[];
  invokeNs: number;
  responseNs: number;
}

export interface History {
  /** Key space the ops were drawn from: keys 0..keys−1. forEach completeness is judged over it. */
  keys: number;
  /** Every completed op; order does not matter (times decide). */
  ops: HistoryOp[];
}

/** How an op reads in a timeline: `add(3, +2) → 10007`. */
export function describeOp(op: HistoryOp): string {
  return `${describeCall(op)}${describeResult(op)}`;
}

export function describeCall(op: HistoryOp): string {
  switch (op.kind) {
    case 'get':
    case 'delete':
      return `${op.kind}(${op.key})`;
    case 'set':
    case 'getOrSet':
      return `${op.kind}(${op.key}, ${op.args[0]})`;
    case 'compareAndSet':
      return `compareAndSet(${op.key}, ${op.args[0]}, ${op.args[1]})`;
    case 'add':
      return `add(${op.key}, ${op.args[0] >= 0 ? '+' : ''}${op.args[0]})`;
    case 'size':
    case 'forEach':
      return `${op.kind}()`;
  }
}

export function describeResult(op: HistoryOp): string {
  if (op.kind === 'set') return '';
  if (op.kind === 'forEach') {
    const entries = op.result as readonly ForEachEntry[];
    return ` → {${entries.map(([key, value]) => `${key}: ${value}`).join(', ')}}`;
  }
  return ` → ${op.result === null ? 'absent' : String(op.result)}`;
}

/** How many ops overlap (in real time) at least one op of another thread. */
export function overlappingOps(history: History): number {
  const ops = [...history.ops].sort((a, b) => a.invokeNs - b.invokeNs);
  let count = 0;
  for (let index = 0; index < ops.length; index++) {
    const op = ops[index];
    for (let other = 0; other < ops.length; other++) {
      const candidate = ops[other];
      if (candidate.invokeNs > op.responseNs) break;
      if (candidate.thread !== op.thread && candidate.responseNs >= op.invokeNs) {
        count++;
        break;
      }
    }
  }
  return count;
}
