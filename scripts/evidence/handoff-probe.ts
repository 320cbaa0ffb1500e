/**
 * How a 2-thread cell follows the vCPUs' placement (EVIDENCE.md, "Noise on
 * shared machines"). On a 2-vCPU VM the host moves the two vCPUs between its
 * cores: a cache line passed between the two threads costs ~60 ns when they
 * share a core complex, ~240 ns when they do not, and microseconds when one
 * vCPU is not running. A shared map pays that price on every line the other
 * thread wrote; a private one should not care. This probe measures both
 * against the same reading, on the same timeline, with the sweep's own code:
 *
 *   one cycle = a `--probe-ms` handoff reading (harness/run/placement.ts,
 *               the placement sentinel's pool and harness/trial/handoff.ts),
 *               then one `--slice-ms` trial of every map at 2 threads
 *               (harness/trial/worker.ts, one MapPool per map as in a sweep,
 *               after a SENTINEL_WARMUP_MS warm-up), maps in rotated order,
 *   repeated for `--seconds`.
 *
 * Each map is built once: a shared map is created and prefilled on the main
 * thread (as harness/run/cell.ts does) and every slice attaches to it; a
 * private map (js-map) is prefilled by each worker on its own copy, which
 * worker.ts does at the start of every trial, outside the window. Each worker
 * replays its own op stream of the workload (the sweep's streams, seed 1).
 *
 * Then, per band of the cycle's handoff reading (HANDOFF_BANDS): how many
 * cycles fell in it and the median ops/s of each map over them; each map's
 * close/far ratio; and the time scale: how many cycles a spell in one band
 * lasts (median run length) and how many band switches the run saw. A spell
 * shorter than a cycle is not seen. Prints a table; --out writes the series
 * and the summary as JSON.
 *
 *   npm run build
 *   node --no-concurrent-recompilation dist/scripts/evidence/handoff-probe.js \
 *     [--maps rwmutex,clht,js-map] [--workload read-heavy] [--seconds 120] [--slice-ms 100] [--probe-ms 20] \
 *     [--out handoff.json [--force]]
 *
 * Sweeps measure with --no-concurrent-recompilation (harness/run/jit.ts); give
 * it here too, or the slices run V8's default and may carry JIT modes.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from 'simple-statistics';
import { formatNs } from '../../reports/format.js';
import { getMapFactory, mapFactories } from '../../maps/index.js';
import type { MapHandle } from '../../maps/types.js';
import {
  getWorkload,
  insertsFreshKeys,
  mapCapacity,
  prefillEntries,
  workloadPresets,
  writeFraction,
  type OpStream,
  type Workload,
} from '../../workloads/index.js';
import { commonOptions, DEFAULT_SAMPLE_EVERY, DEFAULT_STREAM_OPS } from '../../harness/run/config.js';
import { generateCellStreams, POOL_WARMUP_MIN_MS, streamLength } from '../../harness/run/cell.js';
import { currentJitMode } from '../../harness/run/jit.js';
import { defineOption, parsers, UsageError } from '../../harness/run/options.js';
import { PlacementSentinel } from '../../harness/run/placement.js';
import { SENTINEL_WARMUP_MS } from '../../harness/run/sentinel.js';
import { TrialControl } from '../../harness/trial/control.js';
import { MapPool } from '../../harness/trial/pool.js';
import { fillMap } from '../../harness/trial/prefill.js';
import type { TrialTask, WorkerOutcome, WorkerReport } from '../../harness/trial/worker.js';
import { scriptArgs } from '../cli-kit.js';

const NAME = 'handoff-probe';
/** The handoff reading is between two threads, and a 2-vCPU VM has one pair to place. */
const THREADS = 2;
const SEED = 1;
/** The sweep's usual load factor (every preset measures 0.75). */
const LOAD_FACTOR = 0.75;
/** A trial that has not come back by then (a deadlocked map) ends the probe, ms. */
const TRIAL_TIMEOUT_MS = 30_000;

