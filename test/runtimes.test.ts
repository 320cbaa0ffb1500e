import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../harness/run/options.js';
import {
  binaryInPrefix,
  installRuntime,
  listRuntimes,
  parseNodeList,
  pruneRuntimes,
  resolveNodeVersion,
  resolveRuntimes,
  type RuntimeInstaller,
} from '../harness/run/runtime-install.js';

const CLI = fileURLToPath(new URL('../scripts/cli.js', import.meta.url));

function maplab(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tempCache(): string {
  return mkdtempSync(join(tmpdir(), 'maplab-runtimes-test-'));
}

/** A stand-in for a node binary: prints `<reported> <v8>` whatever it is asked, as `node -p` would. */
function writeFakeNode(path: string, reported: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `#!/bin/sh\necho "${reported} 11.3.0-fake"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Installs a fake node reporting `v<version>` (or `reports`), counting its calls. */
function fakeInstaller(reports?: string): RuntimeInstaller & { calls: number } {
  const installer = Object.assign(
    async (version: string, prefixDir: string) => {
      installer.calls++;
      writeFakeNode(binaryInPrefix(prefixDir), reports ?? `v${version}`);
    },
    { calls: 0 },
  );
  return installer;
}

const exactResolver = async (spec: string): Promise<string> => (spec === '24' ? '24.21.0' : spec);

test('--node accepts current, majors from 20, exact versions and paths, and names the option on anything else', () => {
  assert.deepEqual(parseNodeList('current, 20,24.21.0,./bin/node', '--node'), [
    'current',
    '20',
    '24.21.0',
    './bin/node',
  ]);
  assert.deepEqual(parseNodeList(['22', '/usr/bin/node'], 'config: node'), ['22', '/usr/bin/node']);
  for (const bad of ['18', '19.9.0', 'latest', '24.1', 'lts', '']) {
    assert.throws(
      () => parseNodeList(bad === '' ? ',' : bad, '--node'),
      (error: unknown) => error instanceof UsageError && /^--node(\[0\])? must be/.test(error.message),
      bad,
    );
  }
});

test('installRuntime installs into node-<version> of the cache and reuses it on the next call', async () => {
  const cacheDir = tempCache();
  const installer = fakeInstaller();
  const runtime = await installRuntime('24', { cacheDir, installer, resolver: exactResolver });
  assert.deepEqual(runtime, {
    spec: '24',
    execPath: join(cacheDir, 'node-24.21.0', 'node_modules', 'node', 'bin', 'node'),
    node: 'v24.21.0',
    v8: '11.3.0-fake',
  });
  const again = await installRuntime('24.21.0', { cacheDir, installer, resolver: exactResolver });
  assert.equal(again.execPath, runtime.execPath);
  assert.equal(installer.calls, 1);
  assert.deepEqual(readdirSync(cacheDir), ['node-24.21.0']);
});

test('a failed install leaves nothing in the cache: no runtime, no temporary folder', async () => {
  const cacheDir = tempCache();
  const wrongBinary = fakeInstaller('v20.0.0');
  await assert.rejects(
    installRuntime('24', { cacheDir, installer: wrongBinary, resolver: exactResolver }),
    /reports v20\.0\.0/,
  );
  const throwing: RuntimeInstaller = async (_version, prefixDir) => {
    writeFileSync(join(prefixDir, 'partial'), 'half a download');
    throw new Error('connection reset');
  };
  await assert.rejects(
    installRuntime('24', { cacheDir, installer: throwing, resolver: exactResolver }),
    /connection reset/,
  );
  const noBinary: RuntimeInstaller = async () => {};
  await assert.rejects(installRuntime('24', { cacheDir, installer: noBinary, resolver: exactResolver }), /is missing/);
  assert.deepEqual(readdirSync(cacheDir), []);
  assert.deepEqual(listRuntimes({ cacheDir }), []);
});

test('listRuntimes lists cached versions oldest first; pruneRuntimes keeps what --keep names and removes the rest', () => {
  const cacheDir = tempCache();
  for (const version of ['24.21.0', '20.20.2', '22.23.3', '24.9.0'])
    writeFakeNode(binaryInPrefix(join(cacheDir, `node-${version}`)), `v${version}`);
  mkdirSync(join(cacheDir, '.installing-node-24.22.0-abc'));
  assert.deepEqual(
    listRuntimes({ cacheDir }).map((runtime) => runtime.version),
    ['20.20.2', '22.23.3', '24.9.0', '24.21.0'],
  );
  const removed = pruneRuntimes({ cacheDir, keep: ['24', '20.20.2'] })
    .map((path) => path.slice(cacheDir.length + 1))
    .sort();
  assert.deepEqual(removed, ['.installing-node-24.22.0-abc', 'node-22.23.3']);
  assert.deepEqual(
    listRuntimes({ cacheDir }).map((runtime) => runtime.version),
    ['20.20.2', '24.9.0', '24.21.0'],
  );
  assert.throws(() => pruneRuntimes({ cacheDir, keep: ['current'] }), /--keep\[0\] must be a major/);
  assert.equal(pruneRuntimes({ cacheDir }).length, 3);
  assert.deepEqual(readdirSync(cacheDir), []);
});

test('resolveRuntimes reads current and paths by running them, installs versions, and refuses one Node twice', async () => {
  const cacheDir = tempCache();
  const fakePath = writeFakeNode(join(cacheDir, 'elsewhere', 'node'), 'v23.1.0');
  const installer = fakeInstaller();
  // A version no real binary here reports, so `current` never collides with it.
  const resolver = async (spec: string): Promise<string> => (spec === '99' ? '99.1.0' : spec);
  const runtimes = await resolveRuntimes(['current', fakePath, '99'], { cacheDir, installer, resolver });
  assert.deepEqual(
    runtimes.map((runtime) => [runtime.spec, runtime.node]),
    [
      ['current', process.version],
      [fakePath, 'v23.1.0'],
      ['99', 'v99.1.0'],
    ],
  );
  assert.equal(runtimes[0].v8, process.versions.v8);
  await assert.rejects(
    resolveRuntimes(['99', '99.1.0'], { cacheDir, installer, resolver }),
    (error: unknown) => error instanceof UsageError && /99 and 99\.1\.0 are both Node v99\.1\.0/.test(error.message),
  );
  await assert.rejects(
    resolveRuntimes([join(cacheDir, 'missing', 'node')]),
    (error: unknown) => error instanceof UsageError && /missing\/node: no such file/.test(error.message),
  );
  const notNode = join(cacheDir, 'not-node.sh');
  writeFileSync(notNode, '#!/bin/sh\necho hello\n');
  chmodSync(notNode, 0o755);
  await assert.rejects(
    resolveRuntimes([notNode]),
    (error: unknown) => error instanceof UsageError && /does not run as a node binary/.test(error.message),
  );
});

test('maplab runtimes install with the registry unreachable exits 2 naming the registry, and writes nothing', () => {
  const cacheDir = join(tempCache(), 'cache');
  const run = maplab(['runtimes', 'install', '24', '--dir', cacheDir], { npm_config_registry: 'http://127.0.0.1:9/' });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /cannot resolve it from the npm registry's node package .*ECONNREFUSED/);
  assert.equal(existsSync(cacheDir), false);
});

test('maplab runtimes install refuses current and old versions; list and prune work on --dir', () => {
  const cacheDir = tempCache();
  assert.match(
    maplab(['runtimes', 'install', 'current', '--dir', cacheDir]).stderr,
    /spec\[0\] must be a major \(24\) or an exact version/,
  );
  assert.equal(maplab(['runtimes', 'install', '18', '--dir', cacheDir]).code, 2);
  writeFakeNode(binaryInPrefix(join(cacheDir, 'node-22.23.3')), 'v22.23.3');
  writeFakeNode(binaryInPrefix(join(cacheDir, 'node-24.21.0')), 'v24.21.0');
  assert.match(maplab(['runtimes', 'list', '--dir', cacheDir]).stdout, /22\.23\.3 .*node-22\.23\.3.*\n.*24\.21\.0/);
  const pruned = maplab(['runtimes', 'prune', '--keep', '24', '--dir', cacheDir]);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, /^removed .*node-22\.23\.3\n$/);
  assert.deepEqual(readdirSync(cacheDir), ['node-24.21.0']);
});

test(
  'resolveNodeVersion gives the newest 24.x.y from the real registry (opt-in: MAPLAB_TEST_REGISTRY=1)',
  { skip: process.env.MAPLAB_TEST_REGISTRY !== '1' },
  async () => {
    assert.match(await resolveNodeVersion('24'), /^24\.\d+\.\d+$/);
    assert.equal(await resolveNodeVersion('24.21.0'), '24.21.0');
    await assert.rejects(
      resolveNodeVersion('20.99.99'),
      (error: unknown) => error instanceof UsageError && /no such version|No match/.test(error.message),
    );
  },
);
