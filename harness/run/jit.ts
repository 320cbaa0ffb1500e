/**
 * How V8 optimises the code a trial runs, and how the CLI makes sure of it.
 *
 * By default V8 optimises a hot function on a background thread and installs
 * the code whenever that job finishes. What the optimiser saw, and so the
 * code a worker thread keeps for the rest of its life, depends on timing.
 * scripts/evidence/placement-probe.ts measured the effect: the same map,
 * memory and op stream ran at persistently different speeds on different
 * worker threads, while the memory placement did not matter. Worker spread
 * (max/min of the workers' medians, 8 workers, median of 5 probes):
 * readdirty 1.25, clht 1.23 by default; 1.07 and 1.05 with
 * `--no-concurrent-recompilation`, where a function is optimised on the
 * thread that asked, at a point fixed by its own call and loop counts.
 *
 * V8 reads the flag when an isolate starts, and `v8.setFlagsFromString`
 * before the pool starts did not remove the modes (two probes), so the flag
 * has to be on the command line: measuring commands relaunch themselves
 * with it unless `MAPLAB_JIT=concurrent` asks for V8's default, and the
 * harness starts its own measuring children (the gate's sweeps, micro under
 * another runtime) with `measuringNodeFlags()`, so they need no relaunch.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';
import { UsageError } from './options.js';

export const SYNC_JIT_FLAG = '--no-concurrent-recompilation';
/** The built `maplab` CLI (dist/scripts/cli.js), for child processes that run a command. */
export const CLI_PATH = fileURLToPath(new URL('../../scripts/cli.js', import.meta.url));
export const JIT_MODES = ['sync', 'concurrent'] as const;
export type JitMode = (typeof JIT_MODES)[number];

/** The mode this process runs in, from its own command-line flags. */
export function currentJitMode(execArgv: readonly string[] = process.execArgv): JitMode {
  return execArgv.includes(SYNC_JIT_FLAG) ? 'sync' : 'concurrent';
}

/** The mode `MAPLAB_JIT` asks for; `sync` when unset. */
export function requestedJitMode(env: NodeJS.ProcessEnv = process.env): JitMode {
  const value = env.MAPLAB_JIT;
  if (value === undefined || value === '') return 'sync';
  if ((JIT_MODES as readonly string[]).includes(value)) return value as JitMode;
  throw new UsageError(`MAPLAB_JIT must be one of ${JIT_MODES.join(', ')}, got '${value}'`);
}

/**
 * The node flags for a child process that runs a measuring command (the
 * gate's sweeps, micro under another runtime): with them it starts in the
 * requested mode instead of relaunching itself.
 */
export function measuringNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return requestedJitMode(env) === 'sync' ? [SYNC_JIT_FLAG] : [];
}

/** The command line that runs this same script again with `SYNC_JIT_FLAG` (the caller's own node flags kept, after it). */
export function relaunchArguments(execArgv: readonly string[], argv: readonly string[]): string[] {
  return [SYNC_JIT_FLAG, ...execArgv, ...argv.slice(1)];
}

/**
 * Runs this process's command again with `SYNC_JIT_FLAG`, passing signals
 * through, and resolves with the exit code to leave with (128 + signal
 * number when the child was killed by a signal).
 */
export function relaunchWithSyncJit(): Promise<number> {
  const child = spawn(process.execPath, relaunchArguments(process.execArgv, process.argv), { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}
