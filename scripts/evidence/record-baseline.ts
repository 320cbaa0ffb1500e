/**
 * `npm run baseline`: records the CI gate's baseline for this machine kind —
 * `--runs` (default 3) fresh `maplab sweep --preset ci` processes, one after
 * another, in results/baseline/<cpu>/ci-<n>.json, where <cpu> is this
 * machine's CPU model and core count as a file name. Runs of other machine
 * kinds in results/baseline are left as they are; `maplab gate --baseline
 * results/baseline` pools the runs of the CPU it is running on
 * (harness/gate/baseline.ts, selectBaselineRuns).
 *
 * Refresh (the default) is all or nothing: the runs are recorded under
 * temporary names and replace this machine kind's ci-*.json only once every
 * run has succeeded, so a failed or interrupted refresh leaves the committed
 * baseline as it was. `--append` keeps the existing runs and numbers the new
 * ones after them: runs recorded on another host of the same kind widen the
 * baseline by the host-to-host spread CI will meet (a fresh machine each run).
 * Arguments after `--` go to every sweep (for a smaller preset in tests).
 *
 *   node dist/scripts/evidence/record-baseline.js [--runs 3] [--preset ci] [--dir results/baseline] [--append] [-- sweep flags]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESET_NAMES } from '../../harness/run/config.js';
import { localMachineKind } from '../../harness/run/env.js';
import { defineOption, parsers } from '../../harness/run/options.js';
import { scriptArgs } from '../cli-kit.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const RUN_FILE = /^ci-(\d+)\.json$/;

/** 'AMD EPYC', 2 → 'amd-epyc-x2'. */
export function machineDirectoryName(machine: { cpuModel: string; cores: number }): string {
  const model = machine.cpuModel
    .toLowerCase()
    .replace(/\([^)]*\)/g, '')
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${model || 'unknown-cpu'}-x${machine.cores}`;
}

/** The run numbers of the ci-<n>.json files in `directory` (which exists), ascending. */
function existingRuns(directory: string): number[] {
  return readdirSync(directory)
    .flatMap((name) => {
      const match = RUN_FILE.exec(name);
      return match ? [Number(match[1])] : [];
    })
    .sort((a, b) => a - b);
}

function main(): number {
  const options = scriptArgs({
    name: 'record-baseline',
    description: "record the CI gate's baseline for this machine kind: fresh sweep processes, one after another",
    options: [
      defineOption({
        name: 'runs',
        flag: '--runs <1..20>',
        description: 'sweeps to record, each in a fresh process, integer 1..20',
        defaultValue: 3,
        parse: parsers.integer(1, 20),
      }),
      defineOption({
        name: 'preset',
        flag: '--preset <name>',
        description: `sweep preset: ${PRESET_NAMES.join(' | ')}`,
        defaultValue: 'ci',
        parse: parsers.oneOf(PRESET_NAMES),
      }),
      defineOption({
        name: 'dir',
        flag: '--dir <path>',
        description: "baseline root; the runs go to <dir>/<this machine's CPU>-x<cores>/ci-<n>.json",
        defaultValue: 'results/baseline',
        parse: parsers.string(),
      }),
      defineOption({
        name: 'append',
        flag: '--append',
        description: 'keep the existing runs and number the new ones after them (another host of the same kind)',
        defaultValue: false,
        parse: parsers.boolean(),
      }),
    ],
    operands: [
      defineOption({
        name: 'sweepFlags',
        flag: '[sweep-flags...]',
        description: 'flags passed to every sweep, after --',
        parse: parsers.list(parsers.string()),
      }),
    ],
  });
  const { runs, preset, append } = options;
  const sweepFlags = options.sweepFlags ?? [];
  const directory = join(options.dir, machineDirectoryName(localMachineKind()));
  mkdirSync(directory, { recursive: true });
  const existing = existingRuns(directory);
  const first = append && existing.length > 0 ? existing[existing.length - 1] + 1 : 1;
  const recorded: string[] = [];
  for (let run = 0; run < runs; run++) {
    // A dot name outside the ci-*.json pattern: the gate's loader and git both ignore it until the rename.
    const out = join(directory, `.recording-${first + run}.json`);
    recorded.push(out);
    const args = [CLI, 'sweep', '--preset', preset, '--quiet', '--force', '--out', out, ...sweepFlags];
    const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (result.status !== 0) {
      for (const file of recorded) rmSync(file, { force: true });
      process.stderr.write(
        `record-baseline: run ${run + 1} of ${runs} failed (exit ${result.status ?? result.signal}); ${directory} is unchanged\n`,
      );
      return result.status ?? 1;
    }
  }
  if (!append) for (const number of existing) rmSync(join(directory, `ci-${number}.json`));
  recorded.forEach((file, index) => {
    const final = join(directory, `ci-${first + index}.json`);
    renameSync(file, final);
    process.stderr.write(`record-baseline: wrote ${final}\n`);
  });
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
