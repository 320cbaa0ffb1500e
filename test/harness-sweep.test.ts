/**
 * The sweep through the real pool: tiny cells (tens of ms) of js-map and the
 * fault-injecting plugin maps in test/fixtures.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCellStreams } from '../harness/run/cell.js';
import { resolveSweep, type SweepConfig } from '../harness/run/config.js';
import {
  isErrorCell,
  isMeasuredCell,
  parseResults,
  type Cell,
  type Results,
  type ResultsCell,
} from '../harness/results/results.js';
import { prepareSweep, runSweep } from '../harness/run/sweep.js';
import { AUTO_BRACKET, bracketRates } from '../harness/run/rate-plan.js';
import { MIN_PAIRS, placementFilterOf } from '../harness/analysis/relative.js';
import { readingPlacement } from '../harness/run/schedule.js';
import { resolveAffinity } from '../harness/trial/affinity.js';
import { getWorkload } from '../workloads/index.js';

const directory = mkdtempSync(join(tmpdir(), 'maplab-harness-'));
after(() => rmSync(directory, { recursive: true, force: true }));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));
let files = 0;

/** Runs a sweep with tiny cells; flags as commander would pass them. */
async function sweep(flags: Record<string, unknown>): Promise<Results> {
  const out = join(directory, `sweep-${files++}.json`);
  const prepared = await prepareSweep(
    await resolveSweep({
      loadFactors: '0.75',
      durationMs: '40',
      warmupMs: '10',
      trials: '2',
      streamOps: '65536',
      quiet: true,
      out,
      ...flags,
    }),
  );
  const { results, interrupted } = await runSweep(prepared);
  assert.equal(interrupted, false);
  const onDisk = parseResults(JSON.parse(readFileSync(out, 'utf8')), out);
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(results)), 'the file holds what the sweep returned');
  return onDisk;
}

/** A cell that must have numbers; fails with the cell's own error otherwise. */
function assertMeasured(cell: ResultsCell): asserts cell is Cell {
  const detail = isErrorCell(cell) ? cell.errorDetail : undefined;
  assert.equal(
    cell.error,
    undefined,
    `${cell.map} ${cell.workload} t=${cell.threads}: ${cell.error} ${String(detail ?? '')}`,
  );
}

const find = (results: Results, match: Partial<Cell>): ResultsCell => {
  const cell = results.cells.find((candidate) =>
    Object.entries(match).every(([key, value]) => Reflect.get(candidate, key) === value),
  );
  assert.ok(cell, `a cell matching ${JSON.stringify(match)}`);
  return cell;
};

const findMeasured = (results: Results, match: Partial<Cell>): Cell => {
  const cell = find(results, match);
  assertMeasured(cell);
  return cell;
};

test('a tiny sweep writes a valid results file: env, resolved config, calibration and every planned cell with numbers', async () => {
  const results = await sweep({ maps: 'js-map', workloads: 'read-heavy,write-heavy', threads: '1,2' });
  assert.equal(results.cells.length, 4);
  assert.equal(results.incomplete, undefined);
  assert.ok(results.calibration.opsPerSec > 0);
  assert.ok(results.env.cores >= 1 && results.env.node.startsWith('v'));
  // Pinned by default wherever taskset can (affinity.test.ts pins a pool for real).
  assert.equal(results.env.affinity?.pinned, resolveAffinity(true).pinned, JSON.stringify(results.env.affinity));
  const config = results.config as SweepConfig & { timing: { clockCostNs: number } };
  assert.deepEqual(config.workloads, ['read-heavy', 'write-heavy']);
  assert.deepEqual(config.workloadDefinitions['write-heavy'].mix, getWorkload('write-heavy').mix);
  assert.ok(config.timing.clockCostNs > 0);
  assert.equal(
    results.analysis.knees.length,
    2,
    'the sweep ends with the knee analysis: one entry per (map, workload, loadFactor)',
  );
  for (const knee of results.analysis.knees) {
    assert.equal(knee.kneeThreads, null);
    assert.match(String(knee.note), /not enough points: 2 thread counts/);
  }
  for (const cell of results.cells) {
    assertMeasured(cell);
    assert.equal(cell.private, true, 'js-map cells are labelled private');
    assert.equal(cell.oversubscribed, cell.threads > availableParallelism());
    assert.equal(cell.trials.length, 2);
    assert.ok(
      cell.opsPerSec.median > 0 &&
        cell.opsPerSec.ciLow <= cell.opsPerSec.median &&
        cell.opsPerSec.median <= cell.opsPerSec.ciHigh,
    );
    assert.ok(
      cell.latencyNs.samples > 0 &&
        cell.latencyNs.p50 <= cell.latencyNs.p99 &&
        cell.latencyNs.p99 <= cell.latencyNs.max,
    );
    assert.ok((cell.latencyByOpNs as Record<string, unknown>).get, 'get latencies are kept apart');
    assert.equal((cell.timing as { method: string }).method, 'sampled-ops');
    assert.ok(cell.counters.entries > 0, 'map counters are collected');
  }
});

