// PreferencePair (docs/ARCHITECTURE.md, Contracts): the one record every part of genrm trades preference data in.
// `prompt` is a string or chat messages; `chosen`/`rejected` are the final answers (for
// multi-turn data the last assistant turn, the rest belongs to `prompt`). Field names follow
// RewardBench where it has them (`subset`, `chosen`, `rejected`).
import { z } from 'zod';
import { readJsonlAll, writeJsonl } from './jsonl.js';

export const ChatMessageSchema = z.object({
  role: z.string().min(1),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const PromptSchema = z.union([z.string(), z.array(ChatMessageSchema).min(1)]);
export type Prompt = z.infer<typeof PromptSchema>;

export const PreferencePairSchema = z.object({
  id: z.string().min(1),
  prompt: PromptSchema,
  chosen: z.string(),
  rejected: z.string(),
  /** true: the two answers are equally good (then in any order). */
  tie: z.boolean().optional(),
  /** RewardBench-like: chat, chat-hard, safety, reasoning; imported data may use its own. */
  category: z.string().optional(),
  /** The finer grouping (RewardBench's subset; PrefWorld's task family). */
  subset: z.string().optional(),
  split: z.string().optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});
export type PreferencePair = z.infer<typeof PreferencePairSchema>;

export function readPairsAll(file: string): Promise<PreferencePair[]> {
  return readJsonlAll(file, PreferencePairSchema);
}

export function writePairs(file: string, pairs: Iterable<PreferencePair>): Promise<void> {
  return writeJsonl(file, pairs);
}
