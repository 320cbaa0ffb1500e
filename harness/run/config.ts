/**
 * Sweep and run configuration: every option declared once (flag, help with
 * unit and default, parser), the presets, and the resolution of preset →
 * config file → flags into one validated `SweepConfig`. Bad input throws
 * UsageError naming the flag or field and the allowed values, before anything
 * is measured or written.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { mapFactories } from '../../maps/index.js';
import type { MapFactory } from '../../maps/types.js';
import {
  getWorkload,
  loadWorkloadFile,
  MAX_STREAM_LENGTH,
  withKeySpace,
  workloadFromFlags,
  WorkloadError,
  type Workload,
} from '../../workloads/index.js';
import { DEFAULT_HICCUP_INTERVAL_MS } from '../trial/hiccup.js';
import { BASE_SUFFIX, baseMapOf, loadBaseMaps, loadPluginModule, type MapSource } from './map-source.js';
import { parseNodeList, resolveRuntimes, type Runtime } from './runtime-install.js';
import { defineOption, parsers, resolveOptions, UsageError, type OptionSpec, type OptionValues } from './options.js';
import { PROFILE_EXTENSION, PROFILE_SAMPLING_INTERVAL_US } from '../trial/profiler.js';

export const PRESET_NAMES = ['quick', 'ci', 'full'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export const HEADLINE_WORKLOADS = ['read-heavy', 'write-heavy', 'mixed'];
const WRITE_FRACTION_WORKLOADS = [
  'writes-0',
  'writes-1',
  'writes-5',
  'writes-10',
  'writes-15',
  'writes-25',
  'writes-50',
];
const CHURN_WORKLOADS = ['churn-0', 'churn-1', 'churn-2', 'churn-5', 'churn-10', 'churn-15', 'churn-25', 'churn-50'];
const GO_WORKLOADS = [
  'go-load-mostly-hits',
  'go-load-mostly-misses',
  'go-load-or-store-balanced',
  'go-load-or-store-unique',
  'go-load-or-store-collision',
  'go-adversarial-alloc',
  'go-adversarial-delete',
  'go-delete-collision',
  'go-range',
];

/**
 * The presets (maps: every registered map, plus a --map-module plugin). Every
 * preset interleaves (harness/run/schedule.ts): the maps of a comparison group are
 * measured side by side in each round, rounds are split over two pool
 * generations, a drift sentinel reading opens every visit, and disturbed
 * visits are measured again. That is what makes two runs agree on which map
 * wins (EVIDENCE.md, "Noise on shared machines").
 * quick: the 3 headline workloads × threads 1,2,4; load factors 0.5/0.75/0.9 on
 *   read-heavy, 0.75 on the others (15 cells per map); 6 short trials (6 pairs
 *   per comparison) of 140 ms after 25 ms warm-up — about 3 min on 2 cores
 *   with 7 maps (175–205 s measured, EVIDENCE.md "Two runs, side by side").
 * ci: read-heavy and write-heavy, threads 1,2, lf 0.75, 5 trials (a Mann–Whitney
 *   test on 3 vs 3 trials can never reach p < 0.05) — about 70 s for 7 maps;
 *   threads not pinned to vCPUs (the gate compares hosts).
 * full: the real lab; 1 s windows, 6 trials, threads to 8 (oversubscribed on
 *   small machines, and flagged so), every headline, write-fraction (writes-N, churn-N) and Go
 *   workload; load factors 0.5/0.75/0.9 except on Go's scenarios (1–1024
 *   keys, where the load factor is not the question: 0.75).
 */
export const PRESETS: Readonly<Record<PresetName, Record<string, unknown>>> = {
  quick: {
    workloads: HEADLINE_WORKLOADS,
    threads: [1, 2, 4],
    loadFactors: [0.5, 0.75, 0.9],
    loadFactorsByWorkload: { 'write-heavy': [0.75], mixed: [0.75] },
    durationMs: 140,
    warmupMs: 25,
    trials: 6,
    interleave: true,
  },
  ci: {
    workloads: ['read-heavy', 'write-heavy'],
    threads: [1, 2],
    loadFactors: [0.75],
    durationMs: 300,
    warmupMs: 200,
    trials: 5,
    interleave: true,
    // The gate compares this host with a baseline host: which of their vCPUs is the slow one need
    // not agree, and pinned, each side would measure one vCPU. Unpinned, trials sample both.
    pin: false,
  },
  full: {
    workloads: [...HEADLINE_WORKLOADS, ...WRITE_FRACTION_WORKLOADS, ...CHURN_WORKLOADS, ...GO_WORKLOADS],
    threads: [1, 2, 4, 8],
    loadFactors: [0.5, 0.75, 0.9],
    loadFactorsByWorkload: Object.fromEntries(GO_WORKLOADS.map((name) => [name, [0.75]])),
    durationMs: 1000,
    warmupMs: 300,
    trials: 6,
    interleave: true,
  },
};

