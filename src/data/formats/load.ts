// The one entry point for importing preference data: open a file in any known format (detected
// from its first records, or named), stream PreferencePairs out, and check every pair the same
// way whatever its source. A bad record is skipped and counted by reason, with its line, in the
// report (skipInvalid), or stops the load with file:line:field (the default, and --strict in the
// CLI). Answers that are empty or not text are kept and flagged (counted, meta.flags); a tie of two
// identical texts is a valid tie. A file that cannot be read at all is a FileError.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { PreferencePair } from '../pair.js';
import { promptText } from '../judgeFormat.js';
import { ANSWER_FLAGS, type AnswerFlag, FieldError, FileError, FormatError, INVALID_REASONS, type InvalidReason } from './errors.js';
import { getField } from './fields.js';
import { DEFAULT_FIELDS, type FieldMap, collectLabel, resolveLabelValues } from './generic.js';
import type { LabelValues } from './labeled.js';
import type { ReadProgress } from '../jsonl.js';
import { detectFormat, formatByName, undetectedError } from './registry.js';
import { type Container, type Fields, type RecordItem, detectContainer, readRecords } from './source.js';
import { hash52 } from './stats.js';
import type { FormatDef, MapContext, Member } from './types.js';

export type TiePolicy = 'keep' | 'skip';

export interface LoadOptions {
  /** A format name (see FORMAT_NAMES); undefined: detect. Field flags imply "generic". */
  format?: string;
  fields?: Partial<FieldMap>;
  container?: Container;
  /** false (default): the first bad record is an error, as everywhere in genrm; the CLI skips unless --strict. */
  skipInvalid?: boolean;
  /** keep (default): ties pass through with tie: true; eval leaves them out of accuracy and says how many. */
  ties?: TiePolicy;
  /** 100k chars (~25k tokens) is past any judge context genrm uses; longer is almost surely a broken record. */
  maxPromptChars?: number;
  progress?: ReadProgress;
}

export const DEFAULT_MAX_PROMPT_CHARS = 100_000;
const DETECT_SAMPLE = 5; // records looked at to detect the format: one odd first line must not decide
const KEEP_EXAMPLES = 3; // invalid records kept per reason for the report
const KEEP_LINES = 5; // line numbers kept per reason / flag

