/**
 * The main-thread side of recording: a piscina pool with exactly one worker
 * per recording thread, and batches of histories dispatched as one task per
 * thread (a task carries many histories, so the 50–200 µs dispatch cost is
 * paid once per batch, not per history). Each history runs on a fresh map
 * created here, so every history starts from an empty map.
 */
import { Piscina } from 'piscina';
import type { MapFactory, MapHandle } from '../../maps/types.js';
import { BatchControl } from './barrier.js';
import { describeCall, VERIFY_OP_NAMES, type ForEachEntry, type History, type HistoryOp } from './history.js';
import type { ThrownOp } from './counterexample.js';
import type { MapSource } from '../run/map-source.js';
import { ABSENT } from './model.js';
import type { RecordTask, ThreadRecord } from './worker.js';

export interface RecordParameters {
  threads: number;
  opsPerHistory: number;
  keys: number;
  seed: number;
  /** Capacity each fresh map is created with (small, so histories cross resizes). */
  capacity: number;
  maxJitterSpins: number;
  /** A batch that takes longer than this is stopped and reported as hung. */
  batchTimeoutMs: number;
}

export interface RecordedHistory {
  history: History;
  /** Ops that threw (at most one per thread); when there are any, the history is not checked. */
  thrown: ThrownOp[];
}

/** The batch did not finish in time: a map op never returned, or a worker died. */
export class RecordingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingError';
  }
}

export class HistoryRecorder {
  private readonly pool: Piscina<RecordTask, ThreadRecord[]>;

  constructor(readonly threads: number) {
    this.pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    });
  }

  /** Records `count` histories (global indexes firstHistoryIndex…) of the map; one fresh map each. */
  async record(
    factory: MapFactory,
    source: MapSource,
    firstHistoryIndex: number,
    count: number,
    parameters: RecordParameters,
  ): Promise<RecordedHistory[]> {
    const handles: MapHandle[] = Array.from({ length: count }, () => factory.create({ capacity: parameters.capacity }));
    const buffer = BatchControl.allocate(count);
    const control = new BatchControl(buffer, count);
    const abortController = new AbortController();
    const timer = setTimeout(() => {
      control.abort();
      abortController.abort();
    }, parameters.batchTimeoutMs);
    try {
      const tasks = Array.from({ length: this.threads }, (_, thread) =>
        this.pool
          .run(
            {
              map: source,
              handles,
              firstHistoryIndex,
              thread,
              threads: this.threads,
              opsPerHistory: parameters.opsPerHistory,
              keys: parameters.keys,
              seed: parameters.seed,
              maxJitterSpins: parameters.maxJitterSpins,
              barrierTimeoutMs: parameters.batchTimeoutMs,
              control: buffer,
            },
            { signal: abortController.signal },
          )
          .catch((error: unknown) => {
            control.abort(); // the other threads would wait at the next barrier for this one
            throw error;
          }),
      );
      const settled = await Promise.allSettled(tasks);
      if (abortController.signal.aborted) {
        throw new RecordingError(
          `${source.name}: a batch of ${count} histories did not finish within ${parameters.batchTimeoutMs} ms (a map operation never returned?)`,
        );
      }
      const failed = settled.find((outcome) => outcome.status === 'rejected');
      if (failed) {
        const reason = failed.reason as unknown;
        throw new RecordingError(
          `${source.name}: a recording worker failed: ${reason instanceof Error ? reason.message : String(reason)}`,
        );
      }
      const perThread = settled.map((outcome) => (outcome as PromiseFulfilledResult<ThreadRecord[]>).value);
      return Array.from({ length: count }, (_, batchIndex) =>
        assembleHistory(
          perThread.map((records) => records[batchIndex]),
          parameters.keys,
        ),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** Merges the threads' records of one history, with times relative to its first invocation. */
export function assembleHistory(records: readonly ThreadRecord[], keys: number): RecordedHistory {
  let startNs: bigint | undefined;
  for (const record of records) {
    const invoked = record.completed + (record.exception ? 1 : 0);
    for (let index = 0; index < invoked; index++) {
      if (startNs === undefined || record.invokeNs[index] < startNs) startNs = record.invokeNs[index];
    }
  }
  const ops: HistoryOp[] = [];
  const thrown: ThrownOp[] = [];
  for (const record of records) {
    for (let index = 0; index < record.completed; index++) {
      ops.push(decodeOp(record, index, startNs ?? 0n));
    }
    if (record.exception) {
      const pending = decodeOp(record, record.completed, startNs ?? 0n);
      thrown.push({
        thread: record.thread,
        call: describeCall(pending),
        ...record.exception,
        invokeNs: pending.invokeNs,
        thrownNs: pending.responseNs,
      });
    }
  }
  return { history: { keys, ops }, thrown };
}

function decodeOp(record: ThreadRecord, index: number, startNs: bigint): HistoryOp {
  const kind = VERIFY_OP_NAMES[record.ops[index]];
  const raw = record.results[index];
  const value = raw === ABSENT ? null : raw;
  const base = {
    thread: record.thread,
    kind,
    invokeNs: Number(record.invokeNs[index] - startNs),
    responseNs: Number(record.responseNs[index] - startNs),
  };
  const key = record.keys[index];
  switch (kind) {
    case 'get':
      return { ...base, key, args: [], result: value };
    case 'set':
      return { ...base, key, args: [record.args1[index]], result: null };
    case 'delete':
      return { ...base, key, args: [], result: raw === 1 };
    case 'getOrSet':
      return { ...base, key, args: [record.args1[index]], result: value };
    case 'compareAndSet':
      return { ...base, key, args: [record.args1[index], record.args2[index]], result: raw === 1 };
    case 'add':
      return { ...base, key, args: [record.args1[index]], result: value };
    case 'size':
      return { ...base, key: -1, args: [], result: raw };
    case 'forEach': {
      const flat = record.entries[index] ?? new Int32Array(0);
      const entries: ForEachEntry[] = [];
      for (let at = 0; at + 1 < flat.length; at += 2) entries.push([flat[at], flat[at + 1]]);
      return { ...base, key: -1, args: [], result: entries };
    }
  }
}
