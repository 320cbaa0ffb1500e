/**
 * Where a map factory comes from: the built-in registry (by name), a user's
 * plugin module (by absolute file URL, its default export a MapFactory), or a
 * baseline version of the code (`--against`: another maplab tree's maps
 * registry, or an older plugin module), measured under the name
 * `<map>@base`. The main thread and every worker load it the same way, so a
 * module is imported in each thread that touches the map.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getMapFactory } from '../../maps/index.js';
import type { DescribedMapFactory, MapFactory } from '../../maps/types.js';
import { UsageError } from './options.js';

/** Structured-cloneable: posted to workers with every task. */
export interface MapSource {
  name: string;
  /** Absolute file URL of a plugin module; absent for built-in maps. */
  moduleUrl?: string;
  /**
   * With moduleUrl: the module is a map registry (it exports `mapFactories`,
   * as a maplab tree's dist/maps/index.js does) and the map is its entry of
   * this name. Absent: the module's default export.
   */
  entry?: string;
}

/** `--against`: the baseline version of map M is swept as 'M@base'. */
export const BASE_SUFFIX = '@base';

/** 'rwmutex@base' → 'rwmutex'; null for a map that is not a baseline copy. */
export function baseMapOf(name: string): string | null {
  return name.endsWith(BASE_SUFFIX) ? name.slice(0, -BASE_SUFFIX.length) : null;
}

const loaded = new Map<string, Promise<MapFactory>>();

/** Loads (once per thread) the factory a source names. */
export function loadMapFactory(source: MapSource): Promise<MapFactory> {
  const key = sourceKey(source);
  let factory = loaded.get(key);
  if (!factory) {
    const { moduleUrl, entry } = source;
    factory =
      moduleUrl === undefined
        ? Promise.resolve(getMapFactory(source.name))
        : (entry === undefined ? importPlugin(moduleUrl, moduleUrl) : importEntry(moduleUrl, entry, moduleUrl)).then(
            (found) => renamed(found, source.name),
          );
    loaded.set(key, factory);
  }
  return factory;
}

/**
 * Main thread: the baseline maps of `--against <path>`, each named
 * '<map>@base'. The path is a maplab tree (its built dist/maps/index.js), a
 * registry module exporting `mapFactories`, or a plugin module whose default
 * export is one MapFactory (an older version of a user's own map).
 */
export async function loadBaseMaps(
  path: string,
  label = '--against',
): Promise<Array<{ factory: DescribedMapFactory; source: MapSource }>> {
  let absolute = resolve(path);
  if (!existsSync(absolute)) throw new UsageError(`${label}: no such file or directory ${JSON.stringify(absolute)}`);
  if (statSync(absolute).isDirectory()) {
    const index = join(absolute, 'dist', 'maps', 'index.js');
    if (!existsSync(index)) {
      throw new UsageError(
        `${label}: ${absolute} is a directory without dist/maps/index.js: build that maplab tree first (npm run build), or name a map module`,
      );
    }
    absolute = index;
  }
  const moduleUrl = pathToFileURL(absolute).href;
  let module: { default?: unknown; mapFactories?: unknown };
  try {
    module = (await import(moduleUrl)) as typeof module;
  } catch (error) {
    throw new UsageError(`${label}: cannot import ${absolute}: ${(error as Error).message}`);
  }
  if (Array.isArray(module.mapFactories)) {
    return module.mapFactories.map((value: unknown, index) => {
      const factory = checkMapFactory(value, `${label} ${absolute}: mapFactories[${index}]`);
      const source = { name: factory.name + BASE_SUFFIX, moduleUrl, entry: factory.name };
      return { factory: renamed(factory, source.name), source };
    });
  }
  if (module.default === undefined) {
    throw new UsageError(
      `${label}: ${absolute} exports neither mapFactories (a maps registry) nor a default MapFactory (a plugin map)`,
    );
  }
  const factory = checkMapFactory(module.default, `${label} ${absolute}`);
  const source = { name: factory.name + BASE_SUFFIX, moduleUrl };
  return [{ factory: renamed(factory, source.name), source }];
}

