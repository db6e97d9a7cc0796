import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { intFlag, numFlag } from '../../src/cli/flags.js';
import { CliError, modelError } from '../../src/cli/errors.js';
import { errorCode, GenrmError } from '../../src/util/errors.js';
import { JsonlError } from '../../src/data/jsonl.js';
import { CapabilityError } from '../../src/backends/types.js';

test('numeric flags: absent is undefined; bounds and non-numbers are usage errors naming the flag', () => {
  assert.equal(intFlag('--votes', undefined), undefined);
  assert.equal(intFlag('--votes', '8', { min: 1 }), 8);
  assert.equal(intFlag('--seed', '-3'), -3);
  assert.throws(
    () => intFlag('--votes', '0', { min: 1 }),
    (e: unknown) => e instanceof CliError && e.code === 'usage' && /--votes: expected an integer >= 1, got "0"/.test(e.message),
  );
  assert.throws(() => intFlag('--votes', '2.5'), /--votes: expected an integer, got "2.5"/);
  assert.equal(numFlag('--temperature', '0.7'), 0.7);
  assert.throws(() => numFlag('--temperature', 'warm'), /--temperature: expected a number, got "warm"/);
  assert.throws(() => numFlag('--replay', '-0.1', { min: 0 }), /--replay: expected a number >= 0, got "-0.1"/);
  assert.throws(() => numFlag('--top-p', '2', { min: 0, max: 1 }), /--top-p: expected a number in \[0, 1\], got "2"/);
});

test('error classes: genrm errors carry their class; path and schema errors are bad input; the rest runtime', () => {
  assert.equal(errorCode(new JsonlError('f.jsonl', 3, 'prompt', 'expected a string')), 'bad_input');
  assert.equal(errorCode(new CapabilityError('x', 'generate', 'no')), 'usage');
  assert.equal(errorCode(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })), 'bad_input');
  assert.equal(errorCode(new Error('boom')), 'runtime');
  assert.equal(modelError('m', new Error('no such folder')).code, 'bad_input');
  assert.equal(modelError('m', new GenrmError('connection refused', 'runtime')).code, 'runtime');
});

const bin = fileURLToPath(new URL('../../../bin/genrm.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('exit codes by class: usage 2, bad input 3; one line, no stack trace', () => {
  const flag = run('judge', '--model', 'models/base', '--prompt', 'x', '--a', 'y', '--b', 'z', '--votes', 'many');
  assert.equal(flag.status, 2, flag.stderr);
  assert.equal(flag.stderr.trim(), 'genrm: --votes: expected an integer, got "many"');
  const unknown = run('train', 'bt', '--stepz', '3');
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /unknown option '--stepz'/);
  const missing = run('train', 'bt', '--data', '/no/such/world', '--base', 'models/base', '--out', '/tmp/genrm-never-written');
  assert.equal(missing.status, 3, missing.stderr);
  assert.match(missing.stderr, /^genrm: \/no\/such\/world: no such file or folder/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
  assert.equal(run('--help').status, 0);
});
