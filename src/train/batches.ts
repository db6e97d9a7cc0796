// Data iteration for the training loop: streams of micro-batches that are deterministic given a
// seed and can be saved and restored at any position (so a resumed run sees exactly the batches
// an uninterrupted one would). Each epoch's order is a pure function of (seed, epoch): no PRNG
// state to save, only the position.
//
// Two layouts for language-model batches (`LmBatch`, token-major like the model):
//   packing — pretraining: documents joined with end-of-text into one stream, cut into rows of
//             seqLen + 1 tokens (ids = row[0..T), targets = row[1..T]); rows overlap by one token
//             so every token is a target once. No padding, no waste.
//   padding — example-wise recipes: one example per row, right-padded to the longest row of the
//             batch (targets -1 there); examples are bucketed by length (sorted within windows of
//             a few batches) so rows of a batch are of similar length and less compute is padding.
// Loss masks: an example says per token whether predicting it is trained (`trainMask`); targets
// are -1 elsewhere, so the cross-entropy ignores them (train only on the chosen spans).
import { Prng } from '../engine/prng.js';

/** A language-model micro-batch: (B*T) ids and next-token targets, -1 = no loss there. */
export interface LmBatch {
  ids: Int32Array; // (B*T)
  targets: Int32Array; // (B*T)
  batch: number;
  seqLen: number;
  /** Targets that count (not -1): the unit the loss averages over. */
  tokens: number;
}

/** A source of micro-batches whose position can be saved (JSON) and restored. */
export interface BatchStream<B> {
  next(): B;
  /** Where the stream stands: JSON-serialisable, opaque to the trainer. */
  position(): unknown;
  /** Returns to a position from `position()` (validates it). */
  seek(pos: unknown): void;
}

/** A per-epoch seed: different epochs shuffle differently, the same (seed, epoch) the same. */
export function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca77)) >>> 0;
}

/** Fisher–Yates permutation of 0..n-1 from a Prng. */
export function permutation(n: number, rng: Prng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

function checkPos(pos: unknown, keys: string[], where: string): Record<string, number> {
  if (typeof pos !== 'object' || pos === null) throw new Error(`${where}: saved position must be an object, got ${JSON.stringify(pos)}`);
  const o = pos as Record<string, unknown>;
  for (const k of keys)
    if (typeof o[k] !== 'number' || !Number.isInteger(o[k]) || (o[k] as number) < 0)
      throw new Error(`${where}: saved position field "${k}" must be a non-negative integer, got ${JSON.stringify(o[k])}`);
  return o as Record<string, number>;
}

export interface PackedOptions {
  /** Rows per micro-batch. */
  batchSize: number;
  /** Tokens per row (the model sees seqLen, predicts seqLen). */
  seqLen: number;
  seed: number;
  /** Appended after every document (end of text). */
  separator: number;
}

/** Pretraining stream: shuffled documents packed into fixed-length rows. */
export class PackedStream implements BatchStream<LmBatch> {
  private epoch = 0;
  private offset = 0; // token offset of the next row's first token in this epoch's stream
  private cache = new Map<number, Int32Array>();
  private readonly docs: readonly Int32Array[];
  private readonly opts: PackedOptions;

  constructor(docs: readonly Int32Array[], opts: PackedOptions) {
    if (docs.length === 0) throw new Error('PackedStream: no documents');
    this.docs = docs;
    this.opts = opts;
  }

  /** The epoch's token stream: documents in that epoch's order, each followed by the separator. */
  private stream(epoch: number): Int32Array {
    let s = this.cache.get(epoch);
    if (s) return s;
    const order = permutation(this.docs.length, new Prng(epochSeed(this.opts.seed, epoch)));
    let n = 0;
    for (const d of this.docs) n += d.length + 1;
    s = new Int32Array(n);
    let at = 0;
    for (const i of order) {
      const d = this.docs[i]!;
      s.set(d, at);
      at += d.length;
      s[at++] = this.opts.separator;
    }
    for (const k of [...this.cache.keys()]) if (k < epoch) this.cache.delete(k); // keep current and next only
    this.cache.set(epoch, s);
    return s;
  }

  /** Tokens per epoch (documents plus separators). */
  get epochTokens(): number {
    let n = 0;
    for (const d of this.docs) n += d.length + 1;
    return n;
  }

  /** Reads n tokens from (epoch, offset) on, rolling into the next epoch. */
  private read(epoch: number, offset: number, out: Int32Array, at: number, n: number): void {
    let e = epoch;
    let o = offset;
    let done = 0;
    while (done < n) {
      const s = this.stream(e);
      const k = Math.min(n - done, s.length - o);
      out.set(s.subarray(o, o + k), at + done);
      done += k;
      o += k;
      if (o >= s.length) {
        e++;
        o = 0;
      }
    }
  }

  next(): LmBatch {
    const { batchSize: B, seqLen: T } = this.opts;
    const row = new Int32Array(T + 1);
    const ids = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      this.read(this.epoch, this.offset, row, 0, T + 1);
      ids.set(row.subarray(0, T), b * T);
      targets.set(row.subarray(1), b * T);
      // Advance by T: the row's last token starts the next row, so it is predicted exactly once.
      this.offset += T;
      for (let len = this.stream(this.epoch).length; this.offset >= len; len = this.stream(this.epoch).length) {
        this.offset -= len;
        this.epoch++;
      }
    }
    return { ids, targets, batch: B, seqLen: T, tokens: B * T };
  }

  position(): { epoch: number; offset: number } {
    return { epoch: this.epoch, offset: this.offset };
  }

  seek(pos: unknown): void {
    const p = checkPos(pos, ['epoch', 'offset'], 'PackedStream');
    this.epoch = p.epoch!;
    this.offset = p.offset!;
  }
}

