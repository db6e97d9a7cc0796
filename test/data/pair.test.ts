import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readPairsAll, writePairs, type PreferencePair } from '../../src/data/pair.js';
import { JsonlError } from '../../src/data/jsonl.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'genrm-pair-'));

test('PreferencePair JSONL round-trips, chat-message prompts included', async () => {
  const dir = tmp();
  const file = join(dir, 'p.jsonl');
  const pairs: PreferencePair[] = [
    {
      id: 'a',
      prompt: 'What is 2+2?',
      chosen: '4',
      rejected: '5',
      category: 'chat',
      subset: 'add',
      split: 'train',
      meta: { difficulty: 1 },
    },
    {
      id: 'b',
      prompt: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'bye?' },
      ],
      chosen: 'bye',
      rejected: 'no',
      tie: true,
    },
  ];
  await writePairs(file, pairs);
  assert.deepEqual(await readPairsAll(file), pairs);
  assert.equal(readFileSync(file, 'utf8').split('\n').length, 3); // two lines + trailing newline
  rmSync(dir, { recursive: true });
});

test('a bad record is an error naming the file, the line and the field', async () => {
  const dir = tmp();
  const file = join(dir, 'bad.jsonl');
  const good = JSON.stringify({ id: 'a', prompt: 'q', chosen: 'x', rejected: 'y' });
  writeFileSync(file, [good, '', JSON.stringify({ id: 'b', prompt: 'q', chosen: 7, rejected: 'y' })].join('\n'));
  await assert.rejects(readPairsAll(file), (e: unknown) => {
    assert.ok(e instanceof JsonlError);
    assert.equal(e.line, 3);
    assert.equal(e.field, 'chosen');
    assert.match(e.message, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: field "chosen"`));
    return true;
  });
  writeFileSync(file, `${good}\n{"id": "c", "prompt": [{"role": "user"}], "chosen": "x", "rejected": "y"}\n`);
  await assert.rejects(readPairsAll(file), /bad\.jsonl:2: field "prompt/);
  writeFileSync(file, `${good}\n{not json\n`);
  await assert.rejects(readPairsAll(file), /bad\.jsonl:2: not valid JSON/);
  rmSync(dir, { recursive: true });
});
