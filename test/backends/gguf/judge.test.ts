// Judging through a GGUF genrm exported, run by llama.cpp (node-llama-cpp), against the in-process
// judge on the same weights: the verdicts are read from the file's vocabulary (single control
// tokens), the judge's own prompts and the file's chat template tokenize as genrm's engine
// tokenizes them, and P(A) agrees within 0.01 on the same pairs. Skipped, with the reason, where
// node-llama-cpp cannot load.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { EmbeddedBackend } from '../../../src/backends/embedded/index.js';
import { GgufBackend, nodeLlamaCpp } from '../../../src/backends/gguf/index.js';
import { JUDGE_SPECIAL_TOKENS } from '../../../src/data/judgeFormat.js';
import { saveCheckpoint } from '../../../src/engine/checkpoint.js';
import { writeLlamaGguf } from '../../../src/engine/gguf.js';
import { Tokenizer } from '../../../src/engine/tokenizer/index.js';
import { resolveJudgeConfig } from '../../../src/judge/config.js';
import { judgePairs, type PairInput } from '../../../src/judge/pairwise.js';
import { resolveTemplate } from '../../../src/judge/resolveTemplate.js';
import { randomModel, tinyConfig, TOK as BYTES } from '../../engine/hf/fixture.js';
import { readGguf } from '../../engine/ggufReader.js';

let skip: string | false = false;
try {
  await nodeLlamaCpp();
} catch (e) {
  skip = (e as Error).message;
}

const compiled = import.meta.url.endsWith('.js');
const CLI = compiled
  ? [fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url))]
  : ['--import', 'tsx', fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url))];

// Merges over text with punctuation runs (GPT-2's pre-tokenizer and llama.cpp's default one cut
// those differently) and the verdicts as specials, as genrm's bases have them.
const CORPUS = Array.from(
  { length: 40 },
  (_, i) => `Judge\nQuestion: What is ${i}+${2 * i}?? The answer, then: ${3 * i} !! Don't stop ... "quoted" (see) -- ok [[A]]`,
);
const TRICKY = ['a "b" (c) -- d... e !! f ?? <g> x = y + z; 1,000', " Don't  stop\n\n  (see) [[B]]!"];
const TOK = Tokenizer.train(CORPUS, 340, { specials: [...JUDGE_SPECIAL_TOKENS] });
const PAIRS: PairInput[] = [
  { id: 'p0', prompt: 'What is 2+3?', answerA: '5', answerB: 'The answer is 6.' },
  { id: 'p1', prompt: "Don't you know 12+34??", answerA: '46!! Surely...', answerB: '45' },
  { id: 'p2', prompt: 'Name a colour.', answerA: 'Blue, "obviously".', answerB: 'I cannot help with that.' },
  { id: 'p3', prompt: 'What is 7*6?', answerA: '42', answerB: '42.0 -- or 41?' },
];

