// The one model resolver: what a --model argument names, and the LanguageModel that runs it.
//
//   http(s)://...                                   OpenAI-compatible server (./openai)
//   folder with genrm.json                          genrm checkpoint, embedded engine (./embedded)
//   folder with config.json + model.safetensors     Hugging Face Llama-family model, loaded into the
//     (or model.safetensors.index.json)             engine (src/engine/hf) and run by the embedded
//                                                   backend with the model's tokenizer and template
//   file ending in .gguf                            llama.cpp through node-llama-cpp (./gguf; optional)
//
// Anything else is an error naming the path and what was expected.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hasCheckpointMeta } from '../engine/checkpoint.js';
import type { EngineTokenizer } from '../engine/tokenizer/index.js';
import { EmbeddedBackend, type EmbeddedOptions } from './embedded/backend.js';
import { GgufBackend, type GgufOptions } from './gguf/backend.js';
import { OpenAIBackend } from './openai/backend.js';
import type { LanguageModel } from './types.js';

export type ModelKind = 'url' | 'genrm' | 'hf' | 'gguf';

const EXPECTED =
  'an http(s):// server URL, a genrm checkpoint folder (genrm.json), a Hugging Face folder (config.json + model.safetensors or model.safetensors.index.json) or a .gguf file';

/** Which backend a model spec names, without loading anything; an error names what was expected. */
export function modelKind(spec: string): ModelKind {
  if (/^https?:\/\//i.test(spec)) return 'url';
  if (!existsSync(spec)) throw new Error(`${spec}: no such file or folder; expected ${EXPECTED}`);
  const st = statSync(spec);
  if (st.isFile()) {
    if (spec.toLowerCase().endsWith('.gguf')) return 'gguf';
    throw new Error(`${spec}: a file, but not a .gguf model; expected ${EXPECTED}`);
  }
  if (hasCheckpointMeta(spec)) return 'genrm';
  if (
    existsSync(join(spec, 'config.json')) &&
    (existsSync(join(spec, 'model.safetensors')) || existsSync(join(spec, 'model.safetensors.index.json')))
  )
    return 'hf';
  throw new Error(`${spec}: a folder with neither genrm.json nor config.json + model.safetensors; expected ${EXPECTED}`);
}

export interface OpenModelOptions {
  /** Server: environment variable holding the API key. */
  apiKeyEnv?: string;
  /** Server: the model id to use; default the first one /v1/models lists (required with probe: false). */
  modelName?: string;
  /**
   * Server: ask /v1/models first (default true). A genrm server says there that its verdicts are
   * single tokens and how many alternatives it returns, so HTTP judging reads the very numbers an
   * in-process judge reads. false: no request before use (servers without /v1/models).
   */
  probe?: boolean;
  /** Server: requests in flight at once. */
  concurrency?: number;
  /** Embedded (genrm and Hugging Face folders). */
  embedded?: EmbeddedOptions;
  /** Hugging Face folders: cap on the context the engine allocates. */
  maxSeqLen?: number;
  gguf?: GgufOptions;
}

/** A LanguageModel for a model spec (see the top of this file). */
export async function openModel(spec: string, opts: OpenModelOptions = {}): Promise<LanguageModel> {
  switch (modelKind(spec)) {
    case 'url':
      return openServer(spec, opts);
    case 'gguf':
      return GgufBackend.load(spec, opts.gguf ?? {});
    default:
      return openEmbedded(spec, opts);
  }
}

/**
 * The embedded backend for a genrm checkpoint or a Hugging Face folder (what `genrm serve` can run
 * in its worker); a URL or .gguf is refused with the reason.
 */
export function openEmbedded(spec: string, opts: Pick<OpenModelOptions, 'embedded' | 'maxSeqLen'> = {}): EmbeddedBackend<EngineTokenizer> {
  const kind = modelKind(spec);
  if (kind === 'genrm') return EmbeddedBackend.load(spec, opts.embedded ?? {});
  if (kind === 'hf')
    return EmbeddedBackend.loadHf(spec, {
      ...(opts.embedded ?? {}),
      ...(opts.maxSeqLen !== undefined ? { maxSeqLen: opts.maxSeqLen } : {}),
    });
  throw new Error(
    `${spec}: ${kind === 'url' ? 'a server URL' : 'a .gguf model'} runs outside genrm's engine; this needs a genrm checkpoint folder or a Hugging Face folder`,
  );
}

interface ServedModel {
  id: string;
  max_model_len?: number;
  genrm?: { singleTokenVerdicts?: boolean; maxLogprobs?: number; contextLength?: number; candidates?: boolean; promptLists?: boolean };
}

async function openServer(url: string, opts: OpenModelOptions): Promise<LanguageModel> {
  const base = url.replace(/\/+$/, '');
  const common = {
    baseURL: base,
    ...(opts.apiKeyEnv ? { apiKeyEnv: opts.apiKeyEnv } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
  };
  if (opts.probe === false) {
    if (!opts.modelName) throw new Error(`${base}: the served model's name is needed when /v1/models is not asked`);
    return new OpenAIBackend({ ...common, model: opts.modelName });
  }
  const probe = new OpenAIBackend({ ...common, model: opts.modelName ?? '?' });
  const list = await probe.client.get<{ data?: ServedModel[] }>('/models');
  const served = (list.data ?? []).find((m) => opts.modelName === undefined || m.id === opts.modelName);
  if (!served)
    throw new Error(
      `${base}/models lists no model${opts.modelName ? ` named "${opts.modelName}"` : ''} (have: ${(list.data ?? []).map((m) => m.id).join(', ') || 'none'})`,
    );
  const ctx = served.genrm?.contextLength ?? served.max_model_len;
  const backend = new OpenAIBackend({
    ...common,
    model: served.id,
    ...(ctx !== undefined ? { contextLength: ctx } : {}),
    ...(served.genrm?.maxLogprobs ? { topLogprobs: served.genrm.maxLogprobs } : {}),
    ...(served.genrm?.candidates === true ? { candidatesExtension: true } : {}),
    ...(served.genrm?.promptLists === true ? { promptLists: true } : {}),
  });
  if (!served.genrm?.singleTokenVerdicts) return backend;
  // Same backend, with what the genrm server told us about its tokenizer.
  const caps = { ...backend.capabilities, singleTokenVerdicts: true };
  return {
    name: backend.name,
    capabilities: caps,
    generate: (p, o) => backend.generate(p, o),
    candidateLogprobs: (p, c, o) => backend.candidateLogprobs(p, c, o),
    continuationLogprob: (i, o) => backend.continuationLogprob(i, o),
  };
}
