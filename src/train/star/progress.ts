// A progress bar for STaR sampling (pairs done / total, rationale tokens per second) on stderr;
// a no-op off a terminal or when disabled (--json/--quiet keep stdout and stderr clean).
import cliProgress from 'cli-progress';

export class SampleProgress {
  private bar: cliProgress.SingleBar | null = null;
  private t0 = performance.now();
  private started = false;

  constructor(enabled: boolean, label = 'sample') {
    if (!enabled || !process.stderr.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: `${label} [{bar}] {value}/{total} pairs | {tps} tok/s | ETA {eta_formatted}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
  }

  /** The sampler's onProgress: (pairs done, total, tokens sampled by this run). */
  readonly update = (done: number, total: number, tokens: number): void => {
    if (!this.bar) return;
    const tps = Math.round((tokens * 1000) / Math.max(1, performance.now() - this.t0));
    if (!this.started) {
      this.started = true;
      this.bar.start(total, done, { tps });
    } else this.bar.update(done, { tps });
  };

  stop(): void {
    this.bar?.stop();
  }
}
