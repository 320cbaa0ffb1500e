/**
 * The one latency histogram: log-linear buckets in the HdrHistogram style.
 *
 * Values are integer nanoseconds. Below 2^8 every nanosecond has its own
 * bucket; above, each power of two [2^e, 2^(e+1)) is split into 128 equal
 * sub-buckets, so a bucket's width is at most 1/128 of its low edge: a value
 * read back from its bucket (the bucket's midpoint) is within 0.39% of what was
 * recorded, and within 0.78% whichever point of the bucket is used — under the
 * 1% the harness promises. Two histograms with this layout merge by adding
 * counts, so workers record privately and the main thread sums.
 *
 * Hand-written rather than hdr-histogram-js: recording is on the timed path,
 * and a hand-rolled bucket index costs ~4.5 ns per value against 34–190 ns
 * measured for hdr-histogram-js on this machine kind.
 *
 * In memory (and in 'maplab.results/1' files) a histogram is `HistogramData`:
 * explicit [lowNs, highNs, count] buckets. Later files store it as
 * `StoredHistogram` (encodeHistogram / decodeHistogram below): this layout's
 * bucket counts in one string, exact: schema 2's decimal runs take about a
 * tenth of the room of the buckets, schema 3's varints about half of that.
 */

/** Non-empty log-linear histogram buckets: [lowNs, highNs, count], ascending. */
export interface HistogramData {
  unit: 'ns';
  /** Upper bound on a recorded value's relative error (bucket width / low edge). */
  relativeError: number;
  buckets: Array<[lowNs: number, highNs: number, count: number]>;
  /** Exact smallest, largest and summed recorded values (absent when empty). */
  minNs?: number;
  maxNs?: number;
  sumNs?: number;
}

/** A latency distribution's headline figures (a cell's per-op latencies carry only these). */
export interface LatencyPercentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** How many latencies were recorded (timing is sampled; see config). */
  samples: number;
}

export interface LatencySummary extends LatencyPercentiles {
  histogram: HistogramData;
}

/** log2 of the sub-buckets per power of two. */
const SUB_BUCKET_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
/** Values at or above 2^MAX_EXPONENT ns (~4.9 hours) share the last bucket. */
const MAX_EXPONENT = 44;
const LARGEST_TRACKABLE_NS = 2 ** MAX_EXPONENT - 1;
export const BUCKET_COUNT = (MAX_EXPONENT - SUB_BUCKET_BITS + 1) * SUB_BUCKETS;
/** Upper bound on (bucket width / bucket low edge): 1/128. */
export const RELATIVE_ERROR = 1 / SUB_BUCKETS;

/** Bucket of a value in ns (fractions are truncated; negatives count as 0). */
export function bucketIndex(valueNs: number): number {
  if (valueNs < 2 * SUB_BUCKETS) return valueNs > 0 ? Math.floor(valueNs) : 0;
  if (valueNs < 2 ** 31) {
    const value = valueNs | 0;
    const exponent = 31 - Math.clz32(value);
    return (
      ((exponent - SUB_BUCKET_BITS + 1) << SUB_BUCKET_BITS) + (value >>> (exponent - SUB_BUCKET_BITS)) - SUB_BUCKETS
    );
  }
  // Rare (≥ 2.1 s): past int32, so no clz32; same layout computed in doubles.
  const value = Math.floor(Math.min(valueNs, LARGEST_TRACKABLE_NS));
  const exponent = Math.floor(Math.log2(value));
  const width = 2 ** (exponent - SUB_BUCKET_BITS);
  return (exponent - SUB_BUCKET_BITS + 1) * SUB_BUCKETS + Math.floor(value / width) - SUB_BUCKETS;
}

/** Lowest value of a bucket and its width (the bucket holds integers low … low + width − 1). */
export function bucketRange(index: number): { lowNs: number; widthNs: number } {
  const block = index >>> SUB_BUCKET_BITS;
  if (block <= 1) return { lowNs: index, widthNs: 1 };
  const widthNs = 2 ** (block - 1);
  return { lowNs: ((index & (SUB_BUCKETS - 1)) + SUB_BUCKETS) * widthNs, widthNs };
}

