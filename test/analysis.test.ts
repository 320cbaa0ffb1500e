import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  analyzeResults,
  analyzeScaling,
  fitUsl,
  kneedle,
  parseScalingCsv,
  uslPeak,
  uslThroughput,
  familyMember,
} from '../harness/analysis/index.js';
import { isotonicFit } from '../harness/analysis/isotonic.js';
import { latencyKnee, type LoadPoint } from '../harness/analysis/latency.js';
import { levenbergMarquardt } from '../harness/analysis/levenberg-marquardt.js';
import { UsageError } from '../harness/run/options.js';
import { buildCell, buildResults, realisticResults, seededRandom, usl } from './fixtures/results-builder.js';

const relative = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);

// ---- Kneedle --------------------------------------------------------------

test("Kneedle finds the paper's Figure 2 knee of y = −1/(x+0.1) + 5 at x ≈ 0.22", () => {
  const x = Array.from({ length: 10 }, (_, i) => i / 9);
  const y = x.map((value) => -1 / (value + 0.1) + 5);
  const knee = kneedle(x, y, { curve: 'concave' });
  assert.ok(knee);
  assert.equal(knee.index, 2);
  assert.ok(relative(knee.x, 0.2222) < 0.01, `knee at ${knee.x}`);
  assert.ok(relative(knee.y, 1.8966) < 0.001, `knee y ${knee.y}`);
});

test('Kneedle puts the knee of linear-then-flat scaling at the last linear point, on power-of-two thread counts', () => {
  const knee = kneedle([1, 2, 4, 8, 16], [1, 2, 4, 4.05, 4], { curve: 'concave' });
  assert.equal(knee?.x, 4);
});

test('Kneedle finds no knee on a straight line', () => {
  assert.equal(kneedle([1, 2, 3, 4, 5, 6], [10, 20, 30, 40, 50, 60], { curve: 'concave' }), null);
  assert.equal(kneedle([1, 2, 3, 4, 5, 6], [10, 20, 30, 40, 50, 60], { curve: 'convex' }), null);
});

test('Kneedle finds no knee on a constant curve', () => {
  assert.equal(kneedle([1, 2, 4, 8], [5, 5, 5, 5], { curve: 'concave' }), null);
});

test('Kneedle on a convex hockey stick puts the knee at the last point of the flat region', () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const y = [1, 1.02, 1, 1.03, 1.01, 1, 1.04, 2, 4, 9];
  assert.equal(kneedle(x, y, { curve: 'convex' })?.x, 7);
});

test('a larger Kneedle sensitivity demands a sharper bend before it calls a knee', () => {
  const x = Array.from({ length: 10 }, (_, i) => i / 9);
  const y = x.map((value) => -1 / (value + 0.1) + 5);
  assert.ok(kneedle(x, y, { curve: 'concave', sensitivity: 1 }));
  assert.equal(kneedle(x, y, { curve: 'concave', sensitivity: 10 }), null);
});

test('Kneedle rejects fewer than 3 points, unsorted x and a non-positive sensitivity', () => {
  assert.throws(() => kneedle([1, 2], [1, 2], { curve: 'concave' }), /at least 3 points/);
  assert.throws(() => kneedle([1, 3, 2], [1, 2, 3], { curve: 'concave' }), /strictly increasing/);
  assert.throws(() => kneedle([1, 2, 3], [1, 2, 3], { curve: 'concave', sensitivity: 0 }), /sensitivity must be/);
});

// ---- Levenberg–Marquardt and USL -------------------------------------------

test('Levenberg–Marquardt recovers an exponential decay and keeps a bounded parameter at its bound', () => {
  const xs = [0, 0.5, 1, 1.5, 2, 3, 4];
  const ys = xs.map((x) => 3 * Math.exp(-0.7 * x));
  const fit = levenbergMarquardt(
    {
      lowerBounds: [0, 0],
      residuals: ([a, k]) => xs.map((x, i) => a * Math.exp(-k * x) - ys[i]),
      jacobian: ([a, k]) => xs.map((x) => [Math.exp(-k * x), -a * x * Math.exp(-k * x)]),
    },
    [1, 0.1],
  );
  assert.ok(relative(fit.parameters[0], 3) < 1e-6 && relative(fit.parameters[1], 0.7) < 1e-6, `${fit.parameters}`);
  // y = 2 + 0·x fitted with slope ≥ 0 from a start pushing it negative: the slope stays exactly 0.
  const flat = levenbergMarquardt(
    {
      lowerBounds: [-Infinity, 0],
      residuals: ([c, slope]) => xs.map((x) => c + slope * x - (2 - 0.1 * x)),
      jacobian: () => xs.map((x) => [1, x]),
    },
    [0, 1],
  );
  assert.equal(flat.parameters[1], 0);
});

