/**
 * `npm run baseline`: records the CI gate's baseline for this machine kind —
 * `--runs` (default 3) fresh `maplab sweep --preset ci` processes, one after
 * another, written to results/baseline/<cpu>/ci-<n>.json, where <cpu> is this
 * machine's CPU model and core count as a file name. Runs of other machine
 * kinds in results/baseline are left as they are; `maplab gate --baseline
 * results/baseline` pools the runs of the CPU it is running on
 * (harness/gate/baseline.ts, selectBaselineRuns).
 *
 *   node dist/scripts/record-baseline.js [--runs 3] [--preset ci] [--dir results/baseline]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { localMachineKind } from '../harness/env.js';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

/** 'AMD EPYC', 2 → 'amd-epyc-x2'. */
export function machineDirectoryName(machine: { cpuModel: string; cores: number }): string {
  const model = machine.cpuModel.toLowerCase().replace(/\([^)]*\)/g, '').replace(/[^a-z0-9.]+/g, '-').replace(/^-+|-+$/g, '');
  return `${model || 'unknown-cpu'}-x${machine.cores}`;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      preset: { type: 'string', default: 'ci' },
      dir: { type: 'string', default: 'results/baseline' },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
    process.stderr.write(`record-baseline: --runs must be an integer 1..20, got ${JSON.stringify(values.runs)}\n`);
    return 2;
  }
  const directory = join(values.dir as string, machineDirectoryName(localMachineKind()));
  mkdirSync(directory, { recursive: true });
  for (let run = 1; run <= runs; run++) {
    const out = join(directory, `ci-${run}.json`);
    const result = spawnSync(process.execPath, [CLI, 'sweep', '--preset', values.preset as string, '--quiet', '--force', '--out', out], { stdio: 'inherit' });
    if (result.status !== 0) return result.status ?? 1;
    process.stderr.write(`record-baseline: wrote ${out}\n`);
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
