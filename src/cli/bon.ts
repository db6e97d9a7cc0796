// `genrm bon`: best-of-N. A policy answers PrefWorld prompts N times; each judge ranks the answers
// (the reward server's schedule of pairs, a Bradley–Terry fit) and picks one; the chosen answer's
// gold accuracy per N is printed beside the oracle (a right answer among the N, if any).
//
//   genrm bon --policy models/base --judge runs/bt --judge runs/star-dpo --mode cot --world world
//   genrm bon --policy http://localhost:8000/v1 --judge runs/genrm --world world --n 1,4,16 --json
//
// --judge: a checkpoint (reward heads score each answer; language models judge pairs in --mode
// direct or cot) or an OpenAI-compatible server; repeat it to compare judges on the same answers.
import type { Command } from 'commander';
import { writeFileAtomic } from '../data/jsonl.js';
import type { SPLIT_FILES } from '../data/world/generate.js';
import { bonComparisons } from '../eval/bon/choose.js';
import { bonTable } from '../eval/bon/table.js';
import { parseNs, prepareBon } from '../eval/bon/prepare.js';
import { runBon, type BonRow } from '../eval/bon/run.js';
import { toTerminal } from '../eval/report/tables.js';
import { checkpointKind, openCheckpointJudge, type EvalJudge } from '../eval/run/judge.js';
import { methodFor } from '../eval/run/method.js';
import { ProgressBar } from '../util/progress.js';
import { CliError, modelError } from './errors.js';
import { intFlag, numFlag } from './flags.js';
import { openModel } from './judge.js';

interface Flags {
  policy: string;
  judge: string[];
  world: string;
  splits: string;
  prompts: string;
  n: string;
  mode: string;
  votes: string;
  temperature: string;
  topP: string;
  maxTokens: string;
  policyMaxTokens: string;
  policyTemperature: string;
  seed: string;
  batchRows?: string;
  out?: string;
  json?: boolean;
  apiKeyEnv?: string;
}

const SPLITS = ['train', 'test-id', 'test-ood'];

