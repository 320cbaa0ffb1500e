/**
 * Key distributions: which key of the key space [0, keys) an op touches.
 *
 * - uniform: every key equally likely.
 * - zipfian: rank r (0 = hottest) has probability ∝ 1/(r+1)^θ, θ = 0.99 by
 *   default (YCSB's ZipfianGenerator after Gray et al., "Quickly generating
 *   billion-record synthetic databases", SIGMOD 1994), and the rank is
 *   scrambled into the key space (YCSB's ScrambledZipfianGenerator) so hot keys
 *   are spread out, not 0, 1, 2…
 * - hotspot: YCSB's HotspotIntegerGenerator — hotOpFraction of ops go to a hot
 *   set of hotKeyFraction of the keys, uniformly within each set; the set
 *   index is scrambled like zipfian's rank.
 * - latest and sequential-insert need per-stream state (what has been
 *   inserted); generate.ts implements them on top of the samplers here.
 *
 * Two deliberate departures from YCSB, both for fidelity to the stated
 * distribution over exactly `keys` keys:
 * 1. YCSB's scrambled zipfian draws from 10^10 items and folds them into the
 *    key space with FNV-hash-mod-n, which collides ranks and flattens the head
 *    (the hottest key then gets 1/ζ(10^10) ≈ 3.8 %, whatever n is). Here the
 *    scramble is a bijection of [0, keys), so key frequencies are exactly the
 *    Zipf law over `keys` items: the hottest key gets 1/ζ(keys, θ).
 * 2. Gray's closed-form inverse needs Math.pow per draw (measured ~70 ns on this
 *    machine kind: 3.5× the whole per-op budget). Instead the head ranks use a
 *    Walker/Vose alias table (exact, O(1): two uint32 draws and two array
 *    reads), and ranks past the table (key spaces above 2^20) are drawn by
 *    inverting the continuous power law, whose error is O(1/rank) there.
 */
import { Sfc32 } from './random.js';

/** Alias coins are 31-bit so coin − threshold fits an int32 and its sign is the outcome. */
const COIN_RANGE = 2 ** 31;

/** Ranks below this are tabulated exactly; 2^20 − 1 so the table (with its tail column) indexes with one draw. */
export const ZIPF_TABLE_RANKS = (1 << 20) - 1;

/** ζ(n, θ) = Σ_{k=1..n} k^−θ; exact up to ZIPF_TABLE_RANKS terms, Euler–Maclaurin for the rest. */
export function zeta(n: number, theta: number): number {
  const exactTerms = Math.min(n, ZIPF_TABLE_RANKS);
  let sum = 0;
  for (let k = 1; k <= exactTerms; k++) sum += Math.pow(k, -theta);
  return sum + zetaTail(exactTerms + 1, n, theta);
}

/** Σ_{k=first..last} k^−θ by Euler–Maclaurin (integral, end corrections, first derivative term); 0 when empty. */
function zetaTail(first: number, last: number, theta: number): number {
  if (first > last) return 0;
  const oneMinusTheta = 1 - theta;
  const integral = (Math.pow(last, oneMinusTheta) - Math.pow(first, oneMinusTheta)) / oneMinusTheta;
  const ends = (Math.pow(first, -theta) + Math.pow(last, -theta)) / 2;
  const derivative = (theta / 12) * (Math.pow(first, -theta - 1) - Math.pow(last, -theta - 1));
  return integral + ends + derivative;
}

/** Words per alias-table row: [accept threshold, alias rank, scrambled column, scrambled alias]. */
const ROW = 4;
const THRESHOLD = 0;
const ALIAS_RANK = 1;
const COLUMN_KEY = 2;
const ALIAS_KEY = 3;
/** COLUMN_KEY/ALIAS_KEY of the tail column: the key is drawn, not tabulated. */
const DRAWN = -1;

/**
 * Zipf ranks over [0, n) with skew θ ∈ (0, 1), and the keys they scramble to.
 * Built once per (n, θ) and cached: building costs ~120 ns of CPU per
 * tabulated rank once warm (measured: 28 ms for 65 536 keys cold, 130 ms for
 * 2^20 keys or more, where the table stops growing).
 */
