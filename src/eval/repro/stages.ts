// The repro pipeline's stages and their done-markers. Each stage, once finished, writes
// stages/<name>.json in the run folder (atomically) with its outputs and how long it took; a rerun
// finds the marker and skips the stage, handing its recorded outputs to the stages after it. So
// an interrupted run resumes at the first unfinished stage (and a training stage resumes inside
// itself from the recipe's own trainer checkpoints).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../data/jsonl.js';

export interface StageMarker {
  stage: string;
  seconds: number;
  finishedAt: string;
  outputs: Record<string, unknown>;
}

/** Thrown after the stage named by `stopAfter` (tests: an interruption between stages). */
export class StopAfterStage extends Error {
  constructor(readonly stage: string) {
    super(`stopped after stage ${stage} (--stop-after)`);
    this.name = 'StopAfterStage';
  }
}

export class Stages {
  private index = 0;
  /** Stages skipped because a marker said they were done. */
  readonly skipped: string[] = [];
  /** Stages run in this process. */
  readonly ran: string[] = [];
  private readonly markers: StageMarker[] = [];

  constructor(
    private readonly dir: string,
    private readonly total: number,
    private readonly say: (line: string) => void,
    private readonly stopAfter?: string,
  ) {}

  markerFile(name: string): string {
    return join(this.dir, 'stages', `${name}.json`);
  }

  /** Runs `fn` unless the stage is marked done; returns its outputs either way. */
  async run<T extends Record<string, unknown>>(name: string, title: string, fn: () => Promise<T>): Promise<T> {
    this.index++;
    const head = `[${this.index}/${this.total}] ${title}`;
    const file = this.markerFile(name);
    if (existsSync(file)) {
      const m = JSON.parse(readFileSync(file, 'utf8')) as StageMarker;
      this.markers.push(m);
      this.skipped.push(name);
      this.say(`${head}: done earlier (${m.seconds.toFixed(1)} s), skipped`);
      return m.outputs as T;
    }
    this.say(`${head} ...`);
    const t0 = performance.now();
    const outputs = await fn();
    const m: StageMarker = { stage: name, seconds: (performance.now() - t0) / 1000, finishedAt: new Date().toISOString(), outputs };
    await writeFileAtomic(file, JSON.stringify(m, null, 2) + '\n');
    this.markers.push(m);
    this.ran.push(name);
    this.say(`${head}: done in ${m.seconds.toFixed(1)} s`);
    if (this.stopAfter === name) throw new StopAfterStage(name);
    return outputs;
  }

  /** Every finished stage's time, in pipeline order (resumed stages keep their recorded time). */
  timings(): { stage: string; seconds: number }[] {
    return this.markers.map((m) => ({ stage: m.stage, seconds: m.seconds }));
  }
}
