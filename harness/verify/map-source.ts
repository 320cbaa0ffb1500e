/**
 * Where a map's factory comes from, in a form a worker can load too: a
 * built-in registry name, or a plugin module (an ES module whose default
 * export is a MapFactory) by absolute file URL. The main thread and every
 * worker import the same URL, so they run the same code.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getMapFactory, mapFactories, type MapFactory } from '../../maps/index.js';
import { UsageError } from '../options.js';

export interface MapSource {
  name: string;
  /** Absolute file URL of the plugin module; absent for built-in maps. */
  moduleUrl?: string;
}

/** A plugin module that cannot be used: names the path and what is wrong (bad input: the CLI exits 2). */
export class MapModuleError extends UsageError {
  constructor(path: string, detail: string) {
    super(`--map-module ${path}: ${detail}`);
    this.name = 'MapModuleError';
  }
}

const loadedModules = new Map<string, Promise<MapFactory>>();

/** Imports a plugin by path (relative to the working directory) and checks its default export. */
export async function loadMapModule(path: string): Promise<{ factory: MapFactory; source: MapSource }> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new MapModuleError(path, `no such file (${absolute})`);
  const moduleUrl = pathToFileURL(absolute).href;
  const factory = await importFactory(moduleUrl, path);
  return { factory, source: { name: factory.name, moduleUrl } };
}

/** The factory a source names, loaded once per thread. */
export async function factoryOf(source: MapSource): Promise<MapFactory> {
  if (source.moduleUrl === undefined) return getMapFactory(source.name);
  return importFactory(source.moduleUrl, source.moduleUrl);
}

/** Built-in maps, in registry order. */
export function builtInSources(): Array<{ factory: MapFactory; source: MapSource }> {
  return mapFactories.map((factory) => ({ factory, source: { name: factory.name } }));
}

function importFactory(moduleUrl: string, label: string): Promise<MapFactory> {
  let loading = loadedModules.get(moduleUrl);
  if (!loading) {
    loading = import(moduleUrl).then(
      (module: { default?: unknown }) => checkFactory(module.default, label),
      (error: unknown) => {
        throw new MapModuleError(label, `cannot import (${error instanceof Error ? error.message : String(error)})`);
      },
    );
    loadedModules.set(moduleUrl, loading);
  }
  return loading;
}

function checkFactory(candidate: unknown, label: string): MapFactory {
  const factory = candidate as Partial<MapFactory> | undefined;
  const problems: string[] = [];
  if (factory === null || typeof factory !== 'object') {
    throw new MapModuleError(label, 'its default export must be a MapFactory object (name, shared, safeForConcurrentWrites, create, attach)');
  }
  if (typeof factory.name !== 'string' || factory.name === '') problems.push('name must be a non-empty string');
  if (typeof factory.shared !== 'boolean') problems.push('shared must be a boolean');
  if (typeof factory.safeForConcurrentWrites !== 'boolean') problems.push('safeForConcurrentWrites must be a boolean');
  if (typeof factory.create !== 'function') problems.push('create must be a function');
  if (typeof factory.attach !== 'function') problems.push('attach must be a function');
  if (problems.length > 0) throw new MapModuleError(label, `default export is not a MapFactory: ${problems.join('; ')}`);
  return factory as MapFactory;
}
