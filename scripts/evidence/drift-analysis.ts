/**
 * What an interleaved sweep's own trials say about the machine's drift
 * (EVIDENCE.md, "Noise on shared machines"). For each results file:
 *   - how far trials of one cell spread (max/min of quiet rates), and how
 *     much of that pairing removes: the spread of the paired log ratios
 *     against the spread of the cells' own log rates, over every pair of maps
 *     in every comparison group (the variance pairing cancels);
 *   - the pool-generation effect: per cell, median of generation-1 trials ÷
 *     median of generation-0 trials, net of the sentinel's own change;
 *   - how well the sentinel tracks the cells: Pearson r between a cell's
 *     trial rates and its trials' sentinel readings;
 *   - the sentinel's range, disturbed and re-measured visits.
 *
 *   node dist/scripts/evidence/drift-analysis.js results/a.json [results/b.json …]
 */
import { median, quantile, sampleCorrelation, sampleStandardDeviation } from 'simple-statistics';
import { comparisonGroups } from '../../harness/run/schedule.js';
import { defineOption, parsers } from '../../harness/run/options.js';
import {
  isMeasuredCell,
  readResultsFile,
  type Cell,
  type ResultsCell,
  type Trial,
} from '../../harness/results/results.js';
import { scriptArgs } from '../cli-kit.js';

const rateOf = (trial: Trial): number => trial.quietOpsPerSec ?? trial.opsPerSec;
const measured = (cells: ResultsCell[]): Cell[] =>
  cells.filter(isMeasuredCell).filter((cell) => cell.trials.length >= 3);
const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;

function analyse(path: string): string {
  const results = readResultsFile(path);
  const cells = measured(results.cells);
  const spreads = cells.map((cell) => Math.max(...cell.trials.map(rateOf)) / Math.min(...cell.trials.map(rateOf)) - 1);

  const ownSd: number[] = [];
  const pairedSd: number[] = [];
  for (const group of comparisonGroups(cells)) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const byRound = new Map(group[j].trials.map((trial) => [trial.round, trial]));
        const pairs = group[i].trials.flatMap((trial) => {
          const partner = byRound.get(trial.round);
          return partner ? [[Math.log(rateOf(trial)), Math.log(rateOf(partner))]] : [];
        });
        if (pairs.length < 3) continue;
        ownSd.push(
          (sampleStandardDeviation(pairs.map(([a]) => a)) + sampleStandardDeviation(pairs.map(([, b]) => b))) / 2,
        );
        pairedSd.push(sampleStandardDeviation(pairs.map(([a, b]) => a - b)));
      }
    }
  }

  const generationEffects: number[] = [];
  const sentinelR: number[] = [];
  for (const cell of cells) {
    const byGeneration = [0, 1].map((generation) => cell.trials.filter((trial) => trial.poolGeneration === generation));
    if (byGeneration.every((trials) => trials.length > 0)) {
      const cellRatio = median(byGeneration[1].map(rateOf)) / median(byGeneration[0].map(rateOf));
      const sentinels = byGeneration.map((trials) => trials.map((trial) => trial.sentinelOpsPerSec ?? Number.NaN));
      const sentinelRatio = sentinels.every((values) => values.every(Number.isFinite))
        ? median(sentinels[1]) / median(sentinels[0])
        : 1;
      generationEffects.push(Math.abs(Math.log(cellRatio / sentinelRatio)));
    }
    const sentinel = cell.trials.map((trial) => trial.sentinelOpsPerSec ?? Number.NaN);
    const rates = cell.trials.map(rateOf);
    if (
      sentinel.every(Number.isFinite) &&
      sampleStandardDeviation(sentinel) > 0 &&
      sampleStandardDeviation(rates) > 0
    ) {
      sentinelR.push(sampleCorrelation(rates, sentinel));
    }
  }

  const drift = (results.sweep as { drift?: Record<string, unknown> } | undefined)?.drift;
  const lines = [
    `## ${path}`,
    `- cells: ${cells.length}; trial spread (max/min − 1) median ${pct(median(spreads))}, p90 ${pct(quantile(spreads, 0.9))}`,
    ownSd.length === 0
      ? '- no paired trials'
      : `- sd of log rate, a cell's own trials: median ${pct(median(ownSd))}; of paired log ratios: median ${pct(median(pairedSd))} ` +
        `(pairing leaves ${pct(median(pairedSd.map((sd, index) => (sd * sd) / (2 * ownSd[index] * ownSd[index]))))} of the variance of a ratio of unpaired trials)`,
    generationEffects.length === 0
      ? '- one pool generation'
      : `- pool generation 1 vs 0 (net of the sentinel): median ${pct(Math.exp(median(generationEffects)) - 1)}, ` +
        `p90 ${pct(Math.exp(quantile(generationEffects, 0.9)) - 1)}, max ${pct(Math.exp(Math.max(...generationEffects)) - 1)}`,
    sentinelR.length === 0
      ? '- no sentinel readings'
      : `- Pearson r of a cell's trial rates with its sentinel readings: median ${median(sentinelR).toFixed(2)}, p10 ${quantile(sentinelR, 0.1).toFixed(2)}, p90 ${quantile(sentinelR, 0.9).toFixed(2)}`,
    `- drift record: ${JSON.stringify(drift ?? null)}`,
  ];
  return lines.join('\n');
}

const { results } = scriptArgs({
  name: 'drift-analysis',
  description: "what interleaved sweeps' own trials say about the machine's drift, one section per results file",
  options: [],
  operands: [
    defineOption({
      name: 'results',
      flag: '<results...>',
      description: 'results files of interleaved sweeps',
      parse: parsers.list(parsers.string()),
    }),
  ],
});
// <results...> is required: commander refuses a command line without it.
process.stdout.write(`${(results as string[]).map(analyse).join('\n\n')}\n`);
