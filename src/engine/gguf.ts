// GGUF export: a genrm language model as one GGUF v3 file in llama.cpp's `llama` architecture
// layout, so llama.cpp (and everything built on it) can run it.
//
// File layout (ggml docs/gguf.md): magic "GGUF", version 3 (u32), tensor count and metadata count
// (u64), metadata key/values (key = u64-length string, u32 value type, value), tensor infos (name,
// u32 n_dims, u64 dims with the fastest-varying first, u32 ggml type, u64 offset from the data
// start), padding to `general.alignment` (32), then each tensor's bytes at its aligned offset.
// All little-endian.
//
// Conventions (from llama.cpp's convert_hf_to_gguf.py, LlamaModel): HF tensor names map to GGML
// ones (model.layers.N.self_attn.q_proj.weight -> blk.N.attn_q.weight, ...); a PyTorch [out, in]
// matrix is written as is, its GGML dims being [in, out]; and q/k projection rows are permuted
// from HF's rotate-half RoPE (pairs (i, i + hd/2) of each head) to GGML's interleaved-pair RoPE
// for the llama arch (pairs (2i, 2i + 1)): within each head, new row 2i + j = old row j*hd/2 + i.
// 1-D tensors (norms) stay F32 whatever --dtype says, as the converter does.
//
// Tokenizer keys (gguf-py constants, Keys.Tokenizer): `tokenizer.ggml.pre` = "gpt-2", so
// llama.cpp splits words with GPT-2's pattern as genrm's tokenizer does (without it llama.cpp
// falls back to a default pattern that cuts punctuation differently); the special tokens are
// control tokens (type 3), which llama.cpp parses from prompt text as single ids (the verdicts
// [[A]] / [[B]] a judge reads); `tokenizer.chat_template` is genrm's compact chat form
// (tokenizer/chatTemplate.ts), which a GGUF consumer renders chat messages with.
import type { ModelConfig } from './model/config.js';
import { validateConfig } from './model/params.js';
import { writeFileAtomic } from './atomic.js';
import { f32ToF16Bits } from './safetensors.js';
import { bytesToSymbols } from './tokenizer/bytes.js';
import type { Tokenizer } from './tokenizer/index.js';
import { COMPACT_CHAT_TEMPLATE } from './tokenizer/chatTemplate.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32; // the spec's default; written explicitly as general.alignment
/** Metadata value types (gguf.md). */
export const GGUF_TYPE = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
/** ggml tensor types genrm writes. */
export const GGML_TYPE = { F32: 0, F16: 1 } as const;
/** llama.cpp token types: 1 normal, 3 control (special tokens). */
const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;

export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: string[] }
  | { type: 'i32[]'; value: number[] };

export interface GgufTensor {
  name: string;
  /** PyTorch order (slowest first), e.g. [out, in]; written reversed as GGML dims. */
  shape: number[];
  data: Float32Array;
  dtype: 'F32' | 'F16';
}

