/**
 * What else the machine did to a measured window: how long each worker thread
 * waited for a CPU while it wanted one, and how much time the hypervisor
 * stole from the VM.
 *
 * - Run-queue wait: Linux's per-thread `/proc/thread-self/schedstat` gives
 *   "ns on a CPU, ns runnable but waiting on a run queue, timeslices". A
 *   worker reads it at its window's start and end; the waiting share of the
 *   window is time the map's code could not run because another thread
 *   (another process, the main thread, a sentinel) had the core. A worker
 *   that sleeps by design (Atomics.wait in a lock) is not waiting on a run
 *   queue then, so lock sleeps do not count.
 * - Steal: the `steal` column of `/proc/stat`'s first line, in USER_HZ ticks
 *   summed over CPUs: time the hypervisor ran someone else on our vCPUs.
 *
 * Both are null where /proc does not have them (other systems): the sweep
 * then flags trials by the drift sentinel alone.
 */
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc/stat (USER_HZ; 100 on every Linux ABI Node runs on). */
const USER_HZ = 100;

export interface SchedSample {
  onCpuNs: number;
  runqueueWaitNs: number;
}

/** This thread's CPU and run-queue time so far, or null without /proc/thread-self/schedstat. */
export function readThreadSchedstat(): SchedSample | null {
  try {
    return parseSchedstat(readFileSync('/proc/thread-self/schedstat', 'utf8'));
  } catch {
    return null;
  }
}

/** "onCpuNs runqueueWaitNs timeslices" → the two times; null if the text is not that. */
export function parseSchedstat(text: string): SchedSample | null {
  const fields = text.trim().split(/\s+/).map(Number);
  if (fields.length < 2 || !fields.slice(0, 2).every(Number.isFinite)) return null;
  return { onCpuNs: fields[0], runqueueWaitNs: fields[1] };
}

/** The machine's stolen time so far, ns (all CPUs summed), or null without /proc/stat. */
export function readStealNs(): number | null {
  try {
    return parseStealNs(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

/** The steal column (8th value) of /proc/stat's aggregate `cpu` line, in ns; null if absent. */
export function parseStealNs(text: string): number | null {
  const line = text.split('\n').find((candidate) => candidate.startsWith('cpu '));
  if (line === undefined) return null;
  const ticks = Number(line.trim().split(/\s+/)[8]);
  return Number.isFinite(ticks) ? (ticks * 1e9) / USER_HZ : null;
}

/** Share of a window the thread spent runnable but not running: (wait after − wait before) / window. */
export function runqueueWaitFraction(
  before: SchedSample | null,
  after: SchedSample | null,
  windowNs: number,
): number | null {
  if (before === null || after === null || !(windowNs > 0)) return null;
  return Math.max(0, after.runqueueWaitNs - before.runqueueWaitNs) / windowNs;
}
