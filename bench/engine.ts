// `npm run bench -- engine [--json] [--steps N] [--rounds N] [--threads N] [--no-torch] [--by-shape]`
//
// 1. matmul GFLOP/s at 256³, 512³, 1024³ through the engine (kernels().matmul: blocks of C on
//    genrm's pool, one single-threaded sgemm each) and through the addon's raw cblas_sgemm wrapper
//    (OpenBLAS on its own threads), alternating in the same process; medians and their ratio.
//    Decode shapes (x @ W^T with m = 1..128 rows against the reference model's weights): the
//    engine's own pool kernel (native/small_gemm.cc) against raw sgemm, the same way.
//    The two alternate in blocks of runs with a 150 ms pause after every block: OpenBLAS's idle
//    workers spin for ~0.1 s after its calls (why the engine keeps OpenBLAS single-threaded,
//    native/pool.h), and an engine run right after a raw one shares the cores with that spin;
//    the pause after every block (not only raw ones) starts both sides from the same idle.
// 2. One training step (forward, backward, AdamW) of the reference model: vocab 512, d_model 256,
//    4 layers, 4 heads, SwiGLU 688, seq 128, batch 16 (3.4 M params, ~44 GFLOP): median ms/step,
//    tokens/s, achieved GFLOP/s, peak RSS, and a per-op profile of one step.
// 3. Where python3 has torch: the same step in PyTorch (bench/torch_step.py), rounds interleaved
//    with ours, and the ratio of tokens/s. Printed as skipped otherwise.
import { performance } from 'node:perf_hooks';
import { kernels, setKernels } from '../src/engine/kernels/index.js';
import { loadNative } from '../src/engine/kernels/native.js';
import { Llama, type ModelConfig } from '../src/engine/model/index.js';
import { AdamW } from '../src/engine/optim.js';
import { backward } from '../src/engine/autograd/index.js';
import { Prng } from '../src/engine/prng.js';
import { profileKernels, type OpTime } from './profile.js';
import { runTorchScript, torchPython } from './torch.js';

export const describe = 'matmul vs raw OpenBLAS, and one training step of the reference model (vs PyTorch if present)';