/** Rows of a q or k projection (heads*hd, d) reordered from rotate-half to interleaved RoPE pairs. */
export function permuteForGgmlRope(w: Float32Array, heads: number, headDim: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = headDim / 2;
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (let j = 0; j < 2; j++) {
        const src = (h * headDim + j * half + i) * cols;
        const dst = (h * headDim + 2 * i + j) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
  return out;
}

/** Metadata and tensors of a genrm model in llama.cpp's `llama` layout. */
export interface GgufWriteOptions {
  /** Matrix precision; default F32 (exact). Norms stay F32. */
  dtype?: 'F32' | 'F16';
  /** general.name; default "genrm". */
  name?: string;
  /** tokenizer.chat_template; default genrm's compact chat form. */
  chatTemplate?: string;
}

export function llamaGguf(
  config: ModelConfig,
  weights: ReadonlyMap<string, { data: Float32Array }>,
  tokenizer: Tokenizer,
  opts: GgufWriteOptions = {},
): { metadata: Array<[string, GgufValue]>; tensors: GgufTensor[] } {
  const hd = validateConfig(config);
  if (config.attentionBias === true)
    throw new Error('gguf export: models with attention biases (Qwen2) are not supported by the llama layout genrm writes');
  if (config.ropeScaling !== undefined)
    throw new Error(
      `gguf export: rope_scaling "${config.ropeScaling.type}" is not written by genrm's exporter; export a model without RoPE scaling`,
    );
  if (tokenizer.vocabSize !== config.vocabSize)
    throw new Error(`gguf export: tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabSize is ${config.vocabSize}`);
  const dtype = opts.dtype ?? 'F32';
  const get = (name: string): Float32Array => {
    const t = weights.get(name);
    if (t === undefined) throw new Error(`gguf export: missing tensor '${name}'`);
    return t.data;
  };
  const d = config.dModel;
  const tensors: GgufTensor[] = [];
  const mat = (name: string, shape: number[], data: Float32Array): void => void tensors.push({ name, shape, data, dtype });
  const vec = (name: string, data: Float32Array): void => void tensors.push({ name, shape: [data.length], data, dtype: 'F32' });
  mat('token_embd.weight', [config.vocabSize, d], get('model.embed_tokens.weight'));
  for (let i = 0; i < config.nLayers; i++) {
    const p = `model.layers.${i}.`;
    const b = `blk.${i}.`;
    vec(`${b}attn_norm.weight`, get(`${p}input_layernorm.weight`));
    mat(`${b}attn_q.weight`, [config.nHeads * hd, d], permuteForGgmlRope(get(`${p}self_attn.q_proj.weight`), config.nHeads, hd, d));
    mat(`${b}attn_k.weight`, [config.nKvHeads * hd, d], permuteForGgmlRope(get(`${p}self_attn.k_proj.weight`), config.nKvHeads, hd, d));
    mat(`${b}attn_v.weight`, [config.nKvHeads * hd, d], get(`${p}self_attn.v_proj.weight`));
    mat(`${b}attn_output.weight`, [d, config.nHeads * hd], get(`${p}self_attn.o_proj.weight`));
    vec(`${b}ffn_norm.weight`, get(`${p}post_attention_layernorm.weight`));
    mat(`${b}ffn_gate.weight`, [config.ffnHidden, d], get(`${p}mlp.gate_proj.weight`));
    mat(`${b}ffn_up.weight`, [config.ffnHidden, d], get(`${p}mlp.up_proj.weight`));
    mat(`${b}ffn_down.weight`, [d, config.ffnHidden], get(`${p}mlp.down_proj.weight`));
  }
  vec('output_norm.weight', get('model.norm.weight'));
  // A tied head is simply absent: llama.cpp then uses token_embd.weight as the output matrix.
  if (!config.tieEmbeddings) mat('output.weight', [config.vocabSize, d], get('lm_head.weight'));

  const sym = (id: number): string => {
    const t = tokenizer.tokens[id]!;
    return 'bytes' in t ? bytesToSymbols(t.bytes) : t.special;
  };
  const tokens = tokenizer.tokens.map((_, id) => sym(id));
  const types = tokenizer.tokens.map((t) => ('special' in t ? TOKEN_CONTROL : TOKEN_NORMAL));
  const merges = tokenizer.merges.map((m) => `${sym(m.left)} ${sym(m.right)}`);
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: opts.name ?? 'genrm' }],
    ['general.alignment', u32(GGUF_ALIGNMENT)],
    ['general.file_type', u32(dtype === 'F32' ? 0 : 1)], // LLAMA_FTYPE_ALL_F32 / MOSTLY_F16
    ['llama.context_length', u32(config.maxSeqLen)],
    ['llama.embedding_length', u32(d)],
    ['llama.block_count', u32(config.nLayers)],
    ['llama.feed_forward_length', u32(config.ffnHidden)],
    ['llama.attention.head_count', u32(config.nHeads)],
    ['llama.attention.head_count_kv', u32(config.nKvHeads)],
    ['llama.rope.dimension_count', u32(hd)],
    ['llama.rope.freq_base', { type: 'f32', value: config.ropeTheta }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: config.normEps }],
    ['llama.vocab_size', u32(config.vocabSize)],
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'gpt-2' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: types }],
    ['tokenizer.ggml.merges', { type: 'string[]', value: merges }],
    ['tokenizer.ggml.bos_token_id', u32(tokenizer.eotId)], // genrm starts sequences with end-of-text (GPT-2 style)
    ['tokenizer.ggml.eos_token_id', u32(tokenizer.eotId)],
    ['tokenizer.ggml.padding_token_id', u32(tokenizer.padId)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.chat_template', { type: 'string', value: opts.chatTemplate ?? COMPACT_CHAT_TEMPLATE }],
  ];
  return { metadata, tensors };
}

