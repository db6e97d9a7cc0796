// The method name records are filed under, from how a checkpoint was made (genrm.json provenance):
// a recipe's output is named after the recipe; a pretrained base judged as is is the zero-shot
// judge ('zero-shot' direct, 'zero-shot-cot' with CoT); anything else is named by its folder.
import { basename } from 'node:path';
import { hasCheckpointMeta, readCheckpointMeta } from '../../engine/checkpoint.js';
import { METHODS } from '../records.js';

export function methodFor(model: string, mode: 'direct' | 'cot'): string {
  const zeroShot = mode === 'cot' ? METHODS.zeroShotCot : METHODS.zeroShot;
  if (/^https?:\/\//.test(model)) return zeroShot; // a server's model is judged as it is
  if (!hasCheckpointMeta(model)) return basename(model);
  try {
    const recipe = (readCheckpointMeta(model).provenance.config as { recipe?: unknown } | null)?.recipe;
    return typeof recipe === 'string' ? recipe : zeroShot;
  } catch {
    return basename(model);
  }
}
