/**
 * `maplab repeatability a.json b.json`: do two runs of the same sweep agree?
 * Per-cell agreement, how far map-vs-map ratios moved, and winner flips
 * (harness/results/repeatability.ts). Exit 0 with the figures; 2 on bad input.
 */
import type { Command } from 'commander';
import { defineOption, parsers, resolveFlags } from '../../harness/run/options.js';
import { renderRepeatability, repeatability } from '../../harness/results/repeatability.js';
import { readResultsFile } from '../../harness/results/results.js';
import { action, addOptions } from '../cli-kit.js';

const repeatabilityOptionSpecs = [
  defineOption({
    name: 'json',
    flag: '--json',
    description: 'print the figures as JSON',
    defaultValue: false,
    parse: parsers.boolean(),
  }),
  defineOption({
    name: 'tieMargin',
    flag: '--tie-margin <fraction>',
    description: 'a verdict needs the paired ratio beyond 1 ± this (and a 95% CI excluding 1), 0..0.5',
    defaultValue: 0.03,
    parse: parsers.number(0, 0.5),
  }),
  defineOption({
    name: 'referenceMap',
    flag: '--reference-map <name>',
    description: "reference map of the relative answers (default: each file's own)",
    parse: parsers.string(),
  }),
] as const;

export function register(program: Command): void {
  const command = program
    .command('repeatability')
    .description(
      'compare two results files of the same sweep: per-cell agreement, map-vs-map ratio changes, winner flips',
    )
    .argument('<first>', 'results file of the first run')
    .argument('<second>', 'results file of the second run');
  addOptions(command, repeatabilityOptionSpecs);
  command.action(
    action((firstPath: string, secondPath: string, flags: Record<string, unknown>) => {
      const options = resolveFlags(repeatabilityOptionSpecs, flags);
      const report = repeatability(readResultsFile(firstPath), readResultsFile(secondPath), {
        tieMargin: options.tieMargin,
        referenceMap: options.referenceMap ?? null,
      });
      process.stdout.write(
        options.json ? `${JSON.stringify(report, null, 2)}\n` : renderRepeatability(report, [firstPath, secondPath]),
      );
    }),
  );
}