// ---- encoding ---------------------------------------------------------------------------------

class Bytes {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.grow(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u32(v: number): void {
    this.grow(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.grow(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  f32(v: number): void {
    this.grow(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number): void {
    this.grow(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  pad(align: number): void {
    while (this.length % align !== 0) this.u8(0);
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(w: Bytes, v: GgufValue): void {
  switch (v.type) {
    case 'u32':
      w.u32(GGUF_TYPE.UINT32);
      w.u32(v.value);
      break;
    case 'i32':
      w.u32(GGUF_TYPE.INT32);
      w.i32(v.value);
      break;
    case 'f32':
      w.u32(GGUF_TYPE.FLOAT32);
      w.f32(v.value);
      break;
    case 'bool':
      w.u32(GGUF_TYPE.BOOL);
      w.u8(v.value ? 1 : 0);
      break;
    case 'string':
      w.u32(GGUF_TYPE.STRING);
      w.str(v.value);
      break;
    case 'string[]':
      w.u32(GGUF_TYPE.ARRAY);
      w.u32(GGUF_TYPE.STRING);
      w.u64(v.value.length);
      for (const s of v.value) w.str(s);
      break;
    case 'i32[]':
      w.u32(GGUF_TYPE.ARRAY);
      w.u32(GGUF_TYPE.INT32);
      w.u64(v.value.length);
      for (const x of v.value) w.i32(x);
      break;
  }
}

/** The bytes of a GGUF v3 file. */
export function encodeGguf(metadata: ReadonlyArray<[string, GgufValue]>, tensors: readonly GgufTensor[]): Uint8Array {
  const head = new Bytes();
  head.u32(GGUF_MAGIC);
  head.u32(GGUF_VERSION);
  head.u64(tensors.length);
  head.u64(metadata.length);
  for (const [k, v] of metadata) {
    head.str(k);
    writeValue(head, v);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`gguf: tensor '${t.name}' has shape [${t.shape.join(', ')}] but ${t.data.length} values`);
    head.str(t.name);
    head.u32(t.shape.length);
    for (const dim of [...t.shape].reverse()) head.u64(dim); // GGML: ne[0] is the fastest-varying
    head.u32(GGML_TYPE[t.dtype]);
    head.u64(offset);
    offsets.push(offset);
    offset += n * (t.dtype === 'F32' ? 4 : 2);
    offset = Math.ceil(offset / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  }
  head.pad(GGUF_ALIGNMENT);
  const start = head.length;
  const out = new Uint8Array(start + offset);
  out.set(head.bytes());
  const view = new DataView(out.buffer);
  tensors.forEach((t, i) => {
    const at = start + offsets[i]!;
    const d = t.data;
    if (t.dtype === 'F32') for (let j = 0; j < d.length; j++) view.setFloat32(at + 4 * j, d[j]!, true);
    else
      for (let j = 0; j < d.length; j++) {
        const h = f32ToF16Bits(d[j]!);
        if ((h & 0x7fff) === 0x7c00 && Number.isFinite(d[j]!))
          throw new Error(`gguf: tensor '${t.name}' value ${d[j]} at index ${j} overflows F16; export with --dtype f32`);
        view.setUint16(at + 2 * j, h, true);
      }
  });
  return out;
}

/** Writes a genrm model as a GGUF file atomically (temp file, fsync, rename). Returns its size. */
export function writeLlamaGguf(
  path: string,
  config: ModelConfig,
  weights: ReadonlyMap<string, { data: Float32Array }>,
  tokenizer: Tokenizer,
  opts: GgufWriteOptions = {},
): number {
  const { metadata, tensors } = llamaGguf(config, weights, tokenizer, opts);
  const bytes = encodeGguf(metadata, tensors);
  writeFileAtomic(path, bytes);
  return bytes.length;
}
