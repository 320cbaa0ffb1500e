/**
 * `maplab merge`: the results files of a sharded sweep (`sweep --shard i/n`,
 * typically one per CI matrix job) joined into the file one unsharded sweep
 * of the same config would have written: the same cell keys in the same
 * (plan) order, the same config (without `shard`), and the analysis
 * recomputed over all cells (finalizeResults).
 *
 * Shards must agree on everything that decides what a number means: the
 * config (every field but `shard` and the measured `timing`) and the machine
 * and runtime (env cpuModel, cores, node; and commit when both record one).
 * Every planned cell must come from exactly one file. Anything else is a
 * MergeError (a UsageError: exit 2, nothing written) that names the files.
 *
 * The merged `calibration.opsPerSec` is the median of the shards' (each
 * shard's own is kept under `merged.shards`); cells keep their numbers as
 * measured.
 */
import { cellKey } from '../run/cell.js';
import type { ShardSpec, SweepConfig } from '../run/config.js';
import { finalizeResults } from '../run/finalize.js';
import { UsageError } from '../run/options.js';
import type { Results, VerificationBadge } from './results.js';
import { fixedCostSummary, planAllCells } from '../run/sweep.js';

export class MergeError extends UsageError {
  constructor(message: string) {
    super(`merge: ${message}`);
    this.name = 'MergeError';
  }
}

export interface MergeInput {
  results: Results;
  /** Where it came from (a path), named in errors and in `merged.shards`. */
  source: string;
}

/** Env fields that must match: shards of one machine kind and runtime. */
const MATCHING_ENV = ['cpuModel', 'cores', 'node'] as const;
/** Config fields that may differ between shards: which shard, and the clock measured at the start of each. */
const PER_SHARD_CONFIG = new Set(['shard', 'timing']);
/** Cell keys listed in one message before "…". */
const LISTED_KEYS = 6;

export function mergeShards(inputs: readonly MergeInput[]): Results {
  if (inputs.length === 0) throw new MergeError('no results files given');
  const ordered = [...inputs].sort((a, b) => shardIndex(a) - shardIndex(b) || a.source.localeCompare(b.source));
  const first = ordered[0];
  for (const input of ordered) checkMatches(first, input);

  const config = { ...(first.results.config as SweepConfig) };
  delete config.shard;
  const plan = planAllCells(config);
  const order = new Map(plan.map((spec, index) => [cellKey(spec), index]));
  const owner = new Map<string, string>();
  const cells = ordered.flatMap((input) => input.results.cells.map((cell) => {
    const key = cellKey(cell);
    if (!order.has(key)) throw new MergeError(`cell ${key} of ${input.source} is not in the config's plan`);
    const previous = owner.get(key);
    if (previous !== undefined) throw new MergeError(`cell ${key} is in both ${previous} and ${input.source}: give each shard's file once`);
    owner.set(key, input.source);
    return cell;
  }));
  const missing = plan.map((spec) => cellKey(spec)).filter((key) => !owner.has(key));
  if (missing.length > 0) throw new MergeError(missingMessage(missing, ordered));
  cells.sort((a, b) => (order.get(cellKey(a)) as number) - (order.get(cellKey(b)) as number));

  const calibrations = ordered.map((input) => input.results.calibration.opsPerSec).sort((a, b) => a - b);
  const sweeps = ordered.map((input) => input.results.sweep ?? {});
  const times = (field: string) => sweeps.map((sweep) => sweep[field]).filter((value): value is string => typeof value === 'string').sort();
  const merged: Results = {
    ...first.results,
    config,
    calibration: { ...first.results.calibration, opsPerSec: calibrations[Math.floor((calibrations.length - 1) / 2)] },
    cells,
    sweep: {
      startedAt: times('startedAt')[0] ?? null,
      finishedAt: times('finishedAt').at(-1) ?? null,
      wallMs: Math.max(0, ...sweeps.map((sweep) => Number(sweep.wallMs) || 0)),
      fixedCostFraction: fixedCostSummary(cells),
    },
    merged: {
      shards: ordered.map((input) => ({
        source: input.source,
        shard: (input.results.config as SweepConfig).shard ?? null,
        cells: input.results.cells.length,
        commit: input.results.env.commit ?? null,
        calibration: input.results.calibration.opsPerSec,
        timing: input.results.config.timing ?? null,
        sweep: input.results.sweep ?? null,
      })),
    },
  };
  const verification = mergeVerification(ordered);
  if (verification !== undefined) merged.verification = verification;
  return finalizeResults(merged);
}

