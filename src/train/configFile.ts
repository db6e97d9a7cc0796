// Config files for training commands: JSON or YAML (by extension; YAML is a superset of JSON so
// anything else is read as YAML), validated by the same zod schema as the command's flags. Keys
// match the flags' camelCase names; flags given on the command line override the file.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { formatZodIssue } from './config.js';

/** Reads a config file into a plain object; errors name the file. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new Error(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(e as Error).message.split('\n')[0]})`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}: expected a mapping of option names to values`);
  return value as Record<string, unknown>;
}

/**
 * Validates `{...file, ...flags}` with `schema` (which should be strict, so unknown keys fail).
 * `source` names where the values came from in errors (the file path, or "flags").
 */
export function resolveConfig<S extends z.ZodType>(schema: S, fromFile: Record<string, unknown>, flags: Record<string, unknown>, source: string): z.infer<S> {
  const merged: Record<string, unknown> = { ...fromFile };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v;
  const r = schema.safeParse(merged);
  if (!r.success) throw new Error(`${source}: ${formatZodIssue(r.error.issues[0])}`);
  return r.data;
}
