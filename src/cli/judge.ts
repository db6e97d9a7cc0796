// `genrm judge`: which of two answers is better, and how sure. One pair from flags (--prompt, --a,
// --b) or a JSONL file of PreferencePairs (--data) judged in batches with a progress bar (stderr,
// only on a terminal, never with --json). --model is a checkpoint folder (embedded engine), a
// Hugging Face folder, a .gguf file or a server URL (OpenAI-compatible; a genrm server is
// recognised from /v1/models and then judged exactly as in-process: compact template,
// single-token verdicts, all logprobs).
import type { Command } from 'commander';
import { ProgressBar } from '../util/progress.js';
import { modelKind, openModel as resolveModel } from '../backends/open.js';
import type { LanguageModel } from '../backends/types.js';
import { writeJsonl } from '../data/jsonl.js';
import { readPairsAll, type PreferencePair } from '../data/pair.js';
import { JudgeConfigSchema, resolveJudgeConfig, type JudgeConfig } from '../judge/config.js';
import { flagDefault } from '../util/schemaDoc.js';
import { chosenShownFirst, judgePairs, shownPair, slotVerdict, type PairInput, type PairJudgment } from '../judge/pairwise.js';
import { judgePairsPointwise } from '../judge/pointwise.js';
import { resolveTemplate } from '../judge/resolveTemplate.js';
import { CliError, modelError } from './errors.js';
import { intFlag, numFlag } from './flags.js';

export interface ModelRef {
  model: string;
  apiKeyEnv?: string;
  /** The server's model id; default: the first one /v1/models lists. */
  modelName?: string;
  /** .gguf models: llama.cpp's CPU threads. */
  threads?: number;
}

/**
 * A LanguageModel for --model through the one resolver (src/backends/open.ts): a server URL, a
 * genrm checkpoint, a Hugging Face folder or a .gguf file.
 */
export async function openModel(ref: ModelRef): Promise<LanguageModel> {
  if (ref.threads !== undefined && modelKind(ref.model) !== 'gguf')
    throw new CliError(
      `--threads applies to .gguf models (llama.cpp's threads); ${ref.model} runs on genrm's engine, whose threads GENRM_THREADS sets`,
    );
  return resolveModel(ref.model, {
    ...(ref.apiKeyEnv ? { apiKeyEnv: ref.apiKeyEnv } : {}),
    ...(ref.modelName ? { modelName: ref.modelName } : {}),
    ...(ref.threads !== undefined ? { gguf: { threads: ref.threads } } : {}),
  });
}

export interface PairRecord {
  id: string;
  /** P(A better), both orders combined with --swap. */
  pA: number;
  verdict: string;
  /**
   * Per order: votes (CoT) or P(first shown) (direct). CoT orders keep their rationales (the text
   * the judge wrote, and the verdict read from it in that order's slot terms) for inspection.
   */
  orders: {
    p: number;
    verdict: string;
    votes?: { A: number; B: number; invalid: number };
    rationales?: { text: string; verdict: string }[];
  }[];
  disagree?: boolean;
  positionBias?: number;
  /** From a data file: the better answer's slot, and the score (1 right, 0.5 invalid/tie, 0 wrong). */
  label?: 'A' | 'B';
  score?: number;
  approximate?: boolean;
}

function toRecord(j: PairJudgment, label?: 'A' | 'B'): PairRecord {
  const r: PairRecord = {
    id: j.id,
    pA: j.pA,
    verdict: j.verdict,
    orders: j.orders.map((o) => ({
      p: o.p,
      verdict: o.verdict,
      ...(o.cot
        ? {
            votes: { A: o.cot.votes.pos, B: o.cot.votes.neg, invalid: o.cot.votes.invalid },
            rationales: o.cot.rationales.map((r) => ({ text: r.text, verdict: slotVerdict(r.verdict) })),
          }
        : {}),
    })),
    ...(j.disagree !== undefined ? { disagree: j.disagree } : {}),
    ...(j.positionBias !== undefined ? { positionBias: j.positionBias } : {}),
    ...(j.approximate ? { approximate: true } : {}),
  };
  if (label) {
    r.label = label;
    r.score = j.verdict === label ? 1 : j.verdict === 'A' || j.verdict === 'B' ? 0 : 0.5;
  }
  return r;
}

type Mode = 'direct' | 'cot' | 'pointwise' | 'pointwise-cot';

/** Judges pairs in the given mode; pointwise verifies each answer alone (judge/pointwise.ts). */
export async function judgeBatch(
  model: LanguageModel,
  pairs: PairInput[],
  mode: Mode,
  cfg: JudgeConfig,
  templateSpec: string,
): Promise<PairJudgment[]> {
  if (mode === 'direct' || mode === 'cot')
    return judgePairs(model, pairs, resolveTemplate(templateSpec, 'pair', model.capabilities), { ...cfg, mode });
  return judgePairsPointwise(model, pairs, resolveTemplate(templateSpec, 'point', model.capabilities), {
    ...cfg,
    mode: mode === 'pointwise' ? 'direct' : 'cot',
  });
}

