/**
 * The calibration figure: a fixed single-thread reference loop (integer
 * hashing into a 256 KiB typed array, the kind of work a hash map does)
 * measured in the same run as the cells, on the main thread before any pool
 * starts. Dividing a cell's ops/s by it gives a score comparable across
 * machines of different speed; the loop must never change, or old files stop
 * being comparable (bump CALIBRATION_VERSION if it ever does).
 */
import { performance } from 'node:perf_hooks';

export const CALIBRATION_VERSION = 1;
const TABLE_SLOTS = 1 << 16;
const OPS_PER_ROUND = 4_000_000;
const ROUNDS = 7;

function referenceRound(table: Int32Array, seed: number): number {
  let checksum = 0;
  let x = seed | 0;
  for (let i = 0; i < OPS_PER_ROUND; i++) {
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) ^ i;
    const slot = x & (TABLE_SLOTS - 1);
    checksum = (checksum + table[slot]) | 0;
    table[slot] = x;
  }
  return checksum;
}

export interface Calibration {
  opsPerSec: number;
  version: number;
  rounds: number;
  opsPerRound: number;
  [extra: string]: unknown;
}

/** Median ops/s of ROUNDS fixed-size rounds of the reference loop (~0.2 s). */
export function measureCalibration(): Calibration {
  const table = new Int32Array(TABLE_SLOTS);
  const rates: number[] = [];
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const startMs = performance.now();
    sink ^= referenceRound(table, round + 1);
    rates.push(OPS_PER_ROUND / ((performance.now() - startMs) / 1000));
  }
  if (sink === 0x7fffffff) rates.push(0); // keeps the checksum live
  rates.sort((a, b) => a - b);
  return { opsPerSec: Math.round(rates[ROUNDS >> 1]), version: CALIBRATION_VERSION, rounds: ROUNDS, opsPerRound: OPS_PER_ROUND };
}
