// One STaR sampling run into a folder, as `genrm star sample` does it: sample (resumable), build
// the STaR-SFT and STaR-DPO datasets and the report, and export the datasets for other trainers
// (TRL, OpenAI fine-tuning; src/data/formats/export/) so a dataset sampled from any server can
// train a large model elsewhere. The recipes train from sft.jsonl / dpo.jsonl the same way.
import { join } from 'node:path';
import type { LanguageModel } from '../../backends/types.js';
import { DPO_TARGETS, SFT_TARGETS, writeDpo, writeSft, type DpoTarget, type SftTarget } from '../../data/formats/export/writers.js';
import type { PreferencePair } from '../../data/pair.js';
import type { ResultChecker } from './checker.js';
import { requireGrader, type StarBuildConfig, type StarSamplingConfig } from './config.js';
import { buildStarDatasets, writeStarDatasets, type StarReport } from './datasets.js';
import { SAMPLES_FILE } from './records.js';
import { readSamples, sampleStar, type SampleRunStats } from './sampler.js';

export type ExportTarget = SftTarget | DpoTarget;
export const EXPORT_TARGETS: readonly ExportTarget[] = [...SFT_TARGETS, ...DPO_TARGETS];
/** TRL's prompt-completion SFT and DPO layouts, and OpenAI's supervised and preference layouts. */
export const DEFAULT_EXPORTS: readonly ExportTarget[] = ['trl-prompt-completion', 'trl-dpo', 'openai-sft', 'openai-dpo'];

export interface SampleRunOptions {
  sampling: StarSamplingConfig;
  build: StarBuildConfig;
  outDir: string;
  resume?: boolean;
  checker?: ResultChecker | null;
  exports?: readonly ExportTarget[];
  onProgress?: (done: number, total: number, tokens: number) => void;
}

export interface SampleRunResult {
  sampling: SampleRunStats;
  report: StarReport;
  /** Exported files: path -> records written. */
  exported: Record<string, number>;
}

export async function runStarSampling(lm: LanguageModel, pairs: readonly PreferencePair[], o: SampleRunOptions): Promise<SampleRunResult> {
  requireGrader(o.build.filter, !!o.checker, o.outDir); // before sampling, not after it
  const stats = await sampleStar(lm, pairs, {
    config: o.sampling,
    outDir: o.outDir,
    resume: o.resume ?? false,
    checker: o.checker ?? null,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const d = buildStarDatasets(readSamples(join(o.outDir, SAMPLES_FILE)), o.build);
  writeStarDatasets(o.outDir, d, { model: lm.name, tokensSampled: stats.tokens, sampleSeconds: stats.seconds, complete: stats.complete });
  const exported: Record<string, number> = {};
  for (const t of o.exports ?? []) {
    const file = join(o.outDir, 'export', `${(SFT_TARGETS as readonly string[]).includes(t) ? 'sft' : 'dpo'}.${t}.jsonl`);
    if ((SFT_TARGETS as readonly string[]).includes(t))
      exported[file] = await writeSft(
        file,
        d.sft.map((r) => ({ id: r.id, prompt: r.prompt, completion: r.completion })),
        t as SftTarget,
      );
    else
      exported[file] = await writeDpo(
        file,
        d.dpo.map((r) => ({ id: r.id, prompt: r.prompt, chosen: r.chosen, rejected: r.rejected })),
        t as DpoTarget,
      );
  }
  return { sampling: stats, report: d.report, exported };
}
