/** Reading what else the machine did during a window (harness/trial/interference.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseSchedstat,
  parseStealNs,
  readThreadSchedstat,
  runqueueWaitFraction,
} from '../harness/trial/interference.js';

test("schedstat text gives the thread's on-CPU and run-queue wait times in ns", () => {
  assert.deepEqual(parseSchedstat('2153006536 36305804 105\n'), { onCpuNs: 2153006536, runqueueWaitNs: 36305804 });
  assert.equal(parseSchedstat('garbage'), null);
});

test('the run-queue wait share is the wait accumulated during the window over the window', () => {
  const before = { onCpuNs: 0, runqueueWaitNs: 1_000_000 };
  const after = { onCpuNs: 90_000_000, runqueueWaitNs: 11_000_000 };
  assert.equal(runqueueWaitFraction(before, after, 100_000_000), 0.1);
  assert.equal(runqueueWaitFraction(null, after, 100_000_000), null);
  assert.equal(runqueueWaitFraction(before, after, 0), null);
});

test("steal time is the 8th value of /proc/stat's cpu line, in USER_HZ ticks", () => {
  const text = 'cpu  22629 0 2988 35711 69 0 24 21 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n';
  assert.equal(parseStealNs(text), 21 * 1e7);
  assert.equal(parseStealNs('intr 1 2 3\n'), null);
});

test(
  'on Linux a thread can read its own schedstat, and the on-CPU time grows while it computes',
  { skip: process.platform !== 'linux' },
  () => {
    const before = readThreadSchedstat();
    assert.ok(before !== null);
    let sink = 0;
    for (let i = 0; i < 5e6; i++) sink += i % 7;
    const after = readThreadSchedstat();
    assert.ok(after !== null && after.onCpuNs > before.onCpuNs, `${before.onCpuNs} → ${after?.onCpuNs} (${sink})`);
  },
);