test('USL fit of an exact USL curve recovers λ, σ, κ', () => {
  const truth = { lambda: 2e6, sigma: 0.08, kappa: 0.003 };
  const points = [1, 2, 4, 8, 16, 32].map((threads) => ({ threads, opsPerSec: uslThroughput(threads, truth) }));
  const fit = fitUsl(points);
  assert.ok(fit);
  assert.ok(relative(fit.lambda, truth.lambda) < 1e-4, `λ ${fit.lambda}`);
  assert.ok(relative(fit.sigma, truth.sigma) < 1e-4, `σ ${fit.sigma}`);
  assert.ok(relative(fit.kappa, truth.kappa) < 1e-4, `κ ${fit.kappa}`);
  assert.ok(fit.r2 > 0.999999);
  assert.ok(fit.peakThreads !== null && relative(fit.peakThreads, Math.sqrt(0.92 / 0.003)) < 1e-3);
  assert.ok(fit.peakOpsPerSec !== null && relative(fit.peakOpsPerSec, uslThroughput(fit.peakThreads, truth)) < 1e-3);
});

test('USL fit with ±5% seeded noise puts the peak N* within 10% of the true one', () => {
  const truth = { lambda: 1e6, sigma: 0.05, kappa: 0.002 };
  const truePeak = Math.sqrt((1 - truth.sigma) / truth.kappa);
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const random = seededRandom(seed);
    const points = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64].map((threads) => ({
      threads,
      opsPerSec: uslThroughput(threads, truth) * (1 + (random() * 2 - 1) * 0.05),
    }));
    const fit = fitUsl(points);
    assert.ok(fit?.peakThreads, `seed ${seed}: no peak`);
    assert.ok(relative(fit.peakThreads, truePeak) < 0.1, `seed ${seed}: N* ${fit.peakThreads} vs ${truePeak}`);
  }
});

test('USL fit without a one-thread point still converges from the linearised start', () => {
  const truth = { lambda: 5e5, sigma: 0.2, kappa: 0.01 };
  const fit = fitUsl([2, 3, 4, 6, 8, 12].map((threads) => ({ threads, opsPerSec: uslThroughput(threads, truth) })));
  assert.ok(fit && relative(fit.sigma, 0.2) < 1e-3 && relative(fit.kappa, 0.01) < 1e-3, JSON.stringify(fit));
});

test('a perfectly linear curve fits κ = 0 and an unbounded peak (null)', () => {
  const fit = fitUsl([1, 2, 4, 8, 16, 32].map((threads) => ({ threads, opsPerSec: 1000 * threads })));
  assert.ok(fit);
  assert.equal(fit.kappa, 0);
  assert.ok(fit.sigma < 1e-9);
  assert.ok(relative(fit.lambda, 1000) < 1e-9);
  assert.equal(fit.peakThreads, null);
  assert.equal(fit.peakOpsPerSec, null);
  assert.ok(fit.r2 > 0.999999);
});

test('contention without coherency (κ = 0 truth) gives no retrograde peak', () => {
  const fit = fitUsl([1, 2, 4, 8, 16].map((threads) => ({ threads, opsPerSec: usl(threads, 1e6, 0.1, 0) })));
  assert.ok(fit && fit.kappa < 1e-9 && relative(fit.sigma, 0.1) < 1e-4, JSON.stringify(fit));
});

test('a USL peak that would fall below one thread is reported at one thread', () => {
  assert.deepEqual(uslPeak({ lambda: 100, sigma: 0.5, kappa: 2 }), { peakThreads: 1, peakOpsPerSec: 100 });
  assert.deepEqual(uslPeak({ lambda: 100, sigma: 1.5, kappa: 0.1 }), { peakThreads: 1, peakOpsPerSec: 100 });
  assert.deepEqual(uslPeak({ lambda: 100, sigma: 0.5, kappa: 0 }), { peakThreads: null, peakOpsPerSec: null });
});

