/**
 * Findings: the lab's answers as plain sentences, each with its uncertainty,
 * and "not determined" wherever the data do not decide. Built from the rest
 * of the analysis, never from a single cell's absolute figure:
 *   - winner per workload × threads × load factor [× runtime]: the group
 *     winners of relative.ts (paired trials; a winner only where its CI
 *     excludes a tie); a file without them gets "not determined";
 *   - each map's latency knee (latency.ts verdicts);
 *   - each write-fraction crossover (crossovers.ts), and families where no
 *     pair crosses;
 *   - the load-factor trade: ns/op against bytes/entry between the lowest and
 *     highest load factor measured, from cells whose maps report `bytes` and
 *     `entries` counters.
 */
import { formatNs, formatOpsInText } from '../../reports/format.js';
import { isMeasuredCell, type Cell, type ResultsCell } from '../results/results.js';
import type { Crossover, Finding, GroupWinner, LatencyKnee } from './types.js';

export type { Finding } from './types.js';

export interface FindingsInput {
  cells: readonly ResultsCell[];
  /** analysis.winners (relative.ts groupWinners): absent for a file without paired trials. */
  winners: readonly GroupWinner[] | undefined;
  latencyKnees: readonly LatencyKnee[];
  crossovers: readonly Crossover[];
}

export function buildFindings(input: FindingsInput): Finding[] {
  return [
    ...winnerFindings(input.winners),
    ...input.latencyKnees.map(kneeFinding),
    ...crossoverFindings(input.crossovers),
    ...loadFactorFindings(input.cells),
  ];
}

// ---- winners -----------------------------------------------------------------

function winnerFindings(winners: readonly GroupWinner[] | undefined): Finding[] {
  if (winners === undefined) {
    return [
      {
        kind: 'winner',
        determined: false,
        subject: {},
        sentence: 'Winner per workload and thread count: not determined (no paired trials in this file).',
      },
    ];
  }
  return winners.map(winnerOf);
}

/** One group's answer as relative.ts decided it (the one rule for who wins): winner, tie or undetermined. */
function winnerOf(winner: GroupWinner): Finding {
  const { workload, threads, loadFactor, runtime } = winner;
  const where = `${workload}, ${threadsText(threads)}, load factor ${loadFactor}${runtime ? `, ${runtime}` : ''}`;
  const subject = {
    workload,
    threads,
    loadFactor,
    ...(runtime ? { runtime } : {}),
    ...(winner.leader ? { map: winner.leader } : {}),
  };
  const margin =
    winner.margin === null || winner.runnerUp === null
      ? ''
      : `${fixed(winner.margin.median)}× [${fixed(winner.margin.ciLow)}, ${fixed(winner.margin.ciHigh)}] the ops/s of ${winner.runnerUp}`;
  if (winner.verdict === 'undetermined') {
    return {
      kind: 'winner',
      determined: false,
      subject,
      sentence: `${where}: winner not determined (fewer than 3 paired trials).`,
    };
  }
  if (winner.verdict === 'tie') {
    return {
      kind: 'winner',
      determined: false,
      subject,
      sentence: `${where}: ${[winner.leader, ...winner.tiedWith].join(' or ')} — a tie, not determined${margin ? ` (${winner.leader} ${margin})` : ''}.`,
    };
  }
  return { kind: 'winner', determined: true, subject, sentence: `${where}: ${winner.leader} is fastest, ${margin}.` };
}

// ---- knees -------------------------------------------------------------------

function kneeFinding(knee: LatencyKnee): Finding {
  const where = `${knee.map} (${knee.workload}, ${threadsText(knee.threads)}, load factor ${knee.loadFactor})`;
  const subject = { map: knee.map, workload: knee.workload, threads: knee.threads, loadFactor: knee.loadFactor };
  const interval =
    knee.tpsCiLow !== null && knee.tpsCiHigh !== null
      ? ` [${formatOpsInText(knee.tpsCiLow)}, ${formatOpsInText(knee.tpsCiHigh)}]`
      : '';
  const ratio = knee.p99Ratio;
  const ratioInterval =
    ratio && ratio.ciLow !== null && ratio.ciHigh !== null
      ? ` [${fixed(ratio.ciLow, 1)}, ${fixed(ratio.ciHigh, 1)}]`
      : '';
  const p99 =
    knee.p99BeforeNs !== null && knee.p99AfterNs !== null
      ? `p99 ${formatNs(knee.p99BeforeNs)} → ${formatNs(knee.p99AfterNs)}` +
        `${ratio ? ` (${fixed(ratio.median, 1)}×${ratioInterval})` : ''}`
      : '';
  switch (knee.verdict) {
    case 'knee':
      return {
        kind: 'knee',
        determined: true,
        subject,
        sentence: `${where}: knee at ${formatOpsInText(knee.tpsAtKnee)} ops/s offered${interval}, ${p99}.`,
      };
    case 'machine-limited':
      return {
        kind: 'knee',
        determined: false,
        subject,
        sentence:
          `${where}: machine-limited — p99 rises past ${formatOpsInText(knee.tpsAtKnee)} ops/s (${p99}) but stays ` +
          `within 2× the machine's own stalls (p99 ${formatNs(knee.hiccupP99Ns)}).`,
      };
    case 'no-knee':
      return {
        kind: 'knee',
        determined: true,
        subject,
        sentence: `${where}: ${knee.note ?? 'no knee within the rates measured'}.`,
      };
    default: {
      const reason = (knee.note ?? 'noise').replace(/^undetermined \(noise\): /, 'noise: ');
      const estimate =
        knee.tpsAtKnee !== null && !reason.includes('interval')
          ? `; point estimate ${formatOpsInText(knee.tpsAtKnee)} ops/s${interval}`
          : '';
      return {
        kind: 'knee',
        determined: false,
        subject,
        sentence: `${where}: knee not determined (${reason}${estimate}).`,
      };
    }
  }
}

