// repro's best-of-N stage (beyond the paper; issue 24): the base answers the first eval prompts of
// each split N times; BT, direct GenRM, the zero-shot CoT judge and the trained CoT judges each
// choose among the answers; the chosen answer's gold accuracy per N, beside the oracle.
import { join } from 'node:path';
import { EmbeddedBackend } from '../../backends/embedded/backend.js';
import { writeFileAtomic } from '../../data/jsonl.js';
import { prepareBon } from '../bon/prepare.js';
import { runBon, type BonRow } from '../bon/run.js';
import { METHODS, writeRecords } from '../records.js';
import { openCheckpointJudge } from '../run/judge.js';
import type { LmEvalOptions } from '../run/lm.js';
import type { SizeSettings } from './settings.js';

/** The judges best-of-N compares, in report order, where trained: reward head, direct, CoT. */
export const BON_JUDGES: readonly { method: string; mode: 'direct' | 'cot' }[] = [
  { method: METHODS.bt, mode: 'direct' },
  { method: METHODS.genrm, mode: 'direct' },
  { method: METHODS.zeroShotCot, mode: 'cot' },
  { method: METHODS.starDpo, mode: 'cot' },
  { method: METHODS.grpo, mode: 'cot' },
];

export interface BonStageInputs {
  out: string;
  /** The eval subset folder (spec.json and the split files). */
  evalDir: string;
  base: string;
  /** Each trained method's model folder (a method missing here is left out). */
  models: Record<string, string>;
  settings: SizeSettings;
  seed: number;
  lmOpts: (
    method: string,
    mode: 'direct' | 'cot',
    votes: number,
  ) => Omit<LmEvalOptions, 'onProgress'> & { onProgress: (d: number, t: number) => void };
  say: (line: string) => void;
}

export interface BonStageOutputs extends Record<string, unknown> {
  rows: BonRow[];
  notes: string[];
}

export async function bonStage(b: BonStageInputs): Promise<BonStageOutputs> {
  const s = b.settings;
  const policy = EmbeddedBackend.load(b.base, { maxBatchRows: s.maxBatchRows });
  const x = await prepareBon(policy, {
    world: b.evalDir,
    splits: ['test-id', 'test-ood'],
    prompts: s.bon.prompts,
    ns: s.bon.ns,
    seed: b.seed,
  });
  await writeFileAtomic(
    join(b.out, 'bon', 'answers.json'),
    JSON.stringify(x.prompts.map((p, k) => ({ ...p, answers: x.answers[k], gold: x.gold[k] }))) + '\n',
  );
  const notes = [
    `best-of-N: the base answers ${x.prompts.length} prompts (the first ${s.bon.prompts} distinct tasks of each eval split${x.short ? `, ${x.short} left out with fewer than ${Math.max(...s.bon.ns)} whole answers` : ''}) ${Math.max(...s.bon.ns)} times at temperature 1 as its corpus lays out an answer (${x.dropped} of ${x.drawn} samples were worked lines, cut or empty, and were drawn again); per answer ${Object.entries(
      x.perAnswer,
    )
      .map(([k, v]) => `${k} ${(100 * v).toFixed(1)} %`)
      .join(', ')} right`,
    `best-of-N: each judge compares the reward server's schedule of pairs (all pairs up to 9 answers, then 8 opponents each) in both orders (CoT: ${s.bon.votes} rationale${s.bon.votes > 1 ? 's' : ''} per order), and a Bradley–Terry fit chooses`,
  ];
  const rows: BonRow[] = [];
  for (const j of BON_JUDGES) {
    const dir = j.method === METHODS.zeroShotCot ? b.base : b.models[j.method];
    if (!dir) continue;
    b.say(`best-of-N: ${j.method} chooses`);
    const r = await runBon(
      openCheckpointJudge(dir, { maxBatchRows: s.maxBatchRows }),
      j.method,
      x,
      b.lmOpts(`bon ${j.method}`, j.mode, s.bon.votes),
    );
    await writeRecords(join(b.out, 'records', 'bon', `${j.method}.jsonl`), r.records);
    rows.push(...r.rows);
  }
  return { rows, notes };
}