test('contention past serial (σ ≥ 1) peaks at one thread even when κ = 0', () => {
  assert.deepEqual(uslPeak({ lambda: 100, sigma: 2.5, kappa: 0 }), { peakThreads: 1, peakOpsPerSec: 100 });
  assert.ok(uslThroughput(2, { lambda: 100, sigma: 2.5, kappa: 0 }) < 100, 'two threads really do less than one');
});

test('USL needs three distinct thread counts', () => {
  assert.equal(
    fitUsl([
      { threads: 1, opsPerSec: 10 },
      { threads: 2, opsPerSec: 19 },
      { threads: 2, opsPerSec: 18 },
    ]),
    null,
  );
});

// ---- one scaling curve -----------------------------------------------------

test('fewer than 3 thread counts: "not enough points", no knee and no fit', () => {
  const result = analyzeScaling([
    { threads: 1, opsPerSec: 100 },
    { threads: 4, opsPerSec: 300 },
  ]);
  assert.equal(result.kneeThreads, null);
  assert.equal(result.usl, null);
  assert.match(result.note ?? '', /not enough points: 2 thread counts/);
});

test('a flat throughput curve has no knee, even with noise that Kneedle would amplify', () => {
  const random = seededRandom(3);
  const result = analyzeScaling(
    [1, 2, 4, 8, 16].map((threads) => ({ threads, opsPerSec: 1e6 * (1 + (random() - 0.5) * 0.02) })),
  );
  assert.equal(result.kneeThreads, null);
  assert.match(result.note ?? '', /flat/);
});

test('a USL-shaped curve has a knee before its peak and the knee throughput is the measured one', () => {
  const points = [1, 2, 4, 8, 16, 32].map((threads) => ({ threads, opsPerSec: usl(threads, 1e6, 0.05, 0.002) }));
  const result = analyzeScaling(points);
  assert.ok(result.kneeThreads !== null && result.kneeThreads < 22, `knee ${result.kneeThreads}`);
  assert.equal(result.kneeOpsPerSec, points.find((point) => point.threads === result.kneeThreads)?.opsPerSec);
  assert.equal(result.note, undefined);
});

test('repeated thread counts count once, by their median', () => {
  const result = analyzeScaling([
    { threads: 1, opsPerSec: 1 },
    { threads: 2, opsPerSec: 2 },
    { threads: 2, opsPerSec: 200 },
    { threads: 2, opsPerSec: 2.1 },
    { threads: 4, opsPerSec: 4 },
  ]);
  assert.equal(result.points, 3);
  assert.ok(result.usl && result.usl.r2 > 0.999);
});

// ---- latency knees ---------------------------------------------------------

/** One point per p99, rates 1e5, 2e5, …; each rate gets trials at p99 × `spread` (several trials: an interval). */
function hockeyStick(p99Ns: number[], spread: number[] = [0.97, 1, 1.03], hiccupP99Ns?: number): LoadPoint[] {
  return p99Ns.map((p99, i) => ({
    offeredOpsPerSec: (i + 1) * 1e5,
    ratePerThread: ((i + 1) * 1e5) / 4,
    achievedOpsPerSec: Math.min((i + 1) * 1e5, 7.5e5),
    p99Ns: p99,
    trialP99Ns: spread.map((factor) => p99 * factor),
    ...(hiccupP99Ns === undefined ? {} : { hiccupP99Ns }),
  }));
}

test('latency knee of a hockey-stick p99 curve: TPS at the last flat point, p99 before and after, with intervals', () => {
  const knee = latencyKnee(hockeyStick([900, 920, 910, 950, 930, 980, 1000, 4000, 40_000, 400_000]));
  assert.equal(knee.verdict, 'knee');
  assert.equal(knee.tpsAtKnee, 7e5);
  assert.equal(knee.ratePerThreadAtKnee, 7e5 / 4);
  assert.equal(knee.achievedOpsPerSecAtKnee, 7e5);
  assert.ok(relative(knee.p99BeforeNs ?? 0, 1000) < 1e-9 && relative(knee.p99AfterNs ?? 0, 4000) < 1e-9);
  assert.ok(knee.p99Ratio !== null && relative(knee.p99Ratio.median, 4) < 1e-9);
  assert.ok(knee.tpsCiLow !== null && knee.tpsCiHigh !== null && knee.tpsCiLow <= 7e5 && knee.tpsCiHigh >= 7e5);
  assert.equal(knee.points, 10);
  assert.equal(knee.note, undefined);
});

