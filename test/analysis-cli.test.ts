import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readResultsFile, writeResultsFile } from '../harness/results/results.js';
import { buildCell, buildResults, usl } from './fixtures/results-builder.js';

const cli = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
const maplab = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const scratch = () => mkdtempSync(join(tmpdir(), 'maplab-analyze-'));

function scalingResults() {
  return buildResults(
    [1, 2, 4, 8, 16, 32].map((threads) =>
      buildCell({ map: 'rwmutex', workload: 'mixed', threads, opsPerSec: usl(threads, 1e6, 0.05, 0.002), samples: 20 }),
    ),
  );
}

test('analyze --csv --json prints the knee and the USL fit in the documented shape', () => {
  const dir = scratch();
  const csv = join(dir, 'points.csv');
  writeFileSync(
    csv,
    'threads,opsPerSec\n' + [1, 2, 4, 8, 16, 32].map((n) => `${n},${usl(n, 1000, 0.05, 0.002)}`).join('\n') + '\n',
  );
  const run = maplab('analyze', '--csv', csv, '--json');
  assert.equal(run.status, 0, run.stderr);
  const output = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(output), ['kneeThreads', 'usl']);
  assert.deepEqual(Object.keys(output.usl).sort(), ['kappa', 'lambda', 'peakOpsPerSec', 'peakThreads', 'r2', 'sigma']);
  assert.equal(typeof output.kneeThreads, 'number');
  assert.ok(Math.abs(output.usl.peakThreads - Math.sqrt(0.95 / 0.002)) < 0.01 * Math.sqrt(0.95 / 0.002));
});

test('analyze --csv of a linear curve prints an unbounded peak as null', () => {
  const dir = scratch();
  const csv = join(dir, 'linear.csv');
  writeFileSync(csv, '1,100\n2,200\n4,400\n8,800\n');
  const output = JSON.parse(maplab('analyze', '--csv', csv, '--json').stdout);
  assert.equal(output.usl.peakThreads, null);
  assert.equal(output.usl.kappa, 0);
  assert.equal(output.kneeThreads, null);
});

test('analyze --csv prints a readable fit without --json', () => {
  const dir = scratch();
  const csv = join(dir, 'points.csv');
  writeFileSync(csv, [1, 2, 4, 8, 16].map((n) => `${n},${usl(n, 1000, 0.1, 0.01)}`).join('\n'));
  const run = maplab('analyze', '--csv', csv);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /knee \(Kneedle\): \d+ threads/);
  assert.match(run.stdout, /σ \(contention\)\s+0\.1\b/);
  assert.match(run.stdout, /peak N\*\s+9\.\d+ threads/);
});

test('analyze --csv with a malformed line exits 2 naming the line', () => {
  const dir = scratch();
  const csv = join(dir, 'bad.csv');
  writeFileSync(csv, 'threads,opsPerSec\n1,100\n2;200\n');
  const run = maplab('analyze', '--csv', csv, '--json');
  assert.equal(run.status, 2);
  assert.match(run.stderr, /bad\.csv:3: expected 2 columns/);
  assert.equal(run.stdout, '');
});

test('analyze <results> --json prints the Analysis; without --json a table', () => {
  const dir = scratch();
  const file = join(dir, 'results.json');
  writeResultsFile(file, scalingResults());
  const json = maplab('analyze', file, '--json');
  assert.equal(json.status, 0, json.stderr);
  const analysis = JSON.parse(json.stdout);
  assert.equal(analysis.knees.length, 1);
  assert.equal(analysis.knees[0].map, 'rwmutex');
  assert.deepEqual(analysis.latencyKnees, []);
  assert.deepEqual(analysis.crossovers, []);
  const table = maplab('analyze', file);
  assert.match(table.stdout, /Scalability knees/);
  assert.match(table.stdout, /rwmutex\s+mixed\s+0\.75\s+\d+/);
});

test('analyze --write stores the analysis in the results file and leaves nothing else behind', () => {
  const dir = scratch();
  const file = join(dir, 'results.json');
  writeResultsFile(file, scalingResults());
  const run = maplab('analyze', file, '--write', '--json');
  assert.equal(run.status, 0, run.stderr);
  const stored = readResultsFile(file);
  assert.deepEqual(stored.analysis, JSON.parse(run.stdout));
  assert.deepEqual(readdirSync(dir), ['results.json']);
});

test('analyze exits 2 and writes nothing on a malformed results file, a missing input or conflicting inputs', () => {
  const dir = scratch();
  const file = join(dir, 'broken.json');
  writeFileSync(file, '{"schema": "maplab.results/1", "cells": 3}');
  const broken = maplab('analyze', file, '--write');
  assert.equal(broken.status, 2);
  assert.match(broken.stderr, /broken\.json: env must be an object/);
  assert.equal(readFileSync(file, 'utf8'), '{"schema": "maplab.results/1", "cells": 3}');
  assert.equal(maplab('analyze').status, 2);
  assert.match(maplab('analyze').stderr, /missing input/);
  assert.equal(maplab('analyze', file, '--csv', file).status, 2);
  assert.match(maplab('analyze', file, '--sensitivity', '0').stderr, /--sensitivity must be a number in \(0, 100\)/);
});
