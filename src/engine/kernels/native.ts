// The native kernels: loads the N-API addon (build/Release/genrm.node, built by
// scripts/build-native.mjs on `npm install`) and wraps it as a `Kernels`. Optional arguments get
// their defaults here, so the C++ side receives every argument positionally and does no property
// lookups. Importing this module never throws: `loadNative()` reports why the addon is missing.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kernels, KernelsInfo, KvBuffer } from './types.js';

/** The kernels whose addon export takes exactly the `Kernels` arguments: passed through as they are. */
const PASSTHROUGH = [
  'copyRows',
  'add',
  'mul',
  'scale',
  'axpy',
  'sum',
  'sumSquares',
  'allFinite',
  'embeddingForward',
  'embeddingBackward',
  'rmsnormForward',
  'rmsnormBackward',
  'rope',
  'swigluForward',
  'swigluBackward',
  'siluForward',
  'siluBackward',
  'geluForward',
  'geluBackward',
  'logSoftmax',
  'logprobsGather',
  'logprobsGatherBackward',
] as const satisfies readonly (keyof Kernels)[];
type Passthrough = (typeof PASSTHROUGH)[number];

/**
 * The addon's raw exports (see native/*.cc for each signature): the passthrough kernels as
 * `Kernels` declares them, the rest with every argument positional (no property lookups in C++).
 */
export interface NativeAddon extends Pick<Kernels, Passthrough> {
  matmul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    alpha: number,
    beta: number,
    batch: number,
    strideA: number,
    strideB: number,
    strideC: number,
    offsetA: number,
    offsetB: number,
    offsetC: number,
    lda: number,
    ldb: number,
    ldc: number,
  ): void;
  /** The thinnest cblas_sgemm wrapper (bounds-checked), for the benchmark's raw baseline. */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /**
   * Lays W (n, k) out in panels for matmulPacked (native/packed_gemm.cc) into out (packedLength(n,
   * k) elements): floats (returns true), or half bits, returning whether every weight was exactly a half.
   */
  packWeight(w: Float32Array, n: number, k: number, out: Float32Array | Uint16Array): boolean;
  packedLength(n: number, k: number): number;
  matmulPacked(a: Float32Array, packed: Float32Array | Uint16Array, c: Float32Array, m: number, n: number, k: number): void;
  setThreads(n: number): void;
  getThreads(): number;
  blasConfig(): string;
  blasCore(): string;
  simd: string;
  /** The calling convention; absent in builds older than version 2. */
  kernelsVersion?: number;
  /** k, v, prefixK, prefixV: float32 or half bits (native/attention.cc reads either; half for decoding only). */
  attentionForward(
    q: Float32Array,
    k: KvBuffer,
    v: KvBuffer,
    out: Float32Array,
    batch: number,
    tq: number,
    tk: number,
    heads: number,
    kvHeads: number,
    headDim: number,
    pastLen: number,
    scale: number,
    kvOffset: number,
    kvBatchStride: number,
    probs: Float32Array | null,
    keyMask: Uint8Array | null,
    prefixK: KvBuffer | null,
    prefixV: KvBuffer | null,
    prefixLen: number,
    prefixStride: number,
    prefixRows: Int32Array | null,
  ): void;
  attentionBackward(
    dout: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    probs: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    batch: number,
    t: number,
    heads: number,
    kvHeads: number,
    headDim: number,
    scale: number,
    keyMask: Uint8Array | null,
  ): void;
  crossEntropy(
    logits: Float32Array,
    targets: Int32Array,
    rows: number,
    cols: number,
    dlogits: Float32Array | null,
    gradScale: number,
  ): { loss: number; count: number };
  adamwStep(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
    gradScale: number,
  ): void;
}

export type NativeLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

/** The package root: the nearest folder above this file that holds binding.gyp (src/ or dist/src/). */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * The addon's calling convention. Bump it (here and in native/addon.cc) whenever a kernel's
 * arguments or meaning change, so that a stale build/ is refused instead of misread.
 */
export const KERNELS_VERSION = 5;

let cached: NativeLoad | undefined;

/**
 * Loads the addon once per thread (each worker loads its own instance). Never throws.
 * GENRM_NATIVE_ADDON=<path> loads another build (tests use a missing path to check the fallback).
 */
