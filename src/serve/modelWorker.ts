// The HTTP thread's side of the model worker: starts it, waits until the checkpoint is loaded, and
// queues jobs. While the worker computes, new jobs wait; when it is free, the queue goes as ONE
// batch (the worker merges compatible jobs into one engine call), so many requests in flight cost
// about one batched call, not one call each (dynamic batching; `maxBatchJobs` and
// `batchWindowMs` tune it, `maxBatchJobs: 1` is one-at-a-time). A batch takes the requests' jobs
// in turn (one of each request waiting, then the next of each), so a request with thousands of
// jobs does not hold back one with a single job for more than a batch.
//
// Cancellation: `run(job, signal)`, one AbortSignal per request (the router's ctx.signal). A job
// whose signal aborts while it waits in the queue is taken out before it is ever batched (the
// worker never sees it); one already in a batch is answered with the abort reason at once, and
// its cancel flag (shared memory, protocol.ts) tells the worker to drop its rows at the next
// decode step or scoring slice. `drained(signal)` resolves once none of a request's jobs is queued
// or computing: the admission limit counts a request until then, not only until its reply.
//
// Streaming: `run(job, signal, listen)` with `job.stream` hears the job's tokens after every decode
// step and its echo (the worker's 'tokens' and 'echo' messages, routed by the job's place in the
// batch in flight) until the job is answered or cancelled; the promise still resolves with the
// whole result.
import { Worker } from 'node:worker_threads';
import { HttpError, type WireError } from './errors.js';
import type { FromWorker, Job, JobEvent, JobResult, ModelInfo, ToWorker } from './protocol.js';

export interface ModelWorkerOptions {
  /** The model id clients use; default the folder's name. */
  id: string;
  /** Most jobs in one batch. 256: far more than a CPU batch needs, bounds one message's size. */
  maxBatchJobs?: number;
  /**
   * When the worker is idle, gather a batch until no job has arrived for this long (a quiet gap),
   * at most 10 gaps in all. 2 ms: a client's concurrent requests arrive over several connections
   * about a millisecond apart, 16 or 64 of them over several milliseconds; a fixed window sent the
   * early ones alone and the rest waited a whole batch for them.
   */
  batchWindowMs?: number;
  maxBatchRows?: number;
  /** KV-cache precision of generation (engine DecodeOptions.kvCache). Default f32. */
  kvCache?: 'f32' | 'f16';
  /** Called when a batch returns: its job count and how long it took (metrics). */
  onBatch?: (jobs: number, ms: number) => void;
}

