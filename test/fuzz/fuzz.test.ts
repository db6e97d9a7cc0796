// The loaders' fuzz harness (harness.ts) on a small seeded corpus: every damaged checkpoint,
// safetensors file, training run and config file is loaded or refused with an error naming the
// file or field; none crashes, hangs or blames nothing. `npm run fuzz` runs many more cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from './harness.js';

test('fuzz: 250 damaged inputs over every loader are loaded or refused by name, none crashes', () => {
  const s = runFuzz(1, 250);
  assert.deepEqual(s.failures, []);
  assert.equal(s.cases, 250);
  // The damage is real: most inputs are refused, and every loader saw both outcomes or refusals.
  assert.ok(s.refused > s.cases / 2, `${s.refused} of ${s.cases} refused`);
  for (const [name, t] of Object.entries(s.byTarget)) assert.ok(t.refused > 0, `${name}: nothing was refused (${JSON.stringify(t)})`);
});
