// The documented line layouts of each export target, as zod schemas. Tests check every exported
// line against them; they are written from the targets' documentation, not from our exporter:
// - TRL: huggingface.co/docs/trl/dataset_formats ("Language modeling" conversational = messages;
//   "Prompt-completion" and "Preference", standard and conversational).
// - OpenAI supervised fine-tuning: platform.openai.com/docs/guides/supervised-fine-tuning
//   (one {"messages": [...]} per line; roles system/user/assistant).
// - OpenAI preference fine-tuning (DPO): platform.openai.com/docs/guides/direct-preference-optimization
//   ({"input": {"messages": [...]}, "preferred_output": [assistant msg], "non_preferred_output": [assistant msg]}).
import { z } from 'zod';

const msg = (role: z.ZodType<string>) => z.object({ role, content: z.string() }).strict();
const anyRole = z.enum(['system', 'user', 'assistant']);
const assistant = msg(z.literal('assistant'));
const conversation = z.array(msg(anyRole)).min(1);
const nonEmpty = z.string().min(1);

export const TrlSftMessages = z.object({ messages: conversation }).strict();
export const TrlSftPromptCompletion = z.object({ prompt: nonEmpty, completion: nonEmpty }).strict();
export const TrlSftPromptCompletionChat = z.object({ prompt: conversation, completion: z.array(assistant).min(1) }).strict();
export const TrlDpo = z.object({ prompt: nonEmpty, chosen: nonEmpty, rejected: nonEmpty }).strict();
export const TrlDpoChat = z
  .object({ prompt: conversation, chosen: z.array(assistant).min(1), rejected: z.array(assistant).min(1) })
  .strict();
export const OpenAiSft = z
  .object({ messages: conversation })
  .strict()
  .refine((r) => r.messages.some((m) => m.role === 'assistant'), 'an example needs at least one assistant message to learn from');
export const OpenAiDpo = z
  .object({
    input: z.object({ messages: conversation }).strict(),
    // "Both outputs must contain exactly one message from the assistant role."
    preferred_output: z.array(assistant).length(1),
    non_preferred_output: z.array(assistant).length(1),
  })
  .strict();
