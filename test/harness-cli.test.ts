/**
 * `maplab sweep` / `maplab run` as a user runs them: a child process per
 * command, checked by exit code and by the results file it leaves.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cellKey } from '../harness/run/cell.js';
import { parseResults, readResultsFile } from '../harness/results/results.js';
import { measured } from './fixtures/measured.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'maplab-cli-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const TINY = [
  '--maps',
  'js-map',
  '--load-factors',
  '0.75',
  '--duration-ms',
  '30',
  '--warmup-ms',
  '10',
  '--trials',
  '2',
  '--stream-ops',
  '65536',
  '--quiet',
];

function maplab(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('bad flags and config exit 2 with a message naming the flag, and leave an existing --out byte-identical', () => {
  const out = join(directory, 'keep.json');
  const config = join(directory, 'bad-config.json');
  writeFileSync(out, 'ORIGINAL CONTENT\n');
  writeFileSync(config, JSON.stringify({ threads: [1], bogusField: 3 }));
  const cases: Array<[string[], RegExp]> = [
    [['--threads', '0'], /--threads\[0\] must be an integer 1\.\.256/],
    [['--load-factors', '0.5,1.5'], /--load-factors\[1\] must be a number in \(0, 1\)/],
    [['--maps', 'nope'], /--maps: unknown map 'nope'; allowed: .*js-map/],
    [['--preset', 'huge'], /--preset must be one of quick, ci, full/],
    [['--workloads', 'read-heavy,nope'], /--workloads\[1\]: unknown workload 'nope'/],
    [['--mix', 'get=2'], /--mix: .*mix/],
    [['--prefill', '0.5'], /--prefill .*needs --mix/],
    [['--duration-ms', 'soon'], /--duration-ms must be an integer/],
    [['--stream-ops', '1000'], /--stream-ops must be a power of two/],
    [['--config', config], /unknown field 'bogusField'/],
    [['--map-module', join(directory, 'missing.js')], /--map-module: no such file/],
    [['--bogus'], /unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const result = maplab(['sweep', ...TINY, '--out', out, '--force', ...args]);
    assert.equal(result.status, 2, `${args.join(' ')} exits 2 (stderr: ${result.stderr})`);
    assert.match(result.stderr, message);
    assert.equal(readFileSync(out, 'utf8'), 'ORIGINAL CONTENT\n', `${args.join(' ')} leaves the file alone`);
  }
  const exists = maplab(['sweep', ...TINY, '--workloads', 'read-heavy', '--threads', '1', '--out', out]);
  assert.equal(exists.status, 2);
  assert.match(exists.stderr, /already exists; pass --resume to finish it or --force to overwrite it/);
  assert.equal(readFileSync(out, 'utf8'), 'ORIGINAL CONTENT\n');
  assert.equal(existsSync(join(directory, 'never.json')), false);
  assert.equal(maplab(['sweep', ...TINY, '--threads', 'x', '--out', join(directory, 'never.json')]).status, 2);
  assert.equal(existsSync(join(directory, 'never.json')), false, 'no file is created on bad input');
});

test('Ctrl-C keeps every finished cell (exit 130), and --resume finishes the file without redoing them', async () => {
  const out = join(directory, 'interrupted.json');
  const args = [
    CLI,
    'sweep',
    ...TINY,
    '--workloads',
    'read-heavy,write-heavy,mixed',
    '--threads',
    '1,2',
    '--load-factors',
    '0.5,0.75,0.9',
    '--duration-ms',
    '60',
    '--interleave',
    'false',
    '--out',
    out,
  ];
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  let exitedEarly: number | null | undefined;
  const exited = new Promise<number | null>((resolveExit) =>
    child.on('exit', (code) => {
      exitedEarly = code;
      resolveExit(code);
    }),
  );
  for (;;) {
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 50));
    if (existsSync(out) && readResultsFile(out).cells.length >= 3) break;
    // A sweep that ends before three cells (bad arguments, a crash) fails the test instead of hanging it.
    if (exitedEarly !== undefined) assert.fail(`the sweep exited (code ${exitedEarly}) before finishing three cells`);
  }
  child.kill('SIGINT');
  assert.equal(await exited, 130);
  const before = readResultsFile(out);
  assert.equal(before.incomplete, true);
  assert.ok(before.cells.length >= 3 && before.cells.length < 18, `${before.cells.length} cells kept`);

  const different = maplab(['sweep', ...args.slice(2), '--threads', '1', '--resume']);
  assert.equal(different.status, 2, 'a resume with another config is refused');
  assert.match(different.stderr, /different config \(threads/);
  assert.deepEqual(readResultsFile(out), before);

  const resumed = maplab(['sweep', ...args.slice(2), '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const after = readResultsFile(out);
  assert.equal(after.incomplete, undefined);
  assert.equal(after.cells.length, 18);
  assert.equal(new Set(after.cells.map((cell) => cellKey(cell))).size, 18);
  for (const cell of before.cells) {
    assert.deepEqual(
      after.cells.find((candidate) => cellKey(candidate) === cellKey(cell)),
      cell,
      `${cellKey(cell)} kept as it was`,
    );
  }
});

test('maplab run measures one cell and prints the results document with --json', () => {
  const result = maplab([
    'run',
    '--map',
    'js-map',
    '--workload',
    'write-heavy',
    '--threads',
    '2',
    '--duration-ms',
    '30',
    '--warmup-ms',
    '10',
    '--trials',
    '2',
    '--stream-ops',
    '65536',
    '--json',
  ]);
  assert.equal(result.status, 0, `stderr: ${result.stderr}\nstdout: ${result.stdout.slice(0, 2000)}`);
  const results = parseResults(JSON.parse(result.stdout), 'stdout');
  assert.equal(results.cells.length, 1);
  assert.deepEqual(
    [results.cells[0].map, results.cells[0].workload, results.cells[0].threads],
    ['js-map', 'write-heavy', 2],
  );
  assert.ok(measured(results.cells[0]).opsPerSec.median > 0);
});

test('maplab run --node measures the cell in a trial server under that runtime and records it, and refuses a missing binary', () => {
  const result = maplab([
    'run',
    '--map',
    'rwmutex',
    '--threads',
    '1',
    '--duration-ms',
    '60',
    '--warmup-ms',
    '10',
    '--trials',
    '3',
    '--stream-ops',
    '65536',
    '--node',
    'current',
    '--json',
  ]);
  assert.equal(result.status, 0, `stderr: ${result.stderr}`);
  const results = parseResults(JSON.parse(result.stdout), 'stdout');
  assert.equal(results.cells.length, 1);
  assert.deepEqual(results.cells[0].runtime, { node: process.version, v8: process.versions.v8 });
  const missing = maplab(['run', '--map', 'rwmutex', '--node', '/no/such/node']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--node \/no\/such\/node: no such file/);
});

test('measuring commands relaunch with synchronous optimisation unless MAPLAB_JIT=concurrent, and a bad MAPLAB_JIT exits 2', () => {
  const args = [
    'run',
    '--map',
    'js-map',
    '--threads',
    '1',
    '--duration-ms',
    '20',
    '--warmup-ms',
    '10',
    '--trials',
    '1',
    '--stream-ops',
    '65536',
    '--json',
  ];
  const runWith = (jit: string | undefined) => {
    const env = { ...process.env };
    if (jit === undefined) delete env.MAPLAB_JIT;
    else env.MAPLAB_JIT = jit;
    return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env });
  };
  const byDefault = runWith(undefined);
  assert.equal(byDefault.status, 0, `stderr: ${byDefault.stderr}`);
  assert.equal(parseResults(JSON.parse(byDefault.stdout), 'stdout').env.jit, 'sync');
  const concurrent = runWith('concurrent');
  assert.equal(concurrent.status, 0, `stderr: ${concurrent.stderr}`);
  assert.equal(parseResults(JSON.parse(concurrent.stdout), 'stdout').env.jit, 'concurrent');
  const bad = runWith('fast');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /MAPLAB_JIT must be one of sync, concurrent, got 'fast'/);
  assert.equal(bad.stdout, '');
});

test("every command's --help shows an example", () => {
  for (const command of ['sweep', 'run']) {
    const result = maplab([command, '--help']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /Examples:\n\s+\$ maplab /);
  }
});
