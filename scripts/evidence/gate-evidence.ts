/**
 * Live evidence that `maplab gate` is quiet on unchanged code and sharp on a
 * real regression (issue 6). Runs, one after another so they never compete
 * for the CPU:
 *   1. a baseline: --baseline-runs runs of `maplab sweep --preset ci`, pooled by
 *      the gate (unless --baseline is given; with --against, none: every gate
 *      measures that baseline code beside the code under test);
 *   2. N gate runs of the unchanged code against it (target: 0 failures);
 *   3. N gate runs where <base-map> is replaced by the slowed-map plugin
 *      (scripts/evidence/fixtures/slowed-map.ts, ~30% slower) matched to the baseline's
 *      <base-map> cells by --map-alias (target: ≥ N−1 detections).
 * Each gate run records its exit code, its candidate and confirmed cells, its
 * duration and the 1-minute load average before and after, so a shared
 * machine's load is on the record. Writes <out>/evidence.json and prints a
 * markdown summary.
 *
 *   node dist/scripts/evidence/gate-evidence.js [--runs 10] [--baseline a.json,b.json,c.json | --baseline-runs 3]
 *       [--base-map rwmutex] [--out results/gate-evidence] [--preset ci] [--extra 0.5] [--threshold 10] [--metric sentinel]
 *       [--against <built maplab tree> --gate-runs 2]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESET_NAMES } from '../../harness/run/config.js';
import { THROUGHPUT_METRICS } from '../../harness/gate/compare.js';
import { parsePercent } from '../../harness/gate/options.js';
import { defineOption, parsers, UsageError } from '../../harness/run/options.js';
import { mapFactories } from '../../maps/index.js';
import { scriptArgs } from '../cli-kit.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const SLOWED_MAP = fileURLToPath(new URL('./fixtures/slowed-map.js', import.meta.url));

interface GateRun {
  scenario: 'unchanged' | 'slowed';
  run: number;
  exitCode: number | null;
  /** pass | regression | inconclusive, from the gate's report. */
  verdict: string | null;
  /** Calibration of this run (and of its re-run) over the baseline's. */
  calibrationRatio: number | null;
  confirmCalibrationRatio: number | null;
  durationSec: number;
  loadBefore: number;
  loadAfter: number;
  /** Cells the first pass flagged, with their delta. */
  candidates: string[];
  /** Cells that failed the gate (confirmed). */
  regressions: string[];
  /** The gated cell with the most negative first-pass delta: the margin to the threshold. */
  worstCell: string | null;
  stderrTail: string;
}

interface GateJson {
  passed: boolean;
  verdict: string;
  comparison: {
    base: { calibrationOpsPerSec: number };
    head: { calibrationOpsPerSec: number };
    cells: Array<{ label: string; opsPerSec: { deltaPct: number } }>;
  };
  notGated: Array<{ label: string }>;
  confirmComparison: { head: { calibrationOpsPerSec: number } } | null;
  findings: Array<{
    label: string;
    deltaPct: number | null;
    confirmation: { held: boolean; deltaPct: number | null } | null;
  }>;
  regressions: Array<{ label: string }>;
}

