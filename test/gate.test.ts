import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CellKey } from '../harness/gate/compare.js';
import {
  maxThreadsFor,
  runGate,
  smallestDetectableDropPct,
  whyNotGated,
  type GateOptions,
  type Remeasure,
} from '../harness/gate/gate.js';
import { UsageError } from '../harness/run/options.js';
import type { Results } from '../harness/results/results.js';
import { renderGateMarkdown, renderGateText } from '../reports/compare-gate.js';
import { buildResults, gridSpec, trialsAround, type CellSpec } from './fixtures/gate-results.js';

const options: GateOptions = {
  alpha: 0.05,
  thresholdPct: 10,
  normalize: true,
  confirm: false,
  calibrationTolerancePct: 25,
  baselineSource: 'baseline.json',
  currentSource: 'current.json',
};

const MAPS = ['rwmutex', 'sharded', 'readdirty'];
const WORKLOADS = ['read-heavy', 'write-heavy'];
const SLOW_CELL = 'rwmutex/read-heavy/t=1/lf=0.75';

/** The grid with one cell's trials replaced. */
function gridWith(label: string, trials: number[], calibrationOpsPerSec = 100e6): Results {
  const cells: CellSpec[] = gridSpec(MAPS, WORKLOADS).map((cell) =>
    `${cell.map}/${cell.workload}/t=1/lf=0.75` === label ? { ...cell, trials } : cell,
  );
  return buildResults({ calibrationOpsPerSec, cells });
}

const baseline = buildResults({ cells: gridSpec(MAPS, WORKLOADS) });

test('identical trials pass', async () => {
  const report = await runGate(baseline, baseline, options);
  assert.equal(report.passed, true);
  assert.equal(report.gatedCount, 6);
  assert.deepEqual(report.findings, []);
});

test('one cell 30% slower with tight trials fails, naming that cell', async () => {
  const report = await runGate(baseline, gridWith(SLOW_CELL, trialsAround(700_000)), options);
  assert.equal(report.passed, false);
  assert.deepEqual(
    report.regressions.map((finding) => finding.label),
    [SLOW_CELL],
  );
  assert.equal(report.regressions[0].kind, 'slower');
  assert.ok(Math.abs((report.regressions[0].deltaPct ?? 0) + 30) < 1e-9);
  assert.match(renderGateText(report), /^maplab gate: FAIL: 1 cell\(s\) regressed/);
  assert.match(renderGateText(report), /rwmutex\/read-heavy\/t=1\/lf=0\.75: -30\.0% \(p<0\.001\)/);
  assert.match(
    renderGateMarkdown(report),
    /\| rwmutex\/read-heavy\/t=1\/lf=0\.75 \| -30\.0% \| <0\.001 \| not re-run \| {2}\| \*\*yes\*\* \|/,
  );
});

test('every cell and the calibration 30% slower (a slower machine) passes', async () => {
  const slowMachine = buildResults({
    cpuModel: 'Slower CPU',
    calibrationOpsPerSec: 70e6,
    cells: gridSpec(MAPS, WORKLOADS, 700_000),
  });
  const report = await runGate(baseline, slowMachine, options);
  assert.equal(report.verdict, 'pass');
  assert.deepEqual(report.findings, []);
});

test('the same machine drifting 20% slower everywhere, calibration included, passes (within the calibration tolerance)', async () => {
  const drifted = buildResults({ calibrationOpsPerSec: 80e6, cells: gridSpec(MAPS, WORKLOADS, 800_000) });
  const report = await runGate(baseline, drifted, options);
  assert.equal(report.unsteady.first, null);
  assert.equal(report.verdict, 'pass');
});

test('a slower machine of another CPU model without normalisation fails every cell: normalisation is what absorbs it', async () => {
  const slowMachine = buildResults({
    cpuModel: 'Slower CPU',
    calibrationOpsPerSec: 70e6,
    cells: gridSpec(MAPS, WORKLOADS, 700_000),
  });
  const report = await runGate(baseline, slowMachine, { ...options, normalize: false });
  assert.equal(report.regressions.length, 6);
});

test('a cell 5% slower (significant, but below the 10% threshold) passes', async () => {
  const report = await runGate(baseline, gridWith(SLOW_CELL, trialsAround(950_000, 0.005)), options);
  assert.ok(
    report.comparison.cells.find((cell) => cell.label === SLOW_CELL)?.opsPerSec.significant,
    'the test itself sees it',
  );
  assert.equal(report.passed, true);
});

