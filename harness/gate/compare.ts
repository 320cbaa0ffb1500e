/**
 * Compares two results files cell by cell: is head faster or slower than base,
 * and is the difference more than run-to-run noise?
 *
 * Cells match on (map, workload, threads, loadFactor, rate). For each pair:
 *  - throughput: the medians with their 95% CIs as the files report them, the
 *    delta, and a two-sided p-value over the per-trial figures (`test`:
 *    Mann–Whitney U by default, or a bootstrap of the effect-quantile ratio);
 *    the verdict is `~` unless p < alpha, else the signed delta;
 *  - p99 latency: one figure per cell (one histogram over all trials), so no
 *    test over trials is possible; each side gets a distribution-free 95% CI
 *    from its histogram (quantile-ci.ts) and the verdict is `~` unless the two
 *    intervals are disjoint. That interval covers sampling error only, not
 *    run-to-run swings, so p99 verdicts are advisory.
 * A geometric mean of per-cell head/base ratios summarises the run; cells on
 * one side only and failed cells are listed, never dropped.
 *
 * Throughput metric (`metric`): 'ops', each trial's mean ops/s over its
 * window (the headline), or 'quiet', each trial's quietOpsPerSec (the upper
 * slice rate of its window, harness/trial/loop.ts: the rate undisturbed by the
 * machine's slow spells), used for a cell when every trial on both sides has
 * one, else that cell falls back to 'ops' and says so; or 'sentinel', each
 * trial's quiet rate over the drift sentinel read at its visit (interleaved
 * sweeps), shown at the base cell's median sentinel level: no calibration
 * scale is applied to it, and a cell without sentinel readings on either
 * side falls back to 'quiet'. The delta compares the
 * `effectQuantile` of each side's trials (0.5: the medians); the test and the
 * CIs use the same per-trial figures.
 *
 * With `normalize`, head figures are scaled to the baseline machine by the
 * ratio of the two runs' calibration figures (a fixed reference loop measured
 * in the same run), so a machine that is uniformly slower or faster does not
 * look like a regression or an improvement.
 */
import { geometricMean, quantile } from 'simple-statistics';
import { medianWithCI, pairedRatio } from '../results/stats.js';
import {
  quietFigures,
  ResultsFormatError,
  runtimeLabel,
  type Cell,
  type CellIdentity,
  type MedianCI,
  type Results,
  type ResultsCell,
} from '../results/results.js';
import { bootstrapQuantileRatio, BOOTSTRAP_RESAMPLES } from './bootstrap.js';
import { mannWhitneyU, minimumTwoSidedP } from './mann-whitney.js';
import { minimumSignTestP, signTest } from './sign-test.js';
import { quantileInterval } from './quantile-ci.js';

export const COMPARISON_SCHEMA = 'maplab.compare/1';

/** What identifies a cell across results files. */
export interface CellKey {
  map: string;
  workload: string;
  threads: number;
  loadFactor: number;
  /** Open-loop cells only: target ops/s per thread. */
  rate?: number;
  /** Sweeps over several runtimes: the cell's Node version ('v24.21.0'); cells match per runtime. */
  runtime?: string;
}

export interface CompareOptions {
  /** Significance level for the throughput test, (0, 1); 0.05 by default in the CLI. */
  alpha: number;
  /** Scale head figures to the baseline machine by base.calibration / head.calibration. */
  normalize: boolean;
  /** head map name → base map name: compare a renamed or plugin map with a baseline map. */
  mapAliases?: Readonly<Record<string, string>>;
  /** Per-trial throughput figure compared: 'ops' (default) or 'quiet'. */
  metric?: ThroughputMetric;
  /** Which quantile of each side's trials the delta compares, [0.5, 1]; 0.5 (the medians) by default. */
  effectQuantile?: number;
  /** The test behind `p` and the verdict: 'mann-whitney' (default) or 'bootstrap' (of the effect-quantile ratio, bootstrap.ts). */
  test?: ThroughputTest;
  baseSource: string;
  headSource: string;
}

export interface SideInfo {
  source: string;
  commit: string | null;
  node: string;
  cpuModel: string;
  cores: number;
  calibrationOpsPerSec: number;
}

