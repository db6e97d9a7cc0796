// Progress for anything that runs longer than a few seconds, one way for every command and layer:
//
//   - on a terminal: a cli-progress bar on stderr, redrawn in place;
//   - anywhere else (a log file, CI, `nohup genrm repro > log`): one plain line at the start, then
//     at most one every `everySeconds` (default 30, or GENRM_PROGRESS_EVERY), and one at the end,
//     so a two-hour run leaves a readable trail (value/total, %, elapsed, ETA) without flooding it;
//   - disabled (--json, --quiet): nothing at all.
//
// A leaf module (no genrm imports), so any layer may use it.
//
//   const bar = new ProgressBar('eval bt [{bar}] {value}/{total} pairs | ETA {eta_formatted}', { enabled: !json });
//   bar.start(total); ... bar.update(done); ... bar.stop();
import cliProgress from 'cli-progress';

export type Payload = Record<string, string | number>;

export interface ProgressBarOptions {
  /** false: print nothing (machine-readable output must stay clean). */
  enabled: boolean;
  /** Where to write. Default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Off a terminal: seconds between lines. Default GENRM_PROGRESS_EVERY or 30. */
  everySeconds?: number;
  /** On a terminal: updates the ETA is averaged over (cli-progress's etaBuffer). Default 10. */
  etaBuffer?: number;
  /** Milliseconds clock (tests). Default performance.now. */
  clock?: () => number;
}

/** Seconds as `42s`, `3m05s` or `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function defaultEvery(): number {
  const env = Number(process.env.GENRM_PROGRESS_EVERY);
  return Number.isFinite(env) && env >= 0 ? env : 30;
}

export class ProgressBar {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly bar: cliProgress.SingleBar | null = null;
  private readonly lines: boolean;
  private readonly everyMs: number;
  private readonly clock: () => number;
  private total = 0;
  private value = 0;
  private startValue = 0;
  private payload: Payload = {};
  private t0 = 0;
  private lastLine = -Infinity;
  private lastLineValue = NaN;
  private running = false;

  constructor(
    private readonly format: string,
    o: ProgressBarOptions,
  ) {
    this.stream = o.stream ?? process.stderr;
    this.clock = o.clock ?? (() => performance.now());
    this.everyMs = 1000 * (o.everySeconds ?? defaultEvery());
    const tty = this.stream.isTTY === true;
    this.lines = o.enabled && !tty;
    if (o.enabled && tty) {
      this.bar = new cliProgress.SingleBar(
        { stream: this.stream as NodeJS.WritableStream, format, hideCursor: true, etaBuffer: o.etaBuffer ?? 10 },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  start(total: number, value = 0, payload: Payload = {}): void {
    this.total = total;
    this.value = this.startValue = value;
    this.payload = { ...payload };
    this.t0 = this.clock();
    this.running = true;
    this.lastLine = -Infinity;
    this.bar?.start(total, value, payload);
    if (this.lines) this.line();
  }

  update(value: number, payload?: Payload): void {
    if (!this.running) return;
    this.value = value;
    if (payload) Object.assign(this.payload, payload);
    this.bar?.update(value, payload);
    if (this.lines && (this.clock() - this.lastLine >= this.everyMs || (value >= this.total && this.lastLineValue !== value))) this.line();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.bar?.stop();
    if (this.lines && this.lastLineValue !== this.value) this.line();
  }

  /** The format with its tokens filled in, the bar itself left out, then %, elapsed and ETA. */
  private line(): void {
    const now = this.clock();
    const elapsed = (now - this.t0) / 1000;
    const doneHere = this.value - this.startValue;
    const eta = doneHere > 0 ? (elapsed / doneHere) * Math.max(0, this.total - this.value) : NaN;
    const pct = this.total > 0 ? Math.floor((100 * this.value) / this.total) : 0;
    const fill: Payload = {
      ...this.payload,
      value: this.value,
      total: this.total,
      percentage: pct,
      eta_formatted: formatDuration(eta),
      duration_formatted: formatDuration(elapsed),
    };
    const text = this.format
      .replace(/\s*\[?\{bar\}\]?\s*/, ' ')
      .replace(/\{(\w+)\}/g, (m, k: string) => (k in fill ? String(fill[k]) : m))
      .trim();
    const tail = `${/\{percentage\}/.test(this.format) ? '' : ` | ${pct}%`} | elapsed ${formatDuration(elapsed)}${/\{eta_formatted\}/.test(this.format) ? '' : ` | ETA ${formatDuration(eta)}`}`;
    this.stream.write(`${text}${tail}\n`);
    this.lastLine = now;
    this.lastLineValue = this.value;
  }
}
