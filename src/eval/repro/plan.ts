// Sampling dominates a repro run, so its sample counts are planned from a measurement instead of
// fixed: at the start, the base model writes CoT judge rationales for a few pairs in one batched
// generate call shaped like the evaluation's (one full batch; seconds); that gives tokens/s and the mean rationale length, and from the
// size's generation budget the number of pairs every sampling stage uses follows. With S STaR
// rows (star-sft, star-dpo and their +checked variants) and I iterations:
//
//   rows per pair  = eval:        2 splits × 2 orders × votes × (2 + S × I) CoT judges (zero-shot
//                                 CoT, rationalize, every STaR row's iterations)
//                  + rationalize: 2 orders × hinted samples
//                  + STaR:        (1 + S × (I − 1)) × 2 orders × k (iteration 1 samples the base
//                                 for every STaR row alike, so it is sampled once and shared)
//   pairs          = budget × tokens/s ÷ (mean tokens per rationale × rows per pair), clamped to the size's bounds
//
// The same count is used for the eval pairs per split (raised to the size's minEvalPairs, whatever
// the budget says: fewer cannot decide a claim), the rationalize pairs and the STaR pairs per
// iteration. The plan is saved with the run, so a resumed run keeps it.
import type { LanguageModel } from '../../backends/types.js';
import type { PreferencePair } from '../../data/pair.js';
import { resolveTemplate } from '../../judge/resolveTemplate.js';
import { questionText } from '../../judge/templates.js';
import type { SizeSettings } from './settings.js';

export interface Throughput {
  rows: number;
  tokens: number;
  seconds: number;
  tokensPerSec: number;
  meanTokens: number;
}

/** One batched generate call of CoT judge rationales (n = 2 per pair) from the model; tokens/s and mean length. */
export async function measureGeneration(
  model: LanguageModel,
  pairs: readonly PreferencePair[],
  o: { maxTokens: number; rows: number; n: number; seed: number },
): Promise<Throughput> {
  const t = resolveTemplate('auto', 'pair', model.capabilities);
  const use = pairs.slice(0, Math.max(1, Math.ceil(o.rows / o.n)));
  if (use.length === 0) throw new Error('plan: no pairs to measure generation on');
  const prompts = use.map((p) =>
    t.render({ question: questionText(p.prompt as Parameters<typeof questionText>[0]), answerA: p.chosen, answerB: p.rejected }, 'cot'),
  );
  const t0 = performance.now();
  const gens = await model.generate(prompts, { n: o.n, temperature: 1, topP: 0.95, maxTokens: o.maxTokens, seed: o.seed });
  const seconds = (performance.now() - t0) / 1000;
  let tokens = 0;
  let rows = 0;
  for (const g of gens) for (const s of g.samples) ((tokens += s.tokens.length), rows++);
  return { rows, tokens, seconds, tokensPerSec: tokens / Math.max(seconds, 1e-9), meanTokens: Math.max(1, tokens / Math.max(rows, 1)) };
}

export interface SamplePlan {
  throughput: Throughput;
  budgetSeconds: number;
  rowsPerPair: { eval: number; rationalize: number; star: number };
  /** Pairs per split judged by every method. */
  evalPairs: number;
  rationalizePairs: number;
  /** Pairs per STaR iteration. */
  starPairs: number;
  votes: number;
  starK: number;
  starIterations: number;
  rationalizeSamples: number;
  /** Rows and seconds of generation the plan expects. */
  plannedRows: number;
  plannedSeconds: number;
  /** How the plan was made, in words (the report quotes it). */
  text: string;
}

export interface Available {
  testId: number;
  testOod: number;
  train: number;
}

export function planSamples(s: SizeSettings, tp: Throughput, avail: Available, starRows: number): SamplePlan {
  const I = s.starIterations;
  const cotJudges = 2 + starRows * I;
  const starSamplings = 1 + starRows * (I - 1);
  // The last iteration of each STaR row (and the zero-shot and rationalize judges) at `votes`, earlier iterations at `iterationVotes`.
  const evalVotes = s.votes * (2 + starRows) + s.iterationVotes * starRows * (I - 1);
  const rows = { eval: 2 * 2 * evalVotes, rationalize: 2 * s.rationalizeSamples, star: starSamplings * 2 * s.starK };
  const perPair = rows.eval + rows.rationalize + rows.star;
  const affordable = Math.floor((s.samplingSeconds * tp.tokensPerSec) / (tp.meanTokens * perPair));
  const P = Math.max(s.minPairs, Math.min(s.maxPairs, affordable));
  const evalPairs = Math.min(Math.max(P, s.minEvalPairs), avail.testId, avail.testOod);
  // STaR's slices and rationalize's pairs come out of train (the STaR slices do not overlap).
  const starPairs = Math.max(1, Math.min(P, Math.floor(avail.train / I)));
  const rationalizePairs = Math.min(P, avail.train);
  const plannedRows = evalPairs * rows.eval + rationalizePairs * rows.rationalize + starPairs * rows.star;
  const plannedSeconds = (plannedRows * tp.meanTokens) / tp.tokensPerSec;
  const clampNote =
    affordable < s.minPairs
      ? ` (raised to the floor of ${s.minPairs}: the budget affords ${affordable})`
      : affordable > s.maxPairs
        ? ` (capped at ${s.maxPairs}; the budget affords ${affordable})`
        : '';
  const text =
    `Batched generation measured at the start: ${tp.rows} CoT rationales from the base model in one call, ${tp.tokens} tokens in ${tp.seconds.toFixed(1)} s = ${tp.tokensPerSec.toFixed(0)} tokens/s, ${tp.meanTokens.toFixed(0)} tokens per rationale. ` +
    `Each pair costs ${perPair} sampled rows: ${rows.eval} for evaluation (2 splits × 2 orders × ${cotJudges} CoT judges: ${2 + starRows} × ${s.votes} votes${I > 1 ? ` and ${starRows * (I - 1)} earlier STaR iterations × ${s.iterationVotes}` : ''}), ${rows.rationalize} for rationalize (2 orders × ${s.rationalizeSamples}), ${rows.star} for STaR (${starSamplings} sampling${starSamplings > 1 ? 's' : ''}: iteration 1 shared by the ${starRows} STaR rows${I > 1 ? `, then ${starRows} × ${I - 1} later iterations` : ''}; × 2 orders × k = ${s.starK}). ` +
    `A generation budget of ${s.samplingSeconds} s then affords ${P} pairs${clampNote}: ${evalPairs} per split judged by every method${evalPairs > P ? ` (raised to the floor of ${s.minEvalPairs} eval pairs)` : ''}, ${rationalizePairs} rationalize pairs, ${starPairs} STaR pairs per iteration; ` +
    `${plannedRows} rows ≈ ${Math.round(plannedSeconds)} s of generation expected (trained judges that stop at their verdict, and models equal to one judged before, take less)` +
    (plannedSeconds > s.samplingSeconds * 1.05
      ? `; that is ${Math.round(plannedSeconds - s.samplingSeconds)} s over the budget, because the eval floor of ${s.minEvalPairs} pairs per split is above what it affords.`
      : '.');
  return {
    throughput: tp,
    budgetSeconds: s.samplingSeconds,
    rowsPerPair: rows,
    evalPairs,
    rationalizePairs,
    starPairs,
    votes: s.votes,
    starK: s.starK,
    starIterations: I,
    rationalizeSamples: s.rationalizeSamples,
    plannedRows,
    plannedSeconds,
    text,
  };
}
