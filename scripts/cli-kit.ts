/**
 * Glue between option specs (harness/options.ts) and commander: every command
 * declares its options once, gets help text with defaults, and maps input
 * errors to exit code 2 with nothing written.
 */
import { Command, Option } from 'commander';
import { UsageError, type OptionSpec } from '../harness/options.js';
import { ResultsFormatError } from '../harness/results.js';

/**
 * Adds each spec as a commander option; defaults stay out of commander so
 * layers can override them. A `repeatable` flag given twice accumulates
 * (`--baseline a.json --baseline b.json` = `--baseline a.json,b.json`;
 * commander alone would keep only b.json, silently); any other flag keeps its
 * last value, as usual, so a later flag overrides an earlier one.
 */
export function addOptions(command: Command, specs: readonly OptionSpec<unknown>[]): Command {
  for (const spec of specs) {
    const suffix = spec.defaultValue === undefined ? '' : ` (default: ${formatDefault(spec.defaultValue)})`;
    const option = new Option(spec.flag, spec.description + suffix);
    if (spec.repeatable) option.argParser((value: string, previous: unknown) => (typeof previous === 'string' ? `${previous},${value}` : value));
    command.addOption(option);
  }
  return command;
}

function formatDefault(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** Wraps an action: input errors print their message and exit 2; anything else exits 1. */
export function action<Args extends unknown[]>(run: (...args: Args) => Promise<number | void> | number | void) {
  return async (...args: Args): Promise<void> => {
    try {
      const code = await run(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (error) {
      if (error instanceof UsageError || error instanceof ResultsFormatError) {
        process.stderr.write(`maplab: ${error.message}\n`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`maplab: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  };
}

/** Commander's own parse errors (unknown flag, missing argument) exit 2 like ours. */
export function exitCodeTwoOnUsageErrors(program: Command): Command {
  program.exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });
  return program;
}