test('a cell 30% slower whose trials overlap the baseline (not significant) passes', async () => {
  const noisyBase = gridWith(SLOW_CELL, [500_000, 900_000, 1_000_000, 1_100_000, 1_500_000]);
  const report = await runGate(
    noisyBase,
    gridWith(SLOW_CELL, [400_000, 600_000, 700_000, 800_000, 1_200_000]),
    options,
  );
  assert.equal(report.passed, true);
});

test('an oversubscribed cell is reported but not gated', async () => {
  const base = buildResults({ cells: [{ map: 'rwmutex' }, { map: 'rwmutex', threads: 4, oversubscribed: true }] });
  const head = buildResults({
    cells: [{ map: 'rwmutex' }, { map: 'rwmutex', threads: 4, oversubscribed: true, trials: trialsAround(500_000) }],
  });
  const report = await runGate(base, head, options);
  assert.equal(report.passed, true);
  assert.deepEqual(
    report.notGated.map((cell) => cell.label),
    ['rwmutex/read-heavy/t=4/lf=0.75'],
  );
  assert.equal(report.gatedCount, 1);
});

test("same CPU, calibration far from the baseline's (a busy machine): a slowdown seen only there is inconclusive, exit 0", async () => {
  const busy = buildResults({ calibrationOpsPerSec: 57e6, cells: gridSpec(MAPS, WORKLOADS, 500_000) });
  const report = await runGate(baseline, busy, options);
  assert.ok(
    report.unsteady.first?.startsWith(
      "same CPU as the baseline, but calibration -43.0% of the baseline's (tolerance ±25%)",
    ),
  );
  assert.equal(report.verdict, 'inconclusive');
  assert.equal(report.passed, true);
  assert.ok(report.findings.length === 6 && report.findings.every((finding) => finding.outcome === 'inconclusive'));
  assert.match(
    renderGateText(report),
    /^maplab gate: INCONCLUSIVE \(exit 0\): the machine was busy .* 6 cell\(s\) looked more than 10% slower/,
  );
});

test('a busy run that sees no slowdown is inconclusive too: its calibration could be hiding one', async () => {
  // The calibration ran in a busy instant: ×2.5 normalisation makes every cell look faster, and would hide a 30% loss.
  const busyCalibration = gridWith(SLOW_CELL, trialsAround(700_000), 40e6);
  const report = await runGate(baseline, busyCalibration, options);
  assert.deepEqual(report.findings, []);
  assert.equal(report.verdict, 'inconclusive');
  assert.equal(report.passed, true);
});

test('a busy first run whose slowdown a steady re-run confirms fails', async () => {
  const busy = buildResults({ calibrationOpsPerSec: 57e6, cells: gridSpec(MAPS, WORKLOADS, 500_000) });
  const steadySlow = gridWith(SLOW_CELL, trialsAround(700_000), 98e6);
  const report = await runGate(baseline, busy, { ...options, confirm: true }, async () => ({
    results: steadySlow,
    source: 'rerun',
  }));
  assert.equal(report.unsteady.confirm, null);
  assert.equal(report.verdict, 'regression');
  assert.deepEqual(
    report.regressions.map((finding) => finding.label),
    [SLOW_CELL],
  );
  assert.equal(report.findings.filter((finding) => finding.outcome === 'dismissed').length, 5);
});

test('a busy re-run cannot confirm: inconclusive', async () => {
  const slow = gridWith(SLOW_CELL, trialsAround(700_000));
  const busySlow = gridWith(SLOW_CELL, trialsAround(400_000), 60e6);
  const report = await runGate(baseline, slow, { ...options, confirm: true }, async () => ({
    results: busySlow,
    source: 'rerun',
  }));
  assert.equal(report.unsteady.first, null);
  assert.notEqual(report.unsteady.confirm, null);
  assert.equal(report.verdict, 'inconclusive');
});

test('another CPU model is normalised, not called busy: its regressions count', async () => {
  // 57% of the speed everywhere, and the slow cell a further 30% down (0.57 × 0.7 ≈ 0.4).
  const otherMachine = buildResults({
    cpuModel: 'Other CPU',
    calibrationOpsPerSec: 57e6,
    cells: gridSpec(MAPS, WORKLOADS, 570_000).map((cell) =>
      cell.map === 'rwmutex' && cell.workload === 'read-heavy' ? { ...cell, trials: trialsAround(400_000) } : cell,
    ),
  });
  const report = await runGate(baseline, otherMachine, options);
  assert.equal(report.unsteady.first, null);
  assert.equal(report.verdict, 'regression');
  assert.deepEqual(
    report.regressions.map((finding) => finding.label),
    [SLOW_CELL],
  );
});