test('latency knee on an M/M/1-like p99 = c/(1−ρ) curve lands where queueing takes over, before saturation', () => {
  const rho = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];
  const knee = latencyKnee(
    rho.map((utilisation) => ({
      offeredOpsPerSec: utilisation * 1e6,
      ratePerThread: utilisation * 1e6,
      achievedOpsPerSec: utilisation * 1e6,
      p99Ns: 4600 / (1 - utilisation),
      trialP99Ns: [0.95, 1, 1.05].map((factor) => (factor * 4600) / (1 - utilisation)),
    })),
  );
  assert.ok(
    knee.tpsAtKnee !== null && knee.tpsAtKnee >= 0.6e6 && knee.tpsAtKnee <= 0.95e6,
    `knee at ${knee.tpsAtKnee}`,
  );
});

test('one stalled point cannot make a knee: the monotone fit pools it, and the verdict is no knee', () => {
  // The readdirty series shape: a 10 ms stall at one low rate, the rest flat.
  const stalled = hockeyStick([1000, 1000, 1050, 1000, 1100, 1000], [1, 1, 1]).map((point, i) =>
    i === 1 ? { ...point, p99Ns: 9e6, trialP99Ns: [1000, 1100, 9e6] } : point,
  );
  const knee = latencyKnee(stalled);
  assert.equal(knee.tpsAtKnee, null);
  assert.equal(knee.verdict, 'no-knee', JSON.stringify(knee));
  assert.match(knee.note ?? '', /no knee within the rates measured/);
});

test('trials that disagree about the jump give "undetermined (noise)", not a knee', () => {
  const points = hockeyStick([1000, 1000, 1000, 1000, 1000]).map((point, i) =>
    i >= 2
      ? { ...point, trialP99Ns: [1000, 8000, 1000, 9000, 8500] }
      : { ...point, trialP99Ns: [1000, 1000, 1000, 1000, 1000] },
  );
  const knee = latencyKnee(points);
  assert.equal(knee.verdict, 'undetermined', JSON.stringify(knee));
  assert.match(knee.note ?? '', /undetermined \(noise\)/);
});

test('a knee whose p99 stays within twice the hiccup floor is machine-limited', () => {
  const knee = latencyKnee(hockeyStick([1000, 1000, 1000, 4000, 4200], undefined, 3000));
  assert.equal(knee.verdict, 'machine-limited');
  assert.equal(knee.hiccupP99Ns, 3000);
  const real = latencyKnee(hockeyStick([1000, 1000, 1000, 40_000, 42_000], undefined, 3000));
  assert.equal(real.verdict, 'knee');
});

test('without per-trial p99s (older files) the knee is only a point estimate: undetermined', () => {
  const knee = latencyKnee(
    hockeyStick([900, 920, 910, 950, 1000, 4000, 40_000]).map(({ trialP99Ns: _trials, ...point }) => point),
  );
  assert.equal(knee.tpsAtKnee, 5e5);
  assert.equal(knee.verdict, 'undetermined');
  assert.match(knee.note ?? '', /1 trial p99 at some rate, need 3/);
});

test('isotonic fit: pool-adjacent-violators gives the closest non-decreasing sequence', () => {
  assert.deepEqual(isotonicFit([1, 3, 2, 4]), [1, 2.5, 2.5, 4]);
  assert.deepEqual(isotonicFit([5, 1, 1, 1]), [2, 2, 2, 2]);
  assert.deepEqual(isotonicFit([3, 1], [3, 1]), [2.5, 2.5]);
  assert.deepEqual(isotonicFit([1, 2, 3]), [1, 2, 3]);
  assert.throws(() => isotonicFit([1, 2], [1]), /same length/);
});

