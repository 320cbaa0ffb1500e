/**
 * `maplab verify` from the outside: exit codes (0 pass, 1 a safe map
 * violated, 2 bad input with nothing run), the table, the counterexample
 * timeline and --json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/verify-${name}.js`, import.meta.url));

function maplab(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [cli, 'verify', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('bad flags exit 2 with a message naming the flag and the allowed values, and run nothing', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--threads', '0'], /--threads must be an integer 1\.\.64, got "0"/],
    [['--keys', 'many'], /--keys must be an integer 1\.\.1024, got "many"/],
    [['--maps', 'nope'], /--maps: unknown map 'nope'; allowed: js-map/],
    [['--foreach-check', 'maybe'], /--foreach-check must be one of complete, reported, off, got "maybe"/],
    [['--map-module', '/no/such/map.js'], /--map-module: no such file "\/no\/such\/map\.js"/],
  ];
  for (const [args, message] of cases) {
    const run = maplab(...args);
    assert.equal(run.status, 2, args.join(' '));
    assert.match(run.stderr, message);
    assert.equal(run.stdout, '', 'nothing printed on stdout: no map was run');
  }
});

test('a map that claims to be safe and is violated exits 1 and prints its counterexample timeline', () => {
  const run = maplab(
    '--map-module',
    fixture('racy-add'),
    '--maps',
    'test-racy-add',
    '--threads',
    '2',
    '--histories',
    '100',
    '--seed',
    '3',
  );
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stdout, /test-racy-add +violated +100 /);
  assert.match(run.stdout, /test-racy-add: \d+ of 100 histories not linearizable/);
  assert.match(run.stdout, /counterexample from history \d+:\n {4}key \d+: /);
  assert.match(run.stdout, /\|[ ■░]+\| {2}[\d.]+–[\d.]+ µs/);
  assert.match(run.stdout, /verify: FAILED/);
});

test('maps that verify, a private map and a documented-unsafe map exit 0 with their verdicts', () => {
  const run = maplab(
    '--map-module',
    `${fixture('locked-table')},${fixture('unsafe-table')}`,
    '--maps',
    'js-map,test-locked-table,test-unsafe-table',
    '--threads',
    '2',
    '--histories',
    '50',
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /js-map +private/);
  assert.match(run.stdout, /test-locked-table: linearizable in all 50 histories/);
  assert.match(run.stdout, /test-unsafe-table: unsafe: concurrent map writes detected, as documented/);
});

test('--json prints the report: config, one result per map, and whether it passed', () => {
  const run = maplab(
    '--map-module',
    fixture('locked-table'),
    '--maps',
    'test-locked-table',
    '--threads',
    '2',
    '--histories',
    '25',
    '--json',
  );
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout) as {
    passed: boolean;
    config: { histories: number };
    maps: Record<string, { status: string; histories: number; timings: { checkUsPerHistory: number } }>;
  };
  assert.equal(report.passed, true);
  assert.equal(report.config.histories, 25);
  assert.equal(report.maps['test-locked-table'].status, 'verified');
  assert.equal(report.maps['test-locked-table'].histories, 25);
  assert.equal(typeof report.maps['test-locked-table'].timings.checkUsPerHistory, 'number');
});