test('a crash fails the gate even on a busy machine', async () => {
  const busyCrash = buildResults({
    calibrationOpsPerSec: 57e6,
    cells: gridSpec(MAPS, WORKLOADS, 570_000).map((cell) =>
      cell.map === 'sharded' && cell.workload === 'read-heavy' ? { ...cell, error: 'RangeError: boom' } : cell,
    ),
  });
  const report = await runGate(baseline, busyCrash, options);
  assert.equal(report.verdict, 'regression');
  assert.deepEqual(
    report.regressions.map((finding) => finding.kind),
    ['failed'],
  );
});

test('private js-map cells are reported but not gated', async () => {
  const base = buildResults({ cells: [{ map: 'rwmutex' }, { map: 'js-map', private: true }] });
  const head = buildResults({
    cells: [{ map: 'rwmutex' }, { map: 'js-map', private: true, trials: trialsAround(600_000) }],
  });
  const report = await runGate(base, head, options);
  assert.equal(report.verdict, 'pass');
  assert.match(report.notGated[0].reason, /^private \(js-map\)/);
});

test('the smallest detectable drop is small for tight baseline trials and large for spread ones', () => {
  const tight = smallestDetectableDropPct(trialsAround(1e6, 0.02), 0.05);
  assert.ok(tight > 2 && tight < 4, `±2% trials (two of 25 pairs may still overlap at p < 0.05): ${tight}`);
  const spread = smallestDetectableDropPct([2.4e6, 3.2e6, 3.8e6, 7.9e6, 10.5e6], 0.05);
  assert.ok(spread > 60 && spread < 80, `2.4M…10.5M trials: ${spread}`);
  assert.equal(
    smallestDetectableDropPct(trialsAround(1e6, 0.02, 3), 0.05),
    100,
    '3 vs 3 trials can never reach p < 0.05',
  );
});

test('the gate warns about gated cells whose baseline cannot detect a drop of twice the threshold', async () => {
  const spreadBase = gridWith(SLOW_CELL, [2.4e6, 3.2e6, 3.8e6, 7.9e6, 10.5e6]);
  const report = await runGate(spreadBase, spreadBase, options);
  assert.equal(report.verdict, 'pass');
  assert.ok(
    report.warnings.some((warning) =>
      /too spread to detect a 20% drop in 1 gated cell\(s\) \(smallest detectable drop\): rwmutex\/read-heavy\/t=1\/lf=0\.75 \(≥ [67]\d%\)/.test(
        warning,
      ),
    ),
    report.warnings.join('\n'),
  );
});

test('cells using more than half the cores are not gated by default, and are with --max-threads', async () => {
  const base = buildResults({ cores: 2, cells: [{ map: 'rwmutex' }, { map: 'rwmutex', threads: 2 }] });
  const head = buildResults({
    cores: 2,
    cells: [{ map: 'rwmutex' }, { map: 'rwmutex', threads: 2, trials: trialsAround(700_000) }],
  });
  const byDefault = await runGate(base, head, options);
  assert.equal(byDefault.maxThreads, 1);
  assert.equal(byDefault.passed, true);
  assert.match(byDefault.notGated[0].reason, /^2 threads > --max-threads 1 \(half the cores\)/);
  const wider = await runGate(base, head, { ...options, maxThreads: 2 });
  assert.deepEqual(
    wider.regressions.map((finding) => finding.label),
    ['rwmutex/read-heavy/t=2/lf=0.75'],
  );
  const bigMachine = await runGate(
    buildResults({ cores: 8, cells: [{ map: 'rwmutex' }, { map: 'rwmutex', threads: 2 }] }),
    buildResults({
      cores: 8,
      cells: [{ map: 'rwmutex' }, { map: 'rwmutex', threads: 2, trials: trialsAround(700_000) }],
    }),
    options,
  );
  assert.equal(bigMachine.maxThreads, 4);
  assert.equal(bigMachine.passed, false);
});