export class ZipfianRanks {
  readonly n: number;
  readonly theta: number;
  /** 1/ζ(n, θ): the probability of rank 0, the hottest key. */
  readonly hottestProbability: number;
  readonly scrambler: KeyScrambler;
  /** Alias-table columns: one per tabulated rank, plus one "tail" column when n > ZIPF_TABLE_RANKS. */
  private readonly columns: number;
  /**
   * The alias table, one 16-byte row per column so a draw touches one cache
   * line. Column i keeps itself when a 31-bit coin is below its THRESHOLD (its
   * accept probability × 2^31, at most 2^31 − 1), else yields ALIAS_RANK.
   * Columns that always keep themselves alias themselves, so the clamp at
   * 2^31 − 1 changes nothing. COLUMN_KEY and ALIAS_KEY hold both outcomes
   * already scrambled, which saves the scramble (~3.5 ns) on every draw.
   */
  private readonly rows: Int32Array;
  /** Tail sampling (continuous inversion over ranks ZIPF_TABLE_RANKS..n−1): (k^(1−θ)) at both ends. */
  private readonly tailLow: number;
  private readonly tailSpan: number;
  private readonly inverseExponent: number;

  constructor(n: number, theta: number) {
    this.n = n;
    this.theta = theta;
    this.scrambler = new KeyScrambler(n);
    const tabulated = Math.min(n, ZIPF_TABLE_RANKS);
    const hasTail = n > tabulated;
    this.columns = tabulated + (hasTail ? 1 : 0);
    const weights = new Float64Array(this.columns);
    let headSum = 0;
    for (let rank = 0; rank < tabulated; rank++) {
      weights[rank] = Math.pow(rank + 1, -theta);
      headSum += weights[rank];
    }
    const total = headSum + (hasTail ? zetaTail(tabulated + 1, n, theta) : 0);
    if (hasTail) weights[tabulated] = total - headSum;
    this.hottestProbability = 1 / total;
    const oneMinusTheta = 1 - theta;
    this.tailLow = Math.pow(tabulated + 1, oneMinusTheta);
    this.tailSpan = Math.pow(n + 1, oneMinusTheta) - this.tailLow;
    this.inverseExponent = 1 / oneMinusTheta;
    const acceptProbability = new Float64Array(this.columns);
    const alias = new Int32Array(this.columns);
    buildAliasTable(weights, total, acceptProbability, alias);
    const keyOf = (rank: number) => (rank < ZIPF_TABLE_RANKS ? this.scrambler.scramble(rank) : DRAWN);
    this.rows = new Int32Array(ROW * this.columns);
    for (let column = 0; column < this.columns; column++) {
      const row = ROW * column;
      this.rows[row + THRESHOLD] = Math.min(Math.round(acceptProbability[column] * COIN_RANGE), COIN_RANGE - 1);
      this.rows[row + ALIAS_RANK] = alias[column];
      this.rows[row + COLUMN_KEY] = keyOf(column);
      this.rows[row + ALIAS_KEY] = keyOf(alias[column]);
    }
  }

  /**
   * A rank in [0, n), 0 the most frequent. The coin is branch-free (a sign
   * mask picks column or alias): its outcome is unpredictable, and a
   * mispredicted branch cost more than the rest of the draw.
   */
  sample(random: Sfc32): number {
    const column = random.nextBelow(this.columns);
    const coin = random.nextUint32() >>> 1;
    const row = ROW * column;
    const keepColumn = (coin - this.rows[row + THRESHOLD]) >> 31;
    const rank = (column & keepColumn) | (this.rows[row + ALIAS_RANK] & ~keepColumn);
    return rank < ZIPF_TABLE_RANKS ? rank : this.sampleTail(random);
  }

  /** A key in [0, n): a rank drawn as by sample(), scrambled (the same draws, so the same stream of ranks). */
  sampleKey(random: Sfc32): number {
    const column = random.nextBelow(this.columns);
    const coin = random.nextUint32() >>> 1;
    const row = ROW * column;
    const keepColumn = (coin - this.rows[row + THRESHOLD]) >> 31;
    const key = (this.rows[row + COLUMN_KEY] & keepColumn) | (this.rows[row + ALIAS_KEY] & ~keepColumn);
    return key !== DRAWN ? key : this.scrambler.scramble(this.sampleTail(random));
  }

  /** Continuous power-law inversion over 1-based ranks [ZIPF_TABLE_RANKS+1, n+1), returned 0-based. */
  private sampleTail(random: Sfc32): number {
    const oneBased = Math.floor(Math.pow(this.tailLow + random.nextFloat53() * this.tailSpan, this.inverseExponent));
    return Math.min(Math.max(oneBased - 1, ZIPF_TABLE_RANKS), this.n - 1);
  }
}

