import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSweepProcess, sweepArguments, SweepFailedError, type SweepRequest } from '../harness/gate/sweep-process.js';
import { UsageError } from '../harness/run/options.js';
import { buildResults, tempDirectory, writeResultsJson } from './fixtures/gate-results.js';

const FAKE_CLI = fileURLToPath(new URL('./fixtures/gate-fake-sweep.js', import.meta.url));

const request: SweepRequest = {
  cliPath: FAKE_CLI,
  preset: 'ci',
  cells: [
    { map: 'rwmutex', workload: 'read-heavy', threads: 1, loadFactor: 0.75 },
    { map: 'sharded', workload: 'write-heavy', threads: 2, loadFactor: 0.5 },
  ],
  timeoutMs: 60_000,
};

/** Runs the fake sweep with the given environment for the duration of one call. */
async function withFakeSweep<T>(env: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await run();
  } finally {
    for (const name of Object.keys(env)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

test('the sweep is asked for the preset, a temp --out, --quiet and the cells as --maps/--workloads/--threads/--load-factors', () => {
  const args = sweepArguments(
    { ...request, mapModule: 'plugins/my-map.js', mapAliases: { 'slowed-rwmutex': 'rwmutex' } },
    '/tmp/x/current.json',
  );
  assert.equal(args[0], FAKE_CLI);
  assert.deepEqual(args.slice(1, 14), [
    'sweep',
    '--preset',
    'ci',
    '--out',
    '/tmp/x/current.json',
    '--quiet',
    '--maps',
    'slowed-rwmutex,sharded',
    '--workloads',
    'read-heavy,write-heavy',
    '--threads',
    '1,2',
    '--load-factors',
  ]);
  assert.equal(args[14], '0.75,0.5');
  assert.equal(args[15], '--map-module');
  assert.ok(args[16].endsWith(join('plugins', 'my-map.js')) && args[16].startsWith('/'), 'an absolute path');
});

test('open-loop cells add --rates', () => {
  const args = sweepArguments(
    { ...request, cells: request.cells.map((cell, index) => ({ ...cell, rate: 1000 * (index + 1) })) },
    '/tmp/x/current.json',
  );
  assert.deepEqual(args.slice(args.indexOf('--rates'), args.indexOf('--rates') + 2), ['--rates', '1000,2000']);
  assert.equal(sweepArguments(request, '/tmp/x/current.json').includes('--rates'), false);
});

test("runSweepProcess returns the sweep's results restricted to the requested cells", async () => {
  const directory = tempDirectory();
  const produced = buildResults({
    cells: [
      { map: 'rwmutex', workload: 'read-heavy', threads: 1, loadFactor: 0.75 },
      { map: 'rwmutex', workload: 'write-heavy', threads: 1, loadFactor: 0.75 },
      { map: 'sharded', workload: 'write-heavy', threads: 2, loadFactor: 0.5 },
      { map: 'sharded', workload: 'read-heavy', threads: 2, loadFactor: 0.75 },
    ],
  });
  const argsPath = join(directory, 'args.json');
  const results = await withFakeSweep(
    { FAKE_SWEEP_RESULTS: writeResultsJson(directory, 'produced.json', produced), FAKE_SWEEP_ARGS: argsPath },
    () => runSweepProcess(request),
  );
  assert.deepEqual(
    results.cells.map((cell) => `${cell.map}/${cell.workload}/${cell.threads}/${cell.loadFactor}`),
    ['rwmutex/read-heavy/1/0.75', 'sharded/write-heavy/2/0.5'],
  );
  const args = JSON.parse(readFileSync(argsPath, 'utf8')) as string[];
  assert.equal(args[0], 'sweep');
});

test('a sweep that exits 2 (bad arguments) is a usage error', async () => {
  await withFakeSweep({ FAKE_SWEEP_EXIT: '2' }, () =>
    assert.rejects(
      runSweepProcess(request),
      (error: Error) =>
        error instanceof UsageError && /the sweep rejected its arguments \(exit 2\)/.test(error.message),
    ),
  );
});

test('a sweep that exits 1 is a failed run, not a usage error', async () => {
  await withFakeSweep({ FAKE_SWEEP_EXIT: '1' }, () =>
    assert.rejects(
      runSweepProcess(request),
      (error: Error) => error instanceof SweepFailedError && /the sweep failed \(exit 1\)/.test(error.message),
    ),
  );
});
