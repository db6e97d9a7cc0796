// What a training run tells the person watching and the files that outlive it: a progress bar on
// stderr (only on a terminal, and never with --quiet or --json, whose stdout must stay clean) and
// metrics appended as JSON lines.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import cliProgress from 'cli-progress';

export interface ProgressPayload {
  loss: number;
  tokensPerSec: number;
  lr: number;
}

/** A progress bar with loss, tokens/s, lr and ETA; a no-op when disabled. */
export class Progress {
  private bar: cliProgress.SingleBar | null = null;

  constructor(enabled: boolean, label = 'train') {
    if (!enabled || !process.stderr.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {value}/{total} | loss {loss} | {tps} tok/s | lr {lr} | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50, // ETA from the last 50 updates: step time changes with eval and checkpoints
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(total: number, at: number): void {
    this.bar?.start(total, at, { loss: '-', tps: '-', lr: '-' });
  }

  update(step: number, p: ProgressPayload): void {
    this.bar?.update(step, { loss: p.loss.toFixed(4), tps: Math.round(p.tokensPerSec), lr: p.lr.toExponential(2) });
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** Appends one JSON object per line to `path` (created with its folder on first use). */
export function appendMetrics(path: string, record: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, JSON.stringify(record) + '\n');
}
