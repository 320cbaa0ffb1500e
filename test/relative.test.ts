/**
 * Relative answers from paired trials (harness/results/stats.ts pairedRatio,
 * harness/analysis/relative.ts): ratios, their CIs, verdicts and winners.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseReference,
  groupWinners,
  pairCells,
  placementFilterOf,
  relativeAnswers,
  runtimeAnswers,
  verdictOf,
} from '../harness/analysis/relative.js';
import type { Cell, ErrorCell } from '../harness/results/results.js';
import { pairedRatio, tQuantile975 } from '../harness/results/stats.js';

/** A measured cell whose trial r ran at rates[r] (quiet rate = ops/s). */
function cellOf(map: string, rates: number[], extra: Partial<Cell> = {}): Cell {
  return {
    map,
    workload: 'read-heavy',
    threads: 2,
    loadFactor: 0.75,
    oversubscribed: false,
    trials: rates.map((rate, round) => ({ ops: rate, elapsedNs: 1e9, opsPerSec: rate, quietOpsPerSec: rate, round })),
    opsPerSec: { median: rates[0], ciLow: rates[0], ciHigh: rates[0] },
    latencyNs: {
      p50: 1,
      p90: 1,
      p99: 1,
      p999: 1,
      max: 1,
      samples: 1,
      histogram: { unit: 'ns', relativeError: 0.01, buckets: [] },
    },
    counters: {},
    ...extra,
  };
}

/** A failed cell of the same group. */
function errorCellOf(map: string, error: string): ErrorCell {
  return { map, workload: 'read-heavy', threads: 2, loadFactor: 0.75, oversubscribed: false, error };
}

/** The machine's level per round: a drift of ±30% that hits every map of a round alike. */
const drift = [1, 0.7, 1.3, 0.8, 1.1, 0.75];

test('t(0.975) matches the tables: 12.706 at 1 degree of freedom, 2.571 at 5, 2.042 at 30, 1.96 beyond', () => {
  assert.equal(tQuantile975(1), 12.706204736);
  assert.equal(tQuantile975(5), 2.570581836);
  assert.equal(tQuantile975(30), 2.042272456);
  assert.equal(tQuantile975(200), 1.96);
  assert.throws(() => tQuantile975(0), /degrees of freedom/);
});

test('a paired ratio cancels drift common to both members of each pair: 1.2× exactly under ±30% drift', () => {
  const a = drift.map((level) => 1.2e7 * level);
  const b = drift.map((level) => 1e7 * level);
  const ratio = pairedRatio(a, b);
  assert.ok(Math.abs(ratio.ratio - 1.2) < 1e-9);
  assert.ok(ratio.ciHigh - ratio.ciLow < 1e-9, 'no spread left once the drift cancels');
  assert.equal(ratio.pairs, 6);
});

test("the paired CI widens with the pairs' own scatter and holds the true ratio", () => {
  const a = [1.25, 1.15, 1.22, 1.18, 1.21, 1.19].map((ratio, r) => ratio * 1e7 * drift[r]);
  const b = drift.map((level) => 1e7 * level);
  const ratio = pairedRatio(a, b);
  assert.ok(ratio.ciLow < 1.2 && 1.2 < ratio.ciHigh, `[${ratio.ciLow}, ${ratio.ciHigh}]`);
  assert.ok(ratio.ciLow > 1.1 && ratio.ciHigh < 1.3);
  assert.throws(() => pairedRatio([1], [1, 2]), /equally long/);
  assert.throws(() => pairedRatio([1, 0], [1, 2]), /positive/);
});

test('verdicts: faster or slower only with the CI excluding 1 and the ratio beyond the tie margin; fewer than 3 pairs is undetermined', () => {
  assert.equal(verdictOf({ ratio: 1.2, ciLow: 1.1, ciHigh: 1.3, pairs: 6 }), 'faster');
  assert.equal(verdictOf({ ratio: 0.8, ciLow: 0.7, ciHigh: 0.9, pairs: 6 }), 'slower');
  assert.equal(verdictOf({ ratio: 1.2, ciLow: 0.9, ciHigh: 1.5, pairs: 6 }), 'tie', 'CI includes 1');
  assert.equal(verdictOf({ ratio: 1.02, ciLow: 1.01, ciHigh: 1.03, pairs: 6 }), 'tie', 'within the 3% margin');
  assert.equal(verdictOf({ ratio: 1.02, ciLow: 1.01, ciHigh: 1.03, pairs: 6 }, 0), 'faster', 'margin 0');
  assert.equal(verdictOf({ ratio: 2, ciLow: 1.9, ciHigh: 2.1, pairs: 2 }), 'undetermined');
});

test('trials pair by the round they were measured in, not by position', () => {
  const a = cellOf('a', [2, 4, 6]);
  const b = cellOf('b', [1, 2, 3]);
  b.trials.reverse(); // file order differs; rounds still match
  const ratio = pairCells(a, b);
  assert.ok(ratio !== null && Math.abs(ratio.ratio - 2) < 1e-9);
  assert.equal(ratio?.metric, 'quietOpsPerSec');
});

