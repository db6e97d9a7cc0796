// How the embedded backend turns a Prompt into token ids.
//
// - Text prompts are genrm's own templates (the judge format, corpus layouts): special-token text
//   such as "[[A]]" is parsed into the special token ('parse'). The judge format escapes answer
//   content, so an answer cannot forge a verdict token.
// - Chat messages are rendered in genrm's compact chat form (docs/ARCHITECTURE.md, judgeFormat.promptText:
//   one "role: content" line per message) followed by an "assistant: " cue, and encoded 'plain':
//   message content is untrusted text and never becomes a special token.
// Every prompt starts with the end-of-text token, genrm's beginning of sequence (pretraining
// packs documents separated by it, so it is what the model saw before every document).
// A Hugging Face model's tokenizer (src/engine/hf/engineTokenizer.ts) brings its own BOS and
// renders chat messages with the model's chat template instead.
import { promptText } from '../../data/judgeFormat.js';
import type { EngineTokenizer } from '../../engine/tokenizer/index.js';
import { isChatPrompt, type ChatMessage, type Prompt } from '../types.js';

export const ASSISTANT_CUE = 'assistant: ';

/** The compact chat form of a message list, ending where the assistant's reply begins. */
export function renderChat(messages: readonly ChatMessage[]): string {
  return `${promptText(messages.map((m) => ({ role: m.role, content: m.content })))}\n${ASSISTANT_CUE}`;
}

/** Token ids of a prompt, beginning-of-sequence first. */
export function encodePrompt(tok: EngineTokenizer, prompt: Prompt): number[] {
  if (isChatPrompt(prompt) && tok.renderChat) return tok.encode(tok.renderChat(prompt), { specials: 'parse' }); // the template writes its own BOS
  const bos = tok.bosIds ?? [tok.eotId];
  if (isChatPrompt(prompt)) return [...bos, ...tok.encode(renderChat(prompt), { specials: 'plain' })];
  return [...bos, ...tok.encode(prompt, { specials: 'parse' })];
}

/** Token ids of text the model itself writes (continuations, candidates): specials parsed. */
export function encodeContinuation(tok: EngineTokenizer, text: string): number[] {
  return tok.encode(text, { specials: 'parse' });
}
