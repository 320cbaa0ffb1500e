/** Loading a user's map (harness/map-source.ts): what the plugin contract requires and what it defaults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getMapFactory } from '../maps/index.js';
import { checkMapFactory } from '../harness/map-source.js';

test('a plugin MapFactory without a description gets its name as the description and still creates and attaches maps', () => {
  const base = getMapFactory('rwmutex');
  const plugin = {
    name: 'my-map', shared: true, safeForConcurrentWrites: true,
    create: base.create.bind(base), attach: base.attach.bind(base),
  };
  const factory = checkMapFactory(plugin, '--map-module my-map.js');
  assert.equal(factory.description, 'my-map');
  const map = factory.attach(factory.create({ capacity: 16 }));
  map.set(1, 2);
  assert.equal(map.get(1), 2);
});

test('a description that is not a string is refused, naming the field', () => {
  const base = getMapFactory('rwmutex');
  assert.throws(() => checkMapFactory({ ...base, name: 'my-map', description: 42 }, '--map-module my-map.js'),
    /--map-module my-map\.js: the default export must be a MapFactory \(description must be a string when given\)/);
});
