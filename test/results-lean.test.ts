/**
 * Lean results files (schema 3): histograms stored as varints of their bucket
 * counts, exactly; schema-1 files (the committed baselines) and schema-2 files
 * still read into the same Results, and the gate says the same of a baseline
 * whether it reads the file as written (schema 1) or rewritten (schema 3).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BUCKET_COUNT,
  bucketRange,
  decodeHistogram,
  encodeHistogram,
  LatencyHistogram,
  RELATIVE_ERROR,
  type HistogramData,
} from '../harness/trial/histogram.js';
import {
  isMeasuredCell,
  parseResults,
  readResultsFile,
  RESULTS_SCHEMA,
  serializeResults,
  ResultsFormatError,
  writeResultsFile,
} from '../harness/results/results.js';
import { buildCell, buildResults, histogramOf } from './fixtures/results-builder.js';
import { measured } from './fixtures/measured.js';
import { quickLikeResults } from './fixtures/quick-results.js';
import { seededRandom } from './fixtures/seeded-random.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'scripts', 'cli.js');
const BASELINE_DIR = join(ROOT, 'results', 'baseline');
const baselines = readdirSync(BASELINE_DIR).flatMap((kind) =>
  readdirSync(join(BASELINE_DIR, kind)).map((name) => join(BASELINE_DIR, kind, name)),
);
const directory = mkdtempSync(join(tmpdir(), 'maplab-lean-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const CI_FILE_LIMIT_BYTES = 150 * 1024;
/** Issue 17: what `npm run bench` writes must be at most 0.5 MB. */
const QUICK_FILE_LIMIT_BYTES = 500_000;
const SCHEMA_2_EXCERPT = join(ROOT, 'test', 'fixtures', 'results-schema-2.json');

/** A histogram of the one layout holding `counts` at the given bucket indexes. */
function layoutHistogram(counts: ReadonlyArray<readonly [index: number, count: number]>): HistogramData {
  const buckets = counts.map(([index, count]): [number, number, number] => {
    const { lowNs, widthNs } = bucketRange(index);
    return [lowNs, lowNs + widthNs, count];
  });
  return { unit: 'ns', relativeError: RELATIVE_ERROR, buckets };
}

const roundTrip = (data: HistogramData) => decodeHistogram(JSON.parse(JSON.stringify(encodeHistogram(data))), 'h');

test('a recorded histogram survives encode → decode exactly, from 0 ns to past 2^31 ns', () => {
  const random = seededRandom(3);
  const histogram = new LatencyHistogram();
  for (let i = 0; i < 20_000; i++) histogram.record(Math.floor(40 * Math.exp(6 * random())));
  histogram.record(0);
  histogram.record(3e9);
  const data = histogram.toData();
  const stored = encodeHistogram(data);
  assert.equal(typeof stored.counts64, 'string', 'the maplab layout is stored as varints');
  assert.equal(stored.buckets, undefined);
  assert.deepEqual(decodeHistogram(JSON.parse(JSON.stringify(stored)), 'h'), data);
  assert.ok(
    JSON.stringify(stored).length * 6 < JSON.stringify(data).length,
    'varints are many times smaller than bucket triples',
  );
});

test('counts64 reads as documented: zigzag varints of 5 bits in base64url, empty runs odd, counts even', () => {
  const stored = { unit: 'ns', layout: 'maplab-log-linear-128', counts64: 'BCBoB' } as const;
  assert.deepEqual(
    decodeHistogram(stored, 'h'),
    layoutHistogram([
      [1, 1],
      [3, 20],
    ]),
  );
  assert.equal(encodeHistogram(layoutHistogram([[0, 1]])).counts64, 'C');
});

test('counts64 round-trips exactly at the edges: empty, one bucket, the first and last index, counts to 2^52 − 1', () => {
  const last = BUCKET_COUNT - 1;
  const cases: Array<Array<[number, number]>> = [
    [],
    [[0, 1]],
    [[last, 1]],
    [
      [0, 7],
      [last, 3],
    ],
    [
      [1, 2 ** 40],
      [2, 2 ** 52 - 1],
      [900, 1],
    ],
    Array.from({ length: BUCKET_COUNT }, (_, index): [number, number] => [index, index + 1]),
  ];
  for (const counts of cases) {
    const data = layoutHistogram(counts);
    assert.equal(typeof encodeHistogram(data).counts64, 'string', JSON.stringify(counts.slice(0, 3)));
    assert.deepEqual(roundTrip(data), data);
  }
  const recorded = new LatencyHistogram();
  assert.deepEqual(encodeHistogram(recorded.toData()).counts64, '', 'an empty histogram is an empty string');
  assert.deepEqual(roundTrip(recorded.toData()), recorded.toData());
  recorded.record(2 ** 50); // past the layout's range: the last bucket
  assert.deepEqual(roundTrip(recorded.toData()), recorded.toData());
});

