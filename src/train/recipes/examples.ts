// (prompt, target) texts -> token examples for the padded stream, trained on the target only.
// Prompt and target are encoded separately and joined, so the boundary is exactly where the
// model starts writing (as at generation time, when the prompt is encoded alone). Special tokens
// are parsed: the judge format escapes verdict text inside content, so the only specials are the
// ones the format put there (the verdict, and the hint of the rationalize form).
//
// Context policy: an example longer than the context is refused with an error naming it, or
// (overflow 'skip') dropped and counted. It is never truncated: cutting the end loses the
// verdict, cutting the start loses the question, and both would train the wrong thing.
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { completionExample, type LmExample } from '../batches.js';
import type { TextExample } from './data.js';
import { encodePrompt } from '../../backends/embedded/render.js';

export interface TokenizeOptions {
  /** Longest example in tokens (the model's context, maxSeqLen). */
  maxTokens: number;
  overflow: 'error' | 'skip';
  /** Append end-of-text to the target (trained): teaches a sampled rationale to stop after its verdict. */
  appendEot?: boolean;
}

export interface Tokenized {
  examples: LmExample[];
  /** Sources of the examples dropped for length (overflow 'skip'). */
  skipped: string[];
  /** Longest kept example, in tokens. */
  longest: number;
  /** Trained (target) tokens over all kept examples. */
  targetTokens: number;
}

export function tokenizeExamples(tok: Tokenizer, texts: readonly TextExample[], o: TokenizeOptions): Tokenized {
  const examples: LmExample[] = [];
  const skipped: string[] = [];
  let longest = 0;
  let targetTokens = 0;
  for (const t of texts) {
    const prompt = encodePrompt(tok, t.prompt); // BOS first, exactly as the judge will see it
    const target = tok.encode(t.target, { specials: 'parse' });
    if (o.appendEot) target.push(tok.eotId);
    if (target.length === 0) throw new Error(`${t.source}: empty target; nothing to train on`);
    if (prompt.length === 0) throw new Error(`${t.source}: empty prompt`);
    const n = prompt.length + target.length;
    // The model reads n-1 tokens (the last one is only a target): that must fit the context.
    if (n - 1 > o.maxTokens) {
      const msg = `${t.source}: ${n} tokens (prompt ${prompt.length} + target ${target.length}) read as ${n - 1} positions, more than the model's context of ${o.maxTokens}`;
      if (o.overflow === 'error')
        throw new Error(
          `${msg}; shorten the data, use a model with a longer context, or set overflow: skip to drop such examples (never truncated: the verdict or the question would be cut)`,
        );
      skipped.push(t.source);
      continue;
    }
    examples.push(completionExample(prompt, target));
    longest = Math.max(longest, n);
    targetTokens += target.length;
  }
  return { examples, skipped, longest, targetTokens };
}