/** Each trial's window start on the shared timeline, per cell in file order. */
const windowStarts = (results: Results): number[][] =>
  results.cells.map((cell) => {
    assertMeasured(cell);
    return cell.trials.map((trial) => Number(trial.windowStartNs));
  });

test('--interleave runs trial t of every cell before trial t+1 of any, with a calibration round before each pass', async () => {
  const results = await sweep({
    maps: 'js-map,plain',
    workloads: 'read-heavy',
    threads: '1',
    trials: '3',
    interleave: true,
  });
  assert.equal(results.config.interleave, true);
  const [first, second] = windowStarts(results);
  for (let trial = 0; trial + 1 < 3; trial++) {
    assert.ok(
      Math.max(first[trial], second[trial]) < Math.min(first[trial + 1], second[trial + 1]),
      `pass ${trial} ends before pass ${trial + 1} starts: ${first} / ${second}`,
    );
  }
  assert.equal(results.calibration.rounds, 7 + 3, 'seven rounds before the first cell, one per pass');
  for (const cell of results.cells) assertMeasured(cell);
});

test('without --interleave a cell runs all its trials before the next cell starts, with a calibration round before each cell', async () => {
  const results = await sweep({
    maps: 'js-map,plain',
    workloads: 'read-heavy',
    threads: '1',
    trials: '3',
    interleave: 'false',
  });
  assert.equal(results.config.interleave, false);
  const [first, second] = windowStarts(results);
  assert.ok(Math.max(...first) < Math.min(...second), `${first} / ${second}`);
  assert.equal(results.calibration.rounds, 7 + 2);
});

test('closed-loop trials long enough for five 10 ms slices carry a quiet rate; shorter ones do not', async () => {
  // 200 ms gives ~20 slices: a worker descheduled for up to ~150 ms (a busy CI machine) still closes five.
  // (80 ms once closed fewer than five in CI.) 30 ms can never close five slices of ≥ 10 ms.
  const long = await sweep({ maps: 'plain', workloads: 'read-heavy', threads: '1', durationMs: '200' });
  const cell = long.cells[0];
  assertMeasured(cell);
  for (const trial of cell.trials) {
    const quiet = (trial as { quietOpsPerSec?: number }).quietOpsPerSec;
    assert.ok(typeof quiet === 'number' && quiet > 0, `quietOpsPerSec ${quiet}`);
  }
  assert.ok((cell.quietOpsPerSec as { median: number }).median > 0);
  const short = await sweep({ maps: 'plain', workloads: 'read-heavy', threads: '1', durationMs: '30' });
  assertMeasured(short.cells[0]);
  assert.equal(short.cells[0].quietOpsPerSec, undefined);
  assert.ok(short.cells[0].trials.every((trial) => !('quietOpsPerSec' in trial)));
});

test('the ops a worker executes match the configured mix within 1%', async () => {
  const results = await sweep({ maps: 'js-map', mix: 'get=0.6,set=0.3,delete=0.1', threads: '2' });
  assertMeasured(results.cells[0]);
  const opCounts = results.cells[0].opCounts as Record<string, number>;
  const total = Object.values(opCounts).reduce((sum, count) => sum + count, 0);
  assert.ok(total > 10_000, `enough ops to compare (${total})`);
  for (const [op, fraction] of Object.entries({ get: 0.6, set: 0.3, delete: 0.1 })) {
    assert.ok(Math.abs(opCounts[op] / total - fraction) <= 0.01, `${op}: ${opCounts[op] / total} vs ${fraction}`);
  }
});

