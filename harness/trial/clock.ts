/**
 * The one clock helper. Timed code reads `performance.now()` directly (a
 * double in ms, no allocation, ~50–75 ns per read; `process.hrtime.bigint()`
 * allocates a BigInt each call). Threads share a timeline through the
 * monotonic `hrtime` clock, which every thread of the process reads alike,
 * whereas each thread's `performance.now()` has its own origin.
 */
import { performance } from 'node:perf_hooks';

export const CLOCK_NAME = 'performance.now';

/** Monotonic ns on the process-wide timeline (same origin in every thread). */
export function monotonicNs(): number {
  return Number(process.hrtime.bigint());
}

/** This thread's `performance.now()` ms minus the process timeline's ms: add it to convert timeline → local. */
export function localClockOffsetMs(): number {
  const timelineMs = monotonicNs() / 1e6;
  const localMs = performance.now();
  return localMs - timelineMs;
}

/**
 * The cost of one step of a loop, ms: `round()` runs the loop's `steps` once
 * and returns a value derived from them (read here, so the loop stays live);
 * the median of 5 timed rounds after one discarded round (the first runs
 * unoptimised).
 */
export function medianRoundMs(round: () => number, steps: number): number {
  const rounds: number[] = [];
  let sink = 0;
  for (let index = -1; index < 5; index++) {
    const startMs = performance.now();
    sink += round();
    if (index >= 0) rounds.push((performance.now() - startMs) / steps);
  }
  rounds.sort((a, b) => a - b);
  return Number.isNaN(sink) ? 0 : rounds[2];
}

/** The cost of one clock read in ns: median of 5 rounds of `reads` back-to-back reads, after one discarded round. */
export function measureClockCostNs(reads = 20_000): number {
  return (
    medianRoundMs(() => {
      let sink = 0;
      for (let i = 0; i < reads; i++) sink += performance.now();
      return sink;
    }, reads) * 1e6
  );
}

/** Smallest positive difference between consecutive clock reads, ns. */
export function measureClockResolutionNs(reads = 20_000): number {
  let smallest = Infinity;
  let previous = performance.now();
  for (let i = 0; i < reads; i++) {
    const now = performance.now();
    if (now > previous && now - previous < smallest) smallest = now - previous;
    previous = now;
  }
  return smallest * 1e6;
}
