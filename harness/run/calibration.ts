/**
 * The calibration figure: a fixed single-thread reference loop (integer
 * hashing into a 256 KiB typed array, the kind of work a hash map does)
 * measured in the same run as the cells, on the main thread before any pool
 * starts. Dividing a cell's ops/s by it gives a score comparable across
 * machines of different speed; the loop must never change, or old files stop
 * being comparable (bump CALIBRATION_VERSION if it ever does).
 *
 * The figure is an upper quantile (CALIBRATION_QUANTILE) of rounds spread over
 * the whole sweep: ROUNDS back to back before the first cell, then one more
 * before every cell (or every interleaved pass). On a shared VM a vCPU runs at
 * ~0.6× for spells of 10 ms to seconds (work outside the VM; steal time shows
 * 0), and a figure taken inside one such spell would scale every normalised
 * cell of the run by 1.6×. Spells only ever slow the loop down, so the upper
 * quantile of well-spread rounds is the machine's undisturbed speed.
 */
import { performance } from 'node:perf_hooks';
import { quantile } from 'simple-statistics';
import type { ResultsCalibration } from '../results/results.js';

export const CALIBRATION_VERSION = 1;
const TABLE_SLOTS = 1 << 16;
const OPS_PER_ROUND = 4_000_000;
const ROUNDS = 7;
/** The quantile of all rounds' rates reported as the calibration figure. */
export const CALIBRATION_QUANTILE = 0.9;

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

/** A calibration as this code measures it: the results file's, with every field. */
export type Calibration = Required<ResultsCalibration>;

const table = new Int32Array(TABLE_SLOTS);
let sink = 0;

/** One round of the reference loop (~30 ms here), ops/s. */
function measureRound(): number {
  const startMs = performance.now();
  sink ^= referenceRound(table, sink + 1);
  return OPS_PER_ROUND / ((performance.now() - startMs) / 1000);
}

/** A calibration of ROUNDS back-to-back rounds (~0.2 s); `addCalibrationRound` spreads more over the run. */
export function measureCalibration(): Calibration {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) rates.push(measureRound());
  return summarize(rates);
}

/** Measures one more round into `calibration` (an object from measureCalibration, or an older file's) and updates its figure. */
export function addCalibrationRound(calibration: ResultsCalibration): Calibration {
  const rates = Array.isArray(calibration.roundRates) ? calibration.roundRates : [calibration.opsPerSec];
  return summarize([...rates, measureRound()]);
}

function summarize(rates: number[]): Calibration {
  // The figure is taken from the rates as recorded (rounded), so it is exactly the quantile of `roundRates`:
  // quantile interpolates, and rounding after it could differ by 1 from a reader's recomputation.
  const roundRates = rates.map((rate) => Math.round(rate));
  return {
    opsPerSec: Math.round(quantile(roundRates, CALIBRATION_QUANTILE)),
    version: CALIBRATION_VERSION,
    rounds: rates.length,
    opsPerRound: OPS_PER_ROUND,
    statistic: `p${Math.round(CALIBRATION_QUANTILE * 100)} of the rounds (spread over the run)`,
    roundRates,
  };
}
