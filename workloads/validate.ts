/**
 * Workload validation at the boundary. Every message names the workload, the
 * field and the allowed values: `workload 'mine': mix.set must be a fraction
 * 0..1, got 1.2`. The generator trusts a workload that passed validateWorkload.
 */
import { describeValue, WorkloadError } from './errors.js';
import { DISTRIBUTION_NAMES, OP_NAMES, type Distribution, type Mix, type OpName, type Workload } from './types.js';

/** Mix fractions must sum to 1 within this. */
export const MIX_SUM_TOLERANCE = 1e-9;
/** Keys are 0..2^31−1 (the maps contract), so a key space holds at most 2^31 keys. */
export const MAX_KEYS = 2 ** 31;
export const DEFAULT_THETA = 0.99;
export const DEFAULT_HOT_KEY_FRACTION = 0.2;
export const DEFAULT_HOT_OP_FRACTION = 0.8;

/**
 * Named op patterns (Workload.pattern.kind) for Go scenarios a mix cannot
 * express; patterns.ts interprets them, `i` being Go's per-goroutine counter
 * (workerIndex × length + step). Each kind lists its optional integer
 * parameters.
 */
export const PATTERN_PARAMETERS = {
  /** op drawn from the mix, key = i mod keys (Go's Load(i % (hits+misses))). */
  cyclic: [],
  /** j = i mod keys; j below the prefill → getOrSet(j), else getOrSet(i), a fresh key. */
  'load-or-store-balanced': [],
  /** get(i) each step; getOrSet(i) whenever loads since the last store exceed the stores so far. */
  'adversarial-alloc': [],
  /** get(i) each step; every `every` steps (default: keys, Go's mapSize) delete a present key and set(i). */
  'adversarial-delete': ['every'],
  /** writes alternate insert of a fresh key / delete of the oldest present one (size stationary); gets hit present keys. */
  churn: [],
} as const satisfies Record<string, readonly string[]>;
export type PatternKind = keyof typeof PATTERN_PARAMETERS;
export const PATTERN_KINDS = Object.keys(PATTERN_PARAMETERS) as PatternKind[];

/** Which distribution parameters each kind takes; any other is an error, not silently ignored. */
const DISTRIBUTION_PARAMETERS: Record<Distribution['kind'], readonly (keyof Distribution)[]> = {
  uniform: [],
  zipfian: ['theta'],
  hotspot: ['hotKeyFraction', 'hotOpFraction'],
  latest: ['theta'],
  'sequential-insert': [],
};

/** Builds errors that name the workload (and the file or list position it came from). */
export class WorkloadIssues {
  constructor(private readonly prefix: string) {}

  static forWorkload(name: unknown, source?: string): WorkloadIssues {
    const who = typeof name === 'string' && name !== '' ? `workload '${name}'` : 'workload';
    return new WorkloadIssues(source ? `${source}: ${who}` : who);
  }

  fail(field: string, message: string): never {
    throw new WorkloadError(`${this.prefix}: ${message}`, field);
  }

