/**
 * Workloads from outside the preset list: a JSON file (one workload or an
 * array), command-line flags, and the --keys override of any workload. All go
 * through validateWorkload; every message names the file (when there is one),
 * the workload and the field.
 *
 * JSON format (fields as in types.ts Workload):
 *   { "name": "mine", "description": "…", "mix": { "get": 0.8, "set": 0.2 },
 *     "distribution": { "kind": "zipfian", "theta": 0.9 }, "keys": 100000, "prefill": 1 }
 * `mix` may also be a string "get=0.8,set=0.2" and `distribution` a string
 * "zipfian" or "zipfian:theta=0.9" — the same syntax the flags take.
 */
import { readFileSync } from 'node:fs';
import { describeValue, WorkloadError } from './errors.js';
import { workloadPresetNames } from './presets.js';
import { OP_NAMES, type Distribution, type Mix, type OpName, type Workload } from './types.js';
import { MAX_KEYS, validateWorkload, WorkloadIssues } from './validate.js';

/** Defaults for fields flags and files may leave out. */
export const CUSTOM_DEFAULTS = {
  name: 'custom',
  distribution: 'uniform',
  keys: 65_536,
  prefill: 0.75,
} as const;

const WORKLOAD_FIELDS = ['name', 'description', 'mix', 'distribution', 'keys', 'prefill', 'pattern', 'fixedKeySpace'];

/** Parses "get=0.9,set=0.1" into a mix; the fractions are checked by validateMix afterwards. */
export function parseMixSpec(spec: string, issues: WorkloadIssues): Mix {
  const mix: Mix = {};
  const items = spec
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) issues.mustBe('mix', `a list like "get=0.9,set=0.1" (ops: ${OP_NAMES.join(', ')})`, spec);
  for (const item of items) {
    const match = /^([A-Za-z]+)\s*=\s*(\S+)$/.exec(item);
    if (!match) issues.fail('mix', `mix item "${item}" must be op=fraction, e.g. get=0.9`);
    const [, op, fraction] = match;
    if (!(OP_NAMES as string[]).includes(op))
      issues.fail(`mix.${op}`, `mix has unknown op '${op}'; allowed: ${OP_NAMES.join(', ')}`);
    if (mix[op as OpName] !== undefined) issues.fail(`mix.${op}`, `mix names '${op}' twice`);
    mix[op as OpName] = parseNumber(fraction) as number;
  }
  return mix;
}

/** Parses "zipfian" or "hotspot:hotKeyFraction=0.1,hotOpFraction=0.9"; parameters are checked by validateDistribution. */
export function parseDistributionSpec(spec: string, issues: WorkloadIssues): Distribution {
  const [kind, parameterList = ''] = spec.split(':', 2).map((part) => part.trim());
  const distribution: Record<string, unknown> = { kind };
  for (const item of parameterList
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    const match = /^([A-Za-z]+)\s*=\s*(\S+)$/.exec(item);
    if (!match) issues.fail('distribution', `distribution parameter "${item}" must be name=value, e.g. theta=0.99`);
    distribution[match[1]] = parseNumber(match[2]);
  }
  return distribution as unknown as Distribution;
}

/** A number from a flag or JSON; strings that are not numbers stay strings so the validator reports them as given. */
function parseNumber(raw: unknown): unknown {
  if (typeof raw !== 'string' || raw.trim() === '') return raw;
  const value = Number(raw);
  return Number.isNaN(value) ? raw : value;
}

export interface WorkloadFlags {
  /** Default 'custom'. */
  name?: string;
  description?: string;
  /** "get=0.9,set=0.1", or a Mix object. Required. */
  mix: string | Mix;
  /** "uniform" | "zipfian[:theta=…]" | "hotspot[:hotKeyFraction=…,hotOpFraction=…]" | "latest[:theta=…]" | "sequential-insert", or a Distribution; default uniform. */
  distribution?: string | Distribution;
  /** Key-space size, integer 1..2^31; default 65 536. */
  keys?: number | string;
  /** Fraction of the key space inserted before measuring, 0..1; default 0.75. */
  prefill?: number | string;
}

