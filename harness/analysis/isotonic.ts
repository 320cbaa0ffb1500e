/**
 * Isotonic regression by pool-adjacent-violators (Ayer et al. 1955): the
 * non-decreasing sequence closest to `values` in weighted least squares.
 * Used on log p99 against offered load, where the truth is monotone (more
 * load never makes the tail shorter) and a single point that a machine stall
 * pushed up must not read as a knee: PAVA pools it with its neighbours.
 */

/** The non-decreasing fit, same length as `values`; `weights` default 1, each > 0. */
export function isotonicFit(values: readonly number[], weights?: readonly number[]): number[] {
  if (weights !== undefined && weights.length !== values.length) {
    throw new RangeError(`weights must have the same length as values (${weights.length} vs ${values.length})`);
  }
  // Blocks of pooled points: their mean, total weight and how many points they cover.
  const means: number[] = [];
  const totals: number[] = [];
  const sizes: number[] = [];
  values.forEach((value, i) => {
    const weight = weights?.[i] ?? 1;
    if (!(weight > 0) || !Number.isFinite(value)) {
      throw new RangeError(`isotonicFit needs finite values and weights > 0 (index ${i})`);
    }
    means.push(value);
    totals.push(weight);
    sizes.push(1);
    while (means.length > 1 && means[means.length - 2] > means[means.length - 1]) {
      const mean = means.pop()!,
        total = totals.pop()!,
        size = sizes.pop()!;
      const last = means.length - 1;
      means[last] = (means[last] * totals[last] + mean * total) / (totals[last] + total);
      totals[last] += total;
      sizes[last] += size;
    }
  });
  return means.flatMap((mean, block) => new Array<number>(sizes[block]).fill(mean));
}
