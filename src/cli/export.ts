// `genrm export gguf CKPT --out model.gguf [--dtype f32|f16]`: a genrm language-model checkpoint as
// a GGUF file in llama.cpp's `llama` layout (src/engine/gguf.ts), written atomically.
// `genrm export hf CKPT --out DIR [--dtype f32|f16|bf16]`: the same checkpoint as a plain Hugging
// Face folder (src/engine/hf/export.ts): BOS post-processor, tokenizer_config.json, chat template.
import type { Command } from 'commander';
import { loadCheckpoint } from '../engine/checkpoint.js';
import { writeLlamaGguf } from '../engine/gguf.js';
import { exportHfFolder } from '../engine/hf/export.js';
import { CliError } from './errors.js';

export function registerExport(program: Command): void {
  const exp = program.command('export').description('Export checkpoints to other formats.');
  exp
    .command('gguf')
    .description("Write a checkpoint (kind 'lm') as GGUF v3, llama architecture, for llama.cpp / node-llama-cpp.")
    .argument('<ckpt>', 'genrm checkpoint folder')
    .requiredOption('--out <file>', 'the .gguf file to write')
    .option('--dtype <dtype>', 'matrix precision: f32 (exact) or f16 (half the size); norms stay f32', 'f32')
    .option('--json', 'print a JSON summary')
    .action((ckpt: string, o: { out: string; dtype: string; json?: boolean }) => {
      const dtype = o.dtype.toLowerCase();
      if (dtype !== 'f32' && dtype !== 'f16') throw new CliError(`--dtype must be f32 or f16, got ${JSON.stringify(o.dtype)}`);
      let ck;
      ck = loadCheckpoint(ckpt, { expectKind: 'lm' });
      let bytes: number;
      try {
        bytes = writeLlamaGguf(o.out, ck.config, ck.weights, ck.tokenizer, { dtype: dtype === 'f32' ? 'F32' : 'F16', name: ckpt });
      } catch (e) {
        throw new CliError(`${o.out}: ${(e as Error).message}`);
      }
      const summary = { out: o.out, bytes, dtype, layers: ck.config.nLayers, vocab: ck.config.vocabSize };
      if (o.json === true) console.log(JSON.stringify(summary));
      else
        console.log(`wrote ${o.out} (${(bytes / 1e6).toFixed(2)} MB, ${dtype}, ${ck.config.nLayers} layers, vocab ${ck.config.vocabSize})`);
    });
  exp
    .command('hf')
    .description(
      "Write a checkpoint (kind 'lm') as a Hugging Face folder (LlamaForCausalLM): transformers and genrm's HF loader read it with the same BOS and chat template as genrm.",
    )
    .argument('<ckpt>', 'genrm checkpoint folder')
    .requiredOption('--out <dir>', 'the folder to write (replaced atomically if it already holds a config.json)')
    .option('--dtype <dtype>', 'weight precision: f32 (exact), f16 or bf16', 'f32')
    .option('--json', 'print a JSON summary')
    .action((ckpt: string, o: { out: string; dtype: string; json?: boolean }) => {
      const dtype = o.dtype.toUpperCase();
      if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16')
        throw new CliError(`--dtype must be f32, f16 or bf16, got ${JSON.stringify(o.dtype)}`);
      let summary;
      summary = exportHfFolder(ckpt, o.out, { dtype });
      if (o.json === true) console.log(JSON.stringify(summary));
      else
        console.log(
          `wrote ${o.out} (Hugging Face LlamaForCausalLM, ${dtype.toLowerCase()}, ${summary.layers} layers, vocab ${summary.vocab}, BOS id ${summary.bos})`,
        );
    });
}
