/**
 * `maplab micro` (`npm run micro`): the single-thread micro benchmark of every
 * map's basic operations (harness/micro/micro.ts). Prints a table of ns/op per
 * map × op × load factor and the issue's target ratios, or JSON with --json.
 * `--primitives` measures the primitives the maps rest on instead
 * (harness/micro/primitives.ts); `--node <list>` runs either under each runtime in a
 * child process and prints the runtimes side by side.
 */
import type { Command } from 'commander';
import {
  microOptions,
  renderMicroRuntimesTable,
  renderMicroTable,
  runMicro,
  runMicroUnder,
  type MicroOptions,
} from '../../harness/micro/micro.js';
import { resolveFlags } from '../../harness/run/options.js';
import { measurePrimitives, measurePrimitivesAcross, renderPrimitivesTable } from '../../harness/micro/primitives.js';
import { resolveRuntimes } from '../../harness/run/runtime-install.js';
import { action, addOptions } from '../cli-kit.js';

/** Child processes per runtime for --primitives --node: two, interleaved, the fastest kept (harness/micro/primitives.ts). */
const PRIMITIVE_ROUNDS = 2;

function print(options: MicroOptions, value: unknown, table: string): void {
  process.stdout.write(options.json ? JSON.stringify(value, null, 2) + '\n' : table);
}

async function acrossRuntimes(options: MicroOptions, specs: string[]): Promise<void> {
  const runtimes = await resolveRuntimes(specs);
  const progress = (runtime: { node: string }, round?: number): void => {
    if (!options.json)
      process.stderr.write(`micro: Node ${runtime.node}${round === undefined ? '' : ` round ${round + 1}`} done\n`);
  };
  if (options.primitives) {
    const results = await measurePrimitivesAcross(
      runtimes,
      { timeMs: options.timeMs, rounds: PRIMITIVE_ROUNDS },
      progress,
    );
    print(options, results, renderPrimitivesTable(results));
    return;
  }
  const results = [];
  for (const runtime of runtimes) {
    results.push(await runMicroUnder(runtime, options));
    progress(runtime);
  }
  print(options, results, renderMicroRuntimesTable(results));
}

export function register(program: Command): void {
  const command = program
    .command('micro')
    .description(
      'single-thread ns/op of get-hit, get-miss, set-update and insert+delete on every map (tinybench), with the plain/js-map and rwmutex/plain ratios',
    );
  addOptions(command, microOptions).action(
    action(async (flags: Record<string, unknown>) => {
      const options = resolveFlags(microOptions, flags);
      if (options.node) {
        await acrossRuntimes(options, options.node);
      } else if (options.primitives) {
        const result = await measurePrimitives(options.timeMs);
        print(options, result, renderPrimitivesTable([result]));
      } else {
        const result = await runMicro(
          options,
          options.json ? undefined : (map) => process.stderr.write(`micro: ${map} done\n`),
        );
        print(options, result, renderMicroTable(result));
      }
      return 0;
    }),
  );
}
