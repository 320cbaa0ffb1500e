/**
 * Universal Scalability Law (Gunther): X(N) = λN / (1 + σ(N−1) + κN(N−1)).
 * λ is the throughput of one thread, σ the contention (serial) fraction, κ
 * the coherency (crosstalk) cost that makes throughput fall past the peak
 * N* = √((1−σ)/κ). σ = κ = 0 is linear scaling; κ = 0 never peaks.
 *
 * Fit: nonlinear least squares on throughput itself (not on the linearised
 * form, which weights the points badly), σ, κ ≥ 0, started from the
 * linearised quadratic fit (N/C(N) − 1 = κ(N−1)² + (σ+κ)(N−1), C = X/λ) and
 * from two fixed starts; the best sum of squares wins.
 */
import type { UslFit } from '../results/results.js';
import { levenbergMarquardt } from './levenberg-marquardt.js';

export interface ScalingPoint {
  threads: number;
  opsPerSec: number;
}

export function uslThroughput(threads: number, fit: Pick<UslFit, 'lambda' | 'sigma' | 'kappa'>): number {
  return (fit.lambda * threads) / (1 + fit.sigma * (threads - 1) + fit.kappa * threads * (threads - 1));
}

/** Needs at least 3 distinct thread counts (three parameters); null otherwise. */
export function fitUsl(points: readonly ScalingPoint[]): UslFit | null {
  if (new Set(points.map((point) => point.threads)).size < 3) return null;
  for (const point of points) {
    if (!(point.threads >= 1) || !Number.isFinite(point.threads))
      throw new RangeError(`threads must be a finite number ≥ 1, got ${point.threads}`);
    if (!(point.opsPerSec >= 0) || !Number.isFinite(point.opsPerSec))
      throw new RangeError(`opsPerSec must be a finite number ≥ 0, got ${point.opsPerSec}`);
  }
  // Fit in units of the largest throughput so that λ, σ, κ have similar magnitudes.
  const scale = Math.max(...points.map((point) => point.opsPerSec));
  if (!(scale > 0)) return null;
  const threads = points.map((point) => point.threads);
  const observed = points.map((point) => point.opsPerSec / scale);

  const problem = {
    lowerBounds: [0, 0, 0],
    residuals: ([lambda, sigma, kappa]: readonly number[]) =>
      threads.map((n, i) => uslThroughput(n, { lambda, sigma, kappa }) - observed[i]),
    jacobian: ([lambda, sigma, kappa]: readonly number[]) =>
      threads.map((n) => {
        const denominator = 1 + sigma * (n - 1) + kappa * n * (n - 1);
        const squared = denominator * denominator;
        return [n / denominator, (-lambda * n * (n - 1)) / squared, (-lambda * n * n * (n - 1)) / squared];
      }),
  };
  const starts = initialGuesses(threads, observed);
  const best = starts
    .map((start) => levenbergMarquardt(problem, start))
    .reduce((a, b) => (b.sumOfSquares < a.sumOfSquares ? b : a));
  const [lambdaScaled, sigma, kappa] = best.parameters;
  const lambda = lambdaScaled * scale;

  const mean = observed.reduce((sum, value) => sum + value, 0) / observed.length;
  const totalSquares = observed.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  const r2 = totalSquares > 0 ? 1 - best.sumOfSquares / totalSquares : best.sumOfSquares <= 1e-20 ? 1 : 0;

  const { peakThreads, peakOpsPerSec } = uslPeak({ lambda, sigma, kappa });
  return { sigma, kappa, lambda, peakThreads, peakOpsPerSec, r2 };
}

/**
 * N* = √((1−σ)/κ), at least 1: when it falls below one thread (or σ ≥ 1) throughput
 * only falls from the first thread on, and the peak is N = 1.
 * κ = 0: no retrograde peak (throughput approaches λ/σ, or grows without bound when σ = 0): null.
 */
export function uslPeak(fit: Pick<UslFit, 'lambda' | 'sigma' | 'kappa'>): {
  peakThreads: number | null;
  peakOpsPerSec: number | null;
} {
  // σ ≥ 1: every added thread costs more than it brings, so throughput peaks at one thread whatever κ is.
  if (fit.sigma >= 1) return { peakThreads: 1, peakOpsPerSec: uslThroughput(1, fit) };
  if (!(fit.kappa > 0)) return { peakThreads: null, peakOpsPerSec: null };
  const peakThreads = Math.max(1, Math.sqrt((1 - fit.sigma) / fit.kappa));
  return { peakThreads, peakOpsPerSec: uslThroughput(peakThreads, fit) };
}

function initialGuesses(threads: number[], observed: number[]): number[][] {
  const fewest = threads.indexOf(Math.min(...threads));
  const lambda = observed[fewest] / threads[fewest];
  // Linearised: y = N/C(N) − 1 = a·x² + b·x with x = N − 1, κ = a, σ = b − a (least squares through the origin).
  let s4 = 0,
    s3 = 0,
    s2 = 0,
    s2y = 0,
    s1y = 0;
  threads.forEach((n, i) => {
    if (!(observed[i] > 0)) return;
    const x = n - 1;
    const y = (n * lambda) / observed[i] - 1;
    s4 += x ** 4;
    s3 += x ** 3;
    s2 += x ** 2;
    s2y += x * x * y;
    s1y += x * y;
  });
  const determinant = s4 * s2 - s3 * s3;
  const guesses = [
    [lambda, 0, 0],
    [lambda, 0.1, 0.001],
  ];
  if (Math.abs(determinant) > 0) {
    const a = (s2y * s2 - s3 * s1y) / determinant;
    const b = (s4 * s1y - s3 * s2y) / determinant;
    guesses.unshift([lambda, Math.max(b - a, 0), Math.max(a, 0)]);
  }
  return guesses;
}
