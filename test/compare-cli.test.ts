import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildResults, gridSpec, tempDirectory, trialsAround, writeResultsJson } from './fixtures/gate-results.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));

function maplab(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const directory = tempDirectory();
const basePath = writeResultsJson(
  directory,
  'base.json',
  buildResults({ cells: gridSpec(['rwmutex', 'sharded'], ['read-heavy']) }),
);
const headPath = writeResultsJson(
  directory,
  'head.json',
  buildResults({
    cells: [
      { map: 'rwmutex', workload: 'read-heavy', trials: trialsAround(700_000) },
      { map: 'js-map', workload: 'read-heavy', private: true },
    ],
  }),
);

test('compare prints a text table with the verdicts and lists one-sided cells, exit 0 even on a regression', () => {
  const run = maplab(['compare', basePath, headPath]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /rwmutex\/read-heavy\/t=1\/lf=0\.75 .* -30\.0% +0\.008 +-30\.0%/);
  assert.match(run.stdout, /only in base: sharded\/read-heavy\/t=1\/lf=0\.75/);
  assert.match(run.stdout, /only in head: js-map\/read-heavy\/t=1\/lf=0\.75/);
});

test('compare --format json is the comparison document; --format md a markdown table; --out writes a file', () => {
  const json = JSON.parse(maplab(['compare', basePath, headPath, '--format', 'json']).stdout) as {
    schema: string;
    cells: unknown[];
  };
  assert.equal(json.schema, 'maplab.compare/1');
  assert.equal(json.cells.length, 1);
  assert.match(maplab(['compare', basePath, headPath, '--format', 'md']).stdout, /^## maplab compare\n/);
  const outPath = join(directory, 'comparison.md');
  const written = maplab(['compare', basePath, headPath, '--format', 'md', '--out', outPath]);
  assert.equal(written.stdout, '');
  assert.match(readFileSync(outPath, 'utf8'), /\| cell \|/);
});

test('compare with a bad --alpha, --format or --test paired exits 2 naming the option and writes nothing', () => {
  const outPath = join(directory, 'never.txt');
  const alpha = maplab(['compare', basePath, headPath, '--alpha', '1.5', '--out', outPath]);
  assert.equal(alpha.code, 2);
  assert.match(alpha.stderr, /--alpha must be a number in \(0, 1\) exclusive, got "1\.5"/);
  const format = maplab(['compare', basePath, headPath, '--format', 'html', '--out', outPath]);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /--format must be one of txt, md, json/);
  const paired = maplab(['compare', basePath, headPath, '--test', 'paired', '--out', outPath]);
  assert.equal(paired.code, 2);
  assert.match(
    paired.stderr,
    /--test paired pairs trials measured side by side in one sweep, and two files are two sweeps/,
  );
  assert.equal(existsSync(outPath), false);
});

test('compare with a missing file exits 2 naming it', () => {
  const run = maplab(['compare', basePath, join(directory, 'gone.json')]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /gone\.json: cannot read results file \(ENOENT\)/);
});
