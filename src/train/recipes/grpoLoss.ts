// GRPO (Shao et al. 2024, DeepSeekMath, arXiv 2402.03300) for a judge, as J1 trains one
// (Whitehouse et al. 2025, arXiv 2505.10320). A group is the k rationales sampled for one pair
// in one order; each earns a verifiable reward, and its advantage is the reward relative to its
// group:
//
//   A_i  = (r_i − mean_g r) / (std_g r + 1e-4)       ('group' scaling; Dr. GRPO's 'none': r_i − mean)
//   ℓ_it = −ρ_it · A_i + β · k3_it                    ρ_it = π(o_it) / π_old(o_it)
//   k3   = e^(ref − lp) − (ref − lp) − 1              (Schulman's k3 estimate of KL(π‖π_ref), per token)
//   loss = mean_i (1/|o_i|) Σ_t ℓ_it                  ('grpo': each completion weighs the same)
//        | Σ_i Σ_t ℓ_it / Σ_i |o_i|                   ('dapo', Yu et al. 2025, arXiv 2503.14476: each token does)
//
// One gradient step per sampled batch (TRL's num_iterations = 1): π_old is π itself, so ρ = 1 in
// value and ∇ρ = ∇ log π, and PPO's clip never binds (it is therefore not implemented). The loss
// is then exactly Σ w_it · lp_it + const, with w_it = ∂ℓ/∂lp (the policy gradient with group
// advantages, plus the KL term's gradient β(1 − e^(ref − lp))), and the constant makes its value
// the objective's: that is how `grpoLoss` builds it on the tape.
import { add, mul, sum, Tensor } from '../../engine/autograd/index.js';

/** Right verdict per sample ('right'), or J1's pairing of the two orders ('consistent'). */
export type GrpoReward = 'right' | 'consistent';
export type GrpoScaling = 'group' | 'none';
export type GrpoLossType = 'grpo' | 'dapo';

/**
 * Rewards of one pair's two groups (order 1, order 2; k samples each, `right[o][i]`: sample i of
 * order o gave the right verdict). 'right': 1 for a right verdict, 0 for a wrong one or none
 * (as STaR counts it). 'consistent' (J1): the i-th samples of the two orders are paired and each
 * gets 1 only if both are right, so a judge that says "A" whatever the order earns nothing.
 */
export function pairRewards(right: readonly [readonly boolean[], readonly boolean[]], reward: GrpoReward): [number[], number[]] {
  const [a, b] = right;
  if (a.length !== b.length)
    throw new Error(`pairRewards: the two orders have ${a.length} and ${b.length} samples; a pair's groups must be the same size`);
  if (reward === 'right') return [a.map(Number), b.map(Number)];
  const both = a.map((x, i) => Number(x && b[i]!));
  return [both, [...both]];
}

/** Group-relative advantages of one group's rewards (population std; 0 for every member of a group whose rewards are all equal). */
export function groupAdvantages(r: readonly number[], scaling: GrpoScaling): number[] {
  const n = r.length;
  const m = r.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(r.reduce((s, x) => s + (x - m) ** 2, 0) / n);
  return r.map((x) => (scaling === 'group' ? (x - m) / (sd + 1e-4) : x - m));
}

/** One sampled completion as the loss sees it. */
export interface GrpoRow {
  advantage: number;
  /** Its tokens' positions in the flattened (R*T) token log-probs. */
  positions: Int32Array;
}

export interface GrpoLossOptions {
  beta: number;
  lossType: GrpoLossType;
  /** Completions the loss averages over ('grpo'): every sampled one, also those left out of the forward pass (zero advantage, β 0). */
  completions: number;
  /** Completion tokens the loss averages over ('dapo'): of every sampled completion. */
  completionTokens: number;
}

/**
 * The GRPO loss of the rows' completions, given their token log-probs under the policy (on the
 * tape, (R*T), 0 where masked) and under the reference (same layout; only read when β > 0).
 * Returns the loss (value: the objective; gradient: as the header derives) and the mean k3.
 */
export function grpoLoss(lp: Tensor, ref: Float32Array | null, rows: readonly GrpoRow[], o: GrpoLossOptions): { loss: Tensor; kl: number } {
  if (o.beta > 0 && !ref) throw new Error('grpoLoss: beta > 0 needs the reference log-probs');
  const w = new Float32Array(lp.size);
  let value = 0;
  let surrogate = 0;
  let kl = 0;
  let klTokens = 0;
  for (const row of rows) {
    const n = row.positions.length;
    const norm = o.lossType === 'grpo' ? 1 / (n * o.completions) : 1 / o.completionTokens;
    for (const pos of row.positions) {
      const l = lp.data[pos]!;
      let term = -row.advantage; // −ρ·A at ρ = 1
      let grad = -row.advantage;
      if (o.beta > 0) {
        const d = ref![pos]! - l;
        const k3 = Math.exp(d) - d - 1;
        term += o.beta * k3;
        grad += o.beta * (1 - Math.exp(d));
        kl += k3;
        klTokens++;
      }
      w[pos] = grad * norm;
      value += term * norm;
      surrogate += grad * norm * l;
    }
  }
  const weighted = sum(mul(lp, new Tensor(w, lp.shape))); // Σ w·lp: the gradient
  const loss = add(weighted, new Tensor(Float32Array.of(value - surrogate), [])); // its value: the objective
  return { loss, kl: klTokens ? kl / klTokens : 0 };
}
