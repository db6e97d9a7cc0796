// Data as TRL users hold it, for the recipes under TRL's names (train reward / dpo / sft) and for
// any recipe given a preference file in another format than genrm's own.
//
//   preference pairs   a PrefWorld folder, genrm's PreferencePair JSONL, or any format `genrm data`
//                      reads (TRL preference: prompt?/chosen/rejected as text or messages, explicit
//                      or implicit prompt; UltraFeedback, HH, RewardBench, ...), through
//                      src/data/formats, whose first bad record is an error naming file:line.
//   SFT examples       the chosen answers of preference pairs, or TRL's SFT formats (huggingface.co/
//                      docs/trl/dataset_formats): prompt + completion (text or messages),
//                      conversational `messages` (the last assistant turn is the target, everything
//                      before it the prompt), or language-modelling `text` (all of it the target).
// Chat messages become genrm's compact chat form (renderChat), as the embedded backend writes them.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { renderChat } from '../../backends/embedded/render.js';
import type { ChatMessage as BackendMessage } from '../../backends/types.js';
import { openPairs } from '../../data/formats/load.js';
import { parseJsonlLine } from '../../data/jsonl.js';
import { ChatMessageSchema, PromptSchema, type PreferencePair, type Prompt } from '../../data/pair.js';
import { loadPairData, pairDataOf, type PairData, type TextExample } from './data.js';

const chatText = (messages: readonly { role: string; content: string }[]): string => renderChat(messages as BackendMessage[]);

/** A prompt as the text an SFT example starts with: text as is, messages in the compact chat form. */
export function promptAsText(p: Prompt): string {
  return typeof p === 'string' ? p : chatText(p);
}

/**
 * Preference pairs of a file in a format other than genrm's own, read through src/data/formats;
 * undefined for a folder, a genrm PreferencePair file (loadPairData reads those as before) or a
 * file that holds no preference records (e.g. SFT data).
 */
export async function foreignPairData(
  path: string,
  opts: { evalPairs: number; seed: number },
): Promise<(PairData & { format: string }) | undefined> {
  if (!existsSync(path) || statSync(path).isDirectory()) return undefined;
  let opened;
  try {
    opened = await openPairs(path);
  } catch {
    return undefined; // not a preference format: the recipe reads it (or names what is wrong)
  }
  if (opened.format.name === 'genrm') {
    await opened.pairs.return(undefined);
    return undefined;
  }
  const pairs: PreferencePair[] = [];
  for await (const { pair } of opened.pairs) pairs.push(pair);
  return { ...pairDataOf({ path, isDir: false, trainFile: path, pairs, bytes: readFileSync(path) }, opts), format: opened.format.name };
}

/** Preference pairs from any source a recipe takes (see the top of this file). */
export async function loadPreferenceData(path: string, opts: { evalPairs: number; seed: number }): Promise<PairData> {
  return (await foreignPairData(path, opts)) ?? loadPairData(path, opts);
}

const Completion = z.union([z.string(), z.array(ChatMessageSchema).min(1)]);
const PromptCompletion = z.object({ prompt: PromptSchema, completion: Completion }).passthrough();
const Conversation = z.object({ messages: z.array(ChatMessageSchema).min(2) }).passthrough();
const LmText = z.object({ text: z.string().min(1) }).passthrough();
type SftRecord =
  | { kind: 'pc'; rec: z.infer<typeof PromptCompletion> }
  | { kind: 'chat'; rec: z.infer<typeof Conversation> }
  | { kind: 'text'; rec: z.infer<typeof LmText> };

/** A line as one of TRL's SFT records, picked by its fields; errors name file:line:field. */
function parseSftLine(line: string, file: string, n: number): SftRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    throw new Error(`${file}:${n}: not valid JSON (${(e as Error).message})`);
  }
  const has = (k: string): boolean => typeof raw === 'object' && raw !== null && k in raw;
  if (has('completion')) return { kind: 'pc', rec: parseJsonlLine(line, PromptCompletion, file, n) };
  if (has('messages')) return { kind: 'chat', rec: parseJsonlLine(line, Conversation, file, n) };
  if (has('text')) return { kind: 'text', rec: parseJsonlLine(line, LmText, file, n) };
  throw new Error(
    `${file}:${n}: expected a TRL SFT record (prompt + completion, messages, or text), found fields ${typeof raw === 'object' && raw !== null ? Object.keys(raw).join(', ') || 'none' : typeof raw}`,
  );
}

/** One SFT record as a (prompt, target) example; `where` names file:line in errors. */
function sftExample(r: SftRecord, where: string): Omit<TextExample, 'source'> {
  if (r.kind === 'pc') {
    const rec = r.rec;
    const c = rec.completion;
    const target = typeof c === 'string' ? c : c.map((m) => m.content).join('');
    if (typeof c !== 'string' && c.some((m) => m.role !== 'assistant'))
      throw new Error(
        `${where}: field "completion": expected assistant messages only, found role "${c.find((m) => m.role !== 'assistant')!.role}"`,
      );
    return { prompt: promptAsText(rec.prompt), target };
  }
  if (r.kind === 'chat') {
    const rec = r.rec;
    const last = rec.messages[rec.messages.length - 1]!;
    if (last.role !== 'assistant')
      throw new Error(
        `${where}: field "messages": the last message must be the assistant's (the turn trained on), found role "${last.role}"`,
      );
    return { prompt: chatText(rec.messages.slice(0, -1)), target: last.content };
  }
  return { prompt: '', target: r.rec.text };
}

export interface SftData {
  examples: TextExample[];
  /** The source pair (or record) of each example, for the validation split. */
  group: (ex: TextExample) => string;
  /** "sha256:<hex>" of the file trained on. */
  hash: string;
  /** What was read, in words. */
  from: string;
}

/** SFT examples from a PrefWorld folder or preference file (chosen answers) or a TRL SFT file. */
export async function loadSftData(path: string, seed: number): Promise<SftData> {
  if (!existsSync(path))
    throw new Error(
      `${path}: no such file or folder (expected a PrefWorld folder, preference pairs, or TRL SFT JSONL: prompt+completion, messages or text)`,
    );
  const group = (ex: TextExample): string => ex.source;
  const isSft = !statSync(path).isDirectory() && firstRecordIsSft(path);
  if (!isSft) {
    const d = await loadPreferenceData(path, { evalPairs: 0, seed });
    return {
      examples: d.train.map((p) => ({ prompt: promptAsText(p.prompt), target: p.chosen, source: `pair ${p.id}` })),
      group,
      hash: d.hash,
      from: `the chosen answers of ${d.train.length} pairs in ${d.trainFile}`,
    };
  }
  const bytes = readFileSync(path);
  const examples: TextExample[] = [];
  bytes
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      examples.push({ ...sftExample(parseSftLine(line, path, i + 1), `${path}:${i + 1}`), source: `${path}:${i + 1}` });
    });
  if (examples.length === 0) throw new Error(`${path}: no records`);
  return {
    examples,
    group,
    hash: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    from: `${examples.length} SFT records in ${path}`,
  };
}

/** Whether a file's first record is TRL SFT data (completion, messages or text) rather than a preference pair. */
function firstRecordIsSft(path: string): boolean {
  const first = readFileSync(path, 'utf8')
    .split('\n')
    .find((l) => l.trim() !== '');
  if (first === undefined) return false;
  try {
    const rec = JSON.parse(first) as Record<string, unknown>;
    return typeof rec === 'object' && rec !== null && !('chosen' in rec) && ('completion' in rec || 'messages' in rec || 'text' in rec);
  } catch {
    return false;
  }
}
