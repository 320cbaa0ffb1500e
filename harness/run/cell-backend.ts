/**
 * Where a sweep's cells are measured: in this process (`LocalCellBackend`, a
 * CellRunner) or in a child process running another Node binary
 * (`RemoteCellBackend`, harness/run/trial-server.ts on the other end). The
 * interleaved scheduler (harness/run/sweep.ts) drives both the same way, so the
 * trials of cells under different runtimes alternate like those of different
 * maps: the runtime is an axis like threads.
 *
 * A remote cell's workers' reports stay in the child; the parent gets each
 * trial's figures (what the re-measure rule and pairing need) and, at the
 * end, the assembled results cell. Which trials were superseded by a re-measurement
 * is decided in the parent and sent with `finish`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { MapFactory } from '../../maps/types.js';
import { CellRunner, type BeforeMeasure, type CellProgress, type CellSpec, type TrialEntry } from './cell.js';
import type { SweepConfig } from './config.js';
import type { MapSource } from './map-source.js';
import { TrialInterruptedError } from '../trial/pool.js';
import type { ResultsCell, TrialMeta } from '../results/results.js';

/** A trial as the scheduler sees it: its figures, and whether a re-measurement replaced it. */
export interface TrialFigures {
  readonly opsPerSec: number;
  readonly quietOpsPerSec: number | null;
  readonly runqueueWaitFraction: number | null;
  superseded: boolean;
}

/** A cell being measured by some backend. */
export interface BackendCell {
  readonly spec: CellSpec;
  /** Set when the cell ended early (error or timeout). */
  ended(): boolean;
}

export interface CellBackend {
  begin(spec: CellSpec): Promise<BackendCell>;
  /**
   * One trial (round `round`); null when the cell has ended. Only an
   * interruption rejects. `beforeMeasure` runs right before the trial's
   * workers start: after its prefill here, before the request to a child.
   */
  step(
    cell: BackendCell,
    round: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    meta: TrialMeta,
    beforeMeasure?: BeforeMeasure | null,
  ): Promise<TrialFigures | null>;
  finish(cell: BackendCell): Promise<ResultsCell>;
  /** Closes every pool: the next step starts a fresh pool generation. */
  closePools(): Promise<void>;
  /** Pinned runs: where this backend's 1-thread pools run from now on (a child-process backend keeps its own). */
  oneThreadCpuIs?(cpu: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<void>;
  close(): Promise<void>;
}

class LocalCell implements BackendCell {
  constructor(readonly progress: CellProgress) {}
  get spec(): CellSpec {
    return this.progress.spec;
  }
  ended(): boolean {
    return this.progress.ended !== null;
  }
}

/** Cells measured by a CellRunner in this process. */
export class LocalCellBackend implements CellBackend {
  constructor(readonly runner: CellRunner) {}

  async begin(spec: CellSpec): Promise<BackendCell> {
    return new LocalCell(this.runner.begin(spec));
  }

  async step(
    cell: BackendCell,
    round: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    meta: TrialMeta,
    beforeMeasure: BeforeMeasure | null = null,
  ): Promise<TrialEntry | null> {
    return this.runner.step(
      (cell as LocalCell).progress,
      round,
      performance.now() + timeoutMs,
      signal,
      meta,
      beforeMeasure,
    );
  }

  async finish(cell: BackendCell): Promise<ResultsCell> {
    return this.runner.finish((cell as LocalCell).progress);
  }

  closePools(): Promise<void> {
    return this.runner.close();
  }

