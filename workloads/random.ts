/**
 * Seeded randomness for op streams: sfc32 (Chris Doty-Humphrey's Small Fast
 * Counting generator, PractRand-clean, period ≥ 2^32) seeded from
 * (seed, purpose, stream index) through fmix32 (MurmurHash3's finaliser) and
 * splitmix32, so neighbouring seeds and worker indices give unrelated streams.
 *
 * Hand-written because it is the generator's hot path: one sfc32 draw is a
 * handful of 32-bit adds, shifts and xors (~2 ns inlined); a library PRNG
 * behind a closure or a BigInt-based 64-bit generator costs 10–40 ns a draw,
 * more than the whole per-op budget (< 20 ns) of the op-stream generator.
 */

const GOLDEN_GAMMA = 0x9e3779b9;
/** 2^−32: turns a uint32 into a float in [0, 1). */
export const UINT32_TO_UNIT = 1 / 4294967296;
const UNIT_53 = 1 / 9007199254740992;
/** Above this bound nextBelow takes two draws. */
const WIDE_BOUND = 1 << 20;

/** MurmurHash3's 32-bit finaliser: a bijective avalanche mixer on uint32. */
export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** What a random stream is for; separate purposes never share a stream. */
export const StreamPurpose = {
  ops: 1,
  prefill: 2,
} as const;

/**
 * Folds an integer seed (any safe integer, both 32-bit halves count), a purpose
 * and a stream index (the worker index) into one well-mixed 32-bit word.
 */
export function mixSeed(seed: number, purpose: number, streamIndex: number): number {
  const low = seed >>> 0;
  const high = Math.floor(seed / 4294967296) >>> 0;
  let h = fmix32(low ^ 0x5bd1e995);
  h = fmix32(h ^ high);
  h = fmix32(h ^ Math.imul(purpose, GOLDEN_GAMMA));
  h = fmix32(h ^ Math.imul(streamIndex + 1, 0x27d4eb2f));
  return h;
}

/** Offsets of sfc32's state words in its Int32Array. */
const A = 0;
const B = 1;
const C = 2;
const COUNTER = 3;

/**
 * sfc32: four 32-bit words of state, one of them a counter (no short cycles).
 * The state lives in an Int32Array, not in object fields: int32 values outside
 * V8's 31-bit small integers turn fields into boxed doubles, which measured
 * 8–10 ns a draw against ~3.5 ns from a typed array.
 */
export class Sfc32 {
  private readonly state = new Int32Array(4);

  /** Seeds a, b, c from a splitmix32 sequence over `seedWord`, then discards 12 outputs as sfc's author advises. */
  constructor(seedWord: number) {
    let weyl = seedWord >>> 0;
    for (const word of [A, B, C]) {
      weyl = (weyl + GOLDEN_GAMMA) >>> 0;
      this.state[word] = fmix32(weyl);
    }
    this.state[COUNTER] = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  static fromSeed(seed: number, purpose: number, streamIndex: number): Sfc32 {
    return new Sfc32(mixSeed(seed, purpose, streamIndex));
  }

  /** A uniform uint32. */
  nextUint32(): number {
    const state = this.state;
    const a = state[A];
    const b = state[B];
    const c = state[C];
    const counter = state[COUNTER];
    const t = (((a + b) | 0) + counter) | 0;
    state[COUNTER] = counter + 1;
    state[A] = b ^ (b >>> 9);
    state[B] = c + (c << 3);
    state[C] = ((c << 21) | (c >>> 11)) + t;
    return t >>> 0;
  }

  /** A uniform float in [0, 1) with 32 bits of resolution. */
  nextFloat(): number {
    return this.nextUint32() * UINT32_TO_UNIT;
  }

  /** A uniform float in [0, 1) with 53 bits of resolution (two draws). */
  nextFloat53(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) * UNIT_53;
  }

  /**
   * A uniform integer in [0, bound), 1 ≤ bound ≤ 2^31 (multiply-and-floor). Up to
   * 2^20 one 32-bit draw is used: the relative bias between outcomes is below
   * bound / 2^32 ≤ 2.4·10^−4, far below anything a throughput figure resolves;
   * larger bounds take 53 bits (two draws) so the bias stays below 2^−22.
   */
  nextBelow(bound: number): number {
    if (bound <= WIDE_BOUND) return Math.floor(this.nextUint32() * UINT32_TO_UNIT * bound);
    return Math.floor(this.nextFloat53() * bound);
  }
}