  mustBe(field: string, allowed: string, got: unknown): never {
    this.fail(field, `${field} must be ${allowed}, got ${describeValue(got)}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFraction(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
}

export function validateMix(mix: unknown, issues: WorkloadIssues): Mix {
  if (!isObject(mix)) issues.mustBe('mix', `an object of op fractions (${OP_NAMES.join(', ')})`, mix);
  let sum = 0;
  for (const [op, fraction] of Object.entries(mix)) {
    if (!(OP_NAMES as string[]).includes(op)) {
      issues.fail(`mix.${op}`, `mix has unknown op '${op}'; allowed: ${OP_NAMES.join(', ')}`);
    }
    if (!isFraction(fraction)) issues.mustBe(`mix.${op}`, 'a fraction 0..1', fraction);
    sum += fraction;
  }
  if (Math.abs(sum - 1) > MIX_SUM_TOLERANCE) {
    issues.fail('mix', `mix fractions sum to ${formatSum(sum)}; they must sum to 1 (±${MIX_SUM_TOLERANCE})`);
  }
  return mix as Mix;
}

/** Enough digits to show why a sum is off, no float noise beyond that. */
function formatSum(sum: number): string {
  return String(Number(sum.toPrecision(12)));
}

export function validateDistribution(distribution: unknown, issues: WorkloadIssues): Distribution {
  if (!isObject(distribution))
    issues.mustBe('distribution', `an object { kind: ${DISTRIBUTION_NAMES.join(' | ')}, … }`, distribution);
  const kind = distribution.kind;
  if (typeof kind !== 'string' || !(DISTRIBUTION_NAMES as readonly string[]).includes(kind)) {
    issues.mustBe('distribution.kind', `one of ${DISTRIBUTION_NAMES.join(', ')}`, kind);
  }
  const allowed = DISTRIBUTION_PARAMETERS[kind as Distribution['kind']] as readonly string[];
  for (const [parameter, value] of Object.entries(distribution)) {
    if (parameter === 'kind' || value === undefined) continue;
    if (!allowed.includes(parameter)) {
      issues.fail(
        `distribution.${parameter}`,
        `distribution.${parameter} does not apply to '${kind}'` +
          (allowed.length > 0 ? `; it takes ${allowed.join(', ')}` : '; it takes no parameters'),
      );
    }
  }
  const { theta, hotKeyFraction, hotOpFraction } = distribution;
  if (theta !== undefined && !(typeof theta === 'number' && theta > 0 && theta < 1)) {
    issues.mustBe('distribution.theta', 'a skew in (0, 1) exclusive (YCSB uses 0.99)', theta);
  }
  if (hotKeyFraction !== undefined && !isFraction(hotKeyFraction)) {
    issues.mustBe('distribution.hotKeyFraction', 'a fraction 0..1 of the keys', hotKeyFraction);
  }
  if (hotOpFraction !== undefined && !isFraction(hotOpFraction)) {
    issues.mustBe('distribution.hotOpFraction', 'a fraction 0..1 of the ops', hotOpFraction);
  }
  return distribution as unknown as Distribution;
}

function validatePattern(pattern: unknown, issues: WorkloadIssues): void {
  if (!isObject(pattern)) issues.mustBe('pattern', `an object { kind: ${PATTERN_KINDS.join(' | ')}, … }`, pattern);
  const kind = pattern.kind;
  if (typeof kind !== 'string' || !(PATTERN_KINDS as string[]).includes(kind)) {
    issues.mustBe('pattern.kind', `one of ${PATTERN_KINDS.join(', ')}`, kind);
  }
  const parameters = PATTERN_PARAMETERS[kind as PatternKind] as readonly string[];
  for (const parameter of Object.keys(pattern)) {
    if (parameter !== 'kind' && !parameters.includes(parameter)) {
      issues.fail(
        `pattern.${parameter}`,
        `pattern.${parameter} does not apply to '${kind}'` +
          (parameters.length > 0 ? `; it takes ${parameters.join(', ')}` : '; it takes no parameters'),
      );
    }
  }
  for (const parameter of parameters) {
    const value = pattern[parameter];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_KEYS) {
      issues.mustBe(`pattern.${parameter}`, `an integer 1..${MAX_KEYS}`, value);
    }
  }
}

/**
 * Checks a whole workload: name, mix, distribution and its parameters, key
 * space (integer 1..2^31), prefill (0..1) and pattern. Throws WorkloadError
 * naming the workload and the field; returns the workload when it is valid.
 * `source` (a file name) prefixes messages.
 */
export function validateWorkload(workload: Workload, source?: string): Workload {
  const candidate: unknown = workload;
  if (!isObject(candidate)) {
    throw new WorkloadError(
      `${source ? `${source}: ` : ''}a workload must be an object with name, mix, distribution, keys and prefill, got ${describeValue(candidate)}`,
    );
  }
  const issues = WorkloadIssues.forWorkload(candidate.name, source);
  if (typeof candidate.name !== 'string' || candidate.name.trim() === '')
    issues.mustBe('name', 'a non-empty string', candidate.name);
  if (candidate.description !== undefined && typeof candidate.description !== 'string') {
    issues.mustBe('description', 'a string', candidate.description);
  }
  validateMix(candidate.mix, issues);
  validateDistribution(candidate.distribution, issues);
  const { keys, prefill } = candidate;
  if (typeof keys !== 'number' || !Number.isInteger(keys) || keys < 1 || keys > MAX_KEYS) {
    issues.mustBe('keys', `an integer 1..${MAX_KEYS} (2^31: keys are 0..2^31−1)`, keys);
  }
  if (!isFraction(prefill)) issues.mustBe('prefill', 'a fraction 0..1 of the key space', prefill);
  if (candidate.pattern !== undefined) validatePattern(candidate.pattern, issues);
  if (candidate.fixedKeySpace !== undefined && typeof candidate.fixedKeySpace !== 'boolean') {
    issues.mustBe('fixedKeySpace', 'true or false', candidate.fixedKeySpace);
  }
  return workload;
}

/**
 * Fraction of ops that may change the map: 1 − mix.get − mix.forEach. For
 * every workload without forEach (all but go-range) that is 1 − mix.get; the
 * writes-N presets have writeFraction N/100.
 */
export function writeFraction(workload: Workload): number {
  const reads = (workload.mix.get ?? 0) + (workload.mix.forEach ?? 0);
  // Rounded so writes-10 reports 0.1, not 0.09999999999999998.
  return Math.max(0, Number((1 - reads).toPrecision(12)));
}

/** Ops with a non-zero share, most frequent first. */
export function mixEntries(mix: Mix): Array<[OpName, number]> {
  return (Object.entries(mix) as Array<[OpName, number]>)
    .filter(([, fraction]) => fraction > 0)
    .sort((a, b) => b[1] - a[1]);
}