test('analyzeResults reads open-loop cells as the harness writes them: rate and achievedOpsPerSec per thread', () => {
  const p99 = [900, 920, 910, 950, 1000, 5000, 50_000];
  const cells = p99.map((p99Ns, i) => {
    const cell = buildCell({
      map: 'sharded',
      workload: 'mixed',
      threads: 2,
      rate: (i + 1) * 1e5,
      achievedOpsPerSec: Math.min((i + 1) * 1e5, 4.5e5),
      p99Ns,
      samples: 10,
    });
    return {
      ...cell,
      trials: cell.trials.map((trial, t) => ({ ...trial, p99Ns: p99Ns * (0.98 + 0.02 * t), hiccupP99Ns: 100 })),
      hiccupNs: { ...cell.latencyNs, p99: 100, intervalMs: 1, awakeFraction: 0.001 },
    };
  });
  const [knee] = analyzeResults(buildResults(cells)).latencyKnees ?? [];
  assert.equal(knee.threads, 2);
  assert.equal(knee.verdict, 'knee');
  assert.equal(knee.ratePerThreadAtKnee, 5e5);
  assert.equal(knee.tpsAtKnee, 1e6);
  assert.equal(knee.achievedOpsPerSecAtKnee, 9e5);
  assert.ok(relative(knee.p99BeforeNs ?? 0, 1000) < 1e-9);
  assert.ok(relative(knee.p99AfterNs ?? 0, 5000) < 1e-9);
  assert.equal(knee.hiccupP99Ns, 100);
});

test('a flat p99 has no latency knee, and fewer than 3 rates is not enough points', () => {
  const flat = latencyKnee(hockeyStick([1000, 1100, 1050, 1200, 1000]));
  assert.equal(flat.verdict, 'no-knee');
  assert.match(flat.note ?? '', /p99 stays flat/);
  const few = latencyKnee(hockeyStick([1000, 9000]));
  assert.equal(few.tpsAtKnee, null);
  assert.match(few.note ?? '', /not enough points: 2 offered rates/);
});

// ---- crossovers ------------------------------------------------------------

function crossoverTable(
  rows: Record<string, number[]>,
  writes = [0, 10, 20, 30],
  family = 'writes',
  spread = [0.98, 1, 1.02],
) {
  // Each map's trials get the spread in another order, so paired trials do not cancel it.
  return Object.entries(rows).flatMap(([map, opsPerSec], m) =>
    opsPerSec.map((ops, i) => ({
      ...buildCell({ map, workload: `${family}-${writes[i]}`, threads: 4, opsPerSec: ops, samples: 10 }),
      trials: spread
        .map((_, t) => spread[(t + m + i) % spread.length])
        .map((factor) => ({ ops: ops * factor, elapsedNs: 1e9, opsPerSec: ops * factor })),
    })),
  );
}

test('crossover: the write fraction where the faster map changes, interpolated in log ratio, with a bootstrap interval', () => {
  const cells = crossoverTable({ readdirty: [100, 90, 70, 50], rwmutex: [60, 65, 72, 80], sharded: [20, 25, 30, 35] });
  const crossovers = analyzeResults(buildResults(cells)).crossovers ?? [];
  const versusRwmutex = crossovers.find((crossover) => crossover.map === 'readdirty' && crossover.versus === 'rwmutex');
  // ln(90/65) and ln(70/72) bracket the change between 10% and 20%
  const [lead10, lead20] = [Math.log(90 / 65), Math.log(70 / 72)];
  const expected = 0.1 + (0.1 * lead10) / (lead10 - lead20);
  assert.ok(
    versusRwmutex?.writeFraction != null && Math.abs(versusRwmutex.writeFraction - expected) < 1e-12,
    JSON.stringify(versusRwmutex),
  );
  assert.equal(versusRwmutex.family, 'writes');
  assert.equal(versusRwmutex.threads, 4);
  assert.equal(versusRwmutex.points, 4);
  assert.ok(versusRwmutex.ciLow !== null && versusRwmutex.ciHigh !== null);
  assert.ok(
    versusRwmutex.ciLow <= expected &&
      expected <= versusRwmutex.ciHigh &&
      versusRwmutex.ciLow >= 0.1 &&
      versusRwmutex.ciHigh <= 0.3,
    JSON.stringify(versusRwmutex),
  );
  const versusSharded = crossovers.find((crossover) => crossover.versus === 'sharded' || crossover.map === 'sharded');
  assert.equal(versusSharded?.writeFraction, null);
  assert.match(versusSharded?.reason ?? '', /stays ahead of sharded from 0% to 30% writes/);
});

