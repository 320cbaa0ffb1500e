/**
 * `--profile <dir>`: CPU profiles of the measured windows, one file per
 * worker and trial, and the self-time summary printed after the run.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatProfileSummary, summariseProfiles } from '../harness/trial/profile-summary.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'maplab-profile-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const SHORT = ['--duration-ms', '60', '--warmup-ms', '20', '--trials', '2', '--stream-ops', '65536', '--keys', '4096'];

function maplab(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('run --profile writes one .cpuprofile per worker and trial, named by cell, and prints the top self-time functions', () => {
  const dir = join(directory, 'run', 'nested');
  const result = maplab([
    'run',
    '--map',
    'rwmutex',
    '--workload',
    'read-heavy',
    '--threads',
    '2',
    ...SHORT,
    '--profile',
    dir,
  ]);
  assert.equal(result.status, 0, result.stderr);
  const expected = [1, 2].flatMap((trial) =>
    [0, 1].map((worker) => `rwmutex-read-heavy-t2-lf0.75-trial${trial}-w${worker}.cpuprofile`),
  );
  assert.deepEqual(readdirSync(dir).sort(), expected.sort());
  for (const name of expected) {
    const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as {
      nodes: unknown[];
      startTime: number;
      endTime: number;
    };
    assert.ok(profile.nodes.length > 1, `${name} has call-tree nodes`);
    assert.ok(profile.endTime > profile.startTime, `${name} covers a time span`);
  }
  assert.match(result.stdout, /CPU profiles of the measured windows/);
  assert.match(result.stdout, /rwmutex, 2 threads: 4 profiles, \d+ samples/);
  assert.match(result.stdout, /^\s+\d+\.\d%\s+\S+/m, 'at least one function line with its share');
});

test('--profile on a file, or on a directory already holding profiles without --force, exits 2 and writes nothing', () => {
  const file = join(directory, 'a-file');
  writeFileSync(file, 'KEEP\n');
  const out = join(directory, 'never.json');
  const onFile = maplab(['run', '--map', 'rwmutex', ...SHORT, '--profile', file, '--out', out]);
  assert.equal(onFile.status, 2);
  assert.match(onFile.stderr, /--profile must name a directory/);
  assert.equal(readFileSync(file, 'utf8'), 'KEEP\n');

  const used = join(directory, 'used');
  mkdirSync(used);
  writeFileSync(join(used, 'old.cpuprofile'), 'OLD\n');
  const reused = maplab([
    'sweep',
    '--maps',
    'rwmutex',
    '--workloads',
    'read-heavy',
    '--threads',
    '1',
    '--load-factors',
    '0.75',
    ...SHORT,
    '--profile',
    used,
    '--out',
    out,
  ]);
  assert.equal(reused.status, 2);
  assert.match(reused.stderr, /--profile: .* already holds 1 \.cpuprofile files; pass --force/);
  assert.deepEqual(readdirSync(used), ['old.cpuprofile']);
  assert.equal(existsSync(out), false, 'no results file either');
});

test("the summary sums self samples per function over a cell's files, maps compiled positions to TypeScript lines, and ignores other files", () => {
  const dir = join(directory, 'synthetic');
  mkdirSync(dir);
  const compiled = fileURLToPath(new URL('../maps/rwmutex.js', import.meta.url));
  const jsLines = readFileSync(compiled, 'utf8').split('\n');
  const rLockLine = jsLines.findIndex((line) => /^\s+rLock\(\) \{/.test(line));
  assert.ok(rLockLine >= 0, 'the compiled rwmutex.js has rLock()');
  const frame = (functionName: string, url = '', lineNumber = -1) => ({
    functionName,
    url,
    lineNumber,
    columnNumber: 4,
    scriptId: '1',
  });
  const profile = (rLockHits: number, gcHits: number) =>
    JSON.stringify({
      nodes: [
        { id: 1, hitCount: 0, callFrame: frame('(root)') },
        { id: 2, hitCount: rLockHits, callFrame: frame('rLock', pathToFileURL(compiled).href, rLockLine) },
        { id: 3, hitCount: gcHits, callFrame: frame('(garbage collector)') },
      ],
      startTime: 0,
      endTime: 1,
      samples: [],
      timeDeltas: [],
    });
  writeFileSync(join(dir, 'rwmutex-w1-t1-lf0.5-trial1-w0.cpuprofile'), profile(30, 10));
  writeFileSync(join(dir, 'rwmutex-w1-t1-lf0.5-trial2-w0.cpuprofile'), profile(30, 30));
  writeFileSync(join(dir, 'rwmutex-other-t1-lf0.5-trial1-w0.cpuprofile'), profile(1000, 0));

  const [group, ...rest] = summariseProfiles(dir, [{ map: 'rwmutex', workload: 'w1', threads: 1, loadFactor: 0.5 }], 2);
  assert.equal(rest.length, 0);
  assert.equal(group.profiles, 2);
  assert.equal(group.samples, 100);
  assert.equal(group.top[0].functionName, 'rLock');
  assert.equal(group.top[0].share, 0.6);
  const match = /maps\/rwmutex\.ts:(\d+)$/.exec(group.top[0].location);
  assert.ok(match, `location ${group.top[0].location} is the TypeScript source`);
  const tsLine = readFileSync(fileURLToPath(new URL('../../maps/rwmutex.ts', import.meta.url)), 'utf8').split('\n')[
    Number(match[1]) - 1
  ];
  assert.match(tsLine, /rLock\(\)/, 'the mapped line is where rLock is declared');
  assert.deepEqual(group.top[1], { functionName: '(garbage collector)', location: '', samples: 40, share: 0.4 });
  assert.match(formatProfileSummary(dir, [group]), /60\.0%\s+rLock\s+\S*maps\/rwmutex\.ts:\d+/);
});
