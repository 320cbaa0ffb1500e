/**
 * `maplab micro --primitives`: what the map results rest on, per runtime. The
 * shared maps are built from typed-array reads, Atomics and futex wake-ups; the
 * private baseline from V8's Map. When a map gets faster on a newer Node, this
 * table says which primitive moved (issue 13: Atomics.load 12 → 6 ns/op from
 * Node 20 to 24).
 *
 * Single-thread primitives are timed with tinybench, each iteration a loop of
 * BATCH_OPS calls so tinybench's per-iteration overhead (hundreds of ns) adds
 * under 0.05 ns/op. The wait→notify wake-up needs two threads, which tinybench
 * cannot time: it is hand-rolled (see measureWakeUp).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { Sfc32 } from '../../workloads/random.js';
import type { Runtime } from '../run/runtime-install.js';
import { CLI_PATH, measuringNodeFlags } from '../run/jit.js';

const execFileAsync = promisify(execFile);

/** Calls per tinybench iteration. */
export const PRIMITIVE_BATCH_OPS = 8192;
/** Int32 slots the Atomics and plain reads walk: 4 KiB, in L1, so the figure is the instruction, not the cache. */
const SLOTS = 1024;
const SLOT_MASK = SLOTS - 1;
const MAP_KEYS = 1 << 16;
const WAKE_ROUNDS = 200;

export const PRIMITIVES = [
  'typed-array read',
  'Atomics.load',
  'Atomics.store',
  'Atomics.add',
  'Atomics.compareExchange',
  'performance.now()',
  'process.hrtime.bigint()',
  'Map.get (2^16 keys)',
  'wait→notify wake-up',
] as const;
export type PrimitiveName = (typeof PRIMITIVES)[number];

export interface PrimitiveCell {
  name: PrimitiveName;
  /** ns/op for the single-thread primitives; µs for the wake-up. */
  unit: 'ns/op' | 'µs';
  /** Median: of tinybench iteration times ÷ PRIMITIVE_BATCH_OPS, or of the wake-up rounds. */
  median: number;
  /** Relative margin of error of the mean, percent (tinybench); absent for the wake-up. */
  rmePercent?: number;
  samples: number;
}

export interface PrimitivesResult {
  schema: 'maplab.primitives/1';
  node: string;
  v8: string;
  timeMs: number;
  /** Child processes this result is the fastest of, per primitive (1 when measured once). */
  runs?: number;
  cells: PrimitiveCell[];
}

/** Keeps every loop's result alive so V8 cannot drop the loop. */
const sink = { number: 0, bigint: 0n };

function singleThreadBodies(): Record<Exclude<PrimitiveName, 'wait→notify wake-up'>, () => void> {
  const slots = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
  const random = new Sfc32(0x7072696d);
  const map = new Map<number, number>();
  const keysInRandomOrder = new Int32Array(MAP_KEYS);
  while (map.size < MAP_KEYS) {
    const key = random.nextBelow(2 ** 31 - 1);
    if (!map.has(key)) keysInRandomOrder[map.size] = key;
    map.set(key, map.size);
  }
  let casExpected = 0;
  let mapCursor = 0;
  return {
    'typed-array read': () => {
      let sum = 0;
      for (let i = 0; i < PRIMITIVE_BATCH_OPS; i++) sum += slots[i & SLOT_MASK];
      sink.number += sum;
    },
    'Atomics.load': () => {
      let sum = 0;
      for (let i = 0; i < PRIMITIVE_BATCH_OPS; i++) sum += Atomics.load(slots, i & SLOT_MASK);
      sink.number += sum;
    },
    'Atomics.store': () => {
      for (let i = 0; i < PRIMITIVE_BATCH_OPS; i++) Atomics.store(slots, i & SLOT_MASK, i);
    },
    'Atomics.add': () => {
      for (let i = 0; i < PRIMITIVE_BATCH_OPS; i++) Atomics.add(slots, i & SLOT_MASK, 1);
    },
    // Always succeeds: slot 0 holds casExpected, as nothing else writes it during this task.
    'Atomics.compareExchange': () => {
      Atomics.store(slots, 0, casExpected);
      for (let i = 0; i < PRIMITIVE_BATCH_OPS; i++)
        casExpected = Atomics.compareExchange(slots, 0, casExpected, casExpected + 1) + 1;
    },
    'performance.now()': () => {
      let sum = 0;
      for (let i = 0; i < PRIMITIVE_BATCH_OPS; i++) sum += performance.now();
      sink.number += sum;
    },
    'process.hrtime.bigint()': () => {
      let latest = 0n;
      for (let i = 0; i < PRIMITIVE_BATCH_OPS; i++) latest = process.hrtime.bigint();
      sink.bigint ^= latest;
    },
    'Map.get (2^16 keys)': () => {
      let sum = 0;
      for (let i = 0; i < PRIMITIVE_BATCH_OPS; i++)
        sum += map.get(keysInRandomOrder[(mapCursor + i) & (MAP_KEYS - 1)]) ?? 0;
      mapCursor = (mapCursor + PRIMITIVE_BATCH_OPS) & (MAP_KEYS - 1);
      sink.number += sum;
    },
  };
}

