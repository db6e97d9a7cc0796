// One judging path: a STaR sample and an eval judgment of the same pair and seed agree. A tiny
// random model through the embedded backend is sampled by the STaR sampler and judged in CoT mode
// by `genrm eval`'s lmRecords (src/judge's judgePairs) with the same seed, temperature and votes;
// both must send the same prompts with the same seeds and read the same rationales and verdicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBackend } from '../../../src/backends/embedded/backend.js';
import type { CandidateLogprob, GenerateOptions, Generation, LanguageModel, Prompt } from '../../../src/backends/types.js';
import { JUDGE_SPECIAL_TOKENS } from '../../../src/data/judgeFormat.js';
import type { PreferencePair } from '../../../src/data/pair.js';
import { Llama } from '../../../src/engine/model/llama.js';
import { Tokenizer } from '../../../src/engine/tokenizer/index.js';
import { lmRecords } from '../../../src/eval/run/lm.js';
import { chosenShownFirst } from '../../../src/judge/pairwise.js';
import { starSamplingConfig } from '../../../src/train/star/config.js';
import { SAMPLES_FILE } from '../../../src/train/star/records.js';
import { readSamples, sampleStar } from '../../../src/train/star/sampler.js';
import { tinyConfig } from '../../serve/helpers.js';

/** Passes every call to the model and notes each prompt's sampling request. */
class Recorder implements LanguageModel {
  readonly requests: string[] = [];
  constructor(private readonly inner: EmbeddedBackend) {}
  get name(): string {
    return this.inner.name;
  }
  get capabilities() {
    return this.inner.capabilities;
  }
  async generate(prompts: Prompt[], o: GenerateOptions = {}): Promise<Generation[]> {
    for (const p of prompts)
      this.requests.push(
        JSON.stringify({ prompt: p, seed: o.seed, n: o.n, temperature: o.temperature, topP: o.topP, maxTokens: o.maxTokens }),
      );
    return this.inner.generate(prompts, o);
  }
  candidateLogprobs(prompts: Prompt[], candidates: string[]): Promise<CandidateLogprob[][]> {
    return this.inner.candidateLogprobs(prompts, candidates);
  }
  continuationLogprob(items: { prompt: Prompt; continuation: string }[]): Promise<number[]> {
    return this.inner.continuationLogprob(items);
  }
  countTokens(text: string): Promise<number> {
    return this.inner.countTokens(text);
  }
}

function tinyBackend(): EmbeddedBackend {
  const tok = Tokenizer.byteLevel({ specials: [...JUDGE_SPECIAL_TOKENS] });
  const model = new Llama(tinyConfig(tok.vocabSize), { seed: 11 });
  // Verdict tokens likelier than a random init makes them, so some samples carry a verdict.
  const head = model.params.get('lm_head.weight')!;
  const d = model.config.dModel;
  for (const v of JUDGE_SPECIAL_TOKENS.slice(0, 2)) {
    const row = tok.specialId(v) * d;
    for (let j = 0; j < d; j++) head.data[row + j]! *= 6;
  }
  return new EmbeddedBackend(model, tok);
}

test('a STaR sample and an eval judgment of the same pair and seed agree (one path)', async () => {
  const seed = 5;
  const k = 4;
  const maxTokens = 40;
  const pairs: PreferencePair[] = ['a', 'b', 'c', 'd'].map((id, i) => ({
    id,
    prompt: `What is ${i}+3?`,
    chosen: String(i + 3),
    rejected: String(i + 4),
  }));
  // Both cases of which order eval judges first occur, so the seed mapping is exercised both ways.
  assert.deepEqual(new Set(pairs.map((p) => chosenShownFirst(p.id, seed))), new Set([true, false]));
  const backend = tinyBackend();
  const dir = mkdtempSync(join(tmpdir(), 'genrm-onepath-'));
  try {
    const star = new Recorder(backend);
    await sampleStar(star, pairs, { config: starSamplingConfig({ k, maxTokens, seed, chunkPairs: 3 }), outDir: dir });
    const samples = readSamples(join(dir, SAMPLES_FILE));

    const evalLm = new Recorder(backend);
    const recs = await lmRecords(
      evalLm,
      { file: 'pairs.jsonl', pairs, checker: null },
      {
        method: 'cot',
        mode: 'cot',
        votes: k,
        temperature: 1,
        topP: 0.95,
        maxTokens,
        seed,
        template: 'auto',
        contextPolicy: 'refuse',
        chunkPairs: 2,
        keepRationales: true,
      },
    );

    // The same prompt text, each with the same seed and sampling settings.
    assert.equal(star.requests.length, 2 * pairs.length);
    assert.deepEqual([...star.requests].sort(), [...evalLm.requests].sort());
    let valid = 0;
    const texts = new Set<string>();
    for (const [i, pair] of pairs.entries()) {
      const s = samples.find((x) => x.pairId === pair.id)!;
      const r = recs[i]!;
      assert.equal(r.pairId, pair.id);
      for (const [order, side] of [
        ['AB', r.chosenFirst],
        ['BA', r.chosenSecond],
      ] as const) {
        const o = s.orders.find((x) => x.order === order)!;
        assert.ok(
          evalLm.requests.some((q) => (JSON.parse(q) as { prompt: string }).prompt === o.prompt),
          `${pair.id} ${order}: the stored prompt is one eval sent`,
        );
        assert.deepEqual(
          o.samples.map((x) => x.text),
          side!.rationales,
          `${pair.id} ${order}: rationales`,
        );
        assert.deepEqual(
          o.samples.map((x) => x.verdict ?? 'invalid'),
          side!.verdicts,
          `${pair.id} ${order}: verdicts`,
        );
        valid += o.samples.filter((x) => x.verdict !== null).length;
        o.samples.forEach((x) => texts.add(x.text));
      }
    }
    // Not a vacuous agreement: verdicts were read, and the samples differ from one another.
    assert.ok(valid > 0, 'no sample carried a verdict');
    assert.ok(texts.size > pairs.length * 2, 'samples repeat');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
