// `genrm star sample`: the one STaR sampler against any model (docs/ARCHITECTURE.md; the star-sft and
// star-dpo recipes call the same code in-process).
//
//   genrm star sample --model models/base --data world/ --k 8 --out star/
//   genrm star sample --model http://127.0.0.1:8000/v1 --served-model llama-3.1-8b --data prefs.jsonl --out star/ --concurrency 32
//   genrm star sample ... --resume            # continue where it stopped; no pair sampled twice
//
// Writes into --out: samples.jsonl (raw, one line per pair), sft.jsonl and dpo.jsonl (the STaR
// datasets), report.json, and export/ (TRL and OpenAI fine-tuning layouts).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openModel } from '../backends/open.js';
import type { LanguageModel } from '../backends/types.js';
import { invalidSummary, openPairs } from '../data/formats/load.js';
import type { PreferencePair } from '../data/pair.js';
import { SPLIT_FILES } from '../data/world/generate.js';
import { readConfigFile, resolveConfig } from '../train/configFile.js';
import { checkerFor } from '../train/star/checker.js';
import { StarBuildSchema, StarSamplingSchema } from '../train/star/config.js';
import { SampleProgress } from '../train/star/progress.js';
import { DEFAULT_EXPORTS, EXPORT_TARGETS, runStarSampling, type ExportTarget } from '../train/star/sampleRun.js';
import { starSampleHelpAfter } from './configDocs.js';
import { CliError, modelError } from './errors.js';
import { intFlag, numFlag } from './flags.js';
import { flagDefault } from '../util/schemaDoc.js';

interface Flags {
  model?: string;
  servedModel?: string;
  concurrency?: string;
  data?: string;
  format?: string;
  skipInvalid?: boolean;
  out?: string;
  config?: string;
  k?: string;
  temperature?: string;
  topP?: string;
  maxTokens?: string;
  seed?: string;
  chunkPairs?: string;
  rationalize?: boolean;
  filter?: string;
  pairing?: string;
  maxPairs?: string;
  export?: string;
  resume?: boolean;
  json?: boolean;
  quiet?: boolean;
}

async function openStarModel(f: Flags): Promise<LanguageModel> {
  const m = f.model!;
  const url = /^https?:\/\//.test(m);
  if (url && !f.servedModel) throw new CliError('--served-model is required with a server URL (the model name the server serves)');
  const concurrency = intFlag('--concurrency', f.concurrency);
  try {
    // A server is used as named, without asking /v1/models first.
    return await openModel(m, {
      probe: false,
      ...(f.servedModel ? { modelName: f.servedModel } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
    });
  } catch (e) {
    throw modelError(m, e);
  }
}

async function loadPairs(path: string, f: Flags): Promise<{ pairs: PreferencePair[]; file: string; note: string }> {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, SPLIT_FILES.train) : path;
  if (!existsSync(file)) throw new CliError(`--data ${path}: ${file} does not exist (a PrefWorld folder or a preference data file)`);
  const opened = await openPairs(file, { ...(f.format ? { format: f.format } : {}), skipInvalid: f.skipInvalid === true });
  const pairs: PreferencePair[] = [];
  for await (const { pair } of opened.pairs) pairs.push(pair);
  const r = opened.report;
  return { pairs, file, note: `${r.pairs} pairs (${r.format})${r.invalidTotal ? `; ${invalidSummary(r)}` : ''}` };
}

