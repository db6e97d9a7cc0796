// Streaming replies (`stream: true`) of the OpenAI endpoints, on the HTTP thread: the worker
// reports each decode step's tokens (protocol.ts 'tokens'), and here they become text a client can
// be sent. A sample's text goes out as whole tokens once it is certain: bytes that are not yet
// complete UTF-8 wait for the token that completes them (pieces.ts PieceDecoder), and text that
// could be the start of a stop string waits until the string is ruled out or matched (the text
// then ends before it, as without streaming; engine/sampling/stop.ts). A stop token ends the
// sample and is no text. When the job is answered, the rest of each sample's final text follows,
// so what a client concatenates is the non-streamed reply's text exactly.
import { alternative, PieceDecoder, type TokenPiece } from '../../backends/embedded/pieces.js';
import type { EngineTokenizer } from '../../engine/tokenizer/index.js';
import type { Alternative, JobEvent, JobResult, SampleResult, StreamToken } from '../protocol.js';

/** Some of a sample's text and the tokens that carry it: what one chunk sends. */
export interface Span {
  text: string;
  pieces: TokenPiece[];
  logprobs: number[];
  top?: Alternative[][];
}

/** Where the first stop string that occurs at or after `from` starts, or -1. */
function firstStop(text: string, stops: readonly string[], from: number): number {
  let best = -1;
  for (const s of stops) {
    const at = text.indexOf(s, from);
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}

/** The first position at or after `from` whose rest of the text could begin a stop string (text.length: none). */
function heldFrom(text: string, stops: readonly string[], from: number, maxStop: number): number {
  for (let j = Math.max(from, text.length - maxStop + 1); j < text.length; j++) {
    const tail = text.slice(j);
    if (stops.some((s) => s.startsWith(tail))) return j;
  }
  return text.length;
}

/** One sample's text as its tokens arrive. */
export class SampleText {
  private readonly dec: PieceDecoder;
  private readonly pieces: TokenPiece[] = [];
  private readonly logprobs: number[] = [];
  private readonly top: Alternative[][] = [];
  private text = '';
  /** Tokens and characters sent so far. */
  private sent = 0;
  private sentChars = 0;
  private ended = false;
  private readonly maxStop: number;

  constructor(
    private readonly tok: EngineTokenizer,
    private readonly stops: readonly string[],
  ) {
    this.dec = new PieceDecoder(tok);
    this.maxStop = stops.reduce((m, s) => Math.max(m, s.length), 0);
  }

  /** Takes the sample's next token; returns what can be sent now, if anything. */
  push(t: StreamToken): Span | null {
    if (this.ended) return null;
    if (t.stop) {
      this.ended = true;
      return null;
    }
    const p = this.dec.push(t.id);
    this.pieces.push(p);
    this.logprobs.push(t.logprob);
    if (t.top) this.top.push(t.top.map((a) => alternative(this.tok, a)));
    this.text += p.text;
    // Stop strings cannot start in text already sent: it was sent because none could.
    const hit = firstStop(this.text, this.stops, this.sentChars);
    if (hit >= 0) this.ended = true;
    const safe = hit >= 0 ? hit : heldFrom(this.text, this.stops, this.sentChars, this.maxStop);
    // Whole tokens that end by `safe`, through the last one with text (a token that only began a
    // character goes with the one that completes it).
    let upto = this.sent;
    for (let k = this.sent; k < this.pieces.length; k++) {
      const q = this.pieces[k]!;
      if (q.offset + q.text.length > safe) break;
      if (q.text.length > 0) upto = k + 1;
    }
    if (upto === this.sent) return null;
    const span = this.span(this.pieces, this.logprobs, this.top.length > 0 ? this.top : undefined, this.sent, upto);
    this.sent = upto;
    this.sentChars += span.text.length;
    return span;
  }

  /** What remains of the sample's final text (the worker's answer) after what was sent. */
  rest(s: SampleResult): Span {
    const span = this.span(s.pieces, s.logprobs, s.top, Math.min(this.sent, s.pieces.length), s.pieces.length);
    // The final text decides (a token that ended the sample mid-character ends it with U+FFFD).
    return { ...span, text: s.text.slice(this.sentChars) };
  }

  private span(pieces: TokenPiece[], logprobs: number[], top: Alternative[][] | undefined, from: number, to: number): Span {
    const ps = pieces.slice(from, to);
    const out: Span = { text: ps.map((p) => p.text).join(''), pieces: ps, logprobs: logprobs.slice(from, to) };
    if (top) out.top = top.slice(from, to);
    return out;
  }
}

/** One streaming job: its samples' texts, what each step lets out (`emit`), and its echo (`onEcho`). */
export class JobStream {
  private readonly samples: SampleText[] = [];

  constructor(
    private readonly tok: EngineTokenizer,
    private readonly stops: readonly string[],
    private readonly emit: (sample: number, span: Span) => void,
    private readonly onEcho?: (echo: NonNullable<JobResult['echo']>) => void,
  ) {}

  /** The listener ModelWorker.run takes. */
  readonly hear = (e: JobEvent): void => {
    if (e.type === 'echo') return this.onEcho?.(e.echo);
    for (const t of e.tokens) {
      const span = this.sample(t.sample).push(t);
      if (span) this.emit(t.sample, span);
    }
  };

  /** Per sample of the answered job, in order: the rest of its text. */
  rest(r: JobResult): Span[] {
    return r.samples.map((s, i) => this.sample(i).rest(s));
  }

  private sample(i: number): SampleText {
    return (this.samples[i] ??= new SampleText(this.tok, this.stops));
  }
}
