// What `genrm eval` judges with, and the one entry point that turns (judge, eval sets) into
// per-pair records. A judge is either a language model (kind 'lm' checkpoint, the zero-shot base,
// or a server) asked in direct or CoT mode, or a reward-head checkpoint (bt, pairrm).
import { EmbeddedBackend } from '../../backends/embedded/backend.js';
import type { LanguageModel } from '../../backends/types.js';
import { hasCheckpointMeta, readCheckpointMeta, type CheckpointKind } from '../../engine/checkpoint.js';
import type { JudgeRecord } from '../records.js';
import type { EvalSet } from './data.js';
import { headRecords, loadHeadModel, type HeadModel } from './heads.js';
import { lmRecords, type LmEvalOptions } from './lm.js';

export type EvalJudge = { kind: 'lm'; model: LanguageModel } | { kind: 'head'; head: HeadModel };

/** The `kind` in a checkpoint folder's genrm.json ('lm', 'bt', 'pairrm'). */
export function checkpointKind(dir: string): CheckpointKind {
  if (!hasCheckpointMeta(dir))
    throw new Error(`${dir}: no genrm.json; not a genrm checkpoint folder (expected the output of genrm pretrain or genrm train)`);
  return readCheckpointMeta(dir).kind;
}

/** A checkpoint folder as a judge: reward heads in-process, language models through the embedded backend. */
export function openCheckpointJudge(dir: string, o: { maxBatchRows?: number } = {}): EvalJudge {
  const kind = checkpointKind(dir);
  if (kind === 'lm')
    return { kind: 'lm', model: EmbeddedBackend.load(dir, o.maxBatchRows !== undefined ? { maxBatchRows: o.maxBatchRows } : {}) };
  return { kind: 'head', head: loadHeadModel(dir) };
}

/** Judges every set; records in set order, then pair order. `onProgress` counts pairs over all sets. */
export async function judgeSets(
  judge: EvalJudge,
  sets: readonly EvalSet[],
  o: Omit<LmEvalOptions, 'onProgress'> & { onProgress?: (done: number, total: number) => void },
): Promise<JudgeRecord[]> {
  const total = sets.reduce((s, x) => s + x.pairs.length, 0);
  let before = 0;
  const out: JudgeRecord[] = [];
  for (const set of sets) {
    if (judge.kind === 'head') {
      try {
        out.push(
          ...headRecords(judge.head, set.pairs, { method: o.method, ...(o.iteration !== undefined ? { iteration: o.iteration } : {}) }),
        );
      } catch (e) {
        throw new Error(`${set.file}: ${(e as Error).message}`);
      }
      o.onProgress?.(before + set.pairs.length, total);
    } else {
      const b = before;
      out.push(...(await lmRecords(judge.model, set, { ...o, onProgress: (d) => o.onProgress?.(b + d, total) })));
    }
    before += set.pairs.length;
  }
  return out;
}
