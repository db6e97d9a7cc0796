// Bradley–Terry scores from (soft) pairwise outcomes: P(i beats j) = p_i / (p_i + p_j).
//
// Fit by Hunter's (2004) MM iteration, p_i ← W_i / Σ_j n_ij / (p_i + p_j), where W_i is i's
// (fractional) wins and n_ij the comparisons between i and j. A prior keeps it finite when one
// candidate wins every comparison (the plain MLE then runs off to infinity): every candidate also
// plays `prior` virtual games against a fixed reference of strength 1, winning half of them. It
// is the MAP estimate under that pseudo-count prior; scores are log-strengths centred to mean 0.

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
  const maxIter = o.maxIter ?? 10_000;
  const tol = o.tol ?? 1e-10;
  if (!(prior > 0)) throw new RangeError(`bradley-terry: prior must be > 0 (it keeps perfect separations finite), got ${prior}`);
  const wins = new Float64Array(n).fill(prior / 2);
  // games[i*n + j]: comparisons between i and j (symmetric)
  const games = new Float64Array(n * n);
  for (const [k, c] of comps.entries()) {
    if (!(Number.isInteger(c.i) && Number.isInteger(c.j) && c.i >= 0 && c.j >= 0 && c.i < n && c.j < n && c.i !== c.j)) {
      throw new RangeError(`bradley-terry: comparison ${k} has bad indices (${c.i}, ${c.j}) for ${n} candidates`);
    }
    if (!(c.w >= 0 && c.w <= 1)) throw new RangeError(`bradley-terry: comparison ${k} outcome must be in [0, 1], got ${c.w}`);
    wins[c.i] = (wins[c.i] as number) + c.w;
    wins[c.j] = (wins[c.j] as number) + 1 - c.w;
    games[c.i * n + c.j] = (games[c.i * n + c.j] as number) + 1;
    games[c.j * n + c.i] = (games[c.j * n + c.i] as number) + 1;
  }
  let p = new Float64Array(n).fill(1);
  let it = 0;
  let converged = false;
  while (it < maxIter && !converged) {
    it++;
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const pi = p[i] as number;
      let denom = prior / (pi + 1); // the virtual reference has strength 1
      for (let j = 0; j < n; j++) {
        const g = games[i * n + j] as number;
        if (g > 0) denom += g / (pi + (p[j] as number));
      }
      next[i] = (wins[i] as number) / denom;
    }
    let delta = 0;
    for (let i = 0; i < n; i++) delta = Math.max(delta, Math.abs(Math.log(next[i] as number) - Math.log(p[i] as number)));
    p = next;
    converged = delta < tol;
  }
  const logs = Array.from(p, (x) => Math.log(x));
  const mean = logs.reduce((s, x) => s + x, 0) / Math.max(1, n);
  return { scores: logs.map((x) => x - mean), theta: logs, iterations: it, converged };
}

/** The log-posterior the fit maximises (for tests and diagnostics), as a function of log-strengths. */
export function btLogPosterior(theta: number[], comps: Comparison[], prior = 1): number {
  const logSig = (x: number): number => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));
  let lp = 0;
  for (const c of comps) {
    const d = (theta[c.i] as number) - (theta[c.j] as number);
    lp += c.w * logSig(d) + (1 - c.w) * logSig(-d);
  }
  for (const t of theta) lp += (prior / 2) * (logSig(t) + logSig(-t));
  return lp;
}
