/**
 * The write-fraction crossover: Go's sync.Map design (`readdirty`) wins when
 * reads dominate and loses as writes grow; the crossover is the write fraction
 * at which its throughput falls below a plain lock-based map's. Measured on
 * the `writes-N` workload family, per (threads, loadFactor), by linear
 * interpolation between the two measured fractions that bracket the change of
 * sign of (readdirty − other).
 */
import type { Cell } from '../results.js';
import type { Crossover } from './types.js';
import { median } from './scaling.js';

export const CROSSOVER_MAP = 'readdirty';
export const CROSSOVER_RIVALS = ['rwmutex', 'sharded'] as const;
const WRITES_FAMILY = /^writes-(\d+(?:\.\d+)?)$/;

/** The write fraction of a `writes-N` workload: 1 − mix.get from its definition when present, else N / 100; null outside the family. */
export function writeFractionOf(workload: string, workloadDefinitions: unknown): number | null {
  const match = WRITES_FAMILY.exec(workload);
  if (!match) return null;
  const definition = isRecord(workloadDefinitions) ? workloadDefinitions[workload] : undefined;
  const mix = isRecord(definition) ? definition.mix : undefined;
  if (isRecord(mix)) {
    const get = typeof mix.get === 'number' && Number.isFinite(mix.get) ? mix.get : 0;
    return 1 - get;
  }
  const percent = Number(match[1]);
  return percent <= 100 ? percent / 100 : null;
}

/** `cells`: closed-loop cells without error. */
export function findCrossovers(cells: readonly Cell[], workloadDefinitions: unknown): Crossover[] {
  // (threads, loadFactor) → map → write fraction → throughputs
  const table = new Map<string, { threads: number; loadFactor: number; maps: Map<string, Map<number, number[]>> }>();
  for (const cell of cells) {
    const writeFraction = writeFractionOf(cell.workload, workloadDefinitions);
    if (writeFraction === null) continue;
    const key = `${cell.threads}\u0000${cell.loadFactor}`;
    const entry = table.get(key) ?? { threads: cell.threads, loadFactor: cell.loadFactor, maps: new Map() };
    table.set(key, entry);
    const byFraction = entry.maps.get(cell.map) ?? new Map<number, number[]>();
    entry.maps.set(cell.map, byFraction);
    byFraction.set(writeFraction, [...(byFraction.get(writeFraction) ?? []), cell.opsPerSec.median]);
  }
  const crossovers: Crossover[] = [];
  const ordered = [...table.values()].sort((a, b) => a.loadFactor - b.loadFactor || a.threads - b.threads);
  for (const { threads, loadFactor, maps } of ordered) {
    const subject = maps.get(CROSSOVER_MAP);
    if (!subject) continue;
    for (const versus of CROSSOVER_RIVALS) {
      const rival = maps.get(versus);
      const base = { threads, loadFactor, map: CROSSOVER_MAP, versus };
      if (!rival) {
        crossovers.push({ ...base, writeFraction: null, opsPerSec: null, points: 0, reason: `no ${versus} cells in the writes-N family at these threads and load factor` });
        continue;
      }
      crossovers.push({ ...base, ...interpolateCrossing(subject, rival, versus) });
    }
  }
  return crossovers;
}

type CrossingFigures = Pick<Crossover, 'writeFraction' | 'opsPerSec' | 'points' | 'reason'>;

function interpolateCrossing(subject: Map<number, number[]>, rival: Map<number, number[]>, versus: string): CrossingFigures {
  const fractions = [...subject.keys()].filter((fraction) => rival.has(fraction)).sort((a, b) => a - b);
  const points = fractions.length;
  const percent = (fraction: number) => `${+(fraction * 100).toFixed(2)}%`;
  if (points < 2) {
    return { writeFraction: null, opsPerSec: null, points, reason: `need at least 2 write fractions measured for both ${CROSSOVER_MAP} and ${versus}, have ${points}` };
  }
  const ours = fractions.map((fraction) => median(subject.get(fraction)!));
  const theirs = fractions.map((fraction) => median(rival.get(fraction)!));
  const lead = ours.map((value, i) => value - theirs[i]);
  if (lead[0] < 0) {
    return { writeFraction: null, opsPerSec: null, points, reason: `${CROSSOVER_MAP} is already below ${versus} at the fewest writes measured (${percent(fractions[0])})` };
  }
  for (let i = 0; i + 1 < points; i++) {
    if (lead[i] >= 0 && lead[i + 1] < 0) {
      const t = lead[i] / (lead[i] - lead[i + 1]);
      return {
        writeFraction: fractions[i] + t * (fractions[i + 1] - fractions[i]),
        opsPerSec: ours[i] + t * (ours[i + 1] - ours[i]),
        points,
      };
    }
  }
  return { writeFraction: null, opsPerSec: null, points, reason: `${CROSSOVER_MAP} stays at or above ${versus} up to ${percent(fractions[points - 1])} writes` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
