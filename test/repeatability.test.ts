/** `maplab repeatability`: the figures that say whether two runs agree (harness/results/repeatability.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderRepeatability, repeatability } from '../harness/results/repeatability.js';
import { RESULTS_SCHEMA, type Cell, type Results } from '../harness/results/results.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));

/** One run: maps at the given relative speeds, 6 rounds under a drift `level(r)`, at `threads` on 2 cores. */
function run(speeds: Record<string, number>, level: (round: number) => number, threads = 2): Results {
  const cells: Cell[] = Object.entries(speeds).map(([map, speed]) => {
    const rates = Array.from(
      { length: 6 },
      (_, round) => speed * 1e7 * level(round) * (1 + 0.004 * ((round * 7 + map.length) % 3)),
    );
    const sorted = [...rates].sort((a, b) => a - b);
    return {
      map,
      workload: 'read-heavy',
      threads,
      loadFactor: 0.75,
      oversubscribed: threads > 2,
      trials: rates.map((rate, round) => ({ ops: rate, elapsedNs: 1e9, opsPerSec: rate, quietOpsPerSec: rate, round })),
      opsPerSec: { median: (sorted[2] + sorted[3]) / 2, ciLow: sorted[0], ciHigh: sorted[5] },
      latencyNs: {
        p50: 1,
        p90: 1,
        p99: 1,
        p999: 1,
        max: 1,
        samples: 1,
        histogram: { unit: 'ns', relativeError: 0.01, buckets: [] },
      },
      counters: {},
    };
  });
  return {
    schema: RESULTS_SCHEMA,
    env: { node: 'v20', v8: '11', os: 'linux', cpuModel: 'x', cores: 2, memoryBytes: 1 },
    config: {},
    calibration: { opsPerSec: 1 },
    cells,
    analysis: { knees: [] },
  };
}

test("two runs at different machine levels agree on ratios and winners when the maps' relative speeds are the same", () => {
  const speeds = { rwmutex: 1, sharded: 1.5, readdirty: 2.5 };
  const report = repeatability(
    run(speeds, () => 1),
    run(speeds, (round) => 0.6 + 0.1 * round),
  );
  assert.equal(report.cells.compared, 3);
  assert.ok((report.cells.medianPct as number) > 10, 'the cells themselves moved with the machine');
  assert.ok(
    (report.pairedRatios.medianPct as number) < 1,
    `paired ratios stayed put: ${report.pairedRatios.medianPct}%`,
  );
  assert.equal(report.verdicts.opposite, 0);
  assert.equal(report.winners.differ, 0);
  assert.equal(report.winners.bothNamed, 1);
});

test('a map that changed places is counted as opposite verdicts and a disagreeing winner', () => {
  const report = repeatability(
    run({ rwmutex: 1, readdirty: 2 }, () => 1),
    run({ rwmutex: 1, readdirty: 0.5 }, () => 1),
  );
  assert.equal(report.verdicts.opposite, 1);
  assert.equal(report.verdicts.againstPointEstimate, 1);
  assert.equal(report.winners.differ, 1);
  assert.equal(Math.round(report.pairedRatios.medianPct as number), 300, '2× → 0.5× is a 4-fold move');
});

