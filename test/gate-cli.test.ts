import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildResults, gridSpec, tempDirectory, trialsAround, writeResultsJson } from './fixtures/gate-results.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));

function maplab(args: string[], env: Record<string, string> = {}) {
  const { GITHUB_STEP_SUMMARY: _ignored, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...inherited, ...env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const directory = tempDirectory();
const baselinePath = writeResultsJson(
  directory,
  'baseline.json',
  buildResults({ cells: gridSpec(['rwmutex', 'sharded'], ['read-heavy']) }),
);
const slowerPath = writeResultsJson(
  directory,
  'slower.json',
  buildResults({
    cells: [
      { map: 'rwmutex', workload: 'read-heavy', trials: trialsAround(700_000) },
      { map: 'sharded', workload: 'read-heavy' },
    ],
  }),
);

test('gate exits 0 on identical results', () => {
  const run = maplab(['gate', '--baseline', baselinePath, '--current', baselinePath]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^maplab gate: PASS: 2 cell\(s\) gated; none more than 10% slower at p < 0\.05 after calibration normalisation\./,
  );
});

test('gate exits 1 on a 30% regression, names the cell, and appends the markdown verdict to $GITHUB_STEP_SUMMARY', () => {
  const summaryPath = join(directory, 'step-summary.md');
  writeFileSync(summaryPath, '# earlier step\n');
  const run = maplab(['gate', '--baseline', baselinePath, '--current', slowerPath], {
    GITHUB_STEP_SUMMARY: summaryPath,
  });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stdout, /regressions:\n {2}rwmutex\/read-heavy\/t=1\/lf=0\.75: -30\.0% \(p<0\.001\)/);
  const summary = readFileSync(summaryPath, 'utf8');
  assert.match(summary, /^# earlier step\n## maplab gate: ❌ FAIL/);
  assert.match(summary, /\| rwmutex\/read-heavy\/t=1\/lf=0\.75 \| -30\.0% \|/);
});

test('gate --threshold 40 lets the same 30% regression pass', () => {
  assert.equal(maplab(['gate', '--baseline', baselinePath, '--current', slowerPath, '--threshold', '40%']).code, 0);
});

test('gate --format json prints the report', () => {
  const run = maplab(['gate', '--baseline', baselinePath, '--current', slowerPath, '--format', 'json']);
  assert.equal(run.code, 1);
  const report = JSON.parse(run.stdout) as { schema: string; passed: boolean; regressions: Array<{ label: string }> };
  assert.equal(report.schema, 'maplab.gate/1');
  assert.equal(report.passed, false);
  assert.deepEqual(
    report.regressions.map((finding) => finding.label),
    ['rwmutex/read-heavy/t=1/lf=0.75'],
  );
});

test('a missing baseline exits 2 naming the file', () => {
  const missing = join(directory, 'no-such-baseline.json');
  const run = maplab(['gate', '--baseline', missing, '--current', baselinePath]);
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    new RegExp(`maplab: ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read results file \\(ENOENT\\)`),
  );
});

test('a baseline that is not JSON exits 2 naming the file and the problem', () => {
  const broken = join(directory, 'broken.json');
  writeFileSync(broken, '{"schema": "maplab.results/1", ');
  const run = maplab(['gate', '--baseline', broken, '--current', baselinePath]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /broken\.json: not valid JSON/);
});

test('a baseline missing a required field exits 2 naming the file and the field, and nothing is written', () => {
  const results = buildResults({ cells: gridSpec(['rwmutex'], ['read-heavy']) }) as unknown as Record<string, unknown>;
  const withoutCalibration = writeResultsJson(directory, 'no-calibration.json', { ...results, calibration: {} });
  const summaryPath = join(directory, 'untouched-summary.md');
  const savePath = join(directory, 'should-not-exist.json');
  const run = maplab(['gate', '--baseline', withoutCalibration, '--current', baselinePath, '--out', savePath], {
    GITHUB_STEP_SUMMARY: summaryPath,
  });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /no-calibration\.json: calibration\.opsPerSec must be a finite number/);
  assert.equal(existsSync(summaryPath), false);
  assert.equal(existsSync(savePath), false);
});

test('gate without --current or --preset, or with bad flag values, exits 2 with a message naming the option', () => {
  const neither = maplab(['gate', '--baseline', baselinePath]);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /gate needs --current <results\.json> \(measured already\) or --preset <name>/);
  const badThreshold = maplab(['gate', '--baseline', baselinePath, '--current', baselinePath, '--threshold', '150']);
  assert.equal(badThreshold.code, 2);
  assert.match(badThreshold.stderr, /--threshold must be a number in \(0, 100\) exclusive, got "150"/);
  const confirmWithoutPreset = maplab(['gate', '--baseline', baselinePath, '--current', baselinePath, '--confirm']);
  assert.equal(confirmWithoutPreset.code, 2);
  assert.match(
    confirmWithoutPreset.stderr,
    /--confirm re-runs regressed cells with the sweep: give --preset <name> as well/,
  );
  const badAlias = maplab([
    'gate',
    '--baseline',
    baselinePath,
    '--current',
    baselinePath,
    '--map-alias',
    'slowed-rwmutex',
  ]);
  assert.equal(badAlias.code, 2);
  assert.match(badAlias.stderr, /--map-alias\[0\] must be head=base/);
  const badMetric = maplab(['gate', '--baseline', baselinePath, '--current', baselinePath, '--metric', 'fastest']);
  assert.equal(badMetric.code, 2);
  assert.match(badMetric.stderr, /--metric must be one of ops, quiet, sentinel, got "fastest"/);
  const badRuns = maplab(['gate', '--baseline', baselinePath, '--preset', 'ci', '--runs', '0']);
  assert.equal(badRuns.code, 2);
  assert.match(badRuns.stderr, /--runs must be an integer 1\.\.20, got "0"/);
  const badTest = maplab(['gate', '--baseline', baselinePath, '--current', baselinePath, '--test', 't-test']);
  assert.equal(badTest.code, 2);
  assert.match(badTest.stderr, /--test must be one of mann-whitney, bootstrap, paired, got "t-test"/);
  const badQuantile = maplab([
    'gate',
    '--baseline',
    baselinePath,
    '--current',
    baselinePath,
    '--effect-quantile',
    '0.4',
  ]);
  assert.equal(badQuantile.code, 2);
  assert.match(badQuantile.stderr, /--effect-quantile must be a number 0\.5\.\.1, got "0\.4"/);
});