/** Ops per worker stream; workloads that insert fresh keys get FRESH_KEY_STREAM_FACTOR × this. */
export const DEFAULT_STREAM_OPS = 1 << 19;
export const FRESH_KEY_STREAM_FACTOR = 8;
export const DEFAULT_SAMPLE_EVERY = 128;
/** Cell timeout when --cell-timeout-ms is not given: BASE + trials × (2 × (warm-up + duration) + PER_TRIAL), room for slow prefills. */
const AUTO_TIMEOUT_BASE_MS = 60_000;
const AUTO_TIMEOUT_PER_TRIAL_MS = 10_000;

const powerOfTwo =
  (min: number, max: number) =>
  (raw: unknown, label: string): number => {
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < min ||
      value > max ||
      (value & (value - 1)) !== 0
    ) {
      throw new UsageError(`${label} must be a power of two ${min}..${max}, got ${JSON.stringify(raw)}`);
    }
    return value;
  };

/** Shard `index` (1-based) of `count`: `sweep --shard i/n` (harness/run/shard.ts says which cells). */
export interface ShardSpec {
  index: number;
  count: number;
}

/** Most shards a sweep can be cut into. */
export const MAX_SHARDS = 1000;

/** "i/n" → { index: i, count: n } (a config file may give the object); throws UsageError naming `label` and the form. */
export function parseShard(raw: unknown, label: string): ShardSpec {
  const text =
    raw !== null && typeof raw === 'object'
      ? `${String((raw as ShardSpec).index)}/${String((raw as ShardSpec).count)}`
      : raw;
  const match = typeof text === 'string' ? /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text) : null;
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!(count >= 1 && count <= MAX_SHARDS && index >= 1 && index <= count)) {
    throw new UsageError(
      `${label} must be i/n with 1 ≤ i ≤ n ≤ ${MAX_SHARDS} (e.g. 2/4: the second of four shards), got ${JSON.stringify(raw)}`,
    );
  }
  return { index, count };
}

const flag = parsers.boolean();

/** `sweep --verify` records histories with this many threads (ops collide; 2 cores are oversubscribed on purpose). */
export const VERIFY_THREADS = 4;

