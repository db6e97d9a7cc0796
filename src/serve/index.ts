// genrm's HTTP stack (docs/ARCHITECTURE.md, Contracts): one server, the model in a worker thread.
export { startServer, buildRouter, type ServeOptions, type RunningServer } from './server.js';
export { Router, sendJson, sendError, type Ctx, type Handler, type Hook } from './router.js';
export { HttpError, errorReply } from './errors.js';
export { parseFaults, Faults, type FaultSpec } from './faults.js';
export { ModelWorker } from './modelWorker.js';
export type { Job, JobResult, ModelInfo } from './protocol.js';
