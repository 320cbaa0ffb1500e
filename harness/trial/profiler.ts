/**
 * `--profile <dir>`: a V8 CPU profile of each worker's measured window.
 *
 * The worker opens an inspector Session on its own thread (node:inspector;
 * a same-thread session answers synchronously), starts the sampling profiler
 * after the warm-up and stops it when the window closes, then writes the
 * profile as `<dir>/<map>-<workload>-t<threads>-lf<lf>-trial<k>-w<i>.cpuprofile`
 * (Chrome DevTools / speedscope format). Warm-up, barrier and reporting are
 * outside the profile. The pool's discarded JIT warm-up trial is never profiled.
 *
 * Cost: sampling every PROFILE_SAMPLING_INTERVAL_US interrupts the thread to
 * walk its stack, so a profiled run's throughput is lower than an unprofiled
 * one's (the results file records `config.profileDir`). Compare figures from
 * unprofiled runs; read the profiles for where the time goes.
 */
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Sampling interval, µs: 100 gives ~5 000 samples per worker in a 500 ms window (V8's default, 1 000, ~500). */
export const PROFILE_SAMPLING_INTERVAL_US = 250;
export const PROFILE_EXTENSION = '.cpuprofile';

/** What names one trial's profiles; the worker appends `-w<i>.cpuprofile`. */
export interface ProfileTarget {
  dir: string;
  /** `<map>-<workload>-t<threads>-lf<lf>-trial<k>`, k counted from 1. */
  stem: string;
}

export function profileStem(
  cell: { map: string; workload: string; threads: number; loadFactor: number },
  trial: number,
): string {
  return `${safeName(cell.map)}-${safeName(cell.workload)}-t${cell.threads}-lf${cell.loadFactor}-trial${trial + 1}`;
}

export function profilePath(target: ProfileTarget, workerIndex: number): string {
  return join(target.dir, `${target.stem}-w${workerIndex}${PROFILE_EXTENSION}`);
}

/** Map and workload names come from users (plugins, workload files): keep file names portable. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._+=-]/g, '_');
}

/**
 * The sampling profiler of the calling thread, one per thread (forThisThread);
 * start() and stopAndWrite() are synchronous.
 */
export class ThreadProfiler {
  private static instance: ThreadProfiler | null = null;
  private readonly session = new Session();
  private running = false;

  /** Connected once per worker thread and kept: no session is left sampling after a trial that threw. */
  static forThisThread(): ThreadProfiler {
    ThreadProfiler.instance ??= new ThreadProfiler();
    return ThreadProfiler.instance;
  }

  private constructor() {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.setSamplingInterval', { interval: PROFILE_SAMPLING_INTERVAL_US });
  }

  /** Starts a fresh profile (one left running by a failed trial is discarded). */
  start(): void {
    if (this.running) this.post('Profiler.stop');
    this.post('Profiler.start');
    this.running = true;
  }

  /** Stops sampling and writes the profile to `path`. */
  stopAndWrite(path: string): void {
    const { profile } = this.post('Profiler.stop') as { profile: unknown };
    this.running = false;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(profile));
  }

  /** A same-thread session dispatches synchronously: the callback has run when post() returns. */
  private post(method: string, params?: object): unknown {
    let outcome: { error: Error | null; result: unknown } | undefined;
    this.session.post(method, params ?? {}, (error: Error | null, result?: unknown) => {
      outcome = { error, result };
    });
    if (outcome === undefined) throw new Error(`inspector ${method} did not answer synchronously`);
    if (outcome.error) throw outcome.error;
    return outcome.result;
  }
}
