// What a training run tells the person watching and the files that outlive it: progress on stderr
// (a bar on a terminal, a line every 30 s in a log; never with --quiet or --json, whose stdout must
// stay clean) and metrics appended as JSON lines.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ProgressBar } from '../util/progress.js';

export interface ProgressPayload {
  loss: number;
  tokensPerSec: number;
  lr: number;
}

/** Steps with loss, tokens/s, lr and ETA; a no-op when disabled. */
export class Progress {
  private readonly bar: ProgressBar;

  constructor(enabled: boolean, label = 'train') {
    // ETA from the last 50 updates: step time changes with eval and checkpoints.
    this.bar = new ProgressBar(`${label} [{bar}] {value}/{total} | loss {loss} | {tps} tok/s | lr {lr} | ETA {eta_formatted}`, {
      enabled,
      etaBuffer: 50,
    });
  }

  start(total: number, at: number): void {
    this.bar.start(total, at, { loss: '-', tps: '-', lr: '-' });
  }

  update(step: number, p: ProgressPayload): void {
    this.bar.update(step, { loss: p.loss.toFixed(4), tps: Math.round(p.tokensPerSec), lr: p.lr.toExponential(2) });
  }

  stop(): void {
    this.bar.stop();
  }
}

/** Appends one JSON object per line to `path` (created with its folder on first use). */
export function appendMetrics(path: string, record: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, JSON.stringify(record) + '\n');
}
