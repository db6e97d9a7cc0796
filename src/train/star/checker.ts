// Whether a rationale's own result is right, where the data can tell. PrefWorld can: each pair
// names its task family (`subset`) and instance (`meta.instance`), from which the world's spec
// rebuilds the task and its checker (src/data/world/rationale.ts grades the rationale). Imported
// data has no checker: the sampler then records null and the report says so.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PreferencePair } from '../../data/pair.js';
import { registry, type Registry } from '../../data/world/families.js';
import { loadSpec, SPEC_FILE } from '../../data/world/generate.js';
import { gradeRationale, type RationaleGrade } from '../../data/world/rationale.js';
import type { Spec } from '../../data/world/spec.js';

/** For one pair: grades a completion (its worked result, checks and verdict), or null if it cannot. */
export type ResultChecker = (pair: PreferencePair) => ((completion: string) => RationaleGrade) | null;

/** PrefWorld's checker for pairs of a world with this spec (pairs it cannot place get null). */
export function worldChecker(spec: Spec): ResultChecker {
  const reg: Registry = registry(spec);
  return (pair) => {
    const family = pair.subset;
    const instance = pair.meta?.instance;
    if (typeof family !== 'string' || typeof instance !== 'string' || !reg.all.has(family)) return null;
    const task = reg.task(family, instance);
    return (completion) => gradeRationale(task, completion);
  };
}

/**
 * The checker for a data path: a PrefWorld folder, or a split file inside one (spec.json beside
 * it). Anything else: null (no checker).
 */
export function checkerFor(dataPath: string): ResultChecker | null {
  for (const dir of [dataPath, dirname(dataPath)]) if (existsSync(join(dir, SPEC_FILE))) return worldChecker(loadSpec(dir));
  return null;
}
