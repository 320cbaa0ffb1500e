/**
 * What the knee analysis adds to a results file besides `knees` (which
 * harness/results/results.ts declares): latency-vs-offered-load knees and the
 * write-fraction crossovers. Plain JSON data; harness/results/results.ts refers to
 * these as optional fields of `Analysis`, so this file imports nothing.
 */

/** knee: found and stable; no-knee: p99 stays near its floor; undetermined: the trials do not decide; machine-limited: the jump is the machine's hiccups. */
export type LatencyKneeVerdict = 'knee' | 'no-knee' | 'undetermined' | 'machine-limited';

/**
 * The knee of p99 latency against offered load, for one
 * (map, workload, loadFactor, threads) series of open-loop cells
 * (harness/analysis/latency.ts: isotonic fit, bootstrap over trials).
 */
export interface LatencyKnee {
  map: string;
  workload: string;
  loadFactor: number;
  threads: number;
  verdict: LatencyKneeVerdict;
  /** "TPS at knee": offered load at the knee, ops/s over all threads (cell `rate` × threads); null: no knee. */
  tpsAtKnee: number | null;
  /** 95% bootstrap interval of the knee's offered load over trials. */
  tpsCiLow: number | null;
  tpsCiHigh: number | null;
  /** The cells' `rate` at the knee: target ops/s per thread. */
  ratePerThreadAtKnee: number | null;
  /** Throughput achieved at the knee, ops/s over all threads (the cell's per-thread `achievedOpsPerSec` × threads). */
  achievedOpsPerSecAtKnee: number | null;
  /** Fitted p99 at the knee (the last rate still near the floor), ns. */
  p99BeforeNs: number | null;
  /** Fitted p99 at the next offered rate measured, past the knee, ns. */
  p99AfterNs: number | null;
  /** p99 after ÷ before, with its bootstrap interval. */
  p99Ratio: { median: number; ciLow: number | null; ciHigh: number | null } | null;
  /** The machine floor at the rate past the knee: max of the hiccup meter's p99 and the workers' stall p99, ns. */
  hiccupP99Ns: number | null;
  /** Distinct offered rates measured in the series. */
  points: number;
  /** The verdict in words (why no knee, why undetermined…). */
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

/** One answer of the lab as a plain sentence (harness/analysis/findings.ts builds them). */
export interface Finding {
  kind: 'winner' | 'knee' | 'crossover' | 'load-factor';
  /** One plain sentence, its uncertainty included. */
  sentence: string;
  /** false: the data do not decide (the sentence says "not determined" or "undetermined"). */
  determined: boolean;
  /** What the sentence is about (workload, threads, maps…), for tools. */
  subject: Record<string, string | number>;
}

/** Tuning of `analyzeResults`; every field has a default. */
export interface AnalyzeOptions {
  /** Kneedle sensitivity S (Satopää et al. 2011): larger waits for a sharper bend; > 0, default 1. */
  sensitivity?: number;
  /** Throughput whose (max − min) / max is below this is flat: no knee. Fraction, default 0.05. */
  flatTolerance?: number;
  /** p99 whose max / min is below this never left its flat region: no knee. Ratio ≥ 1, default 1.5. */
  latencyFlatRatio?: number;
  /** The latency knee is where fitted p99 passes this × its floor. Ratio > 1, default 3. */
  kneeRatio?: number;
}

export type RelativeVerdict = 'faster' | 'slower' | 'tie' | 'undetermined';

/** One map against the reference map in one comparison group. */
export interface RelativeAnswer {
  workload: string;
  threads: number;
  loadFactor: number;
  rate?: number;
  runtime?: string;
  reference: string;
  map: string;
  /** map ÷ reference; median is the median of the paired ratios. */
  ratio: { median: number; ciLow: number; ciHigh: number };
  pairs: number;
  metric: 'quietOpsPerSec' | 'opsPerSec';
  verdict: RelativeVerdict;
}

/** The winner of one comparison group, or the maps it cannot be told apart from. */
export interface GroupWinner {
  workload: string;
  threads: number;
  loadFactor: number;
  rate?: number;
  runtime?: string;
  /** The map with the highest paired score; null when no map has numbers. */
  leader: string | null;
  /** 'winner': the leader beats every other shared map; 'tie': it does not beat `tiedWith`; 'undetermined': too few pairs. */
  verdict: 'winner' | 'tie' | 'undetermined';
  /** Maps the leader does not beat (empty for a winner). */
  tiedWith: string[];
  /** leader ÷ runner-up, paired. */
  margin: { median: number; ciLow: number; ciHigh: number } | null;
  runnerUp: string | null;
  pairs: number;
}

/** One map's cell under one runtime against the same cell under the reference (first) runtime, from paired trials. */
export interface RuntimeAnswer {
  map: string;
  workload: string;
  threads: number;
  loadFactor: number;
  rate?: number;
  runtime: string;
  referenceRuntime: string;
  /** runtime ÷ reference runtime, ops/s; median is the median of the paired ratios. */
  ratio: { median: number; ciLow: number; ciHigh: number };
  pairs: number;
  metric: 'quietOpsPerSec' | 'opsPerSec';
  verdict: RelativeVerdict;
}
