// Language-model judges (a checkpoint of kind 'lm' through the embedded backend, the zero-shot
// base, or a server) judged through src/judge's judgePairs: the same templates, verdict parsing
// and order swap as `genrm judge`. Both orders are always judged (chosen first and chosen second),
// so accuracy per order and swap agreement come from every run; src/judge's chosenShownFirst(id,
// seed) says which of them is order 1 (the STaR sampler follows the same rule). CoT samples
// `votes` rationales per order ONCE; maj@k for every k is read from the first k of those samples
// (src/eval/metrics).
//
// Batching: `chunkPairs` pairs go to judgePairs at a time; it renders both orders and asks the
// backend for all (pairs × votes) rows of an order in one generate call, which the embedded engine
// decodes together in batches of up to maxBatchRows rows. Chunks exist only to report progress.
import type { LanguageModel } from '../../backends/types.js';
import type { PreferencePair } from '../../data/pair.js';
import { resolveJudgeConfig, type JudgeConfig } from '../../judge/config.js';
import { chosenShownFirst, judgePairs, shownPair } from '../../judge/pairwise.js';
import { resolveTemplate } from '../../judge/resolveTemplate.js';
import { recordFromJudgment } from '../fromJudge.js';
import type { JudgeRecord } from '../records.js';
import type { EvalSet } from './data.js';

export interface LmEvalOptions {
  method: string;
  iteration?: number;
  mode: 'direct' | 'cot';
  /** CoT rationales per order (one set; maj@k for k ≤ votes comes from it). */
  votes: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
  /** Judge template (src/judge/resolveTemplate.ts): 'auto' = compact for genrm models. */
  template: string;
  contextPolicy: JudgeConfig['contextPolicy'];
  /** Pairs per judgePairs call (progress granularity; the backend batches inside each call). */
  chunkPairs: number;
  keepRationales: boolean;
  /** Called after each chunk with pairs done, total pairs (this set). */
  onProgress?: (done: number, total: number) => void;
}

export function lmJudgeConfig(o: LmEvalOptions): JudgeConfig {
  return resolveJudgeConfig(
    {
      mode: o.mode,
      votes: o.mode === 'cot' ? o.votes : 1,
      temperature: o.temperature,
      topP: o.topP,
      maxTokens: o.maxTokens,
      swap: true,
      seed: o.seed,
      template: o.template,
      contextPolicy: o.contextPolicy,
    },
    'genrm eval',
  );
}

/** Judges every pair of one set in both orders; one record per pair, in input order. */
export async function lmRecords(model: LanguageModel, set: EvalSet, o: LmEvalOptions): Promise<JudgeRecord[]> {
  const cfg = lmJudgeConfig(o);
  const template = resolveTemplate(cfg.template, 'pair', model.capabilities);
  const out: JudgeRecord[] = [];
  const chunk = Math.max(1, o.chunkPairs);
  for (let s = 0; s < set.pairs.length; s += chunk) {
    const part: PreferencePair[] = set.pairs.slice(s, s + chunk);
    const first = part.map((p) => chosenShownFirst(p.id, cfg.seed));
    const inputs = part.map((p) => shownPair(p, cfg.seed));
    let js;
    try {
      js = await judgePairs(model, inputs, template, cfg);
    } catch (e) {
      throw new Error(`${set.file}: judging pairs ${s + 1}-${s + part.length}: ${(e as Error).message}`);
    }
    js.forEach((j, i) => {
      const pair = part[i]!;
      const grader = o.mode === 'cot' ? (set.checker?.(pair) ?? undefined) : undefined;
      out.push(
        recordFromJudgment(pair, j, {
          method: o.method,
          chosenSlot: first[i] ? 'A' : 'B',
          ...(o.iteration !== undefined ? { iteration: o.iteration } : {}),
          ...(o.keepRationales ? { keepRationales: true } : {}),
          ...(grader ? { gradeRationale: grader } : {}), // the whole grade: result, restating, checks
        }),
      );
    });
    o.onProgress?.(Math.min(set.pairs.length, s + chunk), set.pairs.length);
  }
  return out;
}
