import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localMachineKind } from '../harness/run/env.js';
import { machineDirectoryName } from '../scripts/evidence/record-baseline.js';
import { tempDirectory } from './fixtures/gate-results.js';

const SCRIPT = fileURLToPath(new URL('../scripts/evidence/record-baseline.js', import.meta.url));
// A tiny sweep per run (one js-map cell, one 20 ms trial): the script's file handling is under test, not the numbers.
const TINY = [
  '--',
  '--maps',
  'js-map',
  '--workloads',
  'read-heavy',
  '--threads',
  '1',
  '--load-factors',
  '0.75',
  '--duration-ms',
  '20',
  '--warmup-ms',
  '5',
  '--trials',
  '1',
  '--stream-ops',
  '65536',
];

const record = (...args: string[]) =>
  spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });

/** A baseline root with this machine's directory holding `runs` placeholder files; returns both paths. */
function seededBaseline(runs: number): { root: string; machine: string } {
  const root = tempDirectory();
  const machine = join(root, machineDirectoryName(localMachineKind()));
  mkdirSync(machine, { recursive: true });
  for (let run = 1; run <= runs; run++) writeFileSync(join(machine, `ci-${run}.json`), `old run ${run}`);
  return { root, machine };
}

const files = (directory: string): string[] => readdirSync(directory).sort();
const isResults = (file: string): boolean =>
  typeof (JSON.parse(readFileSync(file, 'utf8')) as { schema?: unknown }).schema === 'string';

test('machineDirectoryName makes a CPU model and core count a file name', () => {
  assert.equal(machineDirectoryName({ cpuModel: 'AMD EPYC', cores: 2 }), 'amd-epyc-x2');
  assert.equal(
    machineDirectoryName({ cpuModel: 'Intel(R) Xeon(R) Processor @ 2.10GHz', cores: 2 }),
    'intel-xeon-processor-2.10ghz-x2',
  );
  assert.equal(machineDirectoryName({ cpuModel: '', cores: 4 }), 'unknown-cpu-x4');
});

test('a refresh replaces every run of this machine kind with the new ones and leaves other kinds alone', () => {
  const { root, machine } = seededBaseline(4);
  mkdirSync(join(root, 'other-cpu-x2'));
  writeFileSync(join(root, 'other-cpu-x2', 'ci-1.json'), 'other kind');
  const result = record('--runs', '2', '--dir', root, ...TINY);
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(files(machine), ['ci-1.json', 'ci-2.json']);
  assert.ok(
    files(machine).every((name) => isResults(join(machine, name))),
    'both are results files',
  );
  assert.equal(readFileSync(join(root, 'other-cpu-x2', 'ci-1.json'), 'utf8'), 'other kind');
});

test('--append numbers the new runs after the existing ones and leaves those byte-identical', () => {
  const { root, machine } = seededBaseline(3);
  const result = record('--runs', '2', '--append', '--dir', root, ...TINY);
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(files(machine), ['ci-1.json', 'ci-2.json', 'ci-3.json', 'ci-4.json', 'ci-5.json']);
  for (const run of [1, 2, 3]) assert.equal(readFileSync(join(machine, `ci-${run}.json`), 'utf8'), `old run ${run}`);
  assert.ok(isResults(join(machine, 'ci-4.json')) && isResults(join(machine, 'ci-5.json')));
});

test("a run that fails leaves the baseline unchanged and passes on the sweep's exit code", () => {
  const { root, machine } = seededBaseline(3);
  const result = record('--runs', '2', '--dir', root, '--', '--threads', 'zero');
  assert.equal(result.status, 2);
  assert.match(result.stderr, /run 1 of 2 failed \(exit 2\); .* is unchanged/);
  assert.deepEqual(files(machine), ['ci-1.json', 'ci-2.json', 'ci-3.json']);
  for (const run of [1, 2, 3]) assert.equal(readFileSync(join(machine, `ci-${run}.json`), 'utf8'), `old run ${run}`);
});

test('bad options exit 2 naming the option and the allowed values, and write nothing', () => {
  const root = tempDirectory();
  for (const args of [['--runs', '0'], ['--runs', 'three'], ['--nope']]) {
    const result = record('--dir', root, ...args);
    assert.equal(result.status, 2, args.join(' '));
    assert.match(
      result.stderr,
      args[0] === '--nope' ? /Unknown option '--nope'.*options: --runs <1\.\.20>/ : /--runs must be an integer 1\.\.20/,
    );
  }
  assert.deepEqual(files(root), []);
});
