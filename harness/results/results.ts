/**
 * The results file: one JSON document per run, the public contract between a
 * sweep and everything that reads it later (analysis, reports, compare, gate).
 * Field names follow ../shared/DESIGN.md "Results file"; fields may be added,
 * none renamed without bumping `schema`.
 *
 * This is the one results reader and writer: `readResultsFile` validates what
 * it reads and names the file and field that are wrong; `writeResultsFile`
 * writes atomically (temp file + rename), so a reader never sees half a file.
 *
 * Schemas 2 and 3 differ from 1 only in storage, not in what readers get
 * back: `parseResults` reads all three into the same in-memory `Results`,
 * taking each stored form wherever it finds it, and the writer writes schema
 * 3 (rewriting an older file upgrades it).
 *  - Schema 2 ('maplab.results/2', issue 17): a cell's `latencyNs.histogram`
 *    is stored as sparse decimal bucket runs (harness/trial/histogram.ts
 *    StoredHistogram), exact; `latencyByOpNs[op]` keeps its percentiles but
 *    not its histogram, and a trial keeps no `counters` of its own (the
 *    cell's `counters` are their per-key median): no reader used either, and
 *    they were ~85% of a file; below the third level of nesting, values are
 *    written on one line. A quick-preset file went from ~4.5 MB to under
 *    0.5 MB, a ci one from ~1.4 MB to under 150 KB.
 *  - Schema 3 ('maplab.results/3', issue 17 "lean results"): every stored
 *    histogram's counts are base64url zigzag varints (`counts64`), exact and
 *    about half the size of schema 2's runs; a cell's `trials` are stored as
 *    columns, one array per field (trialColumns below), so each field's name
 *    is written once per cell instead of once per trial. Today's quick-preset
 *    files (6 interleaved trials, hiccup meter) go from 601–650 kB to
 *    426–447 kB (../EVIDENCE.md "Lean results files").
 * Nothing is rounded on the way: but for what schema 2 leaves out, a file
 * read and written again reads back deep-equal; and a document in the
 * in-memory form (trial objects, bucket triples) reads too, whatever its
 * `schema` says.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Crossover, Finding, GroupWinner, LatencyKnee, RelativeAnswer, RuntimeAnswer } from '../analysis/types.js';
import type { JitMode } from '../run/jit.js';
import type { Affinity } from '../trial/affinity.js';
import {
  decodeHistogram, encodeHistogram, type HistogramData, type LatencyPercentiles, type LatencySummary, type StoredHistogram,
} from '../trial/histogram.js';

export type { HistogramData, LatencyPercentiles, LatencySummary };

/** The schema this code writes. */
export const RESULTS_SCHEMA = 'maplab.results/3';
/** Every schema this code reads. */
export const READABLE_SCHEMAS = ['maplab.results/1', 'maplab.results/2', RESULTS_SCHEMA] as const;
export type ResultsSchema = (typeof READABLE_SCHEMAS)[number];

export interface ResultsEnv {
  node: string;
  v8: string;
  os: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  commit?: string;
  /** How V8 optimised the measured code (harness/run/jit.ts); absent in files from before it was recorded. */
  jit?: JitMode;
  /** Whether measuring threads were pinned to vCPUs, and to which (harness/trial/affinity.ts); absent: not pinned. */
  affinity?: Affinity;
}

export interface Trial {
  ops: number;
  elapsedNs: number;
  opsPerSec: number;
  /** Closed-loop windows of ≥ 5 slices: the quiet rate (harness/trial/loop.ts). */
  quietOpsPerSec?: number;
  /** Start of the measured window on the run's timeline, ns. */
  windowStartNs?: number;
  /** Interleaved sweeps: the round the trial belongs to; trials of one round of a comparison group are pairs. */
  round?: number;
  /** Interleaved sweeps: which set of fresh pools measured it (0-based). */
  poolGeneration?: number;
  /** Interleaved sweeps: the drift sentinel's quiet rate at the trial's visit, ops/s (harness/run/sentinel.ts). */
  sentinelOpsPerSec?: number;
  /** Interleaved sweeps: the placement sentinel's cache-line handoff time before the trial's visit, ns (harness/run/placement.ts). */
  handoffNs?: number;
  /** The largest share of the window a worker spent waiting for a CPU (harness/trial/interference.ts). */
  runqueueWaitFraction?: number;
  /** Measured again because the first visit was disturbed (harness/run/schedule.ts). */
  remeasured?: boolean;
  /** This trial's p99 latency (all ops), ns. */
  p99Ns?: number;
  /** The hiccup meter's p99 during this trial's window, ns. */
  hiccupP99Ns?: number;
  /** Open loop: p99 of the workers' stall histogram in this trial, ns. */
  stallP99Ns?: number;
  /** Open loop: the slowest worker's ops/s in this trial. */
  slowestWorkerOpsPerSec?: number;
  /** Open loop: ops the workers were due to issue but never did (could not keep up). */
  backlogOps?: number;
}

