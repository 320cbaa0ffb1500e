/**
 * The micro benchmark (`maplab micro`, `npm run micro`): single-thread ns/op
 * of get-hit, get-miss, set-update and insert+delete on every map, at a few
 * load factors, in one run. It answers two questions before any concurrency
 * is involved: what does the shared open-addressing table cost against V8's
 * native Map (`plain` vs `js-map`), and what does an uncontended RWMutex add
 * on top of it (`rwmutex` vs `plain`). It is a benchmark, not a test: the
 * targets below are reported as met or missed, never asserted.
 *
 * Each map runs in its own worker thread, one after another (see
 * micro-worker.ts for why and how the loops are timed).
 */
import { Worker } from 'node:worker_threads';
import { loadavg } from 'node:os';
import { mapFactories } from '../../maps/index.js';
import { DEFAULT_ARENA_BYTES } from '../../maps/arena.js';
import { collectEnv } from '../run/env.js';
import { CLI_PATH, measuringNodeFlags } from '../run/jit.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { defineOption, parsers, type OptionValues } from '../run/options.js';
import { parseNodeList, type Runtime } from '../run/runtime-install.js';

export const MICRO_OPS = ['get-hit', 'get-miss', 'set-update', 'insert+delete'] as const;
export type MicroOp = (typeof MICRO_OPS)[number];

/** The issue's targets, as ratios of get-hit ns/op measured in the same run. */
export const MICRO_TARGETS = [
  { name: 'plain get-hit / js-map get-hit', numerator: 'plain', denominator: 'js-map', op: 'get-hit', atMost: 0.8 },
  { name: 'rwmutex get-hit / plain get-hit', numerator: 'rwmutex', denominator: 'plain', op: 'get-hit', atMost: 3 },
  { name: 'clht get-hit / plain get-hit', numerator: 'clht', denominator: 'plain', op: 'get-hit', atMost: 1.5 },
] as const;

const mapNames = mapFactories.map((factory) => factory.name);

const mapsOption = defineOption({
  name: 'maps',
  flag: '--maps <list>',
  defaultValue: mapNames,
  description: `comma-separated maps to measure, from: ${mapNames.join(', ')}`,
  parse: parsers.list(parsers.oneOf(mapNames)),
});
const keysOption = defineOption({
  name: 'keys',
  flag: '--keys <n>',
  defaultValue: 65_536,
  description: 'entries in each map (integer 1024..4194304)',
  parse: parsers.integer(1024, 1 << 22),
});
const loadFactorsOption = defineOption({
  name: 'loadFactors',
  flag: '--load-factors <list>',
  defaultValue: [0.5, 0.75],
  description: 'comma-separated load factors, each a number in (0, 1) exclusive: the map is filled to this occupancy',
  parse: parsers.list(parsers.number(0, 1, true)),
});
const timeOption = defineOption({
  name: 'timeMs',
  flag: '--time-ms <ms>',
  defaultValue: 300,
  description:
    'measured time per map × op × load factor, in milliseconds (integer 10..60000), plus a quarter of it for warm-up',
  parse: parsers.integer(10, 60_000),
});
const jsonOption = defineOption({
  name: 'json',
  flag: '--json',
  defaultValue: false,
  description: 'print the results as JSON instead of a table',
  parse: parsers.boolean(),
});

const primitivesOption = defineOption({
  name: 'primitives',
  flag: '--primitives',
  defaultValue: false,
  description:
    'measure the primitives the maps rest on (typed-array read, Atomics, wait→notify wake-up, clock reads, Map.get) instead of the maps',
  parse: parsers.boolean(),
});
const nodeOption = defineOption({
  name: 'node',
  flag: '--node <list>',
  description:
    'run under each of these runtimes, side by side: current, a major (20, 22, 24), an exact version (24.21.0) ' +
    'or a path to a node binary; versions are installed on demand (maplab runtimes)',
  parse: parseNodeList,
});

export const microOptions = [
  mapsOption,
  keysOption,
  loadFactorsOption,
  timeOption,
  jsonOption,
  primitivesOption,
  nodeOption,
] as const;

export type MicroOptions = OptionValues<typeof microOptions>;

