/**
 * verify's options, declared once: the CLI flags (scripts/commands/verify.ts)
 * and the programmatic API (verifyMaps) both resolve through these specs, so
 * a bad value gets the same message from either.
 */
import { defineOption, parsers, resolveOptions, type OptionValues } from '../run/options.js';
import { MAX_OPS_PER_HISTORY } from './op-plan.js';

export const VERIFY_OPTION_SPECS = [
  defineOption({
    name: 'maps',
    flag: '--maps <list>',
    description: 'comma-separated map names, built-in or from --map-module (default: every map)',
    parse: parsers.list(parsers.string()),
  }),
  defineOption({
    name: 'mapModule',
    flag: '--map-module <paths>',
    description:
      'comma-separated paths of ES modules whose default export is a MapFactory (or the flag repeated); loaded in the main thread and every worker',
    parse: parsers.list(parsers.string()),
    repeatable: true,
  }),
  defineOption({
    name: 'threads',
    flag: '--threads <n>',
    description: 'worker threads running ops against each map at once, integer 1..64',
    defaultValue: 4,
    parse: parsers.integer(1, 64),
  }),
  defineOption({
    name: 'histories',
    flag: '--histories <n>',
    description: 'histories to record and check per map, integer 1..100000000',
    defaultValue: 200,
    parse: parsers.integer(1, 100_000_000),
  }),
  defineOption({
    name: 'opsPerHistory',
    flag: '--ops-per-history <n>',
    description: `ops each thread runs per history, integer 1..${MAX_OPS_PER_HISTORY}`,
    defaultValue: 16,
    parse: parsers.integer(1, MAX_OPS_PER_HISTORY),
  }),
  defineOption({
    name: 'keys',
    flag: '--keys <n>',
    description: 'key space 0..n−1 the ops draw from; small so ops collide, integer 1..1024',
    defaultValue: 6,
    parse: parsers.integer(1, 1024),
  }),
  defineOption({
    name: 'seed',
    flag: '--seed <n>',
    description: 'seed of the op plans, integer 0..4294967295',
    defaultValue: 1,
    parse: parsers.integer(0, 0xffffffff),
  }),
  defineOption({
    name: 'durationMs',
    flag: '--duration-ms <ms>',
    description:
      'stop a map after this long even if fewer histories ran (milliseconds, integer 1..86400000; default: no limit)',
    parse: parsers.integer(1, 86_400_000),
  }),
  defineOption({
    name: 'capacity',
    flag: '--capacity <entries>',
    description: 'capacity each fresh map is created with; small so histories cross resizes, integer 1..1048576',
    defaultValue: 1,
    parse: parsers.integer(1, 1 << 20),
  }),
  defineOption({
    name: 'stepBudget',
    flag: '--step-budget <steps>',
    description: 'search steps one history may take before it is reported inconclusive, integer 100..1000000000',
    defaultValue: 100_000,
    parse: parsers.integer(100, 1_000_000_000),
  }),
  defineOption({
    name: 'foreachCheck',
    flag: '--foreach-check <rule>',
    description:
      'forEach rule: complete (each key reported or not as it was at some instant of the call), reported (only reported pairs judged), off',
    defaultValue: 'complete',
    parse: parsers.oneOf(['complete', 'reported', 'off'] as const),
  }),
  defineOption({
    name: 'sizeCheck',
    flag: '--size-check <rule>',
    description: 'size rule: bounds (between the keys certainly and possibly present during the call), off',
    defaultValue: 'bounds',
    parse: parsers.oneOf(['bounds', 'off'] as const),
  }),
  defineOption({
    name: 'historiesPerTask',
    flag: '--histories-per-task <n>',
    description: 'histories each worker task records (amortises task dispatch), integer 1..10000',
    defaultValue: 25,
    parse: parsers.integer(1, 10_000),
  }),
  defineOption({
    name: 'json',
    flag: '--json',
    description: 'print the verification report as JSON instead of a table',
    defaultValue: false,
    parse: parsers.boolean(),
  }),
] as const;

/** The resolved options: maps, mapModule and durationMs may be undefined (no default); every other option has its default. */
export type VerifyOptionValues = OptionValues<typeof VERIFY_OPTION_SPECS>;

/** Defaults, then each layer in order (later wins); unknown names and bad values throw UsageError. */
export function resolveVerifyOptions(layers: Parameters<typeof resolveOptions>[1]): VerifyOptionValues {
  return resolveOptions(VERIFY_OPTION_SPECS, layers);
}