async function measureSingleThread(timeMs: number): Promise<PrimitiveCell[]> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.max(20, timeMs / 4), throws: true });
  for (const [name, body] of Object.entries(singleThreadBodies())) bench.add(name, body);
  await bench.run();
  return bench.tasks.map((task) => {
    const result = task.result;
    if (result.state !== 'completed')
      throw new Error(`primitive ${task.name}: ${result.state === 'errored' ? result.error.message : result.state}`);
    return {
      name: task.name as PrimitiveName,
      unit: 'ns/op' as const,
      median: (result.latency.p50 * 1e6) / PRIMITIVE_BATCH_OPS,
      rmePercent: result.latency.rme,
      samples: result.latency.samplesCount,
    };
  });
}

// Wake-up layout: Int32 words the two threads hand off on, then two BigInt64 timestamps (process.hrtime.bigint(),
// one monotonic clock for every thread of the process).
const WAITER_READY = 0; // round r: written r by the waiter just before it waits on SIGNAL
const SIGNAL = 1; // round r: written r by the notifier, then notified
const WOKEN = 2; // round r: written r by the waiter once awake, then notified
const NOTIFY_NS = 0; // BigInt64 index: written by the notifier just before Atomics.notify
const WAKE_NS = 1; // BigInt64 index: written by the waiter first thing after Atomics.wait returns
const WAKE_WORDS_BYTES = 16;

interface WakeUpTask {
  kind: 'maplab-wake-up';
  buffer: SharedArrayBuffer;
  rounds: number;
}

function waiterLoop(task: WakeUpTask): void {
  const words = new Int32Array(task.buffer, 0, 3);
  const times = new BigInt64Array(task.buffer, WAKE_WORDS_BYTES, 2);
  for (let round = 1; round <= task.rounds; round++) {
    Atomics.store(words, WAITER_READY, round);
    Atomics.notify(words, WAITER_READY);
    Atomics.wait(words, SIGNAL, round - 1);
    times[WAKE_NS] = process.hrtime.bigint();
    Atomics.store(words, WOKEN, round);
    Atomics.notify(words, WOKEN);
  }
}

/** Blocks until the waiter has written `round` to words[index]; 10 s without it means the worker died. */
function awaitRound(words: Int32Array, index: number, round: number): void {
  const deadlineMs = performance.now() + 10_000;
  while (Atomics.load(words, index) < round) {
    if (performance.now() > deadlineMs) throw new Error(`wake-up: the waiter never reached round ${round}`);
    Atomics.wait(words, index, round - 1, 100);
  }
}

/**
 * notify→wake latency: a worker parks in Atomics.wait, the main thread stamps
 * the time and notifies, the worker stamps the time it runs again. The main
 * thread sleeps 1 ms after the worker says it is about to wait, so the worker
 * is parked (a futex sleep) rather than spinning; a round in which notify woke
 * no one (the worker was not yet parked) is discarded. Median over the rounds, µs.
 */
async function measureWakeUp(rounds = WAKE_ROUNDS): Promise<PrimitiveCell> {
  const buffer = new SharedArrayBuffer(WAKE_WORDS_BYTES + 2 * BigInt64Array.BYTES_PER_ELEMENT);
  const words = new Int32Array(buffer, 0, 3);
  const times = new BigInt64Array(buffer, WAKE_WORDS_BYTES, 2);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(fileURLToPath(import.meta.url), {
    workerData: { kind: 'maplab-wake-up', buffer, rounds } satisfies WakeUpTask,
  });
  const exited = new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`wake-up worker exited with code ${code}`)),
    );
  });
  const latenciesUs: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      awaitRound(words, WAITER_READY, round);
      Atomics.wait(pause, 0, 0, 1); // 1 ms: let the waiter park
      times[NOTIFY_NS] = process.hrtime.bigint();
      Atomics.store(words, SIGNAL, round);
      const woken = Atomics.notify(words, SIGNAL, 1);
      awaitRound(words, WOKEN, round);
      if (woken === 1) latenciesUs.push(Number(times[WAKE_NS] - times[NOTIFY_NS]) / 1000);
    }
  } catch (error) {
    await worker.terminate();
    await exited.catch(() => undefined);
    throw error;
  }
  await exited;
  if (latenciesUs.length === 0) throw new Error('wake-up: the waiter was never parked when notified');
  latenciesUs.sort((a, b) => a - b);
  return {
    name: 'wait→notify wake-up',
    unit: 'µs',
    median: latenciesUs[Math.floor(latenciesUs.length / 2)],
    samples: latenciesUs.length,
  };
}

