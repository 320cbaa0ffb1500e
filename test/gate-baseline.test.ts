import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandBaselinePaths, mergeBaselines, selectBaselineRuns } from '../harness/gate/baseline.js';
import { runGate, type GateOptions } from '../harness/gate/gate.js';
import { buildResults, tempDirectory, trialsAround, writeResultsJson } from './fixtures/gate-results.js';
import { measured } from './fixtures/measured.js';

const options: GateOptions = {
  alpha: 0.05,
  thresholdPct: 10,
  normalize: true,
  confirm: false,
  calibrationTolerancePct: 25,
  baselineSource: 'baseline',
  currentSource: 'current',
};

test('one baseline file is used as it is', () => {
  const only = buildResults({ cells: [{ map: 'rwmutex' }] });
  const merged = mergeBaselines([{ results: only, source: 'a.json' }]);
  assert.equal(merged.results, only);
  assert.equal(merged.runs, 1);
});

test("several runs pool each cell's trials, scaled to the median calibration", () => {
  const runs = [
    {
      source: 'a.json',
      results: buildResults({
        calibrationOpsPerSec: 100e6,
        cells: [
          { map: 'rwmutex', trials: [100, 100, 100] },
          { map: 'plain', error: 'boom' },
        ],
      }),
    },
    {
      source: 'b.json',
      results: buildResults({
        calibrationOpsPerSec: 110e6,
        cells: [
          { map: 'rwmutex', trials: [110, 110, 110] },
          { map: 'plain', error: 'boom' },
        ],
      }),
    },
    {
      source: 'c.json',
      results: buildResults({
        calibrationOpsPerSec: 90e6,
        cells: [{ map: 'rwmutex', error: 'timeout' }, { map: 'plain', error: 'boom' }, { map: 'sharded' }],
      }),
    },
  ];
  const merged = mergeBaselines(runs);
  assert.equal(merged.source, 'a.json + b.json + c.json');
  assert.equal(merged.results.calibration.opsPerSec, 100e6);
  assert.deepEqual(merged.calibrationRatios, [1, 1.1, 0.9]);
  const [rwmutex, sharded] = [measured(merged.results.cells[0]), measured(merged.results.cells[2])];
  const plain = merged.results.cells[1];
  assert.equal(rwmutex.trials.length, 6, 'the failed run is left out of the pool');
  assert.ok(
    rwmutex.trials.every((trial) => Math.abs(trial.opsPerSec - 100) < 1e-9),
    'b.json ran 10% faster on a 10% faster machine',
  );
  assert.equal(rwmutex.opsPerSec.median, 100);
  assert.equal(rwmutex.baselineRuns, 2);
  assert.equal(plain.error, 'boom', 'failed in every run: stays failed');
  assert.equal(sharded.trials.length, 5, 'a cell in one run only is kept');
});

test('a lucky baseline run fails unchanged code on its own; pooled with two ordinary runs it does not', async () => {
  const ordinary = () => buildResults({ cells: [{ map: 'rwmutex', trials: trialsAround(1_000_000) }] });
  const lucky = buildResults({ cells: [{ map: 'rwmutex', trials: trialsAround(1_250_000) }] });
  const head = ordinary();
  assert.equal((await runGate(lucky, head, options)).verdict, 'regression');
  const pooled = mergeBaselines([
    { results: lucky, source: 'lucky' },
    { results: ordinary(), source: 'b' },
    { results: ordinary(), source: 'c' },
  ]);
  assert.equal((await runGate(pooled.results, head, options)).verdict, 'pass');
});

test('gate --baseline takes several files, comma-separated or the flag repeated; a bad one exits 2 naming it', () => {
  const cli = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
  const directory = tempDirectory();
  const paths = ['a', 'b', 'c'].map((name) =>
    writeResultsJson(directory, `${name}.json`, buildResults({ cells: [{ map: 'rwmutex' }] })),
  );
  const slower = writeResultsJson(
    directory,
    'slower.json',
    buildResults({ cells: [{ map: 'rwmutex', trials: trialsAround(700_000) }] }),
  );
  const run = (args: string[]) =>
    spawnSync(process.execPath, [cli, 'gate', ...args], { encoding: 'utf8', timeout: 60_000 });
  const failing = run(['--baseline', paths.join(','), '--current', slower]);
  assert.equal(failing.status, 1, failing.stderr);
  assert.match(failing.stdout, /base: .*a\.json \+ .*b\.json \+ .*c\.json/);
  const repeated = run([...paths.flatMap((path) => ['--baseline', path]), '--current', slower]);
  assert.equal(repeated.status, 1, repeated.stderr);
  assert.match(
    repeated.stdout,
    /base: .*a\.json \+ .*b\.json \+ .*c\.json/,
    'every repeated --baseline is pooled, not only the last',
  );
  const missing = join(directory, 'missing.json');
  const bad = run(['--baseline', `${paths[0]},${missing}`, '--current', slower]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /missing\.json: cannot read results file \(ENOENT\)/);
});

