/**
 * The recording worker (a piscina task module; loaded as compiled .js).
 *
 * One task = one thread's part of a batch of histories. For each history the
 * thread plans its ops, attaches to that history's fresh map, waits at the
 * history's start barrier with the other threads, then runs the ops back to
 * back, reading the clock right before each call and right after it returns.
 * process.hrtime.bigint() is CLOCK_MONOTONIC: one clock for every thread of
 * the process (performance.now() has a per-thread origin, so it is not used).
 * The raw bigint is kept, not harness/trial/clock.ts's monotonicNs(): that Number
 * stops being exact to the nanosecond past 2^53 ns (~104 days of uptime), and
 * "returned before the other was called" is decided at nanosecond grain.
 *
 * An op that throws ends this thread's part of the history and marks the
 * history abandoned, so the other threads stop it too: the map may be
 * corrupt (the unsynchronised map throws "concurrent map writes" exactly
 * when it detects that), and the op's effect is unknown.
 */
import type { ConcurrentMap, MapHandle } from '../../maps/types.js';
import { BatchControl } from './barrier.js';
import { loadMapFactory, type MapSource } from '../run/map-source.js';
import { ABSENT } from './model.js';
import { EXPECT_LAST_SEEN, MAX_OPS_PER_HISTORY, PlanOp, planOps, VALUE_STRIDE, type OpPlan } from './op-plan.js';

/** Op index MAX_OPS_PER_HISTORY is never planned: a compareAndSet with nothing seen expects a value nobody wrote. */
const NEVER_WRITTEN_OFFSET = MAX_OPS_PER_HISTORY;

export interface RecordTask {
  map: MapSource;
  /** One fresh map per history of the batch. */
  handles: MapHandle[];
  /** Index of the batch's first history in the run (seeds the op plans). */
  firstHistoryIndex: number;
  thread: number;
  threads: number;
  opsPerHistory: number;
  keys: number;
  seed: number;
  maxJitterSpins: number;
  barrierTimeoutMs: number;
  /** BatchControl words (shared). */
  control: SharedArrayBuffer;
}

/** What one thread did in one history; index i is its op i (only the first `completed` are valid). */
export interface ThreadRecord {
  thread: number;
  ops: Uint8Array;
  keys: Int32Array;
  /** set/getOrSet: value; add: delta; compareAndSet: expected. */
  args1: Int32Array;
  /** compareAndSet: new value. */
  args2: Int32Array;
  /** Values (ABSENT for "absent"), booleans as 1/0, size's count; unused for set and forEach. */
  results: Int32Array;
  invokeNs: BigInt64Array;
  responseNs: BigInt64Array;
  /** forEach ops: the reported pairs flattened (key, value, key, value…); null for other ops. */
  entries: Array<Int32Array | null>;
  completed: number;
  /** The op at index `completed` threw this (its responseNs is when the exception was caught). */
  exception?: { name: string; message: string };
}

export default async function recordHistories(task: RecordTask): Promise<ThreadRecord[]> {
  const factory = await loadMapFactory(task.map);
  const control = new BatchControl(task.control, task.handles.length);
  const records: ThreadRecord[] = [];
  for (let batchIndex = 0; batchIndex < task.handles.length; batchIndex++) {
    const plan = planOps({
      seed: task.seed,
      historyIndex: task.firstHistoryIndex + batchIndex,
      thread: task.thread,
      threads: task.threads,
      opsPerHistory: task.opsPerHistory,
      keys: task.keys,
      maxJitterSpins: task.maxJitterSpins,
    });
    const map = factory.attach(task.handles[batchIndex]);
    const record = emptyRecord(task.thread, task.opsPerHistory);
    if (!control.arriveAndWait(batchIndex, task.threads, task.barrierTimeoutMs)) break;
    runHistory(map, plan, record, control, batchIndex, task);
    map.quiesce?.();
    records.push(record);
  }
  return records;
}

function runHistory(
  map: ConcurrentMap,
  plan: OpPlan,
  record: ThreadRecord,
  control: BatchControl,
  batchIndex: number,
  task: RecordTask,
): void {
  const lastSeen = new Int32Array(task.keys).fill(ABSENT);
  const collected: number[] = [];
  const collect = (key: number, value: number): void => {
    collected.push(key, value);
  };
  for (let index = 0; index < plan.ops.length; index++) {
    if (control.isAbandoned(batchIndex)) return;
    for (let spin = plan.jitterSpins[index]; spin > 0; spin--) Atomics.load(control.words, 0);
    const op = plan.ops[index];
    const key = plan.keys[index];
    let arg1 = plan.values[index];
    let arg2 = 0;
    if (op === PlanOp.compareAndSet) {
      arg2 = arg1;
      arg1 =
        plan.expected[index] !== EXPECT_LAST_SEEN
          ? plan.expected[index]
          : lastSeen[key] !== ABSENT
            ? lastSeen[key]
            : NEVER_WRITTEN_OFFSET + (task.thread + 1) * VALUE_STRIDE;
    }
    let result = 0;
    collected.length = 0;

    // The recorded window: clock, one map call, clock.
    const invokeNs = process.hrtime.bigint();
    try {
      switch (op) {
        case PlanOp.get:
          result = map.get(key) ?? ABSENT;
          break;
        case PlanOp.set:
          map.set(key, arg1);
          break;
        case PlanOp.delete:
          result = map.delete(key) ? 1 : 0;
          break;
        case PlanOp.getOrSet:
          result = map.getOrSet(key, arg1);
          break;
        case PlanOp.compareAndSet:
          result = map.compareAndSet(key, arg1, arg2) ? 1 : 0;
          break;
        case PlanOp.add:
          result = map.add(key, arg1);
          break;
        case PlanOp.size:
          result = map.size();
          break;
        case PlanOp.forEach:
          map.forEach(collect);
          break;
      }
    } catch (error) {
      record.responseNs[index] = process.hrtime.bigint();
      record.invokeNs[index] = invokeNs;
      record.exception = {
        name: error instanceof Error ? error.name : 'Error',
        message: error instanceof Error ? error.message : String(error),
      };
      record.ops[index] = op;
      record.keys[index] = key;
      record.args1[index] = arg1;
      record.args2[index] = arg2;
      control.abandon(batchIndex);
      return;
    }
    const responseNs = process.hrtime.bigint();

    record.ops[index] = op;
    record.keys[index] = key;
    record.args1[index] = arg1;
    record.args2[index] = arg2;
    record.results[index] = result;
    record.invokeNs[index] = invokeNs;
    record.responseNs[index] = responseNs;
    if (op === PlanOp.forEach) record.entries[index] = Int32Array.from(collected);
    record.completed = index + 1;
    switch (op) {
      case PlanOp.get:
      case PlanOp.getOrSet:
      case PlanOp.add:
        lastSeen[key] = result;
        break;
      case PlanOp.set:
        lastSeen[key] = arg1;
        break;
      case PlanOp.delete:
        lastSeen[key] = ABSENT;
        break;
      case PlanOp.compareAndSet:
        if (result === 1) lastSeen[key] = arg2;
        break;
    }
  }
}

function emptyRecord(thread: number, length: number): ThreadRecord {
  return {
    thread,
    ops: new Uint8Array(length),
    keys: new Int32Array(length),
    args1: new Int32Array(length),
    args2: new Int32Array(length),
    results: new Int32Array(length),
    invokeNs: new BigInt64Array(length),
    responseNs: new BigInt64Array(length),
    entries: new Array<Int32Array | null>(length).fill(null),
    completed: 0,
  };
}
