/**
 * Monte Carlo of the gate's decision rule, behind EVIDENCE.md's table of
 * false-failure and detection rates: how often would 10 gate runs on
 * unchanged code fail at least once, and how often is a 30% loss in one cell
 * caught, for a given noise level, threshold and baseline size?
 *
 * Model: a cell's trial = truth × run shift × trial noise, both lognormal
 * (σ per run per cell, σ per trial). A baseline is `baseline-runs` runs of 5
 * trials, pooled (as `--baseline a,b,c` does); the gate measures `head-runs`
 * runs, pooled (as `--runs` does). A gate run fails a cell when
 * both the first measurement and the confirming re-run are more than
 * the threshold below the baseline median with Mann–Whitney p < alpha — rules
 * 2–4 of harness/gate/gate.ts as first written; the gate now compares the p75
 * of the trials' quiet rates with a bootstrap test by default, which this
 * model does not reproduce. Calibration is taken as perfect (the noise here
 * is what normalisation leaves). Seeded: the same arguments print the same
 * figures.
 *
 *   node dist/scripts/evidence/gate-simulate.js [--trial-sigma 0.15] [--run-sigma 0.05] [--threshold 15]
 *       [--baseline-runs 3] [--head-runs 1] [--cells 8] [--baselines 300] [--seed 1]
 */
import { median } from 'simple-statistics';
import { mannWhitneyU } from '../../harness/gate/mann-whitney.js';
import { defineOption, parsers } from '../../harness/run/options.js';
import { scriptArgs } from '../cli-kit.js';

const options = scriptArgs({
  name: 'gate-simulate',
  description: "Monte Carlo of the gate's decision rule: false failures on unchanged code and detection of a 30% loss",
  options: [
    defineOption({
      name: 'trialSigma',
      flag: '--trial-sigma <sigma>',
      description: 'lognormal σ of one trial around its run, a number 0..2',
      defaultValue: 0.15,
      parse: parsers.number(0, 2),
    }),
    defineOption({
      name: 'runSigma',
      flag: '--run-sigma <sigma>',
      description: 'lognormal σ of one run per cell around the truth, a number 0..2',
      defaultValue: 0.05,
      parse: parsers.number(0, 2),
    }),
    defineOption({
      name: 'threshold',
      flag: '--threshold <percent>',
      description: 'the gate threshold, percent below the baseline median, a number in (0, 100)',
      defaultValue: 15,
      parse: parsers.number(0, 100, true),
    }),
    defineOption({
      name: 'baselineRuns',
      flag: '--baseline-runs <n>',
      description: 'runs pooled in a baseline, integer 1..20',
      defaultValue: 3,
      parse: parsers.integer(1, 20),
    }),
    defineOption({
      name: 'headRuns',
      flag: '--head-runs <n>',
      description: 'runs the gate measures and pools (gate --runs), integer 1..20',
      defaultValue: 1,
      parse: parsers.integer(1, 20),
    }),
    defineOption({
      name: 'cells',
      flag: '--cells <n>',
      description: 'gated cells per gate run, integer 1..1000',
      defaultValue: 8,
      parse: parsers.integer(1, 1000),
    }),
    defineOption({
      name: 'baselines',
      flag: '--baselines <n>',
      description: 'simulated baselines, each gated 10 times, integer 1..1000000',
      defaultValue: 300,
      parse: parsers.integer(1, 1_000_000),
    }),
    defineOption({
      name: 'seed',
      flag: '--seed <n>',
      description: 'seed of the simulation, integer 0..4294967295',
      defaultValue: 1,
      parse: parsers.integer(0, 0xffffffff),
    }),
  ],
});
const { trialSigma, runSigma, baselineRuns, headRuns, cells, baselines } = options;
const threshold = options.threshold / 100;
const ALPHA = 0.05;
const TRIALS = 5;
const GATE_RUNS = 10;

/** sfc32: small, seedable, good enough for a simulation. */
let [a, b, c, d] = [0x9e3779b9, 0x243f6a88, 0xb7e15162, options.seed >>> 0];
function random(): number {
  a >>>= 0;
  b >>>= 0;
  c >>>= 0;
  d >>>= 0;
  const t = (((a + b) | 0) + d) | 0;
  d = (d + 1) | 0;
  a = b ^ (b >>> 9);
  b = (c + (c << 3)) | 0;
  c = (c << 21) | (c >>> 11);
  c = (c + t) | 0;
  return (t >>> 0) / 4294967296;
}
function gaussian(): number {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
function measureRun(truth: number): number[] {
  const shift = Math.exp(runSigma * gaussian());
  return Array.from({ length: TRIALS }, () => truth * shift * Math.exp(trialSigma * gaussian()));
}
function regressed(head: number[], base: number[]): boolean {
  return median(head) / median(base) - 1 < -threshold && mannWhitneyU(head, base).p < ALPHA;
}
const measureRuns = (truth: number, runs: number) => Array.from({ length: runs }, () => measureRun(truth)).flat();
const gateFailsCell = (truth: number, base: number[]) =>
  regressed(measureRuns(truth, headRuns), base) && regressed(measureRuns(truth, headRuns), base);

let baselinesWithFalseFailure = 0;
let falseFailures = 0;
let detections = 0;
for (let experiment = 0; experiment < baselines; experiment++) {
  const baseline = Array.from({ length: cells }, () => measureRuns(1, baselineRuns));
  let anyFalse = false;
  for (let run = 0; run < GATE_RUNS; run++) {
    if (baseline.some((base) => gateFailsCell(1, base))) {
      falseFailures++;
      anyFalse = true;
    }
    if (gateFailsCell(0.7, baseline[0])) detections++;
  }
  if (anyFalse) baselinesWithFalseFailure++;
}
process.stdout.write(
  `trial σ ${trialSigma}, run σ ${runSigma}, threshold ${threshold * 100}%, ${baselineRuns} baseline run(s), ${headRuns} head run(s), ${cells} cells, ${baselines} baselines × ${GATE_RUNS} gate runs:\n` +
    `  false failures per gate run ${(falseFailures / (baselines * GATE_RUNS)).toFixed(3)}; ` +
    `chance of ≥ 1 in ${GATE_RUNS} runs ${(baselinesWithFalseFailure / baselines).toFixed(2)}; ` +
    `30% loss detected ${(detections / (baselines * GATE_RUNS)).toFixed(2)}\n`,
);
