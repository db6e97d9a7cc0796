import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadTemplateFile, templateFromSpec } from '../../src/judge/templateFile.js';
import { resolveJudgeConfig } from '../../src/judge/config.js';
import { judgePairs } from '../../src/judge/pairwise.js';
import { ContextLengthError, TRUNCATION_MARK } from '../../src/judge/context.js';
import { chatPairTemplate, compactPairTemplate, type PairTemplate } from '../../src/judge/templates.js';
import { ScriptedModel } from './fixtures/scriptedModel.js';

const dir = mkdtempSync(join(tmpdir(), 'genrm-tpl-'));
const write = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('a missing placeholder is an error naming it and the file', () => {
  const p = write('missing.txt', 'Q: {question}\nA: {answer_a}\nWhich is better?');
  assert.throws(
    () => loadTemplateFile(p, 'pair'),
    (e: Error) => e.message.includes('missing placeholder {answer_b}') && e.message.includes(p),
  );
});

test('an unknown placeholder is an error naming it', () => {
  const p = write('unknown.json', JSON.stringify({ user: '{question} {answer_a} {answer_b} {answer_c}' }));
  assert.throws(() => loadTemplateFile(p), /unknown placeholder \{answer_c\}/);
  assert.throws(() => templateFromSpec({ user: '{question} {answer_a} {answer_b', kind: 'pair' }, 't'), /unclosed "\{"/);
  assert.throws(() => templateFromSpec({ user: '{question} {answer_a} {answer_b} }', kind: 'pair' }, 't'), /stray "\}"/);
  assert.throws(() => loadTemplateFile(write('extra.json', JSON.stringify({ user: 'x', foo: 1 }))), /unknown field "foo"/);
  // pointwise placeholders are checked against their own set
  assert.throws(() => templateFromSpec({ kind: 'point', text: '{question} {answer_a}' }, 't'), /unknown placeholder \{answer_a\}/);
});

test('YAML chat templates render; filling is one pass and {{ }} are literal braces', () => {
  const p = write(
    't.yaml',
    'kind: pair\nsystem: "Judge fairly. {{json}}"\nuser: |\n  {question}\n  <a>{answer_a}</a>\n  <b>{answer_b}</b>\n',
  );
  const t = loadTemplateFile(p, 'pair') as PairTemplate;
  const out = t.render({ question: 'Q?', answerA: 'I say {answer_b}', answerB: 'B' }, 'cot');
  assert.deepEqual(out, [
    { role: 'system', content: 'Judge fairly. {json}' },
    { role: 'user', content: 'Q?\n<a>I say {answer_b}</a>\n<b>B</b>\n' },
  ]);
  const text = templateFromSpec({ text: '{question}|{answer_a}|{answer_b}|Verdict: ' }, 'inline') as PairTemplate;
  assert.equal(text.render({ question: 'q', answerA: 'a', answerB: 'b' }, 'direct'), 'q|a|b|Verdict: ');
});

test('judge config: defaults from the paper, bad fields named', () => {
  const c = resolveJudgeConfig({ mode: 'cot' });
  assert.deepEqual([c.temperature, c.topP, c.swap, c.weighting, c.contextPolicy], [1.0, 0.95, true, 'none', 'refuse']);
  assert.throws(() => resolveJudgeConfig({ votes: 0 }), /votes/);
  assert.throws(() => resolveJudgeConfig({ mode: 'fast' }), /mode/);
  assert.throws(() => resolveJudgeConfig({ vote: 3 }), /vote/);
});

test('context: refuse names the pair and counts; truncate cuts answers, never the verdict position', async () => {
  const longB = 'x'.repeat(4000);
  const pair = { id: 'p7', prompt: 'What is 2+2?', answerA: '4', answerB: longB };
  const mk = (): ScriptedModel => new ScriptedModel({ logprob: (_p, c) => (c === '[[A]]' ? -1 : -2) }, { contextLength: 600 }, 1);
  await assert.rejects(
    judgePairs(mk(), [pair], compactPairTemplate, resolveJudgeConfig({})),
    (e: Error) => e instanceof ContextLengthError && /pair p7/.test(e.message) && /600/.test(e.message),
  );
  const m = mk();
  const [j] = await judgePairs(m, [pair], compactPairTemplate, resolveJudgeConfig({ contextPolicy: 'truncate-answers' }));
  assert.equal(j?.orders[0].truncated, true);
  const sent = m.calls[0]?.prompts ?? [];
  for (const p of sent) {
    assert.ok(p.length + 8 <= 600, `prompt of ${p.length} chars fits`);
    assert.ok(p.includes(TRUNCATION_MARK));
    assert.ok(p.includes('What is 2+2?'));
    const tail = compactPairTemplate.render({ question: 'q', answerA: 'a', answerB: 'b' }, 'direct') as string;
    assert.ok(p.endsWith(tail.slice(tail.lastIndexOf('\n'))), 'the template end (the verdict position) is intact');
  }
  // The short answer was left whole.
  assert.ok(sent[0]?.includes('\nA: 4\n'), sent[0]);
  // A chat template checks its rendered messages too.
  await assert.rejects(judgePairs(mk(), [pair], chatPairTemplate, resolveJudgeConfig({})), ContextLengthError);
});
