// The model worker seen as a LanguageModel, so the judge (src/judge/: judgePairs, verifyAnswers,
// rankCandidates, rewards) runs on the HTTP thread unchanged while every engine call goes through
// the worker's queue. Each prompt becomes one job; jobs of all requests in flight meet in the
// queue and go as one batch (dynamic batching across requests). One instance per request: it
// carries that request's AbortSignal, so a client that leaves (or a deadline) takes its queued
// jobs with it and stops its rows in the batch computing.
import {
  CapabilityError,
  resolveGenerateOptions,
  type CandidateLogprob,
  type Capabilities,
  type GenerateOptions,
  type Generation,
  type LanguageModel,
  type Prompt,
} from '../backends/types.js';
import type { ModelWorker } from './modelWorker.js';

export class WorkerModel implements LanguageModel {
  readonly name: string;
  readonly capabilities: Capabilities;

  constructor(
    private readonly worker: ModelWorker,
    private readonly signal?: AbortSignal,
  ) {
    this.name = `genrm-serve:${worker.info.id}`;
    // No countTokens: the judge then leaves context checks to the worker, which refuses an
    // over-long prompt with a RangeError (a 400 naming the token counts), never a cut prompt.
    this.capabilities = {
      prompts: { text: true, chat: false },
      generate: true,
      candidateLogprobs: true,
      continuationLogprob: false,
      singleTokenVerdicts: worker.info.singleTokenVerdicts,
    };
  }

  async generate(prompts: Prompt[], options: GenerateOptions = {}): Promise<Generation[]> {
    const o = resolveGenerateOptions(options);
    const opts = {
      n: o.n,
      temperature: o.temperature,
      topP: o.topP,
      topK: o.topK,
      maxTokens: o.maxTokens,
      stop: o.stop,
      topLogprobs: o.topLogprobs,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
    };
    const results = await Promise.all(prompts.map((prompt) => this.worker.run({ prompt, options: opts, echo: false }, this.signal)));
    return results.map((r) => ({
      samples: r.samples.map((s) => ({
        text: s.text,
        tokens: s.pieces.map((p) => p.text),
        logprobs: s.logprobs,
        finishReason: s.finishReason,
      })),
    }));
  }

  async candidateLogprobs(prompts: Prompt[], candidates: string[]): Promise<CandidateLogprob[][]> {
    const options = { n: 1, temperature: 0, topP: 1, topK: 0, maxTokens: 0, stop: [], topLogprobs: 0 };
    const results = await Promise.all(prompts.map((prompt) => this.worker.run({ prompt, options, echo: false, candidates }, this.signal)));
    return results.map((r) => (r.candidates ?? []).map((logprob) => ({ logprob, found: true })));
  }

  async continuationLogprob(): Promise<number[]> {
    throw new CapabilityError(this.name, 'continuationLogprob', 'the reward endpoints do not score continuations');
  }
}
