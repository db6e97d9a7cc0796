// A timing hook around a Kernels implementation: every kernel call is timed and accumulated by
// name (matmul also by its shape), so a benchmark can say where a step's time goes. Install it
// with setKernels(profiled.kernels); the engine looks kernels up on every call.
import { performance } from 'node:perf_hooks';
import type { Kernels, MatmulArgs } from '../src/engine/kernels/types.js';

export interface OpTime {
  op: string;
  calls: number;
  ms: number;
}

export interface Profiler {
  kernels: Kernels;
  reset(): void;
  /** Per-op totals, largest first. */
  report(): OpTime[];
}

export function profileKernels(inner: Kernels, opts: { matmulByShape?: boolean } = {}): Profiler {
  const totals = new Map<string, { calls: number; ms: number }>();
  const note = (op: string, ms: number): void => {
    const t = totals.get(op);
    if (t) {
      t.calls++;
      t.ms += ms;
    } else totals.set(op, { calls: 1, ms });
  };
  const wrapped: Record<string, unknown> = {};
  for (const name of Object.keys(inner) as (keyof Kernels)[]) {
    const fn = inner[name] as (...args: unknown[]) => unknown;
    if (name === 'info' || name === 'setThreads') {
      wrapped[name] = fn.bind(inner);
      continue;
    }
    wrapped[name] = (...args: unknown[]): unknown => {
      const t0 = performance.now();
      const r = fn.apply(inner, args);
      let op: string = name;
      if (name === 'matmul' && opts.matmulByShape) {
        const p = args[0] as MatmulArgs;
        op = `matmul ${p.batch ?? 1}×(${p.m}×${p.n}×${p.k})${p.transA ? ' tA' : ''}${p.transB ? ' tB' : ''}${p.beta ? ' +=' : ''}`;
      }
      note(op, performance.now() - t0);
      return r;
    };
  }
  return {
    kernels: wrapped as unknown as Kernels,
    reset: () => totals.clear(),
    report: () => [...totals.entries()].map(([op, t]) => ({ op, calls: t.calls, ms: t.ms })).sort((a, b) => b.ms - a.ms),
  };
}
