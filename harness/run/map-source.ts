/**
 * Where a map factory comes from: the built-in registry (by name) or a user's
 * plugin module (by absolute file URL, its default export a MapFactory). The
 * main thread and every worker load it the same way, so a plugin is imported
 * in each thread that touches the map.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getMapFactory } from '../../maps/index.js';
import type { DescribedMapFactory, MapFactory } from '../../maps/types.js';
import { UsageError } from './options.js';

/** Structured-cloneable: posted to workers with every task. */
export interface MapSource {
  name: string;
  /** Absolute file URL of a plugin module; absent for built-in maps. */
  moduleUrl?: string;
}

const loaded = new Map<string, Promise<MapFactory>>();

/** Loads (once per thread) the factory a source names. */
export function loadMapFactory(source: MapSource): Promise<MapFactory> {
  const key = source.moduleUrl ?? `registry:${source.name}`;
  let factory = loaded.get(key);
  if (!factory) {
    factory =
      source.moduleUrl === undefined
        ? Promise.resolve(getMapFactory(source.name))
        : importPlugin(source.moduleUrl, source.moduleUrl);
    loaded.set(key, factory);
  }
  return factory;
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
  loaded.set(moduleUrl, Promise.resolve(factory));
  return { factory, source: { name: factory.name, moduleUrl } };
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