test('crossover: noisier trials give a wider interval, reaching the lowest fraction when the order there is uncertain', () => {
  const tight = analyzeResults(
    buildResults(crossoverTable({ readdirty: [100, 90, 70, 50], rwmutex: [60, 65, 72, 80] })),
  ).crossovers![0];
  const noisy = analyzeResults(
    buildResults(
      crossoverTable({ readdirty: [100, 90, 70, 50], rwmutex: [60, 65, 72, 80] }, undefined, 'writes', [0.8, 1, 1.25]),
    ),
  ).crossovers![0];
  assert.ok(noisy.ciLow !== null && tight.ciLow !== null && tight.ciHigh !== null);
  assert.ok(
    (noisy.ciHigh ?? Infinity) - noisy.ciLow > tight.ciHigh - tight.ciLow,
    `${JSON.stringify(noisy)} vs ${JSON.stringify(tight)}`,
  );
  const undecided = analyzeResults(
    buildResults(crossoverTable({ a: [100, 100, 100, 99], b: [99, 99, 99, 100] }, undefined, 'churn', [0.9, 1, 1.1])),
  ).crossovers![0];
  assert.equal(undecided.family, 'churn');
  assert.ok(undecided.writeFraction !== null);
  // ±10% trials around a 1% gap: some resamples already start behind, so the interval reaches the lowest fraction.
  assert.equal(undecided.ciLow, 0);
  assert.ok((undecided.ciHigh ?? Infinity) - (undecided.ciLow ?? 0) > 0.2, JSON.stringify(undecided));
});

test('crossover: a map behind from the start is the one that leads the pair; any family name works', () => {
  const crossovers =
    analyzeResults(
      buildResults(crossoverTable({ readdirty: [10, 9, 8, 7], rwmutex: [6, 7, 9, 12] }, [0, 5, 10, 20], 'churn')),
    ).crossovers ?? [];
  assert.equal(crossovers.length, 1);
  assert.equal(crossovers[0].map, 'readdirty');
  assert.equal(crossovers[0].family, 'churn');
  assert.ok(
    crossovers[0].writeFraction !== null && crossovers[0].writeFraction > 0.05 && crossovers[0].writeFraction < 0.1,
  );
  const reversed =
    analyzeResults(buildResults(crossoverTable({ readdirty: [6, 7, 9, 12], rwmutex: [10, 9, 8, 7] }))).crossovers ?? [];
  assert.equal(reversed[0].map, 'rwmutex');
  assert.equal(reversed[0].versus, 'readdirty');
});

test("write fraction comes from the workload definition's mix when present, else from the name", () => {
  assert.deepEqual(familyMember('writes-25', undefined), { family: 'writes', writeFraction: 0.25 });
  assert.equal(familyMember('writes-25', { 'writes-25': { mix: { get: 0.7, set: 0.3 } } })?.writeFraction, 0.3);
  assert.equal(
    familyMember('churn-10', { 'churn-10': { mix: { get: 0.9, set: 0.05, delete: 0.05 } } })?.writeFraction,
    0.1,
  );
  assert.equal(familyMember('writes-0', { 'writes-0': { mix: { get: 1 } } })?.writeFraction, 0);
  assert.equal(familyMember('mixed', {}), null);
  assert.equal(familyMember('ycsb-a', {}), null);
  assert.equal(familyMember('writes-500', undefined), null);
  assert.deepEqual(familyMember('my-mix-30', undefined), { family: 'my-mix', writeFraction: 0.3 });
});

// ---- analyzeResults --------------------------------------------------------

