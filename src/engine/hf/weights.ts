// The weights of a Hugging Face checkpoint folder: `model.safetensors`, or shards listed by
// `model.safetensors.index.json` ({"weight_map": {tensor name: shard file}}). Every tensor is read
// as float32 (bf16/fp16 widened exactly) and checked against the names and shapes the config
// implies; a mismatch names the tensor, the file and the expected shape.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedTensors } from '../checkpoint.js';
import type { ModelConfig } from '../model/config.js';
import { readSafetensors, type ReadTensor } from '../safetensors.js';

export const WEIGHTS_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** Every tensor an HF causal LM of this config holds, [out, in] Linear shapes (Qwen2: plus q/k/v biases). */
export function expectedHfTensors(config: ModelConfig): Array<{ name: string; shape: number[] }> {
  const out = expectedTensors(config, { kind: 'lm' });
  if (config.attentionBias !== true) return out;
  const hd = config.dModel / config.nHeads;
  for (let i = 0; i < config.nLayers; i++) {
    const p = `model.layers.${i}.self_attn.`;
    out.push(
      { name: `${p}q_proj.bias`, shape: [config.nHeads * hd] },
      { name: `${p}k_proj.bias`, shape: [config.nKvHeads * hd] },
      { name: `${p}v_proj.bias`, shape: [config.nKvHeads * hd] },
    );
  }
  return out;
}

// Buffers some exporters leave in the file that carry no weights (recomputed from the config).
const IGNORED = /\.rotary_emb\.inv_freq$/;

/** Reads all weights of the folder; `where` says which file each tensor came from. */
export function readHfWeights(dir: string): { tensors: Map<string, ReadTensor>; where: Map<string, string> } {
  const tensors = new Map<string, ReadTensor>();
  const where = new Map<string, string>();
  const indexPath = join(dir, INDEX_FILE);
  let files: string[];
  let weightMap: Record<string, string> | null = null;
  if (existsSync(indexPath)) {
    let idx: unknown;
    try {
      idx = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      throw new Error(`${indexPath}: not valid JSON (${(e as Error).message})`);
    }
    const wm = (idx as { weight_map?: unknown } | null)?.weight_map;
    if (typeof wm !== 'object' || wm === null || Array.isArray(wm))
      throw new Error(`${indexPath}: "weight_map" must be an object of tensor name -> shard file`);
    for (const [name, f] of Object.entries(wm))
      if (typeof f !== 'string' || f.includes('/') || f.includes('\\'))
        throw new Error(`${indexPath}: weight_map["${name}"] must be a file name in the folder, got ${JSON.stringify(f)}`);
    weightMap = wm as Record<string, string>;
    files = [...new Set(Object.values(weightMap))];
  } else if (existsSync(join(dir, WEIGHTS_FILE))) files = [WEIGHTS_FILE];
  else throw new Error(`${dir}: no ${WEIGHTS_FILE} or ${INDEX_FILE} (is this a Hugging Face model folder?)`);
  for (const f of files) {
    const path = join(dir, f);
    for (const [name, t] of readSafetensors(path).tensors) {
      if (where.has(name)) throw new Error(`${path}: tensor '${name}' also appears in ${where.get(name)}`);
      if (weightMap !== null && weightMap[name] !== f)
        throw new Error(
          `${path}: tensor '${name}' is not listed for this shard in ${INDEX_FILE} (it says ${JSON.stringify(weightMap[name] ?? null)})`,
        );
      tensors.set(name, t);
      where.set(name, path);
    }
  }
  if (weightMap !== null)
    for (const name of Object.keys(weightMap))
      if (!tensors.has(name)) throw new Error(`${join(dir, weightMap[name]!)}: missing tensor '${name}' that ${INDEX_FILE} lists there`);
  return { tensors, where };
}

/** Checks names and shapes; returns the tensors the model uses (extra harmless buffers dropped). */
export function checkHfWeights(
  config: ModelConfig,
  tensors: ReadonlyMap<string, ReadTensor>,
  where: ReadonlyMap<string, string>,
  dir: string,
): Map<string, ReadTensor> {
  const expected = expectedHfTensors(config);
  const out = new Map<string, ReadTensor>();
  for (const { name, shape } of expected) {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`${dir}: missing tensor '${name}' (expected shape [${shape.join(', ')}] from config.json)`);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
      throw new Error(
        `${where.get(name) ?? dir}: tensor '${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] from config.json`,
      );
    out.set(name, t);
  }
  const want = new Set(expected.map((e) => e.name));
  for (const name of tensors.keys()) {
    if (want.has(name) || IGNORED.test(name)) continue;
    // Some tied checkpoints still store the head; the engine uses the embedding, as HF does.
    if (name === 'lm_head.weight' && config.tieEmbeddings) continue;
    throw new Error(
      `${where.get(name) ?? dir}: unexpected tensor '${name}' (not part of a ${config.attentionBias ? 'qwen2' : 'llama'} model with this config.json)`,
    );
  }
  return out;
}