/**
 * 'paired' pairs each head trial with the base trial of the same round (a
 * sweep that measured both sides interleaved: `maplab gate --against`): the
 * ratio is the median of the pairs' ratios, and p a two-sided sign test over
 * the pairs (sign-test.ts); files without shared rounds cannot be paired.
 */
export const THROUGHPUT_TESTS = ['mann-whitney', 'bootstrap', 'paired'] as const;
export type ThroughputTest = (typeof THROUGHPUT_TESTS)[number];

export const THROUGHPUT_METRICS = ['ops', 'quiet', 'sentinel'] as const;
export type ThroughputMetric = (typeof THROUGHPUT_METRICS)[number];

export interface ThroughputDelta {
  /** The per-trial figure used for this cell: trial.opsPerSec or trial.quietOpsPerSec. */
  field: 'opsPerSec' | 'quietOpsPerSec' | 'quietOpsPerSec/sentinel';
  /** The quantile of the trials that `ratio` compares (0.5: medians). */
  effectQuantile: number;
  /** Median with 95% CI of the per-trial figures. */
  base: MedianCI;
  /** Scaled by `calibrationScale` when the comparison is normalised. */
  head: MedianCI;
  baseTrials: number;
  headTrials: number;
  /** head / base at effectQuantile (head.median / base.median at 0.5). */
  ratio: number;
  deltaPct: number;
  /** Two-sided p of `pTest` over the per-trial figures: what `significant` and the verdict follow. */
  p: number;
  pTest: ThroughputTest;
  /** Mann–Whitney U two-sided p over the per-trial figures (always computed). */
  mannWhitneyP: number;
  /** How the Mann–Whitney p was computed. */
  test: 'exact' | 'normal';
  /** The smallest p these trial counts can reach; ≥ alpha means never significant. */
  minimumP: number;
  /** pTest 'paired': how many head trials found a base trial of the same round. */
  pairs?: number;
  /** pTest 'paired': pairs in which head was slower, and faster (ties dropped): the sign test's counts. */
  pairSigns?: { slower: number; faster: number };
  significant: boolean;
  /** '~' when not significant at alpha, else the signed delta, e.g. '-31.2%'. */
  verdict: string;
}

export interface LatencyEstimate {
  p99: number;
  ciLow: number;
  ciHigh: number;
}

export interface LatencyDelta {
  base: LatencyEstimate;
  /** Scaled by 1 / `calibrationScale` when the comparison is normalised. */
  head: LatencyEstimate;
  ratio: number;
  deltaPct: number;
  /** The two 95% intervals are disjoint. */
  significant: boolean;
  verdict: string;
}

export interface ComparedCell {
  key: CellKey;
  label: string;
  /** The head map's own name when it was matched through an alias. */
  headMap: string;
  /** threads > cores on either side. */
  oversubscribed: boolean;
  private: boolean;
  opsPerSec: ThroughputDelta;
  /** null when either histogram is empty. */
  p99Ns: LatencyDelta | null;
}

export interface UnmatchedCell {
  key: CellKey;
  label: string;
  error: string | null;
}

export interface FailedCell {
  key: CellKey;
  label: string;
  baseError: string | null;
  headError: string | null;
}

export interface DirectionCounts {
  better: number;
  worse: number;
  unchanged: number;
}

export interface Comparison {
  schema: typeof COMPARISON_SCHEMA;
  alpha: number;
  /** The throughput metric asked for (a cell without quiet figures on both sides falls back to 'ops': see its opsPerSec.field). */
  metric: ThroughputMetric;
  effectQuantile: number;
  test: ThroughputTest;
  normalized: boolean;
  /** Factor applied to head throughput (1 unless normalised): base.calibration / head.calibration. */
  calibrationScale: number;
  mapAliases: Record<string, string>;
  base: SideInfo;
  head: SideInfo;
  cells: ComparedCell[];
  onlyInBase: UnmatchedCell[];
  onlyInHead: UnmatchedCell[];
  /** Matched cells where either side carries an error. */
  failed: FailedCell[];
  summary: {
    compared: number;
    /** Geometric mean of per-cell head/base median ratios; null when no cell was compared. */
    opsPerSecGeomeanRatio: number | null;
    opsPerSec: DirectionCounts;
    p99GeomeanRatio: number | null;
    p99: DirectionCounts;
    /** compared × alpha: how many cells differ "significantly" by chance alone. */
    expectedFalsePositives: number;
    /** 1 − (1 − alpha)^compared. */
    falsePositiveChance: number;
  };
  warnings: string[];
}