test('the same seed gives identical op streams; another seed does not', () => {
  const workload = getWorkload('mixed');
  const a = generateCellStreams(workload, { seed: 42, threads: 2, length: 4096 });
  const b = generateCellStreams(workload, { seed: 42, threads: 2, length: 4096 });
  const c = generateCellStreams(workload, { seed: 43, threads: 2, length: 4096 });
  for (const worker of [0, 1]) {
    assert.deepEqual(a[worker].ops, b[worker].ops);
    assert.deepEqual(a[worker].keys, b[worker].keys);
    assert.deepEqual(a[worker].values, b[worker].values);
    assert.notDeepEqual(a[worker].keys, c[worker].keys);
  }
  assert.notDeepEqual(a[0].keys, a[1].keys, 'workers get different streams');
});

test('a map that throws gives an error cell, and the next cell still succeeds', async () => {
  const results = await sweep({
    mapModule: fixture('throwing-map'),
    maps: 'throwing,js-map',
    workloads: 'read-heavy',
    threads: '2',
  });
  assert.equal(find(results, { map: 'throwing' }).error, 'Error: boom from the throwing map');
  assertMeasured(find(results, { map: 'js-map' }));
  assert.ok(findMeasured(results, { map: 'js-map' }).opsPerSec.median > 0);
});

test('a map that deadlocks gives a timeout cell, its pool is rebuilt, and the next cell still succeeds', async () => {
  const results = await sweep({
    mapModule: fixture('hanging-map'),
    maps: 'hanging,js-map',
    workloads: 'read-heavy',
    threads: '2,1',
    cellTimeoutMs: '1500',
  });
  for (const threads of [2, 1])
    assert.match(String(find(results, { map: 'hanging', threads }).error), /^timeout: the cell ran past 1500 ms/);
  for (const threads of [2, 1]) assertMeasured(find(results, { map: 'js-map', threads }));
});

test('a map unsafe for concurrent writes never yields numbers with writers on two threads', async () => {
  const results = await sweep({
    mapModule: fixture('unsafe-map'),
    maps: 'unsafe',
    workloads: 'write-heavy,writes-0',
    threads: '1,2',
  });
  assert.match(String(find(results, { workload: 'write-heavy', threads: 2 }).error), /^concurrent map writes/);
  assert.equal(Reflect.get(find(results, { workload: 'write-heavy', threads: 2 }), 'opsPerSec'), undefined);
  assertMeasured(find(results, { workload: 'write-heavy', threads: 1 }));
  assertMeasured(find(results, { workload: 'writes-0', threads: 2 }));
});

test('the built-in plain map with writers on two threads is recorded as concurrent map writes, never as a number', async () => {
  const results = await sweep({ maps: 'plain', workloads: 'write-heavy', threads: '2' });
  assert.match(String(results.cells[0].error), /^concurrent map (writes|read and map write)/);
  assert.equal(Reflect.get(results.cells[0], 'opsPerSec'), undefined);
});

test('more threads than cores run and are flagged oversubscribed', async () => {
  const threads = availableParallelism() + 1;
  const results = await sweep({ maps: 'js-map', workloads: 'read-heavy', threads: String(threads), trials: '1' });
  assert.equal(results.cells[0].oversubscribed, true);
  assertMeasured(results.cells[0]);
});

test('open loop: every op is timed from its intended start, and a rate the map cannot reach shows as backlog', async () => {
  const results = await sweep({
    maps: 'js-map',
    workloads: 'read-heavy',
    threads: '1',
    rates: '20000,100000000',
    durationMs: '60',
  });
  const paced = findMeasured(results, { rate: 20000 });
  results.cells.forEach(assertMeasured);
  const opCount = (cell: Cell): number =>
    Object.values(cell.opCounts as Record<string, number>).reduce((sum, count) => sum + count, 0);
  assert.equal((paced.timing as { method: string }).method, 'every-op-from-intended-start');
  assert.equal(
    paced.latencyNs.samples,
    opCount(paced) + Number(paced.backlogOps),
    'every op (and every unissued due op) is recorded',
  );
  assert.ok(Number(paced.achievedOpsPerSec) <= 20000 * 1.1, `achieved ${paced.achievedOpsPerSec} ≤ target`);
  const overloaded = findMeasured(results, { rate: 100000000 });
  assert.ok(Number(overloaded.achievedOpsPerSec) < 100000000, 'a worker that cannot keep up is visible');
  assert.ok(Number(overloaded.backlogOps) > 0);
  assert.equal(overloaded.latencyNs.samples, opCount(overloaded) + Number(overloaded.backlogOps));
});