interface JudgeFlags {
  model: string;
  prompt?: string;
  a?: string;
  b?: string;
  data?: string;
  mode: string;
  votes?: string;
  swap: boolean;
  temperature?: string;
  topP?: string;
  maxTokens?: string;
  template?: string;
  seed?: string;
  out?: string;
  json?: boolean;
  apiKeyEnv?: string;
  modelName?: string;
  threads?: string;
  batch: string;
}

/** What one `genrm judge` call does, from its flags. */
interface JudgeJob {
  mode: Mode;
  batch: number;
  threads: number | undefined;
  cfg: JudgeConfig;
  pairs: PairInput[];
  /** Per pair, the better answer's slot (data files; undefined for ties and flag pairs). */
  labels: ('A' | 'B' | undefined)[];
}

async function parseJudge(f: JudgeFlags): Promise<JudgeJob> {
  const mode = f.mode as Mode;
  if (!['direct', 'cot', 'pointwise', 'pointwise-cot'].includes(mode))
    throw new CliError(`--mode: expected direct, cot, pointwise or pointwise-cot, got "${f.mode}"`);
  const batch = intFlag('--batch', f.batch, { min: 1 }) ?? 16;
  const threads = intFlag('--threads', f.threads, { min: 1 });
  const raw: Record<string, unknown> = { swap: f.swap };
  const set = (k: string, v: number | string | undefined): void => void (v !== undefined && (raw[k] = v));
  set('votes', intFlag('--votes', f.votes));
  set('temperature', numFlag('--temperature', f.temperature));
  set('topP', numFlag('--top-p', f.topP));
  set('maxTokens', intFlag('--max-tokens', f.maxTokens));
  set('seed', intFlag('--seed', f.seed));
  set('template', f.template);
  const cfg = resolveJudgeConfig(raw, 'genrm judge');
  const fromFlags = f.prompt !== undefined || f.a !== undefined || f.b !== undefined;
  if (fromFlags === (f.data !== undefined)) throw new CliError('give either one pair (--prompt, --a, --b) or --data FILE');
  if (!f.data) {
    if (f.prompt === undefined || f.a === undefined || f.b === undefined) throw new CliError('one pair needs all of --prompt, --a and --b');
    return { mode, batch, threads, cfg, pairs: [{ id: 'pair', prompt: f.prompt, answerA: f.a, answerB: f.b }], labels: [undefined] };
  }
  const data: PreferencePair[] = await readPairsAll(f.data);
  const pairs = data.map((p) => shownPair(p, cfg.seed));
  const labels = data.map((p) => (p.tie ? undefined : chosenShownFirst(p.id, cfg.seed) ? ('A' as const) : ('B' as const)));
  return { mode, batch, threads, cfg, pairs, labels };
}

async function runJudge(
  model: LanguageModel,
  job: JudgeJob,
  onProgress: (pairs: number) => void,
): Promise<{ records: PairRecord[]; seconds: number }> {
  const records: PairRecord[] = [];
  const t0 = performance.now();
  for (let i = 0; i < job.pairs.length; i += job.batch) {
    const js = await judgeBatch(model, job.pairs.slice(i, i + job.batch), job.mode, job.cfg, job.cfg.template);
    js.forEach((j, k) => records.push(toRecord(j, job.labels[i + k])));
    onProgress(records.length);
  }
  return { records, seconds: (performance.now() - t0) / 1000 };
}

interface JudgeSummary {
  model: string;
  mode: Mode;
  pairs: number;
  seconds: number;
  accuracy?: number;
  scored?: number;
  invalid: number;
  disagreement?: number;
}

function summarize(model: LanguageModel, job: JudgeJob, run: { records: PairRecord[]; seconds: number }): JudgeSummary {
  const { records } = run;
  const scored = records.filter((r) => r.score !== undefined);
  return {
    model: model.name,
    mode: job.mode,
    pairs: records.length,
    seconds: run.seconds,
    ...(scored.length ? { accuracy: scored.reduce((s, r) => s + r.score!, 0) / scored.length, scored: scored.length } : {}),
    invalid: records.filter((r) => r.verdict === 'invalid').length,
    ...(job.cfg.swap && job.mode !== 'pointwise' && job.mode !== 'pointwise-cot'
      ? { disagreement: records.filter((r) => r.disagree).length / Math.max(1, records.length) }
      : {}),
  };
}