/** What the scheduler of an interleaved sweep records in a trial (harness/run/sweep.ts). */
export type TrialMeta = Pick<Trial, 'round' | 'poolGeneration' | 'sentinelOpsPerSec' | 'handoffNs' | 'remeasured'>;

/** The trials' quiet rates, or null unless every trial has one (then a cell has no quiet figure). */
export function quietFigures(trials: readonly Trial[]): number[] | null {
  const rates = trials.map((trial) => trial.quietOpsPerSec);
  return rates.length > 0 && rates.every((rate): rate is number => typeof rate === 'number' && Number.isFinite(rate)) ? rates : null;
}

/**
 * A cell's runtime label: a spec's string, or a results cell's `runtime.node`;
 * '' when the sweep had one runtime. The one place that reads it.
 */
export function runtimeLabel(cell: object): string {
  const runtime = (cell as { runtime?: unknown }).runtime;
  if (typeof runtime === 'string') return runtime;
  if (runtime !== null && typeof runtime === 'object' && typeof (runtime as { node?: unknown }).node === 'string') return (runtime as { node: string }).node;
  return '';
}

/** A headline figure: the median of the trials with a 95% confidence interval. */
export interface MedianCI {
  median: number;
  ciLow: number;
  ciHigh: number;
  /** Confidence the interval actually has (harness/results/stats.ts: 0.95 nominal; below with too few trials). */
  ciLevel?: number;
  /** How the interval was computed (harness/results/stats.ts). */
  ciMethod?: string;
}

/**
 * What identifies a cell in a results file, and all a failed cell has
 * besides its reason.
 */
export interface CellIdentity {
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
  /** Sweeps over several runtimes (--node): the Node and V8 versions that measured the cell. */
  runtime?: { node: string; v8: string };
}

/** How a cell's latencies were timed (the config's `timing` says more). */
export type CellTiming =
  | { method: 'sampled-ops'; sampleEveryOps: number; clockCostNs: number }
  | { method: 'every-op-from-intended-start'; clockCostNs: number };

/** Where a cell's wall time went besides its measured windows, ms (harness/run/cell.ts). */
export interface CellOverhead {
  /** Everything but the trials' warm-ups and windows and the pool warm-up trial's window. */
  fixedMs: number;
  poolStartMs: number;
  /** The discarded JIT warm-up trials of fresh pools; absent in older files. */
  poolWarmupMs?: number;
  streamsMs: number;
  prefillMs: number;
  /** Full collections between trials; absent in older files. */
  gcMs?: number;
  /** fixedMs ÷ the measured windows. */
  fractionOfWindow: number;
}

/**
 * A measured cell: its trials and the figures made of them. Fields marked
 * optional are absent in some files (older ones, closed- vs open-loop
 * cells, a meter that was off); `parseResults` checks the others.
 */
export interface Cell extends CellIdentity {
  /** Never set on a measured cell: `error` is what marks an ErrorCell. */
  error?: undefined;
  trials: Trial[];
  opsPerSec: MedianCI;
  /** Median with CI of the trials' quiet rates, when every trial has one. */
  quietOpsPerSec?: MedianCI;
  latencyNs: LatencySummary;
  /** Per op name; a schema-1 file also kept each op's histogram. */
  latencyByOpNs?: Record<string, LatencyPercentiles & { histogram?: HistogramData }>;
  /** The machine's own stalls during the trials' windows (harness/trial/hiccup.ts); absent in older files. */
  hiccupNs?: LatencySummary & { intervalMs: number; awakeFraction: number };
  /** Open loop: what the workers' own stalls (gaps in their wait spin) alone make of the op latencies (harness/trial/loop.ts). */
  workerStallNs?: LatencySummary;
  /** The map's stats() counters, per-key median over the trials. */
  counters: Record<string, number>;
  /** Ops issued per op name, summed over trials and workers. */
  opCounts?: Record<string, number>;
  timing?: CellTiming;
  /** The options every trial's map was created with. */
  mapOptions?: { capacity: number; loadFactor: number };
  /** Ops pre-generated per worker (and replayed cyclically). */
  streamOps?: number;
  /** The most times a worker went round its stream in one trial. */
  streamWraps?: number;
  overhead?: CellOverhead;
  /** Wall time spent on the cell, ms. */
  wallMs?: number;
  /** Interleaved sweeps: trials measured again because their first visit was disturbed. */
  remeasuredTrials?: number;
  /** Open-loop cells: ops/s per thread actually completed (median over trials); below `rate` = could not keep up. */
  achievedOpsPerSec?: number;
  /** Open-loop cells: rate × threads. */
  offeredOpsPerSec?: number;
  /** Open-loop cells: ops never issued over all trials (could not keep up). */
  backlogOps?: number;
  /** A baseline pooled from several runs (`gate --baseline a,b,c`, harness/gate/baseline.ts): how many runs measured it. */
  baselineRuns?: number;
}