  oneThreadCpuIs(cpu: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    return this.runner.oneThreadCpuIs(cpu, performance.now() + timeoutMs, signal);
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}

/** Messages to the trial server. */
export type TrialServerRequest =
  | { kind: 'init'; config: SweepConfig; maps: Array<[string, MapSource]>; cores: number }
  | { kind: 'begin'; cell: number; spec: CellSpec }
  | { kind: 'step'; cell: number; round: number; timeoutMs: number; meta: TrialMeta }
  | { kind: 'finish'; cell: number; superseded: number[] }
  | { kind: 'closePools' }
  | { kind: 'close' };

/** What the trial server answers to each kind of request. */
export interface TrialServerValues {
  init: { node: string; v8: string };
  begin: null;
  /** The trial's figures, or null once the cell has ended. */
  step: Omit<TrialFigures, 'superseded'> | null;
  finish: ResultsCell;
  closePools: null;
  close: null;
}

export type TrialServerReply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { name: string; message: string } };

class RemoteCell implements BackendCell {
  readonly trials: Array<TrialFigures & { index: number }> = [];
  isEnded = false;
  constructor(
    readonly id: number,
    readonly spec: CellSpec,
  ) {}
  ended(): boolean {
    return this.isEnded;
  }
}

const TRIAL_SERVER = fileURLToPath(new URL('./trial-server.js', import.meta.url));

/** Cells measured in a child process under another Node binary (`execPath`). */
export class RemoteCellBackend implements CellBackend {
  private nextRequest = 1;
  private nextCell = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private exited: Error | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly execPath: string,
  ) {
    child.on('message', (reply: TrialServerReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
    });
    child.on('exit', (code, signalName) => {
      this.exited = new Error(`the trial server under ${execPath} exited (${signalName ?? `code ${code}`})`);
      for (const waiter of this.pending.values()) waiter.reject(this.exited);
      this.pending.clear();
    });
  }

  static async start(
    execPath: string,
    init: { config: SweepConfig; maps: ReadonlyMap<string, { source: MapSource; factory: MapFactory }>; cores: number },
  ): Promise<RemoteCellBackend> {
    const child = fork(TRIAL_SERVER, [], {
      execPath,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const backend = new RemoteCellBackend(child, execPath);
    await backend.request({
      kind: 'init',
      config: init.config,
      maps: [...init.maps].map(([name, entry]) => [name, entry.source]),
      cores: init.cores,
    });
    return backend;
  }

  async begin(spec: CellSpec): Promise<BackendCell> {
    const cell = new RemoteCell(this.nextCell++, spec);
    await this.request({ kind: 'begin', cell: cell.id, spec });
    return cell;
  }

  async step(
    cell: BackendCell,
    round: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    meta: TrialMeta,
    beforeMeasure: BeforeMeasure | null = null,
  ): Promise<TrialFigures | null> {
    const remote = cell as RemoteCell;
    if (remote.isEnded) return null;
    if (signal?.aborted) throw new TrialInterruptedError();
    // The child prefills on receiving the request: the nearest this side can come to "after the prefill".
    if (beforeMeasure !== null) meta = { ...meta, ...(await beforeMeasure()) };
    const onAbort = (): void => void this.child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const figures = await this.request({ kind: 'step', cell: remote.id, round, timeoutMs, meta });
      if (figures === null) {
        remote.isEnded = true;
        return null;
      }
      const trial = { ...figures, superseded: false, index: remote.trials.length };
      remote.trials.push(trial);
      return trial;
    } catch (error) {
      if (signal?.aborted) throw new TrialInterruptedError();
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async finish(cell: BackendCell): Promise<ResultsCell> {
    const remote = cell as RemoteCell;
    const superseded = remote.trials.filter((trial) => trial.superseded).map((trial) => trial.index);
    return await this.request({ kind: 'finish', cell: remote.id, superseded });
  }

  async closePools(): Promise<void> {
    await this.request({ kind: 'closePools' });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    try {
      await this.request({ kind: 'close' });
    } finally {
      this.child.disconnect?.();
    }
  }

  /** The trial server (harness/run/trial-server.ts) answers a request of kind K with a TrialServerValues[K]. */
  private request<K extends TrialServerRequest['kind']>(
    message: Extract<TrialServerRequest, { kind: K }>,
  ): Promise<TrialServerValues[K]> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextRequest++;
    return new Promise((resolveRequest, rejectRequest) => {
      // The structured-clone channel carries no types: the reply's value is what trial-server.ts's handler returned for this kind.
      this.pending.set(id, {
        resolve: (value) => resolveRequest(value as TrialServerValues[K]),
        reject: rejectRequest,
      });
      this.child.send({ id, message });
    });
  }
}
