/**
 * Node runtimes as a benchmark axis: which binary runs a measurement.
 *
 * A runtime is `current` (this process's binary), a path to a node binary, or
 * a version (a major such as `24`, or an exact `24.21.0`) installed on demand
 * from the npm registry's `node` package into a cache:
 *
 *   <cache>/node-24.21.0/node_modules/node/bin/node
 *
 * where <cache> is `$MAPLAB_RUNTIMES_DIR` or `~/.cache/maplab/runtimes`. An
 * install goes into a temporary folder inside the cache and is renamed into
 * place only once its binary runs and reports the expected version, so a
 * failed or interrupted install never leaves a half-installed runtime behind.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { UsageError, parsers } from './options.js';

const execFileAsync = promisify(execFile);

export interface Runtime {
  /** What was asked for: `current`, a path, `24` or `24.21.0`. */
  spec: string;
  execPath: string;
  /** process.version of the binary, e.g. 'v24.21.0'. */
  node: string;
  /** process.versions.v8 of the binary. */
  v8: string;
}

/** A runtime in the cache, as `maplab runtimes list` shows it (not run: listing stays cheap). */
export interface CachedRuntime {
  version: string;
  dir: string;
  execPath: string;
}

/** Installs node@<version> with an npm prefix of `prefixDir`; injectable so tests never download Node. */
export type RuntimeInstaller = (version: string, prefixDir: string) => Promise<void>;
export type VersionResolver = (spec: string) => Promise<string>;

export interface RuntimeCacheOptions {
  cacheDir?: string;
  installer?: RuntimeInstaller;
  resolver?: VersionResolver;
}

/** Oldest major the project supports (package.json `engines`). */
export const MIN_NODE_MAJOR = 20;
const ALLOWED_FORMS = `current, a major (20, 22, 24), an exact version (24.21.0) or a path to a node binary`;
const MAJOR = /^\d+$/;
const EXACT = /^\d+\.\d+\.\d+$/;
const CACHED_DIR = /^node-(\d+\.\d+\.\d+)$/;
const TEMP_PREFIX = '.installing-';
/** npm's own retries would make an unreachable registry hang for minutes. */
const NPM_NETWORK_FLAGS = ['--fetch-retries=0', '--fetch-timeout=20000'];
const VIEW_TIMEOUT_MS = 60_000;
const INSTALL_TIMEOUT_MS = 600_000;
const RUN_TIMEOUT_MS = 30_000;

export function defaultCacheDir(): string {
  return process.env.MAPLAB_RUNTIMES_DIR || join(homedir(), '.cache', 'maplab', 'runtimes');
}

function cacheDirOf(options?: { cacheDir?: string }): string {
  return resolve(options?.cacheDir ?? defaultCacheDir());
}

/** Binary inside an npm prefix holding the `node` package. */
export function binaryInPrefix(prefixDir: string): string {
  return join(prefixDir, 'node_modules', 'node', 'bin', 'node');
}

function isPathSpec(spec: string): boolean {
  return spec.includes('/') || spec.includes('\\');
}

function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}

/** Validates one `--node` item without touching the network. */
function parseNodeItem(raw: unknown, label: string): string {
  const spec = typeof raw === 'string' ? raw.trim() : raw;
  const ok =
    typeof spec === 'string' &&
    (spec === 'current' ||
      isPathSpec(spec) ||
      ((MAJOR.test(spec) || EXACT.test(spec)) && majorOf(spec) >= MIN_NODE_MAJOR));
  if (!ok) {
    throw new UsageError(
      `${label} must be ${ALLOWED_FORMS} (versions from ${MIN_NODE_MAJOR} on), got ${JSON.stringify(raw)}`,
    );
  }
  return spec;
}

/** Option parser for `--node <list>`: comma-separated (CLI) or a JSON array (config). */
export const parseNodeList: (raw: unknown, label: string) => string[] = parsers.list(parseNodeItem);

function compareVersions(left: string, right: string): number {
  const a = left.split('.').map(Number);
  const b = right.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** npm --json errors come as `{ "error": { "summary": … } }` on stdout. */
function npmErrorSummary(error: unknown): string {
  const failure = error as { stdout?: string; stderr?: string; message?: string; killed?: boolean };
  if (failure.killed) return 'npm timed out';
  try {
    const parsed = JSON.parse(failure.stdout ?? '') as { error?: { summary?: string } };
    if (parsed.error?.summary) return parsed.error.summary.split('\n')[0];
  } catch {
    /* not JSON: fall through */
  }
  const line = (failure.stderr ?? '').split('\n').find((text) => text.includes('error'));
  return line ?? failure.message ?? String(error);
}

/** The exact version a major or exact spec names: the newest published match, via `npm view`. */
export async function resolveNodeVersion(spec: string): Promise<string> {
  parseNodeItem(spec, '--node');
  if (!MAJOR.test(spec) && !EXACT.test(spec))
    throw new UsageError(`--node ${spec}: only versions are resolved from the registry`);
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('npm', ['view', `node@${spec}`, 'version', '--json', ...NPM_NETWORK_FLAGS], {
      timeout: VIEW_TIMEOUT_MS,
      maxBuffer: 16 << 20,
    }));
  } catch (error) {
    throw new UsageError(
      `--node ${spec}: cannot resolve it from the npm registry's node package (${npmErrorSummary(error)}); ` +
        `--node takes ${ALLOWED_FORMS}`,
    );
  }
  const parsed: unknown = stdout.trim() === '' ? [] : JSON.parse(stdout);
  const versions = (Array.isArray(parsed) ? parsed : [parsed]).filter(
    (v): v is string => typeof v === 'string' && EXACT.test(v),
  );
  if (versions.length === 0) {
    throw new UsageError(
      `--node ${spec}: no such version of the npm registry's node package; --node takes ${ALLOWED_FORMS}`,
    );
  }
  return versions.sort(compareVersions)[versions.length - 1];
}

