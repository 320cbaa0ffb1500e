/**
 * What the knee analysis adds to a results file besides `knees` (which
 * harness/results.ts declares): latency-vs-offered-load knees and the
 * write-fraction crossovers. Plain JSON data; harness/results.ts refers to
 * these as optional fields of `Analysis`, so this file imports nothing.
 */

/**
 * The knee of p99 latency against offered load, for one
 * (map, workload, loadFactor, threads) series of open-loop cells.
 */
export interface LatencyKnee {
  map: string;
  workload: string;
  loadFactor: number;
  threads: number;
  /** "TPS at knee": offered load at the knee, ops/s over all threads (cell `rate` × threads); null: no knee. */
  tpsAtKnee: number | null;
  /** The cells' `rate` at the knee: target ops/s per thread. */
  ratePerThreadAtKnee: number | null;
  /** Throughput achieved at the knee, ops/s over all threads (the cell's per-thread `achievedOpsPerSec` × threads). */
  achievedOpsPerSecAtKnee: number | null;
  /** p99 at the knee: the last offered rate whose p99 is still in the flat region, ns. */
  p99BeforeNs: number | null;
  /** p99 at the next offered rate measured, past the knee, ns. */
  p99AfterNs: number | null;
  /** Distinct offered rates measured in the series. */
  points: number;
  /** Why there is no knee (not enough points, p99 stays flat, …). */
  note?: string;
}

/**
 * Where the faster of two maps changes along a write-fraction family, for
 * one (family, threads, loadFactor), interpolated in log ratio between the
 * measured fractions that bracket it (harness/analysis/crossovers.ts).
 */
export interface Crossover {
  /** The workload family: `writes` for writes-N, `churn` for churn-N. */
  family: string;
  threads: number;
  loadFactor: number;
  /** The map ahead at the fewest writes measured. */
  map: string;
  /** The map it falls below at `writeFraction`. */
  versus: string;
  /** Write fraction 0..1 where `map` falls below `versus`; null when it never does (see `reason`). */
  writeFraction: number | null;
  /** 95% bootstrap interval over trials; null when open or not computable (see `reason`). */
  ciLow: number | null;
  ciHigh: number | null;
  /** Interpolated throughput of `map` at the crossing, ops/s; null with writeFraction. */
  opsPerSec: number | null;
  /** Write fractions measured for both maps. */
  points: number;
  reason?: string;
}

/** Tuning of `analyzeResults`; every field has a default. */
export interface AnalyzeOptions {
  /** Kneedle sensitivity S (Satopää et al. 2011): larger waits for a sharper bend; > 0, default 1. */
  sensitivity?: number;
  /** Throughput whose (max − min) / max is below this is flat: no knee. Fraction, default 0.05. */
  flatTolerance?: number;
  /** p99 whose max / min is below this never left its flat region: no knee. Ratio ≥ 1, default 1.5. */
  latencyFlatRatio?: number;
}
