/**
 * Glue between option specs (harness/run/options.ts) and commander: every command
 * declares its options once, gets help text with defaults, and maps input
 * errors to exit code 2 with nothing written. The evidence scripts
 * (scripts/evidence/*) parse their command line from the same specs through
 * `scriptArgs`.
 */
import { Command, CommanderError, Option } from 'commander';
import { resolveFlags, UsageError, type OptionSpec, type OptionValues } from '../harness/run/options.js';
import { ResultsFormatError } from '../harness/results/results.js';

/**
 * Adds each spec as a commander option; defaults stay out of commander so
 * layers can override them. A `repeatable` flag given twice accumulates
 * (`--baseline a.json --baseline b.json` = `--baseline a.json,b.json`;
 * commander alone would keep only b.json, silently); any other flag keeps its
 * last value, as usual, so a later flag overrides an earlier one.
 */
export function addOptions(command: Command, specs: readonly OptionSpec<unknown>[]): Command {
  for (const spec of specs) {
    const option = new Option(spec.flag, helpText(spec));
    if (spec.repeatable)
      option.argParser((value: string, previous: unknown) =>
        typeof previous === 'string' ? `${previous},${value}` : value,
      );
    command.addOption(option);
  }
  return command;
}

function helpText(spec: OptionSpec<unknown>): string {
  return spec.description + (spec.defaultValue === undefined ? '' : ` (default: ${formatDefault(spec.defaultValue)})`);
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

/** An evidence script's command line, declared like a command's. */
export interface ScriptDeclaration<
  Options extends readonly OptionSpec<unknown>[],
  Operands extends readonly OptionSpec<unknown>[],
> {
  /** The script's name: its messages start `<name>: `. */
  name: string;
  /** One line for --help. */
  description: string;
  options: Options;
  /**
   * Positional operands, in order, declared as options whose `flag` is
   * commander's argument syntax: '[rounds]', '<results...>' (a variadic one
   * arrives as a list). Messages name them bare: 'rounds must be …'.
   */
  operands?: Operands;
}

/**
 * Parses an evidence script's arguments (`process.argv` without node and the
 * script) from its declaration: the same specs, parsers and help text as a
 * `maplab` command. --help prints the help and exits 0; an unknown flag, a
 * missing or extra operand, or a bad value throws UsageError naming it.
 */
export function parseScriptArgs<
  const Options extends readonly OptionSpec<unknown>[],
  const Operands extends readonly OptionSpec<unknown>[] = [],
>(
  script: ScriptDeclaration<Options, Operands>,
  argv: readonly string[],
): OptionValues<Options> & OptionValues<Operands> {
  const command = addOptions(new Command(script.name).description(script.description), script.options);
  const operands = script.operands ?? [];
  for (const operand of operands) command.argument(operand.flag, helpText(operand));
  command.exitOverride().configureOutput({ outputError: () => {} });
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) process.exit(0); // --help: commander printed it
    const message = error.message.replace(/^error: /, '');
    const known =
      error.code === 'commander.unknownOption'
        ? `; options: ${script.options.map((spec) => spec.flag).join(', ')} (--help says what each means)`
        : '';
    throw new UsageError(`${message.charAt(0).toUpperCase()}${message.slice(1)}${known}`);
  }
  const given: Record<string, unknown> = {};
  operands.forEach((operand, index) => {
    const value: unknown = command.processedArgs[index];
    // An optional variadic operand left out arrives as []: not given, so its default (if any) applies.
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) given[operand.name] = value;
  });
  return {
    ...resolveFlags(script.options, command.opts()),
    ...resolveFlags(operands, given),
  } as OptionValues<Options> & OptionValues<Operands>;
}

/** parseScriptArgs on `process.argv`; a usage error prints `<name>: <message>` and exits 2, as the CLI does. */
export function scriptArgs<
  const Options extends readonly OptionSpec<unknown>[],
  const Operands extends readonly OptionSpec<unknown>[] = [],
>(script: ScriptDeclaration<Options, Operands>): OptionValues<Options> & OptionValues<Operands> {
  try {
    return parseScriptArgs(script, process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${script.name}: ${error.message}\n`);
    process.exit(2);
  }
}
