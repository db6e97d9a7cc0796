// Judge benchmarks in their published field layouts (small records of our own): detected with no
// flags, counted, labels oriented the right way round, ties kept, bad labels named.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { unwrapPrometheus } from '../../../src/data/formats/benchmarks.js';
import { type TempDir, jsonl, tempDir } from './helpers.js';

let t: TempDir;
before(async () => (t = await tempDir()));
after(async () => t.close());

test('Auto-J: label 0 = first, 1 = second, 2 = tie (identical texts too); scenario as subset; other labels skipped by line', async () => {
  const rec = (label: unknown, r1: string, r2: string) => ({
    scenario: 'seeking_advice',
    label,
    prompt: 'How do I learn to juggle?',
    'response 1': r1,
    'response 2': r2,
  });
  const { pairs, report, lines } = await t.load(
    'autoj.jsonl',
    jsonl(
      rec(0, 'start with two balls', 'buy a unicycle'),
      rec(1, 'give up', 'practise daily'),
      rec(2, 'same', 'same'),
      rec(2, 'one way', 'another way'),
      rec(5, 'x', 'y'),
    ),
  );
  assert.equal(report.format, 'autoj');
  assert.deepEqual(
    pairs.map((p) => [p.chosen, p.rejected, p.tie ?? false]),
    [
      ['start with two balls', 'buy a unicycle', false],
      ['practise daily', 'give up', false],
      ['same', 'same', true],
      ['one way', 'another way', true],
    ],
  );
  assert.equal(pairs[0]?.subset, 'seeking_advice');
  assert.deepEqual([report.records, report.pairs, report.ties, report.invalid['label-range']], [5, 4, 2, 1]);
  assert.deepEqual(report.invalidLines['label-range'], [5]);
  assert.deepEqual(lines, [1, 2, 3, 4]);
});

test('JudgeBench: "A>B" / "B>A" orient the pair; pair_id as id; source as subset, its benchmark as category', async () => {
  const rec = (id: string, source: string, label: string) => ({
    pair_id: id,
    original_id: '7',
    source,
    question: 'What is 6 * 7?',
    response_model: 'm',
    response_A: 'It is 42.',
    response_B: 'It is 48.',
    label,
  });
  const { pairs, report } = await t.load(
    'jb.jsonl',
    jsonl(rec('p1', 'mmlu-pro-math', 'A>B'), rec('p2', 'livecodebench', 'B>A'), rec('p3', 'livebench-math', 'A=B')),
  );
  assert.equal(report.format, 'judgebench');
  assert.deepEqual(
    pairs.map((p) => [p.id, p.chosen, p.category, p.subset]),
    [
      ['p1', 'It is 42.', 'mmlu-pro', 'mmlu-pro-math'],
      ['p2', 'It is 48.', 'livecodebench', 'livecodebench'],
    ],
  );
  assert.equal(report.invalid['label-range'], 1);
  assert.match(
    report.examples['label-range']?.[0] ?? '',
    /jb\.jsonl:3: field "label": label "A=B" is outside its range: expected A>B \| B>A/,
  );
});

test('RM-Bench: chosen/rejected lists of three styles become the 3×3 grid; hard/normal/easy as subset, styles in meta', async () => {
  const styles = (s: string) => [`${s} (short)`, `${s}, explained at length in plain text`, `**${s}**, explained at length in markdown`];
  const { pairs, report } = await t.load(
    'rmb.json',
    JSON.stringify([
      { id: 'chat/1', prompt: 'Capital of France?', chosen: styles('Paris'), rejected: styles('Lyon'), domain: 'safety-refuse' },
    ]),
  );
  assert.equal(report.format, 'rmbench');
  assert.equal(pairs.length, 9);
  assert.deepEqual([report.records, report.pairs], [1, 9]);
  const cell = (i: number, j: number) => pairs.find((p) => p.id === `chat/1:${i}x${j}`)!;
  assert.equal(cell(1, 3).subset, 'hard'); // concise chosen vs markdown rejected: style works against the right answer
  assert.equal(cell(2, 2).subset, 'normal');
  assert.equal(cell(3, 1).subset, 'easy');
  assert.deepEqual(cell(1, 3).meta, {
    chosen_style: 'concise',
    rejected_style: 'detailed_markdown',
    domain: 'safety-refuse',
    record: 'chat/1',
  });
  assert.ok(pairs.every((p) => p.chosen.includes('Paris') && p.rejected.includes('Lyon') && p.category === 'safety'));
  assert.deepEqual(
    ['hard', 'normal', 'easy'].map((l) => pairs.filter((p) => p.subset === l).length),
    [3, 3, 3],
  );

  const bad = await t.load(
    'rmb2.json',
    JSON.stringify([{ id: 'x', prompt: 'q', chosen: ['a', 'b'], rejected: ['c', 'd'], domain: 'chat' }]),
  );
  assert.equal(bad.report.invalid['wrong-type'], 1);
  assert.match(bad.report.examples['wrong-type']?.[0] ?? '', /field "chosen": expected a list of 3 responses/);
});