describe("judging through genrm's GGUF vs in-process, same weights", { skip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-gguf-judge-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const cfg = tinyConfig({ vocabSize: TOK.vocabSize, dModel: 32, maxSeqLen: 128 });
  const model = randomModel(cfg, 3);
  const path = join(root, 'judge.gguf');
  writeLlamaGguf(path, cfg, model.params, TOK);
  model.freeze();
  const engine = new EmbeddedBackend(model, TOK);
  let gguf: GgufBackend;
  after(async () => gguf?.dispose());

  it('the file carries the chat template and the GPT-2 pre-tokenizer; the verdicts are control tokens', async () => {
    const m = readGguf(readFileSync(path)).metadata;
    assert.equal(m.get('tokenizer.ggml.pre'), 'gpt-2');
    assert.match(m.get('tokenizer.chat_template') as string, /assistant: /);
    // One thread: llama.cpp's worker threads spin-wait, which crawls on a shared, busy machine.
    gguf = await GgufBackend.load(path, { contextSize: 128, threads: 1 });
    assert.equal(gguf.capabilities.singleTokenVerdicts, true);
    assert.equal(gguf.capabilities.prompts.chat, true);
    for (const v of JUDGE_SPECIAL_TOKENS) assert.equal(gguf.verdictToken(v), TOK.specialId(v));
    // So `--template auto` picks the compact template, as for the checkpoint itself.
    assert.equal(resolveTemplate('auto', 'pair', gguf.capabilities).name, resolveTemplate('auto', 'pair', engine.capabilities).name);
  });

  it('llama.cpp tokenizes judge prompts and chat messages exactly as genrm does', () => {
    const template = resolveTemplate('compact', 'pair', engine.capabilities);
    for (const p of PAIRS)
      for (const mode of ['direct', 'cot'] as const) {
        const prompt = template.render({ question: p.prompt as string, answerA: p.answerA, answerB: p.answerB }, mode);
        assert.deepEqual(gguf.encode(prompt).map(Number), engine.encode(prompt), `${p.id} ${mode}`);
      }
    for (const text of TRICKY) assert.deepEqual(gguf.encode(text).map(Number), engine.encode(text), JSON.stringify(text));
    const chat = [
      { role: 'system' as const, content: 'Be brief!!' },
      { role: 'user' as const, content: "What's 2+3?" },
    ];
    assert.deepEqual(gguf.encode(chat).map(Number), engine.encode(chat));
  });

  it('direct judging: P(A) per order and combined within 0.01 of in-process', async () => {
    const jc = { ...resolveJudgeConfig({ swap: true }), mode: 'direct' as const };
    const t = resolveTemplate('auto', 'pair', gguf.capabilities);
    const [a, b] = [await judgePairs(engine, PAIRS, t, jc), await judgePairs(gguf, PAIRS, t, jc)];
    // The comparison means something only if the judge is not flat.
    assert.ok(Math.max(...a.flatMap((j) => j.orders.map((o) => Math.abs(o.p - 0.5)))) > 0.05, 'the random judge is too flat to compare');
    a.forEach((j, i) => {
      assert.ok(Math.abs(j.pA - b[i]!.pA) <= 0.01, `${j.id}: in-process ${j.pA}, gguf ${b[i]!.pA}`);
      j.orders.forEach((o, k) =>
        assert.ok(Math.abs(o.p - b[i]!.orders[k]!.p) <= 0.01, `${j.id} order ${k + 1}: ${o.p} vs ${b[i]!.orders[k]!.p}`),
      );
    });
  });

  it("multi-token candidates continue from the prompt's cache: equal to scoring each continuation whole", async () => {
    const prompts = ['Judge\nQuestion: What is 2+3?', 'abc'];
    const cands = [' the answer', '[[A]] then', ' 5!!'];
    const got = await gguf.candidateLogprobs(prompts, cands);
    const whole = await gguf.continuationLogprob(prompts.flatMap((prompt) => cands.map((continuation) => ({ prompt, continuation }))));
    const ref = await engine.candidateLogprobs(prompts, cands);
    got.forEach((row, i) =>
      row.forEach((c, j) => {
        assert.ok(
          Math.abs(c.logprob - whole[i * cands.length + j]!) < 1e-4,
          `prompt ${i} cand ${j}: ${c.logprob} vs whole ${whole[i * cands.length + j]}`,
        );
        assert.ok(
          Math.abs(c.logprob - ref[i]![j]!.logprob) < 3e-2,
          `prompt ${i} cand ${j}: gguf ${c.logprob} vs engine ${ref[i]![j]!.logprob}`,
        );
      }),
    );
  });

  it('greedy generation writes a verdict token as its text, as the engine does', async () => {
    // Make [[A]] the greedy choice after the prompt: swap its output row with the token the engine picks.
    const prompt = 'Judge\nQuestion: What is 2+3?\nVerdict: ';
    const first = (await engine.generate([prompt], { temperature: 0, maxTokens: 1 }))[0]!.samples[0]!.tokens[0] as number;
    const head = randomModel(cfg, 3);
    const w = head.params.get('lm_head.weight')!.data;
    const a = TOK.specialId('[[A]]');
    const d = cfg.dModel;
    const row = w.slice(first * d, (first + 1) * d);
    w.copyWithin(first * d, a * d, (a + 1) * d);
    w.set(row, a * d);
    head.freeze();
    const p2 = join(root, 'verdict.gguf');
    writeLlamaGguf(p2, cfg, head.params, TOK);
    const g2 = await GgufBackend.load(p2, { contextSize: 128, threads: 1 });
    try {
      const o = { temperature: 0, maxTokens: 6 };
      const [x, y] = [
        (await new EmbeddedBackend(head, TOK).generate([prompt], o))[0]!.samples[0]!,
        (await g2.generate([prompt], o))[0]!.samples[0]!,
      ];
      assert.ok(x.text.startsWith('[[A]]'), x.text);
      assert.deepEqual(y.tokens, x.tokens);
      assert.equal(y.text, x.text);
    } finally {
      await g2.dispose();
    }
  });

  it('a GGUF whose vocabulary lacks the verdicts is judged through their pieces (singleTokenVerdicts false)', async () => {
    const bcfg = tinyConfig({ dModel: 32, maxSeqLen: 128 });
    const p3 = join(root, 'bytes.gguf');
    const bm = randomModel(bcfg, 4);
    writeLlamaGguf(p3, bcfg, bm.params, BYTES);
    const g3 = await GgufBackend.load(p3, { contextSize: 128, threads: 1 });
    try {
      assert.equal(g3.capabilities.singleTokenVerdicts, false);
      assert.equal(g3.verdictToken('[[A]]'), null);
      // The judge scores "A]]" / "B]]" after "[["; the engine scores the whole verdicts: the shared "[[" cancels.
      const jc = { ...resolveJudgeConfig({ swap: true }), mode: 'direct' as const };
      const t = resolveTemplate('compact', 'pair', g3.capabilities);
      const [a, b] = [await judgePairs(new EmbeddedBackend(bm.freeze(), BYTES), PAIRS, t, jc), await judgePairs(g3, PAIRS, t, jc)];
      a.forEach((j, i) =>
        j.orders.forEach((o, k) =>
          assert.ok(Math.abs(o.p - b[i]!.orders[k]!.p) <= 0.01, `${j.id} order ${k + 1}: ${o.p} vs ${b[i]!.orders[k]!.p}`),
        ),
      );
    } finally {
      await g3.dispose();
    }
  });

  it("a chat template llama.cpp's file holds but Jinja cannot parse: text still works, chat is refused with the reason", async () => {
    const p4 = join(root, 'badtemplate.gguf');
    writeLlamaGguf(p4, cfg, model.params, TOK, { chatTemplate: '{% for m in messages %}{{ m.content }}' });
    const g4 = await GgufBackend.load(p4, { contextSize: 128, threads: 1 });
    try {
      assert.equal(g4.capabilities.prompts.chat, false);
      assert.deepEqual(g4.encode('abc').map(Number), engine.encode('abc'));
      assert.throws(
        () => g4.encode([{ role: 'user', content: 'hi' }]),
        /chat prompts is not supported: .*tokenizer\.chat_template: the chat template does not parse/,
      );
    } finally {
      await g4.dispose();
    }
  });

  it('genrm judge --model X.gguf --threads 1 prints the in-process P(A)', () => {
    const ckpt = join(root, 'ckpt');
    saveCheckpoint(ckpt, {
      config: cfg,
      kind: 'lm',
      weights: model.params,
      tokenizer: TOK,
      provenance: { command: 'test', config: null, seed: 1, dataHash: null, parent: null },
    });
    const data = join(root, 'pairs.jsonl');
    writeFileSync(
      data,
      PAIRS.map((p) => JSON.stringify({ id: p.id, prompt: p.prompt, chosen: p.answerA, rejected: p.answerB })).join('\n') + '\n',
    );
    const judge = (m: string, extra: string[] = []): Array<{ pA: number }> => {
      const out = join(root, `${extra.length}.jsonl`);
      execFileSync(process.execPath, [...CLI, 'judge', '--model', m, '--data', data, '--out', out, '--json', ...extra], {
        encoding: 'utf8',
      });
      return readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { pA: number });
    };
    const [a, b] = [judge(ckpt), judge(path, ['--threads', '1'])];
    a.forEach((r, i) => assert.ok(Math.abs(r.pA - b[i]!.pA) <= 0.01, `pair ${i}: ${r.pA} vs ${b[i]!.pA}`));
    assert.throws(
      () =>
        execFileSync(process.execPath, [...CLI, 'judge', '--model', ckpt, '--data', data, '--threads', '1'], {
          encoding: 'utf8',
          stdio: 'pipe',
        }),
      /--threads applies to \.gguf models/,
    );
  });
});
