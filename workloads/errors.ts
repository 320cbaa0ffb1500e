/**
 * The one error type for bad workload input: an invalid mix, distribution,
 * key space, pattern, flag or file. Its message names the workload (and the
 * file, when there is one) and the field, and states the allowed values, so the
 * command line can print it as it is and exit 2.
 */
export class WorkloadError extends Error {
  /** Workloads come from user input; the CLI treats this like a usage error (exit code 2). */
  readonly exitCode = 2;
  /** The offending field as a path ('mix.set', 'distribution.theta', 'keys'…), when there is one. */
  readonly field: string | undefined;

  constructor(message: string, field?: string) {
    super(message);
    this.name = 'WorkloadError';
    this.field = field;
  }
}

/** How a bad value is shown in a message: strings quoted, objects named, numbers as they are. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}