export interface MicroCell {
  map: string;
  op: MicroOp;
  loadFactor: number;
  /** Median over tinybench samples of (one batch's time / batchOps). insert+delete: per pair. */
  nsPerOp: number;
  meanNsPerOp: number;
  /** Relative margin of error of the mean, percent. */
  rmePercent: number;
  samples: number;
  batchOps: number;
  /** Shared tables: mean probe length and entries/slots after the run. */
  averageProbeLength?: number;
  occupancy?: number;
}

export interface MicroRatio {
  name: string;
  loadFactor: number;
  ratio: number;
  atMost: number;
  met: boolean;
}

export interface MicroResult {
  schema: 'maplab.micro/1';
  env: ReturnType<typeof collectEnv>;
  config: { maps: string[]; keys: number; loadFactors: number[]; timeMs: number };
  /** os.loadavg() (1, 5, 15 min) before and after: the machine's other load, for reading the figures. */
  loadAverage: { before: number[]; after: number[] };
  cells: MicroCell[];
  ratios: MicroRatio[];
}

/** What micro-worker.ts receives. */
export interface MicroWorkerTask {
  kind: 'maplab-micro';
  map: string;
  keys: number;
  loadFactors: number[];
  timeMs: number;
  seed: number;
  maxBytes: number;
}

export type MicroWorkerReply = { ok: true; cells: MicroCell[] } | { ok: false; error: string };

/** Arena reservation for a map of `keys` entries: the tables plus room to grow once, at least the default. */
function reservationFor(keys: number, loadFactors: number[]): number {
  const tableBytes = (8 * keys) / Math.min(...loadFactors);
  return Math.min(2 ** 31 - 4096, Math.max(DEFAULT_ARENA_BYTES, Math.ceil(8 * tableBytes)));
}

function runWorker(task: MicroWorkerTask): Promise<MicroCell[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./micro-worker.js', import.meta.url), { workerData: task });
    let replied = false;
    worker.once('message', (reply: MicroWorkerReply) => {
      replied = true;
      if (reply.ok) resolve(reply.cells);
      else reject(new Error(`micro ${task.map}: ${reply.error}`));
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!replied) reject(new Error(`micro ${task.map}: worker exited with code ${code}`));
    });
  });
}

export type MicroRunOptions = Pick<MicroOptions, 'maps' | 'keys' | 'loadFactors' | 'timeMs'>;

/** Runs every selected map (one worker each, one after another) and computes the target ratios. */
export async function runMicro(options: MicroRunOptions, onMapDone?: (map: string) => void): Promise<MicroResult> {
  const before = loadavg();
  const cells: MicroCell[] = [];
  for (const map of options.maps) {
    cells.push(
      ...(await runWorker({
        kind: 'maplab-micro',
        map,
        keys: options.keys,
        loadFactors: options.loadFactors,
        timeMs: options.timeMs,
        seed: 0x6d6963,
        maxBytes: reservationFor(options.keys, options.loadFactors),
      })),
    );
    onMapDone?.(map);
  }
  return {
    schema: 'maplab.micro/1',
    env: collectEnv(),
    config: { maps: options.maps, keys: options.keys, loadFactors: options.loadFactors, timeMs: options.timeMs },
    loadAverage: { before, after: loadavg() },
    cells,
    ratios: targetRatios(cells, options.loadFactors),
  };
}

export function targetRatios(cells: MicroCell[], loadFactors: number[]): MicroRatio[] {
  const ratios: MicroRatio[] = [];
  const find = (map: string, op: string, loadFactor: number): MicroCell | undefined =>
    cells.find((cell) => cell.map === map && cell.op === op && cell.loadFactor === loadFactor);
  for (const target of MICRO_TARGETS) {
    for (const loadFactor of loadFactors) {
      const numerator = find(target.numerator, target.op, loadFactor);
      const denominator = find(target.denominator, target.op, loadFactor);
      if (!numerator || !denominator) continue;
      const ratio = numerator.nsPerOp / denominator.nsPerOp;
      ratios.push({ name: target.name, loadFactor, ratio, atMost: target.atMost, met: ratio <= target.atMost });
    }
  }
  return ratios;
}

