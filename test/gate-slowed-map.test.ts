import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getMapFactory } from '../maps/index.js';

// The slowed map's default export resolves its base map at import; js-map is always registered.
process.env.MAPLAB_SLOWED_BASE = 'js-map';
process.env.MAPLAB_SLOWED_EXTRA = '0.5';
const { default: defaultFactory, slowedFactory } = await import('../scripts/evidence/fixtures/slowed-map.js');

test('the slowed map is named after its base and configured from the environment', () => {
  assert.equal(defaultFactory.name, 'slowed-js-map');
  assert.equal(defaultFactory.shared, false);
  assert.match(defaultFactory.description, /0\.5 extra lookups per operation/);
});

test('the slowed map answers exactly like its base map', () => {
  const factory = slowedFactory(getMapFactory('js-map'), 0.43);
  const slowed = factory.attach(factory.create());
  const plain = getMapFactory('js-map').attach(getMapFactory('js-map').create());
  const script = (map: typeof slowed) => [
    map.get(1),
    map.set(1, 10),
    map.get(1),
    map.getOrSet(1, 20),
    map.getOrSet(2, 30),
    map.compareAndSet(1, 10, 11),
    map.compareAndSet(1, 10, 12),
    map.add(3, 5),
    map.add(3, -2),
    map.delete(2),
    map.delete(2),
    map.size(),
  ];
  assert.deepEqual(script(slowed), script(plain));
  assert.throws(() => slowed.set(-1, 0), RangeError, 'bad keys are still rejected by the base map');
});

test('the busy work is deterministic: floor(ops × extra) extra lookups, every run the same', () => {
  const factory = slowedFactory(getMapFactory('js-map'), 0.43);
  const map = factory.attach(factory.create());
  for (let i = 0; i < 1000; i++) map.set(i % 64, i);
  // 1000 × 0.43 = 430, give or take the float rounding of the running sum.
  assert.ok(Math.abs(map.stats().slowedExtraLookups - 430) <= 1, `got ${map.stats().slowedExtraLookups}`);
});

test('a handle made by another factory is refused', () => {
  const factory = slowedFactory(getMapFactory('js-map'), 0.43);
  assert.throws(
    () => factory.attach(getMapFactory('js-map').create()),
    /handle was created by 'js-map', not 'slowed-js-map'/,
  );
});
