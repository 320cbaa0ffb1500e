/**
 * One map's micro benchmark, run in its own worker thread (a fresh isolate) so
 * that the timed loops only ever see this map's class: no JIT feedback from
 * another map's code (megamorphic call sites) can colour its numbers, and the
 * order maps run in does not matter.
 *
 * For each load factor: create the map sized so that `keys` entries fill it to
 * that load factor, insert `keys` random distinct keys, then time four batch
 * loops with tinybench. One tinybench iteration runs BATCH_OPS operations over
 * pre-generated random keys (a 4 MiB stream per kind, walked in order, so
 * neither the key source nor tinybench's per-iteration overhead — hundreds of
 * ns — sits in the figure); ns/op = the iteration's median time / BATCH_OPS.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { getMapFactory, type ConcurrentMap } from '../../maps/index.js';
import { MAX_KEY } from '../../maps/validate.js';
import { Sfc32 } from '../../workloads/random.js';
import { MICRO_OPS, type MicroCell, type MicroOp, type MicroWorkerReply, type MicroWorkerTask } from './micro.js';

/** Operations per tinybench iteration. */
export const BATCH_OPS = 1024;
/** Keys per pre-generated stream: 2^20 int32 = 4 MiB, larger than the tables' working set under test. */
const STREAM_KEYS = 1 << 20;

/** Keys for one map: `present` are in the map; `hits` and `misses` are the streams lookups walk. */
interface KeyStreams {
  present: Int32Array;
  hits: Int32Array;
  misses: Int32Array;
}

function generateKeys(keys: number, seed: number): KeyStreams {
  const random = new Sfc32(seed);
  const presentSet = new Set<number>();
  while (presentSet.size < keys) presentSet.add(random.nextBelow(MAX_KEY + 1));
  const present = Int32Array.from(presentSet);
  const hits = new Int32Array(STREAM_KEYS);
  for (let i = 0; i < STREAM_KEYS; i++) hits[i] = present[random.nextBelow(keys)];
  const misses = new Int32Array(STREAM_KEYS);
  for (let i = 0; i < STREAM_KEYS; i++) {
    let key: number;
    do key = random.nextBelow(MAX_KEY + 1);
    while (presentSet.has(key));
    misses[i] = key;
  }
  return { present, hits, misses };
}

// The timed loops: short, one map class per isolate. Each returns a value
// derived from the map's answers so nothing can be optimised away.
function getBatch(map: ConcurrentMap, stream: Int32Array, start: number): number {
  let found = 0;
  for (let i = start; i < start + BATCH_OPS; i++) if (map.get(stream[i]) !== undefined) found++;
  return found;
}

function setBatch(map: ConcurrentMap, stream: Int32Array, start: number): number {
  for (let i = start; i < start + BATCH_OPS; i++) map.set(stream[i], i);
  return start;
}

function insertDeleteBatch(map: ConcurrentMap, stream: Int32Array, start: number): number {
  let deleted = 0;
  for (let i = start; i < start + BATCH_OPS; i++) {
    map.set(stream[i], i);
    if (map.delete(stream[i])) deleted++;
  }
  return deleted;
}

/** Walks a key stream BATCH_OPS keys at a time, wrapping at its end. */
class StreamCursor {
  private position = 0;
  constructor(readonly stream: Int32Array) {}

  next(): number {
    const start = this.position;
    this.position = start + 2 * BATCH_OPS > this.stream.length ? 0 : start + BATCH_OPS;
    return start;
  }
}

async function benchmarkMap(task: MicroWorkerTask): Promise<MicroCell[]> {
  const factory = getMapFactory(task.map);
  const streams = generateKeys(task.keys, task.seed);
  const sink = new Int32Array(1);
  const cells: MicroCell[] = [];
  for (const loadFactor of task.loadFactors) {
    // One slot of headroom, so insert+delete never lands exactly on the growth threshold.
    const map = factory.attach(factory.create({ capacity: task.keys + 1, loadFactor, maxBytes: task.maxBytes }));
    for (let i = 0; i < streams.present.length; i++) map.set(streams.present[i], i);
    const bench = new Bench({ time: task.timeMs, warmupTime: Math.max(20, task.timeMs / 4), throws: true });
    // One closure literal per op, so each task's call site stays monomorphic.
    const hitCursor = new StreamCursor(streams.hits);
    const missCursor = new StreamCursor(streams.misses);
    const updateCursor = new StreamCursor(streams.hits);
    const churnCursor = new StreamCursor(streams.misses);
    const bodies: Record<MicroOp, () => void> = {
      'get-hit': () => {
        sink[0] += getBatch(map, streams.hits, hitCursor.next());
      },
      'get-miss': () => {
        sink[0] += getBatch(map, streams.misses, missCursor.next());
      },
      'set-update': () => {
        sink[0] += setBatch(map, streams.hits, updateCursor.next());
      },
      'insert+delete': () => {
        sink[0] += insertDeleteBatch(map, streams.misses, churnCursor.next());
      },
    };
    for (const op of MICRO_OPS) bench.add(op, bodies[op]);
    await bench.run();
    const stats = map.stats();
    for (const benchTask of bench.tasks) {
      const result = benchTask.result;
      if (result.state !== 'completed') {
        throw new Error(
          `${task.map} ${benchTask.name} at load factor ${loadFactor}: ${result.state === 'errored' ? result.error.message : result.state}`,
        );
      }
      cells.push({
        map: task.map,
        op: benchTask.name as MicroCell['op'],
        loadFactor,
        nsPerOp: (result.latency.p50 * 1e6) / BATCH_OPS,
        meanNsPerOp: (result.latency.mean * 1e6) / BATCH_OPS,
        rmePercent: result.latency.rme,
        samples: result.latency.samplesCount,
        batchOps: BATCH_OPS,
        ...(typeof stats.averageProbeLength === 'number' ? { averageProbeLength: stats.averageProbeLength } : {}),
        ...(typeof stats.entries === 'number' && typeof stats.slots === 'number'
          ? { occupancy: stats.entries / stats.slots }
          : {}),
      });
    }
    if (map.size() !== task.keys)
      throw new Error(`${task.map}: ${map.size()} entries after the run, expected ${task.keys}`);
  }
  return cells;
}

if (
  parentPort !== null &&
  workerData !== null &&
  typeof workerData === 'object' &&
  (workerData as { kind?: unknown }).kind === 'maplab-micro'
) {
  const port = parentPort;
  benchmarkMap(workerData as MicroWorkerTask).then(
    (cells) => port.postMessage({ ok: true, cells } satisfies MicroWorkerReply),
    (error: unknown) =>
      port.postMessage({
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      } satisfies MicroWorkerReply),
  );
}