/** {"workload": [lf, …], …} from JSON text (CLI) or an object (config file). */
function loadFactorsByWorkloadParser(raw: unknown, label: string): Record<string, number[]> {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new UsageError(`${label} must be JSON like {"write-heavy":[0.75]}, got ${JSON.stringify(raw)}`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${label} must be an object of workload name → load factors, like {"write-heavy":[0.75]}`);
  }
  const lists = parsers.list(parsers.number(0, 1, true));
  return Object.fromEntries(
    Object.entries(value).map(([workload, factors]) => [workload, lists(factors, `${label}.${workload}`)]),
  );
}

/** A sweep option whose default comes from the preset: says so, with each preset's value, in its help. */
function fromPreset<S extends OptionSpec<unknown>>(option: S): S {
  const values = PRESET_NAMES.map((preset) => `${preset} ${String(PRESETS[preset][option.name])}`).join(', ');
  return { ...option, description: `${option.description} (default from --preset: ${values})` };
}

/**
 * Options shared by `sweep` and `run` (values are single or lists the same way
 * in both), and by evidence scripts that pass them on to sweeps.
 */
export const commonOptions = {
  keys: defineOption({
    name: 'keys',
    flag: '--keys <n>',
    description: "override every workload's key space: distinct keys, integer 1..2^31 (default: each workload's own)",
    parse: parsers.integer(1, 2 ** 31),
  }),
  durationMs: defineOption({
    name: 'durationMs',
    flag: '--duration-ms <ms>',
    description: 'measured window per trial, ms',
    parse: parsers.integer(1, 3_600_000),
  }),
  warmupMs: defineOption({
    name: 'warmupMs',
    flag: '--warmup-ms <ms>',
    description: 'warm-up before each window (same loop, not recorded), ms',
    parse: parsers.integer(0, 600_000),
  }),
  trials: defineOption({
    name: 'trials',
    flag: '--trials <n>',
    description: 'trials per cell, each on a fresh prefilled map; headline = median with 95% CI',
    parse: parsers.integer(1, 100),
  }),
  seed: defineOption({
    name: 'seed',
    flag: '--seed <n>',
    description: 'seed of op streams and prefill, integer 0..2^32−1',
    defaultValue: 1,
    parse: parsers.integer(0, 2 ** 32 - 1),
  }),
  force: defineOption({ name: 'force', flag: '--force', description: 'overwrite an existing --out file', parse: flag }),
  cellTimeoutMs: defineOption({
    name: 'cellTimeoutMs',
    flag: '--cell-timeout-ms <ms>',
    description: `a cell still running after this is recorded as "timeout" and its pool rebuilt, ms (default: ${AUTO_TIMEOUT_BASE_MS} + trials × (2 × (warm-up + duration) + ${AUTO_TIMEOUT_PER_TRIAL_MS}))`,
    parse: parsers.integer(100, 24 * 3_600_000),
  }),
  mapModule: defineOption({
    name: 'mapModule',
    flag: '--map-module <path>',
    description:
      'your own map: an ES module whose default export is a MapFactory; loaded in the main thread and every worker',
    parse: parsers.string(),
  }),
  workloadFile: defineOption({
    name: 'workloadFile',
    flag: '--workload-file <path>',
    description: 'JSON file with one workload or an array of them (fields as workloads/types.ts)',
    parse: parsers.string(),
  }),
  mix: defineOption({
    name: 'mix',
    flag: '--mix <spec>',
    description:
      'custom workload op mix, e.g. get=0.9,set=0.1 (ops: get, set, delete, getOrSet, add, forEach, compareAndSet)',
    parse: parsers.string(),
  }),
  distribution: defineOption({
    name: 'distribution',
    flag: '--distribution <spec>',
    description:
      'custom workload key distribution: uniform | zipfian[:theta=0.99] | hotspot[:hotKeyFraction=0.2,hotOpFraction=0.8] | latest | sequential-insert (default: uniform; needs --mix)',
    parse: parsers.string(),
  }),
  prefill: defineOption({
    name: 'prefill',
    flag: '--prefill <fraction>',
    description:
      'custom workload: fraction of the key space inserted before measuring, 0..1 (default: 0.75; needs --mix)',
    parse: parsers.number(0, 1),
  }),
  streamOps: defineOption({
    name: 'streamOps',
    flag: '--stream-ops <n>',
    description: `ops pre-generated per worker and replayed cyclically, a power of two (×${FRESH_KEY_STREAM_FACTOR} for workloads that insert fresh keys)`,
    defaultValue: DEFAULT_STREAM_OPS,
    parse: powerOfTwo(1024, MAX_STREAM_LENGTH / FRESH_KEY_STREAM_FACTOR),
  }),
  sampleEvery: defineOption({
    name: 'sampleEvery',
    flag: '--sample-every <ops>',
    description: 'closed loop: time one op in about this many (jittered), 2..65536',
    defaultValue: DEFAULT_SAMPLE_EVERY,
    parse: parsers.integer(2, 65536),
  }),
  hiccupIntervalMs: defineOption({
    name: 'hiccupIntervalMs',
    flag: '--hiccup-interval-ms <ms>',
    description:
      "hiccup meter: a thread beside each trial sleeps this long again and again and records how late it wakes (the machine's own stalls), ms 0..100; 0 turns it off",
    defaultValue: DEFAULT_HICCUP_INTERVAL_MS,
    parse: parsers.number(0, 100),
  }),
  pin: defineOption({
    name: 'pin',
    flag: '--pin [bool]',
    description:
      'pin measuring threads to vCPUs (Linux, taskset): 1-thread pools and the drift sentinel on one CPU (interleaved sweeps: the fastest at each round), worker i of a multi-thread pool on CPU i mod cores; the two vCPUs of a VM can differ 1.6x in speed (the ci preset: false, as its baseline comes from other hosts)',
    defaultValue: true,
    parse: flag,
  }),
  quiet: defineOption({
    name: 'quiet',
    flag: '--quiet',
    description: 'no progress bar and no summary table',
    parse: flag,
  }),
  json: defineOption({
    name: 'json',
    flag: '--json',
    description: 'print the results document as JSON on stdout',
    parse: flag,
  }),
  profile: defineOption({
    name: 'profile',
    flag: '--profile <dir>',
    description: `write a V8 CPU profile of every worker's measured window to <dir> (created if absent; sampled every ${PROFILE_SAMPLING_INTERVAL_US} µs, which slows the run) and print the top self-time functions per map`,
    parse: parsers.string(),
  }),
};

/** The flags `sweep` and `run` share, in the order their help lists them. */
const measuringOptions = [
  commonOptions.force,
  commonOptions.cellTimeoutMs,
  commonOptions.mapModule,
  commonOptions.workloadFile,
  commonOptions.mix,
  commonOptions.distribution,
  commonOptions.prefill,
  commonOptions.streamOps,
  commonOptions.sampleEvery,
  commonOptions.hiccupIntervalMs,
  commonOptions.pin,
  commonOptions.quiet,
  commonOptions.json,
  commonOptions.profile,
] as const;

