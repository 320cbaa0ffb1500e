#!/usr/bin/env node
/**
 * The `maplab` command line. Each command lives in scripts/commands/<name>.ts
 * and registers itself; this file only assembles them.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { exitCodeTwoOnUsageErrors } from './cli-kit.js';
import { register as registerSweep } from './commands/sweep.js';
import { register as registerRun } from './commands/run.js';
import { register as registerMicro } from './commands/micro.js';
import { register as registerAnalyze } from './commands/analyze.js';
import { register as registerReport } from './commands/report.js';
import { register as registerCompare } from './commands/compare.js';
import { register as registerGate } from './commands/gate.js';
import { register as registerExport } from './commands/export.js';
import { register as registerVerify } from './commands/verify.js';
import { register as registerRepeatability } from './commands/repeatability.js';
import { register as registerMerge } from './commands/merge.js';
import { register as registerRuntimes } from './commands/runtimes.js';
import { currentJitMode, relaunchWithSyncJit, requestedJitMode } from '../harness/run/jit.js';
import { UsageError } from '../harness/run/options.js';

/** Commands that measure: they run with synchronous optimisation unless MAPLAB_JIT says otherwise (harness/run/jit.ts). */
const MEASURING_COMMANDS = new Set(['sweep', 'run', 'micro']);
if (MEASURING_COMMANDS.has(process.argv[2] ?? '')) {
  try {
    if (requestedJitMode() === 'sync' && currentJitMode() === 'concurrent') process.exit(await relaunchWithSyncJit());
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`maplab: ${error.message}\n`);
    process.exit(2);
  }
}

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = exitCodeTwoOnUsageErrors(new Command('maplab'))
  .description('A benchmark harness and performance lab for concurrent hash maps in SharedArrayBuffer memory')
  .version(version)
  .showHelpAfterError();

for (const register of [
  registerSweep,
  registerRun,
  registerMicro,
  registerAnalyze,
  registerReport,
  registerCompare,
  registerGate,
  registerExport,
  registerVerify,
  registerRepeatability,
  registerMerge,
  registerRuntimes,
]) {
  register(program);
}

await program.parseAsync(process.argv);