test('a count past 2^52 − 1 (2c would not be exact in a double) is stored as buckets, unchanged', () => {
  const data = layoutHistogram([[5, 2 ** 52]]);
  const stored = encodeHistogram(data);
  assert.equal(stored.counts64, undefined);
  assert.deepEqual(roundTrip(data), data);
});

test('any set of bucket counts of the layout survives encode → decode exactly', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: BUCKET_COUNT - 1 }), { maxLength: 200 }),
      fc.array(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 2 ** 52 - 1 })), {
        minLength: 200,
        maxLength: 200,
      }),
      (indexes, counts) => {
        const data = layoutHistogram(indexes.sort((a, b) => a - b).map((index, i) => [index, counts[i]]));
        assert.deepEqual(roundTrip(data), data);
      },
    ),
    { numRuns: 300 },
  );
});

test('malformed counts64 is rejected naming the field and what is wrong', () => {
  const results = JSON.parse(
    serializeResults(buildResults([buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 1 })])),
  );
  const rejects = (counts64: unknown, message: RegExp) => {
    results.cells[0].latencyNs.histogram = { unit: 'ns', layout: 'maplab-log-linear-128', counts64 };
    assert.throws(
      () => parseResults(results, 'file.json'),
      (error: Error) => error instanceof ResultsFormatError && message.test(error.message),
      `${JSON.stringify(counts64)} → ${message}`,
    );
  };
  const field = 'file\\.json: cells\\[0\\]\\.latencyNs\\.histogram\\.counts64';
  rejects('CC+C', new RegExp(`${field}: character 3 "\\+" is not base64url`));
  rejects('CCg', new RegExp(`${field}: ends inside a number`));
  rejects('CA', new RegExp(`${field}: character 2 gives bucket 1 a count of 0`));
  rejects(`${'_'.repeat(11)}B`, new RegExp(`${field}: the number ending at character 11 is past 2\\^53`));
  rejects('/wEC', new RegExp(`${field}: character 1 "/" is not base64url`));
  rejects(
    '_vJC',
    new RegExp(`${field}: bucket index ${BUCKET_COUNT} is past the layout's last \\(${BUCKET_COUNT - 1}\\)`),
  );
  rejects(42, /cells\[0\]\.latencyNs\.histogram\.counts64 must be a string of base64url varints/);
});

test('a histogram of another layout (synthetic fixtures) is stored as its buckets, unchanged', () => {
  const data = histogramOf([10, 11, 500, 9000]);
  const stored = encodeHistogram(data);
  assert.equal(stored.counts, undefined);
  assert.deepEqual(decodeHistogram(JSON.parse(JSON.stringify(stored)), 'h'), data);
});

test('malformed bucket runs (schema 2) are rejected naming the field', () => {
  const results = JSON.parse(
    serializeResults(buildResults([buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 1 })])),
  );
  results.cells[0].latencyNs.histogram = { unit: 'ns', layout: 'maplab-log-linear-128', counts: '54:1 7:2' };
  assert.throws(
    () => parseResults(results, 'file.json'),
    (error: Error) =>
      error instanceof ResultsFormatError &&
      /file\.json: cells\[0\]\.latencyNs\.histogram\.counts: run 2 "7:2" must be \+gap/.test(error.message),
  );
  results.cells[0].latencyNs.histogram = { unit: 'ns', layout: 'other', counts: '54:1' };
  assert.throws(
    () => parseResults(results, 'file.json'),
    /cells\[0\]\.latencyNs\.histogram\.layout must be "maplab-log-linear-128"/,
  );
});

test('a schema this code does not know is refused, naming the ones it reads', () => {
  const results = JSON.parse(serializeResults(buildResults([])));
  results.schema = 'maplab.results/9';
  assert.throws(
    () => parseResults(results, 'f'),
    /schema must be one of "maplab\.results\/1", "maplab\.results\/2", "maplab\.results\/3" \(got "maplab\.results\/9"\)/,
  );
});

