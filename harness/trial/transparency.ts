/**
 * Harness transparency: how much the harness itself (pool, barrier, sampled
 * timing, deadline checks) adds per op. The bare loop replays the same op
 * stream against a fresh, identically prefilled map on the calling thread,
 * with nothing else in the loop — no clock until the end, no sampling, no
 * abort polling — for a fixed op count. `maplab run --compare-bare` reports
 * harness ns/op ÷ bare ns/op (target ≤ 1.15 on one thread).
 */
import { performance } from 'node:perf_hooks';
import type { ConcurrentMap, MapFactory } from '../../maps/types.js';
import { mapCapacity, type OpStream, type Workload } from '../../workloads/index.js';
import { applyOp } from './loop.js';
import { fillMap } from './prefill.js';

export interface BareLoopResult {
  /** Median over rounds, ns per op. */
  nsPerOp: number;
  roundsNsPerOp: number[];
  opsPerRound: number;
}

function replay(map: ConcurrentMap, stream: OpStream, ops: number): number {
  const mask = stream.length - 1;
  let checksum = 0;
  for (let index = 0; index < ops; index++) checksum = (checksum + applyOp(map, stream, index & mask)) | 0;
  return checksum;
}

/** One discarded warm-up round, then `rounds` timed rounds of `opsPerRound` ops, each on a fresh prefilled map. */
export function measureBareLoop(
  factory: MapFactory,
  workload: Workload,
  loadFactor: number,
  stream: OpStream,
  prefill: { keys: Int32Array; values: Int32Array },
  opsPerRound: number,
  rounds = 5,
): BareLoopResult {
  const roundsNsPerOp: number[] = [];
  let sink = 0;
  for (let round = -1; round < rounds; round++) {
    const map = factory.attach(factory.create({ capacity: mapCapacity(workload), loadFactor }));
    fillMap(map, prefill);
    const startMs = performance.now();
    sink ^= replay(map, stream, opsPerRound);
    const elapsedNs = (performance.now() - startMs) * 1e6;
    if (round >= 0) roundsNsPerOp.push(elapsedNs / opsPerRound);
  }
  if (sink === 0x7fffffff) roundsNsPerOp.push(0); // keeps the checksum live
  const sorted = [...roundsNsPerOp].sort((a, b) => a - b);
  return { nsPerOp: sorted[sorted.length >> 1], roundsNsPerOp, opsPerRound };
}