// ---- crossovers --------------------------------------------------------------

function crossoverFindings(crossovers: readonly Crossover[]): Finding[] {
  const findings: Finding[] = [];
  const groups = new Map<string, Crossover[]>();
  for (const crossover of crossovers) {
    const key = JSON.stringify([crossover.family ?? 'writes', crossover.threads, crossover.loadFactor]);
    groups.set(key, [...(groups.get(key) ?? []), crossover]);
  }
  for (const group of groups.values()) {
    const { family = 'writes', threads, loadFactor } = group[0];
    const where = `${family}-N, ${threadsText(threads)}, load factor ${loadFactor}`;
    const crossings = group.filter((crossover) => crossover.writeFraction !== null);
    for (const crossover of crossings) {
      const subject = { family, threads, loadFactor, map: crossover.map, versus: crossover.versus };
      const at = percentText(crossover.writeFraction);
      if (crossover.ciLow !== null && crossover.ciHigh !== null) {
        findings.push({
          kind: 'crossover',
          determined: true,
          subject,
          sentence:
            `${where}: ${crossover.map} falls below ${crossover.versus} at ${at} writes ` +
            `[${percentText(crossover.ciLow)}, ${percentText(crossover.ciHigh)}].`,
        });
      } else {
        findings.push({
          kind: 'crossover',
          determined: false,
          subject,
          sentence:
            `${where}: ${crossover.map} falls below ${crossover.versus} near ${at} writes; ` +
            `interval not determined (${crossover.reason ?? 'no interval'}).`,
        });
      }
    }
    if (crossings.length === 0) {
      const maps = [...new Set(group.flatMap((crossover) => [crossover.map, crossover.versus]))].sort();
      const fractions = group.map((crossover) => crossover.points);
      findings.push({
        kind: 'crossover',
        determined: true,
        subject: { family, threads, loadFactor },
        sentence:
          `${where}: no crossover among ${maps.join(', ')} within the ${Math.max(...fractions)} ` +
          'write fractions measured.',
      });
    }
  }
  return findings;
}

// ---- load factor ---------------------------------------------------------------

function loadFactorFindings(cells: readonly ResultsCell[]): Finding[] {
  const groups = new Map<string, Cell[]>();
  for (const cell of cells) {
    if (!isMeasuredCell(cell) || typeof cell.rate === 'number') continue;
    const { bytes, entries } = cell.counters ?? {};
    if (!(typeof bytes === 'number' && typeof entries === 'number' && entries > 0)) continue;
    const key = JSON.stringify([cell.map, cell.workload, cell.threads]);
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  const findings: Finding[] = [];
  for (const group of groups.values()) {
    const byFactor = [...group].sort((a, b) => a.loadFactor - b.loadFactor);
    const low = byFactor[0];
    const high = byFactor[byFactor.length - 1];
    if (low.loadFactor === high.loadFactor) continue;
    const bytesLow = low.counters.bytes / low.counters.entries;
    const bytesHigh = high.counters.bytes / high.counters.entries;
    // ns/op of one thread = threads / ops/s; the ratio high ÷ low, with bounds from the cells' intervals.
    const nsRatio = low.opsPerSec.median / high.opsPerSec.median;
    const nsLow = low.opsPerSec.ciLow / high.opsPerSec.ciHigh;
    const nsHigh = low.opsPerSec.ciHigh / Math.max(high.opsPerSec.ciLow, Number.MIN_VALUE);
    const where = `${low.map} (${low.workload}, ${threadsText(low.threads)})`;
    const subject = { map: low.map, workload: low.workload, threads: low.threads };
    const memory =
      `load factor ${low.loadFactor} → ${high.loadFactor}: ` +
      `${fixed(bytesLow, 0)} → ${fixed(bytesHigh, 0)} bytes/entry`;
    const cost =
      nsLow > 1 || nsHigh < 1
        ? `ns/op ×${fixed(nsRatio)} [${fixed(nsLow)}, ${fixed(nsHigh)}]`
        : `ns/op ×${fixed(nsRatio)} [${fixed(nsLow)}, ${fixed(nsHigh)}], a difference not determined`;
    findings.push({
      kind: 'load-factor',
      determined: nsLow > 1 || nsHigh < 1,
      subject,
      sentence: `${where}: ${memory}, ${cost}.`,
    });
  }
  return findings;
}

// ---- wording -----------------------------------------------------------------

function threadsText(threads: number): string {
  return `${threads} thread${threads === 1 ? '' : 's'}`;
}

function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function percentText(fraction: number | null): string {
  return fraction === null ? '—' : `${+(fraction * 100).toFixed(1)}%`;
}