/** The text table: ns/op per map × load factor (rows) × op (columns), then the target ratios. */
export function renderMicroTable(result: MicroResult): string {
  const { keys, loadFactors, maps, timeMs } = result.config;
  const lines = [
    `maplab micro: one thread, ${keys} keys, ns/op = median over tinybench samples of one ${result.cells[0]?.batchOps ?? '?'}-op batch ÷ ops ` +
      `(${timeMs} ms per cell; insert+delete is per pair)`,
    `${result.env.cpuModel}, ${result.env.cores} cores, Node ${result.env.node}; load average ${formatLoad(result.loadAverage.before)} before, ${formatLoad(result.loadAverage.after)} after`,
    '',
  ];
  const header = ['map', 'lf', ...MICRO_OPS, 'probes', 'occupancy'];
  const rows: string[][] = [];
  for (const map of maps) {
    for (const loadFactor of loadFactors) {
      const row = [map, String(loadFactor)];
      let probe = '';
      let occupancy = '';
      for (const op of MICRO_OPS) {
        const cell = result.cells.find(
          (candidate) => candidate.map === map && candidate.op === op && candidate.loadFactor === loadFactor,
        );
        row.push(cell ? `${cell.nsPerOp.toFixed(1)} ±${cell.rmePercent.toFixed(0)}%` : '—');
        if (cell?.averageProbeLength !== undefined) probe = cell.averageProbeLength.toFixed(2);
        if (cell?.occupancy !== undefined) occupancy = cell.occupancy.toFixed(3);
      }
      rows.push([...row, probe || '—', occupancy || '—']);
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const format = (row: string[]): string =>
    row.map((text, column) => (column < 2 ? text.padEnd(widths[column]) : text.padStart(widths[column]))).join('  ');
  lines.push(format(header), ...rows.map(format), '');
  for (const ratio of result.ratios) {
    lines.push(
      `${ratio.name} at lf ${ratio.loadFactor}: ${ratio.ratio.toFixed(2)} (target ≤ ${ratio.atMost}: ${ratio.met ? 'met' : 'missed'})`,
    );
  }
  return lines.join('\n') + '\n';
}

function formatLoad(load: number[]): string {
  return load.map((value) => value.toFixed(2)).join(' ');
}

/** The map micro benchmark in a child process under `runtime`'s binary (`maplab micro --json`). */
export async function runMicroUnder(runtime: Runtime, options: MicroRunOptions): Promise<MicroResult> {
  const args = [
    ...measuringNodeFlags(),
    CLI_PATH,
    'micro',
    '--json',
    '--maps',
    options.maps.join(','),
    '--keys',
    String(options.keys),
    '--load-factors',
    options.loadFactors.join(','),
    '--time-ms',
    String(options.timeMs),
  ];
  const { stdout } = await promisify(execFile)(runtime.execPath, args, { timeout: 3_600_000, maxBuffer: 64 << 20 });
  const result = JSON.parse(stdout) as MicroResult;
  if (result.schema !== 'maplab.micro/1') throw new Error(`${runtime.execPath}: micro printed no micro result`);
  return result;
}

/** Runtimes side by side: get-hit … insert+delete ns/op per map × load factor, one column per runtime and op. */
export function renderMicroRuntimesTable(results: MicroResult[]): string {
  const { maps, loadFactors } = results[0].config;
  const header = ['map', 'lf', 'op', ...results.map((result) => `Node ${result.env.node}`)];
  const rows: string[][] = [];
  for (const map of maps) {
    for (const loadFactor of loadFactors) {
      for (const op of MICRO_OPS) {
        const values = results.map((result) =>
          result.cells.find((cell) => cell.map === map && cell.op === op && cell.loadFactor === loadFactor),
        );
        const firstNs = values[0]?.nsPerOp;
        rows.push([
          map,
          String(loadFactor),
          op,
          ...values.map((cell, index) => {
            if (!cell) return '—';
            return `${cell.nsPerOp.toFixed(1)}${index > 0 && firstNs ? ` (${(cell.nsPerOp / firstNs).toFixed(2)}×)` : ''}`;
          }),
        ]);
      }
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const format = (row: string[]): string =>
    row.map((text, column) => (column < 3 ? text.padEnd(widths[column]) : text.padStart(widths[column]))).join('  ');
  const title =
    `maplab micro: one thread, ${results[0].config.keys} keys, ns/op per runtime (one child process each, one after another); ` +
    '(×) = ratio to the first runtime';
  return [title, '', format(header), ...rows.map(format)].join('\n') + '\n';
}
