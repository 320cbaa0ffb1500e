/**
 * Live evidence that a map's numbers do not depend on which map ran before it
 * in the same process (issue 4: |A→B − B→A| / median ≤ 10% per map).
 *
 * For each pair of maps it runs `maplab sweep --maps A,B` and `--maps B,A`,
 * alternating, `--pairs` times each: every sweep a fresh process, one
 * single-thread cell per map, trials back to back (no --interleave, so B
 * really runs after all of A). Alternating the two orders spreads the
 * machine's slow spells over both. Per map and order it takes the median over
 * the sweeps of the cell's figure, for two figures: the median of the trials'
 * mean ops/s (the headline) and the p75 of the trials' quiet rates (what the
 * gate compares). It then reports |A→B − B→A| / the median of both orders, a
 * two-sided Mann–Whitney p over the per-sweep figures, and, as the noise
 * floor for the same statistic, the median |difference| between two halves of
 * the sweeps of one order.
 *
 *   node dist/scripts/order-evidence.js [--pairs 8] [--maps rwmutex:readdirty,plain:sharded]
 *       [--workload read-heavy] [--duration-ms 300] [--warmup-ms 200] [--trials 5] [--out results/order-evidence]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, quantile } from 'simple-statistics';
import { mannWhitneyU } from '../harness/gate/mann-whitney.js';
import type { Results } from '../harness/results.js';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '8' },
    maps: { type: 'string', default: 'rwmutex:readdirty,plain:sharded' },
    workload: { type: 'string', default: 'read-heavy' },
    'duration-ms': { type: 'string', default: '300' },
    'warmup-ms': { type: 'string', default: '200' },
    trials: { type: 'string', default: '5' },
    out: { type: 'string', default: 'results/order-evidence' },
  },
});
const pairs = Number(values.pairs);
if (!Number.isInteger(pairs) || pairs < 2) throw new RangeError(`--pairs must be an integer ≥ 2, got ${values.pairs}`);
const mapPairs = (values.maps as string).split(',').map((pair, index) => {
  const names = pair.split(':');
  if (names.length !== 2 || names.some((name) => name === '')) throw new RangeError(`--maps[${index}] must be A:B, got ${JSON.stringify(pair)}`);
  return names as [string, string];
});
const outDirectory = values.out as string;
mkdirSync(outDirectory, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'maplab-order-'));

type Figure = 'meanOps' | 'quietP75';
const FIGURES: Figure[] = ['meanOps', 'quietP75'];

/** One sweep of the maps in this order: each map's figures. */
function sweepOnce(order: string[], index: number): Record<string, Record<Figure, number>> {
  const path = join(scratch, `sweep-${index}.json`);
  const args = [
    CLI, 'sweep', '--maps', order.join(','), '--workloads', values.workload as string, '--threads', '1', '--load-factors', '0.75',
    '--duration-ms', values['duration-ms'] as string, '--warmup-ms', values['warmup-ms'] as string, '--trials', values.trials as string,
    '--interleave', 'false', '--quiet', '--force', '--out', path,
  ];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sweep failed (exit ${result.status}): ${result.stderr}`);
  const results = JSON.parse(readFileSync(path, 'utf8')) as Results;
  const figures: Record<string, Record<Figure, number>> = {};
  for (const cell of results.cells) {
    if (cell.error !== undefined) throw new Error(`${cell.map}: ${cell.error}`);
    const quiet = cell.trials.map((trial) => Number((trial as { quietOpsPerSec?: number }).quietOpsPerSec));
    figures[cell.map] = { meanOps: cell.opsPerSec.median, quietP75: quantile(quiet, 0.75) };
  }
  return figures;
}

interface MapVerdict {
  map: string;
  figure: Figure;
  /** Median over the sweeps where this map ran first / second. */
  first: number;
  second: number;
  /** |first − second| / median of both, percent. */
  differencePct: number;
  p: number;
  /** Same statistic between two halves of one order's sweeps (median over both orders), percent. */
  noisePct: number;
  perSweep: { first: number[]; second: number[] };
}

const verdicts: MapVerdict[] = [];
let sweeps = 0;
const loads: number[] = [];
for (const [a, b] of mapPairs) {
  const byOrder: Record<'ab' | 'ba', Array<Record<string, Record<Figure, number>>>> = { ab: [], ba: [] };
  for (let pair = 0; pair < pairs; pair++) {
    for (const order of pair % 2 === 0 ? ['ab', 'ba'] as const : ['ba', 'ab'] as const) {
      loads.push(loadavg()[0]);
      byOrder[order].push(sweepOnce(order === 'ab' ? [a, b] : [b, a], sweeps++));
      process.stderr.write(`order-evidence: ${a}:${b} pair ${pair + 1}/${pairs} ${order} done\n`);
    }
  }
  for (const map of [a, b]) {
    const ranFirst = map === a ? byOrder.ab : byOrder.ba;
    const ranSecond = map === a ? byOrder.ba : byOrder.ab;
    for (const figure of FIGURES) {
      const first = ranFirst.map((sweep) => sweep[map][figure]);
      const second = ranSecond.map((sweep) => sweep[map][figure]);
      const both = median([...first, ...second]);
      const halves = (values: number[]): number => {
        const even = values.filter((_, index) => index % 2 === 0);
        const odd = values.filter((_, index) => index % 2 === 1);
        return (Math.abs(median(even) - median(odd)) / both) * 100;
      };
      verdicts.push({
        map, figure,
        first: median(first), second: median(second),
        differencePct: (Math.abs(median(first) - median(second)) / both) * 100,
        p: mannWhitneyU(first, second).p,
        noisePct: median([halves(first), halves(second)]),
        perSweep: { first, second },
      });
    }
  }
}
rmSync(scratch, { recursive: true, force: true });

const summary = {
  workload: values.workload, pairs, trials: Number(values.trials), durationMs: Number(values['duration-ms']), warmupMs: Number(values['warmup-ms']),
  loadAverage: { min: Math.min(...loads), max: Math.max(...loads) }, verdicts,
};
writeFileSync(join(outDirectory, 'order-evidence.json'), JSON.stringify(summary, null, 2) + '\n');
const rate = (value: number): string => `${(value / 1e6).toFixed(2)}M`;
process.stdout.write([
  `## sweep-order evidence (${values.workload}, 1 thread, ${pairs} sweeps per order, ${values.trials} trials of ${values['duration-ms']} ms each)`,
  '',
  `1-minute load average: ${summary.loadAverage.min.toFixed(2)} … ${summary.loadAverage.max.toFixed(2)}`,
  '',
  '| map | figure | ran first | ran second | \\|difference\\| / median | Mann–Whitney p | noise (two halves of one order) |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...verdicts.map((v) => `| ${v.map} | ${v.figure === 'meanOps' ? 'median of trial means' : 'p75 of trial quiet rates'} | ${rate(v.first)} | ${rate(v.second)} | ` +
    `${v.differencePct.toFixed(1)}% | ${v.p.toFixed(3)} | ${v.noisePct.toFixed(1)}% |`),
  '',
].join('\n'));