test("rule 5 reads a results file's cell as it reads a compared one: the gate command picks the cells to measure with it", () => {
  assert.equal(maxThreadsFor(2, 8), 1);
  assert.equal(maxThreadsFor(1, 1), 1);
  assert.equal(maxThreadsFor(16, 8), 4);
  const [single, double] = buildResults({
    cores: 2,
    cells: [{ map: 'rwmutex' }, { map: 'rwmutex', threads: 2 }],
  }).cells;
  assert.equal(whyNotGated(single, 1), null);
  assert.match(whyNotGated(double, 1) ?? '', /^2 threads > --max-threads 1 \(half the cores\)/);
  assert.match(whyNotGated({ ...single, private: true }, 1) ?? '', /^private \(js-map\)/);
  assert.match(whyNotGated({ ...double, oversubscribed: true }, 4) ?? '', /^oversubscribed/);
});

test('a cell that ran in the baseline and fails now fails the gate with its error', async () => {
  const head = buildResults({
    cells: gridSpec(MAPS, WORKLOADS).map((cell) =>
      cell.map === 'sharded' && cell.workload === 'write-heavy' ? { ...cell, error: 'concurrent map writes' } : cell,
    ),
  });
  const report = await runGate(baseline, head, options);
  assert.equal(report.passed, false);
  assert.deepEqual(
    report.regressions.map((finding) => [finding.label, finding.kind, finding.error]),
    [['sharded/write-heavy/t=1/lf=0.75', 'failed', 'concurrent map writes']],
  );
});

test('confirmation re-runs exactly the regressed cells and passes when the regression does not hold', async () => {
  const asked: CellKey[][] = [];
  const remeasure: Remeasure = async (cells) => {
    asked.push(cells);
    return { results: baseline, source: 'rerun' };
  };
  const report = await runGate(
    baseline,
    gridWith(SLOW_CELL, trialsAround(700_000)),
    { ...options, confirm: true },
    remeasure,
  );
  assert.deepEqual(asked, [[{ map: 'rwmutex', workload: 'read-heavy', threads: 1, loadFactor: 0.75 }]]);
  assert.equal(report.confirmRan, true);
  assert.equal(report.passed, true);
  assert.equal(report.findings.length, 1);
  assert.equal(report.findings[0].confirmation?.held, false);
  assert.match(
    renderGateText(report),
    /not confirmed by the re-run \(run-to-run noise\):\n {2}rwmutex\/read-heavy\/t=1\/lf=0\.75: -30\.0% \(p<0\.001\); re-run ±0\.0% \(p=1\.000\)/,
  );
});

test('confirmation fails the gate when the re-run shows the same regression', async () => {
  const slow = gridWith(SLOW_CELL, trialsAround(700_000));
  const remeasure: Remeasure = async () => ({ results: gridWith(SLOW_CELL, trialsAround(720_000)), source: 'rerun' });
  const report = await runGate(baseline, slow, { ...options, confirm: true }, remeasure);
  assert.equal(report.passed, false);
  assert.deepEqual(
    report.regressions.map((finding) => finding.label),
    [SLOW_CELL],
  );
  assert.ok(Math.abs((report.regressions[0].confirmation?.deltaPct ?? 0) + 28) < 1e-9);
});

test('no confirmation run happens when nothing regressed', async () => {
  let calls = 0;
  const report = await runGate(baseline, baseline, { ...options, confirm: true }, async () => {
    calls++;
    return { results: baseline, source: 'rerun' };
  });
  assert.equal(calls, 0);
  assert.equal(report.confirmRan, false);
});

test('a head map matched through an alias is gated against the baseline map', async () => {
  const head = buildResults({
    cells: gridSpec(MAPS, WORKLOADS).map((cell) =>
      cell.map === 'rwmutex' ? { ...cell, map: 'slowed-rwmutex', trials: trialsAround(700_000) } : cell,
    ),
  });
  const report = await runGate(baseline, head, { ...options, mapAliases: { 'slowed-rwmutex': 'rwmutex' } });
  assert.deepEqual(
    report.regressions.map((finding) => finding.label),
    ['rwmutex/read-heavy/t=1/lf=0.75', 'rwmutex/write-heavy/t=1/lf=0.75'],
  );
});

test('files with no cell in common are a usage error, not a pass', async () => {
  const other = buildResults({ cells: gridSpec(['js-map'], ['mixed']) });
  await assert.rejects(
    runGate(baseline, other, options),
    (error: Error) =>
      error instanceof UsageError && /no cell of current\.json matches a cell of baseline\.json/.test(error.message),
  );
});

test('asking for confirmation without a way to re-run is a usage error', async () => {
  await assert.rejects(runGate(baseline, baseline, { ...options, confirm: true }), UsageError);
});
