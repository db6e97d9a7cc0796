// Picking the next token of one row from its log-softmax: greedy, or temperature sampling
// restricted by top-k and top-p, in that order (as vLLM and Hugging Face do: temperature first,
// then top-k, then top-p over the renormalised top-k set).
//
// Randomness: one uniform draw per sampled token from the row's own Prng, so a row's stream
// does not depend on which other rows share its batch. Greedy (temperature 0) draws nothing.
import { Prng } from '../prng.js';

export interface SamplingParams {
  /** 0 = greedy (argmax; topK/topP ignored). */
  temperature: number;
  /** Keep the k most likely tokens; 0 = off. */
  topK: number;
  /** Keep the smallest most-likely set whose mass reaches topP; 1 = off. */
  topP: number;
}

/**
 * The seed of the stream of sample `index` of a prompt: a hash of (seed, index, prompt ids). So a
 * sample is a function of (model, prompt, options, seed, index) only — not of the batch it ran in,
 * the chunking, or the order of prompts — and two different prompts never share a stream.
 */
export function streamSeed(seed: number, index: number, prompt: ArrayLike<number>): number {
  // FNV-1a over the ids, then a murmur3-style finaliser mixing in seed + index.
  let h = 0x811c9dc5;
  for (let i = 0; i < prompt.length; i++) h = Math.imul(h ^ (prompt[i]! & 0xffffffff), 0x01000193) >>> 0;
  h = (h ^ Math.imul((seed + index) >>> 0, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Float32 bit patterns of non-negative floats sort like the floats: used to pack sort keys. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bitsOf(x: number): number {
  f32[0] = x;
  return u32[0]!;
}

/**
 * Reusable scratch for one vocabulary size, so that picking a token allocates nothing.
 * Not shared between threads; one per generate call.
 */
export class Sampler {
  private readonly w: Float64Array; // (V) unnormalised probabilities at the sampling temperature
  private readonly keys: Float64Array; // (V) packed sort keys: bits(value) * V + (V - 1 - id)
  private readonly ids: Int32Array; // (V) candidate ids, partitioned in place by nucleus()

  constructor(readonly vocab: number) {
    this.w = new Float64Array(vocab);
    this.keys = new Float64Array(vocab);
    this.ids = new Int32Array(vocab);
  }

  /** argmax of lsm[off .. off+V); the lowest id wins a tie. */
  argmax(lsm: Float32Array, off: number): number {
    let best = 0;
    let bv = -Infinity;
    for (let i = 0; i < this.vocab; i++) {
      const v = lsm[off + i]!;
      if (v > bv) {
        bv = v;
        best = i;
      }
    }
    return best;
  }

  /**
   * Sorts ids [0, V) with values[i] > cutoff by value, descending (ties: lower id first), into
   * `keys` (read them back with idOf). Values must be >= 0 (probabilities) or the caller shifts.
   * Returns how many were kept.
   */
  private sortDesc(values: Float64Array, cutoff: number): number {
    const V = this.vocab;
    let n = 0;
    for (let i = 0; i < V; i++) {
      const v = values[i]!;
      if (v > cutoff) this.keys[n++] = bitsOf(v) * V + (V - 1 - i);
    }
    // Native numeric sort of a typed array (ascending); we read it from the end.
    this.keys.subarray(0, n).sort();
    return n;
  }

  private idOf(rank: number, n: number): number {
    const V = this.vocab;
    return V - 1 - (this.keys[n - 1 - rank]! % V);
  }

  /**
   * Picks the next token from the log-softmax row lsm[off .. off+V) (already normalised: the
   * model's distribution at temperature 1).
   */
  pick(lsm: Float32Array, off: number, p: SamplingParams, rng: Prng): number {
    if (p.temperature === 0) return this.argmax(lsm, off);
    const V = this.vocab;
    const k = p.topK > 0 && p.topK < V ? p.topK : V;
    // Temperature 1 without top-k (the CoT judge's default, and the OpenAI API's): the row is the
    // sampling distribution itself, normalised, so its total mass is 1 (to f32 rounding, ~1e-6)
    // and only the tokens a draw can reach need their exp. Exponentiating all of a 518-token row
    // cost ~13-20 us a token, the largest JS cost of a batched decode step.
    if (p.temperature === 1 && k === V) return p.topP >= 1 ? this.plainUnit(lsm, off, rng) : this.nucleus(lsm, off, 1, p.topP, rng);
    const w = this.w;
    let m = -Infinity;
    for (let i = 0; i < V; i++) if (lsm[off + i]! > m) m = lsm[off + i]!;
    const invT = 1 / p.temperature;
    let total = 0;
    for (let i = 0; i < V; i++) total += w[i] = Math.exp((lsm[off + i]! - m) * invT);
    if (k === V && p.topP >= 1) {
      // Plain sampling: walk the ids in order (no sort needed).
      let u = rng.uniform() * total;
      for (let i = 0; i < V; i++) {
        u -= w[i]!;
        if (u < 0) return i;
      }
      return this.argmax(lsm, off); // u rounded past the end: the last mass belongs to the mode
    }
    if (k === V) return this.nucleus(null, 0, total, p.topP, rng);
    // Top-k: sort, keep k, then top-p over their renormalised mass.
    const n = this.sortDesc(w, -1);
    const kept0 = Math.min(k, n);
    let mass = 0;
    for (let r = 0; r < kept0; r++) mass += w[this.idOf(r, n)]!;
    let kept = kept0;
    if (p.topP < 1) {
      // Smallest prefix whose share of the top-k mass reaches topP (at least one token).
      const want = p.topP * mass;
      let cum = 0;
      for (let r = 0; r < kept0; r++) {
        cum += w[this.idOf(r, n)]!;
        if (cum >= want) {
          kept = r + 1;
          mass = cum;
          break;
        }
      }
    }
    let u = rng.uniform() * mass;
    for (let r = 0; r < kept; r++) {
      const id = this.idOf(r, n);
      u -= w[id]!;
      if (u < 0) return id;
    }
    return this.idOf(kept - 1, n);
  }

  /**
   * Plain sampling from a normalised row (temperature 1): the mode's interval first, then the
   * other ids in order, so a draw that lands on the mode (most draws, once a model is trained)
   * costs one exp.
   */
  private plainUnit(lsm: Float32Array, off: number, rng: Prng): number {
    const mode = this.argmax(lsm, off);
    let u = rng.uniform() - Math.exp(lsm[off + mode]!);
    if (u < 0) return mode;
    for (let i = 0; i < this.vocab; i++) {
      if (i === mode) continue;
      u -= Math.exp(lsm[off + i]!);
      if (u < 0) return i;
    }
    return mode; // u rounded past the end: the last mass belongs to the mode
  }

  /**
   * Top-p without top-k, without sorting: the nucleus (the smallest set of likeliest ids whose
   * mass reaches topP * total; on a tie in value, lower ids first) is found by partitioning the
   * ids around pivot values, quickselect-style (expected O(V)); then one draw over its members in
   * the order the partitions left them (a fixed function of the weights, so still one uniform per
   * token and deterministic). With near-uniform distributions (an untrained model) the nucleus is
   * most of the vocabulary, where sorting it cost ~4x the rest of a pick. Weights: `w` as pick
   * filled them (with their `total`), or, given a normalised row `lsm` (total 1), exp of its
   * entries above the cutoff, computed here.
   */
  private nucleus(lsm: Float32Array | null, off: number, total: number, topP: number, rng: Prng): number {
    const V = this.vocab;
    const w = this.w;
    const ids = this.ids;
    // A token with p <= (1 - topP) / V is never in the nucleus (the rest of the vocabulary, at
    // most V tokens each no likelier than it, could not then carry mass > 1 - topP).
    const cutoff = (total * (1 - topP)) / V;
    let n = 0;
    if (lsm) {
      // A normalised row (total 1): compare in log space, exponentiate the candidates only.
      const logCut = Math.log(cutoff);
      for (let i = 0; i < V; i++) {
        const x = lsm[off + i]!;
        if (x > logCut) {
          w[i] = Math.exp(x);
          ids[n++] = i;
        }
      }
    } else {
      for (let i = 0; i < V; i++) if (w[i]! > cutoff) ids[n++] = i;
    }
    let need = topP * total; // mass still to reach beyond the committed ids [0, lo)
    let lo = 0;
    let hi = n;
    let kept = n;
    while (lo < hi) {
      const pivot = w[ids[lo + ((hi - lo) >> 1)]!]!;
      // Three-way partition of [lo, hi): greater | equal | less.
      let gt = lo;
      let i = lo;
      let lt = hi;
      let massG = 0;
      let massE = 0;
      while (i < lt) {
        const id = ids[i]!;
        const v = w[id]!;
        if (v > pivot) {
          ids[i] = ids[gt]!;
          ids[gt++] = id;
          massG += v;
          i++;
        } else if (v < pivot) {
          ids[i] = ids[--lt]!;
          ids[lt] = id;
        } else {
          massE += v;
          i++;
        }
      }
      if (massG >= need) {
        hi = gt; // the nucleus ends among the greater ones
        kept = gt;
        continue;
      }
      if (massG + massE >= need) {
        // The cut falls among ids of equal value: the lowest ids first.
        ids.subarray(gt, lt).sort();
        let m = massG;
        let j = gt;
        while (j < lt && m < need) m += w[ids[j++]!]!;
        kept = j;
        break;
      }
      need -= massG + massE;
      lo = lt; // greater and equal are in; go on among the less likely
      kept = hi;
    }
    let mass = 0;
    for (let r = 0; r < kept; r++) mass += w[ids[r]!]!;
    let u = rng.uniform() * mass;
    for (let r = 0; r < kept; r++) {
      u -= w[ids[r]!]!;
      if (u < 0) return ids[r]!;
    }
    return ids[kept - 1]!;
  }

  /**
   * The `count` most likely ids of a log-softmax row with their logprobs, most likely first (ties:
   * lower id first). One pass with a sorted list of the best so far: a server asks for this at
   * every generated token (logprobs: 1), where sorting the whole vocabulary cost ~30 us a token.
   */
  top(lsm: Float32Array, off: number, count: number): { id: number; logprob: number }[] {
    const k = Math.min(Math.max(0, Math.floor(count)), this.vocab);
    const ids = new Int32Array(k);
    const vals = new Float64Array(k);
    let n = 0;
    for (let i = 0; i < this.vocab; i++) {
      const v = lsm[off + i]!;
      if (v !== v) continue; // NaN: never a candidate
      // Full and not strictly better than the worst kept: an equal value keeps the lower id.
      if (n === k && !(v > vals[k - 1]!)) continue;
      let j = n === k ? k - 1 : n++;
      for (; j > 0 && v > vals[j - 1]!; j--) {
        vals[j] = vals[j - 1]!;
        ids[j] = ids[j - 1]!;
      }
      vals[j] = v;
      ids[j] = i;
    }
    return Array.from({ length: n }, (_, r) => ({ id: ids[r]!, logprob: lsm[off + ids[r]!]! }));
  }
}
