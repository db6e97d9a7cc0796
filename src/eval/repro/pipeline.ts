// `genrm repro`: the paper's experiment on PrefWorld, end to end, resumable stage by stage:
//
//   world → base model → plan (measure tokens/s, size the sample counts, draw the pair sets)
//   → zero-shot judge (direct; CoT with votes — maj@1 is CoT alone)
//   → for bt, pairrm, genrm, rationalize, star-sft, star-dpo and the labelled variants
//     star-sft+checked, star-dpo+checked: train from the base (the same budget for all), then
//     evaluate on test-id and test-ood (STaR: every iteration's model, for the per-iteration curve)
//   → report (report.md, report.html, results.json, plots, report.png where chromium exists)
//
// Beyond the paper: the grpo rows (trained and judged like the others), then best-of-N and
// overoptimisation (./bon.ts, ./overopt.ts).
//
// Every judge sees the same pairs in both orders. Records go to records/<method>.jsonl, so any
// number in the report can be traced to its pairs.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EmbeddedBackend } from '../../backends/embedded/backend.js';
import { readPairsAll } from '../../data/pair.js';
import { SPLIT_FILES } from '../../data/world/generate.js';
import { STATE_FILE, type IterationSummary } from '../../train/star/iterate.js';
import { SAMPLE_CONFIG_FILE, SAMPLES_FILE } from '../../train/star/records.js';
import { evaluate } from '../evaluate.js';
import { METHODS, readRecordsAll, writeRecords, type JudgeRecord } from '../records.js';
import type { Results, TrainingCost } from '../results.js';
import { writeReport, type ReportFiles } from '../report/write.js';
import { readEvalSets } from '../run/data.js';
import { judgeSets, openCheckpointJudge, type EvalJudge } from '../run/judge.js';
import { JudgedModels } from './judged.js';
import type { LmEvalOptions } from '../run/lm.js';
import { measureGeneration, planSamples, type SamplePlan } from './plan.js';
import { screenshot } from './screenshot.js';
import { bonStage } from './bon.js';
import { overoptStage } from './overopt.js';
import { budgetRule, cutsOf, SIZE_SETTINGS, type ReproSize, type RunSettings } from './settings.js';
import { chooseBase, claimRunFolder, committedBase, makeWorld, type BaseChoice } from './setup.js';
import { Stages, StopAfterStage } from './stages.js';
import { samplePairs, writeSubset } from './subsets.js';
import { rowCap, STAR_ROWS, TRAINED, trainMethod, type Trained } from './train.js';

export interface ReproOptions {
  size: ReproSize;
  out: string;
  seed: number;
  /** --base: use this checkpoint; null: the committed one if it matches the world, else pretrain. */
  base: string | null;
  /** Where the committed base lives (default: models/base in the repository). */
  committedBase?: string;
  command: string;
  progress: boolean;
  say: (line: string) => void;
  /** Progress of a judging stage (pairs done / total); the CLI draws a bar. */
  onEvalProgress?: (label: string, done: number, total: number) => void;
  /** Stop after this stage (tests: an interruption). */
  stopAfter?: string;
  /** Save report.png with headless chromium (default true). */
  screenshot?: boolean;
}

export interface ReproResult {
  out: string;
  resumed: boolean;
  results: Results;
  files: ReportFiles;
  png: string | null;
  pngSkipped?: string;
  plan: SamplePlan;
  base: BaseChoice;
  timings: { stage: string; seconds: number }[];
  skipped: string[];
  ran: string[];
  cuts: string[];
  /** Methods whose training failed (left out of the report, with the reason). */
  failed: { method: string; reason: string }[];
  /** Writing the report and its screenshot. */
  reportSeconds: number;
  seconds: number;
}

/** world, base, plan, zero-shot; train + evaluate per row; best-of-N; overoptimisation; report. */
const TOTAL_STAGES = 4 + 2 * TRAINED.length + 2 + 1;

const MODES: Record<Trained, 'direct' | 'cot' | 'head'> = {
  bt: 'head',
  pairrm: 'head',
  genrm: 'direct',
  rationalize: 'cot',
  'star-sft': 'cot',
  'star-dpo': 'cot',
  'star-sft+checked': 'cot',
  'star-dpo+checked': 'cot',
  grpo: 'cot',
  'grpo-consistent': 'cot',
};

/** A RecipeResult's cost counts, read defensively (a recipe that does not report one gives null). */
function costOf(r: unknown): Omit<TrainingCost, 'method' | 'cap' | 'seconds'> {
  const o = (r ?? {}) as Record<string, unknown>;
  const num = (k: string): number | null => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : null);
  return {
    steps: num('steps'),
    bestStep: num('bestStep'),
    stoppedEarly: typeof o['stoppedEarly'] === 'boolean' ? (o['stoppedEarly'] as boolean) : null,
    tokens: num('tokens'),
    cpuSec: num('cpuSec'),
  };
}