function printJudge(f: JudgeFlags, summary: JudgeSummary, records: PairRecord[]): void {
  if (f.json) {
    console.log(JSON.stringify(f.data ? summary : { ...summary, ...records[0] }, null, 2));
    return;
  }
  if (!f.data || records.length <= 20)
    for (const r of records) {
      const votes = r.orders.map((o) => (o.votes ? `${o.votes.A}/${o.votes.B}/${o.votes.invalid}` : o.p.toFixed(3))).join(' | ');
      console.log(
        `${r.id}: P(A)=${r.pA.toFixed(4)} verdict ${r.verdict}  per order ${votes}${r.disagree !== undefined ? `  orders ${r.disagree ? 'disagree' : 'agree'}` : ''}${r.label ? `  (better: ${r.label})` : ''}`,
      );
      // One pair: show what the judge wrote (the first rationale of each order; all in --json).
      if (!f.data)
        r.orders.forEach((o, k) => {
          const first = o.rationales?.[0];
          if (first)
            console.log(
              `order ${k + 1}${r.orders.length > 1 ? (k === 0 ? ' (A, B)' : ' (B, A)') : ''}, rationale 1 of ${o.rationales!.length} (verdict ${first.verdict}):\n  ${first.text.trim().split('\n').join('\n  ')}`,
            );
        });
    }
  if (f.data)
    console.log(
      `${records.length} pairs in ${summary.seconds.toFixed(1)} s` +
        (summary.accuracy !== undefined ? `; accuracy ${(100 * summary.accuracy).toFixed(1)}% (invalid counted 0.5)` : '') +
        `; invalid ${summary.invalid}` +
        (summary.disagreement !== undefined ? `; orders disagree on ${(100 * summary.disagreement).toFixed(1)}%` : '') +
        (f.out ? `; per-pair verdicts in ${f.out}` : ''),
    );
}

export function registerJudge(program: Command): void {
  program
    .command('judge')
    .description(
      'judge one pair (--prompt --a --b) or a JSONL file of preference pairs (--data): P(A), verdict, votes, order disagreement; accuracy for a file',
    )
    .requiredOption(
      '--model <dir|file|url>',
      'genrm checkpoint folder, Hugging Face folder, .gguf file (needs node-llama-cpp), or an OpenAI-compatible server URL (http[s]://host/v1)',
    )
    .option('--prompt <text>', 'the question')
    .option('--a <text>', 'answer A')
    .option('--b <text>', 'answer B')
    .option('--data <file>', 'JSONL of PreferencePair records ({id, prompt, chosen, rejected, ...})')
    .option('--mode <mode>', 'direct | cot | pointwise | pointwise-cot', 'direct')
    .option('--votes <k>', `CoT rationales per order (default ${flagDefault(JudgeConfigSchema, 'votes')})`)
    .option('--swap', 'judge both orders and combine (default)', true)
    .option('--no-swap', 'judge the shown order only')
    .option('--temperature <t>', `CoT sampling temperature (default ${flagDefault(JudgeConfigSchema, 'temperature')})`)
    .option('--top-p <p>', `CoT nucleus (default ${flagDefault(JudgeConfigSchema, 'topP')})`)
    .option('--max-tokens <n>', `most tokens per rationale (default ${flagDefault(JudgeConfigSchema, 'maxTokens')})`)
    .option('--template <name|file>', `built-in template name or a template file (default: ${flagDefault(JudgeConfigSchema, 'template')})`)
    .option(
      '--seed <n>',
      `sampling seed; also decides which answer of a data pair is shown as A (default ${flagDefault(JudgeConfigSchema, 'seed')})`,
    )
    .option('--out <file>', 'write per-pair verdicts as JSONL')
    .option('--json', 'print JSON')
    .option('--api-key-env <name>', 'env var holding the server API key (default OPENAI_API_KEY)')
    .option('--model-name <id>', "the server's model id (default: the first in /v1/models)")
    .option('--batch <n>', 'pairs per batched call for --data', '16')
    .option(
      '--threads <n>',
      ".gguf models: llama.cpp's CPU threads (default: all cores; 1 on a machine busy with other work, where llama.cpp's spin-waiting threads crawl)",
    )
    .action(async (f: JudgeFlags) => {
      const job = await parseJudge(f);
      let model: LanguageModel;
      try {
        model = await openModel({
          model: f.model,
          ...(f.apiKeyEnv ? { apiKeyEnv: f.apiKeyEnv } : {}),
          ...(f.modelName ? { modelName: f.modelName } : {}),
          ...(job.threads !== undefined ? { threads: job.threads } : {}),
        });
      } catch (e) {
        throw modelError(f.model, e);
      }
      const bar = new ProgressBar('judge [{bar}] {value}/{total} pairs | ETA {eta_formatted}', { enabled: Boolean(f.data) && !f.json });
      bar.start(job.pairs.length, 0);
      let run: { records: PairRecord[]; seconds: number };
      try {
        run = await runJudge(model, job, (n) => bar.update(n));
      } finally {
        bar.stop();
      }
      if (f.out) await writeJsonl(f.out, run.records);
      printJudge(f, summarize(model, job, run), run.records);
    });
}
