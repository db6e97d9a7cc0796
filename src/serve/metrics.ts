// GET /metrics in the Prometheus text exposition format (version 0.0.4), written by hand: a few
// counters, gauges and histograms are ~100 lines, less than a dependency. Per family one
// `# HELP` and one `# TYPE` line, then `name{label="value"} number` samples; histograms as
// cumulative `_bucket{le="..."}` counts ending in le="+Inf", plus `_sum` and `_count`.
//
//   genrm_http_requests_total{route,method,status}   requests answered (499: the client left first)
//   genrm_http_request_duration_seconds{route}       latency histogram
//   genrm_http_errors_total{kind}                    errors by kind (OpenAI error code or type)
//   genrm_queue_depth                                jobs waiting for a batch (not yet sent to the worker)
//   genrm_requests_in_flight                         model requests admitted and not yet answered
//   genrm_worker_busy                                1 while a batch computes
//   genrm_batch_size / genrm_batch_duration_seconds  histograms, one observation per batch
//   genrm_jobs_total, genrm_jobs_cancelled_total     jobs done; jobs dropped from the queue before batching
//   genrm_jobs_cancelled_running_total               jobs whose rows the worker dropped mid-batch
//   genrm_prompt_tokens_total, genrm_generated_tokens_total
//   process_resident_memory_bytes
type Labels = Record<string, string>;

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(l: Labels, extra?: [string, string]): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escape(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

const num = (x: number): string => (Number.isFinite(x) ? String(x) : x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN');

class Counter {
  private readonly values = new Map<string, { labels: Labels; v: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = JSON.stringify(labels);
    const e = this.values.get(key);
    if (e) e.v += by;
    else this.values.set(key, { labels, v: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(JSON.stringify(labels))?.v ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, v } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${num(v)}`);
    return lines.join('\n');
  }
}

class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; n: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {}
  observe(v: number, labels: Labels = {}): void {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, n: 0 }));
    const i = this.buckets.findIndex((b) => v <= b);
    if (i >= 0) s.counts[i]!++;
    s.sum += v;
    s.n++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      let acc = 0;
      this.buckets.forEach((b, i) => {
        acc += s.counts[i]!;
        lines.push(`${this.name}_bucket${labelText(s.labels, ['le', num(b)])} ${acc}`);
      });
      lines.push(`${this.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.n}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.n}`);
    }
    return lines.join('\n');
  }
}

function gauge(name: string, help: string, v: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${num(v)}`;
}

/** What the metrics read live from the server at scrape time. */
export interface LiveState {
  queueDepth(): number;
  inFlight(): number;
  busy(): boolean;
  stats(): { jobs: number; cancelled: number; cancelledRunning: number; promptTokens: number; generatedTokens: number };
}

export class Metrics {
  readonly requests = new Counter(
    'genrm_http_requests_total',
    'HTTP requests answered, by route, method and status (499: the client closed the connection first).',
  );
  readonly latency = new Histogram(
    'genrm_http_request_duration_seconds',
    'Time from request to reply, by route.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  );
  readonly errors = new Counter(
    'genrm_http_errors_total',
    'Error replies by kind (OpenAI error code or type; client_closed: the client left before the reply).',
  );
  readonly batchSize = new Histogram(
    'genrm_batch_size',
    'Jobs per batch sent to the model worker.',
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
  );
  readonly batchSeconds = new Histogram(
    'genrm_batch_duration_seconds',
    'Time the model worker took per batch.',
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );

  constructor(private readonly live: LiveState) {}

  render(): string {
    const s = this.live.stats();
    const counter = (name: string, help: string, v: number): string => `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${num(v)}`;
    return (
      [
        this.requests.render(),
        this.latency.render(),
        this.errors.render(),
        gauge('genrm_queue_depth', 'Jobs waiting for a batch (not yet sent to the model worker).', this.live.queueDepth()),
        gauge(
          'genrm_requests_in_flight',
          'Model requests admitted whose reply or model work is not done (the bounded queue).',
          this.live.inFlight(),
        ),
        gauge('genrm_worker_busy', '1 while the model worker computes a batch.', this.live.busy() ? 1 : 0),
        this.batchSize.render(),
        this.batchSeconds.render(),
        counter('genrm_jobs_total', 'Jobs the model worker finished.', s.jobs),
        counter('genrm_jobs_cancelled_total', 'Jobs dropped from the queue before batching (client gone or deadline passed).', s.cancelled),
        counter(
          'genrm_jobs_cancelled_running_total',
          'Jobs cancelled while the worker computed them (client gone or deadline passed): their rows stopped at the next step.',
          s.cancelledRunning,
        ),
        counter('genrm_prompt_tokens_total', 'Prompt tokens the model read.', s.promptTokens),
        counter('genrm_generated_tokens_total', 'Tokens the model generated.', s.generatedTokens),
        gauge('process_resident_memory_bytes', 'Resident set size of the server process.', process.memoryUsage.rss()),
      ].join('\n') + '\n'
    );
  }
}
