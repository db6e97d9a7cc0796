// `genrm doctor`: what this machine runs genrm with: the Node version, which kernels are active
// (native with OpenBLAS's core and thread count, or the JS fallback and why) and a short matmul
// measurement in GFLOP/s.
import type { Command } from 'commander';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { FAST_PATH_HINT, kernels } from '../engine/kernels/index.js';
import { loadNative } from '../engine/kernels/native.js';
import type { Kernels } from '../engine/kernels/types.js';

export interface DoctorReport {
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  kernels: {
    backend: 'native' | 'js';
    threads: number;
    blas?: string;
    blasCore?: string;
    reason?: string;
    hint?: string;
  };
  matmul: { size: number; gflops: number; ms: number };
}

/** Median GFLOP/s of a square fp32 matmul of side n, over `reps` timed runs after one warm-up. */
export function measureMatmul(k: Kernels, n: number, reps: number): { gflops: number; ms: number } {
  const a = new Float32Array(n * n).map((_, i) => ((i * 7919) % 13) / 13 - 0.5);
  const b = new Float32Array(n * n).map((_, i) => ((i * 104729) % 17) / 17 - 0.5);
  const c = new Float32Array(n * n);
  k.matmul({ a, b, c, m: n, n, k: n });
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    k.matmul({ a, b, c, m: n, n, k: n });
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  const ms = times[Math.floor(times.length / 2)]!;
  return { gflops: (2 * n * n * n) / (ms * 1e6), ms };
}

export function doctorReport(): DoctorReport {
  const k = kernels();
  const info = k.info();
  const native = loadNative();
  const kinfo: DoctorReport['kernels'] = { backend: info.backend, threads: info.threads };
  if (info.blas !== undefined) kinfo.blas = info.blas;
  if (info.backend === 'native' && native.ok) kinfo.blasCore = native.addon.blasCore();
  if (info.reason !== undefined) kinfo.reason = info.reason;
  if (info.backend === 'js') kinfo.hint = FAST_PATH_HINT;
  // 512^3 takes a few ms natively; the JS kernels are ~100x slower, so they get 128^3.
  const size = info.backend === 'native' ? 512 : 128;
  const mm = measureMatmul(k, size, 5);
  const cpuList = cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    kernels: kinfo,
    matmul: { size, gflops: Math.round(mm.gflops * 10) / 10, ms: Math.round(mm.ms * 100) / 100 },
  };
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('print the Node version, the active kernels and a short matmul measurement')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const r = doctorReport();
      if (opts.json) {
        console.log(JSON.stringify(r, null, 2));
        return;
      }
      const kr = r.kernels;
      console.log(`node     ${r.node} (${r.platform}, ${r.cores} × ${r.cpu})`);
      if (kr.backend === 'native') {
        console.log(`kernels  native: ${kr.blas ?? 'OpenBLAS'}, core ${kr.blasCore ?? '?'}, ${kr.threads} thread(s)`);
      } else {
        console.log(`kernels  JS fallback (slow): ${kr.reason ?? 'unknown reason'}`);
        console.log(`         ${kr.hint ?? FAST_PATH_HINT}`);
      }
      const n = r.matmul.size;
      console.log(`matmul   ${n}×${n}×${n} fp32: ${r.matmul.gflops} GFLOP/s (${r.matmul.ms} ms)`);
    });
}