const mapNames = mapFactories.map((factory) => factory.name);
const options = scriptArgs({
  name: 'gate-evidence',
  description: 'live evidence that maplab gate passes unchanged code and fails a ~30% slower map',
  options: [
    defineOption({
      name: 'runs',
      flag: '--runs <n>',
      description: 'gate runs per scenario (unchanged, slowed), integer 1..1000',
      defaultValue: 10,
      parse: parsers.integer(1, 1000),
    }),
    defineOption({
      name: 'baseline',
      flag: '--baseline <results.json,...>',
      description:
        'baseline results file(s) for every gate run, as gate --baseline takes them (default: measure --baseline-runs now)',
      parse: parsers.string(),
    }),
    defineOption({
      name: 'baseMap',
      flag: '--base-map <name>',
      description: `the map slowed down and gated against its own baseline cells, one of ${mapNames.join(', ')}`,
      defaultValue: 'rwmutex',
      parse: parsers.oneOf(mapNames),
    }),
    defineOption({
      name: 'out',
      flag: '--out <dir>',
      description: 'folder for the baseline runs and evidence.json',
      defaultValue: 'results/gate-evidence',
      parse: parsers.string(),
    }),
    defineOption({
      name: 'preset',
      flag: '--preset <name>',
      description: `sweep preset of the baseline and of every gate run: ${PRESET_NAMES.join(' | ')}`,
      defaultValue: 'ci',
      parse: parsers.oneOf(PRESET_NAMES),
    }),
    defineOption({
      name: 'extra',
      flag: '--extra <lookups>',
      description: 'extra lookups per operation of the slowed map (MAPLAB_SLOWED_EXTRA), a number 0..100',
      defaultValue: 0.5,
      parse: parsers.number(0, 100),
    }),
    defineOption({
      name: 'baselineRuns',
      flag: '--baseline-runs <n>',
      description: 'without --baseline: sweeps measured now and pooled as the baseline, integer 1..20',
      defaultValue: 3,
      parse: parsers.integer(1, 20),
    }),
    defineOption({
      name: 'threshold',
      flag: '--threshold <percent>',
      description: "gate --threshold of every gate run, a number in (0, 100) (default: the gate's own)",
      parse: parsePercent,
    }),
    defineOption({
      name: 'against',
      flag: '--against <path>',
      description:
        'gate every run with --against this baseline code (a built maplab tree, e.g. a copy of dist/ in a temp folder) instead of a stored baseline',
      parse: parsers.string(),
    }),
    defineOption({
      name: 'gateRuns',
      flag: '--gate-runs <n>',
      description: "gate --runs of every gate run, integer 1..20 (default: the gate's own)",
      parse: parsers.integer(1, 20),
    }),
    defineOption({
      name: 'metric',
      flag: '--metric <metric>',
      description: `gate --metric of every gate run: ${THROUGHPUT_METRICS.join(' | ')} (default: the gate's own)`,
      parse: parsers.oneOf(THROUGHPUT_METRICS),
    }),
  ],
});
const { runs, baseMap, preset } = options;
const outDirectory = options.out;
mkdirSync(outDirectory, { recursive: true });

const load = () => Math.round(loadavg()[0] * 100) / 100;

function maplab(args: string[], env: Record<string, string> = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 2 ** 20,
  });
  return { ...result, durationSec: Number(process.hrtime.bigint() - started) / 1e9 };
}

let baselinePath = options.baseline;
if (options.against !== undefined && baselinePath !== undefined)
  throw new UsageError('--against and --baseline are two kinds of baseline: give one');
if (baselinePath === undefined && options.against === undefined) {
  const paths: string[] = [];
  for (let run = 1; run <= options.baselineRuns; run++) {
    const path = join(outDirectory, `baseline-${run}.json`);
    process.stderr.write(`gate-evidence: measuring baseline run ${run} (sweep --preset ${preset}) → ${path}\n`);
    const sweep = maplab(['sweep', '--preset', preset, '--out', path, '--quiet', '--force']);
    if (sweep.status !== 0) throw new Error(`the baseline sweep failed (exit ${sweep.status}):\n${sweep.stderr}`);
    paths.push(path);
  }
  baselinePath = paths.join(',');
}

function gateRun(scenario: GateRun['scenario'], run: number): GateRun {
  const args = [
    'gate',
    ...(options.against === undefined ? ['--baseline', baselinePath as string] : ['--against', options.against]),
    '--preset',
    preset,
    '--format',
    'json',
  ];
  if (options.gateRuns !== undefined) args.push('--runs', String(options.gateRuns));
  if (options.threshold !== undefined) args.push('--threshold', String(options.threshold));
  if (options.metric !== undefined) args.push('--metric', options.metric);
  const env: Record<string, string> = {};
  if (scenario === 'slowed') {
    args.push('--map-module', SLOWED_MAP, '--map-alias', `slowed-${baseMap}=${baseMap}`);
    env.MAPLAB_SLOWED_BASE = baseMap;
    env.MAPLAB_SLOWED_EXTRA = String(options.extra);
  }
  const loadBefore = load();
  const result = maplab(args, env);
  const record: GateRun = {
    scenario,
    run,
    exitCode: result.status,
    verdict: null,
    calibrationRatio: null,
    confirmCalibrationRatio: null,
    durationSec: Math.round(result.durationSec * 10) / 10,
    loadBefore,
    loadAfter: load(),
    candidates: [],
    regressions: [],
    worstCell: null,
    stderrTail: result.stderr.split('\n').slice(-5).join('\n'),
  };
  if (result.status === 0 || result.status === 1) {
    try {
      const report = JSON.parse(result.stdout) as GateJson;
      const baseCalibration = report.comparison.base.calibrationOpsPerSec;
      const ratio = (value: number) => Math.round((value / baseCalibration) * 100) / 100;
      record.verdict = report.verdict;
      record.calibrationRatio = ratio(report.comparison.head.calibrationOpsPerSec);
      record.confirmCalibrationRatio = report.confirmComparison
        ? ratio(report.confirmComparison.head.calibrationOpsPerSec)
        : null;
      const pct = (value: number | null | undefined) => (value == null ? 'n/a' : `${value.toFixed(1)}%`);
      record.candidates = report.findings.map(
        (finding) =>
          `${finding.label} ${pct(finding.deltaPct)}${finding.confirmation ? ` → re-run ${pct(finding.confirmation.deltaPct)}` : ''}`,
      );
      record.regressions = report.regressions.map((finding) => finding.label);
      // The gate's own choice of cells (rule 5), not a copy of it.
      const notGated = new Set(report.notGated.map((cell) => cell.label));
      const [worst] = report.comparison.cells
        .filter((cell) => !notGated.has(cell.label))
        .sort((a, b) => a.opsPerSec.deltaPct - b.opsPerSec.deltaPct);
      record.worstCell = worst === undefined ? null : `${worst.label} ${pct(worst.opsPerSec.deltaPct)}`;
    } catch {
      // A sweep that did not complete prints no report; the exit code and stderr tail say why.
    }
  }
  process.stderr.write(
    `gate-evidence: ${scenario} run ${run}: exit ${record.exitCode} (${record.verdict}) in ${record.durationSec} s, ` +
      `calibration ×${record.calibrationRatio}${record.confirmCalibrationRatio === null ? '' : `, re-run ×${record.confirmCalibrationRatio}`}, ` +
      `load ${loadBefore}→${record.loadAfter}, worst ${record.worstCell}, candidates ${record.candidates.length}, regressions ${record.regressions.join(' ') || 'none'}\n`,
  );
  return record;
}