/** Vose's alias method: column i keeps itself with acceptProbability[i], else yields alias[i]. */
function buildAliasTable(
  weights: Float64Array,
  total: number,
  acceptProbability: Float64Array,
  alias: Int32Array,
): void {
  const columns = weights.length;
  const scaled = new Float64Array(columns);
  const small = new Int32Array(columns);
  const large = new Int32Array(columns);
  let smallCount = 0;
  let largeCount = 0;
  for (let i = 0; i < columns; i++) {
    scaled[i] = (weights[i] * columns) / total;
    if (scaled[i] < 1) small[smallCount++] = i;
    else large[largeCount++] = i;
  }
  while (smallCount > 0 && largeCount > 0) {
    const lessThanOne = small[--smallCount];
    const moreThanOne = large[--largeCount];
    acceptProbability[lessThanOne] = scaled[lessThanOne];
    alias[lessThanOne] = moreThanOne;
    scaled[moreThanOne] = scaled[moreThanOne] + scaled[lessThanOne] - 1;
    if (scaled[moreThanOne] < 1) small[smallCount++] = moreThanOne;
    else large[largeCount++] = moreThanOne;
  }
  // Whatever is left is 1 up to rounding: it always keeps itself.
  while (largeCount > 0) {
    const column = large[--largeCount];
    acceptProbability[column] = 1;
    alias[column] = column;
  }
  while (smallCount > 0) {
    const column = small[--smallCount];
    acceptProbability[column] = 1;
    alias[column] = column;
  }
}

/** A few recent tables per thread: sweeps reuse (keys, θ) across trials and cells. */
const zipfianCache = new Map<string, ZipfianRanks>();
const ZIPFIAN_CACHE_ENTRIES = 4;

export function zipfianRanks(n: number, theta: number): ZipfianRanks {
  const cacheKey = `${n}:${theta}`;
  let ranks = zipfianCache.get(cacheKey);
  if (ranks) {
    zipfianCache.delete(cacheKey);
  } else {
    ranks = new ZipfianRanks(n, theta);
    if (zipfianCache.size >= ZIPFIAN_CACHE_ENTRIES) zipfianCache.delete(zipfianCache.keys().next().value as string);
  }
  zipfianCache.set(cacheKey, ranks);
  return ranks;
}

/**
 * A fixed bijection of [0, n) that scatters nearby indexes (ranks, hot-set
 * slots) over the key space: an add-xorshift-multiply mixer on the smallest
 * power-of-two domain covering n, cycle-walked back into [0, n) (each step is
 * a bijection of the 2^bits domain, so walking terminates; fewer than 2 steps
 * on average since 2^bits < 2n). It does not depend on the seed: every worker
 * and every run agree on which keys are hot.
 */
export class KeyScrambler {
  readonly n: number;
  private readonly mask: number;
  private readonly shift: number;
  private readonly offset: number;

  constructor(n: number) {
    this.n = n;
    const bits = n <= 1 ? 0 : 32 - Math.clz32(n - 1);
    this.mask = bits === 0 ? 0 : bits >= 31 ? 0x7fffffff : (1 << bits) - 1;
    this.shift = Math.max(1, Math.ceil(bits / 2));
    this.offset = 0x6a09e667 & this.mask;
  }

  scramble(index: number): number {
    const mask = this.mask;
    const shift = this.shift;
    let x = index;
    do {
      x = (x + this.offset) & mask;
      x ^= x >>> shift;
      x = Math.imul(x, 0x2c1b3c6d) & mask;
      x ^= x >>> shift;
      x = Math.imul(x, 0x297a2d39) & mask;
      x ^= x >>> shift;
    } while (x >= this.n);
    return x;
  }
}

/** YCSB hotspot over [0, n): the hot set is slots [0, hotKeys), scrambled into the key space with the others. */
export class HotspotSlots {
  readonly hotKeys: number;
  readonly coldKeys: number;
  readonly hotOpFraction: number;
  /** A 31-bit coin below this picks the hot set. */
  private readonly hotThreshold: number;

  constructor(n: number, hotKeyFraction: number, hotOpFraction: number) {
    this.hotKeys = Math.floor(hotKeyFraction * n);
    this.coldKeys = n - this.hotKeys;
    // An empty set gets no ops: the other set takes them all.
    this.hotOpFraction = this.hotKeys === 0 ? 0 : this.coldKeys === 0 ? 1 : hotOpFraction;
    this.hotThreshold = Math.round(this.hotOpFraction * COIN_RANGE);
  }

  /** A slot in [0, n): below hotKeys is hot. Branch-free choice of set (a sign mask), as in ZipfianRanks.sample. */
  sample(random: Sfc32): number {
    // 1 for hot, 0 for cold; arithmetic, not bitwise, selection: set sizes may be 2^31.
    const isHot = -(((random.nextUint32() >>> 1) - this.hotThreshold) >> 31);
    const size = this.coldKeys + isHot * (this.hotKeys - this.coldKeys);
    return this.hotKeys * (1 - isHot) + random.nextBelow(size);
  }
}
