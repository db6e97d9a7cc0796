// The model worker's entry (runs in a worker_threads Worker): loads the model, says it is
// ready, then runs each batch of jobs it is sent. Engine calls are synchronous and take the whole
// thread; that is the point of running here, off the HTTP event loop.
import { parentPort, workerData } from 'node:worker_threads';
import type { EmbeddedBackend } from '../backends/embedded/backend.js';
import { openEmbedded } from '../backends/open.js';
import type { EngineTokenizer } from '../engine/tokenizer/index.js';
import { toWireError } from './errors.js';
import { runJobs } from './jobs.js';
import type { FromWorker, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('serve/worker.ts must run in a worker thread');
const { dir, id, maxBatchRows, kvCache, cancelFlags } = workerData as {
  dir: string;
  id: string;
  maxBatchRows?: number;
  kvCache?: 'f32' | 'f16';
  cancelFlags: SharedArrayBuffer;
};
// One flag per job of the batch in flight (protocol.ts): the HTTP thread sets it, the engine reads it between steps.
const flags = new Int32Array(cancelFlags);
const cancelled = (k: number): boolean => Atomics.load(flags, k) !== 0;
const post = (m: FromWorker): void => port.postMessage(m);

let backend: EmbeddedBackend<EngineTokenizer> | undefined;
try {
  // A genrm checkpoint or a Hugging Face folder (src/backends/open.ts); URLs and .gguf are refused.
  backend = openEmbedded(dir, { embedded: { ...(maxBatchRows !== undefined ? { maxBatchRows } : {}), ...(kvCache ? { kvCache } : {}) } });
  const c = backend.model.config;
  post({
    type: 'ready',
    info: { id, dir, contextLength: c.maxSeqLen, vocabSize: c.vocabSize, singleTokenVerdicts: backend.capabilities.singleTokenVerdicts },
  });
} catch (e) {
  post({ type: 'failed', error: toWireError(e) });
}

port.on('message', (m: ToWorker) => {
  if (m.type !== 'batch' || !backend) return;
  const id = m.id;
  post({ type: 'done', id, outcomes: runJobs(backend, m.jobs, cancelled, (r) => post({ ...r, id })) });
});
