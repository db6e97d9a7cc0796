// Answers longer than the model's context. Policy (JudgeConfig.contextPolicy):
//   refuse           — a ContextLengthError naming the item, the tokens needed and the context;
//   truncate-answers — cut the answers (the longer one first, keeping their heads), mark each cut
//                      with "[truncated]", and re-render, so the question, the template and the
//                      verdict position at its end are never cut.
// The check needs the backend's context length (capabilities.contextLength) and a token counter
// (countTokens). A backend without them is not checked here: a server then refuses an oversized
// request itself with a 400 (APIError), never a silently shortened prompt.
import { GenrmError } from '../util/errors.js';
import type { LanguageModel, Prompt } from '../backends/types.js';

export class ContextLengthError extends GenrmError {
  constructor(
    readonly item: string,
    readonly needed: number,
    readonly contextLength: number,
  ) {
    super(
      `${item}: needs ${needed} tokens (prompt + generation budget) but the model's context is ${contextLength}; ` +
        `shorten the answers, lower maxTokens, or set contextPolicy "truncate-answers"`,
      'bad_input',
    );
    this.name = 'ContextLengthError';
  }
}

export const TRUNCATION_MARK = ' [truncated]';

function promptText(p: Prompt): string {
  return typeof p === 'string' ? p : p.map((m) => m.content).join('\n');
}

/**
 * Render `answers` into a prompt that fits `budget` generated tokens within the context.
 * `render` builds the prompt from (possibly shortened) answers. Returns the prompt and whether
 * anything was cut.
 */
export async function fitAnswers(
  model: LanguageModel,
  answers: string[],
  render: (answers: string[]) => Prompt,
  budget: number,
  policy: 'refuse' | 'truncate-answers',
  item: string,
): Promise<{ prompt: Prompt; truncated: boolean }> {
  const ctx = model.capabilities.contextLength;
  const full = render(answers);
  if (ctx === undefined || !model.countTokens) return { prompt: full, truncated: false };
  const count = async (p: Prompt): Promise<number> => (model.countTokens as (t: string) => Promise<number>)(promptText(p));
  const needed = (await count(full)) + budget;
  if (needed <= ctx) return { prompt: full, truncated: false };
  if (policy === 'refuse') throw new ContextLengthError(item, needed, ctx);

  // Shrink a shared character cap on every answer (binary search): the longest answers give up
  // the most, short ones stay whole.
  const cut = (cap: number): string[] => answers.map((a) => (a.length > cap ? a.slice(0, cap) + TRUNCATION_MARK : a));
  let lo = 0;
  let hi = Math.max(...answers.map((a) => a.length));
  if ((await count(render(cut(0)))) + budget > ctx) {
    throw new ContextLengthError(`${item} (even with empty answers)`, (await count(render(cut(0)))) + budget, ctx);
  }
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if ((await count(render(cut(mid)))) + budget <= ctx) lo = mid;
    else hi = mid - 1;
  }
  return { prompt: render(cut(lo)), truncated: true };
}