test('a schema-2 file (an excerpt of a quick sweep) reads, and rewritten as schema 3 reads back the same', () => {
  const original = readResultsFile(SCHEMA_2_EXCERPT);
  assert.equal(original.schema, 'maplab.results/2');
  const stored = JSON.parse(readFileSync(SCHEMA_2_EXCERPT, 'utf8')) as {
    cells: Array<{ latencyNs?: { histogram: { counts?: string } } }>;
  };
  assert.match(
    stored.cells[0].latencyNs?.histogram.counts ?? '',
    /^\d+:\d+,\d+/,
    'decimal runs as schema 2 wrote them',
  );
  const cells = original.cells.filter(isMeasuredCell);
  assert.equal(cells.length, 2);
  for (const cell of cells) {
    for (const summary of [cell.latencyNs, cell.hiccupNs]) {
      assert.ok(summary && summary.histogram.buckets.length > 100);
      const total = summary.histogram.buckets.reduce((sum, [, , count]) => sum + count, 0);
      assert.equal(total, summary.samples, `${cell.map}: every sample in a bucket`);
      assert.equal(LatencyHistogram.fromData(summary.histogram).valueAtQuantile(0.5), summary.p50);
    }
  }
  const path = join(directory, 'from-schema-2.json');
  writeResultsFile(path, original);
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).schema, RESULTS_SCHEMA);
  assert.deepEqual(readResultsFile(path), { ...original, schema: RESULTS_SCHEMA });
});

test('every committed baseline loads (schema 1 or 3), and stored as schema 3 it is ≤ 150 KB and reads back the same', () => {
  assert.ok(baselines.length >= 3, `${baselines.length} baselines found`);
  const schemas = new Set<string>();
  for (const path of baselines) {
    const original = readResultsFile(path);
    schemas.add(original.schema);
    const text = serializeResults(original);
    assert.ok(
      text.length <= CI_FILE_LIMIT_BYTES,
      `${path}: ${text.length} bytes re-encoded (from ${readFileSync(path).length})`,
    );
    const reread = parseResults(JSON.parse(text), 'reencoded');
    assert.equal(reread.schema, RESULTS_SCHEMA);
    const latencyHistogramOf = (cell: (typeof reread.cells)[number]) =>
      isMeasuredCell(cell) ? cell.latencyNs?.histogram : undefined;
    assert.deepEqual(reread.cells.map(latencyHistogramOf), original.cells.map(latencyHistogramOf), path);
    reread.cells.forEach((cell, index) => {
      const before = original.cells[index];
      assert.deepEqual(
        [cell.map, cell.workload, cell.threads, cell.loadFactor, cell.error],
        [before.map, before.workload, before.threads, before.loadFactor, before.error],
      );
      if (cell.error !== undefined || before.error !== undefined) return;
      assert.deepEqual(cell.opsPerSec, before.opsPerSec);
      assert.deepEqual(
        cell.trials.map((trial) => [trial.ops, trial.elapsedNs, trial.opsPerSec, trial.quietOpsPerSec]),
        before.trials.map((trial) => [trial.ops, trial.elapsedNs, trial.opsPerSec, trial.quietOpsPerSec]),
      );
      assert.deepEqual(cell.counters, before.counters);
      const { histogram: _histogram, ...percentiles } = before.latencyNs;
      assert.deepEqual({ ...cell.latencyNs, histogram: undefined }, { ...percentiles, histogram: undefined });
    });
    assert.deepEqual(reread.analysis, original.analysis);
    assert.deepEqual(reread.config, original.config);
  }
  // One kind's baseline is still schema 1 (intel), the re-recorded one schema 3: both readers stay exercised.
  assert.ok(schemas.has('maplab.results/1'), [...schemas].join(', '));
  assert.ok(schemas.has(RESULTS_SCHEMA), [...schemas].join(', '));
});

