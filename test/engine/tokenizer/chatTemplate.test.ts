// genrm's compact chat form exists twice: as code (the embedded backend's renderChat) and as the
// Jinja template exported files carry (tokenizer_config.json, GGUF tokenizer.chat_template). A
// loader that renders the template must write exactly what the engine writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChat } from '../../../src/backends/embedded/render.js';
import { compileChatTemplate } from '../../../src/engine/hf/chatTemplate.js';
import { COMPACT_CHAT_TEMPLATE, END_OF_TEXT } from '../../../src/engine/tokenizer/index.js';

const render = compileChatTemplate(COMPACT_CHAT_TEMPLATE, 'test');
const CASES: Array<Array<{ role: 'system' | 'user' | 'assistant'; content: string }>> = [
  [{ role: 'user', content: 'What is 2+3?' }],
  [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'two\nlines, {{ not jinja }} {% neither %}' },
    { role: 'assistant', content: "It's [[A]]: quotes ' and \" and \\ too" },
    { role: 'user', content: 'and?' },
  ],
];

test("the compact chat template renders exactly BOS + renderChat (the engine's own form)", () => {
  for (const messages of CASES)
    assert.equal(render(messages, { bosToken: END_OF_TEXT, eosToken: END_OF_TEXT }), END_OF_TEXT + renderChat(messages));
});

test('without add_generation_prompt the assistant cue is left out', () => {
  const m = CASES[0]!;
  assert.equal(render(m, { bosToken: '<s>', eosToken: '</s>', addGenerationPrompt: false }), '<s>user: What is 2+3?');
});

test('a template that does not parse is refused naming where it came from', () => {
  assert.throws(
    () => compileChatTemplate('{% for m in messages %}', 'x.gguf tokenizer.chat_template'),
    /x\.gguf tokenizer\.chat_template: the chat template does not parse/,
  );
});
