/**
 * End to end: record and check 200 histories of every shared map in the
 * registry and of the test-only maps, at 2 and 4 threads. Correct maps must
 * verify; each deliberately broken map must be caught with a counterexample;
 * maps documented unsafe must come out 'unsafe', never as a pass or a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mapFactories } from '../maps/index.js';
import { UsageError } from '../harness/run/options.js';
import { verifyMaps, type VerificationReport } from '../harness/verify/index.js';
import { planOps, VALUE_STRIDE } from '../harness/verify/op-plan.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/verify-${name}.js`, import.meta.url));
const BROKEN = ['test-racy-add', 'test-stale-delete', 'test-stale-foreach'];
const FIXTURES = [
  'locked-table',
  'racy-add',
  'stale-delete',
  'stale-foreach',
  'unsafe-table',
  'hashtrie-collisions',
].map(fixture);
const HISTORIES = 200;
const safeSharedMaps = mapFactories
  .filter((factory) => factory.shared && factory.safeForConcurrentWrites)
  .map((factory) => factory.name);
const unsafeSharedMaps = mapFactories
  .filter((factory) => factory.shared && !factory.safeForConcurrentWrites)
  .map((factory) => factory.name);

/** One run per thread count over every map: one pool, started on first use. */
const runs = new Map<number, Promise<VerificationReport>>();
function runAt(threads: number): Promise<VerificationReport> {
  let run = runs.get(threads);
  if (!run) {
    run = verifyMaps({ threads, histories: HISTORIES, seed: 2024, mapModule: FIXTURES });
    runs.set(threads, run);
  }
  return run;
}

for (const threads of [2, 4]) {
  test(
    `every safe shared map in the registry, and the correct test maps, are linearizable in ${HISTORIES} histories at ${threads} threads`,
    { timeout: 120_000 },
    async () => {
      const report = await runAt(threads);
      // hashtrie-hash1: the hash trie with every key in an overflow chain (test/fixtures/verify-hashtrie-collisions).
      for (const name of [...safeSharedMaps, 'test-locked-table', 'hashtrie-hash1']) {
        const result = report.maps[name];
        assert.equal(
          result.status,
          'verified',
          `${name}: ${result.message}\n${result.counterexample?.timeline.join('\n') ?? ''}`,
        );
        assert.equal(result.histories, HISTORIES);
        assert.equal(result.checked, HISTORIES);
        assert.equal(result.violations, 0);
        assert.equal(result.counterexample, undefined);
      }
    },
  );

  test(
    `each deliberately broken test map is caught within ${HISTORIES} histories at ${threads} threads, with a counterexample`,
    { timeout: 120_000 },
    async () => {
      const report = await runAt(threads);
      for (const name of BROKEN) {
        const result = report.maps[name];
        assert.equal(result.status, 'violated', `${name}: ${result.message}`);
        assert.ok(result.violations >= 1);
        const example = result.counterexample;
        assert.ok(example, `${name} has a counterexample`);
        assert.equal(example.kind, 'linearizability');
        assert.ok(
          example.ops.some((row) => !row.context),
          'the timeline shows the violating ops',
        );
        assert.ok(example.ops.length <= example.originalOps + example.ops.filter((row) => row.context).length);
        assert.match(example.timeline.join('\n'), /key \d+: /);
      }
      assert.equal(report.passed, false, 'a safe-claiming map was violated, so the run does not pass');
    },
  );

  test(
    `maps documented unsafe for concurrent writes are reported 'unsafe' at ${threads} threads, not as a pass or a crash`,
    { timeout: 120_000 },
    async () => {
      const report = await runAt(threads);
      for (const name of [...unsafeSharedMaps, 'test-unsafe-table']) {
        const result = report.maps[name];
        assert.equal(result.status, 'unsafe', `${name}: ${result.message}`);
        assert.equal(result.error, undefined, `${name}: recording did not fail`);
        assert.match(result.message, /^unsafe/);
      }
      // The test map detects every overlapping write, so detection is certain there.
      const detected = report.maps['test-unsafe-table'];
      assert.ok(detected.concurrentWritesDetected > 0);
      assert.match(
        detected.message,
        /^unsafe: concurrent map writes detected, as documented \(in \d+ of 200 histories\)/,
      );
      assert.equal(detected.counterexample?.kind, 'exception');
      assert.match(
        detected.counterexample?.summary ?? '',
        /ConcurrentMapWriteError: concurrent map (writes|read and map write)/,
      );
    },
  );
}

