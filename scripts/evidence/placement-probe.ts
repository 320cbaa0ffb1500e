/**
 * Which part of a measurement carries a "pool-level mode": the memory the map
 * and stream were placed in, or the worker thread that runs them?
 *
 * The main thread builds `--allocations` copies of one map (prefilled the same
 * way, each in its own SharedArrayBuffers) with its own op stream, and starts
 * `--workers` worker threads. Every (allocation, worker) pair is measured in
 * every one of `--rounds` rounds, in rotated order, one pair at a time
 * (20 ms warm-up, then a `--slice-ms` window of gets). Then:
 *   allocation spread — max/min of the allocations' medians (over workers and rounds);
 *   worker spread     — max/min of the workers' medians (over allocations and rounds);
 *   round spread      — max/min of the rounds' medians (time: what the machine did);
 *   residual          — the median over pairs of a pair's own max/min over rounds.
 * A factor whose spread stands well above what the residual makes of a median
 * of that many readings has a persistent mode.
 *
 *   node dist/scripts/evidence/placement-probe.js [--map plain] [--allocations 8] [--workers 4] [--rounds 6] [--slice-ms 100]
 *     [--v8-flags '--no-concurrent-recompilation']
 */
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { median } from 'simple-statistics';
import { getMapFactory, mapFactories } from '../../maps/index.js';
import type { MapHandle } from '../../maps/types.js';
import { generateOpStream, prefillEntries, type OpStream } from '../../workloads/index.js';
import { defineOption, parsers } from '../../harness/run/options.js';
import { SENTINEL_WORKLOAD } from '../../harness/run/sentinel.js';
import { scriptArgs } from '../cli-kit.js';

interface Job {
  map: string;
  handle: MapHandle;
  keys: Int32Array;
  sliceMs: number;
}

const WARMUP_MS = 20;
const BATCH = 4096;

function measure({ map: name, handle, keys, sliceMs }: Job): number {
  const map = getMapFactory(name).attach(handle);
  const mask = keys.length - 1;
  let sink = 0;
  let cursor = 0;
  let ops = 0;
  const warmEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmEnd) {
    for (let i = 0; i < BATCH; i++) sink += map.get(keys[(cursor + i) & mask]) ?? 0;
    cursor += BATCH;
  }
  const startMs = performance.now();
  let nowMs = startMs;
  while (nowMs < startMs + sliceMs) {
    for (let i = 0; i < BATCH; i++) sink += map.get(keys[(cursor + i) & mask]) ?? 0;
    cursor += BATCH;
    ops += BATCH;
    nowMs = performance.now();
  }
  if (sink === 0.5) console.log(sink);
  return ops / (nowMs - startMs);
}

function spread(values: number[]): number {
  return Math.max(...values) / Math.min(...values);
}