test('sweep --verify records a verification badge per map before measuring: shared safe maps verified, js-map private, plain unsafe', async () => {
  const results = await sweep({
    maps: 'js-map,plain,rwmutex',
    workloads: 'read-heavy',
    threads: '1',
    verify: true,
    verifyHistories: '40',
  });
  const verification = results.verification ?? {};
  assert.deepEqual(Object.keys(verification), ['js-map', 'plain', 'rwmutex']);
  assert.equal(verification['js-map'].status, 'private');
  assert.equal(verification.rwmutex.status, 'verified');
  assert.equal(verification.rwmutex.histories, 40);
  assert.equal(verification.plain.status, 'unsafe');
  assert.deepEqual((results.config as SweepConfig).verify, { histories: 40, threads: 4 });
  assert.equal(results.cells.length, 3, 'the cells still run after verification');
});

test('without --verify a results file carries no verification', async () => {
  const results = await sweep({ maps: 'js-map', workloads: 'read-heavy', threads: '1' });
  assert.equal(results.verification, undefined);
  assert.equal((results.config as SweepConfig).verify, null);
});

test("an interleaved sweep measures each round's maps side by side over two pool generations, with sentinel and placement readings per trial", async () => {
  // --remeasure 0: no visit is measured again, so the order below is exactly the plan's.
  const results = await sweep({
    maps: 'rwmutex,readdirty',
    workloads: 'read-heavy',
    threads: '1,2',
    trials: '4',
    interleave: true,
    remeasure: '0',
  });
  for (const cell of results.cells) {
    assertMeasured(cell);
    const trials = cell.trials;
    assert.deepEqual(trials.map((trial) => trial.round).sort(), [0, 1, 2, 3], 'one kept trial per round');
    assert.deepEqual(
      [...new Set(trials.map((trial) => trial.poolGeneration))].sort(),
      [0, 1],
      'trials from two sets of pools',
    );
    assert.ok(
      trials.every((trial) => (trial.sentinelOpsPerSec ?? 0) > 0),
      "each trial carries its visit's sentinel reading",
    );
    assert.ok(
      trials.every((trial) => Number.isFinite(trial.handoffNs) && (trial.handoffNs ?? 0) > 0),
      "each trial carries its visit's cache-line handoff reading",
    );
  }
  // The two maps of a group run one after the other within a round: round r of both ends before round r+1 of either starts.
  const group = results.cells.filter(isMeasuredCell).filter((cell) => cell.threads === 1);
  const startOf = (cell: Cell, round: number): number =>
    Number(cell.trials.find((trial) => trial.round === round)?.windowStartNs);
  for (let round = 0; round < 3; round++) {
    assert.ok(
      Math.max(...group.map((cell) => startOf(cell, round))) <
        Math.min(...group.map((cell) => startOf(cell, round + 1))),
    );
  }
  const drift = (
    results.sweep as {
      drift: {
        visits: number;
        poolGenerations: number;
        sentinel: { readings: number };
        placement: {
          readings: number;
          retriedReadings: number;
          usualHandoffNs: number;
          minHandoffNs: number;
          maxHandoffNs: number;
        };
      };
    }
  ).drift;
  assert.equal(drift.poolGenerations, 2);
  assert.ok(drift.visits >= 8 && drift.sentinel.readings === drift.visits, JSON.stringify(drift));
  // Every visit has a reading before it and is closed by the next one; 2-thread visits (half) also have one per trial.
  assert.equal(drift.placement.readings, 2 * drift.visits + (drift.visits / 2) * 2, JSON.stringify(drift));
  assert.ok(Number.isInteger(drift.placement.retriedReadings) && drift.placement.retriedReadings >= 0);
  // Pinned: each round starts with a sentinel reading on every CPU, and the fastest runs its 1-thread trials.
  const oneThreadCpu = (
    results.sweep as {
      drift: {
        oneThreadCpu: {
          chosenCounts: Record<string, number>;
          rounds: Array<{ sentinelOpsPerSec: number[]; chosen: number }>;
        } | null;
      };
    }
  ).drift.oneThreadCpu;
  const affinity = results.env.affinity;
  if (affinity?.pinned === true) {
    assert.ok(oneThreadCpu !== null);
    assert.equal(oneThreadCpu.rounds.length, 4, 'one choice per round');
    for (const { sentinelOpsPerSec, chosen } of oneThreadCpu.rounds) {
      assert.equal(sentinelOpsPerSec.length, affinity.cpus.length);
      assert.equal(chosen, affinity.cpus[sentinelOpsPerSec.indexOf(Math.max(...sentinelOpsPerSec))]);
    }
    assert.equal(
      Object.values(oneThreadCpu.chosenCounts).reduce((sum, rounds) => sum + rounds, 0),
      4,
    );
  } else {
    assert.equal(oneThreadCpu, null, 'nothing to choose when not pinned');
  }
  assert.ok(
    drift.placement.minHandoffNs <= drift.placement.usualHandoffNs &&
      drift.placement.usualHandoffNs <= drift.placement.maxHandoffNs,
    JSON.stringify(drift.placement),
  );
  const relative = results.analysis.relative ?? [];
  // At 2 threads a round whose trials' handoff reading lies in the run's other placement is left out of the pairs
  // (relative.ts), which the machine decides (other test files run beside this one): count those rounds.
  const filter = placementFilterOf(results.cells);
  const twoThread = results.cells.filter(isMeasuredCell).filter((cell) => cell.threads === 2);
  const offRounds = new Set(
    twoThread.flatMap((cell) =>
      cell.trials
        .filter(
          (trial) =>
            filter !== null &&
            typeof trial.handoffNs === 'number' &&
            readingPlacement(trial.handoffNs, filter.placement, filter) === 'other',
        )
        .map((trial) => trial.round),
    ),
  );
  assert.deepEqual(
    relative.map((answer) => [answer.map, answer.reference, answer.threads, answer.pairs]),
    [
      ['readdirty', 'rwmutex', 1, 4],
      ['readdirty', 'rwmutex', 2, 4 - offRounds.size >= MIN_PAIRS ? 4 - offRounds.size : 4],
    ],
  );
  assert.equal((results.analysis.winners ?? []).length, 2, 'a winner or tie per comparison group');
});