test('the gate gives the same report against a schema-1 baseline whether the current run is read as schema 1 or 3', () => {
  const [baseline, current] = baselines.filter((path) => path.includes('amd-epyc'));
  const reencoded = join(directory, 'current-v3.json');
  writeResultsFile(reencoded, readResultsFile(current));
  assert.equal(JSON.parse(readFileSync(reencoded, 'utf8')).schema, RESULTS_SCHEMA);
  const gate = (path: string) => {
    const result = spawnSync(
      process.execPath,
      [CLI, 'gate', '--baseline', baseline, '--current', path, '--format', 'json'],
      { encoding: 'utf8' },
    );
    assert.ok(result.status === 0 || result.status === 1, result.stderr);
    return JSON.parse(result.stdout.split(JSON.stringify(path).slice(1, -1)).join('CURRENT')) as Record<
      string,
      unknown
    >;
  };
  const fromV1 = gate(current);
  assert.ok(
    Array.isArray((fromV1.comparison as { cells: unknown[] }).cells) &&
      (fromV1.comparison as { cells: unknown[] }).cells.length > 0,
  );
  assert.deepEqual(gate(reencoded), fromV1);
});

test('trials are stored as one column per field, null where a trial lacks it, and read back as the same trials', () => {
  const cell = buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2 });
  cell.trials = [
    { ops: 2_000_000, elapsedNs: 150_000_000, opsPerSec: 13_333_333.3, round: 0, quietOpsPerSec: 14_000_001.5 },
    { ops: 1_900_000, elapsedNs: 149_000_000, opsPerSec: 12_751_677.9, round: 1, remeasured: true },
    { ops: 2_100_000, elapsedNs: 151_000_000, opsPerSec: 13_907_284.8, round: 2, quietOpsPerSec: 14_500_000 },
  ];
  const text = serializeResults(buildResults([cell]));
  const stored = JSON.parse(text) as { cells: Array<{ trials: unknown }> };
  assert.deepEqual(stored.cells[0].trials, {
    ops: [2_000_000, 1_900_000, 2_100_000],
    elapsedNs: [150_000_000, 149_000_000, 151_000_000],
    opsPerSec: [13_333_333.3, 12_751_677.9, 13_907_284.8],
    round: [0, 1, 2],
    quietOpsPerSec: [14_000_001.5, null, 14_500_000],
    remeasured: [null, true, null],
  });
  assert.match(text, /\n {3}"trials": \{"ops":\[2000000,1900000,2100000\],"elapsedNs":/, 'on one line');
  assert.deepEqual(measured(parseResults(JSON.parse(text), 'f').cells[0]).trials, cell.trials);
});

test("a trial's own counters (schema 1) are not stored: the cell's counters are their median", () => {
  const cell = buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2 });
  const withCounters = cell.trials.map((trial) => ({ ...trial, counters: { entries: 5 } }));
  const stored = JSON.parse(serializeResults(buildResults([{ ...cell, trials: withCounters }]))) as {
    cells: Array<{ trials: Record<string, unknown> }>;
  };
  assert.deepEqual(Object.keys(stored.cells[0].trials), ['ops', 'elapsedNs', 'opsPerSec']);
});

test('malformed trial columns are rejected naming the column, or the trial and field', () => {
  const rejects = (trials: unknown, message: RegExp) => {
    const results = JSON.parse(
      serializeResults(buildResults([buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 1 })])),
    );
    results.cells[0].trials = trials;
    assert.throws(
      () => parseResults(results, 'file.json'),
      (error: Error) => error instanceof ResultsFormatError && message.test(error.message),
      `${JSON.stringify(trials)} → ${message}`,
    );
  };
  const ops = [1, 2, 3];
  const elapsedNs = [10, 20, 30];
  const opsPerSec = [1e8, 1e8, 1e8];
  rejects(
    { ops, elapsedNs: [10, 20], opsPerSec },
    /file\.json: cells\[0\]\.trials\.elapsedNs must be an array of 3 values, one per trial \(as many as ops\)/,
  );
  rejects({ elapsedNs, opsPerSec }, /cells\[0\]\.trials\.ops must be an array \(one value per trial\)/);
  rejects(
    { ops, elapsedNs, opsPerSec: [1e8, 'fast', 1e8] },
    /cells\[0\]\.trials\.opsPerSec\[1\] must be a finite number/,
  );
  rejects(
    { ops, elapsedNs, opsPerSec: [1e8, null, 1e8] },
    /cells\[0\]\.trials\.opsPerSec\[1\] must be a finite number/,
  );
  rejects({ ops: [], elapsedNs: [], opsPerSec: [] }, /cells\[0\]\.trials must be columns of at least one trial/);
  rejects([{ ops: 1, elapsedNs: 10 }], /cells\[0\]\.trials\[0\]\.opsPerSec must be a finite number/);
  rejects('6 trials', /cells\[0\]\.trials must be a non-empty array, or an object of columns/);
});

