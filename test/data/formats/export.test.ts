// Exports for other trainers: every line of each target validated against that target's documented
// layout (schemas.ts), contents carried through exactly, judge-format rendering, atomic writing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { z } from 'zod';
import { type DpoExample, type SftExample, dpoFromJudge, sftFromJudge } from '../../../src/data/formats/export/examples.js';
import * as S from '../../../src/data/formats/export/schemas.js';
import { DPO_TARGETS, type DpoTarget, SFT_TARGETS, type SftTarget, writeDpo, writeSft } from '../../../src/data/formats/export/writers.js';
import { writeJsonlStream } from '../../../src/data/jsonl.js';
import { parseVerdict, pairPrompt } from '../../../src/data/judgeFormat.js';

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), 'genrm-export-'))));
after(async () => rm(dir, { recursive: true, force: true }));

const readLines = async (f: string): Promise<unknown[]> =>
  (await readFile(f, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);

const SFT_SCHEMA: Record<SftTarget, z.ZodType> = {
  'trl-messages': S.TrlSftMessages,
  'trl-prompt-completion': S.TrlSftPromptCompletion,
  'trl-prompt-completion-chat': S.TrlSftPromptCompletionChat,
  'openai-sft': S.OpenAiSft,
};
const DPO_SCHEMA: Record<DpoTarget, z.ZodType> = { 'trl-dpo': S.TrlDpo, 'trl-dpo-chat': S.TrlDpoChat, 'openai-dpo': S.OpenAiDpo };

const judgeEx = { question: 'What is 47+85?', answerA: 'The answer is 132.', answerB: '122' };
const sft: SftExample[] = [
  sftFromJudge(judgeEx, 'cot', {
    verdict: 'A',
    rationale: 'Q: 47+85= W: 7+5=12;4+8+1=13 =132\nA says 132: matches. B says 122: does not.',
  }),
  { prompt: 'plain "quoted"\nprompt', completion: 'done', system: 'You are a judge.' },
];
const dpo: DpoExample[] = [
  dpoFromJudge(judgeEx, 'cot', { verdict: 'A', rationale: 'A says 132: matches.' }, { verdict: 'B', rationale: 'B says 122: matches.' }),
  { prompt: 'p', chosen: 'good', rejected: 'bad', system: 'sys' },
];

describe('SFT exports', () => {
  for (const target of SFT_TARGETS)
    test(`${target}: every line fits the documented layout and carries the text`, async () => {
      const f = join(dir, `sft-${target}.jsonl`);
      assert.equal(await writeSft(f, sft, target), 2);
      const lines = await readLines(f);
      assert.equal(lines.length, 2);
      for (const l of lines) assertFits(SFT_SCHEMA[target], l);
      const text = JSON.stringify(lines[0]);
      assert.ok(text.includes(JSON.stringify(sft[0]?.completion).slice(1, -1)), 'completion carried');
      assert.ok(text.includes(JSON.stringify(pairPrompt(judgeEx, 'cot')).slice(1, -1)), 'judge prompt carried');
    });

  test('messages form: system, user prompt, assistant completion in order; the target ends in the verdict', async () => {
    const f = join(dir, 'sft-msg.jsonl');
    await writeSft(f, sft, 'trl-messages');
    const [a, b] = (await readLines(f)) as { messages: { role: string; content: string }[] }[];
    assert.deepEqual(
      a?.messages.map((m) => m.role),
      ['user', 'assistant'],
    );
    assert.equal(parseVerdict(a?.messages[1]?.content ?? ''), 'A');
    assert.deepEqual(b?.messages, [
      { role: 'system', content: 'You are a judge.' },
      { role: 'user', content: 'plain "quoted"\nprompt' },
      { role: 'assistant', content: 'done' },
    ]);
  });
});

describe('DPO exports', () => {
  for (const target of DPO_TARGETS)
    test(`${target}: every line fits the documented layout`, async () => {
      const f = join(dir, `dpo-${target}.jsonl`);
      assert.equal(await writeDpo(f, dpo, target), 2);
      for (const l of await readLines(f)) assertFits(DPO_SCHEMA[target], l);
    });

  test('OpenAI preference: input.messages, one preferred and one non-preferred assistant message, verdicts differ', async () => {
    const f = join(dir, 'dpo-openai.jsonl');
    await writeDpo(f, dpo, 'openai-dpo');
    const [a] = (await readLines(f)) as {
      input: { messages: { content: string }[] };
      preferred_output: { content: string }[];
      non_preferred_output: { content: string }[];
    }[];
    assert.equal(a?.input.messages[0]?.content, pairPrompt(judgeEx, 'cot'));
    assert.equal(parseVerdict(a?.preferred_output[0]?.content ?? ''), 'A');
    assert.equal(parseVerdict(a?.non_preferred_output[0]?.content ?? ''), 'B');
  });

  test('the schemas reject what the targets do not accept (they are not vacuous)', () => {
    assert.equal(
      S.OpenAiDpo.safeParse({
        input: { messages: [{ role: 'user', content: 'p' }] },
        preferred_output: [{ role: 'user', content: 'x' }],
        non_preferred_output: [{ role: 'assistant', content: 'y' }],
      }).success,
      false,
    );
    assert.equal(
      S.OpenAiDpo.safeParse({
        input: { messages: [] },
        preferred_output: [{ role: 'assistant', content: 'x' }],
        non_preferred_output: [{ role: 'assistant', content: 'y' }],
      }).success,
      false,
    );
    assert.equal(S.TrlDpo.safeParse({ prompt: 'p', chosen: 'a' }).success, false);
    assert.equal(S.OpenAiSft.safeParse({ messages: [{ role: 'user', content: 'only a question' }] }).success, false);
    assert.equal(S.TrlSftPromptCompletion.safeParse({ prompt: 'p', completion: 'c', extra: 1 }).success, false);
  });

  test('dpoFromJudge refuses two samples with the same verdict', () => {
    assert.throws(
      () => dpoFromJudge(judgeEx, 'cot', { verdict: 'A', rationale: 'r' }, { verdict: 'A', rationale: 's' }),
      /different verdicts/,
    );
  });
});

test('writing is atomic: a failing source leaves no file and no temp file behind', async () => {
  const f = join(dir, 'atomic', 'out.jsonl');
  async function* failing() {
    yield { a: 1 };
    throw new Error('sampler died');
  }
  await assert.rejects(writeJsonlStream(f, failing()), /sampler died/);
  assert.equal(existsSync(f), false);
  assert.deepEqual(readdirSync(join(dir, 'atomic')), []);
});

function assertFits(schema: z.ZodType, line: unknown): void {
  const r = schema.safeParse(line);
  assert.ok(r.success, `line does not fit the layout: ${JSON.stringify(line)} ${r.success ? '' : JSON.stringify(r.error.issues[0])}`);
}
