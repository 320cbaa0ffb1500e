/**
 * Levenberg–Marquardt nonlinear least squares with lower bounds, for the few
 * parameters of a scalability model (three for USL). Hand-written because it
 * is ~100 lines and bounds are what the npm packages lack: σ and κ must stay
 * ≥ 0, and a parameter whose best value is 0 must reach exactly 0 (κ = 0 means
 * "no retrograde peak", a different answer from κ = 1e−12).
 *
 * Bounds are handled by an active set: a parameter sitting on its bound whose
 * descent direction points outside is frozen for that step; the others take a
 * damped Gauss–Newton step, clamped to the bounds. Damping follows Marquardt
 * (scaled by diag(JᵀJ)) and is raised on a rejected step, lowered on an
 * accepted one.
 */

export interface LeastSquaresProblem {
  /** Model minus observation, one per data point. */
  residuals(parameters: readonly number[]): number[];
  /** ∂residual_i / ∂parameter_j, rows per data point. */
  jacobian(parameters: readonly number[]): number[][];
  /** Per-parameter lower bound; -Infinity when free. */
  lowerBounds: readonly number[];
}

export interface LeastSquaresFit {
  parameters: number[];
  /** Sum of squared residuals at `parameters`. */
  sumOfSquares: number;
  iterations: number;
  /** The relative improvement fell below tolerance (rather than running out of iterations). */
  converged: boolean;
}

export interface LeastSquaresOptions {
  /** Default 500. */
  maxIterations?: number;
  /** Stop when a step improves the sum of squares by less than this fraction. Default 1e-14. */
  tolerance?: number;
}

const sumOfSquares = (values: readonly number[]) => values.reduce((sum, value) => sum + value * value, 0);

export function levenbergMarquardt(
  problem: LeastSquaresProblem,
  initial: readonly number[],
  options: LeastSquaresOptions = {},
): LeastSquaresFit {
  const maxIterations = options.maxIterations ?? 500;
  const tolerance = options.tolerance ?? 1e-14;
  const count = initial.length;
  const clamp = (values: number[]) => values.map((value, j) => Math.max(value, problem.lowerBounds[j]));

  let parameters = clamp([...initial]);
  let residuals = problem.residuals(parameters);
  let current = sumOfSquares(residuals);
  let damping = 1e-3;
  let iterations = 0;
  let converged = false;

  while (iterations < maxIterations && current > 0) {
    iterations++;
    const jacobian = problem.jacobian(parameters);
    // Normal equations: (JᵀJ + μ·diag(JᵀJ)) δ = −Jᵀr
    const normal = Array.from({ length: count }, () => new Array<number>(count).fill(0));
    const gradient = new Array<number>(count).fill(0);
    jacobian.forEach((row, i) => {
      for (let a = 0; a < count; a++) {
        gradient[a] += row[a] * residuals[i];
        for (let b = 0; b < count; b++) normal[a][b] += row[a] * row[b];
      }
    });
    const free = parameters.map((value, j) => !(value <= problem.lowerBounds[j] && gradient[j] > 0));

    let improved = false;
    while (damping < 1e16) {
      const step = solveDamped(normal, gradient, damping, free);
      const trial = step ? clamp(parameters.map((value, j) => value + step[j])) : null;
      const trialResiduals = trial ? problem.residuals(trial) : null;
      const trialSum =
        trialResiduals && trialResiduals.every(Number.isFinite)
          ? sumOfSquares(trialResiduals)
          : Number.POSITIVE_INFINITY;
      if (trial && trialResiduals && trialSum < current) {
        const relativeGain = (current - trialSum) / current;
        parameters = trial;
        residuals = trialResiduals;
        current = trialSum;
        damping = Math.max(damping / 10, 1e-12);
        improved = true;
        if (relativeGain < tolerance) converged = true;
        break;
      }
      damping *= 10;
    }
    if (!improved || converged) {
      converged = true;
      break;
    }
  }
  return { parameters, sumOfSquares: current, iterations, converged };
}

/** Solves the damped system over the free parameters (frozen ones get a 0 step); null when singular. */
function solveDamped(normal: number[][], gradient: number[], damping: number, free: boolean[]): number[] | null {
  const indexes = free.flatMap((isFree, j) => (isFree ? [j] : []));
  const size = indexes.length;
  if (size === 0) return null;
  const matrix = indexes.map((a) => [
    ...indexes.map((b) => normal[a][b] + (a === b ? damping * Math.max(normal[a][a], 1e-300) : 0)),
    -gradient[a],
  ]);
  // Gaussian elimination with partial pivoting on the augmented matrix.
  for (let column = 0; column < size; column++) {
    let pivot = column;
    for (let row = column + 1; row < size; row++)
      if (Math.abs(matrix[row][column]) > Math.abs(matrix[pivot][column])) pivot = row;
    if (!(Math.abs(matrix[pivot][column]) > 0)) return null;
    [matrix[column], matrix[pivot]] = [matrix[pivot], matrix[column]];
    for (let row = column + 1; row < size; row++) {
      const factor = matrix[row][column] / matrix[column][column];
      for (let k = column; k <= size; k++) matrix[row][k] -= factor * matrix[column][k];
    }
  }
  const solution = new Array<number>(size).fill(0);
  for (let row = size - 1; row >= 0; row--) {
    let sum = matrix[row][size];
    for (let k = row + 1; k < size; k++) sum -= matrix[row][k] * solution[k];
    solution[row] = sum / matrix[row][row];
  }
  const step = new Array<number>(free.length).fill(0);
  indexes.forEach((j, position) => (step[j] = solution[position]));
  return step.every(Number.isFinite) ? step : null;
}
