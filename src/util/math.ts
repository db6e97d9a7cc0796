// Scalar math every layer shares, in forms that stay finite where the textbook ones overflow.
// A leaf module (no genrm imports), so any layer may use it.

/** 1 / (1 + e^-x), computed from e^-|x| so neither branch overflows: sigmoid(±1000) is 1 / 0, never NaN. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log sigmoid(x) = min(x, 0) - log1p(e^-|x|): -log1p(e^-x) for large x, x for very negative x (no log(0)). */
export function logSigmoid(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}

/** log Σ e^x_i, shifted by the largest x so no term overflows; -Infinity for no terms or all -Infinity. */
export function logsumexp(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if ((xs[i] as number) > m) m = xs[i] as number;
  if (m === -Infinity || m === Infinity || Number.isNaN(m)) return m;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp((xs[i] as number) - m);
  return m + Math.log(s);
}
