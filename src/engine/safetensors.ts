// The safetensors file format (Hugging Face), read and written to its published specification
// (github.com/huggingface/safetensors, README "Format"):
//
//   8 bytes   N, the header length: unsigned 64-bit little-endian
//   N bytes   a UTF-8 JSON object, starting with '{' and possibly padded at the end with spaces:
//             { "<name>": { "dtype": "F32", "shape": [out, in], "data_offsets": [begin, end] }, ...,
//               "__metadata__": { "<key>": "<string>" } (optional, strings only) }
//   rest      the byte buffer; offsets are relative to its start, tensors are little-endian,
//             row-major, and together cover the buffer exactly (no gaps, no overlaps).
//
// genrm reads F64, F32, F16 and BF16 into Float32Array and writes F32, F16 or BF16. The writer
// pads the header so the buffer starts 8-byte aligned (as the reference writer does); the reader
// accepts any padding and unaligned tensors.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';

export type Dtype =
  'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';
/** Bytes per element of each dtype the spec names. */
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
/** What genrm writes. */
export type WriteDtype = 'F32' | 'F16' | 'BF16';
const READABLE = new Set<Dtype>(['F64', 'F32', 'F16', 'BF16']);
// The reference implementation refuses headers above 100 MB; a longer one is a corrupt length.
const MAX_HEADER = 100 * 1024 * 1024;

/** A named weight as genrm passes it around (the engine's Tensor fits this shape too). */
export interface NamedTensor {
  shape: readonly number[];
  data: Float32Array;
}
export interface HeaderEntry {
  dtype: Dtype;
  shape: number[];
  /** [begin, end) in the byte buffer. */
  dataOffsets: [number, number];
}
export interface SafetensorsHeader {
  tensors: Map<string, HeaderEntry>;
  metadata: Record<string, string>;
  /** File offset of the byte buffer (8 + N). */
  bufferStart: number;
}
export interface ReadTensor {
  /** The dtype stored in the file (data is always converted to float32). */
  dtype: Dtype;
  shape: number[];
  data: Float32Array;
}

// ---- half-precision conversions ---------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a number, rounded to nearest, ties to even (NaN stays NaN, overflow is ±Inf). */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: value / 2^-24 = (1.mant as a 24-bit integer) >> (14 - e).
    const shift = 14 - e;
    if (shift > 24) return sign; // below half the smallest subnormal: rounds to zero
    return sign | roundShift(mant | 0x800000, shift);
  }
  // Adding lets a mantissa that rounds up carry into the exponent (and up to Inf), as it should.
  return (sign | (e << 10)) + roundShift(mant, 13);
}

function roundShift(v: number, shift: number): number {
  const q = v >>> shift;
  const rem = v & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
}

let halfTable: Float32Array | undefined;
/** The number that binary16 bits stand for (a 64K lookup table, built on first use). */
export function f16BitsToF32(h: number): number {
  if (halfTable === undefined) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) {
      const s = i & 0x8000 ? -1 : 1;
      const e = (i >>> 10) & 0x1f;
      const m = i & 0x3ff;
      halfTable[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m !== 0 ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
    }
  }
  return halfTable[h & 0xffff]!;
}

/** bfloat16 bits of a number: the top half of its float32, rounded to nearest even. */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) & 0x8000) | 0x7fc0;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

// ---- writing ------------------------------------------------------------------------------------

export interface WriteOptions {
  /** Stored precision; default F32 (exact). F16 halves the file; BF16 keeps F32's range. */
  dtype?: WriteDtype;
  /** `__metadata__`: free-form string pairs. */
  metadata?: Record<string, string>;
}

