/**
 * Sharded sweeps and `maplab merge`: the partition is deterministic, complete
 * and balanced; shards 1/2 + 2/2 merged give the cell set and config of the
 * unsharded sweep; every mismatch exits 2 and writes nothing.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cellKey } from '../harness/run/cell.js';
import { parseShard, planDifferences, resolveSweep, type SweepConfig } from '../harness/run/config.js';
import { readResultsFile, writeResultsFile, type Results } from '../harness/results/results.js';
import { expectedCellMs, partitionCells } from '../harness/run/shard.js';
import { planAllCells, planCells } from '../harness/run/sweep.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'maplab-shard-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const maplab = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
const TINY = [
  '--maps',
  'js-map,rwmutex',
  '--workloads',
  'read-heavy,write-heavy',
  '--threads',
  '1,2',
  '--load-factors',
  '0.75',
  '--duration-ms',
  '30',
  '--warmup-ms',
  '5',
  '--trials',
  '2',
  '--stream-ops',
  '65536',
  '--quiet',
];

test('--shard takes i/n with 1 ≤ i ≤ n and names the flag otherwise', () => {
  assert.deepEqual(parseShard('2/4', '--shard'), { index: 2, count: 4 });
  for (const bad of ['0/2', '3/2', '2', 'a/b', '1/0']) {
    assert.throws(() => parseShard(bad, '--shard'), /--shard must be i\/n with 1 ≤ i ≤ n ≤ 1000 \(e\.g\. 2\/4/);
  }
});

test('the shards of a plan hold every cell exactly once, in plan order, the same on every call', async () => {
  const { config } = await resolveSweep({ preset: 'quick' });
  const plan = planAllCells(config);
  for (const count of [1, 2, 3, 7]) {
    const shards = partitionCells(plan, config, count);
    assert.equal(shards.length, count);
    const keys = shards.flat().map((spec) => cellKey(spec));
    assert.deepEqual([...keys].sort(), plan.map((spec) => cellKey(spec)).sort(), `${count} shards: each cell once`);
    for (const shard of shards) {
      const positions = shard.map((spec) => plan.findIndex((candidate) => cellKey(candidate) === cellKey(spec)));
      assert.deepEqual(
        positions,
        [...positions].sort((a, b) => a - b),
        'a shard runs its cells in plan order',
      );
    }
    assert.deepEqual(
      partitionCells([...plan].reverse(), config, count).map((shard) => shard.map((spec) => cellKey(spec)).sort()),
      shards.map((shard) => shard.map((spec) => cellKey(spec)).sort()),
      "the plan's order does not change who runs what",
    );
  }
  assert.deepEqual(
    planDifferences({ ...config, shard: { index: 1, count: 2 } }, { ...config, shard: { index: 2, count: 2 } }),
    ['shard'],
    '--resume refuses a file of another shard',
  );
  const sharded = planCells({ ...config, shard: { index: 2, count: 3 } });
  assert.deepEqual(sharded, partitionCells(plan, config, 3)[1], 'planCells applies config.shard');
});

test('shards are balanced by expected time: cells that cost more are spread, not counted', async () => {
  const { config } = await resolveSweep({
    preset: 'quick',
    workloads: 'read-heavy,go-load-or-store-unique',
    threads: '1,2,4',
    maps: 'rwmutex,sharded',
  });
  const plan = planAllCells(config);
  const costs = new Set(plan.map((spec) => Math.round(expectedCellMs(spec, config))));
  assert.ok(costs.size > 1, 'fresh-key streams and more threads make some cells dearer');
  for (const count of [2, 3, 4]) {
    const loads = partitionCells(plan, config, count).map((shard) =>
      shard.reduce((sum, spec) => sum + expectedCellMs(spec, config), 0),
    );
    const longest = Math.max(...plan.map((spec) => expectedCellMs(spec, config)));
    assert.ok(
      Math.max(...loads) - Math.min(...loads) <= longest,
      `${count} shards: loads ${loads.map(Math.round).join(', ')} ms differ by at most one cell`,
    );
  }
});

test('a shard with no cells is refused before anything runs (exit 2, nothing written)', () => {
  const out = join(directory, 'empty-shard.json');
  const result = maplab([
    'sweep',
    ...TINY,
    '--maps',
    'js-map',
    '--workloads',
    'read-heavy',
    '--threads',
    '1',
    '--shard',
    '2/2',
    '--out',
    out,
  ]);
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /--shard 2\/2: the plan has 1 cell\(s\), so at most 1 shard\(s\) have work/);
  assert.equal(existsSync(out), false);
});

test("shards 1/2 and 2/2 merged give the unsharded sweep's cells (same keys, same order) and config; mismatches exit 2 and write nothing", async () => {
  const shardsDirectory = join(directory, 'shards');
  mkdirSync(shardsDirectory);
  const whole = join(directory, 'whole.json');
  for (const [args, out] of [
    [['--shard', '1/2'], join(shardsDirectory, 'shard-1.json')],
    [['--shard', '2/2'], join(shardsDirectory, 'shard-2.json')],
    [[], whole],
  ] as const) {
    const result = maplab(['sweep', ...TINY, ...args, '--out', out]);
    assert.equal(result.status, 0, result.stderr);
  }
  const [first, second] = [1, 2].map((index) => readResultsFile(join(shardsDirectory, `shard-${index}.json`)));
  assert.deepEqual((first.config as SweepConfig).shard, { index: 1, count: 2 }, 'each shard records which it is');
  assert.ok(first.cells.length > 0 && second.cells.length > 0 && first.cells.length + second.cells.length === 8);

  const merged = join(directory, 'merged.json');
  const result = maplab(['merge', shardsDirectory, '--out', merged]);
  assert.equal(result.status, 0, result.stderr);
  const mergedResults = readResultsFile(merged);
  const unsharded = readResultsFile(whole);
  assert.deepEqual(
    mergedResults.cells.map((cell) => cellKey(cell)),
    unsharded.cells.map((cell) => cellKey(cell)),
  );
  const withoutTiming = (results: Results) => ({ ...results.config, timing: undefined });
  assert.deepEqual(withoutTiming(mergedResults), withoutTiming(unsharded));
  assert.equal(mergedResults.config.shard, undefined);
  assert.equal(mergedResults.analysis.knees.length, unsharded.analysis.knees.length, 'the analysis covers every cell');
  assert.deepEqual(
    mergedResults.analysis.knees.map((knee) => [knee.map, knee.workload]),
    unsharded.analysis.knees.map((knee) => [knee.map, knee.workload]),
  );
  assert.equal((mergedResults.merged as { shards: unknown[] }).shards.length, 2);

  const refused = (args: string[], message: RegExp) => {
    const out = join(directory, 'refused.json');
    const outcome = maplab(['merge', ...args, '--out', out]);
    assert.equal(outcome.status, 2, outcome.stderr);
    assert.match(outcome.stderr, message);
    assert.equal(existsSync(out), false, 'nothing written');
  };
  const shardOne = join(shardsDirectory, 'shard-1.json');
  const shardTwo = join(shardsDirectory, 'shard-2.json');
  refused([shardOne], /merge: \d+ planned cell\(s\) are in no file \(.*\): shard\(s\) 2\/2 not given/);
  const copy = join(directory, 'copy-of-shard-1.json');
  copyFileSync(shardOne, copy);
  refused(
    [shardOne, shardTwo, copy],
    /merge: cell .* is in both .*(shard-1|copy-of-shard-1)\.json and .*(shard-1|copy-of-shard-1)\.json/,
  );
  const otherConfig = join(directory, 'other-config.json');
  writeResultsFile(otherConfig, { ...second, config: { ...second.config, trials: 3 } });
  refused(
    [shardOne, otherConfig],
    /merge: config differs between .*shard-1\.json and .*other-config\.json \(trials: 2 vs 3\)/,
  );
  const otherMachine = join(directory, 'other-machine.json');
  writeResultsFile(otherMachine, { ...second, env: { ...second.env, node: 'v22.0.0' } });
  refused([shardOne, otherMachine], /merge: env\.node differs: .*one machine kind and runtime/);
  refused(
    [shardOne, whole],
    /whole\.json is a whole sweep but .*shard-1\.json is shard 1\/2: merge the shards of one split/,
  );
});