test('every map is compared with rwmutex by default, with a verdict per comparison group', () => {
  const cells = [
    cellOf(
      'rwmutex',
      drift.map((level) => 1e7 * level),
    ),
    cellOf(
      'readdirty',
      drift.map((level) => 2e7 * level * (1 + 0.01 * Math.sin(level * 10))),
    ),
    cellOf(
      'sharded',
      drift.map((level, r) => 1e7 * level * (r % 2 === 0 ? 1.01 : 0.99)),
    ),
    errorCellOf('broken', 'timeout'),
  ];
  assert.equal(chooseReference(cells), 'rwmutex');
  const answers = relativeAnswers(cells);
  assert.deepEqual(
    answers.map((answer) => [answer.map, answer.verdict]),
    [
      ['readdirty', 'faster'],
      ['sharded', 'tie'],
    ],
  );
  assert.ok(Math.abs(answers[0].ratio.median - 2) < 0.02);
  assert.equal(relativeAnswers(cells, { referenceMap: 'sharded' })[0].reference, 'sharded');
});

test("a group's winner must beat every other shared map; a private js-map is never the winner", () => {
  const level = (factor: number) => drift.map((d, r) => factor * 1e7 * d * (1 + 0.005 * (r % 3)));
  const clear = [
    cellOf('js-map', level(5), { private: true }),
    cellOf('rwmutex', level(1)),
    cellOf('readdirty', level(2)),
  ];
  const [winner] = groupWinners(clear);
  assert.equal(winner.verdict, 'winner');
  assert.equal(winner.leader, 'readdirty');
  assert.equal(winner.runnerUp, 'rwmutex');
  const close = [cellOf('rwmutex', level(1)), cellOf('sharded', level(1.01)), cellOf('readdirty', level(0.5))];
  const [tie] = groupWinners(close);
  assert.equal(tie.verdict, 'tie');
  assert.deepEqual([tie.leader, ...tie.tiedWith].sort(), ['rwmutex', 'sharded']);
});

test("runtime answers pair each map's cell under every runtime with the same cell under the first runtime", () => {
  const under = (runtime: string, map: string, rates: number[]): Cell =>
    cellOf(map, rates, { runtime: { node: runtime, v8: 'x' } });
  const cells = [
    under(
      'v20.20.2',
      'rwmutex',
      drift.map((level) => 1e7 * level),
    ),
    under(
      'v24.21.0',
      'rwmutex',
      drift.map((level) => 1.5e7 * level),
    ),
    under(
      'v20.20.2',
      'sharded',
      drift.map((level) => 1e7 * level),
    ),
    under(
      'v24.21.0',
      'sharded',
      drift.map((level, r) => 1e7 * level * (r % 2 ? 1.01 : 0.99)),
    ),
  ];
  const answers = runtimeAnswers(cells, ['v20.20.2', 'v24.21.0']);
  assert.deepEqual(
    answers.map((answer) => [answer.map, answer.runtime, answer.referenceRuntime, answer.verdict]),
    [
      ['rwmutex', 'v24.21.0', 'v20.20.2', 'faster'],
      ['sharded', 'v24.21.0', 'v20.20.2', 'tie'],
    ],
  );
  assert.ok(Math.abs(answers[0].ratio.median - 1.5) < 1e-3);
  assert.equal(
    runtimeAnswers(cells, ['v24.21.0', 'v20.20.2'])[0].referenceRuntime,
    'v24.21.0',
    'the first runtime given is the reference',
  );
  assert.equal(relativeAnswers(cells).length, 2, 'map-vs-map answers stay within one runtime');
});

test("at 2+ threads, pairs off the run's usual vCPU placement are left out while 3 pairs remain", () => {
  // Rounds 0-3 apart (handoff ~240 ns): A is 2x B. Rounds 4-5 close (~60 ns): A is 6x B.
  const handoff = [240, 230, 250, 245, 60, 62];
  const withHandoff = (cell: Cell): Cell => ({
    ...cell,
    trials: cell.trials.map((trial, round) => ({ ...trial, handoffNs: handoff[round] })),
  });
  const a = withHandoff(cellOf('a', [20, 20, 20, 20, 60, 60]));
  const b = withHandoff(cellOf('b', [10, 10, 10, 10, 10, 10]));
  // The run's readings: the apart placement in most trials (both cells' trials count).
  const filter = placementFilterOf([a, b]);
  assert.ok(filter !== null);
  const filtered = pairCells(a, b, filter);
  assert.equal(filtered?.pairs, 4, 'the two close-placement pairs are left out');
  assert.equal(filtered?.ratio, 2);
  assert.equal(pairCells(a, b)?.pairs, 6, 'without a placement record every pair counts');
  const oneThread = pairCells({ ...a, threads: 1 }, { ...b, threads: 1 }, filter);
  assert.equal(oneThread?.pairs, 6, 'one thread shares no lines: placement not applied');
  const mostlyClose = handoff.map((ns, round) => (round < 4 ? 60 : 240));
  const a2 = { ...a, trials: a.trials.map((trial, round) => ({ ...trial, handoffNs: mostlyClose[round] })) };
  assert.equal(pairCells(a2, b, filter)?.pairs, 6, 'fewer than 3 pairs in the usual placement: all pairs are kept');
  assert.equal(placementFilterOf([cellOf('c', [1, 2, 3])]), null, 'no readings, no filter');
  const unclassified = pairCells(
    { ...a, trials: a.trials.map((trial) => ({ ...trial, handoffNs: 50_000 })) },
    b,
    filter,
  );
  assert.equal(unclassified?.pairs, 4, "an unclassified reading does not rule a trial out (only b's close rounds do)");
});