/** A failed cell carries only its identity and reason: no numbers. */
export interface ErrorCell extends CellIdentity {
  error: string;
  /** The underlying failure when `error` is a verdict ("concurrent map writes (not detected…)"). */
  errorDetail?: string;
}

/** A cell of a results file: measured (a `Cell`) or failed (an `ErrorCell`, told apart by its `error`). */
export type ResultsCell = Cell | ErrorCell;

export function isErrorCell(cell: ResultsCell): cell is ErrorCell {
  return cell.error !== undefined;
}

export function isMeasuredCell(cell: ResultsCell): cell is Cell {
  return cell.error === undefined;
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
  /** Measured throughput at the knee, ops/s (harness/analysis/scaling.ts); absent in older files. */
  kneeOpsPerSec?: number | null;
  usl: UslFit | null;
  /** Distinct thread counts measured; absent in older files. */
  points?: number;
  note?: string;
}

export interface Analysis {
  knees: KneeResult[];
  /** p99 vs offered load knees of open-loop cells (harness/analysis). */
  latencyKnees?: LatencyKnee[];
  /** Where the faster of two maps changes along a write-fraction family (harness/analysis). */
  crossovers?: Crossover[];
  /** Each map ÷ the reference map per comparison group, from paired trials (harness/analysis/relative.ts). */
  relative?: RelativeAnswer[];
  /** The winner (or tie) of each comparison group (harness/analysis/relative.ts). */
  winners?: GroupWinner[];
  /** Sweeps with --node: each cell under each runtime ÷ under the first runtime, paired (harness/analysis/relative.ts). */
  runtimes?: RuntimeAnswer[];
  /** The answers as plain sentences with their uncertainty (harness/analysis/findings.ts). */
  findings?: Finding[];
  /** familyMember of every workload of a write-fraction family in the file, by workload name. */
  writeFractions?: Record<string, FamilyMember>;
}

/**
 * One map's verification in a results file. A sweep stores harness/verify's
 * whole MapVerification record; readers rely on `status` alone.
 */
export interface VerificationBadge {
  status: string;
  message?: string;
  /** Histories recorded and checked. */
  histories?: number;
}

/**
 * The run's reference-loop figure (harness/run/calibration.ts). A fresh one
 * has every field; older files carry only some of them.
 */
export interface ResultsCalibration {
  /** The CALIBRATION_QUANTILE of `roundRates`, ops/s. */
  opsPerSec: number;
  version?: number;
  rounds?: number;
  opsPerRound?: number;
  /** How opsPerSec was taken from the rounds. */
  statistic?: string;
  /** Every round's ops/s, in the order measured (absent in files written before rounds were spread). */
  roundRates?: number[];
}

/** `run --compare-bare`: the harness's ns/op (one thread) against a bare replay of the same stream (harness/trial/transparency.ts). */
export interface Transparency {
  harnessNsPerOp: number;
  bareNsPerOp: number;
  ratio: number;
  bareOpsPerRound: number;
}

/** `maplab merge` (harness/results/merge.ts): each shard file the merged file was made of. */
export interface MergedShard {
  source: string;
  shard: { index: number; count: number } | null;
  cells: number;
  commit: string | null;
  calibration: number;
  timing: unknown;
  sweep: Record<string, unknown> | null;
}

/** One runtime's primitive costs as harness/micro/primitives.ts records them (declared here so reports need only this file's types). */
export interface PrimitivesRecord {
  node: string;
  v8: string;
  cells: Array<{ name: string; unit: string; median: number }>;
}

