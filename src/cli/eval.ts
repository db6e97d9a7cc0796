// `genrm eval`: any judge on any PreferencePair files, every metric the records support.
//
//   genrm eval --model runs/star-dpo world/test-id.jsonl world/test-ood.jsonl --votes 32 --out records.jsonl
//   genrm eval --model models/base --mode cot --votes 8 world/test-ood.jsonl      # zero-shot CoT judge
//   genrm eval --model runs/bt world/test-id.jsonl --json                          # reward head, in-process
//   genrm eval --model http://localhost:8000/v1 --mode cot data.jsonl              # a server
//   genrm eval --model runs/star-dpo judgebench.jsonl autoj.jsonl                  # raw benchmark files
//   genrm eval --model runs/star-dpo --suite suite.yaml                            # RewardBench-style table
//
// Data files are read through genrm's loaders (any format `genrm data inspect` detects); bad
// records are skipped and counted (--strict refuses the file). Pairs longer than the judge's
// context follow --context (src/eval/run/context.ts), counted either way.
// --model: a checkpoint folder (kind lm: judged in --mode direct or cot through the embedded
// backend; kind bt/pairrm: scored by its head) or an OpenAI-compatible server URL. Both answer
// orders are always judged. CoT samples --votes rationales per order once; maj@k for k = 1, 2, 4,
// ... up to --votes comes from those. On PrefWorld files each rationale's own result is graded.
// Output: the terminal tables (renderTerminal; the suite's table), --json (results), --out
// (per-pair records JSONL), --report DIR (report.md/html/results.json); a progress bar on stderr.
import { Option, type Command } from 'commander';
import { ProgressBar } from '../util/progress.js';
import type { LanguageModel } from '../backends/types.js';
import { evaluate } from '../eval/evaluate.js';
import { writeRecords, type JudgeRecord } from '../eval/records.js';
import { renderTerminal } from '../eval/report/terminal.js';
import { writeReport } from '../eval/report/write.js';
import {
  CONTEXT_POLICIES,
  type ContextPolicy,
  DEFAULT_CONTEXT_POLICY,
  contextSummary,
  fitSets,
  headFits,
  lmFits,
} from '../eval/run/context.js';
import { type EvalSet, readEvalSets } from '../eval/run/data.js';
import { checkpointKind, judgeSets, openCheckpointJudge, type EvalJudge } from '../eval/run/judge.js';
import type { LmEvalOptions } from '../eval/run/lm.js';
import { methodFor } from '../eval/run/method.js';
import { readSuite, readSuiteSets, suiteScores, suiteTable, type Suite } from '../eval/suite.js';
import { toTerminal } from '../eval/report/tables.js';
import { TIE_RULE } from '../eval/report/userSplits.js';
import { loadErrorToCli, reportLines } from './data.js';
import { CliError, modelError } from './errors.js';
import { intFlag, numFlag } from './flags.js';
import { openModel } from './judge.js';

interface Flags {
  model: string;
  mode: string;
  method?: string;
  votes: string;
  temperature: string;
  topP: string;
  maxTokens: string;
  seed: string;
  template: string;
  limit?: string;
  chunk: string;
  batchRows?: string;
  grade: boolean;
  keepRationales?: boolean;
  truncate?: boolean;
  context: string;
  strict?: boolean;
  suite?: string;
  out?: string;
  report?: string;
  json?: boolean;
  apiKeyEnv?: string;
  modelName?: string;
}

async function openJudge(f: Flags, batchRows: number | undefined): Promise<EvalJudge> {
  if (/^https?:\/\//.test(f.model)) {
    const model: LanguageModel = await openModel({
      model: f.model,
      ...(f.apiKeyEnv ? { apiKeyEnv: f.apiKeyEnv } : {}),
      ...(f.modelName ? { modelName: f.modelName } : {}),
    });
    return { kind: 'lm', model };
  }
  return openCheckpointJudge(f.model, batchRows !== undefined ? { maxBatchRows: batchRows } : {});
}

