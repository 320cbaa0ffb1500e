/**
 * The map registry (`maplab/maps`). Adding a map is one new file plus one line
 * in `mapFactories` below; tests and the harness iterate this list.
 */
import { jsMapFactory } from './js-map.js';
import { plainMapFactory } from './plain.js';
import { rwmutexMapFactory } from './rwmutex-map.js';
import { shardedMapFactory } from './sharded.js';
import { readDirtyMapFactory } from './readdirty.js';
import { hashTrieMapFactory } from './hashtrie.js';
import { clhtMapFactory } from './clht.js';
import type { MapFactory } from './types.js';

export type { ConcurrentMap, DescribedMapFactory, MapFactory, MapHandle, MapOptions } from './types.js';
export { ConcurrentMapWriteError } from './errors.js';

/** Every built-in map, in the order reports list them. */
export const mapFactories: readonly MapFactory[] = [
  jsMapFactory,
  plainMapFactory,
  rwmutexMapFactory,
  shardedMapFactory,
  readDirtyMapFactory,
  hashTrieMapFactory,
  clhtMapFactory,
];

export function getMapFactory(name: string): MapFactory {
  const factory = mapFactories.find((candidate) => candidate.name === name);
  if (!factory) {
    throw new RangeError(`unknown map '${name}'; allowed: ${mapFactories.map((f) => f.name).join(', ')}`);
  }
  return factory;
}