export interface Results {
  /** As read (schemas 1 to 3 read into the same shape); written as RESULTS_SCHEMA. */
  schema: ResultsSchema;
  env: ResultsEnv;
  config: Record<string, unknown>;
  calibration: ResultsCalibration;
  cells: ResultsCell[];
  analysis: Analysis;
  /** true while a sweep is still writing the file, or was interrupted: `--resume` finishes it. */
  incomplete?: boolean;
  /** true when the sweep was interrupted (Ctrl-C); a finished file has no such field. */
  interrupted?: boolean;
  /**
   * How the sweep ran (harness/run/sweep.ts): startedAt, finishedAt, wallMs,
   * resumedAt, fixedCostFraction, and `drift` for interleaved sweeps. Free
   * form: readers check each field they use.
   */
  sweep?: Record<string, unknown>;
  /** Files that say when the run started here instead of in `sweep` (reports/site.ts reads either). */
  startedAt?: unknown;
  /** A name given to the run by whoever made the file: the report site's folder for it (reports/site.ts). */
  runId?: unknown;
  /** Sweeps over runtimes (--node): each runtime's primitives (harness/micro/primitives.ts), the first runtime first. */
  primitives?: PrimitivesRecord[];
  /** `sweep --verify`: each map's linearizability verdict (status verified / violated / unsafe / private …). */
  verification?: Record<string, VerificationBadge>;
  transparency?: Transparency;
  merged?: { shards: MergedShard[] };
  /** A baseline pooled from several runs (harness/gate/baseline.ts): the files it was pooled from. */
  baselineSources?: string[];
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
    writeFileSync(temp, serializeResults(results));
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** The text of a results file (RESULTS_SCHEMA), as writeResultsFile writes it and `--json` prints it. */
export function serializeResults(results: Results): string {
  const stored = { ...results, schema: RESULTS_SCHEMA, cells: results.cells.map(storedCell) };
  return stringifyNested(stored, PRETTY_LEVELS) + '\n';
}

/** Levels of nesting written one member per line (root, its fields, a cell's fields); deeper values stay on one line. */
const PRETTY_LEVELS = 3;

function stringifyNested(value: unknown, levels: number, indent = ''): string {
  if (levels === 0 || value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return JSON.stringify(value) ?? 'null';
  }
  const inner = `${indent} `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => inner + stringifyNested(item, levels - 1, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, member]) => member !== undefined && typeof member !== 'function');
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([key, member]) => `${inner}${JSON.stringify(key)}: ${stringifyNested(member, levels - 1, inner)}`).join(',\n')}\n${indent}}`;
}

/**
 * A cell as RESULTS_SCHEMA stores it (see the top of this file): histograms in
 * their stored encoding, no per-op histograms, no per-trial counters. An
 * error cell is stored as it is.
 */
function storedCell(cell: ResultsCell): ResultsCell | Record<string, unknown> {
  if (isErrorCell(cell) || cell.latencyNs === undefined) return cell;
  const stored: Record<string, unknown> = { ...cell, latencyNs: { ...cell.latencyNs, histogram: encodeHistogram(cell.latencyNs.histogram) } };
  if (Array.isArray(cell.trials)) stored.trials = trialColumns(cell.trials);
  // The machine's own histograms (hiccup meter, worker stalls) are stored in the same encoding as latencyNs.
  if (cell.hiccupNs?.histogram) stored.hiccupNs = { ...cell.hiccupNs, histogram: encodeHistogram(cell.hiccupNs.histogram) };
  if (cell.workerStallNs?.histogram) {
    stored.workerStallNs = { ...cell.workerStallNs, histogram: encodeHistogram(cell.workerStallNs.histogram) };
  }
  const byOp = cell.latencyByOpNs;
  if (byOp !== null && typeof byOp === 'object') {
    stored.latencyByOpNs = Object.fromEntries(Object.entries(byOp).map(([op, { histogram: _histogram, ...summary }]) => [op, summary]));
  }
  return stored;
}

/**
 * Trials as schema 3 stores them: one array per field, in trial order
 * (`"trials": {"ops": [...], "elapsedNs": [...], ...}`), so each field's name
 * is written once per cell instead of once per trial; `null` where a trial
 * has no such field (no Trial field is ever null). A trial's `counters` are
 * not stored (schema 2 dropped them: the cell's `counters` are their median).
 */
function trialColumns(trials: readonly Trial[]): Record<string, unknown[]> {
  const columns: Record<string, unknown[]> = {};
  trials.forEach((trial, position) => {
    for (const [field, value] of Object.entries(trial)) {
      if (value === undefined || field === 'counters') continue;
      (columns[field] ??= new Array<unknown>(trials.length).fill(null))[position] = value;
    }
  });
  return columns;
}

/** Validates the contract's required fields; returns the document typed (histograms decoded). */
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
  if (!(READABLE_SCHEMAS as readonly unknown[]).includes(root.schema)) {
    fail('schema', `one of ${READABLE_SCHEMAS.map((schema) => `"${schema}"`).join(', ')} (got ${JSON.stringify(root.schema)})`);
  }
  const histogramOf = (value: unknown, field: string): HistogramData => {
    try {
      return decodeHistogram(object(value, field) as unknown as StoredHistogram, field);
    } catch (error) {
      if (error instanceof RangeError) throw new ResultsFormatError(source, error.message);
      throw error;
    }
  };
  /** The trial objects of schema-3 columns: every column an array as long as `ops`, `null` for an absent field. */
  const trialsOfColumns = (columns: Record<string, unknown>, field: string): Array<Record<string, unknown>> => {
    const count = Array.isArray(columns.ops) ? columns.ops.length : fail(`${field}.ops`, 'an array (one value per trial)');
    const trials = Array.from({ length: count }, (): Record<string, unknown> => ({}));
    for (const [name, column] of Object.entries(columns)) {
      if (!Array.isArray(column) || column.length !== count)
        fail(`${field}.${name}`, `an array of ${count} values, one per trial (as many as ops)`);
      (column as unknown[]).forEach((value, t) => {
        if (value !== null) trials[t][name] = value;
      });
    }
    return trials;
  };
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
    // Schemas 1 and 2 store trials as an array of objects, schema 3 as columns (trialColumns): read either.
    const columns = isObject(cell.trials) ? cell.trials : null;
    if (columns === null && !Array.isArray(cell.trials)) fail(`${at}.trials`, 'a non-empty array, or an object of columns');
    const trials = columns === null ? (cell.trials as unknown[]) : trialsOfColumns(columns, `${at}.trials`);
    if (trials.length === 0) fail(`${at}.trials`, columns === null ? 'a non-empty array' : 'columns of at least one trial');
    trials.forEach((trial, t) => {
      const tr = object(trial, `${at}.trials[${t}]`);
      for (const field of ['ops', 'elapsedNs', 'opsPerSec'])
        finite(tr[field], columns === null ? `${at}.trials[${t}].${field}` : `${at}.trials.${field}[${t}]`);
    });
    cell.trials = trials;
    const ops = object(cell.opsPerSec, `${at}.opsPerSec`);
    for (const field of ['median', 'ciLow', 'ciHigh']) finite(ops[field], `${at}.opsPerSec.${field}`);
    const latency = object(cell.latencyNs, `${at}.latencyNs`);
    for (const field of ['p50', 'p90', 'p99', 'p999', 'max', 'samples']) finite(latency[field], `${at}.latencyNs.${field}`);
    latency.histogram = histogramOf(latency.histogram, `${at}.latencyNs.histogram`);
    if (cell.latencyByOpNs !== undefined) {
      for (const [op, summary] of Object.entries(object(cell.latencyByOpNs, `${at}.latencyByOpNs`))) {
        const opSummary = object(summary, `${at}.latencyByOpNs.${op}`);
        if (opSummary.histogram !== undefined) opSummary.histogram = histogramOf(opSummary.histogram, `${at}.latencyByOpNs.${op}.histogram`);
      }
    }
    for (const field of ['hiccupNs', 'workerStallNs'] as const) {
      if (cell[field] === undefined) continue;
      const summary = object(cell[field], `${at}.${field}`);
      if (summary.histogram !== undefined) summary.histogram = histogramOf(summary.histogram, `${at}.${field}.histogram`);
    }
    object(cell.counters, `${at}.counters`);
  });
  const analysis = object(root.analysis, 'analysis');
  if (!Array.isArray(analysis.knees)) fail('analysis.knees', 'an array');
  // Checked above: what every reader relies on, and for each cell either `error` (an ErrorCell) or the numbers
  // of a measured Cell. Fields not checked are passed through as the file has them.
  return root as unknown as Results;
}