test('a quick-like results file (105 cells, 6 trials a cell, hiccup meter on) is at most 0.5 MB and reads back exactly', () => {
  const results = quickLikeResults();
  const cells = results.cells.filter(isMeasuredCell);
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  assert.deepEqual([results.cells.length, cells.length, cells[0].trials.length], [105, 95, 6]);
  assert.ok(
    median(cells.map((cell) => cell.latencyNs.histogram.buckets.length)) > 350,
    'latency histograms as wide as real ones',
  );
  assert.ok(median(cells.map((cell) => cell.hiccupNs?.histogram.buckets.length ?? 0)) > 140, 'hiccup histograms too');
  const text = serializeResults(results);
  const bytes = Buffer.byteLength(text);
  assert.ok(bytes <= QUICK_FILE_LIMIT_BYTES, `${bytes} bytes, limit ${QUICK_FILE_LIMIT_BYTES}`);
  assert.deepEqual(parseResults(JSON.parse(text), 'quick'), results);
});

test('a document in the in-memory form (trial objects, bucket triples) reads whatever its schema says', () => {
  // reports/site.ts copies the results it rendered with JSON.stringify: each stored form is read where it is found.
  const random = seededRandom(9);
  const latency = new LatencyHistogram();
  for (let i = 0; i < 1_000; i++) latency.record(Math.floor(100 * Math.exp(3 * random())));
  const results = buildResults([
    { ...buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2 }), latencyNs: latency.summary() },
  ]);
  assert.equal(results.schema, RESULTS_SCHEMA);
  assert.deepEqual(parseResults(JSON.parse(JSON.stringify(results)), 'f'), results);
});

test('a results file written now is schema 3, one line per cell field, and reads back as written', () => {
  const results = buildResults([
    buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2 }),
    buildCell({ map: 'plain', workload: 'mixed', threads: 2, error: 'concurrent map writes' }),
  ]);
  const path = join(directory, 'written.json');
  writeResultsFile(path, results);
  const text = readFileSync(path, 'utf8');
  assert.match(text, /^\{\n "schema": "maplab\.results\/3",\n/);
  assert.match(text, /\n {3}"latencyNs": \{"p50":/, 'a cell field and its value on one line');
  assert.deepEqual(readResultsFile(path), { ...results, schema: RESULTS_SCHEMA });
  writeFileSync(path, text);
});

test('the one-line-below-level-3 writer means what JSON.stringify means, for any JSON value anywhere in the document', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (configValue, extraValue) => {
      const results = { ...buildResults([]), config: { value: configValue }, extra: extraValue };
      const expected = JSON.parse(JSON.stringify({ ...results, schema: RESULTS_SCHEMA })) as unknown;
      assert.deepEqual(JSON.parse(serializeResults(results)), expected);
    }),
    { numRuns: 300 },
  );
});

test("the hiccup meter's and the worker stalls' histograms are stored as varints too, and read back exactly", () => {
  const random = seededRandom(5);
  const hiccups = new LatencyHistogram();
  for (let i = 0; i < 5_000; i++) hiccups.record(Math.floor(60_000 * Math.exp(2 * random())));
  const summary = { ...hiccups.summary(), intervalMs: 1, awakeFraction: 0.002 };
  const cell = {
    ...buildCell({ map: 'rwmutex', workload: 'read-heavy', threads: 2 }),
    hiccupNs: summary,
    workerStallNs: hiccups.summary(),
  };
  const results = buildResults([cell]);
  const path = join(directory, 'hiccups.json');
  writeResultsFile(path, results);
  const stored = JSON.parse(readFileSync(path, 'utf8')) as {
    cells: Array<{ hiccupNs: { histogram: { counts64?: unknown } } }>;
  };
  assert.equal(typeof stored.cells[0].hiccupNs.histogram.counts64, 'string', 'stored as varints');
  assert.deepEqual(measured(readResultsFile(path).cells[0]).hiccupNs, summary);
  assert.deepEqual(measured(readResultsFile(path).cells[0]).workerStallNs, hiccups.summary());
});