test('--rates auto interleaved: capacities first, then each step of every series visited side by side, rounds round-robin', async () => {
  // --remeasure 0: no visit is measured again, so the order below is exactly the plan's.
  const results = await sweep({
    maps: 'js-map,plain',
    workloads: 'read-heavy',
    threads: '1',
    rates: 'auto',
    interleave: true,
    remeasure: '0',
    sentinel: 'false', // visits without sentinel readings: the test is about their order, and runs in half the time
  });
  results.cells.forEach(assertMeasured);
  const measured = results.cells.filter(isMeasuredCell);
  const capacities = measured.filter((cell) => cell.rate == null);
  const open = measured.filter((cell) => typeof cell.rate === 'number');
  assert.deepEqual(capacities.map((cell) => cell.map).sort(), ['js-map', 'plain']);
  for (const capacity of capacities) {
    const series = open.filter((cell) => cell.map === capacity.map).map((cell) => cell.rate as number);
    for (const rate of bracketRates(capacity.opsPerSec.median, 1))
      assert.ok(series.includes(rate), `${capacity.map}: the bracket rate ${rate} ran`);
  }
  const starts = (cells: Cell[], round?: number): number[] =>
    cells.flatMap((cell) =>
      cell.trials
        .filter((trial) => round === undefined || trial.round === round)
        .map((trial) => Number(trial.windowStartNs)),
    );
  assert.ok(Math.max(...starts(capacities)) < Math.min(...starts(open)), 'every capacity cell ran before any series');
  const bracket = open.filter((cell) =>
    bracketRates((capacities.find((c) => c.map === cell.map) as Cell).opsPerSec.median, 1).includes(
      cell.rate as number,
    ),
  );
  assert.ok(
    Math.max(...starts(bracket, 0)) < Math.min(...starts(bracket, 1)),
    "round 0 of every bracket cell before round 1 of any: a series' rates share the run's time",
  );
  // A visit holds the maps at the same step of their series: in time order, the two maps' trials at step i are adjacent.
  const byStart = bracket
    .flatMap((cell) =>
      cell.trials.map((trial) => ({
        start: Number(trial.windowStartNs),
        map: cell.map,
        step: bracketRates((capacities.find((c) => c.map === cell.map) as Cell).opsPerSec.median, 1).indexOf(
          cell.rate as number,
        ),
      })),
    )
    .sort((a, b) => a.start - b.start);
  for (let i = 0; i < byStart.length; i += 2) {
    assert.equal(byStart[i].step, byStart[i + 1].step, `trials ${i} and ${i + 1} are one visit`);
    assert.notEqual(byStart[i].map, byStart[i + 1].map);
  }
  const drift = (results.sweep as { drift: { visits: number } }).drift;
  const groups = 1 + AUTO_BRACKET.length + new Set(open.length > bracket.length ? [1, 2, 3] : []).size;
  assert.ok(drift.visits >= 2 * (1 + AUTO_BRACKET.length) && drift.visits <= 2 * groups, JSON.stringify(drift));
});