async function main(): Promise<void> {
  const mapNames = mapFactories.map((factory) => factory.name);
  const {
    map: mapName,
    allocations,
    workers,
    rounds,
    sliceMs,
    v8Flags,
  } = scriptArgs({
    name: 'placement-probe',
    description:
      'which part of a measurement carries a pool-level mode: the memory a map was placed in, or the worker thread running it',
    options: [
      defineOption({
        name: 'map',
        flag: '--map <name>',
        description: `the map measured, one of ${mapNames.join(', ')}`,
        defaultValue: 'plain',
        parse: parsers.oneOf(mapNames),
      }),
      defineOption({
        name: 'allocations',
        flag: '--allocations <n>',
        description: 'copies of the map, each in its own SharedArrayBuffers, integer 2..64',
        defaultValue: 8,
        parse: parsers.integer(2, 64),
      }),
      defineOption({
        name: 'workers',
        flag: '--workers <n>',
        description: 'worker threads, integer 2..16',
        defaultValue: 4,
        parse: parsers.integer(2, 16),
      }),
      defineOption({
        name: 'rounds',
        flag: '--rounds <n>',
        description: 'rounds, each measuring every (allocation, worker) pair once, integer 2..100',
        defaultValue: 6,
        parse: parsers.integer(2, 100),
      }),
      defineOption({
        name: 'sliceMs',
        flag: '--slice-ms <ms>',
        description: 'measured window of one pair, ms, a number 10..10000',
        defaultValue: 100,
        parse: parsers.number(10, 10_000),
      }),
      defineOption({
        name: 'v8Flags',
        flag: '--v8-flags <flags>',
        description: "V8 flags set before any worker starts, e.g. '--no-concurrent-recompilation'",
        parse: parsers.string(),
      }),
    ],
  });
  // Set before any worker starts: a worker's isolate reads the flags when it is created.
  if (v8Flags !== undefined) setFlagsFromString(v8Flags);

  const factory = getMapFactory(mapName);
  const { keys: prefillKeys, values: prefillValues } = prefillEntries(SENTINEL_WORKLOAD, 1);
  const jobs: Job[] = [];
  for (let a = 0; a < allocations; a++) {
    const handle = factory.create({ capacity: prefillKeys.length, loadFactor: 0.75 });
    const view = factory.attach(handle);
    for (let i = 0; i < prefillKeys.length; i++) view.set(prefillKeys[i], prefillValues[i]);
    const stream: OpStream = generateOpStream(SENTINEL_WORKLOAD, {
      seed: 1,
      workerIndex: 0,
      workerCount: 1,
      length: 1 << 19,
      shared: true,
    });
    jobs.push({ map: mapName, handle, keys: stream.keys, sliceMs });
  }
  const threads = Array.from({ length: workers }, () => new Worker(new URL(import.meta.url)));
  const run = async (worker: Worker, job: Job): Promise<number> => {
    worker.postMessage(job);
    const [rate] = (await once(worker, 'message')) as [number];
    return rate;
  };
  // Every worker sees every allocation once before anything is recorded (JIT and caches warm).
  for (const worker of threads) for (const job of jobs) await run(worker, { ...job, sliceMs: 50 });

  const readings: { a: number; w: number; r: number; rate: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < allocations * workers; k++) {
      const pair = (k + r * 7) % (allocations * workers);
      const a = pair % allocations;
      const w = Math.floor(pair / allocations);
      readings.push({ a, w, r, rate: await run(threads[w], jobs[a]) });
    }
  }
  await Promise.all(threads.map((worker) => worker.terminate()));

  const by = (key: 'a' | 'w' | 'r', count: number) =>
    Array.from({ length: count }, (_, i) =>
      median(readings.filter((reading) => reading[key] === i).map((reading) => reading.rate)),
    );
  const perAllocation = by('a', allocations);
  const perWorker = by('w', workers);
  const perRound = by('r', rounds);
  const residuals: number[] = [];
  for (let a = 0; a < allocations; a++) {
    for (let w = 0; w < workers; w++)
      residuals.push(spread(readings.filter((x) => x.a === a && x.w === w).map((x) => x.rate)));
  }
  const fmt = (list: number[]) => list.map((value) => value.toFixed(0)).join(' ');
  process.stdout.write(
    `map ${mapName}: ${allocations} allocations × ${workers} workers × ${rounds} rounds of ${sliceMs} ms, ops/ms\n` +
      `allocation medians: ${fmt(perAllocation)}  spread ${spread(perAllocation).toFixed(3)}\n` +
      `worker medians:     ${fmt(perWorker)}  spread ${spread(perWorker).toFixed(3)}\n` +
      `round medians:      ${fmt(perRound)}  spread ${spread(perRound).toFixed(3)}\n` +
      `residual (a pair's own max/min over rounds): median ${median(residuals).toFixed(3)}\n`,
  );
}

if (isMainThread) {
  main().catch((error: Error) => {
    process.stderr.write(`placement-probe: ${error.message}\n`);
    process.exitCode = 2;
  });
} else {
  parentPort?.on('message', (job: Job) => parentPort?.postMessage(measure(job)));
}
