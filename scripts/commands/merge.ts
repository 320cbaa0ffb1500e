/**
 * `maplab merge <files|dirs…> --out <file>`: the shards of a sweep (one
 * `sweep --shard i/n` file each, e.g. the artifacts of a CI matrix) joined into
 * one results file with the structure of an unsharded sweep. Any mismatch
 * (config, machine, runtime, a duplicated or missing cell) exits 2 naming the
 * files, and nothing is written. Rules: harness/results/merge.ts.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { mergeShards } from '../../harness/results/merge.js';
import { defineOption, parsers, resolveFlags, UsageError } from '../../harness/run/options.js';
import { readResultsFile, writeResultsFile } from '../../harness/results/results.js';
import { action, addOptions } from '../cli-kit.js';

const mergeOptionSpecs = [
  defineOption({
    name: 'out',
    flag: '--out <file>',
    description: 'the merged results file (required)',
    parse: parsers.string(),
  }),
  defineOption({
    name: 'force',
    flag: '--force',
    description: 'overwrite an existing --out file',
    parse: parsers.boolean(),
  }),
  defineOption({ name: 'quiet', flag: '--quiet', description: 'print nothing on success', parse: parsers.boolean() }),
] as const;

const EXAMPLES = `
Examples:
  $ maplab sweep --preset ci --shard 1/2 --out shards/1.json
  $ maplab sweep --preset ci --shard 2/2 --out shards/2.json
  $ maplab merge shards/ --out ci.json          (every *.json in shards/, *.gate.json excepted)`;

export function register(program: Command): void {
  const command = program
    .command('merge')
    .description(
      'join the results files of a sharded sweep (sweep --shard i/n) into one, as an unsharded sweep would have written it',
    )
    .argument('<inputs...>', 'results files, or folders whose *.json files are results files');
  addOptions(command, mergeOptionSpecs);
  command.addHelpText('after', EXAMPLES);
  command.action(
    action((inputs: string[], flags: Record<string, unknown>) => {
      const options = resolveFlags(mergeOptionSpecs, flags);
      if (options.out === undefined) throw new UsageError('merge needs --out <file>');
      if (existsSync(options.out) && options.force !== true)
        throw new UsageError(`--out: ${options.out} already exists; pass --force to overwrite it`);
      const paths = inputs.flatMap(expandInput).filter((path) => resolve(path) !== resolve(options.out as string));
      const merged = mergeShards(paths.map((path) => ({ results: readResultsFile(path), source: path })));
      writeResultsFile(options.out, merged);
      if (options.quiet !== true)
        process.stdout.write(`merged ${paths.length} file(s), ${merged.cells.length} cells → ${options.out}\n`);
    }),
  );
}

/** A folder stands for its *.json files (sorted; gate verdicts, *.gate.json, are not results). */
function expandInput(input: string): string[] {
  if (!existsSync(input)) throw new UsageError(`${input}: no such file or folder`);
  if (!statSync(input).isDirectory()) return [input];
  const files = readdirSync(input)
    .filter((name) => name.endsWith('.json') && !name.endsWith('.gate.json'))
    .sort()
    .map((name) => join(input, name));
  if (files.length === 0) throw new UsageError(`${input}: the folder holds no .json results file`);
  return files;
}
