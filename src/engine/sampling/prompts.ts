// Checks on token-id prompts shared by generation and scoring: a bad prompt is an error that
// names the call, the prompt's index and the limit, before any kernel runs.
import type { ModelConfig } from '../model/config.js';

export function checkPrompts(op: string, prompts: readonly (readonly number[])[], c: ModelConfig, what = 'prompt'): void {
  prompts.forEach((p, i) => {
    if (p.length === 0)
      throw new RangeError(`${op}: ${what} ${i} is empty; start it with the end-of-text token (genrm's beginning of sequence)`);
    if (p.length > c.maxSeqLen)
      throw new RangeError(
        `${op}: ${what} ${i} has ${p.length} tokens, longer than the model's context (maxSeqLen ${c.maxSeqLen}); shorten it or use a model with a longer context`,
      );
    for (let t = 0; t < p.length; t++) {
      const id = p[t]!;
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize)
        throw new RangeError(`${op}: ${what} ${i} has token ${id} at position ${t}, outside the vocabulary [0, ${c.vocabSize})`);
    }
  });
}
