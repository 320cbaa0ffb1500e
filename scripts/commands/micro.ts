/**
 * `maplab micro` (`npm run micro`): the single-thread micro benchmark of every
 * map's basic operations (harness/micro.ts). Prints a table of ns/op per
 * map × op × load factor and the target ratios, or JSON with --json.
 */
import type { Command } from 'commander';
import { microOptions, renderMicroTable, runMicro } from '../../harness/micro.js';
import { resolveOptions } from '../../harness/options.js';
import { action, addOptions } from '../cli-kit.js';

export function register(program: Command): void {
  const command = program
    .command('micro')
    .description('single-thread ns/op of get-hit, get-miss, set-update and insert+delete on every map (tinybench), with the plain/js-map and rwmutex/plain ratios');
  addOptions(command, microOptions).action(action(async (flags: Record<string, unknown>) => {
    const options = resolveOptions(microOptions, [{ source: 'command line', values: flags, flags: true }]);
    const result = await runMicro(options, options.json ? undefined : (map) => process.stderr.write(`micro: ${map} done\n`));
    process.stdout.write(options.json ? JSON.stringify(result, null, 2) + '\n' : renderMicroTable(result));
    return 0;
  }));
}
