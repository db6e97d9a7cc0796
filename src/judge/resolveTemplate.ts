// Pick the template a judge uses: a built-in name, a file path, or "auto" — genrm's compact format
// for backends that take text and have single-token verdicts (genrm's own models), the chat form
// for everything else (instruction LLMs behind chat APIs).
import { existsSync } from 'node:fs';
import type { Capabilities } from '../backends/types.js';
import { loadTemplateFile, TemplateError } from './templateFile.js';
import { BUILTIN_TEMPLATES, type PairTemplate, type PointTemplate, type Template } from './templates.js';

export function resolveTemplate(spec: string, kind: 'pair', caps: Capabilities): PairTemplate;
export function resolveTemplate(spec: string, kind: 'point', caps: Capabilities): PointTemplate;
export function resolveTemplate(spec: string, kind: 'pair' | 'point', caps: Capabilities): Template {
  let t: Template | undefined;
  if (spec === 'auto') {
    const compact = caps.prompts.text && caps.singleTokenVerdicts;
    t = BUILTIN_TEMPLATES[compact ? (kind === 'pair' ? 'compact' : 'compact-pointwise') : kind === 'pair' ? 'chat' : 'chat-pointwise'];
  } else if (Object.hasOwn(BUILTIN_TEMPLATES, spec)) {
    t = BUILTIN_TEMPLATES[spec];
  } else if (existsSync(spec)) {
    t = loadTemplateFile(spec, kind);
  } else {
    throw new TemplateError(`template "${spec}": not a built-in (${Object.keys(BUILTIN_TEMPLATES).join(', ')}) and no such file`);
  }
  if (!t || t.kind !== kind) throw new TemplateError(`template "${spec}" is a ${t?.kind} template; a ${kind} template is needed`);
  return t;
}
