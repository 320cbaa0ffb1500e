import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getWorkload,
  loadWorkloadFile,
  validateWorkload,
  withKeySpace,
  workloadFromFlags,
  WorkloadError,
  workloadPresetNames,
  workloadPresets,
  writeFraction,
  type Workload,
} from '../workloads/index.js';

const valid: Workload = {
  name: 'mine',
  description: 'a test workload',
  mix: { get: 0.9, set: 0.1 },
  distribution: { kind: 'uniform' },
  keys: 1000,
  prefill: 0.5,
};

function rejects(run: () => unknown, message: string | RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof WorkloadError, `expected a WorkloadError, got ${String(error)}`);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

function withFields(fields: Record<string, unknown>): Workload {
  return { ...valid, ...fields } as Workload;
}

test('a fraction outside 0..1 names the workload, the op and the value', () => {
  rejects(
    () => validateWorkload(withFields({ mix: { get: -0.2, set: 1.2 } })),
    "workload 'mine': mix.get must be a fraction 0..1, got -0.2",
  );
  rejects(
    () => validateWorkload(withFields({ mix: { set: 1.2 } })),
    "workload 'mine': mix.set must be a fraction 0..1, got 1.2",
  );
});

test('fractions that do not sum to 1 give the sum and the tolerance', () => {
  rejects(
    () => validateWorkload(withFields({ mix: { get: 0.9, set: 0.05 } })),
    "workload 'mine': mix fractions sum to 0.95; they must sum to 1 (±1e-9)",
  );
});

test('fractions summing to 1 within 1e-9 are accepted', () => {
  assert.doesNotThrow(() => validateWorkload(withFields({ mix: { get: 0.7 + 1e-10, set: 0.3 } })));
});

test('an unknown op lists the allowed ops', () => {
  rejects(
    () => validateWorkload(withFields({ mix: { get: 0.5, scan: 0.5 } })),
    "workload 'mine': mix has unknown op 'scan'; allowed: get, set, delete, getOrSet, add, forEach, compareAndSet",
  );
});

test('the error names the field it is about', () => {
  assert.throws(
    () => validateWorkload(withFields({ prefill: 2 })),
    (error: WorkloadError) => error.field === 'prefill',
  );
});

test('distribution kind, parameters and their ranges are checked', () => {
  rejects(
    () => validateWorkload(withFields({ distribution: { kind: 'gaussian' } })),
    'workload \'mine\': distribution.kind must be one of uniform, zipfian, hotspot, latest, sequential-insert, got "gaussian"',
  );
  rejects(
    () => validateWorkload(withFields({ distribution: { kind: 'zipfian', theta: 1.5 } })),
    "workload 'mine': distribution.theta must be a skew in (0, 1) exclusive (YCSB uses 0.99), got 1.5",
  );
  rejects(
    () => validateWorkload(withFields({ distribution: { kind: 'hotspot', hotOpFraction: 1.1 } })),
    "workload 'mine': distribution.hotOpFraction must be a fraction 0..1 of the ops, got 1.1",
  );
  rejects(
    () => validateWorkload(withFields({ distribution: { kind: 'uniform', theta: 0.9 } })),
    "workload 'mine': distribution.theta does not apply to 'uniform'; it takes no parameters",
  );
  rejects(
    () => validateWorkload(withFields({ distribution: 'zipfian' })),
    /workload 'mine': distribution must be an object/,
  );
});

test('keys must be an integer 1..2^31 and prefill a fraction 0..1', () => {
  for (const keys of [0, 1.5, 2 ** 31 + 1, '100']) {
    rejects(() => validateWorkload(withFields({ keys })), /^workload 'mine': keys must be an integer 1\.\.2147483648/);
  }
  assert.doesNotThrow(() => validateWorkload(withFields({ keys: 2 ** 31 })));
  rejects(
    () => validateWorkload(withFields({ prefill: 1.5 })),
    "workload 'mine': prefill must be a fraction 0..1 of the key space, got 1.5",
  );
});

test('pattern kinds and their parameters are checked', () => {
  rejects(
    () => validateWorkload(withFields({ pattern: { kind: 'zigzag' } })),
    /workload 'mine': pattern.kind must be one of cyclic, load-or-store-balanced, adversarial-alloc, adversarial-delete, churn, got "zigzag"/,
  );
  rejects(
    () => validateWorkload(withFields({ pattern: { kind: 'adversarial-delete', every: 0 } })),
    /workload 'mine': pattern.every must be an integer 1\.\./,
  );
  rejects(
    () => validateWorkload(withFields({ pattern: { kind: 'cyclic', every: 4 } })),
    "workload 'mine': pattern.every does not apply to 'cyclic'; it takes no parameters",
  );
});