function shardIndex(input: MergeInput): number {
  return (input.results.config as SweepConfig).shard?.index ?? 0;
}

function checkMatches(first: MergeInput, other: MergeInput): void {
  if (other.results.incomplete === true) {
    throw new MergeError(`${other.source} is incomplete (an interrupted sweep): finish it with maplab sweep --resume --out ${other.source}`);
  }
  for (const field of MATCHING_ENV) {
    if (first.results.env[field] !== other.results.env[field]) {
      throw new MergeError(`env.${field} differs: ${first.source} ${JSON.stringify(first.results.env[field])}, ${other.source} ` +
        `${JSON.stringify(other.results.env[field])}; merge the shards of one machine kind and runtime at a time`);
    }
  }
  const [firstCommit, otherCommit] = [first.results.env.commit, other.results.env.commit];
  if (firstCommit !== undefined && otherCommit !== undefined && firstCommit !== otherCommit) {
    throw new MergeError(`env.commit differs: ${first.source} ${firstCommit}, ${other.source} ${otherCommit}; shards must measure one commit`);
  }
  const fields = new Set([...Object.keys(first.results.config), ...Object.keys(other.results.config)]);
  const differing = [...fields].filter((field) => !PER_SHARD_CONFIG.has(field) &&
    canonical(first.results.config[field]) !== canonical(other.results.config[field]));
  if (differing.length > 0) {
    const detail = differing.slice(0, 4).map((field) =>
      `${field}: ${clip(canonical(first.results.config[field]))} vs ${clip(canonical(other.results.config[field]))}`).join('; ');
    throw new MergeError(`config differs between ${first.source} and ${other.source} (${detail}${differing.length > 4 ? '; …' : ''}): ` +
      'shards must be run with the same options');
  }
  const [firstCount, otherCount] = [first, other].map((input) => (input.results.config as SweepConfig).shard?.count ?? null);
  if (firstCount !== otherCount) {
    throw new MergeError(`${first.source} is ${describeShard(first)} but ${other.source} is ${describeShard(other)}: merge the shards of one split`);
  }
}

function describeShard(input: MergeInput): string {
  const shard = (input.results.config as SweepConfig).shard;
  return shard === undefined ? 'a whole sweep' : `shard ${shard.index}/${shard.count}`;
}

function missingMessage(missing: string[], inputs: readonly MergeInput[]): string {
  const shards = inputs.map((input) => (input.results.config as SweepConfig).shard).filter((shard): shard is ShardSpec => shard !== undefined);
  const count = shards[0]?.count;
  const given = new Set(shards.map((shard) => shard.index));
  const absent = count === undefined ? [] : Array.from({ length: count }, (_, index) => index + 1).filter((index) => !given.has(index));
  const listed = missing.slice(0, LISTED_KEYS).join(', ') + (missing.length > LISTED_KEYS ? ', …' : '');
  return `${missing.length} planned cell(s) are in no file (${listed})` +
    (absent.length > 0 ? `: shard(s) ${absent.map((index) => `${index}/${count}`).join(', ')} not given` : '');
}

/** Per map, the shards' verdict; where they differ, the first that is not 'verified' (a violation found anywhere stands). */
function mergeVerification(inputs: readonly MergeInput[]): Record<string, VerificationBadge> | undefined {
  const records = inputs.map((input) => input.results.verification).filter((record) => record !== undefined);
  if (records.length === 0) return undefined;
  const merged: Record<string, VerificationBadge> = {};
  for (const record of records) {
    for (const [map, badge] of Object.entries(record)) {
      if (merged[map] === undefined || (merged[map].status === 'verified' && badge.status !== 'verified')) merged[map] = badge;
    }
  }
  return merged;
}

/** JSON with object keys sorted, so that equal configs compare equal whatever order their fields were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) => (member !== null && typeof member === 'object' && !Array.isArray(member)
    ? Object.fromEntries(Object.entries(member as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : member)) ?? 'undefined';
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
