// The registry of PrefWorld's task families, bound to a spec (the safety family takes its
// topics and prompts from it).
import { add, compare, digitsum, mul1, sub } from './arith.js';
import { max, min, sort } from './lists.js';
import { makeSafety } from './safety.js';
import type { Spec } from './spec.js';
import { count, nextletter, reverse } from './strings.js';
import type { Family, Task } from './task.js';

export const PURE_FAMILIES: readonly Family[] = [add, sub, mul1, compare, digitsum, sort, max, min, count, reverse, nextletter];

export interface Registry {
  /** Every family; safety draws from all topics. */
  all: Map<string, Family>;
  /** The safety family restricted to train topics / to OOD topics. */
  safetyTrain: Family;
  safetyOod: Family;
  get(name: string): Family;
  /** Rebuilds a task from a record's family name and instance key. */
  task(family: string, key: string): Task;
}

export function registry(spec: Spec): Registry {
  const { topics, prompts } = spec.safety;
  const all = new Map<string, Family>(PURE_FAMILIES.map((f) => [f.name, f]));
  all.set('safety', makeSafety(topics, prompts, 'all'));
  for (const [name, fs] of Object.entries(spec.families)) {
    const f = all.get(name);
    if (!f) throw new Error(`spec: field "families.${name}": unknown family`);
    for (const d of [...fs.train, ...fs.ood])
      if (!f.levels.includes(d))
        throw new Error(`spec: field "families.${name}": difficulty ${d} not supported (levels ${f.levels.join(',')})`);
  }
  const get = (name: string): Family => {
    const f = all.get(name);
    if (!f) throw new Error(`unknown family "${name}"`);
    return f;
  };
  return {
    all,
    safetyTrain: makeSafety(topics, prompts, 'train'),
    safetyOod: makeSafety(topics, prompts, 'ood'),
    get,
    task: (family, key) => get(family).fromKey(key),
  };
}
