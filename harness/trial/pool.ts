/**
 * A pool of exactly `threads` workers for one map: the unit of JIT isolation.
 *
 * Every (map, thread count) gets its own fresh piscina pool, so a worker's JIT
 * feedback has only ever seen one map class — the way JMH forks a JVM per
 * benchmark — and a map's numbers cannot depend on which maps ran before it.
 * The pool is started (and every thread has loaded the map module and passed
 * a barrier) before anything is measured. One task per thread per trial; with
 * one task per worker at a time and every task blocking on the start barrier
 * until all have arrived, the N tasks of a trial necessarily run on N
 * distinct threads.
 *
 * A trial that outlives its deadline is aborted through the control block; if
 * its workers do not come back within a grace period (a deadlocked map), the
 * pool is destroyed (worker.terminate interrupts spinning and waiting JS alike)
 * and the caller builds a new one.
 */
import { Piscina } from 'piscina';
import { TrialControl } from './control.js';
import type { MapSource } from '../run/map-source.js';
import type { HandoffReport, HandoffTask } from './handoff.js';
import type { PinTask, ReadyReport, ReadyTask, TrialTask, WorkerOutcome } from './worker.js';

const WORKER_URL = new URL('./worker.js', import.meta.url).href;
/** After an abort, how long workers get to notice it before the pool is torn down. */
const ABORT_GRACE_MS = 500;

/** The trial (or the pool start) did not finish in time. `poolDestroyed`: the workers had to be killed. */
export class TrialTimeoutError extends Error {
  constructor(
    readonly poolDestroyed: boolean,
    readonly detail: string,
  ) {
    super(`timeout: ${detail}`);
    this.name = 'TrialTimeoutError';
  }
}

/** The sweep was interrupted (Ctrl-C) while a trial ran. */
export class TrialInterruptedError extends Error {
  constructor() {
    super('interrupted');
    this.name = 'TrialInterruptedError';
  }
}

export class MapPool {
  private destroyed = false;
  /** How long the start took (threads up, map module loaded, barrier passed), ms. */
  startMs = 0;
  /** The CPU each worker was on when it reached the start barrier (null off Linux). */
  workerCpus: Array<number | null> = [];
  /** A 1-thread pool's pinned CPU (null: not pinned); pinTo to the same CPU is then a no-op. */
  private pinnedCpu: number | null = null;

  private constructor(
    private readonly piscina: Piscina,
    readonly threads: number,
    readonly map: MapSource,
  ) {}

  /**
   * Starts `threads` workers and waits until each has loaded the map module
   * and reached a barrier. With `cpus`, the worker that arrives i-th pins
   * itself to cpus[i mod cpus.length] first (harness/trial/affinity.ts); a
   * worker that cannot fails the start.
   */
  static async start(
    map: MapSource,
    threads: number,
    timeoutMs: number,
    signal?: AbortSignal,
    cpus: readonly number[] | null = null,
  ): Promise<MapPool> {
    const startedAt = performance.now();
    const piscina = new Piscina({
      filename: WORKER_URL,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
    });
    const pool = new MapPool(piscina, threads, map);
    const control = new TrialControl();
    const ready: ReadyTask = {
      kind: 'ready',
      control: control.buffer,
      workerCount: threads,
      map,
      cpus: cpus === null ? null : [...cpus],
      slots: new SharedArrayBuffer(4),
    };
    let arrivals: ReadyReport[];
    try {
      arrivals = await pool.settle(
        Array.from({ length: threads }, () => piscina.run(ready) as Promise<ReadyReport>),
        control,
        startedAt + timeoutMs,
        signal,
      );
    } catch (error) {
      await pool.destroy();
      throw error;
    }
    pool.workerCpus = arrivals.map((arrival) => arrival.cpu);
    if (threads === 1 && cpus !== null && cpus.length > 0) pool.pinnedCpu = cpus[0];
    pool.startMs = performance.now() - startedAt;
    return pool;
  }