/**
 * Bands of the handoff reading, ns, lower bound inclusive. Readings on this
 * machine kind (AMD EPYC, KVM, 2 vCPUs) cluster at ~58 ns (the vCPUs share a
 * core complex), at 110–130 ns now and then, and at ~220–250 ns (different
 * complexes); anything slower means the two threads were not both running
 * for the whole window. 90 and 170 ns fall in the gaps between the three
 * modes; 400 ns sits above the far mode's spread. Past it a reading measures
 * how long the two vCPUs ran at once: at ~240 ns a pass, 0.4 µs means they
 * met for about 60% of the window, 10 µs for about 2.4% of it.
 */
export const HANDOFF_BANDS = [
  { name: '< 90 ns', fromNs: 0, toNs: 90 },
  { name: '90–170 ns', fromNs: 90, toNs: 170 },
  { name: '170–400 ns', fromNs: 170, toNs: 400 },
  { name: '0.4–10 µs', fromNs: 400, toNs: 10_000 },
  { name: '> 10 µs', fromNs: 10_000, toNs: Infinity },
] as const;
/** The bands whose medians make a map's close/far ratio: same core complex ÷ different complexes. */
const CLOSE_BAND = 0;
const FAR_BAND = 2;

/** One map's slice of a cycle. */
export interface Slice {
  map: string;
  /** Wall-clock start of the trial (Date.now()), ms. */
  atMs: number;
  /** Both workers' ops over the window from the first start to the last end, ops/s. */
  opsPerSec: number;
  /** The larger of the two workers' run-queue wait shares (harness/trial/interference.ts); null off Linux. */
  runqueueWaitFraction: number | null;
}

/** One handoff reading and the slices measured after it. */
export interface Cycle {
  /** Wall-clock time of the reading (Date.now()), ms. */
  atMs: number;
  /** Mean time of one handoff of a cache line between the two threads, ns. */
  handoffNs: number;
  slices: Slice[];
}

export interface BandSummary {
  band: string;
  cycles: number;
  /** Median handoff reading of the band's cycles, ns; null when it has none. */
  handoffMedianNs: number | null;
  /** Per map, the median ops/s of its slices in the band's cycles; null when it has none. */
  medianOpsPerSec: Record<string, number | null>;
  /** Maximal runs of consecutive cycles in the band. */
  runs: number;
  /** Median length of those runs, cycles; null when there are none. */
  medianRunCycles: number | null;
}

export interface Summary {
  maps: string[];
  cycles: number;
  /** Median time from one reading to the next, ms: what a cycle stands for in time. */
  cycleMs: number | null;
  bands: BandSummary[];
  /** Per map: median ops/s in the close band ÷ in the far band; null when either band is empty. */
  closeOverFar: Record<string, number | null>;
  /** Consecutive cycles whose readings fall in different bands. */
  switches: number;
  /** Median length of a run in any band, cycles. */
  medianRunCycles: number | null;
}

export function bandOf(handoffNs: number): number {
  return HANDOFF_BANDS.findIndex((band) => handoffNs >= band.fromNs && handoffNs < band.toNs);
}

