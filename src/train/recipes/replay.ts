// Pretraining replay for the recipes that fine-tune the language model (InstructGPT's
// "PPO-ptx", Ouyang et al. 2022, arXiv 2203.02155): each micro-batch carries, beside the
// recipe's own batch, rows of the pretraining corpus packed to the model's context, and
//
//   loss = (1 − ρ) · recipe loss + ρ · token-mean NLL of the corpus rows      (ρ = `replay`)
//
// so ρ is exactly the share of the update's loss weight that is language modelling, whatever
// the lengths of the recipe's targets (a direct verdict is one token, a corpus row hundreds).
// The corpus stream is a PackedStream (seeded, its position saved with the recipe's), so a
// resumed run replays the same rows.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_FILE } from '../../data/world/generate.js';
import { add, scale } from '../../engine/autograd/index.js';
import type { Llama } from '../../engine/model/index.js';
import { Prng } from '../../engine/prng.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { epochSeed, PackedStream, permutation, type BatchStream, type LmBatch } from '../batches.js';
import { loadCorpus } from '../pretrain/data.js';
import type { TrainTask } from '../trainer.js';
import type { ReplaySpec } from './config.js';

/** A recipe batch with the corpus rows replayed beside it. */
export interface ReplayBatch<B> {
  main: B;
  corpus: LmBatch;
}

/** Where the replayed corpus is: replayData, else `data`'s corpus.jsonl; a clear error when neither. */
export function replayFile(spec: ReplaySpec): string {
  if (spec.replayData !== undefined) return spec.replayData;
  if (existsSync(spec.data) && statSync(spec.data).isDirectory() && existsSync(join(spec.data, CORPUS_FILE))) return spec.data;
  throw new Error(
    `replay is ${spec.share} but no pretraining corpus was found: ${spec.data} is not a PrefWorld folder holding ${CORPUS_FILE}; set replayData to a ${CORPUS_FILE} (or a PrefWorld folder holding one), or set replay: 0`,
  );
}

/**
 * The corpus documents a run will replay, tokenized as pretraining did (text with specials
 * parsed, no BOS; PackedStream adds end-of-text between documents): a seeded draw of documents
 * holding at least `tokens` tokens (the run's need, with margin), so a 100k-document corpus is
 * not tokenized whole for a few hundred updates.
 */
export function replayDocs(spec: ReplaySpec, tok: Tokenizer, tokens: number, seed: number): Int32Array[] {
  const { docs, corpusFile } = loadCorpus(replayFile(spec));
  const order = permutation(docs.length, new Prng(epochSeed(seed, 5_000_011)));
  const out: Int32Array[] = [];
  let n = 0;
  for (const i of order) {
    if (n >= tokens) break;
    const ids = Int32Array.from(tok.encode(docs[i]!.text, { specials: 'parse' }));
    if (ids.length === 0) continue;
    out.push(ids);
    n += ids.length + 1;
  }
  if (out.length === 0) throw new Error(`${corpusFile}: no non-empty document to replay`);
  return out;
}

/** Corpus rows per micro-batch: ⌈ρ · batchSize⌉, at least one. */
export const replayRows = (share: number, batchSize: number): number => Math.max(1, Math.ceil(share * batchSize));

/** A stream of recipe batches, each with its corpus rows; both positions saved together. */
class WithCorpus<B> implements BatchStream<ReplayBatch<B>> {
  constructor(
    private readonly main: BatchStream<B>,
    private readonly corpus: PackedStream,
  ) {}
  next(): ReplayBatch<B> {
    return { main: this.main.next(), corpus: this.corpus.next() };
  }
  position(): { main: unknown; corpus: unknown } {
    return { main: this.main.position(), corpus: this.corpus.position() };
  }
  seek(pos: unknown): void {
    const p = pos as { main?: unknown; corpus?: unknown } | null;
    if (typeof p !== 'object' || p === null || !('main' in p) || !('corpus' in p))
      throw new Error(
        `replay stream: saved position must be {main, corpus}, got ${JSON.stringify(pos)} (was the run started with another replay setting?)`,
      );
    this.main.seek(p.main);
    this.corpus.seek(p.corpus);
  }
}

export interface ReplayOptions {
  spec: ReplaySpec;
  tokenizer: Tokenizer;
  /** Micro-batch size of the recipe (rows of replay follow from it). */
  batchSize: number;
  /** Updates × micro-batches the run may take at most (sizes the documents drawn). */
  microBatches: number;
  seed: number;
}

/**
 * The recipe's task with replay mixed in (ρ = spec.share > 0); the task itself when ρ is 0.
 * Weights (accumulation) stay the recipe's, so ρ is the corpus's share of every micro-batch's
 * loss and hence of the update's. Logged beside the loss: taskLoss and replayLoss.
 */
export function withReplay<B>(task: TrainTask<B>, model: Llama, o: ReplayOptions): TrainTask<B> | TrainTask<ReplayBatch<B>> {
  const rho = o.spec.share;
  if (rho === 0) return task;
  const rows = replayRows(rho, o.batchSize);
  const T = model.config.maxSeqLen;
  const docs = replayDocs(o.spec, o.tokenizer, Math.ceil(1.1 * o.microBatches * rows * T) + T, o.seed);
  const corpus = new PackedStream(docs, { batchSize: rows, seqLen: T, seed: o.seed, separator: o.tokenizer.eotId });
  const { stream, loss, weight, tokens, ...rest } = task;
  const mixed: TrainTask<ReplayBatch<B>> = {
    ...rest,
    ...(rest.batchShape ? { batchShape: { ...rest.batchShape, rows: rest.batchShape.rows + rows } } : {}),
    stream: new WithCorpus(stream, corpus),
    loss: (b, ctx) => {
      const m = loss(b.main, ctx);
      const lm = model.loss(b.corpus.ids, b.corpus.targets, b.corpus.batch, b.corpus.seqLen);
      const metrics = { ...m.metrics, taskLoss: m.loss.item(), replayLoss: lm.item() };
      return { loss: add(scale(m.loss, 1 - rho), scale(lm, rho)), metrics };
    },
    weight: (b) => (weight ? weight(b.main) : 1),
    tokens: (b) => (tokens ? tokens(b.main) : 0) + b.corpus.batch * b.corpus.seqLen,
  };
  return mixed;
}
