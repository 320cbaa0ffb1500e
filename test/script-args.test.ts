import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineOption, parsers, UsageError } from '../harness/run/options.js';
import { parseScriptArgs } from '../scripts/cli-kit.js';

const script = {
  name: 'probe',
  description: 'a script under test',
  options: [
    defineOption({
      name: 'rounds',
      flag: '--rounds <n>',
      description: 'rounds, integer 1..10',
      defaultValue: 3,
      parse: parsers.integer(1, 10),
    }),
    defineOption({ name: 'out', flag: '--out <file>', description: 'output file', parse: parsers.string() }),
    defineOption({
      name: 'append',
      flag: '--append',
      description: 'append',
      defaultValue: false,
      parse: parsers.boolean(),
    }),
  ],
  operands: [
    defineOption({
      name: 'map',
      flag: '[map]',
      description: 'a map',
      defaultValue: 'plain',
      parse: parsers.oneOf(['plain', 'js-map']),
    }),
    defineOption({ name: 'rest', flag: '[rest...]', description: 'passed on', parse: parsers.list(parsers.string()) }),
  ],
} as const;

test('a script reads its flags and operands from the same specs as a command: typed, with defaults', () => {
  assert.deepEqual(parseScriptArgs(script, []), { rounds: 3, append: false, map: 'plain' });
  assert.deepEqual(parseScriptArgs(script, ['js-map', '--rounds', '7', '--append', '--', '--threads', '1,2']), {
    rounds: 7,
    append: true,
    map: 'js-map',
    rest: ['--threads', '1,2'],
  });
});

test('a script names the flag or operand and the allowed values in a UsageError', () => {
  const usage = (argv: string[], message: RegExp) =>
    assert.throws(
      () => parseScriptArgs(script, argv),
      (error: unknown) => error instanceof UsageError && message.test(error.message),
    );
  usage(['--rounds', '0'], /^--rounds must be an integer 1\.\.10, got "0"$/);
  usage(['java-map'], /^map must be one of plain, js-map, got "java-map"$/);
  usage(['--nope'], /^Unknown option '--nope'; options: --rounds <n>, --out <file>, --append/);
  usage(['--out'], /--out <file>' argument missing/);
});

const EVIDENCE = fileURLToPath(new URL('../scripts/evidence/', import.meta.url));

test('every evidence script answers --help and refuses an unknown flag with exit 2, naming itself', () => {
  const scripts = readdirSync(EVIDENCE).filter((name) => name.endsWith('.js'));
  assert.ok(scripts.length >= 8, scripts.join(', '));
  for (const name of scripts) {
    const help = spawnSync(process.execPath, [EVIDENCE + name, '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(help.status, 0, `${name} --help: ${help.stderr}`);
    assert.match(help.stdout, /^Usage: /, name);
    const bad = spawnSync(process.execPath, [EVIDENCE + name, '--no-such-flag'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(bad.status, 2, `${name} --no-such-flag: ${bad.stderr}`);
    assert.match(bad.stderr, new RegExp(`^${name.replace(/\.js$/, '')}: Unknown option '--no-such-flag'`), name);
  }
});