export const sweepOptionSpecs = [
  defineOption({
    name: 'preset',
    flag: '--preset <name>',
    description: `starting configuration: ${PRESET_NAMES.join(' | ')} (quick ≤ 3 min, ci ≤ 60 s with 5 trials, full = the real lab)`,
    defaultValue: 'quick',
    parse: parsers.oneOf(PRESET_NAMES),
  }),
  defineOption({
    name: 'config',
    flag: '--config <file.json>',
    description: 'JSON config file; fields are these options in camelCase; precedence: preset < config file < flags',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'maps',
    flag: '--maps <list>',
    description: 'maps to sweep, comma-separated (default: every registered map, plus a --map-module map)',
    parse: parsers.list(parsers.string()),
  }),
  defineOption({
    name: 'against',
    flag: '--against <path>',
    description:
      'also sweep the baseline version of each map, as <map>@base, interleaved with it: a built maplab tree (its dist/maps/index.js), a module exporting mapFactories, or an older plugin module (default export a MapFactory); with --maps, each listed map brings its baseline unless the list names <map>@base maps itself',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'workloads',
    flag: '--workloads <list>',
    description:
      'workload presets (or names from --workload-file), comma-separated (default from --preset; see README)',
    parse: parsers.list(parsers.string()),
  }),
  fromPreset(
    defineOption({
      name: 'threads',
      flag: '--threads <list>',
      description:
        'worker thread counts, comma-separated integers 1..256 (more than the cores is allowed and flagged oversubscribed)',
      parse: parsers.list(parsers.integer(1, 256)),
    }),
  ),
  fromPreset(
    defineOption({
      name: 'loadFactors',
      flag: '--load-factors <list>',
      description: 'map load factors, comma-separated numbers in (0, 1)',
      parse: parsers.list(parsers.number(0, 1, true)),
    }),
  ),
  defineOption({
    name: 'loadFactorsByWorkload',
    flag: '--load-factors-by-workload <json>',
    description:
      'per-workload load factors instead of --load-factors, JSON like {"write-heavy":[0.75]} (quick: read-heavy sweeps all three, the others run at 0.75; --load-factors alone clears the preset\'s)',
    parse: loadFactorsByWorkloadParser,
  }),
  defineOption({
    name: 'rates',
    flag: '--rates <list|auto>',
    description:
      'open-loop mode: target ops/s per thread, comma-separated, or auto: per cell, measure the closed-loop capacity, offer 0.1 … 1.2 of it and refine where p99 jumps (default: closed loop)',
    parse: ratesParser,
  }),
  commonOptions.keys,
  fromPreset(commonOptions.durationMs),
  fromPreset(commonOptions.warmupMs),
  fromPreset(commonOptions.trials),
  commonOptions.seed,
  defineOption({
    name: 'out',
    flag: '--out <file>',
    description: 'results file, written after every cell',
    defaultValue: 'results/latest.json',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'resume',
    flag: '--resume',
    description: 'finish a partial --out file: skip its finished cells (the config must match)',
    parse: flag,
  }),
  ...measuringOptions,
  fromPreset(
    defineOption({
      name: 'interleave',
      flag: '--interleave [bool]',
      description:
        "run trial 1 of every cell, then trial 2 of every cell, …, every pool kept alive: each cell's trials are spread over the whole sweep, so a slow spell of the machine (seconds long on shared VMs) hits one trial of many cells instead of every trial of one; finished cells are written only at the end",
      parse: flag,
    }),
  ),
  defineOption({
    name: 'referenceMap',
    flag: '--reference-map <name>',
    description:
      'the map every other map is compared with (paired ratio with a 95% CI per group), default rwmutex when swept, else the first shared map',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'poolGenerations',
    flag: '--pool-generations <n>',
    description:
      "interleaved sweeps: split the rounds over this many sets of fresh worker pools, integer 1..16 (a cell's trials then come from several pools)",
    defaultValue: 2,
    parse: parsers.integer(1, 16),
  }),
  defineOption({
    name: 'sentinel',
    flag: '--sentinel [bool]',
    description:
      'interleaved sweeps: a drift-sentinel reading (a fixed memory-bound workload, 80 ms) opens every visit; disturbed visits are measured again',
    defaultValue: true,
    parse: flag,
  }),
  defineOption({
    name: 'remeasure',
    flag: '--remeasure <fraction>',
    description:
      'interleaved sweeps: at most this fraction of visits is measured again when the sentinel or the run queues show a disturbed machine, 0..1',
    defaultValue: 0.15,
    parse: parsers.number(0, 1),
  }),
  defineOption({
    name: 'tieMargin',
    flag: '--tie-margin <fraction>',
    description: "a map wins only if its paired ratio's 95% CI excludes 1 and the ratio is beyond 1 ± this, 0..0.5",
    defaultValue: 0.03,
    parse: parsers.number(0, 0.5),
  }),
  defineOption({
    name: 'node',
    flag: '--node <list>',
    description:
      'runtimes to sweep side by side, comma-separated: current, a major version (20, 22, 24), an exact version (24.21.0, installed on demand from the npm registry) or a path to a node binary; each runs its cells in its own process, trials interleaved',
    parse: parseNodeList,
  }),
  defineOption({
    name: 'shard',
    flag: '--shard <i/n>',
    description:
      'run only shard i of n: a fixed partition of the planned cells, balanced by expected time (CI matrix jobs each run one; maplab merge joins their files)',
    parse: parseShard,
  }),
  defineOption({
    name: 'verify',
    flag: '--verify',
    description:
      'before measuring, check that each map is linearizable (as maplab verify does) and record a verified / violated / unsafe badge per map in the results',
    parse: flag,
  }),
  defineOption({
    name: 'verifyHistories',
    flag: '--verify-histories <n>',
    description: `with --verify: histories per map, each of ${VERIFY_THREADS} threads, integer 1..1000000`,
    defaultValue: 200,
    parse: parsers.integer(1, 1_000_000),
  }),
] as const;

