/**
 * `sweep --shard i/n`: which cells of a plan shard i of n runs.
 *
 * The partition is a pure function of the plan and the config (nothing about
 * the machine, the clock or the order files arrive in), so n CI jobs that each
 * run `--shard i/n` together run every planned cell exactly once, and
 * `maplab merge` can check that they did. It balances the shards by each
 * cell's expected time: greedy longest-processing-time first (cells by
 * expected time, longest first, ties by cell key; each to the shard with the
 * least time so far, ties to the lowest shard), within 4/3 of the optimum.
 * A shard runs its cells in plan order.
 *
 * What a shard does not balance: each shard starts its own (map, threads)
 * pools, so splitting one pool's cells over shards pays its start and JIT
 * warm-up trial once per shard (about one window; harness/run/cell.ts).
 */
import { prefillCount, type Workload } from '../../workloads/index.js';
import { cellKey, streamLength, type CellSpec } from './cell.js';
import type { ShardSpec, SweepConfig } from './config.js';
import { UsageError } from './options.js';

/**
 * Setup costs of a cell beside its windows, measured on the AMD EPYC CI
 * runner (results/baseline/amd-epyc-x2, cells' `overhead`): prefilling a
 * shared map ~170 ns per entry per trial (50 ms for 5 × 59k entries);
 * generating an op stream ~70 ns per op (37 ms for 524,288 ops).
 */
const PREFILL_NS_PER_ENTRY = 170;
const STREAM_NS_PER_OP = 70;

/** A cell's expected wall time, ms: its trials' warm-ups and windows, plus prefill and stream generation for its workload. */
export function expectedCellMs(spec: CellSpec, config: SweepConfig): number {
  const workload: Workload | undefined = config.workloadDefinitions[spec.workload];
  const windowsMs = config.trials * (config.warmupMs + config.durationMs);
  if (workload === undefined) return windowsMs;
  const prefillMs = (config.trials * prefillCount(workload) * PREFILL_NS_PER_ENTRY) / 1e6;
  const streamOps = streamLength(workload, config.streamOps) * spec.threads;
  return windowsMs + prefillMs + (streamOps * STREAM_NS_PER_OP) / 1e6;
}

/** The plan cut into `count` shards (each in plan order), balanced by expected time. */
export function partitionCells(plan: readonly CellSpec[], config: SweepConfig, count: number): CellSpec[][] {
  const costed = plan.map((spec, order) => ({ spec, order, key: cellKey(spec), costMs: expectedCellMs(spec, config) }));
  costed.sort((a, b) => b.costMs - a.costMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const loadsMs = new Array<number>(count).fill(0);
  const bins: Array<typeof costed> = Array.from({ length: count }, () => []);
  for (const cell of costed) {
    let lightest = 0;
    for (let bin = 1; bin < count; bin++) if (loadsMs[bin] < loadsMs[lightest]) lightest = bin;
    bins[lightest].push(cell);
    loadsMs[lightest] += cell.costMs;
  }
  return bins.map((bin) => bin.sort((a, b) => a.order - b.order).map((cell) => cell.spec));
}

/** The cells shard `shard` runs; a shard left with no cell is refused (fewer shards, or a bigger plan). */
export function shardCells(plan: readonly CellSpec[], config: SweepConfig, shard: ShardSpec): CellSpec[] {
  if (shard.count > plan.length) {
    throw new UsageError(
      `--shard ${shard.index}/${shard.count}: the plan has ${plan.length} cell(s), so at most ${plan.length} shard(s) have work`,
    );
  }
  return partitionCells(plan, config, shard.count)[shard.index - 1];
}
