/**
 * `maplab runtimes list | install <spec...> | prune [--keep <list>]`: the Node
 * runtimes cached for `--node` (harness/run/runtime-install.ts). Versions come from
 * the npm registry's `node` package; an unreachable registry or an unknown
 * version exits 2 with nothing written.
 */
import type { Command } from 'commander';
import { defineOption, parsers, resolveFlags, UsageError } from '../../harness/run/options.js';
import {
  installRuntime,
  listRuntimes,
  parseNodeList,
  pruneRuntimes,
  defaultCacheDir,
} from '../../harness/run/runtime-install.js';
import { action, addOptions } from '../cli-kit.js';

const dirOption = defineOption({
  name: 'dir',
  flag: '--dir <path>',
  parse: parsers.string(),
  description: 'runtime cache folder (default: $MAPLAB_RUNTIMES_DIR or ~/.cache/maplab/runtimes)',
});
const keepOption = defineOption({
  name: 'keep',
  flag: '--keep <list>',
  parse: parsers.list(parsers.string()),
  description: 'comma-separated majors (24) or exact versions (24.21.0) to keep; every other cached runtime is removed',
});

const listSpecs = [dirOption] as const;
const installSpecs = [dirOption] as const;
const pruneSpecs = [dirOption, keepOption] as const;

export function register(program: Command): void {
  const runtimes = program
    .command('runtimes')
    .description("list, install and prune the Node runtimes that --node runs on (npm registry's node package, cached)");

  addOptions(runtimes.command('list').description('cached runtimes: version and binary'), listSpecs).action(
    action((flags: Record<string, unknown>) => {
      const { dir } = resolveFlags(listSpecs, flags);
      const cached = listRuntimes({ cacheDir: dir });
      process.stdout.write(`runtimes in ${dir ?? defaultCacheDir()}:${cached.length === 0 ? ' none' : ''}\n`);
      for (const runtime of cached) process.stdout.write(`  ${runtime.version.padEnd(10)} ${runtime.execPath}\n`);
    }),
  );

  addOptions(
    runtimes
      .command('install')
      .description('install Node versions (a major such as 24, or 24.21.0) into the cache')
      .argument('<spec...>', 'majors or exact versions'),
    installSpecs,
  ).action(
    action(async (specs: string[], flags: Record<string, unknown>) => {
      const { dir } = resolveFlags(installSpecs, flags);
      const versions = parseNodeList(specs, 'spec');
      for (const [index, spec] of versions.entries()) {
        if (!/^\d/.test(spec))
          throw new UsageError(
            `spec[${index}] must be a major (24) or an exact version (24.21.0), got ${JSON.stringify(spec)}`,
          );
      }
      for (const spec of versions) {
        const runtime = await installRuntime(spec, { cacheDir: dir });
        process.stdout.write(`node ${runtime.node} (V8 ${runtime.v8}): ${runtime.execPath}\n`);
      }
    }),
  );

  addOptions(
    runtimes.command('prune').description('remove cached runtimes not named by --keep (all of them without it)'),
    pruneSpecs,
  ).action(
    action((flags: Record<string, unknown>) => {
      const { dir, keep } = resolveFlags(pruneSpecs, flags);
      const removed = pruneRuntimes({ cacheDir: dir, keep });
      process.stdout.write(
        removed.length === 0 ? 'nothing to remove\n' : removed.map((path) => `removed ${path}\n`).join(''),
      );
    }),
  );
}