export const runOptionSpecs = [
  defineOption({
    name: 'map',
    flag: '--map <name>',
    description: 'the map (a registered name, or the --map-module map)',
    defaultValue: 'js-map',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'workload',
    flag: '--workload <name>',
    description: 'the workload preset (or a name from --workload-file; ignored with --mix)',
    defaultValue: 'read-heavy',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'threads',
    flag: '--threads <n>',
    description: 'worker threads, integer 1..256',
    defaultValue: 1,
    parse: parsers.integer(1, 256),
  }),
  defineOption({
    name: 'loadFactor',
    flag: '--load-factor <lf>',
    description: 'map load factor, a number in (0, 1)',
    defaultValue: 0.75,
    parse: parsers.number(0, 1, true),
  }),
  defineOption({
    name: 'rate',
    flag: '--rate <ops/s>',
    description: 'open-loop mode: target ops/s per thread (default: closed loop)',
    parse: parsers.number(1, 1e9),
  }),
  { ...commonOptions.keys },
  { ...commonOptions.durationMs, defaultValue: 1000 },
  { ...commonOptions.warmupMs, defaultValue: 200 },
  { ...commonOptions.trials, defaultValue: 3 },
  commonOptions.seed,
  defineOption({
    name: 'out',
    flag: '--out <file>',
    description: 'also write a results file with this one cell',
    parse: parsers.string(),
  }),
  ...measuringOptions,
  defineOption({
    name: 'node',
    flag: '--node <list>',
    description: 'measure the cell under each of these runtimes side by side (as sweep --node), trials interleaved',
    parse: parseNodeList,
  }),
  defineOption({
    name: 'compareBare',
    flag: '--compare-bare',
    description:
      "also replay worker 0's stream in a bare loop on the main thread (no pool, barrier or timing) and print harness ns/op ÷ bare ns/op (threads 1)",
    parse: flag,
  }),
] as const;

export type SweepOptions = OptionValues<typeof sweepOptionSpecs>;
export type RunOptions = OptionValues<typeof runOptionSpecs>;

/** What a results file records as `config`: everything that decides which cells run and how. */
export interface SweepConfig {
  preset?: PresetName;
  maps: string[];
  workloads: string[];
  /** The resolved Workload per name (so readers can compute write fractions etc. without the presets). */
  workloadDefinitions: Record<string, Workload>;
  threads: number[];
  loadFactors: number[];
  /** Workloads that run at other load factors than `loadFactors` (only planned workloads appear). */
  loadFactorsByWorkload: Record<string, number[]>;
  /** Open loop: target ops/s per thread; 'auto': planned per cell from its capacity (harness/run/rate-plan.ts); null: closed loop. */
  rates: number[] | 'auto' | null;
  keys: number | null;
  durationMs: number;
  warmupMs: number;
  trials: number;
  seed: number;
  streamOps: number;
  sampleEveryOps: number;
  cellTimeoutMs: number;
  /** Hiccup meter sleep interval, ms (harness/trial/hiccup.ts); 0: off. Absent in older files: 1. */
  hiccupIntervalMs?: number;
  /** Pin measuring threads to vCPUs (harness/trial/affinity.ts); absent in older files: false. */
  pin?: boolean;
  /** Absolute path of the plugin map module, or null. */
  mapModule: string | null;
  /** --against: absolute path of the baseline code whose maps run as <map>@base; absent: none. */
  against?: string;
  /** Trials of all cells alternate (trial 1 of every cell, then trial 2…); absent in older files: false. */
  interleave?: boolean;
  /** Interleaved sweeps (harness/run/schedule.ts): fresh pool sets the rounds are split over. Absent in older files: 1. */
  poolGenerations?: number;
  /** Interleaved sweeps: a drift-sentinel reading opens every visit. */
  sentinel?: boolean;
  /** Interleaved sweeps: the largest fraction of visits measured again. */
  remeasure?: number;
  /** The map others are compared with (analysis.relative); null: rwmutex if swept, else the first shared map. */
  referenceMap?: string | null;
  /** Winners need their paired ratio beyond 1 ± this (and a CI excluding 1). */
  tieMargin?: number;
  /** --node: the runtimes the sweep spans, each measuring its cells in a trial server under its binary; absent: this process only. */
  runtimes?: Runtime[];
  /** --verify: each map's linearizability is checked before any cell runs; null when off. */
  verify?: { histories: number; threads: number } | null;
  /** --shard i/n: this file holds only shard i's cells (harness/run/shard.ts); absent for a whole sweep. */
  shard?: ShardSpec;
  /** --profile: absolute directory the workers write CPU profiles to (profiler.ts); null or absent: not profiled. */
  profileDir?: string | null;
  [extra: string]: unknown;
}