/** One training example for padding: its tokens and which of them are trained on. */
export interface LmExample {
  tokens: Int32Array;
  /** (tokens.length) 1 = predicting this token is trained; absent = all but the first. */
  trainMask?: Uint8Array;
}

/** An example trained only on its completion: the chosen span after a prompt. */
export function completionExample(prompt: readonly number[], completion: readonly number[]): LmExample {
  const tokens = Int32Array.from([...prompt, ...completion]);
  const trainMask = new Uint8Array(tokens.length);
  trainMask.fill(1, prompt.length);
  return { tokens, trainMask };
}

/**
 * Right-pads examples into one LmBatch: row b holds example b's tokens[0..n-1) as ids and
 * tokens[1..n) as targets (where trained), then padId / -1 up to the longest row.
 */
export function padBatch(examples: readonly LmExample[], padId: number, maxSeqLen = Infinity): LmBatch {
  const B = examples.length;
  if (B === 0) throw new Error('padBatch: no examples');
  let T = 1;
  for (const ex of examples) T = Math.max(T, ex.tokens.length - 1);
  if (T > maxSeqLen)
    throw new Error(
      `padBatch: an example has ${T + 1} tokens, longer than the context (${maxSeqLen} + 1); shorten it or raise the context`,
    );
  const ids = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T).fill(-1);
  let tokens = 0;
  examples.forEach((ex, b) => {
    const n = ex.tokens.length;
    if (ex.trainMask && ex.trainMask.length !== n)
      throw new Error(`padBatch: example ${b} has ${n} tokens but a trainMask of ${ex.trainMask.length}`);
    for (let t = 0; t + 1 < n; t++) {
      ids[b * T + t] = ex.tokens[t]!;
      if (!ex.trainMask || ex.trainMask[t + 1]) {
        targets[b * T + t] = ex.tokens[t + 1]!;
        tokens++;
      }
    }
  });
  return { ids, targets, batch: B, seqLen: T, tokens };
}

