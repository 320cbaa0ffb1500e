/**
 * js-map: the native `Map`, one private copy per thread. Nothing is shared, so
 * it is the no-sharing ceiling every shared map is compared with; results label
 * its cells "private". attach() on each thread returns a fresh, empty copy.
 *
 * size() and forEach() are exact (single-threaded); forEach follows Map's
 * iteration rules (entries added during the call may be visited).
 */
import type { ConcurrentMap, MapFactory, MapHandle, MapOptions } from './types.js';
import { checkAddResult, checkDelta, checkKey, checkValue, resolveMapOptions } from './validate.js';

export class JsMap implements ConcurrentMap {
  private readonly entries = new Map<number, number>();

  get(key: number): number | undefined {
    checkKey(key);
    return this.entries.get(key);
  }

  set(key: number, value: number): void {
    checkKey(key);
    checkValue(value);
    this.entries.set(key, value);
  }

  delete(key: number): boolean {
    checkKey(key);
    return this.entries.delete(key);
  }

  getOrSet(key: number, value: number): number {
    checkKey(key);
    checkValue(value);
    const current = this.entries.get(key);
    if (current !== undefined) return current;
    this.entries.set(key, value);
    return value;
  }

  compareAndSet(key: number, expected: number, value: number): boolean {
    checkKey(key);
    checkValue(expected, 'expected');
    checkValue(value);
    if (this.entries.get(key) !== expected) return false;
    this.entries.set(key, value);
    return true;
  }

  add(key: number, delta: number): number {
    checkKey(key);
    checkDelta(delta);
    const next = checkAddResult(key, this.entries.get(key) ?? 0, delta);
    this.entries.set(key, next);
    return next;
  }

  size(): number {
    return this.entries.size;
  }

  forEach(fn: (key: number, value: number) => void): void {
    for (const [key, value] of this.entries) fn(key, value);
  }

  stats(): Record<string, number> {
    return { entries: this.entries.size };
  }
}

export const jsMapFactory: MapFactory = {
  name: 'js-map',
  description: 'native Map, one private copy per thread (nothing shared: the no-sharing ceiling)',
  shared: false,
  safeForConcurrentWrites: true,
  create(options?: MapOptions): MapHandle {
    return { map: 'js-map', options: resolveMapOptions(options) };
  },
  attach(handle: MapHandle): ConcurrentMap {
    if (handle.map !== 'js-map') throw new TypeError(`handle was created by '${String(handle.map)}', not 'js-map'`);
    return new JsMap();
  },
};
