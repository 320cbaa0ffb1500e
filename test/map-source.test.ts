/** Loading a user's map (harness/run/map-source.ts): what the plugin contract requires and what it defaults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getMapFactory } from '../maps/index.js';
import type { MapFactory } from '../maps/index.js';
import { checkMapFactory, loadMapFactory, loadPluginModule } from '../harness/run/map-source.js';

test('a plugin MapFactory without a description gets its name as the description and still creates and attaches maps', () => {
  const base = getMapFactory('rwmutex');
  const plugin = {
    name: 'my-map',
    shared: true,
    safeForConcurrentWrites: true,
    create: base.create.bind(base),
    attach: base.attach.bind(base),
  };
  const factory = checkMapFactory(plugin, '--map-module my-map.js');
  assert.equal(factory.description, 'my-map');
  const map = factory.attach(factory.create({ capacity: 16 }));
  map.set(1, 2);
  assert.equal(map.get(1), 2);
});

test('a description that is not a string is refused, naming the field', () => {
  const base = getMapFactory('rwmutex');
  assert.throws(
    () => checkMapFactory({ ...base, name: 'my-map', description: 42 }, '--map-module my-map.js'),
    /--map-module my-map\.js: the default export must be a MapFactory \(description must be a string when given\)/,
  );
});

test('a MapFactory may leave out description: the type allows it, and a plugin module loaded from a file gets its name, in every thread', async () => {
  const base = getMapFactory('rwmutex');
  const undescribed: MapFactory = {
    name: 'typed-map',
    shared: true,
    safeForConcurrentWrites: true,
    create: base.create,
    attach: base.attach,
  };
  assert.equal(checkMapFactory(undescribed, 'test').description, 'typed-map');

  const directory = mkdtempSync(join(tmpdir(), 'maplab-plugin-'));
  try {
    const registry = new URL('../maps/index.js', import.meta.url).href;
    const path = join(directory, 'undescribed-map.js');
    writeFileSync(
      path,
      `import { getMapFactory } from ${JSON.stringify(registry)};
const base = getMapFactory('rwmutex');
export default { name: 'undescribed-map', shared: true, safeForConcurrentWrites: true,
  create: (options) => base.create(options), attach: (handle) => base.attach(handle) };
`,
    );
    const { factory, source } = await loadPluginModule(path);
    assert.equal(factory.description, 'undescribed-map');
    // Workers load the factory by its source, the same way.
    assert.equal((await loadMapFactory(source)).description, 'undescribed-map');
    const map = factory.attach(factory.create({ capacity: 16 }));
    map.set(3, 4);
    assert.equal(map.get(3), 4);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