/** Runs the binary once to read its Node and V8 versions. */
export async function runtimeOf(execPath: string, spec: string): Promise<Runtime> {
  const { stdout } = await execFileAsync(execPath, ['-p', 'process.version + " " + process.versions.v8'], {
    timeout: RUN_TIMEOUT_MS,
  });
  const [node, v8] = stdout.trim().split(' ');
  if (!/^v\d+\.\d+\.\d+/.test(node ?? '') || !v8)
    throw new Error(`${execPath} printed ${JSON.stringify(stdout)}, not a Node version`);
  return { spec, execPath, node, v8 };
}

const npmInstaller: RuntimeInstaller = async (version, prefixDir) => {
  await execFileAsync(
    'npm',
    [
      'install',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--prefix',
      prefixDir,
      `node@${version}`,
      ...NPM_NETWORK_FLAGS,
    ],
    { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 << 20 },
  );
};

/** Resolves a version spec and returns the cached runtime, installing it first if it is not there. */
export async function installRuntime(spec: string, options: RuntimeCacheOptions = {}): Promise<Runtime> {
  const version = await (options.resolver ?? resolveNodeVersion)(spec);
  const cacheDir = cacheDirOf(options);
  const finalDir = join(cacheDir, `node-${version}`);
  if (existsSync(binaryInPrefix(finalDir))) return runtimeOf(binaryInPrefix(finalDir), spec);
  mkdirSync(cacheDir, { recursive: true });
  const tempDir = mkdtempSync(join(cacheDir, `${TEMP_PREFIX}node-${version}-`));
  try {
    await (options.installer ?? npmInstaller)(version, tempDir);
    const binary = binaryInPrefix(tempDir);
    if (!existsSync(binary)) throw new Error(`npm installed node@${version} but ${binary} is missing`);
    const installed = await runtimeOf(binary, spec);
    if (installed.node !== `v${version}`)
      throw new Error(`node@${version} installed a binary that reports ${installed.node}`);
    renameSync(tempDir, finalDir);
  } catch (error) {
    rmSync(tempDir, { recursive: true, force: true });
    if (existsSync(binaryInPrefix(finalDir))) return runtimeOf(binaryInPrefix(finalDir), spec); // a concurrent install won
    throw new Error(
      `installing node@${version} into ${cacheDir} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return runtimeOf(binaryInPrefix(finalDir), spec);
}

/** Cached runtimes, oldest version first. */
export function listRuntimes(options?: { cacheDir?: string }): CachedRuntime[] {
  const cacheDir = cacheDirOf(options);
  if (!existsSync(cacheDir)) return [];
  const runtimes: CachedRuntime[] = [];
  for (const name of readdirSync(cacheDir)) {
    const version = CACHED_DIR.exec(name)?.[1];
    const dir = join(cacheDir, name);
    if (version && existsSync(binaryInPrefix(dir))) runtimes.push({ version, dir, execPath: binaryInPrefix(dir) });
  }
  return runtimes.sort((a, b) => compareVersions(a.version, b.version));
}

/**
 * Removes every cached runtime that no `keep` item names (an exact version, or
 * a major keeping all of that major), and leftovers of interrupted installs.
 * Returns the folders removed.
 */
export function pruneRuntimes(options: { keep?: string[]; cacheDir?: string } = {}): string[] {
  const keep = options.keep ?? [];
  for (const [index, item] of keep.entries()) {
    if (!MAJOR.test(item) && !EXACT.test(item))
      throw new UsageError(
        `--keep[${index}] must be a major (24) or an exact version (24.21.0), got ${JSON.stringify(item)}`,
      );
  }
  const kept = (version: string): boolean =>
    keep.some((item) => item === version || (MAJOR.test(item) && majorOf(version) === Number(item)));
  const cacheDir = cacheDirOf(options);
  if (!existsSync(cacheDir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(cacheDir)) {
    const dir = join(cacheDir, name);
    const version = CACHED_DIR.exec(name)?.[1];
    const stale = name.startsWith(TEMP_PREFIX) || (version !== undefined && !kept(version));
    if (stale && statSync(dir).isDirectory()) {
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

async function runtimeOfPath(spec: string): Promise<Runtime> {
  const execPath = resolve(spec);
  if (!existsSync(execPath)) throw new UsageError(`--node ${spec}: no such file; a path must name a node binary`);
  try {
    return await runtimeOf(execPath, spec);
  } catch (error) {
    throw new UsageError(
      `--node ${spec}: does not run as a node binary (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
    );
  }
}

/** The runtimes a `--node <list>` names, installing versions on demand; the same Node version twice is an error. */
export async function resolveRuntimes(specs: string[], options: RuntimeCacheOptions = {}): Promise<Runtime[]> {
  const runtimes: Runtime[] = [];
  for (const [index, spec] of specs.entries()) {
    parseNodeItem(spec, `--node[${index}]`);
    const runtime =
      spec === 'current'
        ? await runtimeOf(process.execPath, spec)
        : isPathSpec(spec)
          ? await runtimeOfPath(spec)
          : await installRuntime(spec, options);
    const twin = runtimes.find((other) => other.node === runtime.node);
    if (twin)
      throw new UsageError(`--node: ${twin.spec} and ${spec} are both Node ${runtime.node}; give each runtime once`);
    runtimes.push(runtime);
  }
  return runtimes;
}
