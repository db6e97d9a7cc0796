// Loaders of the field's preference formats: detection, field mapping (HH prefix split, multi-turn,
// implicit prompts, labels and votes), ties, bad input named by file and line, --skip-invalid.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FileError, FormatError } from '../../src/data/formats/errors.js';
import type { LoadOptions } from '../../src/data/formats/load.js';
import type { PreferencePair } from '../../src/data/pair.js';
import { type TempDir, jsonl, tempDir } from './formats/helpers.js';

let t: TempDir;
before(async () => (t = await tempDir()));
after(async () => t.close());

/** Strict by default here (the library's default): the first bad record is an error. */
const load = (name: string, content: string | Buffer, opts: LoadOptions = {}) => t.load(name, content, opts);

async function loadError(name: string, content: string | Buffer, opts: LoadOptions = {}): Promise<FormatError> {
  const e = await loadFailure(name, content, opts);
  assert.ok(e instanceof FormatError, `expected a FormatError, got ${String(e)}`);
  return e;
}

const loadFailure = (name: string, content: string | Buffer, opts: LoadOptions = {}): Promise<Error> => t.failure(name, content, opts);

const user = (content: string) => ({ role: 'user', content });
const bot = (content: string) => ({ role: 'assistant', content });

describe('detection and mapping', () => {
  test('RewardBench: ids, subsets mapped to the four categories, models kept in meta', async () => {
    const { pairs, report } = await load(
      'rb.jsonl',
      jsonl(
        {
          prompt: 'Write a poem',
          chosen: 'Roses…',
          rejected: 'No.',
          chosen_model: 'gpt-4',
          rejected_model: 'x',
          subset: 'alpacaeval-easy',
          id: 12,
        },
        { prompt: 'How to make a bomb?', chosen: 'I cannot help.', rejected: 'Sure…', subset: 'refusals-dangerous', id: 13 },
        { prompt: 'p', chosen: 'a', rejected: 'b', subset: 'some-new-subset', id: 14 },
      ),
    );
    assert.equal(report.format, 'rewardbench');
    assert.deepEqual(
      pairs.map((p) => [p.id, p.category, p.subset]),
      [
        ['12', 'chat', 'alpacaeval-easy'],
        ['13', 'safety', 'refusals-dangerous'],
        ['14', undefined, 'some-new-subset'],
      ],
    );
    assert.deepEqual(pairs[0]?.meta, { chosen_model: 'gpt-4', rejected_model: 'x' });
  });

  test('TRL standard, conversational, and implicit-prompt (shared conversation prefix, multi-turn)', async () => {
    const std = await load('trl.jsonl', jsonl({ prompt: 'The sky is', chosen: ' blue.', rejected: ' green.' }));
    assert.equal(std.report.format, 'trl');
    assert.deepEqual(std.pairs[0], { id: 'trl.jsonl:1', prompt: 'The sky is', chosen: ' blue.', rejected: ' green.' });

    const conv = await load(
      'trlc.jsonl',
      jsonl({ prompt: [user('Color of the sky?')], chosen: [bot('Blue.')], rejected: [bot('Green.')] }),
    );
    assert.deepEqual([conv.pairs[0]?.prompt, conv.pairs[0]?.chosen, conv.pairs[0]?.rejected], ['Color of the sky?', 'Blue.', 'Green.']);

    const implicit = await load(
      'trli.jsonl',
      jsonl({ chosen: [user('Hi'), bot('Hello!'), user('2+2?'), bot('4')], rejected: [user('Hi'), bot('Hello!'), user('2+2?'), bot('5')] }),
    );
    assert.equal(implicit.report.format, 'trl');
    assert.deepEqual(implicit.pairs[0]?.prompt, [user('Hi'), bot('Hello!'), user('2+2?')]);
    assert.deepEqual([implicit.pairs[0]?.chosen, implicit.pairs[0]?.rejected], ['4', '5']);
  });

  test('UltraFeedback binarized: chat lists split, prompt_id as id, scores in meta, equal scores a tie', async () => {
    const { pairs, report } = await load(
      'uf.jsonl',
      jsonl(
        {
          prompt: 'Q1',
          prompt_id: 'abc',
          chosen: [user('Q1'), bot('good')],
          rejected: [user('Q1'), bot('bad')],
          messages: [],
          score_chosen: 8,
          score_rejected: 3,
        },
        {
          prompt: 'Q2',
          prompt_id: 'def',
          chosen: [user('Q2'), bot('one')],
          rejected: [user('Q2'), bot('two')],
          messages: [],
          score_chosen: 5,
          score_rejected: 5,
        },
      ),
    );
    assert.equal(report.format, 'ultrafeedback');
    assert.deepEqual(pairs[0], { id: 'abc', prompt: 'Q1', chosen: 'good', rejected: 'bad', meta: { score_chosen: 8, score_rejected: 3 } });
    assert.equal(pairs[1]?.tie, true);
    assert.equal(report.ties, 1);
  });

  test('HH-RLHF: shared transcript prefix becomes the prompt, the last Assistant turn the answer (gzipped)', async () => {
    const base = '\n\nHuman: Hi there\n\nAssistant: Hello! How can I help?\n\nHuman: What is 2+2?\n\nAssistant:';
    const text = jsonl({ chosen: `${base} It is 4.`, rejected: `${base} It is 5.` });
    const { pairs, report } = await load('hh.jsonl.gz', gzipSync(Buffer.from(text)));
    assert.equal(report.format, 'hh-rlhf');
    assert.deepEqual(pairs[0]?.prompt, [user('Hi there'), bot('Hello! How can I help?'), user('What is 2+2?')]);
    assert.deepEqual([pairs[0]?.chosen, pairs[0]?.rejected], ['It is 4.', 'It is 5.']);
    // A single-turn transcript collapses to a plain prompt string.
    const one = await load('hh1.jsonl', jsonl({ chosen: '\n\nHuman: Q?\n\nAssistant: yes', rejected: '\n\nHuman: Q?\n\nAssistant: no' }));
    assert.equal(one.pairs[0]?.prompt, 'Q?');
  });

  test('LLMBar label 1|2 orients the pair; PandaLM votes by majority, no majority is a tie (JSON array with NaN)', async () => {
    const lb = await load(
      'llmbar.json',
      JSON.stringify([
        { input: 'Say hi', output_1: 'bye', output_2: 'hi', label: 2 },
        { input: 'Say yo', output_1: 'yo', output_2: 'no', label: 1 },
      ]),
    );
    assert.equal(lb.report.format, 'llmbar');
    assert.deepEqual(
      lb.pairs.map((p) => [p.chosen, p.rejected]),
      [
        ['hi', 'bye'],
        ['yo', 'no'],
      ],
    );
    assert.deepEqual(lb.lines, [1, 1]); // one-line JSON array: every element starts on line 1

    const panda = `[\n  {"idx": 7, "instruction": "Translate", "input": NaN,\n   "response1": "r1", "response2": "r2", "annotator1": 2, "annotator2": 2, "annotator3": 1},\n  {"idx": 8, "instruction": "Sum", "input": "1 2", "response1": "3", "response2": "4", "annotator1": 1, "annotator2": 2, "annotator3": 0},\n  {"idx": 9, "instruction": "Sum", "input": "2 2", "response1": "4", "response2": "four", "annotator1": 0, "annotator2": 0, "annotator3": 1}\n]\n`;
    const p = await load('panda.json', panda);
    assert.equal(p.report.format, 'pandalm');
    assert.deepEqual(p.lines, [2, 4, 5]);
    assert.deepEqual(p.pairs[0], { id: '7', prompt: 'Translate', chosen: 'r2', rejected: 'r1', meta: { votes: [2, 2, 1] } });
    assert.equal(p.pairs[1]?.prompt, 'Sum\n\n1 2');
    assert.deepEqual([p.pairs[1]?.tie, p.pairs[2]?.tie], [true, true]);
    const skipped = await load('panda2.json', panda, { ties: 'skip' });
    assert.deepEqual([skipped.pairs.length, skipped.report.skippedTies], [1, 2]);
  });

  test('genrm PreferencePair JSONL reads back exactly', async () => {
    const pair: PreferencePair = {
      id: 'x1',
      prompt: [user('q')],
      chosen: 'a',
      rejected: 'b',
      tie: true,
      category: 'chat',
      split: 'train',
      meta: { k: 1 },
    };
    const { pairs, report } = await load('own.jsonl', jsonl(pair));
    assert.equal(report.format, 'genrm');
    assert.deepEqual(pairs[0], pair);
  });

  test('unknown fields: an error naming the fields seen and the flags to use', async () => {
    const e = await loadFailure('odd.jsonl', jsonl({ question: 'q', good: 'a', bad: 'b' }));
    assert.ok(e instanceof FileError);
    assert.match(e.message, /odd\.jsonl:1: .*cannot tell the format from the fields \[question, good, bad\].*--prompt-field/);
  });
});

