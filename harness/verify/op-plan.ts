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
import { VERIFY_OP_NAMES, type VerifyOpName } from './history.js';

/** Op codes in a plan and a thread record: the index in VERIFY_OP_NAMES. */
export const PlanOp = Object.fromEntries(VERIFY_OP_NAMES.map((name, code) => [name, code])) as Record<VerifyOpName, number>;

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

export function planOps(parameters: PlanParameters): OpPlan {
  const { opsPerHistory, keys, thread, threads, maxJitterSpins } = parameters;
  const random = seededRandom(mixSeed(parameters.seed, parameters.historyIndex, thread));
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

/** Mixes seed, history and thread into one 32-bit seed (a murmur3-style finaliser per input). */
export function mixSeed(...parts: number[]): number {
  let hash = 0x9e3779b9;
  for (const part of parts) {
    hash = Math.imul(hash ^ (part | 0), 0x85ebca6b);
    hash ^= hash >>> 13;
    hash = Math.imul(hash, 0xc2b2ae35);
    hash ^= hash >>> 16;
  }
  return hash >>> 0;
}

/** mulberry32: a small, fast 32-bit generator; uniform in [0, 1). Plenty for op plans. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}