function parseExports(v: string | undefined): ExportTarget[] {
  if (v === undefined) return [...DEFAULT_EXPORTS];
  if (v === 'none') return [];
  return v.split(',').map((t) => {
    if (!(EXPORT_TARGETS as readonly string[]).includes(t))
      throw new CliError(`--export: unknown target "${t}"; known: ${EXPORT_TARGETS.join(', ')}, or none`);
    return t as ExportTarget;
  });
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function registerStar(program: Command): void {
  const star = program.command('star').description('STaR: sample rationales from any model and build STaR-SFT / STaR-DPO datasets');
  star
    .command('sample')
    .description(
      'sample k CoT rationales per pair (both orders) from a checkpoint or an OpenAI-compatible server; write samples, STaR-SFT/DPO datasets, a report and TRL/OpenAI exports',
    )
    .option(
      '--model <ckpt|url>',
      'a genrm checkpoint folder (kind lm), a Hugging Face folder, a .gguf file (needs node-llama-cpp), or an OpenAI-compatible server URL (vLLM, SGLang, llama.cpp, Ollama)',
    )
    .option('--served-model <name>', 'with a URL: the model name the server serves')
    .option('--concurrency <n>', 'with a URL: requests in flight at once (default 16)')
    .option(
      '--data <path>',
      'preference data: a PrefWorld folder (its train.jsonl; rationales are graded by its checker) or any supported file',
    )
    .option('--format <name>', 'the data format when detection is not wanted (genrm data inspect lists them)')
    .option('--skip-invalid', 'skip and count malformed records instead of stopping at the first')
    .option('--out <dir>', 'output folder')
    .option(
      '--config <file>',
      `JSON/YAML with sampling and dataset options (${[...new Set([...Object.keys(StarSamplingSchema.shape), ...Object.keys(StarBuildSchema.shape)])].join(', ')}; listed below)`,
    )
    .option('--k <n>', `rationales per pair and order (default ${flagDefault(StarSamplingSchema, 'k')})`)
    .option('--temperature <t>', `sampling temperature (default ${flagDefault(StarSamplingSchema, 'temperature')}, paper)`)
    .option('--top-p <p>', `nucleus mass (default ${flagDefault(StarSamplingSchema, 'topP')}, paper)`)
    .option('--max-tokens <n>', `most tokens per rationale (default ${flagDefault(StarSamplingSchema, 'maxTokens')})`)
    .option('--seed <n>', `sampling seed (default ${flagDefault(StarSamplingSchema, 'seed')})`)
    .option('--chunk-pairs <n>', `pairs per generate call (default ${flagDefault(StarSamplingSchema, 'chunkPairs')})`)
    .option('--rationalize', 'rationalization fallback: one hinted rationale where none of the k is right (trained without the hint)')
    .option(
      '--filter <rule>',
      "which rationales count as right: verdict (the paper's rule, default) or checked (also right for the right reason by PrefWorld's grader; a labelled variant, PrefWorld data only)",
    )
    .option(
      '--pairing <rule>',
      `DPO pairing per pair and order: all (R x W, capped) or random-one (default ${flagDefault(StarBuildSchema, 'pairing')})`,
    )
    .option(
      '--max-pairs <m>',
      `with --pairing all: most DPO pairs per pair and order (default ${flagDefault(StarBuildSchema, 'maxPairsPerOrder')})`,
    )
    .option(
      '--export <targets>',
      `comma-separated export layouts (${EXPORT_TARGETS.join(', ')}), or none (default ${DEFAULT_EXPORTS.join(',')})`,
    )
    .option('--resume', 'continue sampling into --out; pairs already sampled are skipped')
    .option('--json', 'print the result as JSON (no progress bar)')
    .option('--quiet', 'no progress bar or status lines')
    .addHelpText('after', () => starSampleHelpAfter(process.stdout.columns))
    .action(async (f: Flags) => {
      for (const [k, what] of [
        ['model', 'a checkpoint or server URL'],
        ['data', 'preference data'],
        ['out', 'the output folder'],
      ] as const)
        if (f[k] === undefined) throw new CliError(`--${k} is required (${what})`);
      let fromFile: Record<string, unknown> = {};
      if (f.config) fromFile = readConfigFile(f.config);
      const sampKeys = new Set(Object.keys(StarSamplingSchema.shape));
      const fileSamp: Record<string, unknown> = {};
      const fileBuild: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fromFile)) {
        if (sampKeys.has(k)) fileSamp[k] = v;
        else fileBuild[k] = v; // unknown keys fail in the build schema, named
      }
      const flagSamp = {
        k: intFlag('--k', f.k),
        temperature: numFlag('--temperature', f.temperature),
        topP: numFlag('--top-p', f.topP),
        maxTokens: intFlag('--max-tokens', f.maxTokens),
        seed: intFlag('--seed', f.seed),
        chunkPairs: intFlag('--chunk-pairs', f.chunkPairs),
        rationalize: f.rationalize,
      };
      const flagBuild = {
        filter: f.filter,
        pairing: f.pairing,
        maxPairsPerOrder: intFlag('--max-pairs', f.maxPairs),
        seed: intFlag('--seed', f.seed),
      };
      let sampling;
      let build;
      sampling = resolveConfig(StarSamplingSchema, fileSamp, flagSamp, f.config ?? 'flags');
      build = resolveConfig(StarBuildSchema, fileBuild, flagBuild, f.config ?? 'flags');
      const exports = parseExports(f.export);
      const quiet = f.quiet === true || f.json === true;
      const say = quiet ? (): void => {} : (l: string): void => console.error(l);

      let lm: LanguageModel;
      let data;
      lm = await openStarModel(f);
      data = await loadPairs(f.data!, f);
      const checker = checkerFor(f.data!);
      if (build.filter === 'checked' && !checker)
        throw new CliError(
          `--filter checked: ${f.data} has no rationale grader (it needs a PrefWorld folder or a split file beside its spec.json); use --filter verdict`,
        );
      say(
        `star sample: ${lm.name}; ${data.file}: ${data.note}; k ${sampling.k}, temperature ${sampling.temperature}, top-p ${sampling.topP}; checker: ${checker ? 'PrefWorld' : 'none'}`,
      );
      const bar = new SampleProgress(!quiet, 'star sample');
      let r;
      try {
        r = await runStarSampling(lm, data.pairs, {
          sampling,
          build,
          outDir: f.out!,
          resume: f.resume === true,
          checker,
          exports,
          onProgress: bar.update,
        });
      } finally {
        bar.stop();
      }
      if (f.json) {
        console.log(
          JSON.stringify(
            { out: f.out, model: lm.name, data: data.file, sampling: r.sampling, report: r.report, exported: r.exported },
            null,
            2,
          ),
        );
        return;
      }
      if (quiet) return;
      const p = r.report;
      console.log(
        `sampled ${r.sampling.sampledPairs} pairs (${r.sampling.resumedPairs} already done, ${r.sampling.ties} ties skipped) in ${r.sampling.seconds.toFixed(1)} s, ${Math.round(r.sampling.tokens / Math.max(1e-9, r.sampling.seconds))} tok/s -> ${f.out}\n` +
          `  right verdicts per pair: mean ${pct(p.rightShareMean)}; pairs with a right rationale ${pct(p.pairsWithRight)}; no verdict ${p.invalid} of ${p.samples}\n` +
          `  STaR-SFT (filter ${build.filter}): ${p.sft.kept} rationales from ${p.sft.pairs} pairs${p.graded ? `, ${p.sft.rightForWrongReason} right for the wrong reason` : ''}${build.filter === 'checked' ? `, ${p.sft.droppedUnchecked} right verdicts not checked (neither kept nor rejected)` : p.graded ? `, ${p.sft.unchecked} not right for the right reason` : ''}\n` +
          `  STaR-DPO: ${p.dpo.pairs} pairs from ${p.dpo.sourcePairs} source pairs (pairing ${build.pairing}); ${p.dpo.rejectedInvalid} rejected have no verdict` +
          (sampling.rationalize
            ? `\n  rationalized: ${p.rationalized.pairs} pairs (${p.rationalized.kept} of ${p.rationalized.orders} hinted rationales kept)`
            : '') +
          (Object.keys(r.exported).length
            ? `\n  exported: ${Object.entries(r.exported)
                .map(([k, v]) => `${k} (${v})`)
                .join(', ')}`
            : ''),
      );
      if (!r.sampling.complete) process.exitCode = 1;
    });
}
