// The "shortcut" baseline: a logistic regression that sees only surface features of the two
// answers (length, words, style markers), never their content's correctness. It must do well on
// test-id (the style–label link it can learn is there) and be at chance where the link is gone:
// the check that PrefWorld's OOD shift is real.
import type { PreferencePair } from '../pair.js';
import type { Spec } from './spec.js';
import { sigmoid } from '../../util/math.js';

export const SURFACE_FEATURES = ['bytes/100', 'words/10', 'preamble', 'closing', 'exclamations', 'endsWithPeriod', 'capitalised'] as const;

export function surfaceFeatures(text: string, styles: Spec['styles']): number[] {
  const t = text.trim();
  return [
    Buffer.byteLength(t) / 100,
    t.split(/\s+/).filter(Boolean).length / 10,
    styles.preambles.some((p) => t.startsWith(p.trim())) ? 1 : 0,
    styles.closings.some((c) => t.endsWith(c.trim())) ? 1 : 0,
    (t.match(/!/g) ?? []).length,
    t.endsWith('.') ? 1 : 0,
    /^[A-Z]/.test(t) ? 1 : 0,
  ];
}

export interface ShortcutModel {
  features: readonly string[];
  weights: number[];
}

/** The feature difference chosen − rejected; the model scores a pair by w·Δ (antisymmetric: order cannot matter). */
function delta(p: PreferencePair, styles: Spec['styles']): number[] {
  const a = surfaceFeatures(p.chosen, styles);
  const b = surfaceFeatures(p.rejected, styles);
  return a.map((x, i) => x - (b[i] as number));
}

/** Fits w by full-batch gradient descent on the logistic loss of σ(w·Δ), with an L2 penalty. */
export function trainShortcut(pairs: readonly PreferencePair[], styles: Spec['styles'], steps = 400, lr = 0.5, l2 = 1e-4): ShortcutModel {
  const xs = pairs.map((p) => delta(p, styles));
  const dim = SURFACE_FEATURES.length;
  const w = new Array<number>(dim).fill(0);
  if (xs.length === 0) return { features: SURFACE_FEATURES, weights: w };
  for (let s = 0; s < steps; s++) {
    const g = new Array<number>(dim).fill(0);
    for (const x of xs) {
      let z = 0;
      for (let i = 0; i < dim; i++) z += (w[i] as number) * (x[i] as number);
      // d/dw of −log σ(z) is −(1 − σ(z))·x; the label is always "chosen wins" since Δ is signed.
      const coef = -(1 - sigmoid(z));
      for (let i = 0; i < dim; i++) g[i] = (g[i] as number) + coef * (x[i] as number);
    }
    for (let i = 0; i < dim; i++) w[i] = (w[i] as number) - lr * ((g[i] as number) / xs.length + l2 * (w[i] as number));
  }
  return { features: SURFACE_FEATURES, weights: w };
}

/** Accuracy on pairs: w·Δ > 0 is right, < 0 wrong, a tie counts 0.5 (RewardBench's rule). */
export function shortcutAccuracy(model: ShortcutModel, pairs: readonly PreferencePair[], styles: Spec['styles']): number {
  if (pairs.length === 0) return NaN;
  let right = 0;
  for (const p of pairs) {
    const x = delta(p, styles);
    let z = 0;
    for (let i = 0; i < x.length; i++) z += (model.weights[i] as number) * (x[i] as number);
    right += Math.abs(z) < 1e-9 ? 0.5 : z > 0 ? 1 : 0;
  }
  return right / pairs.length;
}
