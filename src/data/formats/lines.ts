// Byte-level line reading with strict UTF-8. The JSONL module's reader decodes with Node's lenient
// decoder, which turns bad bytes into U+FFFD silently; importers must instead name the line whose
// bytes are not UTF-8 (and skip just that line under --skip-invalid). So lines are split on the
// raw bytes and each is decoded on its own with a fatal decoder. Memory is one chunk plus one
// partial line, whatever the file size. `.gz` files are gunzipped on the fly (HH-RLHF ships so).
import { createReadStream } from 'node:fs';
import { type Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface Line {
  /** 1-based line number in the (decompressed) file. */
  line: number;
  /** The decoded text without its line ending; null when the bytes are not valid UTF-8. */
  text: string | null;
}

/** Bytes of the file read so far (compressed bytes for .gz): drives progress bars. */
export interface ReadProgress {
  bytes: number;
}

const NL = 0x0a;
const CR = 0x0d;

/** A raw byte stream of the file, decompressed when it ends in .gz. */
export function openBytes(file: string, progress?: ReadProgress): Readable {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  if (progress) raw.on('data', (c) => (progress.bytes += (c as Buffer).length));
  // pipeline, not pipe: a read error (missing file) must reach whoever reads the gunzipped side.
  return file.endsWith('.gz') ? pipeline(raw, createGunzip(), () => undefined) : raw;
}

export async function* readLines(file: string, progress?: ReadProgress): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let carry: Buffer | null = null; // the partial line left at the end of the previous chunk
  let lineNo = 0;
  const decode = (bytes: Buffer): Line => {
    lineNo++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--; // CRLF files
    try {
      // BOM: TextDecoder drops a leading U+FEFF itself (ignoreBOM: false), on every call; only
      // line 1 can carry one in practice.
      return { line: lineNo, text: decoder.decode(bytes.subarray(0, end)) };
    } catch {
      return { line: lineNo, text: null };
    }
  };
  for await (const chunk of openBytes(file, progress)) {
    let start = 0;
    let nl = chunk.indexOf(NL, start);
    while (nl >= 0) {
      const piece = chunk.subarray(start, nl);
      yield decode(carry ? Buffer.concat([carry, piece]) : piece);
      carry = null;
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Copy: the stream may reuse its buffer once we return.
      carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
    }
  }
  if (carry && carry.length > 0) yield decode(carry);
}
