/**
 * scripts/evidence/handoff-probe.ts: handoff readings alternated with slices
 * of each map at 2 threads, summarised per placement band.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HANDOFF_BANDS, summarise, type Cycle } from '../scripts/evidence/handoff-probe.js';
import { tempDirectory } from './fixtures/gate-results.js';

const SCRIPT = fileURLToPath(new URL('../scripts/evidence/handoff-probe.js', import.meta.url));
const probe = (...args: string[]) =>
  spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 });

/** A cycle with one reading and a slice of each map at the given rates. */
function cycle(atMs: number, handoffNs: number, rates: Record<string, number>): Cycle {
  return {
    atMs,
    handoffNs,
    slices: Object.entries(rates).map(([map, opsPerSec]) => ({ map, atMs, opsPerSec, runqueueWaitFraction: null })),
  };
}

test('the summary puts each cycle in its reading’s band, counts runs and switches, and divides close by far', () => {
  const cycles = [
    cycle(0, 60, { shared: 12, private: 30 }),
    cycle(500, 58, { shared: 11, private: 31 }),
    cycle(1000, 55, { shared: 13, private: 29 }),
    cycle(1500, 240, { shared: 5, private: 30 }),
    cycle(2000, 250, { shared: 6, private: 30 }),
    cycle(2500, 2_000, { shared: 1, private: 15 }),
    cycle(3000, 62, { shared: 12, private: 30 }),
  ];
  const summary = summarise(['shared', 'private'], cycles);
  assert.deepEqual(
    summary.bands.map((band) => [band.band, band.cycles, band.runs, band.medianRunCycles]),
    [
      ['< 90 ns', 4, 2, 2],
      ['90–170 ns', 0, 0, null],
      ['170–400 ns', 2, 1, 2],
      ['0.4–10 µs', 1, 1, 1],
      ['> 10 µs', 0, 0, null],
    ],
  );
  assert.deepEqual(summary.bands[0].medianOpsPerSec, { shared: 12, private: 30 });
  assert.deepEqual(summary.bands[1].medianOpsPerSec, { shared: null, private: null });
  assert.deepEqual(summary.closeOverFar, { shared: 12 / 5.5, private: 1 });
  assert.equal(summary.switches, 3);
  assert.equal(summary.cycleMs, 500);
  assert.equal(summary.medianRunCycles, 1.5);
});

test('a short run names every map and every band, and writes the series of cycles', () => {
  const out = join(tempDirectory(), 'handoff.json');
  const maps = ['rwmutex', 'clht', 'js-map'];
  const result = probe('--seconds', '2', '--slice-ms', '5', '--probe-ms', '2', '--maps', maps.join(','), '--out', out);
  assert.equal(result.status, 0, result.stderr);
  for (const map of maps) assert.match(result.stdout, new RegExp(`\\| ${map} M ops/s \\|`), map);
  for (const band of HANDOFF_BANDS) assert.ok(result.stdout.includes(`| ${band.name} |`), band.name);
  assert.match(result.stdout, /close\/far .*rwmutex .*clht .*js-map/);
  assert.match(result.stdout, /time scale: \d+ band switches in \d+ cycles/);
  const written = JSON.parse(readFileSync(out, 'utf8')) as { cycles: Cycle[]; summary: { maps: string[] } };
  assert.deepEqual(written.summary.maps, maps);
  assert.ok(written.cycles.length >= 1);
  for (const { slices } of written.cycles) assert.deepEqual(slices.map((slice) => slice.map).sort(), [...maps].sort());
});

test('a map name not in the registry exits 2 naming --maps and the allowed maps, and writes nothing', () => {
  const out = join(tempDirectory(), 'handoff.json');
  const result = probe('--maps', 'rwmutex,java-map', '--out', out);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^handoff-probe: --maps\[1\] must be one of js-map, .*clht, got "java-map"/);
  assert.equal(existsSync(out), false);
});

test('an existing --out file is kept unless --force, and the refusal exits 2 before measuring', () => {
  const out = join(tempDirectory(), 'handoff.json');
  writeFileSync(out, 'earlier run');
  const result = probe('--out', out);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^handoff-probe: --out: .* already exists; pass --force to overwrite it/);
  assert.equal(readFileSync(out, 'utf8'), 'earlier run');
});
