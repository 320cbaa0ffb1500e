import type { Command } from 'commander';

/** Placeholder until the `analyze` command is built; registers nothing. */
export function register(_program: Command): void {}
