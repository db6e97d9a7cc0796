// GET /v1/models and GET /v1/models/{id}: the one model this server runs. Beside OpenAI's fields
// (id, object, created, owned_by), `max_model_len` as vLLM reports it and a `genrm` block a genrm
// client can read: the verdicts are single tokens, every vocabulary entry can be asked for as a top
// logprob, and /v1/completions takes `candidates` (exact continuation log-probs, see
// completions.ts) and a list of prompts in one request (`promptLists`; OpenAI's API allows it, and
// a client can batch there). With --no-extensions the block is left out, so a client sees a plain
// OpenAI-compatible server (as vLLM or llama.cpp's server look). An unknown id is a 404 in
// OpenAI's shape (code model_not_found).
import type { Ctx } from '../router.js';
import { sendJson } from '../router.js';
import { checkModel, type OpenAIDeps } from './common.js';

export function modelsHandlers(d: Pick<OpenAIDeps, 'worker' | 'extensions'>, created: number) {
  const entry = (): object => {
    const i = d.worker.info;
    return {
      id: i.id,
      object: 'model',
      created,
      owned_by: 'genrm',
      max_model_len: i.contextLength,
      ...(d.extensions
        ? {
            genrm: {
              singleTokenVerdicts: i.singleTokenVerdicts,
              maxLogprobs: i.vocabSize,
              contextLength: i.contextLength,
              candidates: true,
              promptLists: true,
            },
          }
        : {}),
    };
  };
  return {
    list: async (ctx: Ctx): Promise<void> => sendJson(ctx.res, 200, { object: 'list', data: [entry()] }),
    /** The route's rest is the id (ids may hold slashes: "org/name"). */
    one: async (ctx: Ctx): Promise<void> => {
      checkModel(ctx.rest, d.worker.info);
      sendJson(ctx.res, 200, entry());
    },
  };
}
