// Numeric flags, parsed one way for every command: the flag's name in the message, the bound
// that was broken, the text that was given. Ranges beyond these bounds are the config schemas'.
import { CliError } from './errors.js';

export interface NumberBounds {
  /** Smallest value allowed (inclusive). Default: none. */
  min?: number;
  /** Largest value allowed (inclusive). Default: none. */
  max?: number;
}

function bounded(flag: string, v: string, x: number, what: string, b: NumberBounds): number {
  const range =
    b.min !== undefined && b.max !== undefined
      ? ` in [${b.min}, ${b.max}]`
      : b.min !== undefined
        ? ` >= ${b.min}`
        : b.max !== undefined
          ? ` <= ${b.max}`
          : '';
  if ((b.min !== undefined && x < b.min) || (b.max !== undefined && x > b.max))
    throw new CliError(`${flag}: expected ${what}${range}, got "${v}"`);
  return x;
}

/** An integer flag (`--votes 8`), or undefined when absent; `flag` is written as the user types it. */
export function intFlag(flag: string, v: string | undefined, b: NumberBounds = {}): number | undefined {
  if (v === undefined) return undefined;
  const range = b.min !== undefined && b.max !== undefined ? ` in [${b.min}, ${b.max}]` : b.min !== undefined ? ` >= ${b.min}` : '';
  if (!/^-?\d+$/.test(v.trim())) throw new CliError(`${flag}: expected an integer${range}, got "${v}"`);
  return bounded(flag, v, Number(v), 'an integer', b);
}

/** A number flag (`--temperature 0.7`), or undefined when absent. */
export function numFlag(flag: string, v: string | undefined, b: NumberBounds = {}): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new CliError(`${flag}: expected a number, got "${v}"`);
  return bounded(flag, v, x, 'a number', b);
}
