/**
 * The interleaved sweep's plan (harness/run/schedule.ts): which trials are
 * measured side by side, how rounds split over pool generations, and which
 * visits are measured again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  comparisonGroups,
  comparisonKey,
  DEFAULT_REMEASURE_RULE,
  disturbance,
  keepRemeasured,
  poolGeneration,
  rotate,
  roundVisits,
  placementOf,
  readingPlacement,
  runLevels,
  sentinelReference,
  visitsToRemeasure,
  type VisitHealth,
} from '../harness/run/schedule.js';

const cell = (map: string, workload: string, threads: number, loadFactor = 0.75) => ({
  map,
  workload,
  threads,
  loadFactor,
  rate: null,
});

test('cells that differ only by map form one comparison group; workload, threads, load factor and rate each split groups', () => {
  const cells = [
    cell('a', 'read-heavy', 1),
    cell('b', 'read-heavy', 1),
    cell('a', 'read-heavy', 2),
    cell('b', 'read-heavy', 2),
    cell('a', 'write-heavy', 1),
    cell('a', 'read-heavy', 1, 0.5),
    { ...cell('a', 'read-heavy', 1), rate: 1000 },
  ];
  const groups = comparisonGroups(cells);
  assert.deepEqual(
    groups.map((group) => group.map((member) => member.map)),
    [['a', 'b'], ['a', 'b'], ['a'], ['a'], ['a']],
  );
  assert.equal(new Set(cells.map(comparisonKey)).size, 5);
});

test('over as many rounds as maps, every map leads its group exactly once and every group is visited once per round', () => {
  const groups = [
    ['a', 'b', 'c'],
    ['a', 'b', 'c'],
    ['a', 'b', 'c'],
    ['a', 'b', 'c'],
  ];
  const leaders = new Map<string, number>();
  for (let round = 0; round < 3; round++) {
    const visits = roundVisits(groups, round, 3);
    assert.deepEqual(visits.map((visit) => visit.group).sort(), [0, 1, 2, 3], `round ${round} visits each group once`);
    for (const visit of visits) {
      assert.deepEqual([...visit.members].sort(), ['a', 'b', 'c'], 'a visit measures every map of the group');
      leaders.set(`${visit.group}|${visit.members[0]}`, (leaders.get(`${visit.group}|${visit.members[0]}`) ?? 0) + 1);
    }
  }
  assert.equal(leaders.size, 12, 'each of 3 maps led each of 4 groups');
  assert.ok([...leaders.values()].every((count) => count === 1));
});

test('successive rounds start the pass at different groups', () => {
  const groups = Array.from({ length: 6 }, () => ['a', 'b']);
  const firsts = [0, 1, 2].map((round) => roundVisits(groups, round, 3)[0].group);
  assert.equal(new Set(firsts).size, 3, `first groups ${firsts}`);
});

test('rotate shifts left by any amount, negative and beyond the length included', () => {
  assert.deepEqual(rotate([1, 2, 3], 1), [2, 3, 1]);
  assert.deepEqual(rotate([1, 2, 3], 4), [2, 3, 1]);
  assert.deepEqual(rotate([1, 2, 3], -1), [3, 1, 2]);
  assert.deepEqual(rotate([], 2), []);
});

test('rounds split into contiguous pool generations of near-equal size, never more generations than rounds', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((round) => poolGeneration(round, 6, 2)),
    [0, 0, 0, 1, 1, 1],
  );
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((round) => poolGeneration(round, 5, 2)),
    [0, 0, 0, 1, 1],
  );
  assert.deepEqual(
    [0, 1].map((round) => poolGeneration(round, 2, 5)),
    [0, 1],
  );
  assert.deepEqual(
    [0, 1, 2].map((round) => poolGeneration(round, 3, 1)),
    [0, 0, 0],
  );
});

const health = (sentinelOpsPerSec: number | null, runqueueWaitFraction: number | null = 0): VisitHealth => ({
  sentinelOpsPerSec,
  runqueueWaitFraction,
  handoffNs: [],
  threads: 1,
});
/** A multi-thread visit with a normal sentinel and the given handoff readings. */
const placed = (threads: number, ...handoffNs: number[]): VisitHealth => ({
  sentinelOpsPerSec: 100,
  runqueueWaitFraction: 0,
  handoffNs,
  threads,
});
const level = (sentinelOpsPerSec: number | null) => ({ sentinelOpsPerSec, placement: null });

test("the run's sentinel level is the 90th percentile of its readings, so one lucky reading does not set it", () => {
  const readings = [...Array.from({ length: 19 }, () => 100), 200];
  assert.equal(sentinelReference(readings), 100);
  assert.equal(sentinelReference([null, null]), null);
});

test('a visit is disturbed when its sentinel is below 85% of the run level or a worker waited over 5% of its window for a CPU', () => {
  const rule = DEFAULT_REMEASURE_RULE;
  assert.equal(disturbance(health(90), level(100), rule), null);
  assert.match(String(disturbance(health(80), level(100), rule)), /sentinel at 80%/);
  assert.match(String(disturbance(health(100, 0.2), level(100), rule)), /waited 20%/);
  assert.equal(
    disturbance(health(null, null), level(null), rule),
    null,
    'no sentinel and no run-queue figures: nothing to judge by',
  );
});