test('analyzeResults groups closed-loop cells by map, workload and load factor, and skips failed and open-loop cells', () => {
  const cells = [
    ...[1, 2, 4, 8].map((threads) =>
      buildCell({ map: 'rwmutex', workload: 'mixed', threads, opsPerSec: usl(threads, 1e6, 0.1, 0.01), samples: 10 }),
    ),
    ...[1, 2, 4, 8].map((threads) =>
      buildCell({
        map: 'rwmutex',
        workload: 'mixed',
        threads,
        loadFactor: 0.5,
        opsPerSec: usl(threads, 1e6, 0.1, 0.01),
        samples: 10,
      }),
    ),
    buildCell({ map: 'sharded', workload: 'mixed', threads: 1, opsPerSec: 1e6, samples: 10 }),
    buildCell({ map: 'sharded', workload: 'mixed', threads: 2, error: 'worker crashed' }),
    buildCell({ map: 'sharded', workload: 'mixed', threads: 4, rate: 1000, opsPerSec: 4000, samples: 10 }),
  ];
  const analysis = analyzeResults(buildResults(cells));
  assert.deepEqual(
    analysis.knees.map((knee) => [knee.map, knee.loadFactor]),
    [
      ['rwmutex', 0.75],
      ['rwmutex', 0.5],
      ['sharded', 0.75],
    ],
  );
  const sharded = analysis.knees[2];
  assert.equal(sharded.kneeThreads, null);
  assert.equal(sharded.usl, null);
  assert.match(sharded.note ?? '', /not enough points: 1 thread count/);
  assert.equal(analysis.latencyKnees?.length, 1);
  assert.match(analysis.latencyKnees?.[0].note ?? '', /not enough points/);
  assert.deepEqual(analysis.crossovers, []);
});

test('analyzeResults on a whole synthetic sweep: every group analysed, crossovers found, JSON-serialisable', () => {
  const results = realisticResults({ samples: 50 });
  const analysis = analyzeResults(results);
  assert.equal(analysis.knees.length, 5 * 10 * 3);
  assert.ok(
    analysis.knees.filter((knee) => knee.map === 'rwmutex').every((knee) => knee.usl !== null && knee.usl.r2 > 0.95),
  );
  assert.equal(analysis.latencyKnees?.length, 4);
  assert.ok(
    analysis.latencyKnees?.every((knee) => knee.tpsAtKnee !== null),
    JSON.stringify(analysis.latencyKnees),
  );
  const crossing = analysis.crossovers?.find(
    (c) => c.threads === 8 && c.loadFactor === 0.75 && c.map === 'readdirty' && c.versus === 'rwmutex',
  );
  assert.ok(
    crossing?.writeFraction != null && crossing.writeFraction > 0.05 && crossing.writeFraction < 0.5,
    JSON.stringify(crossing),
  );
  assert.deepEqual(JSON.parse(JSON.stringify(analysis)), analysis);
});

test('analyzeResults rejects bad tuning with the option name and the allowed range', () => {
  const results = buildResults([]);
  assert.throws(() => analyzeResults(results, { sensitivity: -1 }), /sensitivity must be a number > 0/);
  assert.throws(() => analyzeResults(results, { flatTolerance: 2 }), /flatTolerance must be a fraction 0..1/);
  assert.throws(() => analyzeResults(results, { latencyFlatRatio: 0.5 }), /latencyFlatRatio must be a ratio ≥ 1/);
});

// ---- CSV -------------------------------------------------------------------

test('CSV points: the header is optional, blank lines and # comments are skipped', () => {
  const withHeader = parseScalingCsv('threads,opsPerSec\n1,100\n\n# warm\n2, 190\n4,330\n', 'p.csv');
  const without = parseScalingCsv('1,100\r\n2,190\r\n4,330', 'p.csv');
  assert.deepEqual(withHeader, [
    { threads: 1, opsPerSec: 100 },
    { threads: 2, opsPerSec: 190 },
    { threads: 4, opsPerSec: 330 },
  ]);
  assert.deepEqual(without, withHeader);
});

test('malformed CSV is a usage error naming the file and line', () => {
  const expectError = (text: string, pattern: RegExp) =>
    assert.throws(
      () => parseScalingCsv(text, 'p.csv'),
      (error: Error) => error instanceof UsageError && pattern.test(error.message),
    );
  expectError('threads,ops\n1,100\n2,abc\n', /^p\.csv:3: opsPerSec must be a number ≥ 0/);
  expectError('1,100\n2,100,7\n', /^p\.csv:2: expected 2 columns/);
  expectError('1,100\n0,100\n', /^p\.csv:2: threads must be a number ≥ 1/);
  expectError('1,100\nthreads,ops\n', /^p\.csv:2:/);
  expectError('# nothing\n', /no data lines/);
});