/**
 * STaR's first iteration samples the base on the same slice with the same seed and settings for
 * every STaR row, so its samples are drawn once: a later row starts from a copy, which the
 * sampler resumes (nothing left to sample) after checking the settings and model match.
 */
function shareFirstSamples(models: string, row: Trained): void {
  const first = STAR_ROWS[0]!;
  if (row === first) return;
  const from = join(models, first, 'iter-1');
  const to = join(models, row, 'iter-1');
  if (!existsSync(join(from, SAMPLES_FILE)) || !existsSync(join(from, SAMPLE_CONFIG_FILE)) || existsSync(join(to, SAMPLES_FILE))) return;
  mkdirSync(to, { recursive: true });
  copyFileSync(join(from, SAMPLE_CONFIG_FILE), join(to, SAMPLE_CONFIG_FILE));
  copyFileSync(join(from, SAMPLES_FILE), join(to, SAMPLES_FILE));
}

export async function runRepro(o: ReproOptions): Promise<ReproResult> {
  const t0 = performance.now();
  const out = resolve(o.out);
  const s = SIZE_SETTINGS[o.size];
  const want: RunSettings = { version: 1, size: o.size, seed: o.seed, base: o.base ? resolve(o.base) : null, settings: s };
  const resumed = await claimRunFolder(out, want);
  const cuts = cutsOf(o.size);
  if (resumed) o.say(`repro: resuming the run in ${out} (same settings)`);
  if (cuts.length) o.say(`repro --${o.size}: cut compared with the full experiment:\n${cuts.map((c) => `  - ${c}`).join('\n')}`);
  const stages = new Stages(out, TOTAL_STAGES, o.say, o.stopAfter);

  const world = await stages.run('world', `PrefWorld (${s.world})`, () => makeWorld(join(out, 'world'), s.world));
  const base = await stages.run('base', 'base model', async () => {
    const b = chooseBase({
      given: want.base,
      committed: o.committedBase ?? committedBase(),
      worldDir: world.dir,
      corpusSha256: world.corpusSha256,
      out,
      settings: s,
      seed: o.seed,
      command: o.command,
      progress: o.progress,
      say: o.say,
    });
    o.say(`base: ${b.why}`);
    return { ...b };
  });

  const dataDir = join(out, 'data');
  const plan = await stages.run('plan', 'measure generation and plan the sample counts', async () => {
    const lm = EmbeddedBackend.load(base.dir, { maxBatchRows: s.maxBatchRows });
    const read = async (split: keyof typeof SPLIT_FILES) => readPairsAll(join(world.dir, SPLIT_FILES[split]));
    const [train, testId, testOod] = [await read('train'), await read('test-id'), await read('test-ood')];
    const usable = train.filter((p) => !p.tie);
    const tp = await measureGeneration(lm, testId, { maxTokens: s.maxTokens, rows: s.maxBatchRows, n: Math.min(8, s.votes), seed: o.seed });
    const p = planSamples(s, tp, { testId: testId.length, testOod: testOod.length, train: usable.length }, STAR_ROWS.length);
    o.say(`plan: ${p.text}`);
    await writeSubset(join(dataDir, 'eval'), world.dir, {
      'test-id': samplePairs(testId, p.evalPairs, o.seed * 7 + 1),
      'test-ood': samplePairs(testOod, p.evalPairs, o.seed * 7 + 2),
    });
    await writeSubset(join(dataDir, 'sft'), world.dir, { train: samplePairs(usable, s.trainPairs, o.seed * 7 + 3) });
    await writeSubset(join(dataDir, 'rationalize'), world.dir, { train: samplePairs(usable, p.rationalizePairs, o.seed * 7 + 4) });
    await writeSubset(join(dataDir, 'star'), world.dir, { train: samplePairs(usable, p.starPairs * s.starIterations, o.seed * 7 + 5) });
    return { ...p };
  });

  const evalFiles = [join(dataDir, 'eval', SPLIT_FILES['test-id']), join(dataDir, 'eval', SPLIT_FILES['test-ood'])];
  const recordsDir = join(out, 'records');
  const lmOpts = (
    method: string,
    mode: 'direct' | 'cot',
    iteration?: number,
    votes = plan.votes,
  ): Omit<LmEvalOptions, 'onProgress'> & { onProgress: (d: number, t: number) => void } => ({
    method,
    mode,
    votes,
    temperature: 1.0, // the paper's sampling
    topP: 0.95,
    maxTokens: s.maxTokens,
    seed: o.seed,
    template: 'auto',
    contextPolicy: 'refuse',
    chunkPairs: 32,
    keepRationales: false,
    ...(iteration !== undefined ? { iteration } : {}),
    onProgress: (d, t) => o.onEvalProgress?.(`${method}${iteration !== undefined ? ` iteration ${iteration}` : ''}`, d, t),
  });
  const judgeTo = async (
    file: string,
    judge: EvalJudge,
    method: string,
    mode: 'direct' | 'cot',
    iteration?: number,
    votes = plan.votes,
  ): Promise<string> => {
    const sets = await readEvalSets(evalFiles);
    const recs = await judgeSets(judge, sets, lmOpts(method, mode, iteration, votes));
    await writeRecords(file, recs);
    return file;
  };

  const zeroShot = { direct: join(recordsDir, `${METHODS.zeroShot}.jsonl`), cot: join(recordsDir, `${METHODS.zeroShotCot}.jsonl`) };
  await stages.run('zero-shot', 'zero-shot judge (direct, CoT with votes)', async () => {
    const judge = openCheckpointJudge(base.dir, { maxBatchRows: s.maxBatchRows });
    const direct = await judgeTo(zeroShot.direct, judge, METHODS.zeroShot, 'direct');
    const cot = await judgeTo(zeroShot.cot, judge, METHODS.zeroShotCot, 'cot');
    return { records: [direct, cot] };
  });
  // A trained model equal to one judged before (e.g. one that kept the base) reuses its records.
  const judged = new JudgedModels();
  judged.add(base.dir, `direct/${plan.votes}`, zeroShot.direct);
  judged.add(base.dir, `cot/${plan.votes}`, zeroShot.cot);
  const judgeOnce = async (
    dir: string,
    file: string,
    method: string,
    mode: 'direct' | 'cot',
    iteration?: number,
    votes = plan.votes,
  ): Promise<void> => {
    const how = `${mode}/${votes}`;
    if (await judged.reuse(dir, how, file, method, iteration)) {
      o.say(
        `evaluate ${method}${iteration !== undefined ? ` iteration ${iteration}` : ''}: the same weights as a model judged before; its records reused`,
      );
      return;
    }
    await judgeTo(file, openCheckpointJudge(dir, { maxBatchRows: s.maxBatchRows }), method, mode, iteration, votes);
    judged.add(dir, how, file);
  };

  const costs: TrainingCost[] = [];
  // A method that cannot be trained (e.g. rationalize finds no rationale ending in the hint) is
  // reported as not run, with the reason, instead of ending the run; it leaves no done-marker, so
  // a rerun tries it again.
  const failed: { method: string; reason: string }[] = [];
  for (const recipe of TRAINED) {
    const runDir = join(out, 'models', recipe);
    let tr;
    try {
      tr = await stages.run(`train-${recipe}`, `train ${recipe}`, async () => {
        if (STAR_ROWS.includes(recipe)) shareFirstSamples(join(out, 'models'), recipe);
        const r = await trainMethod({
          recipe,
          base: base.dir,
          data: { sft: join(dataDir, 'sft'), rationalize: join(dataDir, 'rationalize'), star: join(dataDir, 'star') },
          out: runDir,
          seed: o.seed,
          settings: s,
          plan,
          command: o.command,
          progress: o.progress,
          say: o.say,
        });
        return {
          dir: runDir,
          steps: r.steps,
          firstLoss: r.firstLoss,
          lastLoss: r.lastLoss,
          seconds: r.elapsedSec,
          cost: costOf(r),
          details: r.details,
        };
      });
    } catch (e) {
      if (e instanceof StopAfterStage) throw e;
      const reason = (e as Error).message;
      failed.push({ method: recipe, reason });
      o.say(`train ${recipe}: FAILED, left out of the report: ${reason}`);
      continue;
    }
    costs.push({ method: recipe, cap: rowCap(recipe, s), ...costOf(tr.cost), seconds: typeof tr.seconds === 'number' ? tr.seconds : null });
    await stages.run(`eval-${recipe}`, `evaluate ${recipe}`, async () => {
      const mode = MODES[recipe];
      const file = join(recordsDir, `${recipe}.jsonl`);
      if (!STAR_ROWS.includes(recipe)) {
        if (mode === 'head')
          return { records: [await judgeTo(file, openCheckpointJudge(runDir, { maxBatchRows: s.maxBatchRows }), recipe, 'direct')] };
        await judgeOnce(runDir, file, recipe, mode);
        return { records: [file] };
      }
      // STaR: every iteration's model (one that changed nothing reuses the records of the one before).
      const state = JSON.parse(readFileSync(join(runDir, STATE_FILE), 'utf8')) as { history: IterationSummary[] };
      const all: JudgeRecord[] = [];
      const last = Math.max(...state.history.map((h) => h.iteration));
      for (const h of state.history) {
        const tmp = join(recordsDir, `${recipe}.iter-${h.iteration}.jsonl`);
        await judgeOnce(h.end, tmp, recipe, 'cot', h.iteration, h.iteration === last ? plan.votes : s.iterationVotes);
        all.push(...(await readRecordsAll(tmp)));
      }
      await writeRecords(file, all);
      return { records: [file], iterations: state.history.length };
    });
  }

  const trained = Object.fromEntries(costs.map((c) => [c.method, join(out, 'models', c.method)]));
  const bon = await stages.run('bon', 'best-of-N: the base answers, the judges choose', () =>
    bonStage({
      out,
      evalDir: join(dataDir, 'eval'),
      base: base.dir,
      models: trained,
      settings: s,
      seed: o.seed,
      lmOpts: (m, mode, votes) => lmOpts(m, mode, undefined, votes),
      say: o.say,
    }),
  );

  const overopt = await stages.run('overopt', 'overoptimisation: the base trained as a policy on each judge', () =>
    overoptStage({
      base: base.dir,
      evalDir: join(dataDir, 'eval'),
      trainDir: join(dataDir, 'star'),
      models: trained,
      settings: s,
      seed: o.seed,
      say: o.say,
    }),
  );

  // Report: always (re)written from the records, so a finished run can be re-rendered.
  const tr0 = performance.now();
  o.say(`[${TOTAL_STAGES}/${TOTAL_STAGES}] report ...`);
  const records: JudgeRecord[] = [];
  const zsCot = await readRecordsAll(join(recordsDir, `${METHODS.zeroShotCot}.jsonl`));
  for (const m of [METHODS.zeroShot, METHODS.zeroShotCot, ...TRAINED]) {
    const f = join(recordsDir, `${m}.jsonl`);
    if (!existsSync(f)) continue;
    const recs = await readRecordsAll(f);
    // STaR starts from the zero-shot CoT judge: its records are the curve's iteration 0.
    if ((STAR_ROWS as readonly string[]).includes(m)) records.push(...zsCot.map((r) => ({ ...r, method: m, iteration: 0 })));
    records.push(...recs);
  }
  const timings = stages.timings();
  const results = evaluate(records, {
    notes: {
      quick: o.size !== 'full',
      cut: cuts,
      samplePlan: plan.text,
      timings, // the report's own time is printed when it is written (it cannot be inside itself)
      training: costs,
      extra: [
        `size ${o.size}, seed ${o.seed}; world: ${world.dir} (${Object.entries(world.pairs)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} pairs)`,
        `base: ${base.why}`,
        `every judge saw the same ${plan.evalPairs} pairs per split in both orders; CoT judges sampled ${plan.votes} rationales per order once (STaR iterations before the last: ${s.iterationVotes}; temperature 1.0, top-p 0.95, ≤ ${s.maxTokens} tokens); STaR curves are read at the fewest votes any iteration had and start at iteration 0 = the zero-shot CoT judge`,
        `training budget, the same for every method: at most ${s.budget.steps} updates (STaR: per iteration), ${budgetRule(s.budget)}; the LM recipes mix in the world's pretraining corpus at their default replay share (each data subset links the world's corpus.jsonl)`,
        ...failed.map((f) => `${f.method}: not trained, so not in the tables: ${f.reason}`),
        ...bon.notes,
        ...overopt.notes,
        ...(resumed ? ['this run was resumed: stage times are those recorded when each stage finished'] : []),
      ],
    },
  });
  results.bon = bon.rows;
  results.overopt = overopt.rows;
  const title = `genrm repro${o.size === 'full' ? '' : ` --${o.size}`}: the GenRM paper's experiment on PrefWorld`;
  const files = await writeReport(out, results, title);
  let png: string | null = null;
  let pngSkipped: string | undefined;
  if (o.screenshot ?? true) {
    const r = screenshot(files.html, join(out, 'report.png'));
    if ('png' in r) png = r.png;
    else pngSkipped = r.skipped;
  }
  const reportSeconds = (performance.now() - tr0) / 1000;
  o.say(
    `[${TOTAL_STAGES}/${TOTAL_STAGES}] report: done in ${reportSeconds.toFixed(1)} s (${files.markdown}${png ? `, ${png}` : pngSkipped ? `; no screenshot: ${pngSkipped}` : ''})`,
  );
  return {
    out,
    resumed,
    results,
    files,
    png,
    ...(pngSkipped ? { pngSkipped } : {}),
    plan,
    base,
    timings,
    skipped: stages.skipped,
    ran: stages.ran,
    cuts,
    failed,
    reportSeconds,
    seconds: (performance.now() - t0) / 1000,
  };
}
