/**
 * The environment a results file was measured in, so numbers from different
 * machines are never compared blind.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, arch, cpus, release, totalmem, type } from 'node:os';
import type { ResultsEnv } from '../results/results.js';
import { currentJitMode } from './jit.js';

/** This machine's CPU model and core count, as results files record them. */
export function localMachineKind(): { cpuModel: string; cores: number } {
  return { cpuModel: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism() };
}

export function collectEnv(): ResultsEnv & { commitDirty?: boolean } {
  const env: ResultsEnv & { commitDirty?: boolean } = {
    node: process.version,
    v8: process.versions.v8,
    os: `${type()} ${release()} ${arch()}`,
    ...localMachineKind(),
    memoryBytes: totalmem(),
    jit: currentJitMode(),
  };
  const commit = git(['rev-parse', 'HEAD']);
  if (commit) {
    env.commit = commit;
    env.commitDirty = (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
  }
  return env;
}

/** The commit checked out in a directory (a baseline tree), or undefined when it is not a git work tree. */
export function commitOf(directory: string): string | undefined {
  return git(['-C', directory, 'rev-parse', 'HEAD']);
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}