/** A false positive is "likely" from this many expected ones (≈ 40% chance of at least one). */
export const FALSE_POSITIVE_WARNING_LEVEL = 0.5;

export function cellKeyOf(cell: CellIdentity, mapName = cell.map): CellKey {
  const key: CellKey = { map: mapName, workload: cell.workload, threads: cell.threads, loadFactor: cell.loadFactor };
  if (cell.rate !== undefined) key.rate = cell.rate;
  const runtime = runtimeLabel(cell);
  if (runtime !== '') key.runtime = runtime;
  return key;
}

/** 'rwmutex/read-heavy/t=1/lf=0.75' (+ '/rate=…' for open-loop cells): stable, used as the name everywhere. */
export function cellLabel(key: CellKey): string {
  const rate = key.rate === undefined ? '' : `/rate=${key.rate}`;
  const runtime = key.runtime === undefined ? '' : `/node=${key.runtime}`;
  return `${key.map}/${key.workload}/t=${key.threads}/lf=${key.loadFactor}${rate}${runtime}`;
}

export function compareResults(base: Results, head: Results, options: CompareOptions): Comparison {
  if (!(options.alpha > 0 && options.alpha < 1))
    throw new RangeError(`alpha must be a number in (0, 1) exclusive, got ${options.alpha}`);
  const effectQuantile = options.effectQuantile ?? 0.5;
  if (!(effectQuantile >= 0.5 && effectQuantile <= 1))
    throw new RangeError(`effectQuantile must be a number in [0.5, 1], got ${effectQuantile}`);
  const metric = options.metric ?? 'ops';
  const test = options.test ?? 'mann-whitney';
  const aliases = { ...(options.mapAliases ?? {}) };
  const baseCells = indexCells(base, options.baseSource, {});
  const headCells = indexCells(head, options.headSource, aliases);
  const calibrationScale = options.normalize ? base.calibration.opsPerSec / head.calibration.opsPerSec : 1;

  const cells: ComparedCell[] = [];
  const failed: FailedCell[] = [];
  const onlyInBase: UnmatchedCell[] = [];
  for (const [label, baseCell] of baseCells) {
    const headCell = headCells.get(label);
    const key = cellKeyOf(baseCell);
    if (!headCell) {
      onlyInBase.push({ key, label, error: baseCell.error ?? null });
    } else if (baseCell.error !== undefined || headCell.error !== undefined) {
      failed.push({ key, label, baseError: baseCell.error ?? null, headError: headCell.error ?? null });
    } else {
      cells.push(
        compareCell(key, label, baseCell, headCell, {
          alpha: options.alpha,
          scale: calibrationScale,
          metric,
          effectQuantile,
          test,
        }),
      );
    }
  }
  const onlyInHead: UnmatchedCell[] = [];
  for (const [label, headCell] of headCells) {
    if (!baseCells.has(label))
      onlyInHead.push({
        key: cellKeyOf(headCell, aliases[headCell.map] ?? headCell.map),
        label,
        error: headCell.error ?? null,
      });
  }

  const compared = cells.length;
  const summary: Comparison['summary'] = {
    compared,
    opsPerSecGeomeanRatio: geomeanOf(cells.map((cell) => cell.opsPerSec.ratio)),
    opsPerSec: countDirections(
      cells.map((cell) => cell.opsPerSec),
      +1,
    ),
    p99GeomeanRatio: geomeanOf(cells.flatMap((cell) => (cell.p99Ns ? [cell.p99Ns.ratio] : []))),
    p99: countDirections(
      cells.flatMap((cell) => (cell.p99Ns ? [cell.p99Ns] : [])),
      -1,
    ),
    expectedFalsePositives: compared * options.alpha,
    falsePositiveChance: 1 - (1 - options.alpha) ** compared,
  };
  return {
    schema: COMPARISON_SCHEMA,
    alpha: options.alpha,
    metric,
    effectQuantile,
    test,
    normalized: options.normalize,
    calibrationScale,
    mapAliases: aliases,
    base: sideInfo(base, options.baseSource),
    head: sideInfo(head, options.headSource),
    cells,
    onlyInBase,
    onlyInHead,
    failed,
    summary,
    warnings: warningsFor(base, head, cells, summary, options),
  };
}

