import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commonPrefix } from '../../src/util/strings.js';

test('common prefix of the verdicts and of no strings', () => {
  assert.equal(commonPrefix(['[[A]]', '[[B]]']), '[[');
  assert.equal(commonPrefix(['[[YES]]', '[[NO]]']), '[[');
  assert.equal(commonPrefix(['x']), 'x');
  assert.equal(commonPrefix([]), '');
});
