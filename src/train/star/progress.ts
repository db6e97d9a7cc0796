// Progress of STaR sampling (pairs done / total, rationale tokens per second) on stderr: a bar on
// a terminal, a line every 30 s in a log; nothing when disabled (--json/--quiet keep output clean).
import { ProgressBar } from '../../util/progress.js';

export class SampleProgress {
  private readonly bar: ProgressBar;
  private t0 = performance.now();
  private started = false;

  constructor(enabled: boolean, label = 'sample') {
    this.bar = new ProgressBar(`${label} [{bar}] {value}/{total} pairs | {tps} tok/s | ETA {eta_formatted}`, { enabled });
  }

  /** The sampler's onProgress: (pairs done, total, tokens sampled by this run). */
  readonly update = (done: number, total: number, tokens: number): void => {
    const tps = Math.round((tokens * 1000) / Math.max(1, performance.now() - this.t0));
    if (!this.started) {
      this.started = true;
      this.bar.start(total, done, { tps });
    } else this.bar.update(done, { tps });
  };

  stop(): void {
    this.bar.stop();
  }
}