/** Cells by label; a label twice in one file makes the file unusable. */
function indexCells(
  results: Results,
  source: string,
  aliases: Readonly<Record<string, string>>,
): Map<string, ResultsCell> {
  const byLabel = new Map<string, ResultsCell>();
  const firstIndex = new Map<string, number>();
  results.cells.forEach((cell, index) => {
    const label = cellLabel(cellKeyOf(cell, aliases[cell.map] ?? cell.map));
    if (byLabel.has(label)) {
      throw new ResultsFormatError(
        source,
        `cells[${index}] repeats cell ${label} (first at cells[${firstIndex.get(label)}])`,
      );
    }
    byLabel.set(label, cell);
    firstIndex.set(label, index);
  });
  return byLabel;
}

/**
 * A cell's per-trial throughput figures for `metric`, or null when a trial
 * lacks the figure. 'sentinel': each trial's quiet rate over the drift
 * sentinel's reading at its visit (harness/run/sentinel.ts), a dimensionless
 * figure that the machine's memory-system drift moves far less than the rate.
 */
export function trialFigures(cell: Cell, metric: ThroughputMetric): number[] | null {
  if (metric === 'ops') return cell.trials.map((trial) => trial.opsPerSec);
  const quiet = quietFigures(cell.trials);
  if (metric === 'quiet' || quiet === null) return quiet;
  const sentinels = cell.trials.map((trial) => trial.sentinelOpsPerSec);
  if (!sentinels.every((value): value is number => typeof value === 'number' && value > 0)) return null;
  return quiet.map((rate, index) => rate / sentinels[index]);
}

/** The median sentinel reading of a cell's trials (sentinel-normalised figures are shown at this level, ops/s). */
function sentinelLevel(cell: Cell): number {
  return quantile(
    cell.trials.map((trial) => trial.sentinelOpsPerSec as number),
    0.5,
  );
}

interface CellComparisonSettings {
  alpha: number;
  scale: number;
  metric: ThroughputMetric;
  effectQuantile: number;
  test: ThroughputTest;
}

