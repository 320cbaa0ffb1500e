import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CellSpec } from '../harness/run/cell.js';
import {
  AUTO_BRACKET,
  bracketRates,
  capacityOf,
  planAutoRatePhase,
  refineRates,
  runAutoRateSeries,
} from '../harness/run/rate-plan.js';
import type { Cell } from '../harness/results/results.js';
import { buildCell } from './fixtures/results-builder.js';

/** An open-loop cell at `rate` per thread whose three trials have p99 ≈ p99Ns. */
function openCell(rate: number, p99Ns: number, threads = 2): Cell {
  const cell = buildCell({ map: 'rwmutex', workload: 'read-heavy', threads, rate, p99Ns, samples: 10 });
  return { ...cell, trials: cell.trials.map((trial, t) => ({ ...trial, p99Ns: p99Ns * (0.97 + 0.03 * t) })) };
}

test('auto rates bracket 0.1 … 1.2 of the closed-loop capacity, per thread, rounded to 3 digits', () => {
  const rates = bracketRates(8_700_000, 2);
  assert.equal(rates.length, AUTO_BRACKET.length);
  assert.equal(rates[0], 435_000);
  assert.equal(rates[rates.length - 1], 5_220_000);
  assert.deepEqual(bracketRates(8_700_000, 2), rates, 'the same capacity plans the same cells');
  assert.throws(() => bracketRates(0, 2), /capacityOpsPerSec must be a finite number > 0, got 0/);
  assert.throws(() => bracketRates(1e6, 0), /threads must be an integer ≥ 1, got 0/);
});

test('refinement adds rates inside the bracket where p99 jumps, and none without a knee', () => {
  const knee = [
    openCell(100_000, 1000),
    openCell(200_000, 1000),
    openCell(300_000, 1100),
    openCell(400_000, 50_000),
    openCell(500_000, 500_000),
  ];
  assert.deepEqual(refineRates(knee), [325_000, 350_000, 375_000]);
  const flat = [openCell(100_000, 1000), openCell(200_000, 1000), openCell(300_000, 1100)];
  assert.deepEqual(refineRates(flat), []);
  assert.deepEqual(refineRates(knee.slice(0, 2)), [], 'fewer than 3 rates: nothing to refine');
});

test('the capacity comes from a closed-loop cell that did not fail', () => {
  assert.equal(
    capacityOf(buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2, opsPerSec: 5e6, samples: 10 })),
    5e6,
  );
  assert.equal(capacityOf(buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2, error: 'boom' })), null);
  assert.equal(capacityOf(openCell(1e5, 1000)), null);
});

test('the sweep hook runs the bracket, then the refinement, skipping rates a resumed file already has', async () => {
  const spec: CellSpec = { map: 'rwmutex', workload: 'read-heavy', threads: 2, loadFactor: 0.75, rate: null };
  const capacity = buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2, opsPerSec: 2_000_000, samples: 10 });
  const bracket = bracketRates(2_000_000, 2);
  const cells: Cell[] = [capacity, openCell(bracket[0], 1000)];
  const ran: number[] = [];
  // A fake map: p99 flat up to 600k ops/s per thread, then 50× higher.
  await runAutoRateSeries(
    spec,
    capacity,
    cells,
    async (rateSpec) => {
      ran.push(rateSpec.rate as number);
      const cell = openCell(rateSpec.rate as number, (rateSpec.rate as number) <= 600_000 ? 1000 : 50_000);
      cells.push(cell);
      return cell;
    },
    () => false,
  );
  assert.deepEqual(ran.slice(0, bracket.length - 1), bracket.slice(1), 'the bracket, minus the rate already measured');
  const refined = ran.slice(bracket.length - 1);
  assert.ok(refined.length > 0 && refined.every((rate) => rate > 600_000 && rate < 700_000), `refined ${refined}`);
});

test('an interleaved phase plans every series at once, a visit group per step, skipping rates already measured', () => {
  const specs: CellSpec[] = ['rwmutex', 'readdirty'].map((map) => ({
    map,
    workload: 'read-heavy',
    threads: 2,
    loadFactor: 0.75,
    rate: null,
  }));
  const rwmutex = buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2, opsPerSec: 2_000_000, samples: 10 });
  const readdirty = buildCell({ map: 'readdirty', workload: 'read-heavy', threads: 2, opsPerSec: 8e6, samples: 10 });
  const failed = buildCell({ map: 'sharded', workload: 'read-heavy', threads: 2, error: 'boom' });
  const measuredAlready = { ...openCell(bracketRates(2_000_000, 2)[0], 1000), loadFactor: 0.75 };
  const cells = [rwmutex, readdirty, failed, measuredAlready];
  const phase = planAutoRatePhase(
    'bracket',
    [...specs, { ...specs[0], map: 'sharded' }, { ...specs[0], map: 'clht' }],
    cells,
  );
  assert.equal(phase.length, 2 * AUTO_BRACKET.length - 1, 'no series for a failed or missing capacity cell');
  const first = phase.filter((cell) => cell.group === 'read-heavy|t2|lf0.75|bracket 0');
  assert.deepEqual(
    first.map((cell) => cell.spec.map),
    ['readdirty'],
    "rwmutex's first rate is in the file already",
  );
  const last = phase.filter((cell) => cell.group === `read-heavy|t2|lf0.75|bracket ${AUTO_BRACKET.length - 1}`);
  assert.deepEqual(
    last.map((cell) => [cell.spec.map, cell.spec.rate]),
    [
      ['rwmutex', 1_200_000],
      ['readdirty', 4_800_000],
    ],
    'one group holds every map at the same fraction of its own capacity',
  );
});

test('the refinement phase refines from the bracket only, so a resumed series refines where a fresh one does', () => {
  const spec: CellSpec = { map: 'rwmutex', workload: 'read-heavy', threads: 2, loadFactor: 0.75, rate: null };
  const capacity = {
    ...buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2, opsPerSec: 2_000_000, samples: 10 }),
    loadFactor: 0.75,
  };
  const bracket = bracketRates(2_000_000, 2).map((rate) => ({
    ...openCell(rate, rate <= 600_000 ? 1000 : 50_000),
    loadFactor: 0.75,
  }));
  const fresh = planAutoRatePhase('refine', [spec], [capacity, ...bracket]);
  assert.ok(
    fresh.length > 0 &&
      fresh.every((cell) => (cell.spec.rate as number) > 600_000 && (cell.spec.rate as number) < 700_000),
  );
  assert.deepEqual(
    fresh.map((cell) => cell.group),
    fresh.map((_, step) => `read-heavy|t2|lf0.75|refine ${step}`),
  );
  // Resumed after one refinement rate ran (a jump at 650k): the rest of the same plan, not a refinement of the refinement.
  const resumed = planAutoRatePhase(
    'refine',
    [spec],
    [capacity, ...bracket, { ...openCell(650_000, 50_000), loadFactor: 0.75 }],
  );
  assert.deepEqual(
    resumed,
    fresh.filter((cell) => cell.spec.rate !== 650_000),
  );
  assert.equal(
    fresh.filter((cell) => cell.spec.rate === 650_000).length,
    1,
    'the resumed rate is one of the fresh plan',
  );
});
