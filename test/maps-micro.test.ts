import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MICRO_OPS, renderMicroTable, runMicro, targetRatios, type MicroCell } from '../harness/micro/micro.js';
import {
  PRIMITIVES,
  fastestOf,
  measurePrimitives,
  renderPrimitivesTable,
  type PrimitivesResult,
} from '../harness/micro/primitives.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));

test('the micro benchmark measures every op of every chosen map at every load factor, in one run', async () => {
  const result = await runMicro({
    maps: ['js-map', 'plain', 'rwmutex'],
    keys: 1024,
    loadFactors: [0.5, 0.75],
    timeMs: 10,
  });
  assert.equal(result.cells.length, 3 * 2 * MICRO_OPS.length);
  for (const cell of result.cells) {
    assert.ok(cell.nsPerOp > 0 && Number.isFinite(cell.nsPerOp), `${cell.map} ${cell.op} ${cell.loadFactor}`);
    assert.ok(cell.samples > 0);
  }
  const plainHalf = result.cells.find((cell) => cell.map === 'plain' && cell.loadFactor === 0.5);
  assert.ok(
    plainHalf?.occupancy !== undefined && Math.abs(plainHalf.occupancy - 0.5) < 0.01,
    'the table was filled to the load factor',
  );
  assert.deepEqual(
    result.ratios.map((ratio) => `${ratio.name}@${ratio.loadFactor}`),
    [
      'plain get-hit / js-map get-hit@0.5',
      'plain get-hit / js-map get-hit@0.75',
      'rwmutex get-hit / plain get-hit@0.5',
      'rwmutex get-hit / plain get-hit@0.75',
    ],
  );
  const table = renderMicroTable(result);
  for (const op of MICRO_OPS) assert.ok(table.includes(op));
  assert.match(table, /load average/);
});

test('target ratios divide the get-hit figures of the same load factor and say whether the target is met', () => {
  const cell = (map: string, nsPerOp: number): MicroCell => ({
    map,
    op: 'get-hit',
    loadFactor: 0.75,
    nsPerOp,
    meanNsPerOp: nsPerOp,
    rmePercent: 1,
    samples: 10,
    batchOps: 1024,
  });
  const ratios = targetRatios([cell('js-map', 40), cell('plain', 30), cell('rwmutex', 100)], [0.75]);
  assert.deepEqual(
    ratios.map(({ ratio, met }) => ({ ratio, met })),
    [
      { ratio: 0.75, met: true },
      { ratio: 100 / 30, met: false },
    ],
  );
});

test('maplab micro rejects a bad flag with exit code 2 and a message naming it', () => {
  for (const [flag, message] of [
    ['--keys=10', /--keys must be an integer 1024\.\.4194304/],
    ['--load-factors=0.5,1', /--load-factors\[1\] must be a number in \(0, 1\) exclusive/],
    ['--maps=plain,nope', /--maps\[1\] must be one of js-map, plain/],
    ['--time-ms=0', /--time-ms must be an integer 10\.\.60000/],
  ] as const) {
    const run = spawnSync(process.execPath, [CLI, 'micro', flag], { encoding: 'utf8' });
    assert.equal(run.status, 2, flag);
    assert.match(run.stderr, message);
    assert.equal(run.stdout, '', 'nothing measured or printed');
  }
});

test('micro --primitives measures every primitive once, in ns/op, and the wake-up in µs', async () => {
  const result = await measurePrimitives(10);
  assert.equal(result.schema, 'maplab.primitives/1');
  assert.equal(result.node, process.version);
  assert.deepEqual(
    result.cells.map((cell) => cell.name),
    [...PRIMITIVES],
  );
  for (const cell of result.cells) {
    assert.ok(cell.median > 0 && Number.isFinite(cell.median), cell.name);
    assert.ok(cell.samples > 0, cell.name);
    assert.equal(cell.unit, cell.name === 'wait→notify wake-up' ? 'µs' : 'ns/op');
  }
  const halved = {
    ...result,
    node: 'v99.0.0',
    cells: result.cells.map((cell) => ({ ...cell, median: cell.median / 2 })),
  };
  const table = renderPrimitivesTable([result, halved]);
  assert.match(table, /primitive +unit +Node v\d+\.\d+\.\d+ +Node v99\.0\.0\n/);
  assert.match(table, /\nAtomics\.load +ns\/op +[\d.]+ +[\d.]+ \(0\.50×\)\n/);
});

test('micro --primitives --node current runs in a child process and prints the runtime column', () => {
  const run = spawnSync(process.execPath, [CLI, 'micro', '--primitives', '--node', 'current', '--time-ms', '10'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`Node ${process.version.replace(/\./g, '\\.')}\\n`));
  assert.match(run.stdout, /\nwait→notify wake-up +µs +[\d.]+\n/);
});

test('micro --node rejects an unsupported version or a missing binary with exit 2, naming --node', () => {
  for (const node of ['18', './no/such/node']) {
    const run = spawnSync(process.execPath, [CLI, 'micro', '--primitives', '--node', node], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 2, node);
    assert.match(run.stderr, /--node/);
    assert.equal(run.stdout, '');
  }
});

test("the fastest of repeated primitives results keeps each primitive's lowest median and counts the runs", () => {
  const run = (load: number, add: number): PrimitivesResult => ({
    schema: 'maplab.primitives/1',
    node: 'v24.0.0',
    v8: '13',
    timeMs: 10,
    cells: [
      { name: 'Atomics.load', unit: 'ns/op', median: load, samples: 5 },
      { name: 'Atomics.add', unit: 'ns/op', median: add, samples: 5 },
    ],
  });
  const merged = fastestOf([run(7, 15), run(14, 8)]);
  assert.deepEqual(
    merged.cells.map((cell) => [cell.name, cell.median]),
    [
      ['Atomics.load', 7],
      ['Atomics.add', 8],
    ],
  );
  assert.equal(merged.runs, 2);
});
