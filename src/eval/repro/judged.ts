// Which models a run has judged already. A judgment depends only on the model (its weights and
// tokenizer), the judge mode and the eval settings, which are the same for every method of a run:
// a trained model that kept its starting weights (early stopping's best check came before the
// first update) or a STaR iteration that changed nothing is judged once, and its records are
// copied under the new method's name (identical, pair by pair, to judging it again).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../../engine/safetensors.js';
import { readRecordsAll, writeRecords, type JudgeRecord } from '../records.js';

/** sha256 over the tokenizer file and every tensor (name, shape, values as float32): an F16 base and its F32 copy agree. */
export function modelKey(dir: string): string {
  const h = createHash('sha256').update(readFileSync(join(dir, 'tokenizer.json')));
  const { tensors } = readSafetensors(join(dir, 'model.safetensors'));
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    h.update(`${name}:${t.shape.join('x')}\n`).update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

export class JudgedModels {
  private readonly files = new Map<string, string>();
  /** modelKey per folder: a model is read and hashed once however often it is looked up. */
  private readonly keys = new Map<string, string>();

  private keyOf(dir: string): string {
    let k = this.keys.get(dir);
    if (k === undefined) this.keys.set(dir, (k = modelKey(dir)));
    return k;
  }

  /** Records that `file` holds the judgments of the model in `dir` judged `how` (mode and votes, e.g. "cot/32"). */
  add(dir: string, how: string, file: string): void {
    this.files.set(`${how}:${this.keyOf(dir)}`, file);
  }

  /**
   * Writes to `file` the judgments of an equal model judged before, relabelled with `method`
   * (and `iteration`), and returns true; false when no equal model was judged the same way.
   */
  async reuse(dir: string, how: string, file: string, method: string, iteration?: number): Promise<boolean> {
    const key = `${how}:${this.keyOf(dir)}`;
    const from = this.files.get(key);
    if (from === undefined) return false;
    const recs: JudgeRecord[] = (await readRecordsAll(from)).map(({ iteration: _drop, ...r }) => ({
      ...r,
      method,
      ...(iteration !== undefined ? { iteration } : {}),
    }));
    await writeRecords(file, recs);
    this.files.set(key, file);
    return true;
  }
}
