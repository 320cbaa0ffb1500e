/**
 * What moves on a shared machine, and on what time scale (EVIDENCE.md, "Noise
 * on shared machines"). One worker thread alternates short slices of four
 * probes for a few minutes and records each slice's rate and the thread's
 * run-queue wait:
 *   compute  — xorshift arithmetic in registers (what the calibration loop sees);
 *   memory   — dependent random reads over a 16 MiB Int32Array;
 *   sentinel — the drift sentinel's work: plain-table gets over 65,536 keys
 *              replaying a 2^19-op stream (a cell's working set);
 *   cached   — the same table and gets, replaying a 2^12-op stream (stream in L1/L2).
 * Then, per probe: the spread of its slice rates (p90/p10, max/min), how
 * long a slow spell lasts (the lag at which the rates' autocorrelation falls
 * below 0.5), how each probe co-moves with the sentinel (Pearson r of the
 * slice series), and the share of slices in which the thread waited for a
 * CPU. Prints a table; --out writes the series as JSON.
 *
 *   node dist/scripts/evidence/drift-probe.js [--seconds 120] [--slice-ms 100] [--out drift.json]
 */
import { writeFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { quantile, sampleCorrelation } from 'simple-statistics';
import { getMapFactory } from '../../maps/index.js';
import { readThreadSchedstat } from '../../harness/trial/interference.js';
import { fillMap } from '../../harness/trial/prefill.js';
import { generateOpStream, prefillEntries } from '../../workloads/index.js';
import { defineOption, parsers } from '../../harness/run/options.js';
import { SENTINEL_WORKLOAD } from '../../harness/run/sentinel.js';
import { scriptArgs } from '../cli-kit.js';

const PROBES = ['compute', 'memory', 'sentinel', 'cached'] as const;
type Probe = (typeof PROBES)[number];

interface Slice {
  probe: Probe;
  atMs: number;
  opsPerMs: number;
  runqueueWaitFraction: number | null;
}

interface ProbeData {
  seconds: number;
  sliceMs: number;
}

function runProbes({ seconds, sliceMs }: ProbeData): Slice[] {
  const memory = new Int32Array(4 * 1024 * 1024);
  let state = 0x9e3779b9;
  for (let i = 0; i < memory.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    memory[i] = (state >>> 0) % memory.length;
  }
  const factory = getMapFactory('plain');
  const map = factory.attach(factory.create({ capacity: 65_536, loadFactor: 0.75 }));
  fillMap(map, prefillEntries(SENTINEL_WORKLOAD, 1));
  const longStream = generateOpStream(SENTINEL_WORKLOAD, {
    seed: 1,
    workerIndex: 0,
    workerCount: 1,
    length: 1 << 19,
  }).keys;
  const shortStream = generateOpStream(SENTINEL_WORKLOAD, {
    seed: 2,
    workerIndex: 0,
    workerCount: 1,
    length: 1 << 12,
  }).keys;

  let sink = 0;
  let cursor = 1;
  const step: Record<Probe, (count: number) => void> = {
    compute: (count) => {
      let x = sink | 1;
      for (let i = 0; i < count; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
      }
      sink ^= x;
    },
    memory: (count) => {
      let at = cursor;
      for (let i = 0; i < count; i++) at = memory[at];
      cursor = at;
    },
    sentinel: (count) => {
      const mask = longStream.length - 1;
      for (let i = 0; i < count; i++) sink += map.get(longStream[(cursor + i) & mask]) ?? 0;
      cursor += count;
    },
    cached: (count) => {
      const mask = shortStream.length - 1;
      for (let i = 0; i < count; i++) sink += map.get(shortStream[(cursor + i) & mask]) ?? 0;
      cursor += count;
    },
  };
  const slices: Slice[] = [];
  const endMs = performance.now() + seconds * 1000;
  const batch = 4096;
  for (let turn = 0; performance.now() < endMs; turn++) {
    const probe = PROBES[turn % PROBES.length];
    const before = readThreadSchedstat();
    const startMs = performance.now();
    const stopMs = startMs + sliceMs;
    let ops = 0;
    let nowMs = startMs;
    while (nowMs < stopMs) {
      step[probe](batch);
      ops += batch;
      nowMs = performance.now();
    }
    const after = readThreadSchedstat();
    const waitNs = before && after ? after.runqueueWaitNs - before.runqueueWaitNs : null;
    slices.push({
      probe,
      atMs: Date.now(),
      opsPerMs: ops / (nowMs - startMs),
      runqueueWaitFraction: waitNs === null ? null : waitNs / ((nowMs - startMs) * 1e6),
    });
  }
  if (sink === 0.5) console.log(sink); // keeps the loops' results alive
  return slices;
}

/** The lag (in probe cycles) at which the series' autocorrelation first falls below 0.5. */
function halfLifeLag(series: number[]): number | null {
  const mean = series.reduce((sum, value) => sum + value, 0) / series.length;
  const centred = series.map((value) => value - mean);
  const variance = centred.reduce((sum, value) => sum + value * value, 0);
  if (variance === 0) return null;
  for (let lag = 1; lag < series.length / 2; lag++) {
    let covariance = 0;
    for (let i = 0; i + lag < centred.length; i++) covariance += centred[i] * centred[i + lag];
    if (covariance / variance < 0.5) return lag;
  }
  return null;
}

function summarise(slices: Slice[], sliceMs: number): string {
  const series = (probe: Probe): number[] =>
    slices.filter((slice) => slice.probe === probe).map((slice) => slice.opsPerMs);
  const cycles = Math.min(...PROBES.map((probe) => series(probe).length));
  const sentinel = series('sentinel').slice(0, cycles);
  const cycleMs = sliceMs * PROBES.length;
  const rows = PROBES.map((probe) => {
    const values = series(probe);
    const lag = halfLifeLag(values);
    const waits = slices.filter(
      (slice) => slice.probe === probe && slice.runqueueWaitFraction !== null && slice.runqueueWaitFraction > 0.05,
    ).length;
    return (
      `| ${probe} | ${Math.round(quantile(values, 0.5))} | ${(quantile(values, 0.9) / quantile(values, 0.1)).toFixed(2)} | ` +
      `${(Math.max(...values) / Math.min(...values)).toFixed(2)} | ${lag === null ? '–' : `${((lag * cycleMs) / 1000).toFixed(1)} s`} | ` +
      `${sampleCorrelation(values.slice(0, cycles), sentinel).toFixed(2)} | ${waits} of ${values.length} |`
    );
  });
  return [
    '| probe | median ops/ms | p90/p10 | max/min | slow spell half-life | r with sentinel | slices waiting > 5% for a CPU |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

if (isMainThread) {
  const { seconds, sliceMs, out } = scriptArgs({
    name: 'drift-probe',
    description:
      'what moves on a shared machine, and on what time scale: four probes in alternating slices on one worker thread',
    options: [
      defineOption({
        name: 'seconds',
        flag: '--seconds <s>',
        description: 'how long the probes run, seconds, a number 4..3600',
        defaultValue: 120,
        parse: parsers.number(4, 3600),
      }),
      defineOption({
        name: 'sliceMs',
        flag: '--slice-ms <ms>',
        description: 'one probe slice, ms, a number 10..10000',
        defaultValue: 100,
        parse: parsers.number(10, 10_000),
      }),
      defineOption({
        name: 'out',
        flag: '--out <file>',
        description: 'also write every slice to this JSON file',
        parse: parsers.string(),
      }),
    ],
  });
  const worker = new Worker(new URL(import.meta.url), { workerData: { seconds, sliceMs } satisfies ProbeData });
  worker.on('message', (slices: Slice[]) => {
    process.stdout.write(`${summarise(slices, sliceMs)}\n`);
    if (out !== undefined) writeFileSync(out, JSON.stringify({ seconds, sliceMs, slices }, null, 1));
  });
  worker.on('error', (error) => {
    process.stderr.write(`drift-probe: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  });
} else {
  parentPort?.postMessage(runProbes(workerData as ProbeData));
}
