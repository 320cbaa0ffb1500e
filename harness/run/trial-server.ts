/**
 * The far end of RemoteCellBackend (harness/run/cell-backend.ts): a child process,
 * started under the Node binary being measured, that measures cells one
 * trial at a time when the parent's scheduler asks. It owns its pools, op
 * streams and maps (SharedArrayBuffers cannot cross processes); streams are
 * a pure function of (workload, seed, threads), so every runtime replays the
 * same ops. Each cell it assembles carries `runtime: { node, v8 }`.
 *
 * Protocol: one request at a time over the IPC channel, `{ id, message }` in,
 * `{ id, ok, value | error }` out. A step's value is the trial's figures, or
 * null once the cell has ended (its error is in the ErrorCell `finish` returns).
 */
import type { MapFactory } from '../../maps/types.js';
import type { TrialServerReply, TrialServerRequest, TrialServerValues } from './cell-backend.js';
import { CellRunner, type CellProgress } from './cell.js';
import { performance } from 'node:perf_hooks';
import { loadMapFactory, type MapSource } from './map-source.js';

let runner: CellRunner | null = null;
const cells = new Map<number, CellProgress>();

async function handle(message: TrialServerRequest): Promise<TrialServerValues[TrialServerRequest['kind']]> {
  switch (message.kind) {
    case 'init': {
      const maps = new Map<string, { source: MapSource; factory: MapFactory }>();
      for (const [name, source] of message.maps) {
        maps.set(name, { source, factory: await loadMapFactory(source) });
      }
      runner = new CellRunner(message.config, maps, message.cores, true, {
        node: process.version,
        v8: process.versions.v8,
      });
      return { node: process.version, v8: process.versions.v8 };
    }
    case 'begin':
      cells.set(message.cell, live().begin(message.spec));
      return null;
    case 'step': {
      const entry = await live().step(
        cell(message.cell),
        message.round,
        performance.now() + message.timeoutMs,
        undefined,
        message.meta,
      );
      if (entry === null) return null;
      return {
        opsPerSec: entry.opsPerSec,
        quietOpsPerSec: entry.quietOpsPerSec,
        runqueueWaitFraction: entry.runqueueWaitFraction,
      };
    }
    case 'finish': {
      const progress = cell(message.cell);
      const superseded = new Set(message.superseded);
      progress.entries.forEach((entry, index) => {
        entry.superseded = superseded.has(index);
      });
      cells.delete(message.cell);
      return live().finish(progress);
    }
    case 'closePools':
      await live().close();
      return null;
    case 'close':
      await runner?.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

function live(): CellRunner {
  if (runner === null) throw new Error('the trial server was not initialised');
  return runner;
}

function cell(id: number): CellProgress {
  const progress = cells.get(id);
  if (!progress) throw new Error(`no cell ${id} in the trial server`);
  return progress;
}

let queue = Promise.resolve();
process.on('message', (envelope: { id: number; message: TrialServerRequest }) => {
  queue = queue.then(async () => {
    let reply: TrialServerReply;
    try {
      reply = { id: envelope.id, ok: true, value: await handle(envelope.message) };
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      reply = { id: envelope.id, ok: false, error: { name, message } };
    }
    process.send?.(reply);
  });
});
// The parent going away (Ctrl-C, a crash) ends the server and its pools with it.
process.on('disconnect', () => process.exit(0));
