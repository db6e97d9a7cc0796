// User template files. Three shapes:
//   *.json / *.yaml / *.yml: { kind?: "pair" | "point", system?: string, user: string }  (chat)
//                         or { kind?: "pair" | "point", text: string }                     (completion)
//   anything else: plain text, used as the user message of a chat prompt.
// Placeholders: pair templates need {question}, {answer_a}, {answer_b}; pointwise ones need
// {question}, {answer}. `{{` and `}}` write literal braces. Checked on load: a missing or unknown
// placeholder is an error naming it and the file. Filling is one pass, so an answer that itself
// contains "{answer_b}" is inserted verbatim, never expanded.
//
// A file template is one fixed prompt: the judge mode (direct / CoT) is whatever its text asks for.
import { GenrmError } from '../util/errors.js';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ChatMessage, Prompt } from '../backends/types.js';
import type { PairTemplate, PointTemplate, Template } from './templates.js';

export class TemplateError extends GenrmError {
  constructor(message: string) {
    super(message, 'bad_input');
    this.name = 'TemplateError';
  }
}

const REQUIRED = {
  pair: ['question', 'answer_a', 'answer_b'],
  point: ['question', 'answer'],
} as const;

type Piece = { lit: string } | { name: string };

/** Split a template string into literal text and placeholders; `where` names it in errors. */
export function parsePlaceholders(src: string, where: string): Piece[] {
  const out: Piece[] = [];
  let lit = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '{' && src[i + 1] === '{') {
      lit += '{';
      i++;
      continue;
    }
    if (c === '}' && src[i + 1] === '}') {
      lit += '}';
      i++;
      continue;
    }
    if (c === '{') {
      const end = src.indexOf('}', i);
      if (end < 0) throw new TemplateError(`${where}: unclosed "{" at offset ${i} (write "{{" for a literal brace)`);
      const name = src.slice(i + 1, end).trim();
      if (!/^[a-z_]+$/i.test(name)) throw new TemplateError(`${where}: bad placeholder "{${name}}" at offset ${i}`);
      if (lit) out.push({ lit });
      lit = '';
      out.push({ name });
      i = end;
      continue;
    }
    if (c === '}') throw new TemplateError(`${where}: stray "}" at offset ${i} (write "}}" for a literal brace)`);
    lit += c;
  }
  if (lit) out.push({ lit });
  return out;
}

function fill(pieces: Piece[], values: Record<string, string>): string {
  return pieces.map((p) => ('lit' in p ? p.lit : (values[p.name] ?? ''))).join('');
}

/** Check one kind's placeholders across all parts of a template; throws naming what is wrong. */
function checkPlaceholders(kind: 'pair' | 'point', parts: { where: string; pieces: Piece[] }[]): void {
  const required: readonly string[] = REQUIRED[kind];
  const seen = new Set<string>();
  for (const { where, pieces } of parts) {
    for (const p of pieces) {
      if (!('name' in p)) continue;
      if (!required.includes(p.name)) {
        throw new TemplateError(
          `${where}: unknown placeholder {${p.name}} (a ${kind} template takes ${required.map((r) => `{${r}}`).join(', ')})`,
        );
      }
      seen.add(p.name);
    }
  }
  const missing = required.filter((r) => !seen.has(r));
  if (missing.length > 0) {
    throw new TemplateError(`${parts.map((p) => p.where).join(' + ')}: missing placeholder ${missing.map((m) => `{${m}}`).join(', ')}`);
  }
}

export interface TemplateSpec {
  kind?: 'pair' | 'point';
  system?: string;
  user?: string;
  text?: string;
}

/** Build a template from a spec (already read from a file); `source` names it in errors. */
export function templateFromSpec(spec: TemplateSpec, source: string): Template {
  const kind = spec.kind ?? 'pair';
  if (kind !== 'pair' && kind !== 'point')
    throw new TemplateError(`${source}: kind must be "pair" or "point", got ${JSON.stringify(kind)}`);
  for (const f of ['system', 'user', 'text'] as const) {
    if (spec[f] !== undefined && typeof spec[f] !== 'string') throw new TemplateError(`${source}: field "${f}" must be a string`);
  }
  if ((spec.user === undefined) === (spec.text === undefined)) {
    throw new TemplateError(`${source}: give exactly one of "user" (chat prompt) or "text" (completion prompt)`);
  }
  if (spec.text !== undefined && spec.system !== undefined)
    throw new TemplateError(`${source}: "system" goes with "user", not with "text"`);

  const sys = spec.system !== undefined ? parsePlaceholders(spec.system, `${source} (system)`) : undefined;
  const main = parsePlaceholders((spec.user ?? spec.text) as string, `${source} (${spec.user !== undefined ? 'user' : 'text'})`);
  const parts = [{ where: `${source} (${spec.user !== undefined ? 'user' : 'text'})`, pieces: main }];
  if (sys) parts.push({ where: `${source} (system)`, pieces: sys });
  checkPlaceholders(kind, parts);

  const render = (values: Record<string, string>): Prompt => {
    if (spec.text !== undefined) return fill(main, values);
    const msgs: ChatMessage[] = [];
    if (sys) msgs.push({ role: 'system', content: fill(sys, values) });
    msgs.push({ role: 'user', content: fill(main, values) });
    return msgs;
  };
  if (kind === 'pair') {
    const t: PairTemplate = {
      name: source,
      kind: 'pair',
      render: (f) => render({ question: f.question, answer_a: f.answerA, answer_b: f.answerB }),
    };
    return t;
  }
  const t: PointTemplate = { name: source, kind: 'point', render: (f) => render({ question: f.question, answer: f.answer }) };
  return t;
}

/** Load a template file (see the header for its shapes). */
export function loadTemplateFile(path: string, kind?: 'pair' | 'point'): Template {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TemplateError(`${path}: cannot read template file (${(e as Error).message})`);
  }
  const ext = extname(path).toLowerCase();
  let spec: TemplateSpec;
  if (ext === '.json' || ext === '.yaml' || ext === '.yml') {
    let data: unknown;
    try {
      data = ext === '.json' ? JSON.parse(raw) : parseYaml(raw);
    } catch (e) {
      throw new TemplateError(`${path}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new TemplateError(`${path}: expected an object with "user" or "text"`);
    const known = new Set(['kind', 'system', 'user', 'text']);
    for (const k of Object.keys(data))
      if (!known.has(k)) throw new TemplateError(`${path}: unknown field "${k}" (expected kind, system, user, text)`);
    spec = data as TemplateSpec;
  } else {
    spec = { user: raw };
  }
  if (kind !== undefined) {
    if (spec.kind !== undefined && spec.kind !== kind)
      throw new TemplateError(`${path}: is a ${spec.kind} template, a ${kind} template is needed here`);
    spec = { ...spec, kind };
  }
  return templateFromSpec(spec, path);
}
