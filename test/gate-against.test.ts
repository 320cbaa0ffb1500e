/**
 * `maplab gate --against`: the baseline code measured beside the code under
 * test (harness/gate/against.ts), its maps loaded as <map>@base
 * (harness/run/map-source.ts), trials compared pair by pair (compare.ts test
 * 'paired', sign-test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planAgainst, ROUND_STRIDE, splitAgainst } from '../harness/gate/against.js';
import { compareResults } from '../harness/gate/compare.js';
import { runGate } from '../harness/gate/gate.js';
import { minimumSignTestP, signTest } from '../harness/gate/sign-test.js';
import { sweepArguments } from '../harness/gate/sweep-process.js';
import { baseMapOf, loadBaseMaps, loadMapFactory } from '../harness/run/map-source.js';
import { UsageError } from '../harness/run/options.js';
import { readResultsFile, type Cell, type Results } from '../harness/results/results.js';
import { buildCell, buildResults, tempDirectory } from './fixtures/gate-results.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
/** This maplab tree (the test runs from dist/test/): a built tree is what --against takes. */
const TREE = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

function maplab(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A cell whose trial r was measured in round r, with these quiet rates. */
function roundCell(map: string, rates: number[], rounds = rates.map((_, round) => round)): Cell {
  const cell = buildCell({ map, trials: rates, quietTrials: rates }) as Cell;
  return { ...cell, trials: cell.trials.map((trial, index) => ({ ...trial, round: rounds[index] })) };
}

/** A machine whose level moves by up to 40% from round to round (the drift of EVIDENCE.md). */
const LEVELS = [1.0, 0.6, 1.0, 0.62, 0.9, 0.7, 1.0, 0.65, 0.95, 0.6].map((level) => level * 1_000_000);

test('the sign test: all of 10 pairs slower gives p = 2/1024, ties are dropped, 5 pairs can never reach p < 0.05', () => {
  const base = [10, 10, 10, 10, 10, 10, 10, 10, 10, 10];
  const slower = signTest(
    base.map((value) => value * 0.9),
    base,
  );
  assert.equal(slower.slower, 10);
  assert.ok(Math.abs(slower.p - 2 / 1024) < 1e-12, String(slower.p));
  const withTie = signTest([9, 9, 10], [10, 10, 10]);
  assert.deepEqual([withTie.slower, withTie.faster], [2, 0]);
  assert.equal(signTest([11, 9], [10, 10]).p, 1);
  assert.ok(minimumSignTestP(5) > 0.05 && minimumSignTestP(6) < 0.05);
});

/** compareResults options of the paired test, on quiet rates, without normalisation. */
const PAIRED = {
  alpha: 0.05,
  normalize: false,
  metric: 'quiet',
  test: 'paired',
  baseSource: 'b',
  headSource: 'h',
} as const;

test('paired: a 15% slower head is found through round-to-round drift of 40%, which the unpaired test cannot see past', () => {
  const base = buildResults({ cells: [] });
  const baseCells = { ...base, cells: [roundCell('rwmutex', LEVELS)] };
  const headCells = {
    ...base,
    cells: [
      roundCell(
        'rwmutex',
        LEVELS.map((level) => level * 0.85),
      ),
    ],
  };
  const paired = compareResults(baseCells, headCells, PAIRED).cells[0].opsPerSec;
  assert.equal(paired.pairs, 10);
  assert.ok(Math.abs(paired.deltaPct + 15) < 1e-9, String(paired.deltaPct));
  assert.ok(paired.significant && paired.p < 0.01, String(paired.p));
  const unpaired = compareResults(baseCells, headCells, { ...PAIRED, test: 'mann-whitney' }).cells[0].opsPerSec;
  assert.equal(unpaired.significant, false, `Mann–Whitney p ${unpaired.p}`);
});

test('paired: unchanged code under the same drift is not significant, and only trials of a shared round pair', () => {
  const jitter = LEVELS.map((level, round) => level * (round % 2 === 0 ? 1.01 : 0.99));
  const results = buildResults({ cells: [] });
  const base = { ...results, cells: [roundCell('rwmutex', LEVELS)] };
  const head = { ...results, cells: [roundCell('rwmutex', jitter)] };
  const same = compareResults(base, head, PAIRED).cells[0].opsPerSec;
  assert.equal(same.significant, false);
  const shifted = {
    ...results,
    cells: [
      roundCell(
        'rwmutex',
        jitter,
        jitter.map((_, round) => round + 7),
      ),
    ],
  };
  const partly = compareResults(base, shifted, PAIRED).cells[0].opsPerSec;
  assert.equal(partly.pairs, 3, 'rounds 7, 8 and 9 are the only ones both sides have');
});

test('one sweep splits into the code under test and its baseline, <map>@base named <map>, rounds renumbered per sweep', () => {
  const results: Results = {
    ...buildResults({ cells: [] }),
    cells: [
      roundCell('rwmutex', [1, 2]),
      roundCell('rwmutex@base', [3, 4]),
      buildCell({ map: 'clht@base', error: 'x' }),
    ],
  };
  const { head, base } = splitAgainst(results, 2);
  assert.deepEqual(
    head.cells.map((cell) => cell.map),
    ['rwmutex'],
  );
  assert.deepEqual(
    base.cells.map((cell) => cell.map),
    ['rwmutex', 'clht'],
  );
  assert.deepEqual(
    (base.cells[0] as Cell).trials.map((trial) => trial.round),
    [2 * ROUND_STRIDE, 2 * ROUND_STRIDE + 1],
  );
  assert.deepEqual(
    (head.cells[0] as Cell).trials.map((trial) => trial.round),
    [2 * ROUND_STRIDE, 2 * ROUND_STRIDE + 1],
  );
});

test('the plan gates shared maps the baseline has (through --map-alias), at the gated thread counts only', () => {
  const plan = planAgainst(
    {
      maps: ['js-map', 'slowed-rwmutex', 'clht', 'mine'],
      workloads: ['read-heavy', 'write-heavy'],
      threads: [1, 2, 4],
      loadFactors: [0.75],
      loadFactorsByWorkload: { 'write-heavy': [0.5, 0.9] },
    },
    {
      shared: (name) => name !== 'js-map',
      baseMaps: ['js-map', 'rwmutex', 'clht'],
      mapAliases: { 'slowed-rwmutex': 'rwmutex' },
      maxThreads: 1,
      cores: 2,
    },
  );
  assert.deepEqual(plan.skipped, ['js-map: private, not gated', "mine: the baseline code has no 'mine'"]);
  assert.deepEqual(
    plan.cells.map((cell) => `${cell.map}/${cell.workload}/t${cell.threads}/${cell.loadFactor}`),
    [
      'rwmutex/read-heavy/t1/0.75',
      'clht/read-heavy/t1/0.75',
      'rwmutex/write-heavy/t1/0.5',
      'rwmutex/write-heavy/t1/0.9',
      'clht/write-heavy/t1/0.5',
      'clht/write-heavy/t1/0.9',
    ],
  );
});

test('the sweep the gate runs names each head map and its baseline copy, passes --against as an absolute path and pins', () => {
  const args = sweepArguments(
    {
      cliPath: CLI,
      preset: 'ci',
      cells: [
        { map: 'rwmutex', workload: 'read-heavy', threads: 1, loadFactor: 0.75 },
        { map: 'clht', workload: 'read-heavy', threads: 1, loadFactor: 0.75 },
      ],
      mapAliases: { 'slowed-rwmutex': 'rwmutex' },
      against: 'base-tree',
      timeoutMs: 1000,
    },
    '/tmp/out.json',
  );
  assert.equal(args[args.indexOf('--maps') + 1], 'slowed-rwmutex,rwmutex@base,clht,clht@base');
  const against = args[args.indexOf('--against') + 1];
  assert.ok(against.startsWith('/') && against.endsWith('base-tree'), against);
  assert.equal(args[args.indexOf('--pin') + 1], 'true', 'both copies of a cell run on the round’s vCPU');
});

/** runGate options of `maplab gate --against` at 10%, confirmation on, one-thread cells gated. */
const PAIRED_GATE = {
  alpha: 0.05,
  thresholdPct: 10,
  metric: 'quiet',
  test: 'paired',
  normalize: false,
  confirm: true,
  calibrationTolerancePct: 25,
  maxThreads: 1,
  baselineSource: 'base',
  currentSource: 'head',
} as const;

test('a paired gate fails a confirmed regression against the re-run of both sides, and passes when the re-run clears it', async () => {
  const slow = (factor: number) => ({
    ...buildResults({ cells: [] }),
    cells: [
      roundCell(
        'rwmutex',
        LEVELS.map((level) => level * factor),
      ),
    ],
  });
  const base = slow(1);
  const held = await runGate(base, slow(0.85), PAIRED_GATE, async () => ({
    results: slow(0.8),
    baseline: slow(0.95),
    source: 'rerun',
  }));
  assert.equal(held.verdict, 'regression');
  assert.ok(Math.abs((held.findings[0].confirmation?.deltaPct ?? 0) - (0.8 / 0.95 - 1) * 100) < 1e-9);
  const cleared = await runGate(base, slow(0.85), PAIRED_GATE, async () => ({
    results: slow(0.95),
    baseline: slow(0.95),
    source: 'rerun',
  }));
  assert.equal(cleared.verdict, 'pass');
  assert.equal(cleared.findings[0].outcome, 'dismissed');
});

test('a paired cell beyond the threshold is re-run even when its first sign test missed alpha, and both runs decide pooled', async () => {
  const results = (factors: (round: number) => number) => ({
    ...buildResults({ cells: [] }),
    cells: [
      roundCell(
        'rwmutex',
        LEVELS.map((level, round) => level * factors(round)),
      ),
    ],
  });
  const base = results(() => 1);
  // 15% slower, but 2 of 10 pairs measured head in a fast spell and base in a slow one: 8 of 10 is p 0.11.
  const flipped = results((round) => (round === 2 || round === 5 ? 1.05 : 0.85));
  const first = compareResults(base, flipped, PAIRED).cells[0].opsPerSec;
  assert.equal(first.significant, false, `first p ${first.p}`);
  assert.deepEqual(first.pairSigns, { slower: 8, faster: 2 });
  const held = await runGate(base, flipped, PAIRED_GATE, async () => ({
    results: results((round) => (round === 7 ? 1.02 : 0.84)),
    baseline: base,
    source: 'rerun',
  }));
  assert.equal(held.verdict, 'regression');
  assert.match(held.findings[0].confirmation?.note ?? '', /both runs pooled: 17 of 20 pairs slower, p 0\.0026/);
  const cleared = await runGate(base, flipped, PAIRED_GATE, async () => ({
    results: results(() => 0.97),
    baseline: base,
    source: 'rerun',
  }));
  assert.equal(cleared.verdict, 'pass');
  assert.equal(cleared.findings[0].outcome, 'dismissed', 'the re-run is 3% slower: inside the threshold');
  const noConfirm = await runGate(base, flipped, { ...PAIRED_GATE, confirm: false });
  assert.equal(noConfirm.verdict, 'pass', 'without a re-run only a significant first run can fail');
  assert.equal(noConfirm.findings.length, 0);
  let reruns = 0;
  const unchanged = await runGate(
    base,
    results((round) => (round % 2 === 0 ? 0.96 : 0.94)),
    PAIRED_GATE,
    async () => {
      reruns++;
      return { results: base, baseline: base, source: 'rerun' };
    },
  );
  assert.equal(unchanged.verdict, 'pass');
  assert.equal(reruns, 0, 'a cell 5% slower is no candidate: nothing is re-run');
});

test('baseline maps load from a built tree as <map>@base, run as their own code, and a bad path is a usage error', async () => {
  const directory = tempDirectory();
  const tree = join(directory, 'tree');
  mkdirSync(join(tree, 'dist'), { recursive: true });
  cpSync(join(TREE, 'dist', 'maps'), join(tree, 'dist', 'maps'), { recursive: true });
  const maps = await loadBaseMaps(tree);
  assert.ok(maps.some((base) => base.source.name === 'rwmutex@base' && base.source.entry === 'rwmutex'));
  assert.equal(baseMapOf('rwmutex@base'), 'rwmutex');
  assert.equal(baseMapOf('rwmutex'), null);
  const rwmutex = maps.find((base) => base.source.name === 'rwmutex@base');
  assert.ok(rwmutex);
  const factory = await loadMapFactory(rwmutex.source);
  assert.equal(factory.name, 'rwmutex@base');
  const map = factory.attach(factory.create({ capacity: 64 }));
  map.set(5, 6);
  assert.equal(map.get(5), 6);
  await assert.rejects(loadBaseMaps(directory), (error: Error) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /--against: .* is a directory without dist\/maps\/index\.js/);
    return true;
  });
  await assert.rejects(loadBaseMaps(join(directory, 'nothing')), /--against: no such file or directory/);
  const plain = join(directory, 'plain.mjs');
  writeFileSync(plain, 'export const answer = 42;\n');
  await assert.rejects(loadBaseMaps(plain), /exports neither mapFactories .* nor a default MapFactory/);
});

