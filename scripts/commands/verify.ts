/**
 * `maplab verify`: records histories of each shared map under concurrent use
 * and checks them for linearizability (harness/verify). Prints one row per
 * map, then each map's verdict and counterexample timeline; `--json` prints
 * the whole report instead. Exit 1 when a map that claims to be safe has a
 * violation; 2 on bad flags.
 */
import type { Command } from 'commander';
import {
  VERIFY_OPTION_SPECS,
  verifyMaps,
  type MapVerification,
  type VerifyConfig,
} from '../../harness/verify/index.js';
import { resolveFlags } from '../../harness/run/options.js';
import { action, addOptions } from '../cli-kit.js';

export function register(program: Command): void {
  const command = program
    .command('verify')
    .description(
      'check that each shared map is linearizable: record concurrent histories, search each for a valid order, print counterexamples',
    );
  addOptions(command, VERIFY_OPTION_SPECS);
  command.action(
    action(async (flags: Record<string, unknown>) => {
      const { json, ...options } = resolveFlags(VERIFY_OPTION_SPECS, flags);
      const write = (line: string): boolean => process.stdout.write(`${line}\n`);
      const printHeader = (config: VerifyConfig): void => {
        write(
          `maplab verify: ${config.threads} threads × ${config.opsPerHistory} ops per history, keys 0..${config.keys - 1}, seed ${config.seed}`,
        );
        write(
          row(['map', 'status', 'histories', 'violations', 'inconclusive', 'overlap', 'record µs/h', 'check µs/h']),
        );
      };
      const report = await verifyMaps({
        ...options,
        onStart: json ? undefined : printHeader,
        onMapVerified: json ? undefined : (result) => write(row(tableRow(result))),
      });
      if (json) {
        write(JSON.stringify(report, null, 1));
      } else {
        for (const result of Object.values(report.maps)) {
          write('');
          write(`${result.map}: ${result.message}`);
          if (result.counterexample) {
            write(`  counterexample from history ${result.counterexample.historyIndex}:`);
            for (const line of result.counterexample.timeline) write(`    ${line}`);
          }
        }
        write('');
        write(
          report.passed
            ? 'verify: no map that claims to be safe was violated'
            : 'verify: FAILED — a map that claims to be safe was violated',
        );
      }
      return report.passed ? 0 : 1;
    }),
  );
}

const WIDTHS = [20, 13, 10, 11, 13, 8, 12, 11];

function row(cells: string[]): string {
  return cells.map((cell, index) => (index < 2 ? cell.padEnd(WIDTHS[index]) : cell.padStart(WIDTHS[index]))).join(' ');
}

function tableRow(result: MapVerification): string[] {
  if (result.status === 'private') return [result.map, 'private', '-', '-', '-', '-', '-', '-'];
  return [
    result.map,
    result.status,
    String(result.histories),
    String(result.violations),
    String(result.inconclusive),
    `${(result.overlap * 100).toFixed(1)}%`,
    result.timings.recordUsPerHistory.toFixed(0),
    result.timings.checkUsPerHistory.toFixed(0),
  ];
}