  /**
   * Runs one trial: one task per worker, all sharing `control`. Resolves with
   * every worker's outcome; rejects with TrialTimeoutError past `deadlineMs`
   * (performance.now) or TrialInterruptedError when `signal` aborts.
   */
  runTrial(
    tasks: TrialTask[],
    control: TrialControl,
    deadlineMs: number,
    signal?: AbortSignal,
  ): Promise<WorkerOutcome[]> {
    if (this.destroyed) throw new Error('runTrial on a destroyed pool');
    if (tasks.length !== this.threads)
      throw new RangeError(`a trial needs exactly ${this.threads} tasks, got ${tasks.length}`);
    const runs = tasks.map((task) => this.piscina.run(task) as Promise<WorkerOutcome>);
    return this.settle(runs, control, deadlineMs, signal);
  }

  /**
   * Runs one handoff-probe reading (harness/trial/handoff.ts) on a two-thread
   * pool: one task per worker, both held at `control`'s barrier. Resolves with
   * both reports (null for a worker aborted before the start).
   */
  runHandoff(
    tasks: [HandoffTask, HandoffTask],
    control: TrialControl,
    deadlineMs: number,
    signal?: AbortSignal,
  ): Promise<Array<HandoffReport | null>> {
    if (this.destroyed) throw new Error('runHandoff on a destroyed pool');
    if (this.threads !== 2) throw new RangeError(`a handoff reading needs a pool of 2 threads, not ${this.threads}`);
    const runs = tasks.map((task) => this.piscina.run(task) as Promise<HandoffReport | null>);
    return this.settle(runs, control, deadlineMs, signal);
  }

  /**
   * Moves the worker of a 1-thread pool to `cpu` (affinity.ts), between
   * trials. Rejects like a trial on deadline or signal; a worker that cannot
   * pin fails it.
   */
  async pinTo(cpu: number, deadlineMs: number, signal?: AbortSignal): Promise<void> {
    if (this.destroyed) throw new Error('pinTo on a destroyed pool');
    if (this.threads !== 1) throw new RangeError(`pinTo moves the worker of a 1-thread pool, not of ${this.threads}`);
    if (cpu === this.pinnedCpu) return;
    const control = new TrialControl();
    const task: PinTask = { kind: 'pin', control: control.buffer, cpu };
    const [where] = await this.settle([this.piscina.run(task) as Promise<number | null>], control, deadlineMs, signal);
    this.workerCpus = [where];
    this.pinnedCpu = cpu;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.piscina.destroy();
  }

  /** Awaits every task, or aborts them on deadline / signal, destroying the pool if they do not stop. */
  private async settle<T>(
    runs: Promise<T>[],
    control: TrialControl,
    deadlineMs: number,
    signal: AbortSignal | undefined,
  ): Promise<T[]> {
    const all = Promise.all(runs);
    all.catch(() => undefined); // rejections after a teardown are expected
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<'timeout' | 'interrupted'>((resolveStop) => {
      timer = setTimeout(() => resolveStop('timeout'), Math.max(0, deadlineMs - performance.now()));
      if (signal) {
        onAbort = () => resolveStop('interrupted');
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    try {
      let first: T[] | 'timeout' | 'interrupted';
      try {
        first = await Promise.race([all, stop]);
      } catch (error) {
        // A worker died (not a map error: those come back as data); the others may sit at the barrier.
        control.abort();
        await this.destroy();
        throw error;
      }
      if (first !== 'timeout' && first !== 'interrupted') return first;
      control.abort();
      const cooperative = await Promise.race([
        all.then(
          () => true,
          () => false,
        ),
        delay(ABORT_GRACE_MS).then(() => false),
      ]);
      if (!cooperative) await this.destroy();
      if (first === 'interrupted') throw new TrialInterruptedError();
      const arrived = control.arrived();
      throw new TrialTimeoutError(
        !cooperative,
        `${arrived} of ${runs.length} workers reached the start barrier; ` +
          (cooperative ? 'the workers stopped when aborted' : 'the workers did not stop and the pool was torn down'),
      );
    } finally {
      clearTimeout(timer);
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolveDelay) => setTimeout(resolveDelay, ms).unref());
}