/** Every primitive in this process: tinybench for the single-thread ones (`timeMs` each), then the wake-up. */
export async function measurePrimitives(timeMs = 300): Promise<PrimitivesResult> {
  const cells = await measureSingleThread(timeMs);
  cells.push(await measureWakeUp());
  return { schema: 'maplab.primitives/1', node: process.version, v8: process.versions.v8, timeMs, cells };
}

/** The same, in a child process under `runtime`'s binary (`maplab micro --primitives --json`). */
export async function measurePrimitivesUnder(runtime: Runtime, timeMs = 300): Promise<PrimitivesResult> {
  const { stdout } = await execFileAsync(
    runtime.execPath,
    [...measuringNodeFlags(), CLI_PATH, 'micro', '--primitives', '--json', '--time-ms', String(timeMs)],
    { timeout: 300_000, maxBuffer: 16 << 20 },
  );
  const result = JSON.parse(stdout) as PrimitivesResult;
  if (result.schema !== 'maplab.primitives/1')
    throw new Error(`${runtime.execPath}: micro --primitives printed no primitives result`);
  return result;
}

/**
 * One runtime's repeated results as one: per primitive, the run with the lowest
 * median. Noise on a shared machine only adds time, and single children were
 * seen doubling the Atomics figures (7 → 14 ns/op) in 3 of 18 cells.
 */
export function fastestOf(results: PrimitivesResult[]): PrimitivesResult {
  const cells = results[0].cells.map((cell) =>
    results
      .map((result) => result.cells.find((candidate) => candidate.name === cell.name) ?? cell)
      .reduce((fastest, candidate) => (candidate.median < fastest.median ? candidate : fastest)),
  );
  return { ...results[0], runs: results.reduce((total, result) => total + (result.runs ?? 1), 0), cells };
}

/**
 * Every runtime's primitives, `rounds` child processes each, interleaved: round
 * r runs the runtimes in order, round r+1 in reverse, so neither drift nor
 * order favours one. Each runtime's result is the fastest of its rounds.
 */
export async function measurePrimitivesAcross(
  runtimes: Runtime[],
  options: { timeMs: number; rounds: number },
  onDone?: (runtime: Runtime, round: number) => void,
): Promise<PrimitivesResult[]> {
  const perRuntime: PrimitivesResult[][] = runtimes.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    const order = runtimes.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order) {
      perRuntime[index].push(await measurePrimitivesUnder(runtimes[index], options.timeMs));
      onDone?.(runtimes[index], round);
    }
  }
  return perRuntime.map(fastestOf);
}

/** Runtimes side by side: one row per primitive, one column per runtime, and each later runtime's ratio to the first. */
export function renderPrimitivesTable(results: PrimitivesResult[]): string {
  const header = ['primitive', 'unit', ...results.map((result) => `Node ${result.node}`)];
  const rows = PRIMITIVES.map((name) => {
    const first = results[0]?.cells.find((cell) => cell.name === name);
    const values = results.map((result, index) => {
      const cell = result.cells.find((candidate) => candidate.name === name);
      if (!cell) return '—';
      const ratio = index > 0 && first ? ` (${(cell.median / first.median).toFixed(2)}×)` : '';
      return `${cell.median.toFixed(cell.median < 10 ? 2 : 1)}${ratio}`;
    });
    return [name, first?.unit ?? '', ...values];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const format = (row: string[]): string =>
    row.map((text, column) => (column < 2 ? text.padEnd(widths[column]) : text.padStart(widths[column]))).join('  ');
  const runs = results[0]?.runs ?? 1;
  const title =
    `maplab micro --primitives: median ns/op over tinybench samples of ${PRIMITIVE_BATCH_OPS}-call loops ` +
    `(${results[0]?.timeMs ?? '?'} ms each); wake-up: median µs over ${WAKE_ROUNDS} rounds` +
    `${runs > 1 ? `; each the fastest of ${runs} interleaved child processes` : ''}; (×) = ratio to the first runtime`;
  return [title, '', format(header), ...rows.map(format)].join('\n') + '\n';
}

if (!isMainThread && (workerData as { kind?: unknown } | null)?.kind === 'maplab-wake-up') {
  waiterLoop(workerData as WakeUpTask);
  parentPort?.close();
}
