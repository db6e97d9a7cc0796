import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import {
  bf16BitsToF32,
  decodeSafetensors,
  encodeSafetensors,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  type NamedTensor,
} from '../../src/engine/safetensors.js';

// The repo root holds package.json; tests run from test/ (tsx) or dist/test/ (compiled).
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const PY_REF = join(repoRoot(), 'test/engine/fixtures/safetensors_ref.py');
const python = spawnSync('python3', ['--version']);
const noPython =
  python.error || python.status !== 0
    ? `python3 not available (${python.error?.message ?? python.status}); the independent-reader check needs it`
    : false;
if (noPython) console.log(`# skipped: ${noPython}`);

function py(...args: string[]): string {
  const r = spawnSync('python3', [PY_REF, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `safetensors_ref.py ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-st-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleTensors(): Map<string, NamedTensor> {
  const r = rng(7);
  const m = new Map<string, NamedTensor>();
  m.set('model.embed_tokens.weight', { shape: [5, 3], data: Float32Array.from({ length: 15 }, () => r() * 2 - 1) });
  m.set('model.norm.weight', { shape: [3], data: Float32Array.of(1, -0, 0.1) });
  m.set('scalar', { shape: [], data: Float32Array.of(42.5) });
  m.set('empty', { shape: [0, 3], data: new Float32Array(0) });
  m.set('名前.ü', { shape: [1, 1], data: Float32Array.of(-7) }); // non-ASCII names are legal JSON keys
  return m;
}

test('binary16 conversion: exact round trip of all 65536 bit patterns, known roundings', () => {
  for (let h = 0; h < 65536; h++) {
    const x = f16BitsToF32(h);
    if (Number.isNaN(x)) assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(x))), `NaN ${h}`);
    else assert.equal(f32ToF16Bits(x), h, `bits 0x${h.toString(16)} -> ${x}`);
  }
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(65504), 0x7bff); // largest finite half
  assert.equal(f32ToF16Bits(65519), 0x7bff); // rounds down
  assert.equal(f32ToF16Bits(65520), 0x7c00); // halfway: ties to even, which is Inf
  assert.equal(f32ToF16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000); // exactly half of it: ties to even (0)
  assert.equal(f32ToF16Bits(3 * 2 ** -25), 0x0002); // 1.5 ulps: ties to even (2)
  assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // halfway between 1 and next: even is 1
  assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(f32ToF16Bits(-0), 0x8000);
  assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN))));
  assert.equal(f32ToF16Bits(-Infinity), 0xfc00);
  assert.equal(f32ToBf16Bits(1), 0x3f80);
  assert.equal(bf16BitsToF32(f32ToBf16Bits(1 + 2 ** -8)), 1); // halfway: ties to even
  assert.equal(bf16BitsToF32(f32ToBf16Bits(1 + 3 * 2 ** -8)), 1 + 2 ** -6);
});

test('write then read: F32 exact, F16 and BF16 rounded, metadata kept, header 8-byte aligned', () => {
  withDir((dir) => {
    const file = join(dir, 'model.safetensors');
    const tensors = sampleTensors();
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      writeSafetensors(file, tensors, { dtype, metadata: { format: 'pt', genrm: 'test' } });
      const bytes = readFileSync(file);
      const n = Number(bytes.readBigUInt64LE(0));
      assert.equal((8 + n) % 8, 0);
      assert.equal(bytes[8], '{'.charCodeAt(0));
      const back = readSafetensors(file);
      assert.deepEqual(back.metadata, { format: 'pt', genrm: 'test' });
      assert.deepEqual([...back.tensors.keys()], [...tensors.keys()]);
      for (const [name, t] of tensors) {
        const b = back.tensors.get(name)!;
        assert.equal(b.dtype, dtype);
        assert.deepEqual(b.shape, t.shape);
        const expect = t.data.map((x) =>
          dtype === 'F32' ? x : dtype === 'F16' ? f16BitsToF32(f32ToF16Bits(x)) : bf16BitsToF32(f32ToBf16Bits(x)),
        );
        assert.deepEqual(b.data, expect, `${dtype} ${name}`);
      }
      const head = readSafetensorsHeader(file);
      assert.deepEqual(head.tensors.get('model.embed_tokens.weight')!.shape, [5, 3]);
    }
    assert.deepEqual(readdirSync(dir), ['model.safetensors']); // no temp files left
  });
});

test('an independent Python reader of the spec reads what genrm writes', { skip: noPython }, () => {
  withDir((dir) => {
    const file = join(dir, 'x.safetensors');
    const tensors = sampleTensors();
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      writeSafetensors(file, tensors, { dtype, metadata: { k: 'v' } });
      const out = JSON.parse(py('read', file)) as {
        header_len: number;
        metadata: unknown;
        tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
      };
      assert.equal(out.header_len % 8, 0);
      assert.deepEqual(out.metadata, { k: 'v' });
      assert.deepEqual(Object.keys(out.tensors).sort(), [...tensors.keys()].sort());
      const mine = readSafetensors(file).tensors;
      for (const [name, t] of tensors) {
        const o = out.tensors[name]!;
        assert.equal(o.dtype, dtype);
        assert.deepEqual(o.shape, t.shape);
        assert.deepEqual(o.values, Array.from(mine.get(name)!.data), `${dtype} ${name}`);
      }
    }
  });
});

test('binary16 rounding agrees with Python struct "e" on random floats', { skip: noPython }, () => {
  withDir((dir) => {
    const file = join(dir, 'r.safetensors');
    const r = rng(99);
    // Values across the half range, many near rounding boundaries and in the subnormal range.
    const data = Float32Array.from({ length: 2000 }, (_, i) => {
      const mag = i % 3 === 0 ? r() * 65000 : i % 3 === 1 ? r() * 2 ** -14 : 2 ** (r() * 30 - 20);
      return (r() < 0.5 ? -1 : 1) * mag;
    });
    writeSafetensors(file, [['x', { shape: [data.length], data }]]);
    const pyBits = JSON.parse(py('f16bits', file, 'x')) as number[];
    const mismatches = pyBits.filter((b, i) => b !== f32ToF16Bits(data[i]!));
    assert.equal(mismatches.length, 0);
  });
});

test('genrm reads what the independent Python writer writes (unpadded header, unaligned tensors, F64)', { skip: noPython }, () => {
  withDir((dir) => {
    const file = join(dir, 'py.safetensors');
    py('write', file);
    const { tensors, metadata } = readSafetensors(file);
    assert.equal(metadata.format, 'pt');
    assert.deepEqual([...tensors.keys()].sort(), ['a.weight', 'b.half', 'c.bf16', 'd.double', 'e.empty']);
    const a = tensors.get('a.weight')!;
    assert.equal(a.dtype, 'F32');
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual(Array.from(a.data), Array.from(Float32Array.of(1.5, -0, 1 / 3, 1e-8, -123456.789, 2 ** -24)));
    assert.deepEqual(Array.from(tensors.get('b.half')!.data), [0.333251953125, -2.5, 65504]);
    const c = tensors.get('c.bf16')!;
    assert.equal(c.dtype, 'BF16');
    assert.equal(c.data[0], 1);
    assert.equal(c.data[1], -0.333984375);
    assert.ok(Math.abs(c.data[2]! - 3e38) / 3e38 < 2 ** -8);
    assert.deepEqual(Array.from(tensors.get('d.double')!.data), [Math.fround(Math.PI), -0]); // -1e-300 underflows float32
    assert.deepEqual(tensors.get('e.empty')!.shape, [0, 4]);
  });
});

test('corrupt files are refused, naming the file and the tensor', () => {
  const good = encodeSafetensors([
    ['w', { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }],
    ['b', { shape: [2], data: Float32Array.of(5, 6) }],
  ]);
  const withHeader = (h: unknown, buffer: number): Uint8Array => {
    const json = Buffer.from(JSON.stringify(h));
    const out = Buffer.alloc(8 + json.length + buffer);
    out.writeBigUInt64LE(BigInt(json.length));
    json.copy(out, 8);
    return out;
  };
  const F = 'ck/model.safetensors';
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['short', good.subarray(0, 5), /shorter than the 8-byte header length/],
    ['truncated data', good.subarray(0, good.length - 4), /truncated: tensors need 24 bytes of data but the file holds 20/],
    ['truncated header', good.subarray(0, 20), /truncated: header says \d+ header bytes/],
    ['huge header length', Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0x7b]), /over the 100 MB limit/],
    ['not json', withHeader('x', 0).fill(0x20, 8), /header must start with '\{'/],
    ['gap', withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /tensor 'w': gap in the byte buffer, bytes 0\.\.4/],
    [
      'overlap',
      withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, v: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8),
      /overlap another tensor/,
    ],
    [
      'span',
      withHeader({ w: { dtype: 'F16', shape: [3], data_offsets: [0, 8] } }, 8),
      /tensor 'w': data_offsets \[0, 8\] span 8 bytes but F16 shape \[3\] needs 6/,
    ],
    ['dtype', withHeader({ w: { dtype: 'F31', shape: [1], data_offsets: [0, 4] } }, 4), /tensor 'w': unknown dtype "F31"/],
    [
      'shape',
      withHeader({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4),
      /tensor 'w': shape \[-1\] must hold non-negative integers/,
    ],
    ['metadata', withHeader({ __metadata__: { n: 3 } }, 0), /__metadata__\['n'\] must be a string/],
    ['trailing bytes', withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8), /4 bytes after the last tensor/],
    ['int dtype', withHeader({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8), /tensor 'ids': dtype I64 is not supported/],
  ];
  for (const [name, bytes, re] of cases) {
    assert.throws(
      () => decodeSafetensors(bytes, F),
      (e: Error) => e.message.startsWith(`${F}: `) && re.test(e.message),
      `${name}: ${(() => {
        try {
          decodeSafetensors(bytes, F);
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      })()}`,
    );
  }
  assert.throws(() => readSafetensors('/nonexistent/model.safetensors'), /\/nonexistent\/model\.safetensors: cannot read \(ENOENT\)/);
});

test('bad tensors are refused at write time and leave the old file intact', () => {
  withDir((dir) => {
    const file = join(dir, 'm.safetensors');
    writeSafetensors(file, [['ok', { shape: [1], data: Float32Array.of(1) }]]);
    const before = readFileSync(file);
    assert.throws(
      () => writeSafetensors(file, [['big', { shape: [2], data: Float32Array.of(1, 70000) }]], { dtype: 'F16' }),
      /tensor 'big' value 70000 at index 1 overflows F16/,
    );
    assert.throws(
      () => writeSafetensors(file, [['w', { shape: [2, 2], data: new Float32Array(3) }]]),
      /tensor 'w' has shape \[2, 2\] \(4 values\) but 3 values/,
    );
    assert.deepEqual(readFileSync(file), before);
    assert.deepEqual(readdirSync(dir), ['m.safetensors']);
    writeFileSync(file, 'garbage!');
    assert.throws(() => readSafetensorsHeader(file), /m\.safetensors: header length \d+ is over the 100 MB limit/);
  });
});