/** The bytes of a safetensors file holding the tensors, in the given order. */
export function encodeSafetensors(tensors: Iterable<[string, NamedTensor]>, options: WriteOptions = {}): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  if (!['F32', 'F16', 'BF16'].includes(dtype)) throw new Error(`safetensors: cannot write dtype ${dtype} (F32, F16 or BF16)`);
  const size = DTYPE_SIZE[dtype];
  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined) {
    for (const [k, v] of Object.entries(options.metadata))
      if (typeof v !== 'string') throw new Error(`safetensors: __metadata__['${k}'] must be a string`);
    header.__metadata__ = options.metadata;
  }
  const list: Array<[string, NamedTensor]> = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name.length === 0 || name === '__metadata__') throw new Error(`safetensors: '${name}' cannot be a tensor name`);
    if (Object.prototype.hasOwnProperty.call(header, name)) throw new Error(`safetensors: tensor '${name}' given twice`);
    const n = numel(t.shape, `tensor '${name}'`);
    if (t.data.length !== n)
      throw new Error(`safetensors: tensor '${name}' has shape [${t.shape.join(', ')}] (${n} values) but ${t.data.length} values`);
    header[name] = { dtype, shape: t.shape.slice(), data_offsets: [offset, offset + n * size] };
    offset += n * size;
    list.push([name, t]);
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8); // the buffer then starts on an 8-byte boundary
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [name, t] of list) {
    const d = t.data;
    if (dtype === 'F32') {
      for (let i = 0; i < d.length; i++) view.setFloat32(at + 4 * i, d[i]!, true);
    } else if (dtype === 'F16') {
      for (let i = 0; i < d.length; i++) {
        const h = f32ToF16Bits(d[i]!);
        if ((h & 0x7fff) === 0x7c00 && Number.isFinite(d[i]!))
          throw new Error(
            `safetensors: tensor '${name}' value ${d[i]} at index ${i} overflows F16 (largest is 65504); save as F32 or BF16`,
          );
        view.setUint16(at + 2 * i, h, true);
      }
    } else {
      for (let i = 0; i < d.length; i++) view.setUint16(at + 2 * i, f32ToBf16Bits(d[i]!), true);
    }
    at += d.length * size;
  }
  return out;
}

/** Writes the tensors to `path` atomically: a temp file in the same folder, synced, then renamed. */
export function writeSafetensors(path: string, tensors: Iterable<[string, NamedTensor]>, options: WriteOptions = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, options));
}

// ---- reading ------------------------------------------------------------------------------------

function numel(
  shape: unknown,
  what: string,
  fail: (m: string) => never = (m) => {
    throw new Error(`safetensors: ${m}`);
  },
): number {
  if (!Array.isArray(shape)) fail(`${what}: shape must be an array, got ${JSON.stringify(shape)}`);
  let n = 1;
  for (const d of shape as unknown[]) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
      fail(`${what}: shape [${(shape as unknown[]).join(', ')}] must hold non-negative integers`);
    n *= d as number;
  }
  if (!Number.isSafeInteger(n)) fail(`${what}: shape [${(shape as unknown[]).join(', ')}] is too large`);
  return n;
}

/** Parses and checks the header of a safetensors file held in `bytes`; `file` names it in errors. */
/** `fileLength` is the whole file's size when `bytes` holds only its start (a header-only read). */
export function parseSafetensorsHeader(bytes: Uint8Array, file: string, fileLength = bytes.length): SafetensorsHeader {
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  if (bytes.length < 8) fail(`not a safetensors file: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`header length ${n64} is over the 100 MB limit (corrupt or not a safetensors file)`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`truncated: header says ${n} header bytes but the file has only ${fileLength - 8} after the length`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header must start with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('header must be a JSON object');
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, HeaderEntry>();
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__['${k}'] must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    const what = `tensor '${name}'`;
    if (typeof raw !== 'object' || raw === null) fail(`${what}: entry must be an object`);
    const e = raw as Record<string, unknown>;
    const dtype = e.dtype as Dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZE)) fail(`${what}: unknown dtype ${JSON.stringify(e.dtype)}`);
    const count = numel(e.shape, what, fail);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1])
      fail(`${what}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}`);
    const [begin, end] = off as [number, number];
    if (end - begin !== count * DTYPE_SIZE[dtype])
      fail(
        `${what}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype} shape [${(e.shape as number[]).join(', ')}] needs ${count * DTYPE_SIZE[dtype]}`,
      );
    tensors.set(name, { dtype, shape: (e.shape as number[]).slice(), dataOffsets: [begin, end] });
  }
  // The tensors must tile the buffer exactly: sorted by start, each begins where the last ended.
  const bufferLength = fileLength - 8 - n;
  const sorted = [...tensors.entries()].sort(
    (a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1],
  );
  let at = 0;
  for (const [name, e] of sorted) {
    const [begin, end] = e.dataOffsets;
    if (begin > at) fail(`tensor '${name}': gap in the byte buffer, bytes ${at}..${begin} belong to no tensor`);
    if (begin < at) fail(`tensor '${name}': data_offsets [${begin}, ${end}] overlap another tensor's bytes (which end at ${at})`);
    at = end;
  }
  if (at > bufferLength) fail(`truncated: tensors need ${at} bytes of data but the file holds ${bufferLength}`);
  if (at < bufferLength) fail(`${bufferLength - at} bytes after the last tensor belong to no tensor`);
  return { tensors, metadata, bufferStart: 8 + n };
}

