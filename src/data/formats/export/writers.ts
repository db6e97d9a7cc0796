// SFT/DPO examples -> the JSONL that other trainers read: TRL (SFTTrainer, DPOTrainer) and the
// OpenAI fine-tuning API (supervised and preference). Field layouts: see schemas.ts.
import type { ChatMessage } from '../../pair.js';
import { writeJsonlStream } from '../../jsonl.js';
import type { DpoExample, SftExample } from './examples.js';

export const SFT_TARGETS = ['trl-messages', 'trl-prompt-completion', 'trl-prompt-completion-chat', 'openai-sft'] as const;
export const DPO_TARGETS = ['trl-dpo', 'trl-dpo-chat', 'openai-dpo'] as const;
export type SftTarget = (typeof SFT_TARGETS)[number];
export type DpoTarget = (typeof DPO_TARGETS)[number];

const head = (prompt: string, system?: string): ChatMessage[] => [
  ...(system === undefined ? [] : [{ role: 'system', content: system }]),
  { role: 'user', content: prompt },
];
const said = (content: string): ChatMessage[] => [{ role: 'assistant', content }];

export function sftRecord(ex: SftExample, target: SftTarget): Record<string, unknown> {
  switch (target) {
    case 'trl-messages':
    case 'openai-sft':
      // The same layout: one conversation ending in the assistant turn to learn.
      return { messages: [...head(ex.prompt, ex.system), ...said(ex.completion)] };
    case 'trl-prompt-completion':
      // Standard form has no system slot: it goes in front of the prompt text.
      return { prompt: ex.system === undefined ? ex.prompt : `${ex.system}\n\n${ex.prompt}`, completion: ex.completion };
    case 'trl-prompt-completion-chat':
      return { prompt: head(ex.prompt, ex.system), completion: said(ex.completion) };
  }
}

export function dpoRecord(ex: DpoExample, target: DpoTarget): Record<string, unknown> {
  switch (target) {
    case 'trl-dpo':
      return { prompt: ex.system === undefined ? ex.prompt : `${ex.system}\n\n${ex.prompt}`, chosen: ex.chosen, rejected: ex.rejected };
    case 'trl-dpo-chat':
      return { prompt: head(ex.prompt, ex.system), chosen: said(ex.chosen), rejected: said(ex.rejected) };
    case 'openai-dpo':
      return {
        input: { messages: head(ex.prompt, ex.system) },
        preferred_output: said(ex.chosen),
        non_preferred_output: said(ex.rejected),
      };
  }
}

async function* mapAsync<T, U>(xs: AsyncIterable<T> | Iterable<T>, f: (x: T) => U): AsyncGenerator<U> {
  for await (const x of xs) yield f(x);
}

/** Streams SFT examples into `file` (atomic) in the target's layout; returns the count. */
export function writeSft(file: string, examples: AsyncIterable<SftExample> | Iterable<SftExample>, target: SftTarget): Promise<number> {
  return writeJsonlStream(
    file,
    mapAsync(examples, (e) => sftRecord(e, target)),
  );
}

export function writeDpo(file: string, examples: AsyncIterable<DpoExample> | Iterable<DpoExample>, target: DpoTarget): Promise<number> {
  return writeJsonlStream(
    file,
    mapAsync(examples, (e) => dpoRecord(e, target)),
  );
}