/** A validated workload from command-line flags; defaults in CUSTOM_DEFAULTS. */
export function workloadFromFlags(flags: WorkloadFlags): Workload {
  const name = flags.name ?? CUSTOM_DEFAULTS.name;
  const issues: WorkloadIssues = WorkloadIssues.forWorkload(name);
  if (flags.mix === undefined) issues.fail('mix', 'mix is required, e.g. "get=0.9,set=0.1"');
  return buildWorkload({ ...flags, name }, issues);
}

function buildWorkload(fields: Record<string, unknown>, issues: WorkloadIssues, source?: string): Workload {
  const {
    name,
    description,
    mix,
    distribution = CUSTOM_DEFAULTS.distribution,
    keys = CUSTOM_DEFAULTS.keys,
    prefill = CUSTOM_DEFAULTS.prefill,
    pattern,
    fixedKeySpace,
  } = fields;
  const workload: Record<string, unknown> = {
    name,
    description:
      description ??
      `custom: ${typeof mix === 'string' ? mix : describeMix(mix)}; ${
        typeof distribution === 'string' ? distribution : describeValue(distribution)
      }; ${String(keys)} keys; prefill ${String(prefill)}`,
    mix: typeof mix === 'string' ? parseMixSpec(mix, issues) : mix,
    distribution: typeof distribution === 'string' ? parseDistributionSpec(distribution, issues) : distribution,
    keys: parseNumber(keys),
    prefill: parseNumber(prefill),
  };
  if (pattern !== undefined) workload.pattern = pattern;
  if (fixedKeySpace !== undefined) workload.fixedKeySpace = fixedKeySpace;
  return validateWorkload(workload as unknown as Workload, source);
}

function describeMix(mix: unknown): string {
  if (typeof mix !== 'object' || mix === null) return describeValue(mix);
  return Object.entries(mix)
    .map(([op, fraction]) => `${op}=${String(fraction)}`)
    .join(',');
}

/**
 * Reads a JSON file holding one workload or an array of them; returns them all
 * validated. Names must be unique and must not shadow a preset. Errors name
 * the file, the workload (or its position) and the field.
 */
export function loadWorkloadFile(path: string): Workload[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WorkloadError(`workload file '${path}' cannot be read: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new WorkloadError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  const isList = Array.isArray(document);
  const entries: unknown[] = Array.isArray(document) ? document : [document];
  if (entries.length === 0) throw new WorkloadError(`${path}: the array holds no workloads`);
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const where = isList ? `${path}: [${index}]` : path;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new WorkloadError(
        `${where}: a workload must be an object with name, mix, distribution, keys and prefill, got ${describeValue(entry)}`,
      );
    }
    const fields = entry as Record<string, unknown>;
    const issues: WorkloadIssues = WorkloadIssues.forWorkload(fields.name, where);
    for (const field of Object.keys(fields)) {
      if (!WORKLOAD_FIELDS.includes(field))
        issues.fail(field, `unknown field '${field}'; allowed: ${WORKLOAD_FIELDS.join(', ')}`);
    }
    if (typeof fields.name !== 'string' || fields.name.trim() === '')
      issues.mustBe('name', 'a non-empty string', fields.name);
    if (fields.mix === undefined) issues.fail('mix', 'mix is required, e.g. { "get": 0.9, "set": 0.1 }');
    if (workloadPresetNames.includes(fields.name))
      issues.fail('name', `name '${fields.name}' is a preset's; choose another`);
    if (seen.has(fields.name)) issues.fail('name', `name '${fields.name}' appears twice in the file`);
    seen.add(fields.name);
    return buildWorkload(fields, issues, where);
  });
}

/**
 * The --keys override: the same workload over `keys` keys (prefill fraction,
 * mix and distribution unchanged). Workloads whose key space defines the
 * scenario (fixedKeySpace: Go's single-key collisions, fresh-key-only
 * streams) come back unchanged.
 */
export function withKeySpace(workload: Workload, keys: number): Workload {
  const issues: WorkloadIssues = WorkloadIssues.forWorkload(workload.name);
  if (typeof keys !== 'number' || !Number.isInteger(keys) || keys < 1 || keys > MAX_KEYS) {
    issues.mustBe('keys', `an integer 1..${MAX_KEYS}`, keys);
  }
  if (workload.fixedKeySpace === true || keys === workload.keys) return workload;
  return validateWorkload({
    ...structuredClone(workload),
    description: `${workload.description} [key space overridden: ${keys} keys]`,
    keys,
  });
}
