/**
 * The hiccup meter's thread (harness/trial/hiccup.ts): one message per trial, a
 * blocking measurement, one report back. Nothing else runs on this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pinThisThread } from './affinity.js';
import { performance } from 'node:perf_hooks';
import { localClockOffsetMs } from './clock.js';
import { TrialControl } from './control.js';
import { LatencyHistogram } from './histogram.js';
import { recordHiccup, type HiccupReport, type HiccupTask } from './hiccup.js';

/** Never written: the meter sleeps on it with a timeout. */
const sleepWord = new Int32Array(new SharedArrayBuffer(4));

export function measureHiccups(task: HiccupTask): HiccupReport {
  const control = new TrialControl(task.control);
  const histogram = new LatencyHistogram();
  const offsetMs = localClockOffsetMs();
  const releaseNs = control.waitForRelease();
  if (releaseNs === null) return { histogram: histogram.toData(), wakes: 0, awakeFraction: 0, aborted: true };
  const windowStartMs = releaseNs / 1e6 + offsetMs + task.warmupMs;
  const windowEndMs = windowStartMs + task.durationMs;
  const intervalNs = task.intervalMs * 1e6;
  let wakes = 0;
  let awakeMs = 0;
  let wokeMs = performance.now();
  while (wokeMs < windowEndMs && !control.aborted()) {
    const asleepMs = performance.now();
    const inWindow = asleepMs >= windowStartMs;
    if (inWindow) awakeMs += asleepMs - wokeMs;
    Atomics.wait(sleepWord, 0, 0, task.intervalMs);
    wokeMs = performance.now();
    if (inWindow) {
      recordHiccup(histogram, (wokeMs - asleepMs) * 1e6 - intervalNs, intervalNs);
      wakes++;
    }
  }
  return { histogram: histogram.toData(), wakes, awakeFraction: awakeMs / task.durationMs, aborted: control.aborted() };
}

parentPort?.on('message', (task: HiccupTask) => parentPort?.postMessage(measureHiccups(task)));
// Pinned (affinity.ts) to a CPU the trial's workers leave free where there is one; a failed pin only leaves it unpinned.
if (typeof workerData?.cpu === 'number') pinThisThread(workerData.cpu);
parentPort?.postMessage('ready');