/** The summary of a series: plain data, rendered by `renderSummary`. */
export function summarise(maps: readonly string[], cycles: readonly Cycle[]): Summary {
  const bands = cycles.map((cycle) => bandOf(cycle.handoffNs));
  const runs: Array<{ band: number; cycles: number }> = [];
  bands.forEach((band, index) => {
    if (index > 0 && bands[index - 1] === band) runs[runs.length - 1].cycles++;
    else runs.push({ band, cycles: 1 });
  });
  const medianOrNull = (values: number[]): number | null => (values.length === 0 ? null : median(values));
  const rates = (band: number, map: string): number[] =>
    cycles
      .filter((_, index) => bands[index] === band)
      .flatMap((cycle) => cycle.slices.filter((slice) => slice.map === map).map((slice) => slice.opsPerSec));
  const bandSummaries = HANDOFF_BANDS.map((band, index): BandSummary => {
    const own = runs.filter((run) => run.band === index).map((run) => run.cycles);
    return {
      band: band.name,
      cycles: bands.filter((other) => other === index).length,
      handoffMedianNs: medianOrNull(cycles.filter((_, at) => bands[at] === index).map((cycle) => cycle.handoffNs)),
      medianOpsPerSec: Object.fromEntries(maps.map((map) => [map, medianOrNull(rates(index, map))])),
      runs: own.length,
      medianRunCycles: medianOrNull(own),
    };
  });
  const closeOverFar = Object.fromEntries(
    maps.map((map) => {
      const close = bandSummaries[CLOSE_BAND].medianOpsPerSec[map];
      const far = bandSummaries[FAR_BAND].medianOpsPerSec[map];
      return [map, close === null || far === null ? null : close / far];
    }),
  );
  const gaps = cycles.slice(1).map((cycle, index) => cycle.atMs - cycles[index].atMs);
  return {
    maps: [...maps],
    cycles: cycles.length,
    cycleMs: medianOrNull(gaps),
    bands: bandSummaries,
    closeOverFar,
    switches: Math.max(0, runs.length - 1),
    medianRunCycles: medianOrNull(runs.map((run) => run.cycles)),
  };
}

export function renderSummary(summary: Summary): string {
  const dash = '–';
  /** A run length in cycles, and in seconds at the median cycle. */
  const runText = (cycles: number | null): string => {
    if (cycles === null) return dash;
    const count = cycles.toFixed(Number.isInteger(cycles) ? 0 : 1);
    return summary.cycleMs === null ? count : `${count} (${((cycles * summary.cycleMs) / 1000).toFixed(1)} s)`;
  };
  const rows = summary.bands.map((band) => {
    const handoff = band.handoffMedianNs === null ? dash : formatNs(Math.round(band.handoffMedianNs));
    const rates = summary.maps.map((map) => {
      const rate = band.medianOpsPerSec[map];
      return rate === null ? dash : (rate / 1e6).toFixed(1);
    });
    return `| ${band.band} | ${band.cycles} | ${handoff} | ${rates.join(' | ')} | ${band.runs} | ${runText(band.medianRunCycles)} |`;
  });
  const ratios = summary.maps.map((map) => {
    const ratio = summary.closeOverFar[map];
    return `${map} ${ratio === null ? dash : ratio.toFixed(2)}`;
  });
  const cycleText = summary.cycleMs === null ? '' : `, one every ${(summary.cycleMs / 1000).toFixed(2)} s`;
  return [
    `| handoff band | cycles | median handoff | ${summary.maps.map((map) => `${map} M ops/s`).join(' | ')} | runs | median run, cycles |`,
    `|---|---|---|${summary.maps.map(() => '---|').join('')}---|---|`,
    ...rows,
    '',
    `close/far (median ops/s at ${HANDOFF_BANDS[CLOSE_BAND].name} ÷ at ${HANDOFF_BANDS[FAR_BAND].name}): ${ratios.join(', ')}`,
    `time scale: ${summary.switches} band switches in ${summary.cycles} cycles${cycleText}; ` +
      `median run in any band, cycles: ${runText(summary.medianRunCycles)}`,
  ].join('\n');
}

/** A map under test: its pool (its own threads and JIT, as in a sweep) and what each slice's tasks carry. */
interface MapUnderTest {
  name: string;
  pool: MapPool;
  handle: MapHandle;
  privatePrefill: { keys: Int32Array; values: Int32Array } | null;
}

/** Builds the map once: a shared one created and prefilled here, a private one left to each worker. */
async function prepare(
  name: string,
  workload: Workload,
  prefill: { keys: Int32Array; values: Int32Array },
): Promise<MapUnderTest> {
  const factory = getMapFactory(name);
  const handle = factory.create({ capacity: mapCapacity(workload), loadFactor: LOAD_FACTOR });
  if (factory.shared) fillMap(factory.attach(handle), prefill);
  const pool = await MapPool.start({ name }, THREADS, TRIAL_TIMEOUT_MS);
  return { name, pool, handle, privatePrefill: factory.shared ? null : prefill };
}