/** The config plus what is needed to run it but not part of the plan. */
export interface ResolvedSweep {
  config: SweepConfig;
  out: string | null;
  resume: boolean;
  force: boolean;
  quiet: boolean;
  json: boolean;
  /** Per map name: where workers load it from, and the factory (main thread). */
  maps: Map<string, { source: MapSource; factory: MapFactory }>;
  /** Which plan fields were given explicitly (resume adopts the file's config when none was). */
  explicitPlan: boolean;
}

/** Fields of SweepConfig that define the plan: `--resume` refuses when any differs. */
export const PLAN_FIELDS = [
  'maps',
  'workloads',
  'workloadDefinitions',
  'threads',
  'loadFactors',
  'loadFactorsByWorkload',
  'rates',
  'durationMs',
  'warmupMs',
  'trials',
  'seed',
  'streamOps',
  'sampleEveryOps',
  'mapModule',
  'against',
  'runtimes',
  'shard',
] as const;

/** `--rates`: a list of per-thread ops/s, each 1..1e9, or the word auto. */
function ratesParser(raw: unknown, label: string): number[] | 'auto' {
  if (raw === 'auto') return 'auto';
  try {
    return parsers.list(parsers.number(1, 1e9))(raw, label);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(
      `${label} must be auto or a comma-separated list of numbers 1..1000000000 (ops/s per thread), got ${JSON.stringify(raw)}`,
    );
  }
}

/** Drops undefined entries (commander leaves absent options undefined). */
function defined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config: ${path} is not valid JSON (${(error as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new UsageError(`--config: ${path} must hold a JSON object of options`);
  const values = json as Record<string, unknown>;
  for (const field of ['config', 'resume', 'force']) {
    if (field in values)
      throw new UsageError(`${path}: field '${field}' belongs on the command line, not in a config file`);
  }
  return values;
}

/** Resolves `maplab sweep` flags (commander's opts()) into a validated sweep. */
export async function resolveSweep(flags: Record<string, unknown>): Promise<ResolvedSweep> {
  const flagLayer = defined(flags);
  const configPath = flagLayer.config === undefined ? undefined : parsers.string()(flagLayer.config, '--config');
  const fileLayer = configPath === undefined ? {} : readConfigFile(configPath);
  const presetRaw = flagLayer.preset ?? fileLayer.preset ?? 'quick';
  const preset = parsers.oneOf(PRESET_NAMES)(
    presetRaw,
    flagLayer.preset !== undefined ? '--preset' : `${configPath}: preset`,
  );
  const options = resolveOptions(sweepOptionSpecs, [
    { source: `preset '${preset}'`, values: PRESETS[preset] },
    { source: configPath ?? 'config file', values: fileLayer },
    { source: 'command line', values: flagLayer, flags: true },
  ]);
  const explicitPlan =
    Object.keys(flagLayer).some(
      (name) => !['out', 'resume', 'force', 'quiet', 'json', 'cellTimeoutMs', 'profile'].includes(name),
    ) || configPath !== undefined;
  const mapsGiven = flagLayer.maps !== undefined || fileLayer.maps !== undefined;
  const given = (name: string): boolean => flagLayer[name] !== undefined || fileLayer[name] !== undefined;
  // --load-factors alone means "these, everywhere": the preset's per-workload lists do not survive it.
  const loadFactorsByWorkload =
    given('loadFactors') && !given('loadFactorsByWorkload') ? {} : (options.loadFactorsByWorkload ?? {});
  const workloadsGiven = flagLayer.workloads !== undefined || fileLayer.workloads !== undefined;
  const resolved = await finishResolution(
    {
      preset,
      mapNames: options.maps,
      mapsGiven,
      workloadNames: options.workloads as string[],
      workloadsGiven,
      threads: options.threads as number[],
      loadFactors: options.loadFactors as number[],
      loadFactorsByWorkload,
      rates: options.rates ?? null,
      options,
      labels: { maps: '--maps', workloads: '--workloads' },
    },
    {
      out: options.out,
      resume: options.resume === true,
      force: options.force === true,
      quiet: options.quiet === true,
      json: options.json === true,
      explicitPlan,
    },
  );
  resolved.config.interleave = options.interleave === true;
  resolved.config.poolGenerations = options.poolGenerations;
  resolved.config.sentinel = options.sentinel !== false;
  resolved.config.remeasure = options.remeasure;
  resolved.config.tieMargin = options.tieMargin;
  if (options.referenceMap !== undefined && !resolved.config.maps.includes(options.referenceMap)) {
    throw new UsageError(
      `--reference-map must be one of the swept maps (${resolved.config.maps.join(', ')}), got ${JSON.stringify(options.referenceMap)}`,
    );
  }
  resolved.config.referenceMap = options.referenceMap ?? null;
  if (options.node !== undefined) {
    if (!resolved.config.interleave) throw new UsageError('--node needs interleaved trials: drop --interleave false');
    resolved.config.runtimes = await resolveRuntimes(options.node);
  }
  resolved.config.verify =
    options.verify === true ? { histories: options.verifyHistories, threads: VERIFY_THREADS } : null;
  if (options.shard !== undefined) resolved.config.shard = options.shard;
  return resolved;
}

/** Resolves `maplab run` flags into a one-cell sweep. */
export async function resolveRun(flags: Record<string, unknown>): Promise<ResolvedSweep & { compareBare: boolean }> {
  const flagLayer = defined(flags);
  const options = resolveOptions(runOptionSpecs, [{ source: 'command line', values: flagLayer, flags: true }]);
  const resolved = await finishResolution(
    {
      mapNames: [options.map],
      mapsGiven: true,
      workloadNames: [options.workload],
      workloadsGiven: flagLayer.workload !== undefined && flagLayer.mix === undefined,
      threads: [options.threads],
      loadFactors: [options.loadFactor],
      loadFactorsByWorkload: {},
      rates: options.rate === undefined ? null : [options.rate],
      options,
      labels: { maps: '--map', workloads: '--workload' },
    },
    {
      out: options.out ?? null,
      resume: false,
      force: options.force === true,
      quiet: options.quiet === true,
      json: options.json === true,
      explicitPlan: true,
    },
  );
  if (options.node !== undefined) {
    if (options.compareBare === true)
      throw new UsageError('--compare-bare replays one runtime on the main thread: drop --node');
    resolved.config.interleave = true;
    resolved.config.runtimes = await resolveRuntimes(options.node);
  }
  return { ...resolved, compareBare: options.compareBare === true };
}

interface PlanInput {
  preset?: PresetName;
  mapNames: string[] | undefined;
  mapsGiven: boolean;
  workloadNames: string[] | undefined;
  workloadsGiven: boolean;
  threads: number[] | undefined;
  loadFactors: number[] | undefined;
  loadFactorsByWorkload: Record<string, number[]>;
  rates: number[] | 'auto' | null;
  options: {
    keys?: number;
    durationMs?: number;
    warmupMs?: number;
    trials?: number;
    seed: number;
    cellTimeoutMs?: number;
    mapModule?: string;
    against?: string;
    workloadFile?: string;
    mix?: string;
    distribution?: string;
    prefill?: number;
    streamOps: number;
    sampleEvery: number;
    hiccupIntervalMs: number;
    pin?: boolean;
    profile?: string;
  };
  labels: { maps: string; workloads: string };
}

type Extras = Omit<ResolvedSweep, 'config' | 'maps'>;

function required<T>(value: T | undefined, label: string): T {
  if (value === undefined) throw new UsageError(`${label} is required (no preset gives it)`);
  return value;
}

function unique<T>(values: T[], label: string): T[] {
  const seen = new Set<T>();
  for (const value of values) {
    if (seen.has(value)) throw new UsageError(`${label} names ${JSON.stringify(value)} twice`);
    seen.add(value);
  }
  return values;
}

function asUsageError<T>(label: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof WorkloadError || error instanceof RangeError)
      throw new UsageError(`${label}: ${error.message}`);
    throw error;
  }
}