// Alternating, so that a change in the machine over the hour weighs on both scenarios alike.
const records: GateRun[] = [];
for (let run = 1; run <= runs; run++) records.push(gateRun('unchanged', run), gateRun('slowed', run));

const unchanged = records.filter((record) => record.scenario === 'unchanged');
const slowed = records.filter((record) => record.scenario === 'slowed');
const falseAlarms = unchanged.filter((record) => record.exitCode !== 0).length;
const count = (records: GateRun[], verdict: string) => records.filter((record) => record.verdict === verdict).length;
const detections = slowed.filter(
  (record) => record.exitCode === 1 && record.regressions.some((label) => label.startsWith(`${baseMap}/`)),
).length;
const baselineLabel = options.against === undefined ? baselinePath : `--against ${options.against}`;
const summary = {
  baseline: baselineLabel,
  threshold: options.threshold ?? 'default',
  preset,
  baseMap,
  extraLookupsPerOp: options.extra,
  runs,
  falseAlarms,
  detections,
  unchangedCandidatesDismissedByConfirm: unchanged.reduce(
    (sum, record) => sum + record.candidates.length - record.regressions.length,
    0,
  ),
  loadAverage: {
    min: Math.min(...records.map((r) => r.loadBefore)),
    max: Math.max(...records.map((r) => r.loadAfter)),
  },
  records,
};
writeFileSync(join(outDirectory, 'evidence.json'), JSON.stringify(summary, null, 2) + '\n');
process.stdout.write(
  [
    `## gate evidence (${preset} preset, ${runs} runs each, threshold ${options.threshold ?? 'default'}, baseline ${baselineLabel})`,
    '',
    `- unchanged code: ${falseAlarms} / ${runs} gate failures (target 0); verdicts: ${count(unchanged, 'pass')} pass, ` +
      `${count(unchanged, 'inconclusive')} inconclusive, ${count(unchanged, 'regression')} regression; ` +
      `${summary.unchangedCandidatesDismissedByConfirm} first-pass candidate(s) not failing the gate`,
    `- slowed-${baseMap} (${options.extra} extra lookups/op) against a ${baseMap} baseline: ${detections} / ${runs} detections (target ≥ ${runs - 1}); ` +
      `verdicts: ${count(slowed, 'pass')} pass, ${count(slowed, 'inconclusive')} inconclusive, ${count(slowed, 'regression')} regression`,
    `- 1-minute load average during the runs: ${summary.loadAverage.min} … ${summary.loadAverage.max}`,
    '',
    '| scenario | run | exit | verdict | s | load | calibration ÷ baseline (re-run) | worst cell | first-pass candidates | failed the gate |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...records.map(
      (r) =>
        `| ${r.scenario} | ${r.run} | ${r.exitCode} | ${r.verdict} | ${r.durationSec} | ${r.loadBefore}→${r.loadAfter} | ` +
        `${r.calibrationRatio}${r.confirmCalibrationRatio === null ? '' : ` (${r.confirmCalibrationRatio})`} | ${r.worstCell ?? ''} | ${r.candidates.join('; ')} | ${r.regressions.join(', ')} |`,
    ),
    '',
  ].join('\n'),
);