describe('generic mapping and CSV', () => {
  test('CSV with quoted commas, doubled quotes and newlines inside fields; line of each row', async () => {
    const csv = 'prompt,chosen,rejected\n"Hello, world","two\nlines","say ""hi"""\nplain,a,b\n';
    const { pairs, lines, report } = await load('g.csv', csv);
    assert.equal(report.container, 'csv');
    assert.deepEqual([pairs[0]?.prompt, pairs[0]?.chosen, pairs[0]?.rejected], ['Hello, world', 'two\nlines', 'say "hi"']);
    assert.deepEqual(lines, [2, 4]); // the first row spans lines 2-3: named by the line it starts on
  });

  test('field flags: nested paths, a label with custom values, ids', async () => {
    const { pairs, report } = await load(
      'gen.jsonl',
      jsonl(
        { q: { text: 'Pick' }, a: 'x', b: 'y', winner: 'B', uid: 'u1' },
        { q: { text: 'Pick2' }, a: 'x2', b: 'y2', winner: 'same', uid: 'u2' },
      ),
      {
        fields: {
          prompt: 'q.text',
          chosen: 'a',
          rejected: 'b',
          label: 'winner',
          labelValues: { first: 'A', second: 'B', tie: 'same' },
          id: 'uid',
        },
      },
    );
    assert.equal(report.format, 'generic');
    assert.deepEqual(
      pairs.map((p) => [p.id, p.prompt, p.chosen, p.rejected, p.tie ?? false]),
      [
        ['u1', 'Pick', 'y', 'x', false],
        ['u2', 'Pick2', 'x2', 'y2', true],
      ],
    );
    const e = await loadFailure('gen2.jsonl', jsonl({ p: 'q', a: 'x', b: 'y', l: 1 }, { p: 'q2', a: 'x', b: 'y', l: 3 }), {
      fields: { prompt: 'p', chosen: 'a', rejected: 'b', label: 'l', labelValues: { first: '1', second: '2' } },
    });
    assert.ok(e instanceof FileError);
    assert.match(e.message, /gen2\.jsonl: field "l": label values "3" are not in --label-values 1,2 \(the file holds "1", "3"\)/);
  });
});

