// GRPO for a policy: the reward a group gets moves the policy (a tiny model learns to end its
// answers sooner when short answers are rewarded), the run is the same for the same seed, and a
// group's answers that are not whole get the group's lowest reward minus 1.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { encodePrompt } from '../../../src/backends/embedded/render.js';
import { withFloor } from '../../../src/eval/overopt/run.js';
import { trainPolicyGrpo, type PolicyGrpoOptions } from '../../../src/train/policy/grpo.js';
import { loadBase } from '../../../src/train/recipes/model.js';
import { makeFixture } from '../recipes/fixture.js';

const fx = await makeFixture({ train: 16 });
after(() => rmSync(fx.root, { recursive: true, force: true }));

const O: PolicyGrpoOptions = {
  steps: 30,
  promptsPerStep: 2,
  k: 8,
  lr: 1e-2,
  warmupSteps: 1,
  temperature: 1,
  maxTokens: 12,
  stop: ['\n'],
  scaleRewards: 'group',
  lossType: 'dapo',
  seed: 3,
  evalEvery: 10,
};

async function run(o: PolicyGrpoOptions): Promise<{ rewards: number[]; evals: number[]; weights: Float32Array }> {
  const { model, tokenizer } = loadBase(fx.base);
  const prompts = ['What is 2+3?\n', 'Sort 3 1 2.\n', 'What is 7-4?\n'].map((p) => encodePrompt(tokenizer, p));
  const evals: number[] = [];
  // Shorter is better: the reward is minus the answer's length in characters.
  const log = await trainPolicyGrpo(
    model,
    tokenizer,
    prompts,
    async (groups) => groups.map((g) => g.samples.map((s) => -s.text.length)),
    o,
    { onEval: async (step) => void evals.push(step) },
  );
  return {
    rewards: log.map((m) => m.reward),
    evals,
    weights: Float32Array.from([...model.params.values()].flatMap((t) => [...t.data.subarray(0, 8)])),
  };
}

test('policy GRPO: rewarding short answers shortens them; evaluations at 0, every evalEvery and the end', async () => {
  const r = await run(O);
  const mean = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
  const first = mean(r.rewards.slice(0, 5));
  const last = mean(r.rewards.slice(-5));
  assert.ok(last > first + 1, `mean reward ${first.toFixed(2)} -> ${last.toFixed(2)}`);
  assert.deepEqual(r.evals, [0, 10, 20, 30]);
  const again = await run({ ...O, steps: 3 });
  const again2 = await run({ ...O, steps: 3 });
  assert.deepEqual(again.rewards, again2.rewards, 'same seed, same run');
  assert.deepEqual(again.weights, again2.weights);
});

test('a group’s rewards: answers that are not whole get the lowest whole reward minus 1', () => {
  assert.deepEqual(withFloor([true, false, true], [0.5, -2]), [0.5, -3, -2]);
  assert.deepEqual(withFloor([false, false], []), [-1, -1]);
  assert.throws(() => withFloor([true], []), /1 whole answers/);
});
