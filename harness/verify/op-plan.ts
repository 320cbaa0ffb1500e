/**
 * What one thread does in one history: a short random op sequence, generated
 * from (seed, history, thread) before the start barrier so the recorded
 * window holds nothing but map calls and clock reads.
 *
 * Ops collide on purpose: keys come from a small key space (4–8 keys), all
 * eight operations appear, and every value a thread writes is unique to the
 * write — (thread + 1) · 10000 + op index, so 20003 reads "thread 1, op 3" in
 * a timeline — which makes a stale or lost value name its writer. add uses
 * small deltas (1–3); compareAndSet mostly expects the value this thread saw
 * last for the key (so it succeeds often enough to matter), otherwise some
 * other thread's value.
 */
import { mixSeed, Sfc32 } from '../../workloads/random.js';
import { VERIFY_OP_NAMES, type VerifyOpName } from './history.js';

/** Op codes in a plan and a thread record: the index in VERIFY_OP_NAMES. */
export const PlanOp = Object.fromEntries(VERIFY_OP_NAMES.map((name, code) => [name, code])) as Record<
  VerifyOpName,
  number
>;

/** Relative frequency of each op (out of 100). */
export const OP_WEIGHTS: Readonly<Record<VerifyOpName, number>> = {
  get: 20,
  set: 15,
  delete: 10,
  getOrSet: 12,
  compareAndSet: 12,
  add: 15,
  size: 8,
  forEach: 8,
};

/** Writes encode the writer: value = (thread + 1) · VALUE_STRIDE + op index (op index < VALUE_STRIDE). */
export const VALUE_STRIDE = 10_000;
export const MAX_OPS_PER_HISTORY = VALUE_STRIDE - 1;
/** compareAndSet in a plan: expect the value this thread last saw for the key. */
export const EXPECT_LAST_SEEN = -0x80000000;

export interface OpPlan {
  ops: Uint8Array;
  keys: Int32Array;
  /** set/getOrSet: value; add: delta; compareAndSet: new value. */
  values: Int32Array;
  /** compareAndSet: the expected value, or EXPECT_LAST_SEEN. */
  expected: Int32Array;
  /** Busy-wait iterations before each op, so threads drift against each other. */
  jitterSpins: Uint16Array;
}

export interface PlanParameters {
  seed: number;
  historyIndex: number;
  thread: number;
  threads: number;
  opsPerHistory: number;
  keys: number;
  /** Upper bound of the busy-wait before each op (iterations; 0 disables). */
  maxJitterSpins: number;
}

/** The `purpose` of verify's op streams in workloads/random.ts's seed mixing (distinct from the workloads' own). */
const VERIFY_STREAM_PURPOSE = 0x7e71f7;

export function planOps(parameters: PlanParameters): OpPlan {
  const { opsPerHistory, keys, thread, threads, maxJitterSpins } = parameters;
  // One stream per (seed, history, thread): the history folded in by a second mix.
  const generator = new Sfc32(
    mixSeed(mixSeed(parameters.seed, VERIFY_STREAM_PURPOSE, parameters.historyIndex), VERIFY_STREAM_PURPOSE, thread),
  );
  const random = (): number => generator.nextFloat();
  const plan: OpPlan = {
    ops: new Uint8Array(opsPerHistory),
    keys: new Int32Array(opsPerHistory),
    values: new Int32Array(opsPerHistory),
    expected: new Int32Array(opsPerHistory),
    jitterSpins: new Uint16Array(opsPerHistory),
  };
  const totalWeight = VERIFY_OP_NAMES.reduce((sum, name) => sum + OP_WEIGHTS[name], 0);
  for (let index = 0; index < opsPerHistory; index++) {
    let pick = random() * totalWeight;
    let kind: VerifyOpName = 'get';
    for (const name of VERIFY_OP_NAMES) {
      pick -= OP_WEIGHTS[name];
      if (pick < 0) {
        kind = name;
        break;
      }
    }
    plan.ops[index] = PlanOp[kind];
    plan.keys[index] = Math.floor(random() * keys);
    plan.values[index] = kind === 'add' ? 1 + Math.floor(random() * 3) : (thread + 1) * VALUE_STRIDE + index;
    if (kind === 'compareAndSet') {
      const otherThread = Math.floor(random() * threads);
      const otherIndex = Math.floor(random() * opsPerHistory);
      plan.expected[index] = random() < 0.75 ? EXPECT_LAST_SEEN : (otherThread + 1) * VALUE_STRIDE + otherIndex;
    }
    plan.jitterSpins[index] = random() < 0.5 ? 0 : Math.floor(random() * (maxJitterSpins + 1));
  }
  return plan;
}
