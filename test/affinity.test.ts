/**
 * Pinning measuring threads to vCPUs (harness/trial/affinity.ts): the CPU
 * list, the slot layout, and real pinning of a pool's workers on Linux.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allowedCpus,
  currentCpu,
  parseCpuList,
  resolveAffinity,
  slotCpu,
  type Affinity,
} from '../harness/trial/affinity.js';
import { MapPool } from '../harness/trial/pool.js';

const cpus = allowedCpus() ?? [];
const canPin = cpus.length >= 2 && resolveAffinity(true).pinned;

test('a kernel CPU list reads as its CPUs, ascending; anything else names the text', () => {
  assert.deepEqual(parseCpuList('0-1'), [0, 1]);
  assert.deepEqual(parseCpuList('8-9,0-3,6\n'), [0, 1, 2, 3, 6, 8, 9]);
  assert.deepEqual(parseCpuList('5'), [5]);
  assert.throws(() => parseCpuList('0-x'), /not a CPU list: "0-x"/);
  assert.throws(() => parseCpuList('3-1'), /not a CPU list: "3-1"/);
});

test('slot i of a pool runs on cpus[i mod n]: one thread on the first CPU, four on two CPUs two each', () => {
  const affinity: Affinity = { pinned: true, cpus: [2, 5] };
  assert.equal(slotCpu(affinity, 0), 2);
  assert.deepEqual(
    [0, 1, 2, 3].map((slot) => slotCpu(affinity, slot)),
    [2, 5, 2, 5],
  );
  assert.equal(slotCpu({ pinned: false, cpus: [2, 5], reason: 'off' }, 0), null);
  assert.equal(slotCpu(null, 0), null);
});

test('pinning turned off says so and pins nothing', () => {
  const off = resolveAffinity(false);
  assert.equal(off.pinned, false);
  assert.match(off.reason ?? '', /--pin false/);
});

test(
  'a pool started with CPUs has each worker on its slot CPU',
  { skip: !canPin && 'needs Linux, taskset and 2+ CPUs' },
  async () => {
    const [first, second] = cpus;
    const single = await MapPool.start({ name: 'plain' }, 1, 30_000, undefined, [second]);
    try {
      assert.deepEqual(single.workerCpus, [second]);
    } finally {
      await single.destroy();
    }
    const moved = await MapPool.start({ name: 'plain' }, 1, 30_000, undefined, [first]);
    try {
      assert.deepEqual(moved.workerCpus, [first]);
      await moved.pinTo(second, performance.now() + 30_000);
      assert.deepEqual(moved.workerCpus, [second], 'pinTo moves a 1-thread pool between trials');
    } finally {
      await moved.destroy();
    }
    const pair = await MapPool.start({ name: 'plain' }, 2, 30_000, undefined, [first, second]);
    try {
      assert.deepEqual([...pair.workerCpus].sort(), [first, second].sort(), 'one worker on each CPU');
    } finally {
      await pair.destroy();
    }
    assert.ok(Number.isInteger(currentCpu()), 'the main thread can tell where it runs');
  },
);