test('runs whose vCPUs sat differently (usual handoff over 1.5x apart) are reported as different placements', () => {
  const placed = (usualHandoffNs: number | null): Results => {
    const base = run({ rwmutex: 1, readdirty: 2 }, () => 1);
    if (usualHandoffNs === null) return base;
    const cells = base.cells.map((cell) =>
      'trials' in cell
        ? { ...cell, trials: cell.trials.map((trial) => ({ ...trial, handoffNs: usualHandoffNs })) }
        : cell,
    );
    return { ...base, cells };
  };
  assert.deepEqual(repeatability(placed(240), placed(62)).placement, { first: 240, second: 62, differ: true });
  assert.deepEqual(repeatability(placed(240), placed(200)).placement, { first: 240, second: 200, differ: false });
  assert.deepEqual(repeatability(placed(240), placed(null)).placement, { first: 240, second: null, differ: false });
  const text = renderRepeatability(repeatability(placed(240), placed(62)), ['a.json', 'b.json']);
  assert.match(text, /vCPU placement: usual cache-line handoff 240 ns vs 62 ns: the runs' vCPUs sat differently/);
  assert.match(
    renderRepeatability(repeatability(placed(240), placed(230)), ['a', 'b']),
    /230 ns \(the same placement\)/,
  );
});

test('paired-ratio changes are split by thread count, with oversubscribed counts marked', () => {
  const both = (first: Results, second: Results): Results => ({ ...first, cells: [...first.cells, ...second.cells] });
  const report = repeatability(
    both(
      run({ rwmutex: 1, readdirty: 2 }, () => 1, 1),
      run({ rwmutex: 1, readdirty: 2 }, () => 1, 4),
    ),
    both(
      run({ rwmutex: 1, readdirty: 2 }, () => 0.8, 1),
      run({ rwmutex: 1, readdirty: 1.5 }, () => 1, 4),
    ),
  );
  assert.deepEqual(
    report.byThreads.map(({ threads, oversubscribed, compared }) => ({ threads, oversubscribed, compared })),
    [
      { threads: 1, oversubscribed: false, compared: 1 },
      { threads: 4, oversubscribed: true, compared: 1 },
    ],
  );
  assert.equal(report.byThreads[0].medianPct, 0, 'the 1-thread ratio did not move');
  assert.equal(Math.round(report.byThreads[1].medianPct as number), 33, '2× → 1.5× at 4 threads');
  assert.match(
    renderRepeatability(report, ['a', 'b']),
    /by threads, median \/ p90 \(pairs\): 1t 0% \/ 0% \(1\); 4t \(oversubscribed\) 33\.3% \/ 33\.3% \(1\)/,
  );
});

test("each run's slow spells come from its drift record: the sentinel's low point and the visits kept disturbed", () => {
  const withDrift = (minOpsPerSec: number, kept: number): Results => ({
    ...run({ rwmutex: 1, readdirty: 2 }, () => 1),
    sweep: {
      drift: {
        visits: 90,
        sentinel: { referenceOpsPerSec: 37_000_000, minOpsPerSec },
        disturbedVisitsKept: kept,
        remeasuredVisits: 14,
      },
    },
  });
  const report = repeatability(withDrift(26_000_000, 46), withDrift(35_000_000, 0));
  assert.deepEqual(report.drift.first, {
    sentinelLowest: 0.7,
    remeasuredVisits: 14,
    disturbedVisitsKept: 46,
    visits: 90,
  });
  assert.equal(report.drift.second?.sentinelLowest, 0.95);
  assert.match(
    renderRepeatability(report, ['a', 'b']),
    /slow spells: run 1 sentinel down to 0\.7× its best, 14 of 90 visits re-measured, 46 disturbed kept; run 2 sentinel down to 0\.95×/,
  );
  const plain = repeatability(
    run({ rwmutex: 1, readdirty: 2 }, () => 1),
    withDrift(26_000_000, 46),
  );
  assert.equal(plain.drift.first, null, 'a file without a drift record has no figures');
  assert.doesNotMatch(renderRepeatability(plain, ['a', 'b']), /slow spells/);
});

test('maplab repeatability prints the figures, and exits 2 naming a missing file', () => {
  const directory = mkdtempSync(join(tmpdir(), 'maplab-repeat-'));
  try {
    const first = join(directory, 'a.json');
    const second = join(directory, 'b.json');
    writeFileSync(first, JSON.stringify(run({ rwmutex: 1, readdirty: 2 }, () => 1)));
    writeFileSync(second, JSON.stringify(run({ rwmutex: 1, readdirty: 2 }, () => 0.7)));
    const ok = spawnSync(process.execPath, [CLI, 'repeatability', first, second], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /paired ratio change median 0%/);
    assert.match(ok.stdout, /opposite verdicts: 0/);
    const json = spawnSync(process.execPath, [CLI, 'repeatability', first, second, '--json'], { encoding: 'utf8' });
    assert.equal(JSON.parse(json.stdout).winners.groups, 1);
    const missing = spawnSync(process.execPath, [CLI, 'repeatability', first, join(directory, 'none.json')], {
      encoding: 'utf8',
    });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /none\.json: cannot read/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