async function importEntry(moduleUrl: string, entry: string, label: string): Promise<DescribedMapFactory> {
  const module = (await import(moduleUrl)) as { mapFactories?: unknown };
  const found = Array.isArray(module.mapFactories)
    ? (module.mapFactories as unknown[]).find((candidate) => (candidate as { name?: unknown } | null)?.name === entry)
    : undefined;
  if (found === undefined) throw new UsageError(`${label}: no map '${entry}' in its mapFactories`);
  return checkMapFactory(found, label);
}

/** The factory under another name (a baseline copy); its maps and handles are the factory's own. */
function renamed(factory: DescribedMapFactory, name: string): DescribedMapFactory {
  if (factory.name === name) return factory;
  return {
    name,
    description: `${factory.description} (baseline version)`,
    shared: factory.shared,
    safeForConcurrentWrites: factory.safeForConcurrentWrites,
    create: (options) => factory.create(options),
    attach: (handle) => factory.attach(handle),
  };
}

/** Main thread: resolves a `--map-module` path, imports it and checks its default export. */
export async function loadPluginModule(
  path: string,
  label = '--map-module',
): Promise<{ factory: DescribedMapFactory; source: MapSource }> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new UsageError(`${label}: no such file ${JSON.stringify(absolute)}`);
  const moduleUrl = pathToFileURL(absolute).href;
  let factory: DescribedMapFactory;
  try {
    factory = await importPlugin(moduleUrl, `${label} ${absolute}`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${label}: cannot import ${absolute}: ${(error as Error).message}`);
  }
  const source = { name: factory.name, moduleUrl };
  loaded.set(sourceKey(source), Promise.resolve(factory));
  return { factory, source };
}

function sourceKey(source: MapSource): string {
  return source.moduleUrl === undefined
    ? `registry:${source.name}`
    : `${source.moduleUrl}#${source.entry ?? ''}>${source.name}`;
}

async function importPlugin(moduleUrl: string, label: string): Promise<DescribedMapFactory> {
  const module = (await import(moduleUrl)) as { default?: unknown };
  return checkMapFactory(module.default, label);
}

/**
 * A plugin's default export must have the MapFactory shape; the message names
 * what is missing. A factory without a description gets its name as one.
 */
export function checkMapFactory(value: unknown, label: string): DescribedMapFactory {
  const must = (what: string): never => {
    throw new UsageError(`${label}: the default export must be a MapFactory (${what})`);
  };
  if (value === null || typeof value !== 'object')
    return must(
      'got no object; export default { name, shared, safeForConcurrentWrites, create, attach } and optionally description',
    );
  const candidate = value as Record<string, unknown>;
  if (typeof candidate.name !== 'string' || candidate.name === '') must('name must be a non-empty string');
  if (candidate.description !== undefined && typeof candidate.description !== 'string')
    must('description must be a string when given');
  if (typeof candidate.shared !== 'boolean') must('shared must be a boolean');
  if (typeof candidate.safeForConcurrentWrites !== 'boolean') must('safeForConcurrentWrites must be a boolean');
  if (typeof candidate.create !== 'function') must('create must be a function');
  if (typeof candidate.attach !== 'function') must('attach must be a function');
  // The checks above make `value` a MapFactory.
  if (typeof candidate.description === 'string') return value as DescribedMapFactory;
  // No description: the plugin's name, on a factory that delegates to its methods (it may be a class instance).
  const factory = value as MapFactory;
  return {
    name: factory.name,
    description: factory.name,
    shared: factory.shared,
    safeForConcurrentWrites: factory.safeForConcurrentWrites,
    create: (options) => factory.create(options),
    attach: (handle) => factory.attach(handle),
  };
}