const onCpu = (cpuModel: string, source: string, cores = 2) => ({
  source,
  results: buildResults({ cpuModel, cores, cells: [{ map: 'rwmutex' }] }),
});

test("a baseline of runs from several CPU kinds pools only the runs on the gated machine's CPU, and says so", () => {
  const runs = [
    onCpu('Intel Xeon', 'i1'),
    onCpu('AMD EPYC', 'a1'),
    onCpu('Intel Xeon', 'i2'),
    onCpu('AMD EPYC', 'a2'),
    onCpu('AMD EPYC', 'a8', 8),
  ];
  const selection = selectBaselineRuns(runs, { cpuModel: 'AMD EPYC', cores: 2 });
  assert.deepEqual(
    selection.runs.map((run) => run.source),
    ['a1', 'a2'],
    'same model and same core count',
  );
  assert.match(
    selection.note ?? '',
    /3 CPU kinds .*pooled the 2 measured on this one \(AMD EPYC × 2\) and set 3 aside/,
  );
});

test("runs all on the gated machine's CPU are all pooled, with no note", () => {
  const runs = [onCpu('AMD EPYC', 'a1'), onCpu('AMD EPYC', 'a2')];
  assert.deepEqual(selectBaselineRuns(runs, { cpuModel: 'AMD EPYC', cores: 2 }), { runs, note: null });
});

test("with no baseline run on the gated machine's CPU every run is pooled and the note asks for a baseline of this machine kind", () => {
  const runs = [onCpu('Intel Xeon', 'i1'), onCpu('AMD EPYC', 'a1')];
  const selection = selectBaselineRuns(runs, { cpuModel: 'Apple M3', cores: 2 });
  assert.deepEqual(
    selection.runs.map((run) => run.source),
    ['i1', 'a1'],
  );
  assert.match(
    selection.note ?? '',
    /no baseline run was measured on this CPU \(Apple M3 × 2\); pooled all 2 .*npm run baseline/,
  );
});

test('a --baseline directory means every .json results file under it, subdirectories included, in path order, hidden names skipped', () => {
  const directory = tempDirectory();
  mkdirSync(join(directory, 'b-cpu'));
  mkdirSync(join(directory, 'a-cpu'));
  mkdirSync(join(directory, '.old'));
  for (const path of [
    'b-cpu/ci-1.json',
    'a-cpu/ci-2.json',
    'a-cpu/ci-1.json',
    'a-cpu/.recording-3.json',
    '.old/ci-1.json',
  ])
    writeFileSync(join(directory, path), '{}');
  writeFileSync(join(directory, 'a-cpu', 'notes.txt'), 'not a results file');
  const single = join(directory, 'a-cpu', 'ci-1.json');
  assert.deepEqual(expandBaselinePaths([directory, single]), [
    join(directory, 'a-cpu/ci-1.json'),
    join(directory, 'a-cpu/ci-2.json'),
    join(directory, 'b-cpu/ci-1.json'),
    single,
  ]);
  const empty = join(directory, 'empty');
  mkdirSync(empty);
  assert.throws(() => expandBaselinePaths([empty]), /--baseline: the directory .*empty holds no \.json results file/);
});

test("gate --baseline <dir> gates against the runs of the current file's CPU and ignores another CPU's slower runs", () => {
  const cli = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
  const directory = tempDirectory();
  for (const [kind, cpuModel, opsPerSec] of [
    ['amd', 'AMD EPYC', 1_000_000],
    ['intel', 'Intel Xeon', 600_000],
  ] as const) {
    mkdirSync(join(directory, kind));
    for (const run of [1, 2])
      writeResultsJson(
        join(directory, kind),
        `ci-${run}.json`,
        buildResults({ cpuModel, cells: [{ map: 'rwmutex', trials: trialsAround(opsPerSec) }] }),
      );
  }
  const elsewhere = tempDirectory();
  const gate = (cpuModel: string, opsPerSec: number) => {
    const current = writeResultsJson(
      elsewhere,
      `current-${cpuModel}-${opsPerSec}.json`,
      buildResults({ cpuModel, cells: [{ map: 'rwmutex', trials: trialsAround(opsPerSec) }] }),
    );
    return spawnSync(process.execPath, [cli, 'gate', '--baseline', directory, '--current', current], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  };
  const amdSlower = gate('AMD EPYC', 700_000);
  assert.equal(amdSlower.status, 1, 'against the AMD runs, 700k is a 30% loss');
  assert.match(amdSlower.stdout, /pooled the 2 measured on this one \(AMD EPYC × 2\)/);
  assert.doesNotMatch(amdSlower.stdout, /intel/);
  const intelSame = gate('Intel Xeon', 600_000);
  assert.equal(intelSame.status, 0, intelSame.stdout);
});