async function open(spec: string, f: Flags, batchRows: number | undefined): Promise<EvalJudge> {
  try {
    if (/^https?:\/\//.test(spec))
      return { kind: 'lm', model: await openModel({ model: spec, ...(f.apiKeyEnv ? { apiKeyEnv: f.apiKeyEnv } : {}) }) };
    return openCheckpointJudge(spec, batchRows !== undefined ? { maxBatchRows: batchRows } : {});
  } catch (e) {
    throw modelError(spec, e);
  }
}

export function registerBon(program: Command): void {
  program
    .command('bon')
    .description('best-of-N: a policy answers PrefWorld prompts N times, judges pick one; gold accuracy per N beside the oracle')
    .requiredOption(
      '--policy <model>',
      'the model that answers: a genrm/HF checkpoint, .gguf or OpenAI-compatible server URL (e.g. models/base)',
    )
    .requiredOption(
      '--judge <model>',
      'a judge checkpoint or server URL; repeat to compare judges on the same answers',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .requiredOption('--world <dir>', 'a PrefWorld folder (spec.json and the split files), e.g. one written by `genrm world generate`')
    .option('--splits <list>', 'splits whose prompts are answered', 'test-id,test-ood')
    .option('--prompts <k>', 'prompts per split (distinct tasks, in file order)', '64')
    .option('--n <list>', "the N's: answers per prompt the judge chooses among", '1,2,4,8')
    .option('--mode <mode>', 'language-model judges: direct (verdict logits) | cot (sampled rationales + votes)', 'direct')
    .option('--votes <k>', 'CoT judges: rationales per order for each compared pair', '4')
    .option('--temperature <t>', 'CoT judges: sampling temperature (the paper: 1.0)', '1.0')
    .option('--top-p <p>', 'CoT judges: nucleus mass (the paper: 0.95)', '0.95')
    .option('--max-tokens <n>', 'CoT judges: most tokens per rationale', '256')
    .option('--policy-max-tokens <n>', 'most tokens per answer (a longer one is drawn again)', '48')
    .option('--policy-temperature <t>', "the policy's sampling temperature (1.0: the policy as it is)", '1.0')
    .option('--seed <n>', 'seed for the answers and the judges', '0')
    .option('--batch-rows <n>', 'rows decoded together by the embedded engine')
    .option('--out <file>', "write the answers, their grades, each judge's choices and the rows (JSON)")
    .option('--json', 'print the rows as JSON')
    .option('--api-key-env <name>', 'env var holding the server API key (default OPENAI_API_KEY)')
    .action(async (f: Flags) => {
      if (f.mode !== 'direct' && f.mode !== 'cot') throw new CliError(`--mode: expected direct or cot, got "${f.mode}"`);
      const splits = f.splits.split(',').map((s) => s.trim());
      for (const s of splits) if (!SPLITS.includes(s)) throw new CliError(`--splits: expected some of ${SPLITS.join(', ')}, got "${s}"`);
      let ns: number[];
      try {
        ns = parseNs(f.n);
      } catch (e) {
        throw new CliError(`--n: ${(e as Error).message}`);
      }
      const prompts = intFlag('--prompts', f.prompts, { min: 1, max: 100_000 })!;
      const votes = intFlag('--votes', f.votes, { min: 1, max: 1024 })!;
      const seed = intFlag('--seed', f.seed, { min: 0 })!;
      const maxTokens = intFlag('--max-tokens', f.maxTokens, { min: 1 })!;
      const policyMaxTokens = intFlag('--policy-max-tokens', f.policyMaxTokens, { min: 1 })!;
      const batchRows = intFlag('--batch-rows', f.batchRows, { min: 1 });
      const temperature = numFlag('--temperature', f.temperature, { min: 0 })!;
      const topP = numFlag('--top-p', f.topP, { min: 0, max: 1 })!;
      const policyTemperature = numFlag('--policy-temperature', f.policyTemperature, { min: 0 })!;

      let policy;
      try {
        policy = await openModel({ model: f.policy, ...(f.apiKeyEnv ? { apiKeyEnv: f.apiKeyEnv } : {}) });
      } catch (e) {
        throw modelError(f.policy, e);
      }
      const judges: { spec: string; name: string; judge: EvalJudge }[] = [];
      for (const spec of f.judge) {
        const judge = await open(spec, f, batchRows);
        if (judge.kind === 'head' && f.mode === 'cot')
          throw new CliError(
            `--mode cot: ${spec} is a '${checkpointKind(spec)}' reward-head checkpoint; it scores answers, it cannot write rationales`,
          );
        const base = judge.kind === 'head' ? methodFor(spec, 'direct') : methodFor(spec, f.mode);
        let name = base;
        for (let k = 2; judges.some((j) => j.name === name); k++) name = `${base}-${k}`;
        judges.push({ spec, name, judge });
      }

      const bar = new ProgressBar('bon answers [{bar}] {value}/{total} prompts', { enabled: !f.json });
      bar.start(prompts * splits.length, 0);
      let x;
      try {
        x = await prepareBon(policy, {
          world: f.world,
          splits: splits as (keyof typeof SPLIT_FILES)[],
          prompts,
          ns,
          seed,
          policy: { maxTokens: policyMaxTokens, temperature: policyTemperature },
          onProgress: (d) => bar.update(d),
        });
      } finally {
        bar.stop();
      }
      if (x.prompts.length === 0)
        throw new CliError(
          `the policy gave fewer than ${Math.max(...ns)} whole answers to every prompt (${x.dropped} of ${x.drawn} samples were worked lines, cut or empty)`,
        );
      const notes = [
        `${x.prompts.length} prompts, ${Math.max(...ns)} answers each${x.short ? `; ${x.short} left out (fewer whole answers than N)` : ''}; ${x.dropped} of ${x.drawn} policy samples drawn again (worked lines, cut at --policy-max-tokens, empty)`,
        `policy accuracy per answer: ${Object.entries(x.perAnswer)
          .map(([s, a]) => `${s} ${(100 * a).toFixed(1)} %`)
          .join(', ')}`,
      ];
      if (!f.json) for (const l of notes) console.log(l);
      const rows: BonRow[] = [];
      const choices: Record<string, unknown> = {};
      for (const j of judges) {
        const jb = new ProgressBar(`bon ${j.name} [{bar}] {value}/{total} pairs | ETA {eta_formatted}`, { enabled: !f.json });
        jb.start(bonComparisons(ns).length * x.prompts.length, 0);
        let r;
        try {
          r = await runBon(j.judge, j.name, x, {
            mode: f.mode as 'direct' | 'cot',
            votes,
            temperature,
            topP,
            maxTokens,
            seed,
            template: 'auto',
            contextPolicy: 'truncate-answers',
            chunkPairs: 32,
            keepRationales: false,
            onProgress: (d) => jb.update(d),
          });
        } finally {
          jb.stop();
        }
        rows.push(...r.rows);
        choices[j.name] = r.records.map((rec) => ({ pairId: rec.pairId, pChosen: rec.pChosen ?? null }));
      }
      if (f.out)
        await writeFileAtomic(
          f.out,
          JSON.stringify(
            {
              notes,
              judges: judges.map((j) => ({ name: j.name, model: j.spec })),
              prompts: x.prompts.map((p, k) => ({ ...p, answers: x.answers[k], gold: x.gold[k] })),
              judgments: choices,
              rows,
            },
            null,
            2,
          ) + '\n',
        );
      if (f.json) {
        console.log(JSON.stringify({ notes, rows }, null, 2));
        return;
      }
      console.log(toTerminal(bonTable(rows)));
      console.log(
        'accuracy of the chosen answer, % [95 % bootstrap CI over prompts]; oracle: some answer among the N is right' +
          (f.out ? `; answers and judgments in ${f.out}` : ''),
      );
    });
}
