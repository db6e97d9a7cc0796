// The method name records are filed under, from how a checkpoint was made (genrm.json provenance):
// a recipe's output is named after the recipe; a pretrained base judged as is is the zero-shot
// judge ('zero-shot' direct, 'zero-shot-cot' with CoT); anything else is named by its folder.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { METHODS } from '../records.js';

export function methodFor(model: string, mode: 'direct' | 'cot'): string {
  const zeroShot = mode === 'cot' ? METHODS.zeroShotCot : METHODS.zeroShot;
  if (/^https?:\/\//.test(model)) return zeroShot; // a server's model is judged as it is
  const f = join(model, 'genrm.json');
  if (!existsSync(f)) return basename(model);
  try {
    const g = JSON.parse(readFileSync(f, 'utf8')) as { provenance?: { config?: { recipe?: unknown } | null } };
    const recipe = g.provenance?.config?.recipe;
    return typeof recipe === 'string' ? recipe : zeroShot;
  } catch {
    return basename(model);
  }
}