test('every preset validates, and names are unique', () => {
  for (const preset of workloadPresets) assert.doesNotThrow(() => validateWorkload(preset), preset.name);
  assert.equal(new Set(workloadPresetNames).size, workloadPresetNames.length);
});

test('the preset families are all registered under their exact names', () => {
  const expected = [
    'read-heavy',
    'write-heavy',
    'mixed',
    'ycsb-a',
    'ycsb-b',
    'ycsb-c',
    'ycsb-d',
    'ycsb-f',
    'go-load-mostly-hits',
    'go-load-mostly-misses',
    'go-load-or-store-balanced',
    'go-load-or-store-unique',
    'go-load-or-store-collision',
    'go-adversarial-alloc',
    'go-adversarial-delete',
    'go-delete-collision',
    'go-range',
    'writes-0',
    'writes-1',
    'writes-5',
    'writes-10',
    'writes-15',
    'writes-25',
    'writes-50',
    'churn-0',
    'churn-1',
    'churn-2',
    'churn-5',
    'churn-10',
    'churn-15',
    'churn-25',
    'churn-50',
  ];
  assert.deepEqual([...workloadPresetNames], expected);
});

test('headline presets have the documented mixes over 65 536 uniform keys', () => {
  assert.deepEqual(getWorkload('read-heavy').mix, { get: 0.9, set: 0.09, delete: 0.01 });
  assert.deepEqual(getWorkload('write-heavy').mix, { get: 0.1, set: 0.8, delete: 0.1 });
  assert.deepEqual(getWorkload('mixed').mix, { get: 0.5, set: 0.45, delete: 0.05 });
  for (const name of ['read-heavy', 'write-heavy', 'mixed']) {
    const preset = getWorkload(name);
    assert.equal(preset.keys, 65_536);
    assert.equal(preset.distribution.kind, 'uniform');
  }
});

test('presets are frozen so no caller can change them for everyone', () => {
  const preset = getWorkload('read-heavy');
  assert.ok(Object.isFrozen(preset) && Object.isFrozen(preset.mix) && Object.isFrozen(preset.distribution));
});

test('getWorkload rejects an unknown name and lists the allowed names', () => {
  rejects(() => getWorkload('nope'), /^unknown workload 'nope'; allowed: read-heavy, write-heavy, mixed, ycsb-a/);
});

test('getWorkload explains why YCSB E is omitted', () => {
  rejects(
    () => getWorkload('ycsb-e'),
    /^workload 'ycsb-e': YCSB E \(95% range scan\) is omitted: .*go-range.*; allowed: /,
  );
});

test('writeFraction is 1 − get for the writes-N family and ignores forEach', () => {
  for (const percent of [0, 1, 5, 10, 15, 25, 50])
    assert.equal(writeFraction(getWorkload(`writes-${percent}`)), percent / 100);
  assert.equal(writeFraction(getWorkload('read-heavy')), 0.1);
  assert.equal(writeFraction(getWorkload('go-range')), 0);
});

test('workloadFromFlags parses a mix list, a distribution with parameters, keys and prefill', () => {
  const workload = workloadFromFlags({
    name: 'flags',
    mix: 'get=0.9, set=0.1',
    distribution: 'hotspot:hotKeyFraction=0.1,hotOpFraction=0.9',
    keys: '4096',
    prefill: '1',
  });
  assert.deepEqual(workload.mix, { get: 0.9, set: 0.1 });
  assert.deepEqual(workload.distribution, { kind: 'hotspot', hotKeyFraction: 0.1, hotOpFraction: 0.9 });
  assert.equal(workload.keys, 4096);
  assert.equal(workload.prefill, 1);
});

test('workloadFromFlags fills defaults: name custom, uniform, 65 536 keys, prefill 0.75', () => {
  const workload = workloadFromFlags({ mix: 'get=1' });
  assert.equal(workload.name, 'custom');
  assert.deepEqual(workload.distribution, { kind: 'uniform' });
  assert.equal(workload.keys, 65_536);
  assert.equal(workload.prefill, 0.75);
});

test('workloadFromFlags reports bad flags with the workload and field', () => {
  rejects(
    () => workloadFromFlags({ mix: 'get=0.9,sett=0.1' }),
    /^workload 'custom': mix has unknown op 'sett'; allowed: get, set/,
  );
  rejects(
    () => workloadFromFlags({ mix: 'get:0.9' }),
    'workload \'custom\': mix item "get:0.9" must be op=fraction, e.g. get=0.9',
  );
  rejects(() => workloadFromFlags({ mix: 'get=0.5,get=0.5' }), "workload 'custom': mix names 'get' twice");
  rejects(
    () => workloadFromFlags({ mix: 'get=0.9,set=0.2' }),
    "workload 'custom': mix fractions sum to 1.1; they must sum to 1 (±1e-9)",
  );
  rejects(
    () => workloadFromFlags({ mix: 'get=1', distribution: 'zipf' }),
    /^workload 'custom': distribution.kind must be one of/,
  );
  rejects(
    () => workloadFromFlags({ mix: 'get=1', keys: 'many' }),
    /^workload 'custom': keys must be an integer 1\.\.2147483648 .*got "many"/,
  );
});

