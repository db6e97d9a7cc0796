// GET /v1/models: the one model this server runs. Beside OpenAI's fields (id, object, created,
// owned_by), `max_model_len` as vLLM reports it and a `genrm` block a genrm client can read: the
// verdicts are single tokens, every vocabulary entry can be asked for as a top logprob, and
// /v1/completions takes `candidates` (exact continuation log-probs, see completions.ts) and a list
// of prompts in one request (`promptLists`; OpenAI's API allows it, and a client can batch there).
import type { ModelWorker } from '../modelWorker.js';
import type { Ctx } from '../router.js';
import { sendJson } from '../router.js';

export function modelsHandler(worker: ModelWorker, created: number) {
  return async (ctx: Ctx): Promise<void> => {
    const i = worker.info;
    sendJson(ctx.res, 200, {
      object: 'list',
      data: [
        {
          id: i.id,
          object: 'model',
          created,
          owned_by: 'genrm',
          max_model_len: i.contextLength,
          genrm: { singleTokenVerdicts: i.singleTokenVerdicts, maxLogprobs: i.vocabSize, contextLength: i.contextLength, candidates: true, promptLists: true },
        },
      ],
    });
  };
}
