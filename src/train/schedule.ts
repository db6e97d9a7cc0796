// The learning-rate schedule: linear warmup, then cosine decay to a floor. A pure function of the
// step, so a resumed run needs no schedule state beyond the step counter.
//
//   lr(s) = peak * (s + 1) / warmup                                 s < warmup
//   lr(s) = peak * (min + (1 - min) * (1 + cos(pi * p)) / 2)        p = (s - warmup) / (total - warmup)
//
// `s` is the 0-based index of the update about to be taken: the first update already gets a
// non-zero rate (peak / warmup), the last one (s = total - 1) gets nearly the floor.

export interface ScheduleConfig {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Updates in the whole run (the cosine reaches its floor at this step). */
  totalSteps: number;
  /** Updates of linear warmup (0: start at the peak). */
  warmupSteps: number;
  /** The floor as a fraction of the peak (0.1: the usual Chinchilla/Llama choice). */
  minLrRatio: number;
}

export function lrAt(step: number, c: ScheduleConfig): number {
  if (!(step >= 0)) throw new Error(`lrAt: step must be >= 0, got ${step}`);
  if (step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  const span = c.totalSteps - c.warmupSteps;
  if (span <= 0) return c.lr;
  const p = Math.min(1, (step - c.warmupSteps) / span);
  return c.lr * (c.minLrRatio + ((1 - c.minLrRatio) * (1 + Math.cos(Math.PI * p))) / 2);
}
