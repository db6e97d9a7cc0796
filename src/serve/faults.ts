// Fault injection, for tests of clients' retries only; off unless set.
//
//   GENRM_FAULTS="429:0.2,500:0.1,slow:0.1:2000,seed:7"   (or `genrm serve --faults ...`)
//
// Each entry is kind:share[:ms]. For every request to a model route, one uniform draw picks at
// most one fault: 429 (rate limited, with Retry-After: 0 and retry-after-ms: 10 so clients retry
// at once), 500 (server error), or slow (wait ms, default 1000, then answer normally). Shares must
// sum to at most 1. seed:N makes the sequence of faults reproducible (default 1).
import { Prng } from '../engine/prng.js';
import { HttpError } from './errors.js';

export interface FaultRule {
  kind: '429' | '500' | 'slow';
  share: number;
  ms: number;
}

export interface FaultSpec {
  rules: FaultRule[];
  seed: number;
}

export function parseFaults(spec: string, source = 'GENRM_FAULTS'): FaultSpec {
  const rules: FaultRule[] = [];
  let seed = 1;
  for (const raw of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [kind, a, b] = raw.split(':');
    if (kind === 'seed') {
      if (!/^\d+$/.test(a ?? '')) throw new RangeError(`${source}: "${raw}": seed must be a non-negative integer`);
      seed = Number(a);
      continue;
    }
    if (kind !== '429' && kind !== '500' && kind !== 'slow')
      throw new RangeError(`${source}: "${raw}": kind must be 429, 500, slow or seed`);
    const share = Number(a);
    if (!(share >= 0 && share <= 1)) throw new RangeError(`${source}: "${raw}": share must be a number in [0, 1]`);
    const ms = b === undefined ? 1000 : Number(b);
    if (!(Number.isInteger(ms) && ms >= 0)) throw new RangeError(`${source}: "${raw}": ms must be a non-negative integer`);
    rules.push({ kind, share, ms });
  }
  const total = rules.reduce((s, r) => s + r.share, 0);
  if (total > 1 + 1e-9) throw new RangeError(`${source}: shares sum to ${+total.toFixed(6)}, more than 1`);
  return { rules, seed };
}

export class Faults {
  private readonly rng: Prng;
  /** How many of each fault were injected (tests read it). */
  readonly counts = { '429': 0, '500': 0, slow: 0 };

  constructor(readonly spec: FaultSpec) {
    this.rng = new Prng(spec.seed);
  }

  /** Throws the injected error, waits for a slow one, or returns at once. */
  async apply(): Promise<void> {
    const u = this.rng.uniform();
    let acc = 0;
    for (const r of this.spec.rules) {
      acc += r.share;
      if (u >= acc) continue;
      this.counts[r.kind]++;
      if (r.kind === '429')
        throw new HttpError(429, 'injected fault: rate limited (GENRM_FAULTS)', 'rate_limit_error', null, 'injected_fault', {
          'retry-after': '0',
          'retry-after-ms': '10',
        });
      if (r.kind === '500') throw new HttpError(500, 'injected fault: server error (GENRM_FAULTS)', 'server_error', null, 'injected_fault');
      await new Promise((res) => setTimeout(res, r.ms));
      return;
    }
  }
}
