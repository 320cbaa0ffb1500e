/**
 * The placement sentinel (harness/run/placement.ts, harness/trial/handoff.ts):
 * two threads of its pool pass a cache line back and forth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_READING_ATTEMPTS, PlacementSentinel } from '../harness/run/placement.js';

test('a placement reading passes a line between two threads many times and gives a positive time per handoff', async () => {
  const sentinel = await PlacementSentinel.start({ timeoutMs: 30_000 });
  try {
    // Readings until one shows the two threads running at once (at most 5 s): on an idle machine the first does.
    const readings = [];
    const untilMs = performance.now() + 5000;
    do readings.push(await sentinel.measure(performance.now() + 30_000, undefined, { windowMs: 20 }));
    while (readings[readings.length - 1].handoffNs >= 100_000 && performance.now() < untilMs);
    for (const { handoffNs, atMs } of readings) {
      assert.ok(Number.isFinite(handoffNs) && handoffNs > 0, `handoffNs ${handoffNs}`);
      assert.ok(Math.abs(atMs - Date.now()) < 60_000);
    }
    // A cross-core handoff takes ~50-300 ns, so a window passes the line tens of thousands of times;
    // a probe whose threads never met would report ~20 ms.
    const best = Math.min(...readings.map((reading) => reading.handoffNs));
    assert.ok(best < 100_000, `best handoff ${best} ns: the two threads did not pass the line`);
  } finally {
    await sentinel.close();
  }
});

test('a reading at or above retryAboveNs is taken again, at most MAX_READING_ATTEMPTS times in all', async () => {
  const sentinel = await PlacementSentinel.start({ timeoutMs: 30_000 });
  try {
    const once = await sentinel.measure(performance.now() + 30_000, undefined, { windowMs: 2 });
    assert.equal(once.attempts, 1, 'no retryAboveNs: one reading');
    // Every reading is ≥ 0 ns, so a threshold of 0 retries until the bound; the last reading stands.
    const bounded = await sentinel.measure(performance.now() + 30_000, undefined, { windowMs: 2, retryAboveNs: 0 });
    assert.equal(bounded.attempts, MAX_READING_ATTEMPTS);
    assert.ok(Number.isFinite(bounded.handoffNs) && bounded.handoffNs > 0);
    const generous = await sentinel.measure(performance.now() + 30_000, undefined, {
      windowMs: 2,
      retryAboveNs: Number.MAX_VALUE,
    });
    assert.equal(generous.attempts, 1, 'a reading below the threshold is kept');
  } finally {
    await sentinel.close();
  }
});
