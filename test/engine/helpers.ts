// Shared test helpers for the engine: a seeded random source and finite-difference checks.
import assert from 'node:assert/strict';
import { Prng } from '../../src/engine/prng.js';
import type { ModelConfig } from '../../src/engine/model/config.js';
import { tryNativeKernels } from '../../src/engine/kernels/index.js';
import { loadNative } from '../../src/engine/kernels/native.js';
import type { Kernels } from '../../src/engine/kernels/types.js';

/** A tiny Llama (GQA: 4 query heads over 2 KV heads) for fast model tests. */
export const tiny: ModelConfig = {
  vocabSize: 13,
  dModel: 16,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  ffnHidden: 24,
  maxSeqLen: 16,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: false,
};

export function randArray(rng: Prng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/**
 * Central finite differences of a scalar function of `x` (perturbed in place, restored after),
 * compared to `analytic`. fp32 inputs: eps = 1e-2 keeps the rounding error of f (~1e-7 |f| / eps)
 * well below the truncation error (~eps^2 f'''), so we accept |fd - an| <= atol + rtol * |fd|.
 * Checks every element (inputs are tiny).
 */
export function checkGrad(
  name: string,
  x: Float32Array,
  f: () => number,
  analytic: Float32Array,
  { eps = 1e-2, rtol = 1e-2, atol = 1e-3 }: { eps?: number; rtol?: number; atol?: number } = {},
): void {
  assert.equal(analytic.length, x.length, `${name}: grad length`);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i]!;
    x[i] = orig + eps;
    const fp = f();
    x[i] = orig - eps;
    const fm = f();
    x[i] = orig;
    const fd = (fp - fm) / (2 * eps);
    const an = analytic[i]!;
    if (!(Math.abs(fd - an) <= atol + rtol * Math.abs(fd))) {
      assert.fail(`${name}: grad[${i}] analytic ${an} vs finite-difference ${fd}`);
    }
  }
}

export function assertClose(name: string, got: Float32Array, want: Float32Array, atol = 1e-5, rtol = 1e-4): void {
  assert.equal(got.length, want.length, `${name}: length ${got.length} vs ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) assert.fail(`${name}: [${i}] got ${g}, want ${w}`);
  }
}

/** sum(out * r) in double: a scalar whose gradient w.r.t. out is r. */
export function dotLoss(out: Float32Array, r: Float32Array): number {
  let s = 0;
  for (let i = 0; i < out.length; i++) s += out[i]! * r[i]!;
  return s;
}

/**
 * The native kernels for a test file, or why its tests are skipped (printed once, naming the file).
 * N is only dereferenced inside tests, which are skipped when the addon is missing.
 */
export function nativeUnderTest(file: string): { N: Kernels; skip: string | false } {
  const maybe = tryNativeKernels();
  const load = loadNative();
  const skip = maybe ? false : `native addon not available: ${load.ok ? 'unknown' : load.reason}`;
  if (skip) console.log(`# ${file}: skipped (${skip})`);
  return { N: maybe as Kernels, skip };
}
