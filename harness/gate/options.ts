/**
 * Option specs of `maplab compare`, `maplab gate` and `maplab export`,
 * declared once (harness/run/options.ts): flag, help with unit and default, parser.
 */
import { defineOption, parsers, UsageError } from '../run/options.js';
import { parseNodeList } from '../run/runtime-install.js';
import { THROUGHPUT_METRICS, THROUGHPUT_TESTS, type ThroughputMetric, type ThroughputTest } from './compare.js';
import { EXPORT_METRICS, type ExportMetric } from './export.js';

export const alphaOption = defineOption({
  name: 'alpha',
  flag: '--alpha <p>',
  description: 'significance level of the per-cell test (--test), a number in (0, 1)',
  defaultValue: 0.05,
  parse: parsers.number(0, 1, true),
});

export const REPORT_FORMATS = ['txt', 'md', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const reportFormatOption = defineOption<'format', ReportFormat>({
  name: 'format',
  flag: '--format <format>',
  description: `output format: ${REPORT_FORMATS.join(', ')}`,
  defaultValue: 'txt',
  parse: parsers.oneOf(REPORT_FORMATS),
});

/** 'slowed-rwmutex=rwmutex,mine=sharded' → { 'slowed-rwmutex': 'rwmutex', mine: 'sharded' }. */
function parseMapAliases(raw: unknown, label: string): Record<string, string> {
  const items = parsers.list(parsers.string())(raw, label);
  const aliases: Record<string, string> = {};
  items.forEach((item, index) => {
    const match = /^([^=\s]+)=([^=\s]+)$/.exec(item);
    if (!match)
      throw new UsageError(`${label}[${index}] must be head=base (two map names), got ${JSON.stringify(item)}`);
    if (match[1] in aliases) throw new UsageError(`${label} names head map '${match[1]}' twice`);
    aliases[match[1]] = match[2];
  });
  return aliases;
}

export const mapAliasOption = defineOption({
  name: 'mapAlias',
  flag: '--map-alias <head=base,...>',
  description:
    'compare head map <head> with baseline map <base> (a plugin or renamed map against a built-in baseline); comma-separated pairs',
  parse: parseMapAliases,
});

/** How a comparison reads the trials: declared once, with each command's defaults (compare: the headline; gate: robust to slow spells). */
function throughputOptions(
  defaults: { metric: ThroughputMetric; effectQuantile: number; test: ThroughputTest },
  quantileNote: string,
) {
  return [
    defineOption<'metric', ThroughputMetric>({
      name: 'metric',
      flag: '--metric <metric>',
      description:
        'per-trial throughput compared: ops (mean ops/s over the window, the headline), quiet (the p90 of its 10 ms slice ' +
        'rates: the rate undisturbed by the slow spells of shared machines; a cell lacking it on either side uses ops) or sentinel ' +
        "(quiet ÷ the drift sentinel read beside the trial: the machine's memory-system level cancels; a cell lacking it uses quiet): " +
        THROUGHPUT_METRICS.join(' | '),
      defaultValue: defaults.metric,
      parse: parsers.oneOf(THROUGHPUT_METRICS),
    }),
    defineOption({
      name: 'effectQuantile',
      flag: '--effect-quantile <q>',
      description: `the delta compares this quantile of each side's trials, a number in [0.5, 1] (${quantileNote})`,
      defaultValue: defaults.effectQuantile,
      parse: parsers.number(0.5, 1),
    }),
    defineOption<'test', ThroughputTest>({
      name: 'test',
      flag: '--test <test>',
      description:
        'significance test over the per-trial figures: mann-whitney (two-sided rank test), bootstrap (two-sided, of the ratio ' +
        "of the two sides' --effect-quantile, seeded: the same files give the same p) or paired (each head trial against the base " +
        "trial of the same round, measured side by side: the median of the pairs' ratios and a two-sided sign test; " +
        `the gate's --against): ${THROUGHPUT_TESTS.join(' | ')}`,
      defaultValue: defaults.test,
      parse: parsers.oneOf(THROUGHPUT_TESTS),
    }),
  ] as const;
}

export const compareOptions = [
  alphaOption,
  ...throughputOptions({ metric: 'ops', effectQuantile: 0.5, test: 'mann-whitney' }, '0.5: the medians'),
  reportFormatOption,
  defineOption({
    name: 'out',
    flag: '--out <file>',
    description: 'write the comparison to this file instead of stdout',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'normalize',
    flag: '--normalize',
    description: 'scale head figures to the baseline machine by the ratio of the two calibration figures',
    defaultValue: false,
    parse: parsers.boolean(),
  }),
  mapAliasOption,
] as const;

/** '10', '10%' or '12.5' → percent in (0, 100) (the gate's --threshold; scripts/evidence/gate-evidence.ts passes one on). */
export function parsePercent(raw: unknown, label: string): number {
  const text = typeof raw === 'string' ? raw.trim().replace(/%$/, '') : raw;
  return parsers.number(0, 100, true)(text, label);
}

export const gateOptions = [
  defineOption({
    name: 'baseline',
    flag: '--baseline <results.json|dir,...>',
    description:
      'the results file(s) to compare against (required), comma-separated; a directory means every .json under it, e.g. results/baseline. ' +
      "Several runs of the same code are pooled per cell (recommended: 3 per machine kind); when they come from several CPU models, only the runs on this machine's CPU are pooled",
    parse: parsers.list(parsers.string()),
    repeatable: true,
  }),
  defineOption({
    name: 'against',
    flag: '--against <path>',
    description:
      'instead of --baseline: the baseline version of the code, measured now beside the code under test, interleaved trial by trial ' +
      '(a built maplab tree, e.g. a git worktree of main after npm run build; a module exporting mapFactories; or an older plugin module ' +
      "matched with --map-module). Cells are compared pair by pair (--test paired: the median of the pairs' ratios and a sign test), " +
      'without normalisation; needs --preset',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'current',
    flag: '--current <results.json>',
    description: 'an existing results file of the code under test; without it, --preset runs the sweep now',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'preset',
    flag: '--preset <name>',
    description: "sweep preset to run now, restricted to the baseline's cells (e.g. ci); also used by --confirm",
    parse: parsers.string(),
  }),
  alphaOption,
  defineOption({
    name: 'threshold',
    flag: '--threshold <percent>',
    description:
      'a cell fails only when its normalised throughput (see --metric, --effect-quantile) is more than this many percent below the baseline, a number in (0, 100)',
    defaultValue: 10,
    parse: parsePercent,
  }),
  ...throughputOptions(
    { metric: 'quiet', effectQuantile: 0.75, test: 'bootstrap' },
    'the threshold reads it; 0.5: medians; 0.75 sets aside trials that fell in a slow spell, which only ever slow a trial down',
  ),
  // Two flags, one option: '--confirm' / '--no-confirm'; left unset, it follows whether the gate ran the sweep itself.
  defineOption({
    name: 'confirm',
    flag: '--confirm',
    description:
      're-run regressed cells once and fail only if the regression holds (default: on when the gate runs the sweep, off with --current)',
    parse: parsers.boolean(),
  }),
  defineOption({
    name: 'confirm',
    flag: '--no-confirm',
    description: 'fail on the first measurement, without a re-run',
    parse: parsers.boolean(),
  }),
  defineOption({
    name: 'normalize',
    flag: '--no-normalize',
    description:
      'compare raw ops/s instead of scaling by the calibration figures (same machine, same load only); normalised unless given',
    parse: parsers.boolean(),
  }),
  defineOption({
    name: 'calibrationTolerance',
    flag: '--calibration-tolerance <percent>',
    description:
      'same CPU model and cores, calibration figures further apart than this percent: the run was measured on a busy machine, and a regression seen only there is inconclusive (exit 0), a number in (0, 100)',
    defaultValue: 25,
    parse: parsePercent,
  }),
  defineOption({
    name: 'maxThreads',
    flag: '--max-threads <n>',
    description:
      'gate only cells with at most this many threads, integer ≥ 1 (default: half the cores of the smaller machine, at least 1; other cells are reported, not gated)',
    parse: parsers.integer(1, 1024),
  }),
  defineOption({
    name: 'mapModule',
    flag: '--map-module <path>',
    description: 'plugin map module (default export: a MapFactory), passed through to the sweep',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'node',
    flag: '--node <list>',
    description:
      "with --preset: runtimes passed through to the sweep (as sweep --node); cells match the baseline's per runtime, so record the baseline with the same list",
    parse: parseNodeList,
  }),
  mapAliasOption,
  reportFormatOption,
  defineOption({
    name: 'out',
    flag: '--out <results.json>',
    description: 'also save the results measured now (first run) to this file',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'verdictOut',
    flag: '--verdict-out <file.gate.json>',
    description:
      'also save the verdict (the --format json report) to this file; name it <results>.gate.json beside the results it judged and maplab report <folder> marks it on the history trends',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'runs',
    flag: '--runs <n>',
    description:
      'with --preset: run the sweep this many times, each in a fresh process, and pool the trials per cell as a baseline of several runs is pooled (also for the re-run), integer 1..20',
    defaultValue: 3,
    parse: parsers.integer(1, 20),
  }),
  defineOption({
    name: 'timeout',
    flag: '--timeout <seconds>',
    description: 'time limit for each sweep the gate runs, in seconds',
    defaultValue: 900,
    parse: parsers.integer(1, 86_400),
  }),
] as const;

export const EXPORT_FORMATS = ['github-action-benchmark', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const exportOptions = [
  defineOption<'format', ExportFormat>({
    name: 'format',
    flag: '--format <format>',
    description: `output format: ${EXPORT_FORMATS.join(', ')}`,
    defaultValue: 'github-action-benchmark',
    parse: parsers.oneOf(EXPORT_FORMATS),
  }),
  defineOption<'metric', ExportMetric>({
    name: 'metric',
    flag: '--metric <metric>',
    description: `github-action-benchmark only: ops (median ops/s → customBiggerIsBetter) or p99 (p99 latency ns → customSmallerIsBetter); csv has both`,
    defaultValue: 'ops',
    parse: parsers.oneOf(EXPORT_METRICS),
  }),
  defineOption({
    name: 'out',
    flag: '--out <file>',
    description: 'write to this file instead of stdout',
    parse: parsers.string(),
  }),
] as const;
