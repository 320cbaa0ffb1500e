/**
 * The GitHub Actions workflow cannot run here: these tests check that it is
 * valid YAML of the expected shape (a shards × machine kinds × Node matrix
 * feeding one merge-and-publish job) and that every maplab command and flag
 * it runs exists. js-yaml is the parser eslint already installs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));
const WORKFLOW = `${ROOT}.github/workflows/bench.yml`;
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  id?: string;
}
interface Job {
  'runs-on': string;
  needs?: string;
  strategy?: { matrix: Record<string, unknown[]> };
  steps: Step[];
  permissions?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  env: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const workflow = yaml.load(readFileSync(WORKFLOW, 'utf8')) as Workflow;
const runText = (job: Job) =>
  job.steps
    .map((step) => step.run ?? '')
    .join('\n')
    .replace(/\\\n\s*/g, ' ');
const uses = (job: Job) => job.steps.map((step) => step.uses?.replace(/@.*$/, '')).filter(Boolean);

test('the workflow is a matrix of shards × machine kinds × Node versions, one sweep shard per job', () => {
  const sweep = workflow.jobs.sweep;
  const matrix = sweep.strategy?.matrix as { shard: number[]; runner: string[]; node: number[] };
  assert.deepEqual(
    matrix.shard,
    Array.from({ length: Number(workflow.env.SHARDS) }, (_, index) => index + 1),
    'shard is 1..SHARDS',
  );
  assert.ok(matrix.runner.length >= 2 && matrix.node.length >= 2, 'more than one machine kind and runtime');
  assert.equal(sweep['runs-on'], '${{ matrix.runner }}');
  assert.equal(
    sweep.steps.find((step) => step.uses?.startsWith('actions/setup-node'))?.with?.['node-version'],
    '${{ matrix.node }}',
  );
  assert.match(runText(sweep), /sweep --preset "\$PRESET" --shard \$\{\{ matrix\.shard \}\}\/\$SHARDS/);
  assert.ok(uses(sweep).includes('actions/upload-artifact'));
});

test('one job after the matrix merges, gates, renders the history and publishes it to GitHub Pages', () => {
  const publish = workflow.jobs.publish;
  assert.equal(publish.needs, 'sweep');
  assert.deepEqual(
    uses(publish).filter((name) => name !== 'actions/checkout' && name !== 'actions/setup-node'),
    ['actions/download-artifact', 'actions/configure-pages', 'actions/upload-pages-artifact', 'actions/deploy-pages'],
  );
  assert.equal(publish.permissions?.pages, 'write');
  const run = runText(publish);
  for (const command of ['merge', 'gate', 'report'])
    assert.match(run, new RegExp(`cli\\.js ${command} `), `runs maplab ${command}`);
});

test('every maplab command and flag the workflow runs exists', () => {
  const lines = Object.values(workflow.jobs).flatMap((job) => runText(job).split('\n'));
  const invocations = lines.flatMap((line) => [...line.matchAll(/node dist\/scripts\/cli\.js (\w+)([^;|&]*)/g)]);
  assert.ok(invocations.length >= 4);
  for (const [, command, rest] of invocations) {
    const help = spawnSync(process.execPath, [CLI, command, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, `maplab ${command} exists`);
    for (const [flag] of rest.matchAll(/--[a-z][a-z-]*/g))
      assert.ok(help.stdout.includes(`${flag} `) || help.stdout.includes(`${flag}\n`), `maplab ${command} ${flag}`);
  }
});