function writeJson(content: unknown): string {
  const directory = mkdtempSync(join(tmpdir(), 'maplab-workloads-'));
  const path = join(directory, 'workloads.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

test('loadWorkloadFile reads one workload or an array, with string mixes and distributions', () => {
  const single = writeJson({
    name: 'one',
    mix: { get: 1 },
    distribution: { kind: 'zipfian', theta: 0.8 },
    keys: 100,
    prefill: 1,
  });
  assert.deepEqual(
    loadWorkloadFile(single).map((workload) => workload.name),
    ['one'],
  );
  const list = writeJson([
    { name: 'a', mix: 'get=0.5,set=0.5', distribution: 'zipfian:theta=0.9', keys: 100, prefill: 1 },
    { name: 'b', mix: { set: 1 } },
  ]);
  const [a, b] = loadWorkloadFile(list);
  assert.deepEqual(a.mix, { get: 0.5, set: 0.5 });
  assert.deepEqual(a.distribution, { kind: 'zipfian', theta: 0.9 });
  assert.equal(b.keys, 65_536);
});

test('loadWorkloadFile errors name the file, the entry and the field', () => {
  const path = writeJson([
    { name: 'fine', mix: { get: 1 }, keys: 10, prefill: 0 },
    { name: 'broken', mix: { get: 0.5, set: 0.6 }, keys: 10, prefill: 0 },
  ]);
  rejects(
    () => loadWorkloadFile(path),
    `${path}: [1]: workload 'broken': mix fractions sum to 1.1; they must sum to 1 (±1e-9)`,
  );
  const unknownField = writeJson({ name: 'x', mix: { get: 1 }, key: 10 });
  rejects(
    () => loadWorkloadFile(unknownField),
    `${unknownField}: workload 'x': unknown field 'key'; allowed: name, description, mix, distribution, keys, prefill, pattern, fixedKeySpace`,
  );
  const noName = writeJson([{ mix: { get: 1 } }]);
  rejects(() => loadWorkloadFile(noName), `${noName}: [0]: workload: name must be a non-empty string, got undefined`);
});

test('loadWorkloadFile rejects unreadable files, bad JSON, duplicates and preset names', () => {
  rejects(
    () => loadWorkloadFile('/nonexistent/workloads.json'),
    /^workload file '\/nonexistent\/workloads.json' cannot be read: ENOENT/,
  );
  const badJson = writeJson('{ "name": ');
  rejects(() => loadWorkloadFile(badJson), new RegExp(`^${badJson}: not valid JSON: `));
  const duplicate = writeJson([
    { name: 'twice', mix: { get: 1 } },
    { name: 'twice', mix: { get: 1 } },
  ]);
  rejects(
    () => loadWorkloadFile(duplicate),
    `${duplicate}: [1]: workload 'twice': name 'twice' appears twice in the file`,
  );
  const shadow = writeJson({ name: 'read-heavy', mix: { get: 1 } });
  rejects(
    () => loadWorkloadFile(shadow),
    `${shadow}: workload 'read-heavy': name 'read-heavy' is a preset's; choose another`,
  );
  const empty = writeJson([]);
  rejects(() => loadWorkloadFile(empty), `${empty}: the array holds no workloads`);
});

test('withKeySpace resizes a workload and leaves the preset untouched', () => {
  const preset = getWorkload('read-heavy');
  const resized = withKeySpace(preset, 1 << 20);
  assert.equal(resized.keys, 1 << 20);
  assert.deepEqual(resized.mix, preset.mix);
  assert.equal(resized.prefill, preset.prefill);
  assert.equal(preset.keys, 65_536);
});

test('withKeySpace leaves workloads whose key space defines the scenario unchanged', () => {
  for (const name of [
    'go-load-or-store-collision',
    'go-delete-collision',
    'go-load-or-store-unique',
    'go-adversarial-alloc',
  ]) {
    const preset = getWorkload(name);
    assert.equal(withKeySpace(preset, 65_536), preset, name);
  }
});

test('withKeySpace rejects a key space outside 1..2^31', () => {
  rejects(
    () => withKeySpace(getWorkload('mixed'), 0),
    "workload 'mixed': keys must be an integer 1..2147483648, got 0",
  );
});