interface Pending {
  job: Job;
  /** The request it belongs to (its AbortSignal); undefined: a job of its own. */
  owner: AbortSignal | undefined;
  /** Its index in the batch in flight (its cancel flag), once sent. */
  slot: number;
  resolve: (r: JobResult) => void;
  reject: (e: unknown) => void;
  /** Answered already (aborted while in flight): its outcome is dropped. */
  settled: boolean;
  /** Hears a streaming job's tokens and echo while it computes. */
  listen: ((e: JobEvent) => void) | undefined;
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

/** 256 jobs a batch: far more than a CPU batch needs; bounds one message's size. */
const DEFAULT_MAX_BATCH_JOBS = 256;
/** 65,536: one batch's jobs travel in one message; past this a batch is a mistake, not a tuning. */
const MAX_BATCH_JOBS = 65_536;

function rebuild(e: WireError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export class ModelWorker {
  /** Jobs waiting, in arrival order; a cancelled one stays (settled) until the next batch is taken, so cancelling thousands costs no search. */
  private queue: Pending[] = [];
  private nQueued = 0;
  /** Per request: its jobs queued or computing, who waits for them to be gone, and its one abort listener. */
  private readonly live = new Map<AbortSignal, { jobs: Set<Pending>; waiters: (() => void)[]; onAbort: () => void }>();
  private inFlight: Pending[] | null = null;
  /** The id of the batch in flight (stream messages name it). */
  private inFlightId = 0;
  private nextId = 1;
  private dead: Error | null = null;
  private scheduled = false;
  /** When the idle worker's gathering began, and when the last job arrived (ms, performance.now). */
  private gatherStart = 0;
  private lastArrival = 0;
  private readonly maxBatchJobs: number;
  private readonly batchWindowMs: number;
  private batchStarted = 0;
  private readonly onBatch: ((jobs: number, ms: number) => void) | undefined;
  /**
   * Batches sent, jobs done, jobs cancelled before batching, tokens (for /health, /metrics, tests).
   * ewmaBatchMs: a moving average of batch time (Retry-After estimates).
   */
  readonly stats = {
    batches: 0,
    jobs: 0,
    largestBatch: 0,
    cancelled: 0,
    cancelledRunning: 0,
    promptTokens: 0,
    generatedTokens: 0,
    ewmaBatchMs: 0,
  };

  private constructor(
    private readonly worker: Worker,
    readonly info: ModelInfo,
    o: ModelWorkerOptions,
    private readonly flags: Int32Array,
  ) {
    this.maxBatchJobs = o.maxBatchJobs ?? DEFAULT_MAX_BATCH_JOBS;
    this.batchWindowMs = o.batchWindowMs ?? 2;
    this.onBatch = o.onBatch;
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (e) => this.fail(new HttpError(500, `model worker crashed: ${e.message}`)));
    worker.on('exit', (code) => this.fail(new HttpError(503, `model worker exited (code ${code})`, 'service_unavailable')));
  }

  static start(dir: string, o: ModelWorkerOptions): Promise<ModelWorker> {
    const maxJobs = o.maxBatchJobs ?? DEFAULT_MAX_BATCH_JOBS;
    const wait = o.batchWindowMs ?? 2;
    if (!(Number.isInteger(maxJobs) && maxJobs >= 1 && maxJobs <= MAX_BATCH_JOBS))
      return Promise.reject(new RangeError(`max batch must be an integer in [1, ${MAX_BATCH_JOBS}], got ${maxJobs}`));
    if (!(wait >= 0 && wait <= 10_000)) return Promise.reject(new RangeError(`batch wait must be in [0, 10000] ms, got ${wait}`));
    const cancelFlags = new SharedArrayBuffer(4 * maxJobs);
    const worker = spawn({
      dir,
      id: o.id,
      cancelFlags,
      ...(o.maxBatchRows !== undefined ? { maxBatchRows: o.maxBatchRows } : {}),
      ...(o.kvCache ? { kvCache: o.kvCache } : {}),
    });
    return new Promise((resolve, reject) => {
      const onMsg = (m: FromWorker): void => {
        worker.off('error', onErr);
        if (m.type === 'ready') resolve(new ModelWorker(worker, m.info, o, new Int32Array(cancelFlags)));
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
    return this.nQueued;
  }

  /** Requests with jobs queued or computing. */
  get activeRequests(): number {
    return this.live.size;
  }

  /**
   * Queues a job of the request `signal` stands for; an abort takes it out of the queue, or
   * cancels its rows in the worker when it is computing, and rejects with the abort reason.
   * `listen`: a streaming job's events (job.stream) until it is answered.
   */
  run(job: Job, signal?: AbortSignal, listen?: (e: JobEvent) => void): Promise<JobResult> {
    if (this.dead) return Promise.reject(this.dead);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const p: Pending = { job, owner: signal, slot: -1, resolve, reject, settled: false, listen };
      if (signal) {
        // One listener per request, not per job: a request of thousands of jobs aborts in one pass.
        let l = this.live.get(signal);
        if (!l) {
          const entry = {
            jobs: new Set<Pending>(),
            waiters: [] as (() => void)[],
            onAbort: () => [...entry.jobs].forEach((q) => this.cancel(q, signal.reason)),
          };
          signal.addEventListener('abort', entry.onAbort, { once: true });
          this.live.set(signal, (l = entry));
        }
        l.jobs.add(p);
      }
      this.queue.push(p);
      this.nQueued++;
      this.lastArrival = performance.now();
      this.schedule();
    });
  }

  /** Resolves when none of the request's jobs is queued or computing (at once if none is). */
  drained(signal: AbortSignal): Promise<void> {
    const l = this.live.get(signal);
    if (!l) return Promise.resolve();
    return new Promise((res) => l.waiters.push(res));
  }

  /** A job left the queue or came back from the worker: its request may be drained. */
  private release(p: Pending): void {
    const signal = p.owner as AbortSignal | undefined;
    const l = signal && this.live.get(signal);
    if (!l) return;
    l.jobs.delete(p);
    if (l.jobs.size > 0) return;
    this.live.delete(signal);
    signal.removeEventListener('abort', l.onAbort);
    for (const w of l.waiters) w();
  }

  private cancel(p: Pending, reason: unknown): void {
    if (p.settled) return;
    p.settled = true;
    if (p.slot < 0) {
      this.nQueued--;
      this.stats.cancelled++;
      this.release(p);
    } else if (this.inFlight?.[p.slot] === p) {
      Atomics.store(this.flags, p.slot, 1);
      this.stats.cancelledRunning++;
    }
    p.reject(reason);
  }

  /** Sends soon rather than at once, so jobs queued meanwhile (one request's prompts, other requests being read) share a batch. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const go = (): void => {
      this.scheduled = false;
      this.pump();
    };
    // Busy: jobs wait for the batch in flight anyway. Idle: gather until a quiet gap (or the cap).
    if (this.inFlight || this.batchWindowMs === 0) {
      setImmediate(go);
      return;
    }
    this.gatherStart = performance.now();
    const gather = (): void => {
      const now = performance.now();
      const quietFor = now - this.lastArrival;
      const cap = this.gatherStart + 10 * this.batchWindowMs;
      if (quietFor >= this.batchWindowMs || now >= cap || this.nQueued >= this.maxBatchJobs || this.inFlight) go();
      else setTimeout(gather, Math.min(this.batchWindowMs - quietFor, cap - now));
    };
    setTimeout(gather, this.batchWindowMs);
  }

  /** Up to maxBatchJobs jobs, one per request in turn (a request's own jobs keep their order). */
  private takeBatch(): Pending[] {
    this.queue = this.queue.filter((p) => !p.settled);
    if (this.queue.length <= this.maxBatchJobs) return this.queue.splice(0);
    const byOwner = new Map<AbortSignal | Pending, Pending[]>();
    for (const p of this.queue) {
      const key = p.owner ?? p;
      const list = byOwner.get(key);
      if (list) list.push(p);
      else byOwner.set(key, [p]);
    }
    const lists = [...byOwner.values()];
    const batch: Pending[] = [];
    for (let round = 0; batch.length < this.maxBatchJobs; round++) {
      let any = false;
      for (const l of lists) {
        if (round >= l.length) continue;
        any = true;
        batch.push(l[round]!);
        if (batch.length === this.maxBatchJobs) break;
      }
      if (!any) break;
    }
    const taken = new Set(batch);
    this.queue = this.queue.filter((p) => !taken.has(p));
    return batch;
  }

  private pump(): void {
    if (this.inFlight || this.nQueued === 0 || this.dead) return;
    const batch = this.takeBatch();
    this.nQueued -= batch.length;
    batch.forEach((p, i) => {
      p.slot = i;
      Atomics.store(this.flags, i, 0);
    });
    this.inFlight = batch;
    this.inFlightId = this.nextId;
    this.batchStarted = performance.now();
    this.stats.batches++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    const msg: ToWorker = { type: 'batch', id: this.nextId++, jobs: batch.map((p) => p.job) };
    this.worker.postMessage(msg);
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'tokens' || m.type === 'echo') return this.onStream(m);
    if (m.type !== 'done' || !this.inFlight) return;
    const batch = this.inFlight;
    this.inFlight = null;
    const ms = performance.now() - this.batchStarted;
    this.stats.ewmaBatchMs = this.stats.ewmaBatchMs === 0 ? ms : 0.8 * this.stats.ewmaBatchMs + 0.2 * ms;
    this.onBatch?.(batch.length, ms);
    m.outcomes.forEach((o, i) => {
      const p = batch[i];
      if (!p) return;
      this.stats.jobs++;
      if (o.ok) {
        this.stats.promptTokens += o.result.promptTokens;
        for (const s of o.result.samples) this.stats.generatedTokens += s.generatedTokens;
      }
      this.release(p);
      if (p.settled) return; // aborted while in flight: its caller has its answer already
      p.settled = true;
      if (o.ok) p.resolve(o.result);
      else p.reject(rebuild(o.error));
    });
    this.pump();
  }

  /** A streaming job's events go to its listener while it is unanswered (a cancelled job hears nothing more). */
  private onStream(m: Extract<FromWorker, { type: 'tokens' | 'echo' }>): void {
    const batch = this.inFlight;
    if (!batch || m.id !== this.inFlightId) return;
    const hear = (job: number, e: JobEvent): void => {
      const p = batch[job];
      if (!p || p.settled) return;
      try {
        p.listen?.(e);
      } catch (err) {
        this.cancel(p, err); // a listener that fails ends its job (and its rows), not the server
      }
    };
    if (m.type === 'echo') hear(m.job, { type: 'echo', echo: m.echo });
    else for (const j of m.jobs) hear(j.job, { type: 'tokens', tokens: j.tokens });
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    for (const p of [...(this.inFlight ?? []), ...this.queue]) {
      if (!p.settled) p.reject(e);
      p.settled = true;
    }
    this.inFlight = null;
    this.queue = [];
    this.nQueued = 0;
    for (const [signal, l] of this.live) {
      signal.removeEventListener('abort', l.onAbort);
      for (const w of l.waiters) w();
    }
    this.live.clear();
  }

  async close(): Promise<void> {
    this.fail(new HttpError(503, 'the server is shutting down', 'service_unavailable'));
    await this.worker.terminate();
  }
}
