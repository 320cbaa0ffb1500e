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
 * Where Go's read-mostly design (`readdirty`) stops paying: the write fraction
 * at which its throughput falls below a lock-based map's, for one
 * (threads, loadFactor), interpolated linearly between measured fractions.
 */
export interface Crossover {
  threads: number;
  loadFactor: number;
  /** Always 'readdirty' today; kept as data so a report need not know. */
  map: string;
  /** The map it is compared with: 'rwmutex' or 'sharded'. */
  versus: string;
  /** Write fraction 0..1 at the crossing; null when it never crosses (see `reason`). */
  writeFraction: number | null;
  /** Interpolated throughput of both maps at the crossing, ops/s; null with writeFraction. */
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
  /** map ÷ reference; median is the paired geometric mean. */
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
  /** runtime ÷ reference runtime, ops/s; median is the paired geometric mean. */
  ratio: { median: number; ciLow: number; ciHigh: number };
  pairs: number;
  metric: 'quietOpsPerSec' | 'opsPerSec';
  verdict: RelativeVerdict;
}