function compareCell(
  key: CellKey,
  label: string,
  baseCell: Cell,
  headCell: Cell,
  settings: CellComparisonSettings,
): ComparedCell {
  const { alpha, effectQuantile } = settings;
  // 'sentinel' falls back to 'quiet' for a cell without sentinel readings on either side, and 'quiet' to 'ops'.
  const sentinelBase = settings.metric === 'sentinel' ? trialFigures(baseCell, 'sentinel') : null;
  const sentinelHead = settings.metric === 'sentinel' ? trialFigures(headCell, 'sentinel') : null;
  const bySentinel = sentinelBase !== null && sentinelHead !== null;
  const quietBase = settings.metric !== 'ops' ? trialFigures(baseCell, 'quiet') : null;
  const quietHead = settings.metric !== 'ops' ? trialFigures(headCell, 'quiet') : null;
  const quiet = !bySentinel && quietBase !== null && quietHead !== null;
  // Sentinel-normalised figures need no calibration scale: each trial is already relative to its own machine's level.
  const scale = bySentinel ? 1 : settings.scale;
  const level = bySentinel ? sentinelLevel(baseCell) : 1;
  const baseTrials = bySentinel
    ? (sentinelBase as number[]).map((value) => value * level)
    : quiet
      ? (quietBase as number[])
      : baseCell.trials.map((trial) => trial.opsPerSec);
  const headTrials = bySentinel
    ? (sentinelHead as number[]).map((value) => value * level)
    : (quiet ? (quietHead as number[]) : headCell.trials.map((trial) => trial.opsPerSec)).map((value) => value * scale);
  const mannWhitney = mannWhitneyU(headTrials, baseTrials);
  const bootstrap = settings.test === 'bootstrap';
  const pairs = settings.test === 'paired' ? pairByRound(headCell, headTrials, baseCell, baseTrials) : null;
  let ratio = quantile(headTrials, effectQuantile) / quantile(baseTrials, effectQuantile);
  let p = bootstrap ? bootstrapQuantileRatio(headTrials, baseTrials, effectQuantile).p : mannWhitney.p;
  let minimumP = bootstrap ? 2 / (BOOTSTRAP_RESAMPLES + 1) : minimumTwoSidedP(headTrials.length, baseTrials.length);
  let pairSigns: { slower: number; faster: number } | null = null;
  if (pairs !== null) {
    // No shared round: nothing was measured side by side, so nothing can be concluded.
    ratio = pairs.head.length > 0 ? pairedRatio(pairs.head, pairs.base).ratio : ratio;
    const signs = signTest(pairs.head, pairs.base); // no pair: p 1
    p = signs.p;
    pairSigns = { slower: signs.slower, faster: signs.faster };
    minimumP = minimumSignTestP(pairs.head.length);
  }
  const significant = p < alpha;
  return {
    key,
    label,
    headMap: headCell.map,
    oversubscribed: baseCell.oversubscribed || headCell.oversubscribed,
    private: baseCell.private === true || headCell.private === true,
    opsPerSec: {
      field: bySentinel ? 'quietOpsPerSec/sentinel' : quiet ? 'quietOpsPerSec' : 'opsPerSec',
      effectQuantile,
      // 'ops': the medians and CIs as the files report them; 'quiet': from the trials' quiet figures.
      base: quiet || bySentinel ? medianCI(baseTrials) : { ...baseCell.opsPerSec },
      head: quiet || bySentinel ? medianCI(headTrials) : scaleMedianCI(headCell.opsPerSec, scale),
      baseTrials: baseTrials.length,
      headTrials: headTrials.length,
      ratio,
      deltaPct: (ratio - 1) * 100,
      p,
      pTest: settings.test,
      mannWhitneyP: mannWhitney.p,
      test: mannWhitney.method,
      minimumP,
      ...(pairs === null ? {} : { pairs: pairs.head.length }),
      ...(pairSigns === null ? {} : { pairSigns }),
      significant,
      verdict: significant ? formatDeltaPct((ratio - 1) * 100) : '~',
    },
    p99Ns: compareP99(baseCell, headCell, scale),
  };
}

/** Head and base figures of the trials measured in the same round, in head order. */
function pairByRound(
  headCell: Cell,
  headFigures: readonly number[],
  baseCell: Cell,
  baseFigures: readonly number[],
): { head: number[]; base: number[] } {
  const baseByRound = new Map<number, number>();
  baseCell.trials.forEach((trial, index) => {
    if (typeof trial.round === 'number') baseByRound.set(trial.round, baseFigures[index]);
  });
  const head: number[] = [];
  const base: number[] = [];
  headCell.trials.forEach((trial, index) => {
    const partner = typeof trial.round === 'number' ? baseByRound.get(trial.round) : undefined;
    if (partner === undefined) return;
    head.push(headFigures[index]);
    base.push(partner);
  });
  return { head, base };
}

function scaleMedianCI(value: MedianCI, scale: number): MedianCI {
  return { median: value.median * scale, ciLow: value.ciLow * scale, ciHigh: value.ciHigh * scale };
}

function medianCI(values: readonly number[]): MedianCI {
  const { median, ciLow, ciHigh } = medianWithCI(values);
  return { median, ciLow, ciHigh };
}

function compareP99(baseCell: Cell, headCell: Cell, scale: number): LatencyDelta | null {
  const base = p99Estimate(baseCell, 1);
  const head = p99Estimate(headCell, 1 / scale);
  if (!base || !head || base.p99 <= 0) return null;
  const ratio = head.p99 / base.p99;
  const significant = head.ciLow > base.ciHigh || head.ciHigh < base.ciLow;
  return {
    base,
    head,
    ratio,
    deltaPct: (ratio - 1) * 100,
    significant,
    verdict: significant ? formatDeltaPct((ratio - 1) * 100) : '~',
  };
}

