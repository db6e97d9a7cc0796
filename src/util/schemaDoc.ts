// A config schema's documentation, read from the zod schema itself: each field's type, bounds,
// default and `.describe()` text. `--help` listings and docs/CONFIG.md are printed from it, so
// what they say is what the schema validates.
import { z } from 'zod';

export interface OptionDoc {
  key: string;
  /** The values it takes: "integer in [1, 10,000,000]", "'error' | 'skip'", "boolean", ... */
  type: string;
  /** The default as a config file would spell it; undefined: none (the option is optional or required). */
  default: string | undefined;
  /** The field's `.describe()` text ('' when it has none). */
  description: string;
}

type Json = Record<string, unknown>;

/** A number as written in the docs: thousands grouped in integers from 10,000, small ones as 3e-4. */
function num(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) >= 10_000) return x.toLocaleString('en-US');
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
}

/** A value as a config file would spell it: 'text', 3e-4, true, []. */
export function formatValue(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : typeof v === 'number' ? num(v) : JSON.stringify(v);
}
const value = formatValue;

function typeOf(j: Json): string {
  if (Array.isArray(j.enum)) return (j.enum as unknown[]).map(value).join(' | ');
  if (j.const !== undefined) return value(j.const);
  if (Array.isArray(j.anyOf)) return (j.anyOf as Json[]).map(typeOf).join(' or ');
  const t = j.type;
  if (t === 'integer' || t === 'number') {
    const lo =
      typeof j.exclusiveMinimum === 'number' ? `(${num(j.exclusiveMinimum)}` : typeof j.minimum === 'number' ? `[${num(j.minimum)}` : null;
    const hi =
      typeof j.exclusiveMaximum === 'number' ? `${num(j.exclusiveMaximum)})` : typeof j.maximum === 'number' ? `${num(j.maximum)}]` : null;
    const safe = (x: unknown): boolean => typeof x === 'number' && Math.abs(x) < Number.MAX_SAFE_INTEGER;
    // zod writes the safe-integer range for .int() without bounds: not a bound anyone chose.
    if (lo && hi && safe(j.minimum ?? j.exclusiveMinimum) && safe(j.maximum ?? j.exclusiveMaximum)) return `${t} in ${lo}, ${hi}`;
    if (lo && safe(j.minimum ?? j.exclusiveMinimum)) return `${t} ${lo.startsWith('(') ? '>' : '≥'} ${lo.slice(1)}`;
    if (hi && safe(j.maximum ?? j.exclusiveMaximum)) return `${t} ${hi.endsWith(')') ? '<' : '≤'} ${hi.slice(0, -1)}`;
    return String(t);
  }
  if (t === 'array') return `list of ${typeOf((j.items as Json | undefined) ?? {})}`;
  if (t === 'object') return 'object';
  return typeof t === 'string' ? t : 'any';
}

/** Every field of a zod object schema, in the schema's order. `defaults` replaces what the schema says (e.g. per-preset values). */
export function optionDocs(schema: z.ZodObject, defaults: Readonly<Record<string, string>> = {}): OptionDoc[] {
  return Object.entries(schema.shape).map(([key, field]) => {
    const j = z.toJSONSchema(field as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Json;
    const dflt = defaults[key] ?? (j.default !== undefined ? value(j.default) : undefined);
    return { key, type: typeOf(j), default: dflt, description: (field as z.ZodType).description ?? '' };
  });
}

/** A field's default as a flag's help says it ("(default 8)", "(default auto)"): read off the schema, so the help cannot drift. */
export function flagDefault(schema: z.ZodObject, key: string): string {
  const field = schema.shape[key] as z.ZodType | undefined;
  const d = field ? (z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as Json).default : undefined;
  if (d === undefined) throw new Error(`flagDefault: ${key} has no default in the schema`);
  return typeof d === 'string' ? d : formatValue(d);
}

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines;
}

/** Options as a terminal listing under a heading: the key, its values and default on one line, the description wrapped under it. */
export function formatOptionDocs(heading: string, docs: readonly OptionDoc[], width = 100): string {
  const out: string[] = wrapText(heading, width);
  for (const d of docs) {
    out.push(`  ${d.key}  (${d.type}${d.default !== undefined ? `; default ${d.default}` : ''})`);
    for (const l of wrapText(d.description, Math.max(40, width - 6))) out.push(`      ${l}`);
  }
  return out.join('\n');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Options as a Markdown table: option, values, default, description. */
export function markdownOptionDocs(docs: readonly OptionDoc[]): string {
  const rows = docs.map(
    (d) => `| \`${d.key}\` | ${cell(d.type)} | ${d.default !== undefined ? `\`${cell(d.default)}\`` : '—'} | ${cell(d.description)} |`,
  );
  return ['| Option | Values | Default | What it controls, and why the default |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
