// A recipe's data: PreferencePair records from a PrefWorld folder (train.jsonl to train on,
// test-id.jsonl for the held-out evaluation) or from any PreferencePair JSONL (then a seeded
// slice of it is held out), and the judge examples built from them in BOTH orders: every pair
// is shown once with the chosen answer as A and once as B, so a judge cannot learn "A wins".
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pairTarget, type PairMode, type PairLabel } from '../../data/judgeFormat.js';
import { parseJsonlLine } from '../../data/jsonl.js';
import { PreferencePairSchema, type PreferencePair } from '../../data/pair.js';
import { SPEC_FILE, SPLIT_FILES } from '../../data/world/generate.js';
import { Prng } from '../../engine/prng.js';
import { orderFields } from '../../judge/pairwise.js';
import { compactPair } from '../../judge/templates.js';
import { epochSeed, permutation } from '../batches.js';
import { GenrmError } from '../../util/errors.js';

export interface PairData {
  /** The file trained on. */
  trainFile: string;
  train: PreferencePair[];
  /** Held-out pairs for the judge evaluation (test-id of a world, or a slice of the file). */
  eval: PreferencePair[];
  /** Where the held-out pairs came from, in words. */
  evalSource: string;
  /** "sha256:<hex>" of the training file's bytes. */
  hash: string;
  /** The world folder, when given one (its spec rebuilds tasks for rationale grading). */
  worldDir: string | null;
  /** Tied pairs left out (no right verdict to train). */
  ties: number;
}

function readPairFile(file: string): { pairs: PreferencePair[]; bytes: Buffer } {
  const bytes = readFileSync(file);
  const pairs: PreferencePair[] = [];
  bytes
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim()) pairs.push(parseJsonlLine(line, PreferencePairSchema, file, i + 1));
    });
  return { pairs, bytes };
}

/**
 * Reads the training pairs and the held-out pairs. `evalPairs` caps the held-out set; from a
 * plain file at most a tenth is held out (so small files still train). Ties are dropped.
 */
export function loadPairData(path: string, opts: { evalPairs: number; seed: number }): PairData {
  if (!existsSync(path))
    throw new GenrmError(
      `${path}: no such file or folder (expected a PrefWorld folder from \`genrm world generate\`, or a PreferencePair JSONL file)`,
      'bad_input',
    );
  const isDir = statSync(path).isDirectory();
  const trainFile = isDir ? join(path, SPLIT_FILES.train) : path;
  if (!existsSync(trainFile))
    throw new GenrmError(`${trainFile}: missing; is ${path} a PrefWorld folder (genrm world generate --out ${path})?`, 'bad_input');
  const { pairs, bytes } = readPairFile(trainFile);
  return pairDataOf({ path, isDir, trainFile, pairs, bytes }, opts);
}

/** PairData from pairs already read (from `trainFile`, whose bytes are hashed): ties dropped, the held-out pairs split off. */
export function pairDataOf(
  src: { path: string; isDir: boolean; trainFile: string; pairs: PreferencePair[]; bytes: Buffer },
  opts: { evalPairs: number; seed: number },
): PairData {
  const { path, isDir, trainFile, pairs, bytes } = src;
  const usable = pairs.filter((p) => p.tie !== true);
  const ties = pairs.length - usable.length;
  let train = usable;
  let evalSet: PreferencePair[] = [];
  let evalSource = 'none';
  const testId = isDir ? join(path, SPLIT_FILES['test-id']) : null;
  if (opts.evalPairs > 0 && testId && existsSync(testId)) {
    evalSet = readPairFile(testId)
      .pairs.filter((p) => p.tie !== true)
      .slice(0, opts.evalPairs);
    evalSource = `${testId} (first ${evalSet.length})`;
  } else if (opts.evalPairs > 0) {
    // A seeded slice, so the same seed holds out the same pairs (resume and reruns agree).
    const n = Math.min(opts.evalPairs, Math.floor(usable.length / 10));
    const order = permutation(usable.length, new Prng(epochSeed(opts.seed, 2_000_003)));
    const held = new Set(order.subarray(0, n));
    evalSet = usable.filter((_, i) => held.has(i));
    train = usable.filter((_, i) => !held.has(i));
    evalSource = `${n} pairs held out of ${trainFile}`;
  }
  if (train.length === 0) throw new GenrmError(`${trainFile}: no pairs to train on (${pairs.length} records, ${ties} ties)`, 'bad_input');
  return {
    trainFile,
    train,
    eval: evalSet,
    evalSource,
    hash: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    worldDir: isDir && existsSync(join(path, SPEC_FILE)) ? path : null,
    ties,
  };
}

/** One pair in one order: what the judge sees as A and B, and the right verdict. */
export interface OrderedPair {
  pair: PreferencePair;
  /** true: chosen is shown as A (right verdict A); false: as B. */
  chosenFirst: boolean;
  answerA: string;
  answerB: string;
  verdict: PairLabel;
}

export function order(pair: PreferencePair, chosenFirst: boolean): OrderedPair {
  return chosenFirst
    ? { pair, chosenFirst, answerA: pair.chosen, answerB: pair.rejected, verdict: 'A' }
    : { pair, chosenFirst, answerA: pair.rejected, answerB: pair.chosen, verdict: 'B' };
}

/** Every pair in both orders (chosen as A, then chosen as B). */
export function bothOrders(pairs: readonly PreferencePair[]): OrderedPair[] {
  return pairs.flatMap((p) => [order(p, true), order(p, false)]);
}

/** A (prompt, target) text pair for SFT, with where it came from (for errors and reports). */
export interface TextExample {
  prompt: string;
  target: string;
  /** e.g. "pair add-17 (chosen as B)". */
  source: string;
}

export function describe(op: OrderedPair): string {
  return `pair ${op.pair.id} (chosen as ${op.chosenFirst ? 'A' : 'B'})`;
}

/**
 * The judge prompt of an ordered pair in a mode (rationalize: the right verdict as the hint): the
 * compact template's rendering through src/judge, the very text `genrm eval` judges with.
 */
export function judgePrompt(op: OrderedPair, mode: PairMode): string {
  const f = orderFields(
    { prompt: op.pair.prompt, answerA: op.answerA, answerB: op.answerB },
    0,
    mode === 'rationalize' ? op.verdict : undefined,
  );
  return compactPair(f, mode);
}

/** Direct judge example: the prompt up to "Verdict: ", the right verdict token as the target. */
export function directExample(op: OrderedPair): TextExample {
  return { prompt: judgePrompt(op, 'direct'), target: pairTarget('direct', op.verdict), source: describe(op) };
}

/** CoT judge example (trained WITHOUT a hint): the prompt up to "Check: ", rationale + verdict as the target. */
export function cotExample(op: OrderedPair, rationale: string, verdict: PairLabel = op.verdict): TextExample {
  return { prompt: judgePrompt(op, 'cot'), target: pairTarget('cot', verdict, rationale), source: describe(op) };
}