/** One trial of `map` at 2 threads: SENTINEL_WARMUP_MS of warm-up (caches, TLB; the JIT is warm), then `windowMs`. */
async function slice(map: MapUnderTest, streams: OpStream[], windowMs: number): Promise<Slice> {
  const control = new TrialControl();
  const tasks: TrialTask[] = streams.map((stream, workerIndex) => ({
    kind: 'trial',
    control: control.buffer,
    workerIndex,
    workerCount: THREADS,
    map: { name: map.name },
    handle: map.handle,
    privatePrefill: map.privatePrefill,
    stream,
    sampleEveryOps: DEFAULT_SAMPLE_EVERY,
    warmupMs: SENTINEL_WARMUP_MS,
    durationMs: windowMs,
    ratePerSec: null,
    seed: SEED,
  }));
  const atMs = Date.now();
  const outcomes: WorkerOutcome[] = await map.pool.runTrial(tasks, control, performance.now() + TRIAL_TIMEOUT_MS);
  const failure = outcomes.find((outcome) => !outcome.ok);
  if (failure !== undefined && !failure.ok) {
    throw new Error(`${map.name}: ${failure.error ? `${failure.error.name}: ${failure.error.message}` : 'aborted'}`);
  }
  const reports = outcomes as WorkerReport[];
  const ops = reports.reduce((sum, report) => sum + report.ops, 0);
  const elapsedNs =
    Math.max(...reports.map((report) => report.windowEndNs)) -
    Math.min(...reports.map((report) => report.windowStartNs));
  const waits = reports.map((report) => report.runqueueWaitFraction);
  return {
    map: map.name,
    atMs,
    opsPerSec: (ops / elapsedNs) * 1e9,
    runqueueWaitFraction: waits.every((wait): wait is number => wait !== null) ? Math.max(...waits) : null,
  };
}

/** Workloads a map reused across slices can replay: each slice starts its stream over, so no fresh-key inserts. */
const REPLAYABLE_WORKLOADS = workloadPresets.filter((workload) => !insertsFreshKeys(workload)).map(({ name }) => name);
const MAP_NAMES = mapFactories.map((factory) => factory.name);

const options = [
  defineOption({
    name: 'maps',
    flag: '--maps <list>',
    description: `maps measured, comma-separated, each one of ${MAP_NAMES.join(', ')}`,
    defaultValue: ['rwmutex', 'clht', 'js-map'],
    parse: parsers.list(parsers.oneOf(MAP_NAMES)),
  }),
  defineOption({
    name: 'workload',
    flag: '--workload <name>',
    description: `workload preset every map replays, one without fresh-key inserts: ${REPLAYABLE_WORKLOADS.join(', ')}`,
    defaultValue: 'read-heavy',
    parse: parsers.oneOf(REPLAYABLE_WORKLOADS),
  }),
  defineOption({
    name: 'seconds',
    flag: '--seconds <s>',
    description: 'how long the cycles run (after the pools start and warm up), seconds, a number 1..3600',
    defaultValue: 120,
    parse: parsers.number(1, 3600),
  }),
  defineOption({
    name: 'sliceMs',
    flag: '--slice-ms <ms>',
    description: `measured window of one map's slice, ms, a number 5..10000 (after ${SENTINEL_WARMUP_MS} ms of warm-up)`,
    defaultValue: 100,
    parse: parsers.number(5, 10_000),
  }),
  defineOption({
    name: 'probeMs',
    flag: '--probe-ms <ms>',
    description: 'window of one handoff reading, ms, a number 1..1000',
    defaultValue: 20,
    parse: parsers.number(1, 1000),
  }),
  defineOption({
    name: 'out',
    flag: '--out <file>',
    description: 'also write every cycle and the summary to this JSON file',
    parse: parsers.string(),
  }),
  commonOptions.force,
] as const;

