/**
 * The results file: one JSON document per run, the public contract between a
 * sweep and everything that reads it later (analysis, reports, compare, gate).
 * Field names follow ../shared/DESIGN.md "Results file"; fields may be added,
 * none renamed without bumping `schema`.
 *
 * This is the one results reader and writer: `readResultsFile` validates what
 * it reads and names the file and field that are wrong; `writeResultsFile`
 * writes atomically (temp file + rename), so a reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Crossover, Finding, LatencyKnee } from './analysis/types.js';

export const RESULTS_SCHEMA = 'maplab.results/1';

export interface ResultsEnv {
  node: string;
  v8: string;
  os: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  commit?: string;
}

export interface Trial {
  ops: number;
  elapsedNs: number;
  opsPerSec: number;
  /** Closed-loop windows of ≥ 5 slices: the quiet rate (harness/loop.ts). */
  quietOpsPerSec?: number;
  /** This trial's p99 latency (all ops), ns. */
  p99Ns?: number;
  /** The hiccup meter's p99 during this trial's window, ns. */
  hiccupP99Ns?: number;
  /** Open loop: p99 of the workers' stall histogram in this trial, ns. */
  stallP99Ns?: number;
}

/** The trials' quiet rates, or null unless every trial has one (then a cell has no quiet figure). */
export function quietFigures(trials: readonly Trial[]): number[] | null {
  const rates = trials.map((trial) => trial.quietOpsPerSec);
  return rates.length > 0 && rates.every((rate): rate is number => typeof rate === 'number' && Number.isFinite(rate)) ? rates : null;
}

/** A headline figure: the median of the trials with a 95% confidence interval. */
export interface MedianCI {
  median: number;
  ciLow: number;
  ciHigh: number;
  /** Confidence the interval actually has (harness/stats.ts: 0.95 nominal; below with too few trials). */
  ciLevel?: number;
  /** How the interval was computed (harness/stats.ts). */
  ciMethod?: string;
}

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

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** How many latencies were recorded (timing is sampled; see config). */
  samples: number;
  histogram: HistogramData;
}

export interface Cell {
  map: string;
  workload: string;
  threads: number;
  loadFactor: number;
  /** threads > cores of the machine that ran it. */
  oversubscribed: boolean;
  /** js-map cells: each thread had its own private copy. */
  private?: boolean;
  /** Open-loop cells: target ops/s per thread; absent in closed-loop cells. */
  rate?: number;
  /** Open-loop cells: ops/s per thread actually completed (median over trials); below `rate` = could not keep up. */
  achievedOpsPerSec?: number;
  trials: Trial[];
  opsPerSec: MedianCI;
  latencyNs: LatencySummary;
  counters: Record<string, number>;
  /** The machine's own stalls during the trials' windows (harness/hiccup.ts); absent in older files. */
  hiccupNs?: LatencySummary & { intervalMs: number; awakeFraction: number };
  /** Open loop: what the workers' own stalls (gaps in their wait spin) alone make of the op latencies (harness/loop.ts). */
  workerStallNs?: LatencySummary;
  /** A failed cell carries only its reason: no numbers. */
  error?: string;
  [extra: string]: unknown;
}

export interface UslFit {
  sigma: number;
  kappa: number;
  lambda: number;
  /** N* = √((1−σ)/κ); null when κ = 0 (no retrograde peak). */
  peakThreads: number | null;
  peakOpsPerSec: number | null;
  r2: number;
}

export interface KneeResult {
  map: string;
  workload: string;
  loadFactor: number;
  /** null when there is no knee or not enough points (see `note`). */
  kneeThreads: number | null;
  usl: UslFit | null;
  note?: string;
  [extra: string]: unknown;
}

export interface Analysis {
  knees: KneeResult[];
  /** p99 vs offered load knees of open-loop cells (harness/analysis). */
  latencyKnees?: LatencyKnee[];
  /** Where the faster of two maps changes along a write-fraction family (harness/analysis). */
  crossovers?: Crossover[];
  /** The answers as plain sentences with their uncertainty (harness/analysis/findings.ts). */
  findings?: Finding[];
  /** familyMember of every workload of a write-fraction family in the file, by workload name. */
  writeFractions?: Record<string, FamilyMember>;
  [extra: string]: unknown;
}

/** What a results file says of one map's verification (the full record is harness/verify's MapVerification). */
export interface VerificationBadge {
  status: string;
  message?: string;
  [extra: string]: unknown;
}

export interface Results {
  schema: typeof RESULTS_SCHEMA;
  env: ResultsEnv;
  config: Record<string, unknown>;
  calibration: { opsPerSec: number; [extra: string]: unknown };
  cells: Cell[];
  analysis: Analysis;
  /** true while a sweep is still writing the file, or was interrupted: `--resume` finishes it. */
  incomplete?: boolean;
  /** `sweep --verify`: each map's linearizability verdict (status verified / violated / unsafe / private …). */
  verification?: Record<string, VerificationBadge>;
  [extra: string]: unknown;
}

