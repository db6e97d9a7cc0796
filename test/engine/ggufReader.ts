// An independent GGUF v3 reader for tests, written from ggml's docs/gguf.md: header, typed
// metadata (all 13 value types, nested arrays), tensor infos, alignment, tensor data as float32.
export interface GgufFile {
  version: number;
  metadata: Map<string, unknown>;
  tensors: Map<string, { dims: number[]; type: number; offset: number; data: Float32Array }>;
  dataStart: number;
  alignment: number;
}

export function readGguf(buf: Uint8Array): GgufFile {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  const u32 = (): number => ((at += 4), v.getUint32(at - 4, true));
  const u64 = (): number => {
    const x = v.getBigUint64(at, true);
    at += 8;
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`u64 ${x} too large at ${at - 8}`);
    return Number(x);
  };
  const str = (): string => {
    const n = u64();
    const s = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(at, at + n));
    at += n;
    return s;
  };
  const value = (type: number): unknown => {
    switch (type) {
      case 0:
        return v.getUint8(at++);
      case 1:
        return v.getInt8(at++);
      case 2:
        return ((at += 2), v.getUint16(at - 2, true));
      case 3:
        return ((at += 2), v.getInt16(at - 2, true));
      case 4:
        return u32();
      case 5:
        return ((at += 4), v.getInt32(at - 4, true));
      case 6:
        return ((at += 4), v.getFloat32(at - 4, true));
      case 7: {
        const b = v.getUint8(at++);
        if (b > 1) throw new Error(`bool byte ${b} at ${at - 1}`);
        return b === 1;
      }
      case 8:
        return str();
      case 9: {
        const t = u32();
        const n = u64();
        return Array.from({ length: n }, () => value(t));
      }
      case 10:
        return u64();
      case 11:
        return ((at += 8), Number(v.getBigInt64(at - 8, true)));
      case 12:
        return ((at += 8), v.getFloat64(at - 8, true));
      default:
        throw new Error(`unknown metadata value type ${type} at ${at - 4}`);
    }
  };
  if (u32() !== 0x46554747) throw new Error('bad magic (not "GGUF")');
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const metadata = new Map<string, unknown>();
  for (let i = 0; i < nKv; i++) {
    const k = str();
    metadata.set(k, value(u32()));
  }
  const infos: Array<{ name: string; dims: number[]; type: number; offset: number }> = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const dims = Array.from({ length: nd }, () => u64());
    infos.push({ name, dims, type: u32(), offset: u64() });
  }
  const alignment = (metadata.get('general.alignment') as number | undefined) ?? 32;
  const dataStart = Math.ceil(at / alignment) * alignment;
  const tensors = new Map<string, { dims: number[]; type: number; offset: number; data: Float32Array }>();
  for (const t of infos) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    const p = dataStart + t.offset;
    const data = new Float32Array(n);
    if (t.type === 0) for (let i = 0; i < n; i++) data[i] = v.getFloat32(p + 4 * i, true);
    else if (t.type === 1) for (let i = 0; i < n; i++) data[i] = half(v.getUint16(p + 2 * i, true));
    else throw new Error(`tensor ${t.name}: ggml type ${t.type} not read by this test reader`);
    if (p + n * (t.type === 0 ? 4 : 2) > buf.length) throw new Error(`tensor ${t.name} runs past the end of the file`);
    tensors.set(t.name, { ...t, data });
  }
  return { version, metadata, tensors, dataStart, alignment };
}

/** IEEE half -> number (written here from the bit layout, not borrowed from genrm). */
function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