export interface LoadReport {
  file: string;
  container: Container;
  format: string;
  /** Records read, good and bad (one JSONL line, array element or CSV row each). */
  records: number;
  pairs: number; // pairs yielded (ties included when kept)
  ties: number; // ties yielded
  skippedTies: number; // ties dropped under ties: 'skip'
  invalid: Record<InvalidReason, number>;
  invalidTotal: number;
  /** The first few line numbers of the skipped records, per reason. */
  invalidLines: Partial<Record<InvalidReason, number[]>>;
  /** A few skipped records per reason, as "file:line: …" messages. */
  examples: Partial<Record<InvalidReason, string[]>>;
  /** Pairs kept with an odd answer, per flag, and the first few of their lines. */
  flagged: Record<AnswerFlag, number>;
  flaggedLines: Partial<Record<AnswerFlag, number[]>>;
  /** The generic mapping's label values (given, or read from the file). */
  labelValues?: LabelValues;
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

const promptLength = (p: PreferencePair['prompt']): number =>
  typeof p === 'string' ? p.length : p.reduce((n, m) => n + m.content.length, 0);

/**
 * Checks every format shares: a non-empty prompt within the limit, and two different answers
 * unless the pair is a tie. Returns the flags of answers kept as they are (empty ones).
 */
export function checkPair(pair: PreferencePair, maxPromptChars: number): AnswerFlag[] {
  if (promptText(pair.prompt).trim() === '' || (typeof pair.prompt !== 'string' && pair.prompt.every((m) => m.content.trim() === '')))
    throw new FieldError('empty-field', 'prompt', 'empty; expected the prompt text');
  if (!pair.tie && pair.chosen.trim() === pair.rejected.trim())
    throw new FieldError(
      'identical',
      'rejected',
      'chosen and rejected are the same text and the record is not a tie; expected two different answers',
    );
  const n = promptLength(pair.prompt);
  if (n > maxPromptChars)
    throw new FieldError(
      'too-long',
      'prompt',
      `${n} chars, over the limit of ${maxPromptChars} (the loaders' maxPromptChars; genrm data raises it with --max-prompt-chars)`,
    );
  return pair.chosen.trim() === '' || pair.rejected.trim() === '' ? ['empty-answer'] : [];
}

const usesGenericFlags = (f: Partial<FieldMap> | undefined): boolean => f !== undefined && Object.values(f).some((v) => v !== undefined);

async function emptyFileError(file: string, container: Container): Promise<FileError> {
  if ((await stat(file)).size === 0)
    return new FileError(
      file,
      'the file is empty (0 bytes); expected preference records: JSON Lines, a JSON array or object, or CSV/TSV with a header row',
    );
  const what =
    container === 'csv' || container === 'tsv'
      ? 'only a header row and blank lines'
      : container === 'json'
        ? 'a JSON document with no records in it'
        : 'only blank lines';
  return new FileError(file, `no records in the file (${what}); expected one preference record per line, array element or row`);
}

/** Every distinct value of the label field, read once before mapping so the mapping can be checked against all of them. */
async function labelValuesIn(file: string, container: Container, field: string): Promise<string[]> {
  const seen = new Set<string>();
  for await (const item of readRecords(file, container)) if ('rec' in item) collectLabel(seen, getField(item.rec, field));
  return [...seen].sort();
}

function emptyReport(file: string, container: Container, format: string): LoadReport {
  return {
    file,
    container,
    format,
    records: 0,
    pairs: 0,
    ties: 0,
    skippedTies: 0,
    invalid: Object.fromEntries(INVALID_REASONS.map((r) => [r, 0])) as Record<InvalidReason, number>,
    invalidTotal: 0,
    invalidLines: {},
    examples: {},
    flagged: Object.fromEntries(ANSWER_FLAGS.map((r) => [r, 0])) as Record<AnswerFlag, number>,
    flaggedLines: {},
  };
}

const keepLine = (lines: number[], line: number): void => {
  if (lines.length < KEEP_LINES) lines.push(line);
};

export async function openPairs(file: string, opts: LoadOptions = {}): Promise<OpenedPairs> {
  const container = opts.container ?? (await detectContainer(file));
  const fields: FieldMap = { ...DEFAULT_FIELDS };
  for (const [k, v] of Object.entries(opts.fields ?? {})) if (v !== undefined) (fields as unknown as Record<string, unknown>)[k] = v;
  const named = opts.format ?? (usesGenericFlags(opts.fields) ? 'generic' : undefined);
  if (named === 'generic' && fields.label !== undefined) {
    const r = resolveLabelValues(fields.label, await labelValuesIn(file, container, fields.label), fields.labelValues);
    if ('refuse' in r) throw new FileError(file, r.refuse);
    fields.labelValues = r.values;
  }
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
  if (named !== undefined) format = formatByName(named, fields);
  else {
    const found = detectFormat(sample);
    if (!found) {
      await source.return(undefined);
      if (head.length === 0) throw await emptyFileError(file, container);
      const firstLine = head.find((h) => 'rec' in h)?.line ?? head[0]?.line ?? 0;
      if (sample.length === 0) {
        const err = head.find((h): h is { line: number; error: FormatError } => 'error' in h);
        throw new FileError(
          file,
          `no readable record among the first ${head.length} to tell the format from; the first: ${err?.error.message ?? 'none'}`,
        );
      }
      throw new FileError(file, undetectedError(sample).message, firstLine);
    }
    format = found;
  }

  const report = emptyReport(file, container, format.name);
  if (fields.labelValues && format.name === 'generic') report.labelValues = fields.labelValues;
  const maxPrompt = opts.maxPromptChars ?? DEFAULT_MAX_PROMPT_CHARS;
  const base = basename(file);
  const ids = new Map<number, number>(); // hash of (split, id) -> first line

  const reject = (err: FormatError): void => {
    if (!opts.skipInvalid) throw err;
    report.invalid[err.reason]++;
    report.invalidTotal++;
    keepLine((report.invalidLines[err.reason] ??= []), err.line);
    const ex = (report.examples[err.reason] ??= []);
    if (ex.length < KEEP_EXAMPLES) ex.push(err.message);
  };
  const asFormatError = (e: unknown, line: number): FormatError => {
    if (!(e instanceof FieldError)) throw e;
    return new FormatError(file, line, e.reason, e.field, e.message);
  };

  /** The checks, tie policy, id uniqueness and flags of one mapped pair; null when it is not yielded. */
  function accept(pair: PreferencePair, line: number, recordFlags: Iterable<AnswerFlag>): PreferencePair | null {
    const flags = new Set(recordFlags);
    try {
      for (const f of checkPair(pair, maxPrompt)) flags.add(f);
      const key = hash52(pair.split ?? '', pair.id);
      const prev = ids.get(key);
      if (prev !== undefined)
        throw new FieldError(
          'duplicate-id',
          'id',
          `id "${pair.id}" was used before, on line ${prev}; expected ids unique${pair.split ? ` within split ${pair.split}` : ''} (eval keys records by them)`,
        );
      ids.set(key, line);
    } catch (e) {
      reject(asFormatError(e, line));
      return null;
    }
    if (pair.tie) {
      if (opts.ties === 'skip') {
        report.skippedTies++;
        return null;
      }
      report.ties++;
    }
    for (const f of flags) {
      report.flagged[f]++;
      keepLine((report.flaggedLines[f] ??= []), line);
    }
    report.pairs++;
    return flags.size === 0 ? pair : { ...pair, meta: { ...pair.meta, flags: [...flags].sort() } };
  }

  type Held = { member: Member; line: number; flags: AnswerFlag[] };
  const groups = new Map<string, Held[]>();

  /** Grouped formats: each wrong answer with a right one of the same prompt, round robin, so every answer is judged once at least. */
  function* pairGroups(): Generator<LoadedPair> {
    for (const held of groups.values()) {
      const goods = held.filter((h) => h.member.good === true);
      const bads = held.filter((h) => h.member.good === false);
      for (const h of held) {
        const why =
          h.member.good === null
            ? (h.member.why ?? 'neither a right nor a wrong answer')
            : goods.length === 0
              ? 'no right answer to the same prompt to pair it with'
              : bads.length === 0
                ? 'no wrong answer to the same prompt to pair it with'
                : undefined;
        if (why) reject(new FormatError(file, h.line, 'unpaired', undefined, why));
      }
      if (goods.length === 0 || bads.length === 0) continue;
      const first = held[0] as Held;
      const baseId = first.member.id ?? `${base}:${first.line}`;
      for (let i = 0; i < Math.max(goods.length, bads.length); i++) {
        const g = goods[i % goods.length] as Held;
        const b = bads[i % bads.length] as Held;
        const m = g.member;
        const pair: PreferencePair = {
          id: `${baseId}#${i + 1}`,
          prompt: m.prompt,
          chosen: m.answer,
          rejected: b.member.answer,
          ...(m.category !== undefined && { category: m.category }),
          ...(m.subset !== undefined && { subset: m.subset }),
          meta: {
            ...m.meta,
            ...(b.member.meta?.['label'] !== undefined && { rejected_label: b.member.meta['label'] }),
            lines: { chosen: g.line, rejected: b.line },
          },
        };
        const ok = accept(pair, g.line, [...g.flags, ...b.flags]);
        if (ok) yield { pair: ok, line: g.line };
      }
    }
  }

  async function* pairs(): AsyncGenerator<LoadedPair> {
    const items = (async function* () {
      yield* head;
      yield* source;
    })();
    let prevLine = -1;
    let sameLine = 0;
    for await (const item of items) {
      report.records++;
      // One-line JSON documents hold several records per line: number them so fallback ids stay unique.
      sameLine = item.line === prevLine ? sameLine + 1 : 0;
      prevLine = item.line;
      if ('error' in item) {
        reject(item.error);
        continue;
      }
      const flags: AnswerFlag[] = [];
      const ctx: MapContext = {
        fallbackId: `${base}:${item.line}${sameLine ? `.${sameLine}` : ''}`,
        ...(item.group !== undefined && { group: item.group }),
        flag: (k) => flags.push(k),
      };
      if (format.grouped) {
        let member: Member;
        try {
          member = format.grouped.member(item.rec, ctx);
        } catch (e) {
          reject(asFormatError(e, item.line));
          continue;
        }
        let list = groups.get(member.key);
        if (!list) groups.set(member.key, (list = []));
        list.push({ member, line: item.line, flags });
        continue;
      }
      let mapped: PreferencePair | PreferencePair[];
      try {
        mapped = (format.map as NonNullable<FormatDef['map']>)(item.rec, ctx);
      } catch (e) {
        reject(asFormatError(e, item.line));
        continue;
      }
      for (const p of Array.isArray(mapped) ? mapped : [mapped]) {
        const ok = accept(p, item.line, flags);
        if (ok) yield { pair: ok, line: item.line };
      }
    }
    yield* pairGroups();
  }
  return { report, format, pairs: pairs() };
}

/** One line per reason: "identical 3 (lines 4, 9, 12), empty-field 1 (line 7)"; "" when nothing was skipped. */
export function invalidSummary(r: LoadReport): string {
  return INVALID_REASONS.filter((k) => r.invalid[k] > 0)
    .map((k) => `${k} ${r.invalid[k]}${linesNote(r.invalidLines[k], r.invalid[k])}`)
    .join(', ');
}

/** "empty-answer 2 (lines 3, 8)"; "" when no answer was flagged. */
export function flaggedSummary(r: LoadReport): string {
  return ANSWER_FLAGS.filter((k) => r.flagged[k] > 0)
    .map((k) => `${k} ${r.flagged[k]}${linesNote(r.flaggedLines[k], r.flagged[k])}`)
    .join(', ');
}

function linesNote(lines: number[] | undefined, n: number): string {
  if (!lines || lines.length === 0) return '';
  return ` (line${lines.length > 1 ? 's' : ''} ${lines.join(', ')}${n > lines.length ? ', …' : ''})`;
}
