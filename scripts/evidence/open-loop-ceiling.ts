/**
 * Evidence for the open loop's ceiling (issue 14 item 4): on one thread, in
 * one process, the closed loop against the open loop driven always behind
 * schedule (1e9 ops/s), alternating, `rounds` times; prints the median ops/s
 * of each and their ratio. The open loop's own cost is what separates them.
 *
 *   node dist/scripts/evidence/open-loop-ceiling.js [map] [rounds] [windowMs]
 *   (defaults: rwmutex, 5, 300; workload read-heavy over 65 536 keys)
 */
import { performance } from 'node:perf_hooks';
import { TrialControl } from '../../harness/trial/control.js';
import { LatencyHistogram } from '../../harness/trial/histogram.js';
import { runClosedLoop, runOpenLoop, SliceRecorder, type LoopState } from '../../harness/trial/loop.js';
import { defineOption, parsers } from '../../harness/run/options.js';
import { getMapFactory, mapFactories } from '../../maps/index.js';
import { generateOpStream, getWorkload, OP_NAMES, prefillEntries } from '../../workloads/index.js';
import { scriptArgs } from '../cli-kit.js';

const mapNames = mapFactories.map((factory) => factory.name);
const {
  map: mapName,
  rounds,
  windowMs,
} = scriptArgs({
  name: 'open-loop-ceiling',
  description: 'the closed loop against the open loop driven always behind schedule, one thread, alternating',
  options: [],
  operands: [
    defineOption({
      name: 'map',
      flag: '[map]',
      description: `the map, one of ${mapNames.join(', ')}`,
      defaultValue: 'rwmutex',
      parse: parsers.oneOf(mapNames),
    }),
    defineOption({
      name: 'rounds',
      flag: '[rounds]',
      description: 'rounds of one closed and one open window, integer 1..1000',
      defaultValue: 5,
      parse: parsers.integer(1, 1000),
    }),
    defineOption({
      name: 'windowMs',
      flag: '[windowMs]',
      description: 'each window, ms, integer 1..60000',
      defaultValue: 300,
      parse: parsers.integer(1, 60_000),
    }),
  ],
});
const workload = getWorkload('read-heavy');
const factory = getMapFactory(mapName);
const map = factory.attach(factory.create({ capacity: workload.keys, loadFactor: 0.75 }));
const prefill = prefillEntries(workload, 1);
for (let i = 0; i < prefill.keys.length; i++) map.set(prefill.keys[i], prefill.values[i]);
const stream = generateOpStream(workload, { seed: 1, workerIndex: 0, workerCount: 1, length: 1 << 19 });
const control = new TrialControl();
const histograms = () => Array.from({ length: OP_NAMES.length }, () => new LatencyHistogram());
const freshState = (): LoopState => ({
  map,
  stream,
  controlWords: control.words,
  sampleEveryOps: 128,
  index: 0,
  checksum: 0,
  rng: 1,
});

function closedLoopOpsPerSec(): number {
  const state = freshState();
  const startMs = performance.now();
  runClosedLoop(state, histograms(), new SliceRecorder(0, 10), startMs + windowMs);
  return state.index / ((performance.now() - startMs) / 1000);
}

function openLoopOpsPerSec(): number {
  const state = freshState();
  const startMs = performance.now();
  const stalls = new LatencyHistogram();
  const outcome = runOpenLoop(state, histograms(), control, startMs, 1e-6, startMs + windowMs, stalls);
  return outcome.issued / ((outcome.endMs - startMs) / 1000);
}

const closed: number[] = [];
const open: number[] = [];
for (let round = 0; round < rounds; round++) {
  closed.push(closedLoopOpsPerSec());
  open.push(openLoopOpsPerSec());
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const closedMedian = median(closed);
const openMedian = median(open);
process.stdout.write(
  `${mapName}: closed ${(closedMedian / 1e6).toFixed(2)} Mops/s, open (always behind) ` +
    `${(openMedian / 1e6).toFixed(2)} Mops/s, open ÷ closed ${(openMedian / closedMedian).toFixed(2)}\n`,
);
