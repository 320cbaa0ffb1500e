import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getMapFactory, mapFactories } from '../maps/index.js';

test('getMapFactory rejects an unknown name and lists the allowed names', () => {
  assert.throws(
    () => getMapFactory('nope'),
    (error: Error) => error instanceof RangeError && /unknown map 'nope'; allowed: .*js-map/.test(error.message),
  );
});

test('every registered factory has a unique name', () => {
  const names = mapFactories.map((factory) => factory.name);
  assert.equal(new Set(names).size, names.length);
});
