// The HTTP thread's side of the model worker: starts it, waits until the checkpoint is loaded, and
// queues jobs. While the worker computes, new jobs wait; when it is free, everything queued goes
// as ONE batch (the worker merges compatible jobs into one engine call), so many requests in
// flight cost about one batched call, not one call each.
import { Worker } from 'node:worker_threads';
import { HttpError, type WireError } from './errors.js';
import type { FromWorker, Job, JobResult, ModelInfo, ToWorker } from './protocol.js';

export interface ModelWorkerOptions {
  /** The model id clients use; default the folder's name. */
  id: string;
  /** Most jobs in one batch. 256: far more than a CPU batch needs, bounds one message's size. */
  maxBatchJobs?: number;
  /**
   * When the worker is idle, wait this long after the first job for others before sending. 2 ms:
   * a client's concurrent requests arrive over several connections within about a millisecond;
   * without the wait the first goes alone and the rest wait a whole batch for it.
   */
  batchWindowMs?: number;
  maxBatchRows?: number;
}

interface Pending {
  job: Job;
  resolve: (r: JobResult) => void;
  reject: (e: unknown) => void;
}

/** Compiled, the worker is worker.js beside this file; under tsx (tests) it is .ts, loaded through tsx's API. */
function spawn(workerData: object): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    const entry = new URL('./worker.ts', self).href;
    const boot = `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(self)}));`;
    return new Worker(boot, { eval: true, workerData });
  }
  return new Worker(new URL('./worker.js', self), { workerData });
}

function rebuild(e: WireError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export class ModelWorker {
  private queue: Pending[] = [];
  private inFlight: Pending[] | null = null;
  private nextId = 1;
  private dead: Error | null = null;
  private scheduled = false;
  private readonly maxBatchJobs: number;
  private readonly batchWindowMs: number;
  /** Batches sent and jobs done (for /health and tests). */
  readonly stats = { batches: 0, jobs: 0, largestBatch: 0 };

  private constructor(
    private readonly worker: Worker,
    readonly info: ModelInfo,
    o: ModelWorkerOptions,
  ) {
    this.maxBatchJobs = o.maxBatchJobs ?? 256;
    this.batchWindowMs = o.batchWindowMs ?? 2;
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (e) => this.fail(new HttpError(500, `model worker crashed: ${e.message}`)));
    worker.on('exit', (code) => this.fail(new HttpError(503, `model worker exited (code ${code})`, 'service_unavailable')));
  }

  static start(dir: string, o: ModelWorkerOptions): Promise<ModelWorker> {
    const worker = spawn({ dir, id: o.id, ...(o.maxBatchRows !== undefined ? { maxBatchRows: o.maxBatchRows } : {}) });
    return new Promise((resolve, reject) => {
      const onMsg = (m: FromWorker): void => {
        worker.off('error', onErr);
        if (m.type === 'ready') resolve(new ModelWorker(worker, m.info, o));
        else {
          void worker.terminate();
          reject(m.type === 'failed' ? rebuild(m.error) : new Error('model worker: unexpected first message'));
        }
      };
      const onErr = (e: Error): void => reject(new Error(`model worker failed to start: ${e.message}`));
      worker.once('message', onMsg);
      worker.once('error', onErr);
    });
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  get queued(): number {
    return this.queue.length;
  }

  run(job: Job): Promise<JobResult> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.schedule();
    });
  }

  /** Sends soon rather than at once, so jobs queued meanwhile (one request's prompts, other requests being read) share a batch. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const go = (): void => {
      this.scheduled = false;
      this.pump();
    };
    // Busy: jobs wait for the batch in flight anyway. Idle: a short window to gather a batch.
    if (this.inFlight || this.batchWindowMs === 0) setImmediate(go);
    else setTimeout(go, this.batchWindowMs);
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0 || this.dead) return;
    const batch = this.queue.splice(0, this.maxBatchJobs);
    this.inFlight = batch;
    this.stats.batches++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    const msg: ToWorker = { type: 'batch', id: this.nextId++, jobs: batch.map((p) => p.job) };
    this.worker.postMessage(msg);
  }

  private onMessage(m: FromWorker): void {
    if (m.type !== 'done' || !this.inFlight) return;
    const batch = this.inFlight;
    this.inFlight = null;
    m.outcomes.forEach((o, i) => {
      const p = batch[i];
      if (!p) return;
      this.stats.jobs++;
      if (o.ok) p.resolve(o.result);
      else p.reject(rebuild(o.error));
    });
    this.pump();
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    for (const p of [...(this.inFlight ?? []), ...this.queue]) p.reject(e);
    this.inFlight = null;
    this.queue = [];
  }

  async close(): Promise<void> {
    this.fail(new HttpError(503, 'the server is shutting down', 'service_unavailable'));
    await this.worker.terminate();
  }
}
