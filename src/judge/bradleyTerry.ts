// Bradley–Terry scores from (soft) pairwise outcomes: P(i beats j) = p_i / (p_i + p_j).
//
// Fit by Newton's method on the log-posterior over log-strengths θ (concave, so Newton with a
// backtracking line search converges, quadratically near the optimum). Hunter's MM iteration is
// the textbook alternative, but with a weak prior it crawls along the near-flat "shift all scores"
// direction (thousands of steps); Newton takes ~10. A prior keeps the fit finite when one
// candidate wins every comparison (the plain MLE then runs off to infinity): every candidate also
// plays `prior` virtual games against a fixed reference of strength θ = 0, winning half of them.
// It is the MAP estimate under that pseudo-count prior; scores are θ centred to mean 0.
import { logSigmoid, sigmoid } from '../util/math.js';

export interface Comparison {
  i: number;
  j: number;
  /** Outcome for i in [0, 1]: 1 = i won, 0 = j won, 0.5 = a tie, or a judge's P(i better). */
  w: number;
}

export interface BTOptions {
  /** Virtual games per candidate against the reference. 1: enough to converge, weak next to real data. */
  prior?: number;
  maxIter?: number;
  /** Stop when no log-strength moves more than this. */
  tol?: number;
}

export interface BTFit {
  /** log-strength per candidate, mean 0. */
  scores: number[];
  /** log-strength per candidate against the virtual reference (0): the MAP point itself. */
  theta: number[];
  iterations: number;
  converged: boolean;
}

export function fitBradleyTerry(n: number, comps: Comparison[], o: BTOptions = {}): BTFit {
  const prior = o.prior ?? 1;
  const maxIter = o.maxIter ?? 100;
  const tol = o.tol ?? 1e-10;
  if (!(prior > 0)) throw new RangeError(`bradley-terry: prior must be > 0 (it keeps perfect separations finite), got ${prior}`);
  for (const [k, c] of comps.entries()) {
    if (!(Number.isInteger(c.i) && Number.isInteger(c.j) && c.i >= 0 && c.j >= 0 && c.i < n && c.j < n && c.i !== c.j)) {
      throw new RangeError(`bradley-terry: comparison ${k} has bad indices (${c.i}, ${c.j}) for ${n} candidates`);
    }
    if (!(c.w >= 0 && c.w <= 1)) throw new RangeError(`bradley-terry: comparison ${k} outcome must be in [0, 1], got ${c.w}`);
  }
  let theta = new Array<number>(n).fill(0);
  let f = btLogPosterior(theta, comps, prior);
  let it = 0;
  let converged = false;
  while (it < maxIter && !converged) {
    it++;
    const { g, negH } = gradHess(theta, comps, prior);
    const step = solveSPD(negH, g, n); // Newton: θ += (-H)^-1 g
    let t = 1;
    let next = theta;
    let fNext = f;
    for (let ls = 0; ls < 50; ls++) {
      next = theta.map((x, i) => x + t * (step[i] as number));
      fNext = btLogPosterior(next, comps, prior);
      if (fNext >= f - 1e-12) break;
      t /= 2;
    }
    const delta = Math.max(0, ...next.map((x, i) => Math.abs(x - (theta[i] as number))));
    theta = next;
    f = fNext;
    converged = delta < tol;
  }
  const mean = theta.reduce((s, x) => s + x, 0) / Math.max(1, n);
  return { scores: theta.map((x) => x - mean), theta, iterations: it, converged };
}

/** Gradient g and negated Hessian (positive definite thanks to the prior) of the log-posterior. */
function gradHess(theta: number[], comps: Comparison[], prior: number): { g: number[]; negH: Float64Array } {
  const n = theta.length;
  const g = new Array<number>(n).fill(0);
  const negH = new Float64Array(n * n);
  for (const c of comps) {
    const s = sigmoid((theta[c.i] as number) - (theta[c.j] as number));
    const r = c.w - s;
    const v = s * (1 - s);
    g[c.i] = (g[c.i] as number) + r;
    g[c.j] = (g[c.j] as number) - r;
    negH[c.i * n + c.i] = (negH[c.i * n + c.i] as number) + v;
    negH[c.j * n + c.j] = (negH[c.j * n + c.j] as number) + v;
    negH[c.i * n + c.j] = (negH[c.i * n + c.j] as number) - v;
    negH[c.j * n + c.i] = (negH[c.j * n + c.i] as number) - v;
  }
  for (let i = 0; i < n; i++) {
    const s = sigmoid(theta[i] as number);
    g[i] = (g[i] as number) + (prior / 2) * (1 - 2 * s);
    negH[i * n + i] = (negH[i * n + i] as number) + prior * s * (1 - s);
  }
  return { g, negH };
}

/** Solve A x = b for symmetric positive definite A (n, n) by Cholesky. */
function solveSPD(A: Float64Array, b: number[], n: number): number[] {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (L[i * n + k] as number) * (L[j * n + k] as number);
      L[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / (L[j * n + j] as number);
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (L[i * n + k] as number) * (y[k] as number);
    y[i] = s / (L[i * n + i] as number);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let k = i + 1; k < n; k++) s -= (L[k * n + i] as number) * (x[k] as number);
    x[i] = s / (L[i * n + i] as number);
  }
  return x;
}

/** The log-posterior the fit maximises (for tests and diagnostics), as a function of log-strengths. */
export function btLogPosterior(theta: number[], comps: Comparison[], prior = 1): number {
  let lp = 0;
  for (const c of comps) {
    const d = (theta[c.i] as number) - (theta[c.j] as number);
    lp += c.w * logSigmoid(d) + (1 - c.w) * logSigmoid(-d);
  }
  for (const t of theta) lp += (prior / 2) * (logSigmoid(t) + logSigmoid(-t));
  return lp;
}