test('--sentinel false measures neither sentinel and records none', async () => {
  const results = await sweep({
    maps: 'plain',
    workloads: 'read-heavy',
    threads: '1',
    trials: '2',
    interleave: true,
    sentinel: 'false',
  });
  assertMeasured(results.cells[0]);
  assert.ok(results.cells[0].trials.every((trial) => !('sentinelOpsPerSec' in trial) && !('handoffNs' in trial)));
  const drift = (results.sweep as { drift: { sentinel: unknown; placement: unknown } }).drift;
  assert.equal(drift.sentinel, null);
  assert.equal(drift.placement, null);
});

test('sweeps pin by default, the ci preset does not (its baseline comes from other hosts), and --pin overrides both', async () => {
  const pin = async (flags: Record<string, unknown>): Promise<boolean | undefined> =>
    (await resolveSweep({ quiet: true, ...flags })).config.pin;
  assert.equal(await pin({ preset: 'quick' }), true);
  assert.equal(await pin({ preset: 'full' }), true);
  assert.equal(await pin({ preset: 'ci' }), false);
  assert.equal(await pin({ preset: 'ci', pin: 'true' }), true);
  assert.equal(await pin({ preset: 'quick', pin: 'false' }), false);
});

test('--pin false leaves every thread where the scheduler puts it, and the results say so', async () => {
  const results = await sweep({ maps: 'plain', workloads: 'read-heavy', threads: '1', trials: '1', pin: 'false' });
  assertMeasured(results.cells[0]);
  assert.equal(results.env.affinity?.pinned, false);
  assert.match(results.env.affinity?.reason ?? '', /--pin false/);
  assert.equal((results.config as SweepConfig).pin, false);
});

test('--node current measures the cells in a trial-server child process and records the runtime per cell', async () => {
  const results = await sweep({
    maps: 'rwmutex,readdirty',
    workloads: 'read-heavy',
    threads: '1',
    trials: '3',
    interleave: true,
    node: 'current',
  });
  const runtimes = results.config.runtimes as Array<{ node: string; execPath: string }>;
  assert.equal(runtimes.length, 1);
  assert.equal(runtimes[0].node, process.version);
  for (const cell of results.cells) {
    assertMeasured(cell);
    assert.deepEqual(cell.runtime, { node: process.version, v8: process.versions.v8 });
    assert.equal(cell.trials.length, 3);
  }
  assert.equal((results.analysis.relative ?? []).length, 1, 'maps are still compared within the runtime');
});

test('--node rejects a missing binary and two specs of the same Node version, before anything runs', async () => {
  await assert.rejects(
    resolveSweep({ maps: 'plain', node: '/no/such/node', quiet: true }),
    /--node \/no\/such\/node: no such file/,
  );
  await assert.rejects(
    resolveSweep({ maps: 'plain', node: `current,${process.execPath}`, quiet: true }),
    /are both Node/,
  );
  await assert.rejects(
    resolveSweep({ maps: 'plain', node: 'current', interleave: 'false', quiet: true }),
    /--node needs interleaved trials/,
  );
});