async function finishResolution(input: PlanInput, extras: Extras): Promise<ResolvedSweep> {
  const { options, labels } = input;
  const durationMs = required(options.durationMs, '--duration-ms');
  const warmupMs = required(options.warmupMs, '--warmup-ms');
  const trials = required(options.trials, '--trials');
  const threads = unique(required(input.threads, '--threads'), '--threads');
  const loadFactors = unique(required(input.loadFactors, '--load-factors'), '--load-factors');
  if (Array.isArray(input.rates)) unique(input.rates, '--rates');

  // Maps: the registry, plus the plugin module when given.
  const maps = new Map<string, { source: MapSource; factory: MapFactory }>();
  for (const factory of mapFactories) maps.set(factory.name, { source: { name: factory.name }, factory });
  let pluginName: string | undefined;
  let mapModule: string | null = null;
  if (options.mapModule !== undefined) {
    const plugin = await loadPluginModule(options.mapModule);
    if (maps.has(plugin.factory.name)) {
      throw new UsageError(
        `--map-module: the module's map is named '${plugin.factory.name}', which a built-in map already uses; rename it`,
      );
    }
    maps.set(plugin.factory.name, plugin);
    pluginName = plugin.factory.name;
    mapModule = resolve(options.mapModule);
  }
  let mapNames = input.mapsGiven && input.mapNames ? input.mapNames : mapFactories.map((factory) => factory.name);
  if (!input.mapsGiven && pluginName !== undefined) mapNames = [...mapNames, pluginName];
  let against: string | null = null;
  if (options.against !== undefined) {
    against = resolve(options.against);
    const baseMaps = await loadBaseMaps(options.against);
    for (const base of baseMaps) maps.set(base.source.name, base);
    // Each map brings its baseline right after it, unless the list names baselines itself.
    if (!mapNames.some((name) => baseMapOf(name) !== null)) {
      mapNames = mapNames.flatMap((name) => (maps.has(name + BASE_SUFFIX) ? [name, name + BASE_SUFFIX] : [name]));
    }
    if (!mapNames.some((name) => baseMapOf(name) !== null && maps.has(name))) {
      throw new UsageError(
        `--against: none of the swept maps (${mapNames.join(', ')}) is in ${against}, which has: ${baseMaps.map((base) => baseMapOf(base.source.name)).join(', ')}`,
      );
    }
  }
  unique(mapNames, labels.maps);
  mapNames.forEach((name, index) => {
    if (!maps.has(name)) {
      const at = input.mapNames && input.mapNames.length > 1 ? `${labels.maps}[${index}]` : labels.maps;
      throw new UsageError(`${at}: unknown map '${name}'; allowed: ${[...maps.keys()].join(', ')}`);
    }
  });

  // Workloads: presets, a workload file, or one custom workload from --mix.
  const fileWorkloads =
    options.workloadFile === undefined
      ? []
      : asUsageError('--workload-file', () => loadWorkloadFile(options.workloadFile as string));
  if ((options.distribution !== undefined || options.prefill !== undefined) && options.mix === undefined) {
    throw new UsageError(
      `${options.distribution !== undefined ? '--distribution' : '--prefill'} describes a custom workload and needs --mix`,
    );
  }
  const custom =
    options.mix === undefined
      ? undefined
      : asUsageError('--mix', () =>
          workloadFromFlags({
            mix: options.mix as string,
            ...(options.distribution === undefined ? {} : { distribution: options.distribution }),
            ...(options.prefill === undefined ? {} : { prefill: options.prefill }),
          }),
        );
  let workloadNames: string[];
  if (custom && !input.workloadsGiven) workloadNames = [custom.name];
  else if (!input.workloadsGiven && fileWorkloads.length > 0)
    workloadNames = fileWorkloads.map((workload) => workload.name);
  else workloadNames = [...required(input.workloadNames, labels.workloads), ...(custom ? [custom.name] : [])];
  unique(workloadNames, labels.workloads);
  const workloadDefinitions: Record<string, Workload> = {};
  for (const [index, name] of workloadNames.entries()) {
    const at = workloadNames.length > 1 ? `${labels.workloads}[${index}]` : labels.workloads;
    let workload = custom?.name === name ? custom : fileWorkloads.find((candidate) => candidate.name === name);
    workload ??= asUsageError(at, () => getWorkload(name));
    if (options.keys !== undefined)
      workload = asUsageError('--keys', () => withKeySpace(workload as Workload, options.keys as number));
    workloadDefinitions[name] = structuredClone(workload) as Workload;
  }

  const config: SweepConfig = {
    ...(input.preset === undefined ? {} : { preset: input.preset }),
    maps: mapNames,
    workloads: workloadNames,
    workloadDefinitions,
    threads,
    loadFactors,
    loadFactorsByWorkload: Object.fromEntries(
      Object.entries(input.loadFactorsByWorkload)
        .filter(([name]) => workloadNames.includes(name))
        .map(([name, factors]) => [name, unique(factors, `--load-factors-by-workload.${name}`)]),
    ),
    rates: input.rates,
    keys: options.keys ?? null,
    durationMs,
    warmupMs,
    trials,
    seed: options.seed,
    streamOps: options.streamOps,
    sampleEveryOps: options.sampleEvery,
    hiccupIntervalMs: options.hiccupIntervalMs,
    pin: options.pin !== false,
    cellTimeoutMs:
      options.cellTimeoutMs ??
      AUTO_TIMEOUT_BASE_MS + trials * (2 * (warmupMs + durationMs) + AUTO_TIMEOUT_PER_TRIAL_MS),
    mapModule,
    ...(against === null ? {} : { against }),
    profileDir: options.profile === undefined ? null : checkProfileDir(options.profile, extras.force),
  };
  const chosen = new Map([...maps].filter(([name]) => mapNames.includes(name)));
  return { config, maps: chosen, ...extras };
}

/**
 * --profile <dir>: an existing directory, or one mkdir can create (its
 * nearest existing ancestor is a writable directory). A directory already
 * holding .cpuprofile files needs --force, since this run may overwrite them.
 * Returns the absolute path; creates nothing.
 */
export function checkProfileDir(dir: string, force: boolean): string {
  const absolute = resolve(dir);
  let existing = absolute;
  while (!existsSync(existing)) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) {
    throw new UsageError(`--profile must name a directory; ${existing === absolute ? dir : existing} is a file`);
  }
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    throw new UsageError(`--profile: ${existing} is not writable`);
  }
  if (existing === absolute && !force) {
    const old = readdirSync(absolute).filter((name) => name.endsWith(PROFILE_EXTENSION)).length;
    if (old > 0)
      throw new UsageError(
        `--profile: ${dir} already holds ${old} ${PROFILE_EXTENSION} files; pass --force to overwrite them, or name an empty directory`,
      );
  }
  return absolute;
}

/** Names of plan fields whose values differ between two configs ([] when the plans match). */
export function planDifferences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return PLAN_FIELDS.filter((field) => JSON.stringify(a[field] ?? null) !== JSON.stringify(b[field] ?? null));
}