test('sweep --against measures <map>@base beside each map, interleaved, and the gate refuses flags that do not fit', () => {
  const directory = tempDirectory();
  const out = join(directory, 'ab.json');
  const sweep = maplab([
    'sweep',
    '--against',
    TREE,
    '--maps',
    'rwmutex',
    '--workloads',
    'read-heavy',
    '--threads',
    '1',
    '--load-factors',
    '0.5',
    '--trials',
    '3',
    '--duration-ms',
    '30',
    '--warmup-ms',
    '10',
    '--keys',
    '1024',
    '--out',
    out,
    '--quiet',
  ]);
  assert.equal(sweep.code, 0, sweep.stderr);
  const results = readResultsFile(out);
  assert.deepEqual(
    results.cells.map((cell) => cell.map),
    ['rwmutex', 'rwmutex@base'],
  );
  const rounds = (map: string) =>
    (results.cells.find((cell) => cell.map === map) as Cell).trials.map((trial) => trial.round);
  assert.deepEqual(rounds('rwmutex'), rounds('rwmutex@base'));
  assert.equal(results.config.against, TREE);

  const report = join(directory, 'verdict.json');
  const withBaseline = maplab([
    'gate',
    '--against',
    TREE,
    '--baseline',
    out,
    '--preset',
    'ci',
    '--verdict-out',
    report,
  ]);
  assert.equal(withBaseline.code, 2);
  assert.match(withBaseline.stderr, /--against measures the baseline now, beside the code under test: drop --baseline/);
  const unpaired = maplab(['gate', '--against', TREE, '--preset', 'ci', '--test', 'bootstrap']);
  assert.equal(unpaired.code, 2);
  assert.match(unpaired.stderr, /--test must be paired, got bootstrap/);
  const pairedAlone = maplab(['gate', '--baseline', out, '--current', out, '--test', 'paired']);
  assert.equal(pairedAlone.code, 2);
  assert.match(pairedAlone.stderr, /--test paired pairs trials measured side by side in one sweep: it needs --against/);
  const missing = maplab(['sweep', '--against', join(directory, 'no-such-tree'), '--out', join(directory, 'x.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--against: no such file or directory/);
  assert.equal(existsSync(join(directory, 'x.json')), false);
  assert.equal(existsSync(report), false);
});
