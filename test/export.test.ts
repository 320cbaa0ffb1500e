import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CSV_COLUMNS, toCsv, toGithubActionBenchmark } from '../harness/gate/export.js';
import { buildResults, tempDirectory, writeResultsJson } from './fixtures/gate-results.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));

const results = buildResults({
  commit: 'abc123',
  cells: [
    { map: 'rwmutex', workload: 'read-heavy', trials: [900, 950, 1000, 1020, 1100], p99Ns: 2000 },
    {
      map: 'js-map',
      workload: 'read-heavy',
      private: true,
      threads: 4,
      oversubscribed: true,
      trials: [5000, 5000, 5000],
    },
    { map: 'plain', workload: 'write-heavy', threads: 2, error: 'concurrent map writes, "plain" map' },
  ],
});

test('github-action-benchmark ops: customBiggerIsBetter entries {name, unit, value, range, extra}; range is the wider side of the CI', () => {
  const exported = toGithubActionBenchmark(results, 'ops');
  assert.equal(exported.tool, 'customBiggerIsBetter');
  assert.deepEqual(exported.entries[0], {
    name: 'rwmutex/read-heavy/t=1/lf=0.75',
    unit: 'ops/s',
    value: 1000,
    range: '± 100',
    extra: '5 trials; 95% CI 900..1100',
  });
  assert.equal(exported.entries[1].extra, '3 trials; oversubscribed; private; 95% CI 5000..5000');
  for (const entry of exported.entries)
    assert.deepEqual(Object.keys(entry), ['name', 'unit', 'value', 'range', 'extra']);
  assert.deepEqual(exported.skipped, ['plain/write-heavy/t=2/lf=0.75']);
});

test('github-action-benchmark p99: customSmallerIsBetter entries in ns with the histogram CI as range', () => {
  const exported = toGithubActionBenchmark(results, 'p99');
  assert.equal(exported.tool, 'customSmallerIsBetter');
  const [entry] = exported.entries;
  assert.equal(entry.name, 'rwmutex/read-heavy/t=1/lf=0.75');
  assert.equal(entry.unit, 'ns');
  assert.equal(entry.value, 2000);
  // The fixture's histogram puts the p99 CI at 0.95·p99 … 2.2·p99 (1900 … 4400 ns).
  assert.equal(entry.range, '± 2400');
  assert.match(entry.extra, /95% CI 1900\.\.4400 ns \(sampling\)/);
});

test('CSV: a header of the documented columns, one CRLF row per cell, failed cells with their error quoted', () => {
  const lines = toCsv(results).split('\r\n');
  assert.equal(lines.at(-1), '');
  assert.equal(lines[0], CSV_COLUMNS.join(','));
  assert.equal(lines.length, 1 + 3 + 1);
  const row = Object.fromEntries(CSV_COLUMNS.map((column, index) => [column, lines[1].split(',')[index]]));
  assert.equal(row.map, 'rwmutex');
  assert.equal(row.opsPerSecMedian, '1000');
  assert.equal(row.p99Ns, '2000');
  assert.equal(row.calibrationOpsPerSec, '100000000');
  assert.equal(row.commit, 'abc123');
  assert.equal(row.rate, '');
  assert.match(
    lines[3],
    /^plain,write-heavy,2,0\.75,,false,false,,,,,,,,,,,100000000,abc123,"concurrent map writes, ""plain"" map"$/,
  );
});

test('maplab export writes JSON or CSV to --out or stdout; --metric with csv is a usage error', () => {
  const directory = tempDirectory();
  const path = writeResultsJson(directory, 'results.json', results);
  const run = (args: string[]) =>
    spawnSync(process.execPath, [CLI, 'export', path, ...args], { encoding: 'utf8', timeout: 60_000 });

  const ops = run([]);
  assert.equal(ops.status, 0, ops.stderr);
  assert.equal((JSON.parse(ops.stdout) as Array<{ unit: string }>)[0].unit, 'ops/s');
  assert.match(ops.stderr, /left out 1 failed cell\(s\): plain\/write-heavy\/t=2\/lf=0\.75/);

  const outPath = join(directory, 'p99.json');
  assert.equal(run(['--metric', 'p99', '--out', outPath]).status, 0);
  assert.equal((JSON.parse(readFileSync(outPath, 'utf8')) as Array<{ unit: string }>)[0].unit, 'ns');

  const csv = run(['--format', 'csv']);
  assert.equal(csv.status, 0);
  assert.ok(csv.stdout.startsWith('map,workload,threads,'));

  const both = run(['--format', 'csv', '--metric', 'p99']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--metric applies to --format github-action-benchmark only/);
  const badMetric = run(['--metric', 'p50']);
  assert.equal(badMetric.status, 2);
  assert.match(badMetric.stderr, /--metric must be one of ops, p99/);
});