export const REFERENCE: ModelConfig = {
  vocabSize: 512,
  dModel: 256,
  nLayers: 4,
  nHeads: 4,
  nKvHeads: 4,
  ffnHidden: 688,
  maxSeqLen: 128,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: false,
};
export const BATCH = 16;
export const SEQ = 128;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number, got ${args[i + 1]}`);
  return v;
}

/** Blocks of `reps` runs of each, alternating which goes first; a pause after every block. */
function alternate(eng: () => void, raw: (() => void) | undefined, rounds: number, reps: number): { te: number[]; tr: number[] } {
  const te: number[] = [],
    tr: number[] = [];
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let r = 0; r < rounds; r++) {
    for (const which of r % 2 === 0 ? [0, 1] : [1, 0]) {
      if (which === 1 && !raw) continue;
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        if (which === 0) eng();
        else raw!();
        (which === 0 ? te : tr).push(performance.now() - t0);
      }
      Atomics.wait(pause, 0, 0, 150); // after every block, so each side starts from the same idle
    }
  }
  return { te, tr };
}

interface MatmulRow {
  size: number;
  engineGflops: number;
  rawGflops: number;
  ratio: number;
  reps: number;
}

function benchMatmul(sizes: number[]): MatmulRow[] {
  const native = loadNative();
  const k = kernels();
  const rows: MatmulRow[] = [];
  for (const n of sizes) {
    const a = new Float32Array(n * n).map(() => Math.random() - 0.5);
    const b = new Float32Array(n * n).map(() => Math.random() - 0.5);
    const c = new Float32Array(n * n);
    const reps = Math.max(5, Math.round(2e9 / (2 * n * n * n))); // ~2 GFLOP of work per side
    const eng = (): void => k.matmul({ a, b, c, m: n, n, k: n });
    const raw = native.ok ? (): void => native.addon.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n) : undefined;
    eng();
    raw?.();
    const { te, tr } = alternate(eng, raw, 4, Math.max(4, Math.ceil(reps / 4)));
    const flop = 2 * n * n * n;
    const eg = flop / (median(te) * 1e6);
    const rg = tr.length ? flop / (median(tr) * 1e6) : NaN;
    rows.push({ size: n, engineGflops: eg, rawGflops: rg, ratio: eg / rg, reps });
  }
  return rows;
}

interface DecodeRow {
  m: number;
  n: number;
  k: number;
  engineUs: number;
  rawUs: number;
  speedup: number;
}

/** x @ W^T at decode shapes: the engine's matmul (genrm's pool kernel up to 128 rows) vs raw sgemm, alternating blocks. */
function benchDecodeShapes(): DecodeRow[] {
  const native = loadNative();
  if (!native.ok) return [];
  const k = kernels();
  const rows: DecodeRow[] = [];
  for (const m of [1, 8, 16, 64, 128]) {
    for (const [n, kk] of [
      [256, 256],
      [688, 256],
      [256, 688],
    ] as const) {
      const a = new Float32Array(m * kk).map(() => Math.random() - 0.5);
      const b = new Float32Array(n * kk).map(() => Math.random() - 0.5);
      const c = new Float32Array(m * n);
      const eng = (): void => k.matmul({ a, b, c, m, n, k: kk, transB: true });
      const raw = (): void => native.addon.sgemm(false, true, m, n, kk, 1, a, kk, b, kk, 0, c, n);
      const inner = Math.max(10, Math.round(2e7 / (2 * m * n * kk)));
      for (let w = 0; w < 20; w++) (eng(), raw());
      const one = (f: () => void) => (): void => {
        for (let i = 0; i < inner; i++) f();
      };
      const { te: be, tr: br } = alternate(one(eng), one(raw), 6, 5);
      const te = be.map((t) => (t * 1000) / inner),
        tr = br.map((t) => (t * 1000) / inner);
      const e = median(te),
        rw = median(tr);
      rows.push({ m, n, k: kk, engineUs: e, rawUs: rw, speedup: rw / e });
    }
  }
  return rows;
}

/** FLOPs of one step: 6 * (linear weights) * tokens, plus attention's QK^T and PV (full squares). */
export function stepFlops(c: ModelConfig, batch: number, seq: number): number {
  const hd = c.dModel / c.nHeads;
  const perLayer = c.dModel * hd * (2 * c.nHeads + 2 * c.nKvHeads) + 3 * c.dModel * c.ffnHidden;
  const linear = (c.nLayers * perLayer + c.vocabSize * c.dModel) * batch * seq * 6;
  const attention = 12 * batch * c.nHeads * seq * seq * hd * c.nLayers; // fwd 2 products, bwd 4
  return linear + attention;
}

interface StepResult {
  msPerStep: number[];
  profile: OpTime[];
  profiledMs: number;
  params: number;
  loss: number;
}

function makeTrainer(): { step: () => number; params: number } {
  const model = new Llama(REFERENCE, { seed: 1 });
  const rng = new Prng(2);
  const ids = Int32Array.from({ length: BATCH * SEQ }, () => rng.int(REFERENCE.vocabSize));
  const targets = Int32Array.from({ length: BATCH * SEQ }, (_, i) => ((i + 1) % SEQ === 0 ? -1 : ids[i + 1]!));
  const adam = new AdamW(model.parameters(), { lr: 1e-3 });
  const step = (): number => {
    adam.zeroGrad();
    const loss = model.loss(ids, targets, BATCH, SEQ);
    const v = loss.item();
    backward(loss);
    adam.step();
    return v;
  };
  return { step, params: model.parameters().reduce((s, p) => s + p.size, 0) };
}

function benchSteps(trainer: ReturnType<typeof makeTrainer>, steps: number): number[] {
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    trainer.step();
    ms.push(performance.now() - t0);
  }
  return ms;
}

function profileStep(trainer: ReturnType<typeof makeTrainer>, byShape: boolean): { profile: OpTime[]; ms: number; loss: number } {
  const inner = kernels();
  const prof = profileKernels(inner, { matmulByShape: byShape });
  setKernels(prof.kernels);
  try {
    const t0 = performance.now();
    const loss = trainer.step();
    return { profile: prof.report(), ms: performance.now() - t0, loss };
  } finally {
    setKernels(inner);
  }
}

interface TorchResult {
  msPerStep: number[];
  torch: string;
  threads: number;
  params: number;
}

function runTorch(py: string, steps: number): TorchResult {
  return runTorchScript<TorchResult>(py, 'torch_step.py', ['--steps', String(steps), '--warmup', '2']);
}

export async function run(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const steps = opt(args, '--steps', 5);
  const rounds = opt(args, '--rounds', 2);
  const threads = args.includes('--threads') ? opt(args, '--threads', 2) : undefined;
  const k = kernels();
  if (threads !== undefined) k.setThreads(threads);
  const info = k.info();
  const log = (s: string): void => {
    if (!json) console.log(s);
  };
  log(`kernels: ${info.backend}${info.blas ? ` (${info.blas})` : ''}, ${info.threads} thread(s)${info.reason ? `; ${info.reason}` : ''}`);

  const mm = benchMatmul(info.backend === 'native' ? [256, 512, 1024] : [128]);
  log('\nmatmul (fp32, square, medians of alternating blocks of runs)');
  log('  size    engine GFLOP/s   raw sgemm GFLOP/s   engine/raw');
  for (const r of mm)
    log(
      `  ${String(r.size).padEnd(6)}  ${r.engineGflops.toFixed(1).padStart(14)}   ${r.rawGflops.toFixed(1).padStart(17)}   ${(r.ratio * 100).toFixed(1).padStart(9)} %`,
    );
  const decode = info.backend === 'native' ? benchDecodeShapes() : [];
  if (decode.length) {
    log('\ndecode shapes x @ W^T (m rows), engine (genrm pool kernel) vs raw sgemm, medians of alternating blocks of runs');
    log('  m × n × k            engine µs    raw sgemm µs   speed-up');
    for (const r of decode)
      log(
        `  ${`${r.m} × ${r.n} × ${r.k}`.padEnd(18)} ${r.engineUs.toFixed(1).padStart(10)} ${r.rawUs.toFixed(1).padStart(15)} ${r.speedup.toFixed(2).padStart(9)}x`,
      );
  }

  const trainer = makeTrainer();
  const flops = stepFlops(REFERENCE, BATCH, SEQ);
  log(
    `\ntraining step: reference model (${(trainer.params / 1e6).toFixed(2)} M params, batch ${BATCH} x seq ${SEQ}, ${(flops / 1e9).toFixed(1)} GFLOP/step)`,
  );
  benchSteps(trainer, 2); // warm-up: buffer pool, optimizer state, OpenBLAS threads
  const py = args.includes('--no-torch') ? undefined : torchPython();
  const ours: number[] = [];
  const theirs: number[] = [];
  let torchInfo: TorchResult | undefined;
  let torchError: string | undefined;
  for (let r = 0; r < rounds; r++) {
    ours.push(...benchSteps(trainer, steps));
    if (py && !torchError) {
      try {
        torchInfo = runTorch(py, steps);
        theirs.push(...torchInfo.msPerStep);
      } catch (e) {
        torchError = (e as Error).message;
      }
    }
  }
  const prof = profileStep(trainer, args.includes('--by-shape'));
  const ms = median(ours);
  const tokens = BATCH * SEQ;
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  log(
    `  engine: ${ms.toFixed(0)} ms/step (median of ${ours.length}; min ${Math.min(...ours).toFixed(0)}), ${(tokens / (ms / 1000)).toFixed(0)} tokens/s, ${(flops / (ms * 1e6)).toFixed(1)} GFLOP/s, peak RSS ${rssMiB.toFixed(0)} MiB`,
  );
  let torchSummary: { msPerStep: number; tokensPerSec: number; speedup: number; version: string } | { skipped: string };
  if (theirs.length && torchInfo) {
    const tms = median(theirs);
    torchSummary = { msPerStep: tms, tokensPerSec: tokens / (tms / 1000), speedup: tms / ms, version: torchInfo.torch };
    log(
      `  pytorch ${torchInfo.torch} (set_num_threads(${torchInfo.threads})): ${tms.toFixed(0)} ms/step (median of ${theirs.length}), ${(tokens / (tms / 1000)).toFixed(0)} tokens/s`,
    );
    log(`  engine vs pytorch: ${(tms / ms).toFixed(2)}x tokens/s`);
  } else {
    const why =
      torchError ??
      (py === undefined
        ? args.includes('--no-torch')
          ? '--no-torch'
          : 'python3 with torch not found (apt-get install -y python3-torch)'
        : 'no samples');
    torchSummary = { skipped: why };
    log(`  pytorch: skipped (${why})`);
  }

  const kernelMs = prof.profile.reduce((s, o) => s + o.ms, 0);
  log(
    `\nprofile of one step (${prof.ms.toFixed(0)} ms; kernels ${kernelMs.toFixed(0)} ms, outside kernels ${(prof.ms - kernelMs).toFixed(0)} ms)`,
  );
  for (const o of prof.profile)
    log(
      `  ${o.op.padEnd(34)} ${o.ms.toFixed(1).padStart(8)} ms  ${((100 * o.ms) / prof.ms).toFixed(1).padStart(5)} %  ${String(o.calls).padStart(5)} calls`,
    );
  log(
    `  ${'(autograd, JS, allocation)'.padEnd(34)} ${(prof.ms - kernelMs).toFixed(1).padStart(8)} ms  ${((100 * (prof.ms - kernelMs)) / prof.ms).toFixed(1).padStart(5)} %`,
  );

  if (json) {
    console.log(
      JSON.stringify(
        {
          kernels: info,
          matmul: mm,
          decodeShapes: decode,
          step: {
            config: REFERENCE,
            batch: BATCH,
            seq: SEQ,
            params: trainer.params,
            gflopPerStep: flops / 1e9,
            msPerStep: ms,
            samplesMs: ours,
            tokensPerSec: tokens / (ms / 1000),
            gflops: flops / (ms * 1e6),
            peakRssMiB: rssMiB,
            loss: prof.loss,
          },
          torch: torchSummary,
          profile: { stepMs: prof.ms, kernelMs, outsideKernelsMs: prof.ms - kernelMs, ops: prof.profile },
        },
        null,
        2,
      ),
    );
  }
}
