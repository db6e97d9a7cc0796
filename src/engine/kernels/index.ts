// Which Kernels implementation the engine uses.
//
// Native (the C++/OpenBLAS addon) when it loads, else the JS reference with a one-line warning
// on stderr that says why and how to get the fast path. GENRM_KERNELS=js|native forces a choice
// (native then throws if the addon cannot load); GENRM_THREADS=n overrides the thread count,
// which defaults to every core (os.availableParallelism()). The choice is made on first use, not
// at import, so importing the engine prints nothing.
import { availableParallelism } from 'node:os';
import type { Kernels, KernelsInfo } from './types.js';
import { jsKernels } from './reference.js';
import { loadNative, nativeKernels } from './native.js';

/** How to get the native kernels, for warnings and `genrm doctor`. */
export const FAST_PATH_HINT = 'for the fast native kernels: apt-get install -y libopenblas-dev g++ make python3 && npm run build:native';

let active: Kernels | undefined;
let nativeCache: Kernels | null | undefined;

/** The native kernels, or null when the addon is not available (reason in `loadNative()`). */
export function tryNativeKernels(): Kernels | null {
  if (nativeCache === undefined) {
    const r = loadNative();
    nativeCache = r.ok ? nativeKernels(r.addon) : null;
  }
  return nativeCache;
}

/** The JS reference kernels, whose info() says why they are in use. */
function jsWithReason(reason: string): Kernels {
  return { ...jsKernels, info: (): KernelsInfo => ({ backend: 'js', threads: 1, reason }) };
}

function defaultThreads(): number {
  const env = Number(process.env.GENRM_THREADS);
  return Number.isInteger(env) && env > 0 ? env : Math.max(1, availableParallelism());
}

function select(): Kernels {
  const force = process.env.GENRM_KERNELS;
  if (force !== undefined && force !== '' && force !== 'js' && force !== 'native') {
    throw new Error(`GENRM_KERNELS must be "js" or "native", got "${force}"`);
  }
  if (force === 'js') return jsWithReason('GENRM_KERNELS=js');
  const native = tryNativeKernels();
  if (native) {
    native.setThreads(defaultThreads());
    return native;
  }
  const r = loadNative();
  const reason = r.ok ? 'unknown' : r.reason;
  if (force === 'native') throw new Error(`GENRM_KERNELS=native but ${reason}; ${FAST_PATH_HINT}`);
  process.stderr.write(`genrm: using the slow JS kernels because ${reason}; ${FAST_PATH_HINT}\n`);
  return jsWithReason(reason);
}

/** The active kernels (selected on first call). */
export function kernels(): Kernels {
  active ??= select();
  return active;
}

/** Replaces the active kernels (tests and the benchmark's profiler use this). */
export function setKernels(k: Kernels): void {
  active = k;
}

export type { Kernels, KernelsInfo, PackedWeight } from './types.js';
