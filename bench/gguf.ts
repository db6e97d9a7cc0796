// `npm run bench -- gguf [--tokens 64] [--batch 8] [--threads 1] [--json]`: greedy decoding
// tokens/s of genrm's engine (EmbeddedBackend) vs llama.cpp (GgufBackend via node-llama-cpp) on the
// same model, exported to GGUF f32. Base shape (vocab 258 bytes+specials, d 256, 4 layers, 4
// heads / 2 KV heads, SwiGLU 688, context 512), random weights (speed does not depend on them).
// Batch 1 (one prompt) and batched (--batch prompts at once); prints each and the ratio
// engine / llama.cpp. Both use --threads CPU threads (llama.cpp's spin-waiting workers crawl when
// the cores are shared, so 1 is the default here).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBackend } from '../src/backends/embedded/backend.js';
import { GgufBackend } from '../src/backends/gguf/index.js';
import type { LanguageModel } from '../src/backends/types.js';
import { writeLlamaGguf } from '../src/engine/gguf.js';
import { Llama } from '../src/engine/model/llama.js';
import { Tokenizer } from '../src/engine/tokenizer/index.js';

export const describe = 'tokens/s of greedy decoding: engine vs llama.cpp (node-llama-cpp) on the same exported GGUF, batch 1 and batched';

function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

async function tokensPerSecond(m: LanguageModel, prompts: string[], maxTokens: number): Promise<number> {
  await m.generate(prompts.slice(0, 1), { temperature: 0, maxTokens: 4 }); // warm up
  const t0 = performance.now();
  const gens = await m.generate(prompts, { temperature: 0, maxTokens });
  const s = (performance.now() - t0) / 1000;
  return gens.reduce((a, g) => a + g.samples[0]!.tokens.length, 0) / s;
}

export async function run(args: string[]): Promise<void> {
  const tokens = flag(args, '--tokens', 64);
  const batch = flag(args, '--batch', 8);
  const threads = flag(args, '--threads', 1);
  const tok = Tokenizer.byteLevel();
  const config = { vocabSize: tok.vocabSize, dModel: 256, nLayers: 4, nHeads: 4, nKvHeads: 2, ffnHidden: 688, maxSeqLen: 512, ropeTheta: 10000, normEps: 1e-5, tieEmbeddings: false };
  const model = new Llama(config, { seed: 1 }).freeze();
  const dir = mkdtempSync(join(tmpdir(), 'genrm-bench-gguf-'));
  try {
    const path = join(dir, 'base.gguf');
    writeLlamaGguf(path, config, model.params, tok);
    const engine = new EmbeddedBackend(model, tok);
    const gguf = await GgufBackend.load(path, { sequences: batch, contextSize: 512, threads });
    const prompts = Array.from({ length: batch }, (_, i) => `Question ${i}: what is ${12 + i} + ${30 - i}?`);
    const rows: Record<string, { engine: number; llamaCpp: number; ratio: number }> = {};
    for (const [label, ps] of [['batch 1', prompts.slice(0, 1)], [`batch ${batch}`, prompts]] as const) {
      const e = await tokensPerSecond(engine, [...ps], tokens);
      const l = await tokensPerSecond(gguf, [...ps], tokens);
      rows[label] = { engine: e, llamaCpp: l, ratio: e / l };
    }
    await gguf.dispose();
    if (args.includes('--json')) console.log(JSON.stringify({ tokens, batch, threads, rows }));
    else
      for (const [label, r] of Object.entries(rows))
        console.log(`${label.padEnd(9)} engine ${r.engine.toFixed(1).padStart(7)} tok/s   llama.cpp ${r.llamaCpp.toFixed(1).padStart(7)} tok/s   engine/llama.cpp ${r.ratio.toFixed(2)}x`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
