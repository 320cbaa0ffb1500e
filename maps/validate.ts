/**
 * Boundary checks shared by every map: keys, values, options. Each error names
 * the parameter and the allowed range, and is thrown before anything changes.
 */
import type { MapOptions } from './types.js';
import { DEFAULT_ARENA_BYTES, MAX_ARENA_BYTES, MIN_ARENA_BYTES } from './arena.js';

export const MAX_KEY = 0x7fffffff;
/** Values −2^31 … −2^31+7 are reserved as internal sentinels by every map. */
export const MIN_VALUE = -0x80000000 + 8;
export const MAX_VALUE = 0x7fffffff;
export const RESERVED_VALUE_BASE = -0x80000000;

export const DEFAULT_CAPACITY = 1024;
export const DEFAULT_LOAD_FACTOR = 0.75;
export const DEFAULT_SHARDS = 32;
export const MAX_CAPACITY = 1 << 26;
export const MAX_SHARDS = 1024;

const KEY_RANGE = `an integer 0..${MAX_KEY}`;
const VALUE_RANGE = `an integer ${MIN_VALUE}..${MAX_VALUE} (−2^31..−2^31+7 are reserved)`;

/** Whether `key` is a valid map key; the fast path for hot code (no allocation). */
export function isValidKey(key: number): boolean {
  return key >>> 0 === key && key <= MAX_KEY;
}

/** Whether `value` is a storable map value. */
export function isValidValue(value: number): boolean {
  return (value | 0) === value && value >= MIN_VALUE;
}

export function checkKey(key: number, parameter = 'key'): void {
  if (!isValidKey(key)) throw new RangeError(`${parameter} must be ${KEY_RANGE}, got ${describe(key)}`);
}

export function checkValue(value: number, parameter = 'value'): void {
  if (!isValidValue(value)) throw new RangeError(`${parameter} must be ${VALUE_RANGE}, got ${describe(value)}`);
}

/** `delta` for add(): any int32 (the sum is checked separately). */
export function checkDelta(delta: number): void {
  if ((delta | 0) !== delta) throw new RangeError(`delta must be an int32 integer, got ${describe(delta)}`);
}

/** The result of add(): throws (so nothing changes) when it falls outside the allowed values. */
export function checkAddResult(key: number, current: number, delta: number): number {
  const sum = current + delta;
  if (sum < MIN_VALUE || sum > MAX_VALUE) {
    throw new RangeError(`add(${key}, ${delta}) would store ${sum}; values must be ${VALUE_RANGE}`);
  }
  return sum;
}

export interface ResolvedMapOptions {
  capacity: number;
  loadFactor: number;
  shards: number;
  maxBytes: number;
}

const OPTION_NAMES = ['capacity', 'loadFactor', 'shards', 'maxBytes'];

/** Validates every option and fills defaults; unknown option names are rejected too. */
export function resolveMapOptions(options: MapOptions = {}): ResolvedMapOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `options must be an object with ${OPTION_NAMES.join(', ')} (any subset), got ${describe(options)}`,
    );
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name)) {
      throw new TypeError(`unknown map option '${name}'; allowed: ${OPTION_NAMES.join(', ')}`);
    }
  }
  const {
    capacity = DEFAULT_CAPACITY,
    loadFactor = DEFAULT_LOAD_FACTOR,
    shards = DEFAULT_SHARDS,
    maxBytes = DEFAULT_ARENA_BYTES,
  } = options;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
    throw new RangeError(`capacity must be an integer 1..${MAX_CAPACITY} (entries), got ${describe(capacity)}`);
  }
  if (typeof loadFactor !== 'number' || !(loadFactor > 0 && loadFactor < 1)) {
    throw new RangeError(`loadFactor must be a number in (0, 1) exclusive, got ${describe(loadFactor)}`);
  }
  if (
    typeof shards !== 'number' ||
    !Number.isInteger(shards) ||
    shards < 1 ||
    shards > MAX_SHARDS ||
    (shards & (shards - 1)) !== 0
  ) {
    throw new RangeError(`shards must be a power of two 1..${MAX_SHARDS}, got ${describe(shards)}`);
  }
  if (
    typeof maxBytes !== 'number' ||
    !Number.isInteger(maxBytes) ||
    maxBytes < MIN_ARENA_BYTES ||
    maxBytes > MAX_ARENA_BYTES
  ) {
    throw new RangeError(
      `maxBytes must be an integer ${MIN_ARENA_BYTES}..${MAX_ARENA_BYTES} (bytes), got ${describe(maxBytes)}`,
    );
  }
  return { capacity, loadFactor, shards, maxBytes };
}

function describe(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'object' && x !== null) return Array.isArray(x) ? 'an array' : 'an object';
  return String(x);
}
