/**
 * Kneedle (Satopää, Albrecht, Irwin, Raghavan: "Finding a 'Kneedle' in a
 * Haystack", ICDCS workshops 2011): the knee of a discrete curve is where it
 * bends most relative to the straight line joining its ends.
 *
 * Method, offline and without smoothing (our curves have a handful of points):
 *   1. normalise x and y to [0, 1];
 *   2. difference curve D = y − x for a concave curve (throughput vs threads),
 *      D = x − y for a convex one (p99 vs offered load);
 *   3. every local maximum i of D sets a threshold T = D[i] − S · mean(Δx);
 *   4. the first local maximum after which D drops below its threshold before
 *      the next local maximum (or the end of the curve) is the knee.
 *
 * When not to use it: on curves whose y range is noise (everything is a knee
 * after normalisation); callers decide flatness first. A curve that never
 * bends (a straight line) has D ≡ 0 and no knee.
 */

export type KneeCurve = 'concave' | 'convex';

export interface KneedleOptions {
  /** concave: rises and levels off (throughput); convex: flat, then rises (latency). Both increasing in x. */
  curve: KneeCurve;
  /** Sensitivity S > 0: how far D must drop, in mean x-spacings, to confirm a knee. Default 1. */
  sensitivity?: number;
}

export interface Knee {
  index: number;
  x: number;
  y: number;
}

/** x strictly increasing, same length as y, at least 3 points; otherwise RangeError. Returns null: no knee. */
export function kneedle(x: readonly number[], y: readonly number[], options: KneedleOptions): Knee | null {
  const sensitivity = options.sensitivity ?? 1;
  if (!(sensitivity > 0) || !Number.isFinite(sensitivity))
    throw new RangeError(`sensitivity must be a finite number > 0, got ${sensitivity}`);
  if (x.length !== y.length) throw new RangeError(`x and y must have the same length (${x.length} vs ${y.length})`);
  if (x.length < 3) throw new RangeError(`Kneedle needs at least 3 points, got ${x.length}`);
  for (let i = 1; i < x.length; i++) {
    if (!(x[i] > x[i - 1]))
      throw new RangeError(`x must be strictly increasing (x[${i - 1}] = ${x[i - 1]}, x[${i}] = ${x[i]})`);
  }
  const yMin = Math.min(...y);
  const yRange = Math.max(...y) - yMin;
  if (!(yRange > 0)) return null;
  const xMin = x[0];
  const xRange = x[x.length - 1] - xMin;
  const xNorm = x.map((value) => (value - xMin) / xRange);
  const yNorm = y.map((value) => (value - yMin) / yRange);
  const difference = xNorm.map((xn, i) => (options.curve === 'concave' ? yNorm[i] - xn : xn - yNorm[i]));

  const last = difference.length - 1;
  // Endpoints compare with themselves (a curve may bend at its first point); the last point cannot be a knee.
  const isMaximum = (i: number) =>
    difference[i] >= difference[Math.max(0, i - 1)] && difference[i] >= difference[i + 1] && !isFlatRun(i);
  // A run of equal differences (a straight stretch) is neither a bend nor a knee.
  const isFlatRun = (i: number) =>
    difference[i] === difference[i + 1] && (i === 0 || difference[i] === difference[i - 1]);
  const meanSpacing = 1 / last;

  let threshold = Number.NEGATIVE_INFINITY;
  let candidate = -1;
  for (let i = 0; i < last; i++) {
    if (isMaximum(i)) {
      candidate = i;
      threshold = difference[i] - sensitivity * meanSpacing;
    }
    if (candidate >= 0 && difference[i + 1] < threshold) {
      return { index: candidate, x: x[candidate], y: y[candidate] };
    }
  }
  return null;
}
