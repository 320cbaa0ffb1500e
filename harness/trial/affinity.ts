/**
 * Which vCPU each measuring thread runs on.
 *
 * Why (EVIDENCE.md, "Which vCPU"): on this kind of 2-vCPU VM the two vCPUs
 * do not run at the same speed. Pinned with taskset, one trial after another,
 * `rwmutex` mixed at 1 thread ran 13.6 M ops/s on CPU 0 and 8.6 M on CPU 1,
 * `js-map` 16.5 vs 12.3 M, for as long as we looked; a compute-bound loop
 * differed by 10%. Left to the scheduler, a 1-thread trial lands on either,
 * so a cell's trials were a mix of two levels and a pair's two trials could
 * sit on different vCPUs: the paired ratios at 1 thread had their p90 at
 * 18%. Pinned, every 1-thread trial, the drift sentinel's, and a map's pair
 * partner run on the same vCPU.
 *
 * The layout: a pool's workers take slots in the order they arrive at the
 * start barrier, and slot i runs on cpus[i mod cpus.length]: 2 threads on
 * one CPU each, 4 on 2 cores two per CPU. 1-thread pools and the drift
 * sentinel run on one CPU together: the first, until an interleaved sweep
 * picks the fastest by the sentinel at the start of each round (sweep.ts
 * chooseOneThreadCpu) and moves them (MapPool.pinTo). Which vCPU is slow
 * changes between runs: pinned to CPU 0 regardless, one run of a pair
 * measured every 1-thread cell on its slow vCPU (rwmutex 11.3 M against
 * 17.9 M). The placement probe's two threads sit on different
 * vCPUs, so every reading is a cross-vCPU handoff. The hiccup meter takes the
 * last CPU when the trial leaves it free.
 *
 * How: Linux only, `taskset -p -c <cpu> <thread id>` on the worker's own
 * thread (util-linux; Node has no affinity call, and a native addon for one
 * syscall per worker would be a build dependency). A spawn costs ~3 ms, once
 * per worker and pool, outside any timed window. Where taskset is missing or
 * refuses, nothing is pinned and the results say why.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

/** What the sweep found out about pinning, recorded in the results' env. */
export interface Affinity {
  /** true when measuring threads are pinned (the layout above). */
  pinned: boolean;
  /** The CPUs this process may run on, in order: slot i of a pool runs on cpus[i mod length]. */
  cpus: number[];
  /** Why nothing is pinned (pinned false). */
  reason?: string;
}

/** Parses a kernel CPU list ("0-3,6,8-9") into its CPUs, ascending. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) throw new RangeError(`not a CPU list: "${text}"`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw new RangeError(`not a CPU list: "${text}"`);
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The CPUs this process may run on (Cpus_allowed_list), or null off Linux. */
export function allowedCpus(): number[] | null {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const line = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
    return line ? parseCpuList(line[1]) : null;
  } catch {
    return null;
  }
}

/** This thread's kernel thread id (Linux), or null; not worker_threads' threadId. */
export function kernelThreadId(): number | null {
  try {
    const link = readlinkSync('/proc/thread-self'); // "<pid>/task/<tid>"
    const tid = Number(link.split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** Pins the calling thread to `cpus` (one CPU or a list). Returns null, or why it could not. */
export function pinThisThread(cpus: number | readonly number[]): string | null {
  const tid = kernelThreadId();
  if (tid === null) return 'no /proc/thread-self (not Linux)';
  const list = typeof cpus === 'number' ? String(cpus) : cpus.join(',');
  try {
    execFileSync('taskset', ['-p', '-c', list, String(tid)], { stdio: 'ignore', timeout: 5000 });
    return null;
  } catch (error) {
    return `taskset -p -c ${list} ${tid} failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

/** The CPU the calling thread last ran on (/proc/thread-self/stat field 39), or null. */
export function currentCpu(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = Number(fields[36]); // field 39 of the full line; fields here start at field 3
    return Number.isInteger(cpu) ? cpu : null;
  } catch {
    return null;
  }
}

/**
 * Decides once per sweep whether to pin: asked to, on Linux, with two or more
 * allowed CPUs and a taskset that can pin this process's main thread to the
 * CPUs it already has (a no-op that proves the tool works).
 */
export function resolveAffinity(wanted: boolean): Affinity {
  const cpus = allowedCpus() ?? [];
  if (!wanted) return { pinned: false, cpus, reason: 'turned off (--pin false)' };
  if (cpus.length < 2) return { pinned: false, cpus, reason: 'fewer than 2 CPUs to choose from' };
  const failure = pinThisThread(cpus);
  return failure === null ? { pinned: true, cpus } : { pinned: false, cpus, reason: failure };
}

/** The CPU of pool slot `slot`, or null when not pinning. */
export function slotCpu(affinity: Affinity | null, slot: number): number | null {
  if (affinity === null || !affinity.pinned) return null;
  return affinity.cpus[slot % affinity.cpus.length];
}
