// AdamW over a list of parameters, with global gradient-norm clipping folded into the step
// (gradScale) so gradients are read once. State (m, v) exists only for trainable parameters,
// allocated on their first step: a frozen parameter costs nothing here.
import { kernels } from './kernels/index.js';
import type { Tensor } from './tensor.js';

export interface AdamWConfig {
  /** Learning rate; change it between steps with setLr (schedules live in the trainer). */
  lr: number;
  /** 0.9: the usual first-moment decay. */
  beta1?: number;
  /** 0.95: LLM pretraining's choice (faster adaptation than 0.999 on noisy small batches). */
  beta2?: number;
  /** 1e-8: only guards against division by zero. */
  eps?: number;
  /** 0.1: decoupled weight decay as in Llama/GPT pretraining recipes. */
  weightDecay?: number;
  /** 1.0: global grad-norm clip; 0 or Infinity disables clipping. */
  clipNorm?: number;
  /** Parameters that get no weight decay (default: 1-D tensors, i.e. norm weights). */
  noDecay?: (p: Tensor) => boolean;
}

export interface StepReport {
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
  /** The factor gradients were multiplied by (1 when not clipped). */
  clipScale: number;
}

export class AdamW {
  private readonly params: Tensor[];
  private readonly state = new Map<Tensor, { m: Float32Array; v: Float32Array }>();
  private lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly clipNorm: number;
  private readonly noDecay: (p: Tensor) => boolean;
  /** Steps taken (for bias correction). */
  stepCount = 0;

  constructor(params: Iterable<Tensor>, cfg: AdamWConfig) {
    // Tied weights appear once even if listed twice.
    this.params = [...new Set(params)];
    this.lr = cfg.lr;
    this.beta1 = cfg.beta1 ?? 0.9;
    this.beta2 = cfg.beta2 ?? 0.95;
    this.eps = cfg.eps ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 0.1;
    this.clipNorm = cfg.clipNorm ?? 1.0;
    this.noDecay = cfg.noDecay ?? ((p) => p.shape.length < 2);
  }

  setLr(lr: number): void {
    this.lr = lr;
  }
  getLr(): number {
    return this.lr;
  }

  /** Global L2 norm of all trainable gradients (missing gradients count as zero). */
  gradNorm(): number {
    let ss = 0;
    for (const p of this.params) if (p.requiresGrad && p.grad) ss += kernels().sumSquares(p.grad, p.size);
    return Math.sqrt(ss);
  }

  /** One AdamW update of every trainable parameter that has a gradient. */
  step(): StepReport {
    const gradNorm = this.gradNorm();
    if (!Number.isFinite(gradNorm))
      throw new Error(`AdamW.step: gradient norm is ${gradNorm}; run the step under checkedStep to find the op that produced it`);
    const clipScale = this.clipNorm > 0 && gradNorm > this.clipNorm ? this.clipNorm / gradNorm : 1;
    this.stepCount++;
    for (const p of this.params) {
      if (!p.requiresGrad || !p.grad) continue;
      let s = this.state.get(p);
      if (!s) this.state.set(p, (s = { m: new Float32Array(p.size), v: new Float32Array(p.size) }));
      kernels().adamwStep({
        param: p.data,
        grad: p.grad,
        m: s.m,
        v: s.v,
        lr: this.lr,
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.noDecay(p) ? 0 : this.weightDecay,
        step: this.stepCount,
        gradScale: clipScale,
      });
    }
    return { gradNorm, clipScale };
  }

  /** Zeroes gradients in place (buffers are kept for the next step). */
  zeroGrad(): void {
    for (const p of this.params) p.grad?.fill(0);
  }

  /** Number of parameters holding optimizer state (tests: frozen ones must not). */
  stateSize(): number {
    return this.state.size;
  }
  hasState(p: Tensor): boolean {
    return this.state.has(p);
  }

  /** A parameter's moments (for resumable checkpoints); undefined before its first step. */
  getState(p: Tensor): { m: Float32Array; v: Float32Array } | undefined {
    return this.state.get(p);
  }

  /** Restores moments saved with getState (copied; lengths must match the parameter). */
  setState(p: Tensor, s: { m: Float32Array; v: Float32Array }): void {
    if (s.m.length !== p.size || s.v.length !== p.size)
      throw new Error(`AdamW.setState: '${p.name}' has ${p.size} elements but the saved moments have ${s.m.length} and ${s.v.length}`);
    this.state.set(p, { m: Float32Array.from(s.m), v: Float32Array.from(s.v) });
  }
}