test('the worst disturbed visits are measured again first, within the budget', () => {
  const visits = [
    health(100),
    health(50),
    health(100),
    health(70),
    health(100, 0.9),
    health(100),
    health(100),
    health(100),
    health(100),
    health(100),
  ];
  assert.deepEqual(visitsToRemeasure(visits, { ...DEFAULT_REMEASURE_RULE, budgetFraction: 0.2 }), [4, 1]);
  assert.deepEqual(visitsToRemeasure(visits, { ...DEFAULT_REMEASURE_RULE, budgetFraction: 1 }), [4, 1, 3]);
  assert.deepEqual(visitsToRemeasure(visits, { ...DEFAULT_REMEASURE_RULE, budgetFraction: 0 }), []);
});

test('of a visit and its re-measurement the undisturbed one is kept, else the one with the higher sentinel', () => {
  const rule = DEFAULT_REMEASURE_RULE;
  assert.equal(keepRemeasured(health(50), health(95), level(100), rule), true);
  assert.equal(keepRemeasured(health(95), health(50), level(100), rule), false);
  assert.equal(keepRemeasured(health(60), health(70), level(100), rule), true);
  assert.equal(keepRemeasured(health(70), health(60), level(100), rule), false);
});

test('handoff readings in two clusters 2x or more apart form two placements; the one with more readings is usual', () => {
  const close = [58, 60, 62, 65, 70, 118];
  const apart = [230, 240, 250, 260];
  const two = placementOf([...close, ...apart, 2500, 50_000]);
  assert.ok(two !== null && two.otherNs !== null && two.boundaryNs !== null);
  assert.ok(two.usualNs > 55 && two.usualNs < 80, `usual ${two.usualNs}`);
  assert.ok(
    (two.otherNs as number) > 220 && (two.otherNs as number) < 260,
    `other ${two.otherNs}: 1 us and more left out`,
  );
  assert.equal(
    readingPlacement(118, two),
    'usual',
    'a reading between the clusters goes to the nearer one on a log scale',
  );
  assert.equal(readingPlacement(240, two), 'other');
  assert.equal(readingPlacement(2500, two), 'unclassified', 'the probe threads hardly ran at once');
  const one = placementOf([230, 240, 250, 300, 260]);
  assert.deepEqual(
    one && [Math.round(one.usualNs), one.otherNs, one.boundaryNs],
    [250, null, null],
    'within 2x: one placement',
  );
  assert.equal(readingPlacement(60, one as NonNullable<typeof one>), 'usual', 'with one placement, nothing is other');
  assert.equal(placementOf([]), null);
  assert.equal(placementOf([Number.NaN, 0, 20_000]), null, 'no classifiable reading');
  assert.deepEqual(runLevels([placed(2, 240, 250), placed(1, 230)]).placement?.otherNs, null);
});

test('a multi-thread visit is disturbed when most of its classified readings are in the other placement', () => {
  const rule = DEFAULT_REMEASURE_RULE;
  const levels = { sentinelOpsPerSec: 100, placement: placementOf([60, 62, 65, 58, 61, 240, 250, 245]) };
  assert.equal(disturbance(placed(2, 60, 64), levels, rule), null, 'the usual placement');
  assert.equal(
    disturbance(placed(2, 60, 240), levels, rule),
    null,
    'one stray reading: the placement held on one side',
  );
  assert.match(
    String(disturbance(placed(2, 240, 250), levels, rule)),
    /sat otherwise than for most of the run \(handoff 240 ns, 250 ns; usual 6\d ns\)/,
  );
  assert.match(
    String(disturbance(placed(2, 240, 900_000), levels, rule)),
    /sat otherwise .*900 µs/,
    'unclassified ignored',
  );
  assert.match(
    String(disturbance(placed(2, 60, 240, 250), levels, rule)),
    /sat otherwise/,
    'two of three readings off',
  );
  assert.equal(disturbance(placed(2, 60, 62, 240), levels, rule), null, 'one of three readings off');
  assert.equal(disturbance(placed(4, 20_000, 3_000_000), levels, rule), null, 'unclassified readings say nothing');
  assert.equal(
    disturbance(placed(1, 240, 250), levels, rule),
    null,
    'one thread shares no lines: placement not judged',
  );
  assert.equal(disturbance(placed(2, 240), { sentinelOpsPerSec: 100, placement: null }, rule), null, 'no readings');
});

test('placement-disturbed visits are measured again after worse ones, and a re-measurement in the usual placement is kept', () => {
  const visits = [
    { ...placed(2, 60, 62), sentinelOpsPerSec: 40 }, // sentinel at 40%: worse than a placement
    placed(2, 240, 250), // other placement
    placed(1, 240, 240), // not judged
    placed(2, 61, 900_000), // unclassified reading: not judged
    placed(2, 64, 60),
    placed(2, 58, 63),
    placed(2, 59, 61),
  ];
  assert.deepEqual(visitsToRemeasure(visits, { ...DEFAULT_REMEASURE_RULE, budgetFraction: 1 }), [0, 1]);
  const levels = runLevels(visits);
  const rule = DEFAULT_REMEASURE_RULE;
  assert.equal(keepRemeasured(placed(2, 240, 250), placed(2, 60, 240), levels, rule), true);
  assert.equal(keepRemeasured(placed(2, 60, 64), placed(2, 240, 250), levels, rule), false);
});