/** The data: files or a suite, read through the loaders; reading errors become one-line CLI errors. */
async function readData(files: string[], f: Flags, limit: number | undefined): Promise<{ sets: EvalSet[]; suite?: Suite }> {
  const o = { ...(limit !== undefined && { limit }), skipInvalid: f.strict !== true };
  try {
    if (f.suite !== undefined) {
      if (files.length > 0)
        throw new CliError(`--suite ${f.suite}: the suite names its files; drop the file arguments (${files.join(' ')})`);
      const suite = await readSuite(f.suite);
      return { sets: await readSuiteSets(suite, o), suite };
    }
    if (files.length === 0) throw new CliError('genrm eval: give data files, or --suite FILE.yaml');
    return { sets: await readEvalSets(files, o) };
  } catch (e) {
    return loadErrorToCli(e);
  }
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'evaluate a judge on preference files (any format genrm data inspect reads) or a suite: accuracy per file/category/subset with bootstrap CIs, maj@k, order effects, calibration, right-for-the-right-reason',
    )
    .argument(
      '[files...]',
      'data files (e.g. world/test-id.jsonl judgebench.jsonl autoj.jsonl); each file is a split named after it unless its pairs carry one',
    )
    .requiredOption('--model <dir|url>', 'checkpoint folder (lm, bt or pairrm) or an OpenAI-compatible server URL')
    .option('--suite <file.yaml>', 'a suite: categories and their files; prints a RewardBench-style table (per category, and their mean)')
    .option('--mode <mode>', 'language-model judges: direct (verdict logits) | cot (sampled rationales + votes)', 'direct')
    .option(
      '--method <name>',
      'method name in the records (default: the recipe that made the checkpoint; zero-shot / zero-shot-cot for a base)',
    )
    .option('--votes <k>', 'CoT rationales per order, sampled once; maj@k for k = 1, 2, 4, ... up to this', '32')
    .option('--temperature <t>', 'CoT sampling temperature (the paper: 1.0)', '1.0')
    .option('--top-p <p>', 'CoT nucleus mass (the paper: 0.95)', '0.95')
    .option('--max-tokens <n>', 'most tokens per rationale', '256')
    .option('--seed <n>', 'sampling seed', '0')
    .option('--template <name|file>', 'judge template (auto: compact for genrm models)', 'auto')
    .option('--limit <n>', 'judge the first n pairs of each file')
    .option('--chunk <n>', 'pairs per batched judge call (progress granularity)', '32')
    .option('--batch-rows <n>', 'rows decoded together by the embedded engine (default 64)')
    .option('--no-grade', 'do not grade rationales against PrefWorld tasks')
    .option('--keep-rationales', 'keep the rationale texts in the records (large)')
    .option(
      '--context <policy>',
      "pairs longer than the judge's context: truncate-answers (cut the answers' ends; the prompt's start too if they would keep under 256 chars) | truncate-prompt (cut the prompt's start) | skip (leave the pair out); counted either way",
      DEFAULT_CONTEXT_POLICY,
    )
    .addOption(new Option('--truncate', 'the same as --context truncate-answers (the default)').hideHelp())
    .option('--strict', 'refuse a data file at its first bad record (default: skip bad records, count them by reason and say where)')
    .option('--out <file>', 'write the per-pair records (JSONL)')
    .option('--report <dir>', 'also write report.md, report.html, results.json and plots into DIR')
    .option('--json', 'print the results as JSON')
    .option('--api-key-env <name>', 'env var holding the server API key (default OPENAI_API_KEY)')
    .option('--model-name <id>', "the server's model id (default: the first in /v1/models)")
    .action(async (files: string[], f: Flags) => {
      if (f.mode !== 'direct' && f.mode !== 'cot') throw new CliError(`--mode: expected direct or cot, got "${f.mode}"`);
      if (!(CONTEXT_POLICIES as readonly string[]).includes(f.context))
        throw new CliError(`--context: expected ${CONTEXT_POLICIES.join(' | ')}, got "${f.context}"`);
      const policy: ContextPolicy = f.truncate ? 'truncate-answers' : (f.context as ContextPolicy);
      const mode = f.mode;
      const votes = intFlag('--votes', f.votes, { min: 1 })!;
      const limit = intFlag('--limit', f.limit, { min: 1 });
      const chunk = intFlag('--chunk', f.chunk, { min: 1 })!;
      const batchRows = intFlag('--batch-rows', f.batchRows, { min: 1 });
      const seed = intFlag('--seed', f.seed, { min: 0 })!;
      const maxTokens = intFlag('--max-tokens', f.maxTokens, { min: 1 })!;
      const temperature = numFlag('--temperature', f.temperature)!;
      const topP = numFlag('--top-p', f.topP)!;

      const data = await readData(files, f, limit);
      let sets = data.sets;
      if (f.grade === false) sets = sets.map((s) => ({ ...s, checker: null }));
      const loadNotes = sets.flatMap((s) => (s.load ? reportLines(s.load).map((l) => `${s.file}: ${l}`) : []));
      if (!f.json) for (const l of loadNotes) console.log(l);
      let judge: EvalJudge;
      try {
        judge = await openJudge(f, batchRows);
      } catch (e) {
        throw modelError(f.model, e);
      }
      const isUrl = /^https?:\/\//.test(f.model);
      if (judge.kind === 'head' && f.mode === 'cot')
        throw new CliError(
          `--mode cot: ${f.model} is a '${checkpointKind(f.model)}' reward-head checkpoint; it scores answers, it cannot write rationales`,
        );
      const method = f.method ?? methodFor(f.model, mode);
      const lmOpts: Omit<LmEvalOptions, 'onProgress'> = {
        method,
        mode,
        votes,
        temperature,
        topP,
        maxTokens,
        seed,
        template: f.template,
        contextPolicy: 'truncate-answers',
        chunkPairs: chunk,
        keepRationales: f.keepRationales === true,
      };
      // Every pair is fitted to the judge first, so judging never stops at a long one.
      const fitted = await fitSets(sets, judge.kind === 'lm' ? lmFits(judge.model, lmOpts) : headFits(judge.head), policy);
      sets = fitted.sets;
      const contextNote = contextSummary(fitted.report);
      if (!f.json && contextNote) console.log(contextNote);
      const total = sets.reduce((s, x) => s + x.pairs.length, 0);
      if (total === 0)
        throw new CliError(
          `no pairs to judge in ${sets.map((s) => s.file).join(', ')}${fitted.report.skipped ? ' (all over the context: try --context truncate-answers)' : ''}`,
        );
      const bar = new ProgressBar(`eval ${method} [{bar}] {value}/{total} pairs | ETA {eta_formatted}`, { enabled: !f.json });
      bar.start(total, 0);
      const t0 = performance.now();
      let records: JudgeRecord[];
      try {
        records = await judgeSets(judge, sets, { ...lmOpts, onProgress: (d) => bar.update(d) });
      } finally {
        bar.stop();
      }
      const seconds = (performance.now() - t0) / 1000;
      if (f.out) await writeRecords(f.out, records);
      const ungraded = mode === 'cot' && judge.kind === 'lm' && f.grade !== false ? sets.filter((s) => !s.checker).map((s) => s.file) : [];
      const results = evaluate(records, {
        notes: {
          extra: [
            `judge: ${f.model}${isUrl ? ' (server)' : ''}, ${judge.kind === 'head' ? `${judge.head.kind} reward head` : `${mode}${mode === 'cot' ? `, ${votes} votes per order at temperature ${temperature}, top-p ${topP}` : ''}`}`,
            `data: ${sets.map((s) => `${s.file} (${s.pairs.length} pairs${s.load ? `, ${s.load.format}` : ''})`).join(', ')}`,
            ...loadNotes,
            ...(contextNote ? [contextNote] : []),
            `ties: ${TIE_RULE}`,
            ...(ungraded.length ? [`rationales not graded (no PrefWorld spec.json beside): ${ungraded.join(', ')}`] : []),
            `${total} pairs judged in ${seconds.toFixed(1)} s`,
          ],
        },
      });
      const suite = data.suite ? suiteScores(records, data.suite, results.settings.bootstrap) : undefined;
      const userSplits = [...new Set(sets.filter((s) => !s.prefWorld).flatMap((s) => s.pairs.map((p) => p.split ?? 'unsplit')))];
      if (f.report) await writeReport(f.report, results, `genrm eval: ${method}`, { userSplits });
      if (f.json) {
        console.log(JSON.stringify(suite ? { suite, results } : results, null, 2));
        return;
      }
      console.log(renderTerminal(results, { claims: false, userSplits, records }));
      if (suite && data.suite)
        for (const s of suite)
          console.log(
            `${data.suite.name ?? data.suite.file}: ${s.method}, RewardBench-style (a category: its files weighted; the score: the mean of the categories)\n${toTerminal(suiteTable(s))}`,
          );
      console.log(
        `${total} pairs judged by ${method} in ${seconds.toFixed(1)} s` +
          (f.out ? `; per-pair records in ${f.out}` : '') +
          (f.report ? `; report in ${f.report}` : ''),
      );
    });
}
