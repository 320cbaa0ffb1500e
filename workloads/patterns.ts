/**
 * Op patterns for Go's `sync` benchmark scenarios (src/sync/map_bench_test.go)
 * that a mix and a distribution cannot express. Each fills the ops and keys of
 * a stream; generate.ts then fills values.
 *
 * Go runs each goroutine's loop with its own counter starting at
 * `id * b.N`; here worker w's counter starts at w × length, so `i` is unique
 * across workers exactly as in Go (fresh keys never collide).
 */
import { fillOpsFromMix } from './mix-sampler.js';
import type { Sfc32 } from './random.js';
import { Op, type OpStream, type Workload } from './types.js';
import type { PatternKind } from './validate.js';

export interface PatternContext {
  workerIndex: number;
  workerCount: number;
  /** Keys 0..prefilledKeys−1 are in the map before the stream runs. */
  prefilledKeys: number;
}

export function fillPattern(stream: OpStream, workload: Workload, context: PatternContext, random: Sfc32): void {
  const kind = workload.pattern?.kind as PatternKind;
  const firstI = context.workerIndex * stream.length;
  switch (kind) {
    case 'cyclic':
      fillCyclic(stream, workload, firstI, random);
      return;
    case 'load-or-store-balanced':
      fillLoadOrStoreBalanced(stream, workload.keys, context.prefilledKeys, firstI);
      return;
    case 'adversarial-alloc':
      fillAdversarialAlloc(stream, firstI);
      return;
    case 'adversarial-delete': {
      const every = typeof workload.pattern?.every === 'number' ? workload.pattern.every : workload.keys;
      fillAdversarialDelete(stream, every, context, firstI);
      return;
    }
    case 'churn':
      fillChurn(stream, workload, context, random);
      return;
  }
}

/** Go LoadMostlyHits / LoadMostlyMisses: `m.Load(i % (hits + misses))`, hits = the prefill. Ops come from the mix. */
function fillCyclic(stream: OpStream, workload: Workload, firstI: number, random: Sfc32): void {
  fillOpsFromMix(stream.ops, workload.mix, random);
  const keys = stream.keys;
  const keySpace = workload.keys;
  let key = firstI % keySpace;
  for (let step = 0; step < stream.length; step++) {
    keys[step] = key;
    if (++key === keySpace) key = 0;
  }
}

/**
 * Go LoadOrStoreBalanced: j = i % (hits + misses); j < hits → LoadOrStore(j)
 * (always loads: a prefilled key), else LoadOrStore(i) (always stores: i is
 * unique and i % keys ≥ hits, so never a prefilled key).
 */
function fillLoadOrStoreBalanced(stream: OpStream, keySpace: number, hits: number, firstI: number): void {
  stream.ops.fill(Op.getOrSet);
  for (let step = 0; step < stream.length; step++) {
    const i = firstI + step;
    const j = i % keySpace;
    stream.keys[step] = j < hits ? j : i;
  }
}

/**
 * Go AdversarialAlloc: each step Load(i) (a miss: i is fresh); whenever loads
 * since the last store exceed the stores so far, LoadOrStore(i) — so stores
 * land right after each promotion of sync.Map's read table and every load
 * goes to the locked dirty map. Stores thin out as ~√(2·steps).
 */
function fillAdversarialAlloc(stream: OpStream, firstI: number): void {
  let stores = 0;
  let loadsSinceStore = 0;
  let position = 0;
  for (let step = 0; position < stream.length; step++) {
    const i = firstI + step;
    stream.ops[position] = Op.get;
    stream.keys[position++] = i;
    if (++loadsSinceStore > stores && position < stream.length) {
      stream.ops[position] = Op.getOrSet;
      stream.keys[position++] = i;
      loadsSinceStore = 0;
      stores++;
    }
  }
}

/**
 * Go AdversarialDelete: each step Load(i); when i % mapSize == 0, delete one
 * present key and Store(i, i), so the map keeps its size while sync.Map keeps
 * copying its read table into a fresh dirty map.
 *
 * Go deletes whatever key Range yields first. A pre-generated stream cannot
 * see the map, and forEach has no early exit (a full scan would cost ~mapSize
 * times Go's op), so instead each worker deletes the oldest key it knows is
 * present: first the prefilled keys of its own residue class (k ≡ w mod
 * workerCount, so workers never delete the same key), then its own stores,
 * first in first out. Only if it has none left (more workers than prefilled
 * keys) does it delete the just-loaded, absent key i.
 */
function fillAdversarialDelete(stream: OpStream, every: number, context: PatternContext, firstI: number): void {
  const { workerIndex, workerCount, prefilledKeys } = context;
  const ownPrefilled = workerIndex < prefilledKeys ? Math.ceil((prefilledKeys - workerIndex) / workerCount) : 0;
  const presentKeys = new Int32Array(ownPrefilled + Math.ceil(stream.length / every) + 1);
  let head = 0;
  let tail = 0;
  for (let key = workerIndex; key < prefilledKeys; key += workerCount) presentKeys[tail++] = key;
  let position = 0;
  for (let step = 0; position < stream.length; step++) {
    const i = firstI + step;
    stream.ops[position] = Op.get;
    stream.keys[position++] = i;
    if (i % every !== 0) continue;
    if (position < stream.length) {
      stream.ops[position] = Op.delete;
      stream.keys[position++] = head < tail ? presentKeys[head++] : i;
    }
    if (position < stream.length) {
      stream.ops[position] = Op.set;
      stream.keys[position++] = i;
      presentKeys[tail++] = i;
    }
  }
}

/**
 * churn-N: gets hit present keys; writes alternate insert of a fresh key and
 * delete of the oldest present key, so the map's size stays within one entry
 * per worker of the prefill while the key set keeps moving (the case where
 * Go's sync.Map pays: every insert lands in the dirty map under the mutex,
 * every delete of a promoted key expunges).
 *
 * Worker w owns a sequence of keys: first the prefilled keys of its residue
 * class (k ≡ w mod workerCount), then its fresh keys keys + n × workerCount + w.
 * Its live keys are a sliding window [deleted, owned + inserted) of that
 * sequence. A get picks a worker v and a position uniformly in v's window,
 * estimated as if v had done as many writes as this worker (a get may race a
 * slower or faster peer at the window's edges and miss, as clients would).
 */
function fillChurn(stream: OpStream, workload: Workload, context: PatternContext, random: Sfc32): void {
  const { workerIndex, workerCount, prefilledKeys } = context;
  fillOpsFromMix(stream.ops, workload.mix, random);
  const ownedBy = (worker: number) => (worker < prefilledKeys ? Math.ceil((prefilledKeys - worker) / workerCount) : 0);
  const keyAt = (worker: number, position: number, owned: number) =>
    position < owned ? worker + position * workerCount : workload.keys + (position - owned) * workerCount + worker;
  const { ops, keys } = stream;
  let inserted = 0;
  let deleted = 0;
  for (let i = 0; i < stream.length; i++) {
    if (ops[i] !== Op.get) {
      const insert = inserted <= deleted;
      ops[i] = insert ? Op.set : Op.delete;
      const owned = ownedBy(workerIndex);
      keys[i] = insert ? keyAt(workerIndex, owned + inserted++, owned) : keyAt(workerIndex, deleted++, owned);
      continue;
    }
    const worker = workerCount === 1 ? 0 : random.nextBelow(workerCount);
    const owned = ownedBy(worker);
    const live = owned + inserted - deleted;
    keys[i] = live <= 0 ? keyAt(worker, deleted, owned) : keyAt(worker, deleted + random.nextBelow(live), owned);
  }
}