/** Input the parsers cannot judge alone; throws UsageError before anything runs. */
function checkInput(maps: readonly string[], workload: Workload, out: string | undefined, force = false): void {
  const repeated = maps.find((map, index) => maps.indexOf(map) !== index);
  if (repeated !== undefined) throw new UsageError(`--maps names ${repeated} twice`);
  if (writeFraction(workload) > 0) {
    const unsafe = maps.filter((map) => !getMapFactory(map).safeForConcurrentWrites);
    if (unsafe.length > 0) {
      const safe = MAP_NAMES.filter((map) => getMapFactory(map).safeForConcurrentWrites);
      throw new UsageError(
        `--maps: ${unsafe.join(', ')} is not safe for concurrent writes and ${workload.name} writes; ` +
          `with it, choose among ${safe.join(', ')}`,
      );
    }
  }
  if (out !== undefined) {
    if (existsSync(out) && !force) throw new UsageError(`--out: ${out} already exists; pass --force to overwrite it`);
    if (!existsSync(dirname(out))) throw new UsageError(`--out: directory ${dirname(out)} does not exist`);
  }
}

async function main(): Promise<void> {
  const {
    maps,
    workload: workloadName,
    seconds,
    sliceMs,
    probeMs,
    out,
    force,
  } = scriptArgs({
    name: NAME,
    description: 'how 2-thread maps follow the vCPU placement: handoff readings alternated with slices of each map',
    options,
  });
  const workload = getWorkload(workloadName);
  checkInput(maps, workload, out, force);

  const prefill = prefillEntries(workload, SEED, { shared: true });
  const streams = generateCellStreams(workload, {
    seed: SEED,
    threads: THREADS,
    length: streamLength(workload, DEFAULT_STREAM_OPS),
  });
  const sentinel = await PlacementSentinel.start({ timeoutMs: TRIAL_TIMEOUT_MS });
  const underTest: MapUnderTest[] = [];
  try {
    for (const name of maps) underTest.push(await prepare(name, workload, prefill));
    // Discarded, as on a sweep's fresh pool: the first slices would otherwise measure unoptimised code.
    for (const map of underTest) await slice(map, streams, POOL_WARMUP_MIN_MS);

    const cycles: Cycle[] = [];
    const endMs = performance.now() + seconds * 1000;
    for (let turn = 0; turn === 0 || performance.now() < endMs; turn++) {
      const reading = await sentinel.measure(performance.now() + TRIAL_TIMEOUT_MS, undefined, { windowMs: probeMs });
      const cycle: Cycle = { atMs: reading.atMs, handoffNs: reading.handoffNs, slices: [] };
      for (let k = 0; k < underTest.length; k++)
        cycle.slices.push(await slice(underTest[(turn + k) % underTest.length], streams, sliceMs));
      cycles.push(cycle);
    }

    const summary = summarise(maps, cycles);
    process.stdout.write(
      `${NAME}: ${workload.name} at ${THREADS} threads; each cycle a ${probeMs} ms handoff reading, then ` +
        `${sliceMs} ms of each map in rotated order; ${cycles.length} cycles in ${seconds} s; JIT ${currentJitMode()}\n` +
        `${renderSummary(summary)}\n`,
    );
    if (out !== undefined) {
      // toNs of the last band is Infinity, which JSON cannot hold: null there means unbounded.
      const bands = HANDOFF_BANDS.map((band) => ({ ...band, toNs: Number.isFinite(band.toNs) ? band.toNs : null }));
      const document = { workload: workload.name, threads: THREADS, seconds, sliceMs, probeMs, jit: currentJitMode() };
      writeFileSync(out, JSON.stringify({ ...document, node: process.version, bands, summary, cycles }, null, 1));
    }
  } finally {
    await Promise.all([sentinel.close(), ...underTest.map((map) => map.pool.destroy())]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: Error) => {
    process.stderr.write(`${NAME}: ${error instanceof UsageError ? error.message : (error.stack ?? error.message)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  });
}
