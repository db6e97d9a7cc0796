// `genrm serve`: the HTTP server over a genrm checkpoint (src/serve/): OpenAI-compatible endpoints
// and the reward API, with batching, a bounded queue, deadlines, auth and metrics.
import type { Command } from 'commander';
import { startServer } from '../serve/server.js';
import { modelKind } from '../backends/open.js';
import { CliError } from './errors.js';

interface Opts {
  model: string;
  host: string;
  port: string;
  name?: string;
  faults?: string;
  token?: string;
  maxBatch: string;
  maxBatchRows?: string;
  kvCache: string;
  batchWaitMs: string;
  maxQueue: string;
  timeoutMs: string;
  maxConnections?: string;
  headersTimeoutMs: string;
  judgeMode: string;
  votes: string;
  maxTokens: string;
  /** commander's negation of --no-extensions: true unless it is given. */
  extensions: boolean;
  json?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve a checkpoint over HTTP: OpenAI-compatible (/v1/models, /v1/completions, /v1/chat/completions) and the reward API (/v1/judge, /v1/rank, /v1/reward, OpenRLHF /get_reward), /health, /metrics; the model runs in a worker thread with dynamic batching',
    )
    .requiredOption('--model <dir>', 'genrm checkpoint folder (kind lm) or Hugging Face folder (config.json + model.safetensors)')
    .option('--host <host>', 'interface to bind (default 127.0.0.1: this machine only)', '127.0.0.1')
    .option('--port <n>', 'port; 0 = an ephemeral one (the bound URL is printed)', '8000')
    .option('--name <id>', "model id clients send (default: the folder's name)")
    .option(
      '--faults <spec>',
      'fault injection for client tests, e.g. "429:0.2,500:0.1,slow:0.1:2000,seed:7" (default: env GENRM_FAULTS; off when unset)',
    )
    .option(
      '--token <token>',
      'require "Authorization: Bearer <token>" on every route but GET /health (default: env GENRM_TOKEN; unset = open)',
    )
    .option('--max-batch <n>', 'most jobs (prompts) per model batch; 1 = one at a time', '256')
    .option(
      '--max-batch-rows <n>',
      "rows (prompt x sample) decoded per engine step (default: the engine's 64; larger helps big CoT batches)",
    )
    .option(
      '--kv-cache <dtype>',
      'KV-cache precision of generation: f32, or f16 (half the cache memory; batch-64 decoding ~20% faster in bench lm; logprobs move in the third decimal)',
      'f32',
    )
    .option('--batch-wait-ms <ms>', 'when idle, gather requests into a batch until none has arrived for this long (at most 10x)', '2')
    .option('--max-queue <n>', 'model requests admitted at once; more get 429 with Retry-After', '1024')
    .option('--timeout-ms <ms>', 'deadline per model request (504 past it, its work in the model cancelled); 0 = none', '120000')
    .option('--max-connections <n>', 'open connections at once; more are closed at accept (default: --max-queue + 64)')
    .option('--headers-timeout-ms <ms>', 'time a client has to send its request headers before its connection is closed', '10000')
    .option('--judge-mode <mode>', 'reward endpoints: direct (verdict probability) or cot (sampled rationales + votes)', 'direct')
    .option('--votes <n>', 'reward endpoints, CoT: rationales sampled per order', '8')
    .option('--max-tokens <n>', 'reward endpoints, CoT: most tokens per rationale', '512')
    .option(
      '--no-extensions',
      "serve the OpenAI endpoints without genrm's extensions (no `candidates` on /v1/completions, no `genrm` block in /v1/models), as vLLM or llama.cpp's server would: for testing clients against a plain server",
    )
    .option('--json', 'print the bound address as one JSON line')
    .action(async (o: Opts) => {
      if (!/^\d+$/.test(o.port)) throw new CliError(`--port: expected an integer in [0, 65535], got "${o.port}"`);
      const int = (flag: string, v: string): number => {
        if (!/^\d+$/.test(v)) throw new CliError(`${flag}: expected a non-negative integer, got "${v}"`);
        return Number(v);
      };
      let kind;
      try {
        kind = modelKind(o.model);
      } catch (e) {
        throw new CliError(`--model ${(e as Error).message}`);
      }
      if (kind === 'url' || kind === 'gguf')
        throw new CliError(
          `--model ${o.model}: ${kind === 'url' ? 'a server URL' : 'a .gguf model'} cannot be served; genrm serve runs a genrm checkpoint folder or a Hugging Face folder in its engine`,
        );
      if (o.kvCache !== 'f32' && o.kvCache !== 'f16') throw new CliError(`--kv-cache: expected f32 or f16, got "${o.kvCache}"`);
      if (o.judgeMode !== 'direct' && o.judgeMode !== 'cot')
        throw new CliError(`--judge-mode: expected direct or cot, got "${o.judgeMode}"`);
      let s;
      s = await startServer({
        model: o.model,
        host: o.host,
        port: Number(o.port),
        ...(o.name ? { name: o.name } : {}),
        ...(o.faults ? { faults: o.faults } : {}),
        ...(o.token !== undefined ? { token: o.token } : {}),
        maxBatch: int('--max-batch', o.maxBatch),
        ...(o.maxBatchRows !== undefined ? { maxBatchRows: int('--max-batch-rows', o.maxBatchRows) } : {}),
        kvCache: o.kvCache,
        batchWaitMs: int('--batch-wait-ms', o.batchWaitMs),
        maxQueue: int('--max-queue', o.maxQueue),
        timeoutMs: int('--timeout-ms', o.timeoutMs),
        ...(o.maxConnections !== undefined ? { maxConnections: int('--max-connections', o.maxConnections) } : {}),
        headersTimeoutMs: int('--headers-timeout-ms', o.headersTimeoutMs),
        judge: { mode: o.judgeMode, votes: int('--votes', o.votes), maxTokens: int('--max-tokens', o.maxTokens) },
        extensions: o.extensions,
      });
      if (o.json) console.log(JSON.stringify({ url: s.url, host: s.host, port: s.port, model: s.worker.info.id }));
      else
        console.log(
          `genrm serve: ${s.worker.info.id} on ${s.url}${o.extensions ? '' : " (without genrm's OpenAI extensions)"}${s.faults ? ` (fault injection on: ${JSON.stringify(s.faults.spec.rules)})` : ''}`,
        );
      // SIGTERM/SIGINT: stop accepting, answer every request in flight, then exit (a second signal exits at once).
      let stopping = false;
      const stop = (sig: string): void => {
        if (stopping) process.exit(1);
        stopping = true;
        console.error(`genrm serve: ${sig}, finishing ${s.admission.inFlight} request(s) in flight and stopping`);
        void s.close(int('--timeout-ms', o.timeoutMs) || 120_000).then(() => process.exit(0));
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
