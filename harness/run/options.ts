/**
 * Options are declared once: a spec gives the flag, the help text (with unit
 * and default), the default and the parser that validates it. The command line
 * and config files both go through the same parser, so a bad value gets the
 * same message — naming the option and the allowed values — from either.
 *
 * Every `maplab` command (scripts/commands/*) and every evidence script
 * (scripts/evidence/*) declares its options with `defineOption`, lists them in
 * an array, and gets them back typed through `resolveOptions` (or
 * `resolveFlags`); scripts/cli-kit.ts turns the same array into commander
 * options, help text and exit code 2 on a bad value.
 */

/** Bad flags, config or input files: the CLI prints the message and exits 2, writing nothing. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec<T> {
  /** Config-file field name and key in the parsed options (camelCase). */
  readonly name: string;
  /** Commander flag, e.g. '--threads <list>' or '--resume'. */
  readonly flag: string;
  /** Help text: what it is, its unit, allowed values. The default is appended. */
  readonly description: string;
  readonly defaultValue?: T;
  /**
   * A list of inputs (`--baseline a.json --baseline b.json`): given twice on
   * the command line, the values accumulate. Every other flag keeps its last
   * value, so a later flag overrides an earlier one (`npm run bench -- --out x`).
   */
  readonly repeatable?: boolean;
  /** Parses a CLI string or a config-file JSON value; throws UsageError naming `label`. */
  parse(raw: unknown, label: string): T;
}

/**
 * The resolved options of a spec list, by name: an option with a default always
 * has a value; one without is undefined unless a layer (preset, file, flag) gave it.
 */
export type OptionValues<Specs extends readonly OptionSpec<unknown>[]> = {
  [S in Specs[number] as S['name']]: S extends OptionSpec<infer T>
    ? S extends { readonly defaultValue: unknown }
      ? T
      : T | undefined
    : never;
};

/** An option as declared: its type comes from the parser alone (a default must fit it, not widen it). */
type Declaration<Name extends string, T> = Omit<OptionSpec<T>, 'name' | 'defaultValue'> & { readonly name: Name };

/**
 * Declares one option. The result is the spec itself, typed with its name as a
 * literal and with whether it has a default, so `OptionValues` (and so
 * `resolveOptions`) types every resolved option field by field.
 */
export function defineOption<const Name extends string, T>(
  spec: Declaration<Name, T> & { readonly defaultValue: NoInfer<T> },
): OptionSpec<T> & { readonly name: Name; readonly defaultValue: T };
export function defineOption<const Name extends string, T>(
  spec: Declaration<Name, T>,
): OptionSpec<T> & { readonly name: Name };
export function defineOption(spec: OptionSpec<unknown>): OptionSpec<unknown> {
  return spec;
}

function fail(label: string, allowed: string, raw: unknown): never {
  throw new UsageError(`${label} must be ${allowed}, got ${JSON.stringify(raw) ?? String(raw)}`);
}

function listItems(raw: unknown): unknown[] {
  if (Array.isArray(raw)) return raw;
  if (typeof raw === 'string')
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  return [raw];
}

export const parsers = {
  integer(min: number, max: number) {
    return (raw: unknown, label: string): number => {
      const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        fail(label, `an integer ${min}..${max}`, raw);
      }
      return value;
    };
  },
  number(min: number, max: number, exclusive = false) {
    const range = exclusive ? `a number in (${min}, ${max}) exclusive` : `a number ${min}..${max}`;
    return (raw: unknown, label: string): number => {
      const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (exclusive ? value > min && value < max : value >= min && value <= max);
      if (!ok) fail(label, range, raw);
      return value as number;
    };
  },
  oneOf<T extends string>(allowed: readonly T[]) {
    return (raw: unknown, label: string): T => {
      if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw))
        fail(label, `one of ${allowed.join(', ')}`, raw);
      return raw as T;
    };
  },
  string() {
    return (raw: unknown, label: string): string => {
      if (typeof raw !== 'string' || raw === '') fail(label, 'a non-empty string', raw);
      return raw;
    };
  },
  boolean() {
    return (raw: unknown, label: string): boolean => {
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      return fail(label, 'true or false', raw);
    };
  },
  /** A comma-separated list (CLI) or a JSON array (config), each item parsed by `item`; never empty. */
  list<T>(item: (raw: unknown, label: string) => T) {
    return (raw: unknown, label: string): T[] => {
      const items = listItems(raw);
      if (items.length === 0) fail(label, 'a non-empty comma-separated list', raw);
      return items.map((element, index) => item(element, `${label}[${index}]`));
    };
  },
};

/**
 * How messages name an option given on the command line: its flag ('--runs'),
 * or for an operand (a positional argument, '[rounds]' or '<results...>') its bare name.
 */
export function flagLabel(spec: OptionSpec<unknown>): string {
  return spec.flag.split(' ')[0].replace(/^[<[]|\.{3}|[>\]]$/g, '');
}

/**
 * Resolves options in precedence order (later wins): defaults, then each layer
 * (preset, config file, flags). Unknown fields in a layer are rejected.
 */
export function resolveOptions<Specs extends readonly OptionSpec<unknown>[]>(
  specs: Specs,
  layers: ReadonlyArray<{ source: string; values: Record<string, unknown>; flags?: boolean }>,
): OptionValues<Specs> {
  const resolved: Record<string, unknown> = {};
  for (const spec of specs) if (spec.defaultValue !== undefined) resolved[spec.name] = spec.defaultValue;
  for (const layer of layers) {
    for (const [name, raw] of Object.entries(layer.values)) {
      if (raw === undefined) continue;
      const spec = specs.find((candidate) => candidate.name === name);
      if (!spec) {
        throw new UsageError(
          `${layer.source}: unknown field '${name}'; allowed: ${specs.map((s) => s.name).join(', ')}`,
        );
      }
      const label = layer.flags ? flagLabel(spec) : `${layer.source}: ${name}`;
      resolved[name] = spec.parse(raw, label);
    }
  }
  return resolved as OptionValues<Specs>;
}

/** Command-line flags alone (commander's `opts()`): the defaults, then the flags, each named as typed in messages. */
export function resolveFlags<Specs extends readonly OptionSpec<unknown>[]>(
  specs: Specs,
  flags: Record<string, unknown>,
): OptionValues<Specs> {
  return resolveOptions(specs, [{ source: 'command line', values: flags, flags: true }]);
}
