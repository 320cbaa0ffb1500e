/**
 * The runtime axis (`--node <list>`): which Node binaries a sweep spans. Each
 * runtime measures its cells in a trial server under its own binary
 * (harness/cell-backend.ts), interleaved with the others' trials.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './options.js';

/** A runtime of a sweep, as the results file records it (config.runtimes). */
export interface SweepRuntime {
  /** What was asked for: 'current', a version, or a path. */
  spec: string;
  /** process.version of the binary, e.g. 'v24.21.0'. */
  node: string;
  v8: string;
  execPath: string;
}

/** process.version and V8 version of a node binary, or a UsageError naming it. */
export function probeRuntime(execPath: string, spec: string, label = '--node'): SweepRuntime {
  const probe = spawnSync(execPath, ['-p', 'JSON.stringify([process.version, process.versions.v8])'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) {
    throw new UsageError(`${label}: ${JSON.stringify(spec)} (${execPath}) does not run as node: ${(probe.stderr || probe.error?.message || '').trim().slice(0, 200)}`);
  }
  const [node, v8] = JSON.parse(probe.stdout) as [string, string];
  return { spec, node, v8, execPath };
}

/**
 * `current` or a path to a node binary → a SweepRuntime. Versions (20, 24.21.0)
 * are resolved by `installRuntime` (harness/runtime-install.ts) when given.
 */
export async function resolveSweepRuntimes(
  specs: readonly string[],
  install?: (spec: string) => Promise<{ execPath: string }>,
  label = '--node',
): Promise<SweepRuntime[]> {
  const runtimes: SweepRuntime[] = [];
  for (const spec of specs) {
    let execPath: string;
    if (spec === 'current') execPath = process.execPath;
    else if (spec.includes('/')) {
      execPath = resolve(spec);
      if (!existsSync(execPath)) throw new UsageError(`${label}: no such node binary ${JSON.stringify(execPath)}`);
    } else if (/^\d+(\.\d+\.\d+)?$/.test(spec)) {
      if (!install) throw new UsageError(`${label}: ${JSON.stringify(spec)}: installing Node versions is not available here; give a path to a node binary`);
      execPath = (await install(spec)).execPath;
    } else {
      throw new UsageError(`${label} takes current, a major version (20, 22, 24), an exact version (24.21.0) or a path to a node binary; got ${JSON.stringify(spec)}`);
    }
    const runtime = probeRuntime(execPath, spec, label);
    const twin = runtimes.find((other) => other.node === runtime.node);
    if (twin) throw new UsageError(`${label}: ${JSON.stringify(spec)} and ${JSON.stringify(twin.spec)} are the same Node ${runtime.node}`);
    runtimes.push(runtime);
  }
  return runtimes;
}
