/**
 * The sequential specification of one key: a register that is either absent
 * or holds an int32 value, with the map contract's semantics (maps/types.ts).
 * The checker runs it on int-encoded ops so the search allocates nothing per
 * step: a state is a number, `ABSENT` when the key is not in the map.
 *
 * Both sentinels lie in the value range every map reserves (−2^31…−2^31+7),
 * so no stored value can collide with them.
 */
import type { HistoryOp } from './history.js';

/** State (and get result) meaning "the key is not in the map". */
export const ABSENT = -0x80000000;
/** step() result meaning "this op cannot have returned that result from that state". */
export const INVALID = -0x80000000 + 1;

/** Op codes of the key model. `present` is a probe the size check adds (never recorded). */
export const KeyOpKind = {
  get: 0,
  set: 1,
  delete: 2,
  getOrSet: 3,
  compareAndSet: 4,
  add: 5,
  /** result 1: the key was present at some instant of the interval; 0: absent. */
  present: 6,
} as const;
export type KeyOpKind = (typeof KeyOpKind)[keyof typeof KeyOpKind];

/** One op of one key's sub-history, int-encoded for the search. */
export interface KeyOp {
  kind: KeyOpKind;
  /** set/getOrSet: value; add: delta; compareAndSet: expected. */
  arg1: number;
  /** compareAndSet: new value. */
  arg2: number;
  /** Values as is; absent as ABSENT; booleans as 1/0. */
  result: number;
  invokeNs: number;
  responseNs: number;
  /** Index of the recorded op in History.ops this came from, or −1 for a size probe. */
  source: number;
  /** Set when the op is not a recorded single-key op but one key's view of a forEach or size call. */
  probe?: 'forEach' | 'size';
}

/** The state after `op` runs on `state`, or INVALID if it could not have returned `op.result`. */
export function step(state: number, op: KeyOp): number {
  switch (op.kind) {
    case KeyOpKind.get:
      return op.result === state ? state : INVALID;
    case KeyOpKind.set:
      return op.arg1;
    case KeyOpKind.delete:
      return (state !== ABSENT ? 1 : 0) === op.result ? ABSENT : INVALID;
    case KeyOpKind.getOrSet:
      if (state !== ABSENT) return op.result === state ? state : INVALID;
      return op.result === op.arg1 ? op.arg1 : INVALID;
    case KeyOpKind.compareAndSet:
      if (state === op.arg1) return op.result === 1 ? op.arg2 : INVALID;
      return op.result === 0 ? state : INVALID;
    case KeyOpKind.add: {
      const next = (state === ABSENT ? 0 : state) + op.arg1;
      return op.result === next ? next : INVALID;
    }
    case KeyOpKind.present:
      return (state !== ABSENT ? 1 : 0) === op.result ? state : INVALID;
  }
}

/**
 * True when the op leaves the state unchanged in every state it can legally
 * run from: removing it from a linearizable history leaves one linearizable,
 * which is what makes dropping it a sound shrinking move.
 */
export function isReadOnly(op: KeyOp): boolean {
  switch (op.kind) {
    case KeyOpKind.get:
    case KeyOpKind.present:
      return true;
    case KeyOpKind.delete:
    case KeyOpKind.compareAndSet:
      return op.result === 0;
    case KeyOpKind.getOrSet:
      // Returning another value than its own means the key was present: a read.
      return op.result !== op.arg1;
    default:
      return false;
  }
}

/**
 * The state a recorded op leaves behind if it changed the key — a value, or
 * ABSENT for a delete that removed it — or undefined for an op that only read.
 */
export function writtenState(op: KeyOp): number | undefined {
  switch (op.kind) {
    case KeyOpKind.set:
      return op.arg1;
    case KeyOpKind.add:
      return op.result;
    case KeyOpKind.getOrSet:
      return op.result === op.arg1 ? op.arg1 : undefined;
    case KeyOpKind.compareAndSet:
      return op.result === 1 ? op.arg2 : undefined;
    case KeyOpKind.delete:
      return op.result === 1 ? ABSENT : undefined;
    default:
      return undefined;
  }
}

/** Encodes a recorded single-key op (get … add) for the model. */
export function toKeyOp(op: HistoryOp, source: number): KeyOp {
  const value = op.result === null ? ABSENT : (op.result as number);
  const flag = op.result === true ? 1 : 0;
  switch (op.kind) {
    case 'get':
      return keyOp(KeyOpKind.get, 0, 0, value, op, source);
    case 'set':
      return keyOp(KeyOpKind.set, op.args[0], 0, 0, op, source);
    case 'delete':
      return keyOp(KeyOpKind.delete, 0, 0, flag, op, source);
    case 'getOrSet':
      return keyOp(KeyOpKind.getOrSet, op.args[0], 0, value, op, source);
    case 'compareAndSet':
      return keyOp(KeyOpKind.compareAndSet, op.args[0], op.args[1], flag, op, source);
    case 'add':
      return keyOp(KeyOpKind.add, op.args[0], 0, value, op, source);
    default:
      throw new TypeError(`${op.kind} spans keys; it has no single-key encoding`);
  }
}

/** One object shape for every KeyOp (the search reads them in its inner loop). */
function keyOp(kind: KeyOpKind, arg1: number, arg2: number, result: number, op: HistoryOp, source: number): KeyOp {
  return { kind, arg1, arg2, result, invokeNs: op.invokeNs, responseNs: op.responseNs, source, probe: undefined };
}

/** A state as people read it. */
export function describeState(state: number): string {
  return state === ABSENT ? 'absent' : String(state);
}