describe('bad input', () => {
  const good = { prompt: 'p', chosen: 'a', rejected: 'b' };
  const cases: [string, string | Buffer, string, RegExp][] = [
    ['bad JSON', jsonl(good) + '{"prompt": "p", "chosen": \n', 'json', /:2: not valid JSON/],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from(jsonl(good)),
        Buffer.from('{"prompt":"p","chosen":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('","rejected":"b"}\n'),
      ]),
      'encoding',
      /:2: not valid UTF-8/,
    ],
    ['empty prompt', jsonl(good, { prompt: '  ', chosen: 'a', rejected: 'b' }), 'empty-field', /:2: field "prompt": empty/],
    [
      'identical answers',
      jsonl(good, good, { prompt: 'p', chosen: 'same', rejected: 'same' }),
      'identical',
      /:3: field "rejected": chosen and rejected are the same/,
    ],
    [
      'prompt too long',
      jsonl(good, { prompt: 'x'.repeat(50), chosen: 'a', rejected: 'b' }),
      'too-long',
      /:2: field "prompt": 50 chars, over the limit of 40/,
    ],
    [
      'wrong type',
      jsonl(good, { prompt: 'p', chosen: { text: 'a' }, rejected: 'b' }),
      'wrong-type',
      /:2: field "chosen": expected text or a list of messages/,
    ],
    [
      'prefix mismatch',
      jsonl({ chosen: [user('a'), bot('x')], rejected: [user('b'), bot('y')] }),
      'prefix-mismatch',
      /:1: field "rejected": chosen and rejected differ before their last assistant turn/,
    ],
  ];
  for (const [name, content, reason, re] of cases)
    test(`${name}: error names file and line`, async () => {
      const e = await loadError(`bad-${reason}-${name.replace(/ /g, '')}.jsonl`, content, { maxPromptChars: 40 });
      assert.equal(e.reason, reason);
      assert.match(e.message, new RegExp(`bad-${reason}-${name.replace(/ /g, '')}\\.jsonl${re.source}`));
    });

  test('label outside its range (LLMBar) and a bad vote (PandaLM)', async () => {
    const e1 = await loadError(
      'lb.jsonl',
      jsonl({ input: 'i', output_1: 'a', output_2: 'b', label: 1 }, { input: 'i', output_1: 'a', output_2: 'b', label: 3 }),
    );
    assert.match(e1.message, /lb\.jsonl:2: field "label": label "3" is outside its range: expected 1 \| 2/);
    const e2 = await loadError('pd.jsonl', jsonl({ instruction: 'i', response1: 'a', response2: 'b', annotator1: 1, annotator2: 7 }));
    assert.match(e2.message, /pd\.jsonl:1: field "annotator2": label "7".*expected 1 \| 2 \| 0/);
  });

  test('--skip-invalid: skips, yields the rest, counts each reason, keeps examples', async () => {
    const content = Buffer.concat([
      Buffer.from(jsonl(good, { prompt: 'p', chosen: 'a', rejected: 'a' }, { prompt: '', chosen: 'a', rejected: 'b' })),
      Buffer.from('not json\n'),
      Buffer.from([0xff, 0x0a]),
      Buffer.from(jsonl({ prompt: 'q', chosen: 'c', rejected: 'd' }, { prompt: 'r', chosen: 'c', rejected: 'c ' })),
    ]);
    const { pairs, lines, report } = await load('mixed.jsonl', content, { skipInvalid: true });
    assert.deepEqual(lines, [1, 6]);
    assert.equal(pairs.length, 2);
    assert.equal(report.records, 7);
    assert.equal(report.invalidTotal, 5);
    assert.deepEqual([report.invalid.identical, report.invalid['empty-field'], report.invalid.json, report.invalid.encoding], [2, 1, 1, 1]);
    assert.deepEqual(report.invalidLines.identical, [2, 7]);
    assert.match(report.examples.identical?.[1] ?? '', /mixed\.jsonl:7:/);
  });

  test('a truncated JSON array and a CSV row with the wrong column count are named', async () => {
    const e = await loadError('t.json', '[\n{"prompt":"p","chosen":"a","rejected":"b"},\n{"prompt":"p",\n');
    assert.match(e.message, /t\.json:3: the JSON array is not closed/);
    const c = await loadError('c.csv', 'prompt,chosen,rejected\np,a,b\np,a\n');
    assert.equal(c.reason, 'csv');
    assert.match(c.message, /c\.csv:3: expected 3 columns as in the header, found 2/);
  });
});