export function loadNative(): NativeLoad {
  if (cached) return cached;
  const root = packageRoot();
  const override = process.env.GENRM_NATIVE_ADDON;
  const path = override ? override : root === undefined ? undefined : join(root, 'build', 'Release', 'genrm.node');
  if (path === undefined || !existsSync(path)) {
    cached = { ok: false, reason: `the native addon is not built (${override ? override : 'build/Release/genrm.node'} is missing)` };
    return cached;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    // An addon built from older sources takes fewer arguments and would ignore new ones (a shared
    // prefix, say) silently: refuse it, with the fix.
    if (addon.kernelsVersion !== KERNELS_VERSION) {
      cached = {
        ok: false,
        reason: `the native addon at ${path} was built from other sources (kernels version ${addon.kernelsVersion ?? 'none'}, this genrm needs ${KERNELS_VERSION}); rebuild it: npm run build:native`,
      };
      return cached;
    }
    cached = { ok: true, addon, path };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    cached = { ok: false, reason: `the native addon failed to load: ${msg}` };
  }
  return cached;
}

/** Wraps the addon as a `Kernels`, filling optional arguments with their documented defaults. */
export function nativeKernels(x: NativeAddon): Kernels {
  let blas: string | undefined; // fixed for the process; forwardCached asks on every call
  const same = Object.fromEntries(PASSTHROUGH.map((name) => [name, x[name].bind(x)])) as Pick<Kernels, Passthrough>;
  return {
    ...same,
    info(): KernelsInfo {
      blas ??= `${x.blasConfig()} (${x.simd})`;
      return { backend: 'native', blas, threads: x.getThreads() };
    },
    setThreads(n) {
      x.setThreads(n);
    },
    matmul(p) {
      const transA = p.transA ?? false;
      const transB = p.transB ?? false;
      const { m, n, k } = p;
      x.matmul(
        p.a,
        p.b,
        p.c,
        m,
        n,
        k,
        transA,
        transB,
        p.alpha ?? 1,
        p.beta ?? 0,
        p.batch ?? 1,
        p.strideA ?? m * k,
        p.strideB ?? k * n,
        p.strideC ?? m * n,
        p.offsetA ?? 0,
        p.offsetB ?? 0,
        p.offsetC ?? 0,
        // Leading dimensions default to the stored matrices' column counts (BLAS wants >= 1).
        p.lda ?? Math.max(1, transA ? m : k),
        p.ldb ?? Math.max(1, transB ? k : n),
        p.ldc ?? Math.max(1, n),
      );
    },
    packWeight(w, n, k) {
      // Half bits when every weight is exactly a half (an F16 checkpoint): the same products, half
      // the bytes a decode step streams. Any other weight fails at its first inexact value.
      const half = new Uint16Array(x.packedLength(n, k));
      if (x.packWeight(w, n, k, half)) return { backend: 'native', n, k, data: half };
      const data = new Float32Array(half.length);
      x.packWeight(w, n, k, data);
      return { backend: 'native', n, k, data };
    },
    matmulPacked(a, w, c, m) {
      if (w.backend !== 'native')
        throw new TypeError(`matmulPacked: the weight was packed by the ${w.backend} kernels; pack it with the native ones`);
      x.matmulPacked(a, w.data, c, m, w.n, w.k);
    },
    attentionForward(p) {
      x.attentionForward(
        p.q,
        p.k,
        p.v,
        p.out,
        p.batch,
        p.tq,
        p.tk,
        p.heads,
        p.kvHeads,
        p.headDim,
        p.pastLen,
        p.scale,
        p.kvOffset ?? 0,
        p.kvBatchStride ?? p.tk * p.kvHeads * p.headDim,
        p.probs ?? null,
        p.keyMask ?? null,
        p.prefix?.k ?? null,
        p.prefix?.v ?? null,
        p.prefix?.len ?? 0,
        p.prefix?.batchStride ?? 0,
        p.prefix?.rows ?? null,
      );
    },
    attentionBackward(p) {
      x.attentionBackward(
        p.dout,
        p.q,
        p.k,
        p.v,
        p.probs,
        p.dq,
        p.dk,
        p.dv,
        p.batch,
        p.t,
        p.heads,
        p.kvHeads,
        p.headDim,
        p.scale,
        p.keyMask ?? null,
      );
    },
    crossEntropy: (logits, targets, rows, cols, dlogits, gradScale) =>
      x.crossEntropy(logits, targets, rows, cols, dlogits ?? null, gradScale ?? 1),
    adamwStep(p) {
      x.adamwStep(p.param, p.grad, p.m, p.v, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, p.step, p.gradScale ?? 1);
    },
  };
}