export interface ShuffledOptions<T> {
  batchSize: number;
  seed: number;
  /** Bucket by this length: sort within windows of `bucketWindow` batches. Absent: no bucketing. */
  length?: (item: T) => number;
  /** Batches per sorting window: 32 evens out lengths without making epochs predictable. */
  bucketWindow?: number;
}

/**
 * Example-wise stream: each epoch shuffles the items (seeded), optionally buckets them by length,
 * groups them into batches (the last short batch of an epoch is kept), shuffles the batch order,
 * and hands each batch to `collate` (e.g. padBatch, or a recipe's own pairing of chosen/rejected).
 */
export class ShuffledStream<T, B> implements BatchStream<B> {
  private epoch = 0;
  private index = 0;
  private plan: { epoch: number; batches: Int32Array[] } | null = null;

  constructor(
    private readonly items: readonly T[],
    private readonly collate: (items: T[]) => B,
    private readonly opts: ShuffledOptions<T>,
  ) {
    if (items.length === 0) throw new Error('ShuffledStream: no examples');
  }

  /** This epoch's batches, as lists of item indices. */
  batchesOf(epoch: number): Int32Array[] {
    if (this.plan?.epoch === epoch) return this.plan.batches;
    const rng = new Prng(epochSeed(this.opts.seed, epoch));
    const order = permutation(this.items.length, rng);
    const B = this.opts.batchSize;
    const len = this.opts.length;
    if (len) {
      const w = B * (this.opts.bucketWindow ?? 32);
      for (let s = 0; s < order.length; s += w) {
        const win = order.subarray(s, Math.min(order.length, s + w));
        const sorted = Array.from(win).sort((a, b) => len(this.items[a]!) - len(this.items[b]!) || a - b);
        win.set(sorted);
      }
    }
    const batches: Int32Array[] = [];
    for (let s = 0; s < order.length; s += B) batches.push(order.slice(s, Math.min(order.length, s + B)));
    const perm = permutation(batches.length, rng);
    const shuffled = Array.from(perm, (i) => batches[i]!);
    this.plan = { epoch, batches: shuffled };
    return shuffled;
  }

  next(): B {
    let batches = this.batchesOf(this.epoch);
    if (this.index >= batches.length) {
      this.epoch++;
      this.index = 0;
      batches = this.batchesOf(this.epoch);
    }
    const idx = batches[this.index++]!;
    return this.collate(Array.from(idx, (i) => this.items[i]!));
  }

  position(): { epoch: number; index: number } {
    return { epoch: this.epoch, index: this.index };
  }

  seek(pos: unknown): void {
    const p = checkPos(pos, ['epoch', 'index'], 'ShuffledStream');
    this.epoch = p.epoch!;
    this.index = p.index!;
  }
}

/**
 * A seeded validation split by group (e.g. the source pair of an example: both orders and every
 * rationale of a pair land on the same side). Holds out `groups` groups, at most a fifth of them,
 * so a small set still trains; the same (items, seed) always give the same split.
 */
export function holdOutGroups<T>(
  items: readonly T[],
  groupOf: (item: T) => string,
  groups: number,
  seed: number,
): { train: T[]; val: T[] } {
  const keys = [...new Set(items.map(groupOf))];
  const n = Math.min(groups, Math.floor(keys.length / 5));
  if (n <= 0) return { train: [...items], val: [] };
  const order = permutation(keys.length, new Prng(epochSeed(seed, 4_000_037)));
  const held = new Set(Array.from(order.subarray(0, n), (i) => keys[i]!));
  return { train: items.filter((x) => !held.has(groupOf(x))), val: items.filter((x) => held.has(groupOf(x))) };
}

/** Items in consecutive batches of `size` (the last one shorter): fixed validation batches. */
export function chunked<T, B>(items: readonly T[], size: number, collate: (part: T[]) => B): B[] {
  const out: B[] = [];
  for (let s = 0; s < items.length; s += size) out.push(collate(items.slice(s, s + size)));
  return out;
}