export class LatencyHistogram {
  readonly counts = new Float64Array(BUCKET_COUNT);
  totalCount = 0;
  minNs = Infinity;
  maxNs = 0;
  sumNs = 0;

  /** The timed path: one index computation, one increment, no allocation. */
  record(valueNs: number): void {
    this.counts[bucketIndex(valueNs)]++;
    this.totalCount++;
    this.sumNs += valueNs;
    if (valueNs > this.maxNs) this.maxNs = valueNs;
    if (valueNs < this.minNs) this.minNs = valueNs;
  }

  /** Records `count` copies of a value. */
  recordMany(valueNs: number, count: number): void {
    if (count <= 0) return;
    this.counts[bucketIndex(valueNs)] += count;
    this.totalCount += count;
    this.sumNs += valueNs * count;
    if (valueNs > this.maxNs) this.maxNs = valueNs;
    if (valueNs < this.minNs) this.minNs = valueNs;
  }

  /** Adds another histogram's counts into this one (same layout, so exact). */
  merge(other: LatencyHistogram): this {
    for (let index = 0; index < BUCKET_COUNT; index++) this.counts[index] += other.counts[index];
    this.totalCount += other.totalCount;
    this.sumNs += other.sumNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
    return this;
  }

  /**
   * The value at quantile q (0..1): the midpoint of the bucket holding the
   * ⌈q·count⌉-th smallest value, clamped to the exact min and max; 0 when empty.
   */
  valueAtQuantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be a number 0..1, got ${q}`);
    if (this.totalCount === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.totalCount));
    let seen = 0;
    for (let index = 0; index < BUCKET_COUNT; index++) {
      seen += this.counts[index];
      if (seen >= rank) {
        const { lowNs, widthNs } = bucketRange(index);
        return Math.min(this.maxNs, Math.max(this.minNs, lowNs + (widthNs - 1) / 2));
      }
    }
    return this.maxNs;
  }

  /** Non-empty buckets as [lowNs, highNs (exclusive), count], ascending; plus exact min, max and sum. */
  toData(): HistogramData {
    const buckets: HistogramData['buckets'] = [];
    for (let index = 0; index < BUCKET_COUNT; index++) {
      const count = this.counts[index];
      if (count === 0) continue;
      const { lowNs, widthNs } = bucketRange(index);
      buckets.push([lowNs, lowNs + widthNs, count]);
    }
    const data: HistogramData = { unit: 'ns', relativeError: RELATIVE_ERROR, buckets };
    if (this.totalCount > 0) Object.assign(data, { minNs: this.minNs, maxNs: this.maxNs, sumNs: this.sumNs });
    return data;
  }

  /** Rebuilds a histogram written by toData (to merge cells or re-read a results file). */
  static fromData(data: HistogramData): LatencyHistogram {
    const histogram = new LatencyHistogram();
    for (const [lowNs, highNs, count] of data.buckets) {
      const index = bucketIndex(lowNs);
      const { lowNs: expectedLow, widthNs } = bucketRange(index);
      if (expectedLow !== lowNs || expectedLow + widthNs !== highNs) {
        throw new RangeError(`histogram bucket [${lowNs}, ${highNs}) does not match the maplab log-linear layout`);
      }
      histogram.counts[index] += count;
      histogram.totalCount += count;
      histogram.sumNs += (lowNs + (widthNs - 1) / 2) * count;
    }
    if (data.buckets.length > 0) {
      const first = bucketRange(bucketIndex(data.buckets[0][0]));
      const last = data.buckets[data.buckets.length - 1];
      histogram.minNs = data.minNs ?? first.lowNs;
      histogram.maxNs = data.maxNs ?? last[1] - 1;
      if (data.sumNs !== undefined) histogram.sumNs = data.sumNs;
    }
    return histogram;
  }

  percentiles(): LatencyPercentiles {
    return {
      p50: this.valueAtQuantile(0.5),
      p90: this.valueAtQuantile(0.9),
      p99: this.valueAtQuantile(0.99),
      p999: this.valueAtQuantile(0.999),
      max: this.maxNs,
      samples: this.totalCount,
    };
  }

  summary(): LatencySummary {
    return { ...this.percentiles(), histogram: this.toData() };
  }
}

/** Names this file's bucket layout in stored histograms (2^8 one-ns buckets, then 128 per power of two). */
export const STORED_LAYOUT = 'maplab-log-linear-128';

/**
 * A histogram as results files store it, in one of three forms (a reader
 * takes any; the writer writes the first that fits):
 *
 *  - `counts64` ('maplab.results/3'): every bucket of STORED_LAYOUT from
 *    index 0 up, as HdrHistogram's V2 encoding does it: a non-empty bucket's
 *    count c is the number 2c, a run of n empty buckets the number 2n − 1
 *    (zigzag, so counts and runs share one stream), each number a varint of
 *    5-bit groups, lowest first, in base64url (a group ≥ 32 means "more
 *    follow"). "BCBoB" = 1, 2, 1, 40: bucket 0 empty, bucket 1 holds 1,
 *    bucket 2 empty, bucket 3 holds 20 ('o' = 8 + 32, 'B' = 1: 8 + 1·32).
 *    About half the size of `counts`.
 *  - `counts` ('maplab.results/2', read only): runs of adjacent bucket
 *    indexes in decimal,
 *      counts := run (' ' run)*      run := start ':' count (',' count)*
 *      start  := index (first run) | '+' gap (empty buckets since the previous run's last)
 *    e.g. "54:1,3 +2:5" = bucket 54 holds 1, 55 holds 3, 58 holds 5.
 *  - `buckets` as in memory: 'maplab.results/1' files, and histograms of
 *    another layout (synthetic ones) or with a count past 2^52.
 *
 * bucketRange gives each index's edges.
 */
export interface StoredHistogram {
  unit: 'ns';
  layout?: typeof STORED_LAYOUT;
  counts64?: string;
  counts?: string;
  relativeError?: number;
  buckets?: HistogramData['buckets'];
  minNs?: number;
  maxNs?: number;
  sumNs?: number;
}

/** The bucket indexes of `data` when it uses this file's layout with counts counts64 can hold, else null. */
function layoutIndexes(data: HistogramData): number[] | null {
  if (data.relativeError !== RELATIVE_ERROR) return null;
  const indexes: number[] = [];
  for (const [lowNs, highNs, count] of data.buckets) {
    if (!(Number.isSafeInteger(2 * count) && count > 0 && lowNs >= 0)) return null;
    const index = bucketIndex(lowNs);
    const { lowNs: low, widthNs } = bucketRange(index);
    if (low !== lowNs || low + widthNs !== highNs || (indexes.length > 0 && index <= indexes[indexes.length - 1]))
      return null;
    indexes.push(index);
  }
  return indexes;
}

/** The stored form of a histogram: counts64 when it has this file's layout, its buckets otherwise. Lossless. */
export function encodeHistogram(data: HistogramData): StoredHistogram {
  const exact = { minNs: data.minNs, maxNs: data.maxNs, sumNs: data.sumNs };
  const indexes = layoutIndexes(data);
  if (indexes === null) return { unit: data.unit, relativeError: data.relativeError, buckets: data.buckets, ...exact };
  let counts64 = '';
  let previous = -1;
  indexes.forEach((index, position) => {
    const emptyBuckets = index - previous - 1;
    if (emptyBuckets > 0) counts64 += varint64(2 * emptyBuckets - 1);
    counts64 += varint64(2 * data.buckets[position][2]);
    previous = index;
  });
  return { unit: data.unit, layout: STORED_LAYOUT, counts64, ...exact };
}

/** Reads a stored histogram back; `field` names it in the RangeError thrown for malformed input. */
export function decodeHistogram(stored: StoredHistogram, field: string): HistogramData {
  const exact: Pick<HistogramData, 'minNs' | 'maxNs' | 'sumNs'> = {};
  for (const name of ['minNs', 'maxNs', 'sumNs'] as const) {
    const value = stored[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new RangeError(`${field}.${name} must be a finite number`);
    exact[name] = value;
  }
  const { counts64, counts } = stored;
  if (counts64 === undefined && counts === undefined) {
    if (!Array.isArray(stored.buckets))
      throw new RangeError(`${field} must have counts64 (a string) or buckets (an array of [lowNs, highNs, count])`);
    return stored as HistogramData; // schema 1, or another layout: already the in-memory form
  }
  if (stored.layout !== STORED_LAYOUT)
    throw new RangeError(`${field}.layout must be "${STORED_LAYOUT}", got ${JSON.stringify(stored.layout)}`);
  let buckets: HistogramData['buckets'];
  if (counts64 !== undefined) {
    if (typeof counts64 !== 'string') throw new RangeError(`${field}.counts64 must be a string of base64url varints`);
    buckets = decodeVarints(counts64, `${field}.counts64`);
  } else {
    if (typeof counts !== 'string') throw new RangeError(`${field}.counts must be a string of bucket runs`);
    buckets = decodeRuns(counts, `${field}.counts`);
  }
  return { unit: 'ns', relativeError: RELATIVE_ERROR, buckets, ...exact };
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** A varint digit's 5 value bits, and the flag saying another digit follows. */
const DIGIT_BITS = 5;
const DIGIT_RANGE = 1 << DIGIT_BITS;
const MORE_DIGITS = DIGIT_RANGE;
const DIGIT_VALUE = new Map([...BASE64URL].map((char, value) => [char, value]));

/** A safe non-negative integer as base64url varint digits, lowest 5 bits first; arithmetic, not bitwise, past 2^32. */
function varint64(value: number): string {
  let text = '';
  let rest = value;
  while (rest >= DIGIT_RANGE) {
    text += BASE64URL[(rest % DIGIT_RANGE) + MORE_DIGITS];
    rest = Math.floor(rest / DIGIT_RANGE);
  }
  return text + BASE64URL[rest];
}

function decodeVarints(counts64: string, field: string): HistogramData['buckets'] {
  const buckets: HistogramData['buckets'] = [];
  let index = 0;
  let value = 0;
  let scale = 1;
  for (let position = 0; position < counts64.length; position++) {
    const digit = DIGIT_VALUE.get(counts64[position]);
    if (digit === undefined)
      throw new RangeError(
        `${field}: character ${position + 1} ${JSON.stringify(counts64[position])} is not base64url`,
      );
    value += (digit % DIGIT_RANGE) * scale;
    scale *= DIGIT_RANGE;
    if (!Number.isSafeInteger(value))
      throw new RangeError(`${field}: the number ending at character ${position + 1} is past 2^53`);
    if (digit >= MORE_DIGITS) continue;
    if (value % 2 === 1) {
      index += (value + 1) / 2; // a run of empty buckets
      if (index > BUCKET_COUNT)
        throw new RangeError(`${field}: empty buckets run past the layout's last (${BUCKET_COUNT - 1})`);
    } else {
      if (value === 0) throw new RangeError(`${field}: character ${position + 1} gives bucket ${index} a count of 0`);
      if (index >= BUCKET_COUNT)
        throw new RangeError(`${field}: bucket index ${index} is past the layout's last (${BUCKET_COUNT - 1})`);
      const { lowNs, widthNs } = bucketRange(index);
      buckets.push([lowNs, lowNs + widthNs, value / 2]);
      index++;
    }
    value = 0;
    scale = 1;
  }
  if (scale !== 1) throw new RangeError(`${field}: ends inside a number (its last character has the more-digits flag)`);
  return buckets;
}

const RUN = /^(\+?)(\d+):(\d+(?:,\d+)*)$/;

function decodeRuns(counts: string, field: string): HistogramData['buckets'] {
  const buckets: HistogramData['buckets'] = [];
  if (counts === '') return buckets;
  let next = 0;
  counts.split(' ').forEach((run, position) => {
    const match = RUN.exec(run);
    if (!match || (position === 0) === (match[1] === '+')) {
      throw new RangeError(
        `${field}: run ${position + 1} ${JSON.stringify(run.slice(0, 40))} must be ${position === 0 ? 'index' : '+gap'}:count,count,…`,
      );
    }
    let index = position === 0 ? Number(match[2]) : next + Number(match[2]);
    for (const count of match[3].split(',')) {
      if (index >= BUCKET_COUNT)
        throw new RangeError(`${field}: bucket index ${index} is past the layout's last (${BUCKET_COUNT - 1})`);
      const { lowNs, widthNs } = bucketRange(index);
      buckets.push([lowNs, lowNs + widthNs, Number(count)]);
      index++;
    }
    next = index;
  });
  return buckets;
}