test('EvalBiasBench: one JSON object of bias type → records; label 1|2; the bias type as subset (from the key when a record lacks it)', async () => {
  const doc = {
    'length bias': [
      {
        bias: 'length bias',
        instruction: 'Name a prime.',
        response1: '7',
        response2: 'Primes are numbers with exactly two divisors; one of them is 9.',
        label: 1,
      },
      { bias: 'length bias', instruction: 'Name an even number.', response1: 'Odd numbers include 3.', response2: '4', label: 2 },
    ],
    'empty reference': [
      {
        instruction: 'Summarise the text.',
        response1: 'There is no text to summarise; please share it.',
        response2: 'The text is about cats.',
        label: 1,
      },
    ],
  };
  const { pairs, report, lines } = await t.load('biasbench.json', JSON.stringify(doc, null, 2));
  assert.equal(report.container, 'json');
  assert.equal(report.format, 'evalbiasbench');
  assert.deepEqual(
    pairs.map((p) => [p.chosen, p.subset]),
    [
      ['7', 'length bias'],
      ['4', 'length bias'],
      ['There is no text to summarise; please share it.', 'empty reference'],
    ],
  );
  assert.deepEqual(lines, [3, 10, 19]);
});

test('Prometheus: orig_* fields with orig_preference; or only the wrapped prompt, unwrapped, labelled by [RESULT]', async () => {
  const wrappedPrompt = [
    '###Task Description:\nAn instruction, two responses and a rubric are given.\n',
    '###The instruction to evaluate:\nExplain why the sky is blue.\n',
    '###Response A to evaluate:\nBecause of the ocean.\n',
    '###Response B to evaluate:\nRayleigh scattering: short wavelengths scatter more.\n',
    '###Reference Answer:\nRayleigh scattering.\n',
    '###Score Rubric:\n[Is the explanation correct?]\n',
    '###Feedback: ',
  ].join('\n');
  const { pairs, report } = await t.load(
    'prom.jsonl',
    jsonl(
      {
        orig_instruction: 'Add 2 and 2.',
        orig_response_A: '5',
        orig_response_B: '4',
        orig_preference: 'B',
        orig_reference_answer: '4',
        orig_criteria: 'correctness',
        instruction: 'wrapped…',
        output: 'Feedback: B is right. [RESULT] B',
      },
      { instruction: wrappedPrompt, output: 'Feedback: Response B names the cause. [RESULT] B' },
    ),
  );
  assert.equal(report.format, 'prometheus');
  assert.deepEqual(
    pairs.map((p) => [p.prompt, p.chosen, p.rejected]),
    [
      ['Add 2 and 2.', '4', '5'],
      ['Explain why the sky is blue.', 'Rayleigh scattering: short wavelengths scatter more.', 'Because of the ocean.'],
    ],
  );
  assert.deepEqual(pairs[0]?.meta, { reference: '4', rubric: 'correctness' });
  assert.deepEqual(unwrapPrometheus(wrappedPrompt), {
    instruction: 'Explain why the sky is blue.',
    a: 'Because of the ocean.',
    b: 'Rayleigh scattering: short wavelengths scatter more.',
    reference: 'Rayleigh scattering.',
    rubric: '[Is the explanation correct?]',
  });
});