/** A workload of a write-fraction family: `<family>-<N>` with N a percentage 0..100. */
export interface FamilyMember {
  family: string;
  /** 0..1: 1 − mix.get − mix.forEach from the file's workload definition when it has one, else N / 100. */
  writeFraction: number;
}

const FAMILY_NAME = /^([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*)-(\d+(?:\.\d+)?)$/;

/**
 * The one write-fraction rule of a results file (analysis and reports both use
 * it): the family and write fraction of a workload named `<family>-<N>`
 * (writes-N, churn-N, a user's `mine-30`), or null for any other name or N > 100.
 */
export function familyMember(workload: string, workloadDefinitions: unknown): FamilyMember | null {
  const match = FAMILY_NAME.exec(workload);
  if (!match) return null;
  const percent = Number(match[2]);
  if (!(percent <= 100)) return null;
  const definition = isObject(workloadDefinitions) ? workloadDefinitions[workload] : undefined;
  const mix = isObject(definition) ? definition.mix : undefined;
  if (isObject(mix)) {
    const share = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
    return { family: match[1], writeFraction: Math.max(0, Number((1 - share(mix.get) - share(mix.forEach)).toPrecision(12))) };
  }
  return { family: match[1], writeFraction: percent / 100 };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A results file that cannot be used: names the file and the field. */
export class ResultsFormatError extends Error {
  constructor(readonly source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'ResultsFormatError';
  }
}

export function readResultsFile(path: string): Results {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ResultsFormatError(path, `cannot read results file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ResultsFormatError(path, `not valid JSON (${(error as Error).message})`);
  }
  return parseResults(json, path);
}

/** Writes atomically: a temp file beside the target, then rename over it. */
export function writeResultsFile(path: string, results: Results): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(results, null, 1) + '\n');
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Validates the contract's required fields; returns the document typed. */
export function parseResults(json: unknown, source: string): Results {
  const fail = (field: string, expected: string): never => {
    throw new ResultsFormatError(source, `${field} must be ${expected}`);
  };
  const object = (value: unknown, field: string): Record<string, unknown> =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : fail(field, 'an object');
  const finite = (value: unknown, field: string): number =>
    typeof value === 'number' && Number.isFinite(value) ? value : fail(field, 'a finite number');
  const text = (value: unknown, field: string): string => (typeof value === 'string' ? value : fail(field, 'a string'));

  const root = object(json, 'the document');
  if (root.schema !== RESULTS_SCHEMA) fail('schema', `"${RESULTS_SCHEMA}" (got ${JSON.stringify(root.schema)})`);
  const env = object(root.env, 'env');
  for (const field of ['node', 'v8', 'os', 'cpuModel'] as const) text(env[field], `env.${field}`);
  for (const field of ['cores', 'memoryBytes'] as const) finite(env[field], `env.${field}`);
  object(root.config, 'config');
  finite(object(root.calibration, 'calibration').opsPerSec, 'calibration.opsPerSec');
  if (!Array.isArray(root.cells)) fail('cells', 'an array');
  (root.cells as unknown[]).forEach((raw, index) => {
    const at = `cells[${index}]`;
    const cell = object(raw, at);
    text(cell.map, `${at}.map`);
    text(cell.workload, `${at}.workload`);
    finite(cell.threads, `${at}.threads`);
    finite(cell.loadFactor, `${at}.loadFactor`);
    if (typeof cell.oversubscribed !== 'boolean') fail(`${at}.oversubscribed`, 'a boolean');
    if (cell.error !== undefined) {
      text(cell.error, `${at}.error`);
      return;
    }
    if (!Array.isArray(cell.trials) || cell.trials.length === 0) fail(`${at}.trials`, 'a non-empty array');
    (cell.trials as unknown[]).forEach((trial, t) => {
      const tr = object(trial, `${at}.trials[${t}]`);
      for (const field of ['ops', 'elapsedNs', 'opsPerSec']) finite(tr[field], `${at}.trials[${t}].${field}`);
    });
    const ops = object(cell.opsPerSec, `${at}.opsPerSec`);
    for (const field of ['median', 'ciLow', 'ciHigh']) finite(ops[field], `${at}.opsPerSec.${field}`);
    const latency = object(cell.latencyNs, `${at}.latencyNs`);
    for (const field of ['p50', 'p90', 'p99', 'p999', 'max', 'samples']) finite(latency[field], `${at}.latencyNs.${field}`);
    const histogram = object(latency.histogram, `${at}.latencyNs.histogram`);
    if (!Array.isArray(histogram.buckets)) fail(`${at}.latencyNs.histogram.buckets`, 'an array of [lowNs, highNs, count]');
    object(cell.counters, `${at}.counters`);
  });
  const analysis = object(root.analysis, 'analysis');
  if (!Array.isArray(analysis.knees)) fail('analysis.knees', 'an array');
  return root as unknown as Results;
}