export interface ReadOptions {
  /**
   * Accept NaN and ±Inf values. Default false: a weight that is not finite is an error naming the
   * tensor and the index (a diverged run's weights would otherwise load and judge "tie" silently).
   */
  allowNonFinite?: boolean;
}

/** Throws naming the tensor when a value is NaN or infinite. */
function checkFinite(data: Float32Array, name: string, file: string): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x - x !== 0) {
      let bad = 0;
      for (let j = i; j < data.length; j++) if (data[j]! - data[j]! !== 0) bad++;
      throw new Error(
        `${file}: tensor '${name}' holds ${x} at index ${i} (${bad} of its ${data.length} values are not finite); refusing non-finite weights (a diverged or corrupt save)`,
      );
    }
  }
}

/** Decodes every tensor of a safetensors file held in `bytes` to float32. */
export function decodeSafetensors(
  bytes: Uint8Array,
  file: string,
  opts: ReadOptions = {},
): { tensors: Map<string, ReadTensor>; metadata: Record<string, string> } {
  const header = parseSafetensorsHeader(bytes, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors = new Map<string, ReadTensor>();
  for (const [name, e] of header.tensors) {
    if (!READABLE.has(e.dtype))
      throw new Error(`${file}: tensor '${name}': dtype ${e.dtype} is not supported (genrm reads F32, F16, BF16 and F64)`);
    const n = (e.dataOffsets[1] - e.dataOffsets[0]) / DTYPE_SIZE[e.dtype];
    const at = header.bufferStart + e.dataOffsets[0];
    const data = new Float32Array(n);
    if (e.dtype === 'F32') for (let i = 0; i < n; i++) data[i] = view.getFloat32(at + 4 * i, true);
    else if (e.dtype === 'F16') for (let i = 0; i < n; i++) data[i] = f16BitsToF32(view.getUint16(at + 2 * i, true));
    else if (e.dtype === 'BF16') for (let i = 0; i < n; i++) data[i] = bf16BitsToF32(view.getUint16(at + 2 * i, true));
    else for (let i = 0; i < n; i++) data[i] = view.getFloat64(at + 8 * i, true);
    if (opts.allowNonFinite !== true) checkFinite(data, name, file);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata: header.metadata };
}

/** Reads a safetensors file; errors name the file (and the tensor, where one is at fault). */
export function readSafetensors(
  path: string,
  opts: ReadOptions = {},
): { tensors: Map<string, ReadTensor>; metadata: Record<string, string> } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(bytes, path, opts);
}

/** Reads only the header (names, dtypes, shapes, metadata), without loading tensor data. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = size < 8 ? 0 : Math.min(Number(len.readBigUInt64LE(0)), MAX_HEADER + 1, size - 8);
    const head = Buffer.alloc(Math.min(size, 8 + n));
    readSync(fd, head, 0, head.length, 0);
    return parseSafetensorsHeader(head, path, size);
  } finally {
    closeSync(fd);
  }
}
