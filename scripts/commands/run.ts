import type { Command } from 'commander';

/** Placeholder until the `run` command is built; registers nothing. */
export function register(_program: Command): void {}