function p99Estimate(cell: Cell, scale: number): LatencyEstimate | null {
  const interval = quantileInterval(cell.latencyNs.histogram, 0.99);
  if (!interval) return null;
  const p99 = cell.latencyNs.p99;
  // The reported p99 may be interpolated inside a bucket; keep it inside its own interval.
  return { p99: p99 * scale, ciLow: Math.min(interval.low, p99) * scale, ciHigh: Math.max(interval.high, p99) * scale };
}

/** '+12.3%' / '-8.1%' (ASCII minus so logs grep cleanly). */
export function formatDeltaPct(deltaPct: number): string {
  const rounded = Math.round(deltaPct * 10) / 10;
  return `${rounded > 0 ? '+' : rounded < 0 ? '-' : '±'}${Math.abs(rounded).toFixed(1)}%`;
}

function geomeanOf(ratios: number[]): number | null {
  const usable = ratios.filter((ratio) => Number.isFinite(ratio) && ratio > 0);
  return usable.length === 0 ? null : geometricMean(usable);
}

/** `better` is the sign of a good change: +1 for throughput, −1 for latency. */
function countDirections(
  deltas: ReadonlyArray<{ significant: boolean; deltaPct: number }>,
  better: 1 | -1,
): DirectionCounts {
  const counts: DirectionCounts = { better: 0, worse: 0, unchanged: 0 };
  for (const delta of deltas) {
    if (!delta.significant || delta.deltaPct === 0) counts.unchanged++;
    else if (Math.sign(delta.deltaPct) === better) counts.better++;
    else counts.worse++;
  }
  return counts;
}

function sideInfo(results: Results, source: string): SideInfo {
  return {
    source,
    commit: results.env.commit ?? null,
    node: results.env.node,
    cpuModel: results.env.cpuModel,
    cores: results.env.cores,
    calibrationOpsPerSec: results.calibration.opsPerSec,
  };
}

function warningsFor(
  base: Results,
  head: Results,
  cells: ComparedCell[],
  summary: Comparison['summary'],
  options: CompareOptions,
): string[] {
  const warnings: string[] = [];
  if (summary.expectedFalsePositives >= FALSE_POSITIVE_WARNING_LEVEL) {
    warnings.push(
      `${summary.compared} comparisons at alpha ${options.alpha}: about ${summary.expectedFalsePositives.toFixed(1)} cells are expected to differ ` +
        `by chance alone (chance of at least one: ${(summary.falsePositiveChance * 100).toFixed(0)}%); read single-cell verdicts with care`,
    );
  }
  const underpowered = cells.filter((cell) => cell.opsPerSec.minimumP >= options.alpha);
  if (underpowered.length > 0) {
    const sample = underpowered[0].opsPerSec;
    warnings.push(
      `${underpowered.length} cell(s) have too few trials to ever reach p < ${options.alpha} ` +
        `(e.g. ${sample.pairs === undefined ? `${sample.headTrials} vs ${sample.baseTrials} trials` : `${sample.pairs} pairs of trials`}: ` +
        `smallest possible p = ${sample.minimumP.toFixed(3)}); run more trials${sample.pairs === undefined ? '' : ' or more sweeps (gate --runs)'}`,
    );
  }
  const calibrationRatio = head.calibration.opsPerSec / base.calibration.opsPerSec;
  if (!options.normalize && Math.abs(calibrationRatio - 1) > 0.1) {
    warnings.push(
      `the machines differ: head calibration is ${formatDeltaPct((calibrationRatio - 1) * 100)} of base; --normalize scales head to the baseline machine`,
    );
  }
  if (base.env.cpuModel !== head.env.cpuModel || base.env.cores !== head.env.cores) {
    warnings.push(
      `different CPUs: base ${base.env.cpuModel} × ${base.env.cores} cores, head ${head.env.cpuModel} × ${head.env.cores} cores; multi-thread cells are not comparable`,
    );
  }
  if (base.env.node !== head.env.node)
    warnings.push(`different Node.js versions: base ${base.env.node}, head ${head.env.node}`);
  return warnings;
}
