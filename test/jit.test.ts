import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  currentJitMode,
  measuringNodeFlags,
  relaunchArguments,
  requestedJitMode,
  SYNC_JIT_FLAG,
} from '../harness/run/jit.js';
import { UsageError } from '../harness/run/options.js';

test('the JIT mode is read from the process flags, and MAPLAB_JIT defaults to sync', () => {
  assert.equal(currentJitMode([]), 'concurrent');
  assert.equal(currentJitMode(['--enable-source-maps', SYNC_JIT_FLAG]), 'sync');
  assert.equal(requestedJitMode({}), 'sync');
  assert.equal(requestedJitMode({ MAPLAB_JIT: '' }), 'sync');
  assert.equal(requestedJitMode({ MAPLAB_JIT: 'concurrent' }), 'concurrent');
  assert.throws(
    () => requestedJitMode({ MAPLAB_JIT: 'SYNC' }),
    (error: unknown) =>
      error instanceof UsageError && /MAPLAB_JIT must be one of sync, concurrent, got 'SYNC'/.test(error.message),
  );
});

test('a relaunch keeps the node flags and the script arguments, with the sync flag first', () => {
  assert.deepEqual(relaunchArguments(['--inspect'], ['/usr/bin/node', '/x/cli.js', 'sweep', '--preset', 'quick']), [
    SYNC_JIT_FLAG,
    '--inspect',
    '/x/cli.js',
    'sweep',
    '--preset',
    'quick',
  ]);
});

test('a measuring child starts with the sync flag unless MAPLAB_JIT=concurrent, so it need not relaunch', () => {
  assert.deepEqual(measuringNodeFlags({}), [SYNC_JIT_FLAG]);
  assert.deepEqual(measuringNodeFlags({ MAPLAB_JIT: 'concurrent' }), []);
  assert.equal(currentJitMode(measuringNodeFlags({})), 'sync');
  assert.throws(() => measuringNodeFlags({ MAPLAB_JIT: 'fast' }), UsageError);
});
