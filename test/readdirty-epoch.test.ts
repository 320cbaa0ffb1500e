/**
 * The epoch domain (maps/epoch.ts) the read/dirty map reclaims memory with:
 * retired memory is handed back only once every non-idle thread has passed a
 * quiescent point after its retirement; idle threads never hold it back.
 * Several EpochDomain views on one thread stand in for several threads (each
 * view claims its own slot).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, createArenaBuffer } from '../maps/arena.js';
import { EpochDomain, ITEMS_PER_RECORD, MAX_EPOCH_THREADS, createEpochBlock } from '../maps/epoch.js';

function newDomain(): { arena: Arena; base: number; view: () => EpochDomain } {
  const arena = new Arena(createArenaBuffer(4 * 1024 * 1024));
  const base = createEpochBlock(arena);
  return { arena, base, view: () => new EpochDomain(arena, base) };
}

/** Retires `count` items (offsets 1..count, size 0, 8 bytes each) and returns what reclaim saw, in order. */
function recorder(): { reclaimed: number[]; reclaim: (offset: number, size: number) => number } {
  const reclaimed: number[] = [];
  return {
    reclaimed,
    reclaim: (offset) => {
      reclaimed.push(offset);
      return 8;
    },
  };
}

test('a retired item waits until every active thread has passed a quiescent point after its retirement', () => {
  const { view } = newDomain();
  const reclaimer = view();
  const reader = view();
  reclaimer.quiescentPoint();
  reader.quiescentPoint();
  const { reclaimed, reclaim } = recorder();
  reclaimer.retireLocked(101, 0, 8);
  assert.equal(reclaimer.tryReclaimLocked(reclaim), 0, 'both threads announced the retirement epoch itself');
  assert.equal(reclaimer.stats().bytesAwaitingReclamation, 8);
  reclaimer.quiescentPoint();
  reader.quiescentPoint(); // both now announce the advanced epoch
  assert.equal(reclaimer.tryReclaimLocked(reclaim), 1);
  assert.deepEqual(reclaimed, [101]);
  const stats = reclaimer.stats();
  assert.equal(stats.bytesAwaitingReclamation, 0);
  assert.equal(stats.itemsAwaitingReclamation, 0);
  assert.equal(stats.activeThreads, 2);
});

test('one thread that has not passed a quiescent point holds reclamation back, however often the others do', () => {
  const { view } = newDomain();
  const reclaimer = view();
  const stalled = view();
  stalled.quiescentPoint();
  reclaimer.quiescentPoint();
  const { reclaimed, reclaim } = recorder();
  reclaimer.retireLocked(7, 0, 8);
  for (let round = 0; round < 10; round++) {
    reclaimer.quiescentPoint();
    reclaimer.tryReclaimLocked(reclaim);
  }
  assert.deepEqual(reclaimed, [], 'the stalled thread may still hold item 7');
  const epochBefore = reclaimer.stats().epoch;
  reclaimer.tryReclaimLocked(reclaim);
  assert.equal(reclaimer.stats().epoch, epochBefore, 'the epoch does not run ahead of a stalled thread');
  stalled.quiescentPoint();
  reclaimer.tryReclaimLocked(reclaim);
  assert.deepEqual(reclaimed, [7]);
});

test('an idle thread does not hold reclamation back, and re-announces before it reads again', () => {
  const { view } = newDomain();
  const reclaimer = view();
  const sleeper = view();
  sleeper.quiescentPoint();
  sleeper.goIdle();
  reclaimer.quiescentPoint();
  const { reclaimed, reclaim } = recorder();
  reclaimer.retireLocked(1, 0, 8);
  reclaimer.quiescentPoint();
  reclaimer.tryReclaimLocked(reclaim); // advances: the reclaimer is the only active thread
  reclaimer.quiescentPoint();
  reclaimer.tryReclaimLocked(reclaim);
  assert.deepEqual(reclaimed, [1]);
  sleeper.quiescentPoint(); // wakes: active again, at the current epoch
  reclaimer.retireLocked(2, 0, 8);
  reclaimer.quiescentPoint();
  reclaimer.tryReclaimLocked(reclaim);
  reclaimer.quiescentPoint();
  reclaimer.tryReclaimLocked(reclaim);
  assert.deepEqual(reclaimed, [1], 'the woken thread holds item 2 back');
  sleeper.goIdle();
  reclaimer.tryReclaimLocked(reclaim);
  assert.deepEqual(reclaimed, [1, 2]);
});

test('with every thread idle everything retired is reclaimed at once, in retirement order, across records', () => {
  const { arena, view } = newDomain();
  const domain = view();
  domain.quiescentPoint();
  const bytesBefore = arena.stats().bytesInUse;
  const count = 3 * ITEMS_PER_RECORD + 5;
  for (let item = 1; item <= count; item++) domain.retireLocked(item, 0, 8);
  assert.equal(domain.stats().itemsAwaitingReclamation, count);
  assert.ok(arena.stats().bytesInUse > bytesBefore, 'retire records live in the arena');
  domain.goIdle();
  const { reclaimed, reclaim } = recorder();
  assert.equal(domain.tryReclaimLocked(reclaim), count);
  assert.deepEqual(
    reclaimed,
    Array.from({ length: count }, (_, i) => i + 1),
  );
  assert.equal(arena.stats().bytesInUse, bytesBefore, 'the retire records were freed');
});

test(`at most ${MAX_EPOCH_THREADS} threads are registered at once; an idle thread's slot is free for another`, () => {
  const { view } = newDomain();
  const views = Array.from({ length: MAX_EPOCH_THREADS }, () => view());
  for (const domain of views) domain.quiescentPoint();
  const extra = view();
  assert.throws(
    () => extra.quiescentPoint(),
    /more than 64 threads are using one map at the same time; call quiesce\(\)/,
  );
  views[17].goIdle();
  extra.quiescentPoint();
  assert.equal(extra.stats().activeThreads, MAX_EPOCH_THREADS);
});
