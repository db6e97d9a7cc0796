// The one entry point for importing preference data: open a file in any known format (detected
// from its first records, or named), stream PreferencePairs out, and check every pair the same
// way whatever its source. A bad record stops the load with file:line:field, or, with
// skipInvalid, is skipped and counted by reason in the report (never silently).
import { basename } from 'node:path';
import type { PreferencePair } from '../pair.js';
import { promptText } from '../judgeFormat.js';
import { FieldError, FormatError, INVALID_REASONS, type InvalidReason } from './errors.js';
import { DEFAULT_FIELDS, type FieldMap } from './generic.js';
import type { ReadProgress } from '../jsonl.js';
import { detectFormat, formatByName, undetectedError } from './registry.js';
import { type Container, type Fields, type RecordItem, detectContainer, readRecords } from './source.js';
import type { FormatDef } from './types.js';

export type TiePolicy = 'keep' | 'skip';

export interface LoadOptions {
  /** A format name (see FORMAT_NAMES); undefined: detect. Field flags imply "generic". */
  format?: string;
  fields?: Partial<FieldMap>;
  container?: Container;
  /** false (default): the first bad record is an error, as everywhere in genrm (DESIGN.md §3). */
  skipInvalid?: boolean;
  /** keep (default): ties pass through with tie: true and the eval decides skip vs 0.5. */
  ties?: TiePolicy;
  /** 100k chars (~25k tokens) is past any judge context genrm uses; longer is almost surely a broken record. */
  maxPromptChars?: number;
  progress?: ReadProgress;
}

export const DEFAULT_MAX_PROMPT_CHARS = 100_000;
const DETECT_SAMPLE = 5; // records looked at to detect the format: one odd first line must not decide
const KEEP_EXAMPLES = 3; // invalid records kept per reason for the report

export interface LoadReport {
  file: string;
  container: Container;
  format: string;
  pairs: number; // pairs yielded (ties included when kept)
  ties: number; // ties yielded
  skippedTies: number; // ties dropped under ties: 'skip'
  invalid: Record<InvalidReason, number>;
  invalidTotal: number;
  /** A few skipped records per reason, as "file:line: …" messages. */
  examples: Partial<Record<InvalidReason, string[]>>;
}

export interface LoadedPair {
  pair: PreferencePair;
  line: number;
}

export interface OpenedPairs {
  report: LoadReport;
  format: FormatDef;
  pairs: AsyncGenerator<LoadedPair>;
}

const promptLength = (p: PreferencePair['prompt']): number => (typeof p === 'string' ? p.length : p.reduce((n, m) => n + m.content.length, 0));

/** Checks every format shares: non-empty texts, different answers, a prompt within the limit. */
export function checkPair(pair: PreferencePair, maxPromptChars: number): void {
  if (promptText(pair.prompt).trim() === '' || (typeof pair.prompt !== 'string' && pair.prompt.every((m) => m.content.trim() === '')))
    throw new FieldError('empty-field', 'prompt', 'empty; expected the prompt text');
  if (pair.chosen.trim() === '') throw new FieldError('empty-field', 'chosen', 'empty; expected the chosen answer');
  if (pair.rejected.trim() === '') throw new FieldError('empty-field', 'rejected', 'empty; expected the rejected answer');
  if (pair.chosen.trim() === pair.rejected.trim())
    throw new FieldError('identical', 'rejected', 'chosen and rejected are the same text; expected two different answers');
  const n = promptLength(pair.prompt);
  if (n > maxPromptChars) throw new FieldError('too-long', 'prompt', `${n} chars, over the limit of ${maxPromptChars} (raise it with --max-prompt-chars)`);
}

const usesGenericFlags = (f: Partial<FieldMap> | undefined): boolean => f !== undefined && Object.values(f).some((v) => v !== undefined);

export async function openPairs(file: string, opts: LoadOptions = {}): Promise<OpenedPairs> {
  const container = opts.container ?? (await detectContainer(file));
  const fields: FieldMap = { ...DEFAULT_FIELDS };
  for (const [k, v] of Object.entries(opts.fields ?? {})) if (v !== undefined) (fields as unknown as Record<string, unknown>)[k] = v;
  const source = readRecords(file, container, opts.progress);

  // Read ahead a few records to detect the format; they are replayed below.
  const head: RecordItem[] = [];
  const sample: Fields[] = [];
  while (sample.length < DETECT_SAMPLE) {
    const next = await source.next();
    if (next.done) break;
    head.push(next.value);
    if ('rec' in next.value) sample.push(next.value.rec);
  }
  let format: FormatDef;
  const named = opts.format ?? (usesGenericFlags(opts.fields) ? 'generic' : undefined);
  if (named !== undefined) format = formatByName(named, fields);
  else {
    const found = detectFormat(sample);
    if (!found) {
      await source.return(undefined);
      const firstLine = head.find((h) => 'rec' in h)?.line ?? head[0]?.line ?? 0;
      if (sample.length === 0) {
        const err = head.find((h): h is { line: number; error: FormatError } => 'error' in h);
        if (err) throw err.error;
        throw new FormatError(file, firstLine, 'missing-field', undefined, 'no records in the file');
      }
      const e = undetectedError(sample);
      throw new FormatError(file, firstLine, e.reason, e.field, e.message);
    }
    format = found;
  }

  const report: LoadReport = {
    file,
    container,
    format: format.name,
    pairs: 0,
    ties: 0,
    skippedTies: 0,
    invalid: Object.fromEntries(INVALID_REASONS.map((r) => [r, 0])) as Record<InvalidReason, number>,
    invalidTotal: 0,
    examples: {},
  };
  const maxPrompt = opts.maxPromptChars ?? DEFAULT_MAX_PROMPT_CHARS;
  const base = basename(file);

  const reject = (err: FormatError): void => {
    if (!opts.skipInvalid) throw err;
    report.invalid[err.reason]++;
    report.invalidTotal++;
    const ex = (report.examples[err.reason] ??= []);
    if (ex.length < KEEP_EXAMPLES) ex.push(err.message);
  };

  async function* pairs(): AsyncGenerator<LoadedPair> {
    const items = (async function* () {
      yield* head;
      yield* source;
    })();
    for await (const item of items) {
      if ('error' in item) {
        reject(item.error);
        continue;
      }
      let pair: PreferencePair;
      try {
        pair = format.map(item.rec, { fallbackId: `${base}:${item.line}` });
        checkPair(pair, maxPrompt);
      } catch (e) {
        if (!(e instanceof FieldError)) throw e;
        reject(new FormatError(file, item.line, e.reason, e.field, e.message));
        continue;
      }
      if (pair.tie) {
        if (opts.ties === 'skip') {
          report.skippedTies++;
          continue;
        }
        report.ties++;
      }
      report.pairs++;
      yield { pair, line: item.line };
    }
  }
  return { report, format, pairs: pairs() };
}

/** One line per reason: "identical 3, empty-field 1"; "" when nothing was skipped. */
export function invalidSummary(r: LoadReport): string {
  return INVALID_REASONS.filter((k) => r.invalid[k] > 0)
    .map((k) => `${k} ${r.invalid[k]}`)
    .join(', ');
}