test('a private map is reported "private, not shared" and not recorded', async () => {
  const report = await runAt(2);
  for (const factory of mapFactories.filter((candidate) => !candidate.shared)) {
    const result = report.maps[factory.name];
    assert.equal(result.status, 'private');
    assert.equal(result.histories, 0);
    assert.match(result.message, /^private, not shared/);
  }
});

test('a run of maps that all verify passes', async () => {
  const report = await verifyMaps({
    maps: ['js-map', 'test-locked-table'],
    mapModule: [fixture('locked-table')],
    threads: 2,
    histories: 20,
  });
  assert.equal(report.passed, true);
  assert.equal(report.maps['test-locked-table'].status, 'verified');
  assert.equal(report.maps['test-locked-table'].histories, 20);
});

test('--duration-ms stops a map before its history count', async () => {
  const report = await verifyMaps({
    maps: ['test-locked-table'],
    mapModule: [fixture('locked-table')],
    threads: 2,
    histories: 100_000_000,
    durationMs: 200,
    historiesPerTask: 10,
  });
  const result = report.maps['test-locked-table'];
  assert.ok(result.histories > 0 && result.histories < 100_000_000);
  assert.equal(result.histories % 10, 0, 'whole batches');
  assert.equal(result.status, 'verified');
});

test('bad options and unknown maps are usage errors that name the option and the allowed values', async () => {
  await assert.rejects(
    verifyMaps({ threads: 0 }),
    (error: Error) => error instanceof UsageError && /threads must be an integer 1\.\.64/.test(error.message),
  );
  await assert.rejects(
    verifyMaps({ maps: ['nope'] }),
    (error: Error) => error instanceof UsageError && /unknown map 'nope'; allowed: js-map/.test(error.message),
  );
  await assert.rejects(
    verifyMaps({ mapModule: ['/no/such/map.js'] }),
    (error: Error) =>
      error instanceof UsageError && /--map-module: no such file "\/no\/such\/map\.js"/.test(error.message),
  );
});

test('op plans are a function of (seed, history, thread) and every write names its writer and op', () => {
  const parameters = {
    seed: 5,
    historyIndex: 3,
    thread: 1,
    threads: 2,
    opsPerHistory: 64,
    keys: 6,
    maxJitterSpins: 64,
  };
  assert.deepEqual(planOps(parameters), planOps(parameters));
  assert.notDeepEqual(planOps(parameters).ops, planOps({ ...parameters, thread: 0 }).ops);
  const plan = planOps(parameters);
  const kinds = new Set(plan.ops);
  assert.equal(kinds.size, 8, 'all eight operations appear in 64 ops');
  for (let index = 0; index < plan.ops.length; index++) {
    assert.ok(plan.keys[index] >= 0 && plan.keys[index] < 6);
    const kind = ['get', 'set', 'delete', 'getOrSet', 'compareAndSet', 'add', 'size', 'forEach'][plan.ops[index]];
    if (kind === 'set' || kind === 'getOrSet' || kind === 'compareAndSet')
      assert.equal(plan.values[index], 2 * VALUE_STRIDE + index);
    if (kind === 'add') assert.ok(plan.values[index] >= 1 && plan.values[index] <= 3);
  }
});

test(
  'a map op that never returns is stopped at the batch timeout and reported as an error, not a hang',
  { timeout: 60_000 },
  async () => {
    const report = await verifyMaps({
      maps: ['test-hang', 'test-locked-table'],
      mapModule: [fixture('hang'), fixture('locked-table')],
      threads: 2,
      histories: 20,
      batchTimeoutMs: 2_000,
    });
    const hung = report.maps['test-hang'];
    assert.equal(hung.status, 'error');
    assert.match(hung.error ?? '', /test-hang: a batch of \d+ histories did not finish within 2000 ms/);
    assert.equal(report.passed, false);
    // The pool recovers: the next map records and verifies normally.
    assert.equal(report.maps['test-locked-table'].status, 'verified');
    assert.equal(report.maps['test-locked-table'].histories, 20);
  },
);
