// A fuzz harness over genrm's loaders: each case takes a valid file (a safetensors file, a
// checkpoint folder's files, a training run's checkpoint, a config file), damages it the way a
// careless user, a full disk or an attacker would (truncation, flipped bytes, a header whose
// length, offsets, dtype or shape lie, JSON fields of the wrong type or out of range, YAML alias
// bombs and deep nesting), and calls the loader. A case passes when the loader returns or throws
// an Error whose message names the file (or, for configs, the field) — never a TypeError from
// inside, a stack overflow, a message that names nothing, or a hang.
//
// test/fuzz/fuzz.test.ts runs a small seeded corpus in the suite; `npm run fuzz` (run.ts) runs
// many more cases. A failure prints the seed and case number that reproduce it.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { JUDGE_SPECIAL_TOKENS } from '../../src/data/judgeFormat.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/engine/checkpoint.js';
import { Llama } from '../../src/engine/model/index.js';
import { Prng } from '../../src/engine/prng.js';
import { encodeSafetensors, readSafetensors } from '../../src/engine/safetensors.js';
import { Tokenizer } from '../../src/engine/tokenizer/index.js';
import { PackedStream } from '../../src/train/batches.js';
import { trainLoopConfig } from '../../src/train/config.js';
import { readConfigFile } from '../../src/train/configFile.js';
import { resolvePretrainConfig } from '../../src/train/pretrain/config.js';
import { getRecipe, resolveRecipeConfig } from '../../src/train/recipes/index.js';
import { latestCheckpoint, readTrainerState } from '../../src/train/state.js';
import { train } from '../../src/train/trainer.js';

export interface FuzzFailure {
  seed: number;
  case: number;
  target: string;
  mutation: string;
  error: string;
}

export interface FuzzStats {
  cases: number;
  loaded: number;
  refused: number;
  failures: FuzzFailure[];
  byTarget: Record<string, { cases: number; loaded: number; refused: number }>;
}

/** A case slower than this counts as a hang. */
const SLOW_MS = 5000;

// ---- mutations ----------------------------------------------------------------------------------

const WEIRD: unknown[] = [
  null,
  true,
  -1,
  0,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 1,
  '',
  'x',
  '1e999',
  [],
  [1, 2],
  {},
  { a: { b: 1 } },
  'NaN',
  ' '.repeat(64),
];

function pick<T>(r: Prng, xs: readonly T[]): T {
  return xs[r.int(xs.length)]!;
}

/** Damages raw bytes: a cut, flipped bytes, a lying length prefix, junk appended, or nothing left. */
function mutateBytes(r: Prng, b: Uint8Array): { bytes: Uint8Array; what: string } {
  const out = Uint8Array.from(b);
  switch (r.int(6)) {
    case 0: {
      const at = r.int(b.length);
      return { bytes: out.subarray(0, at), what: `truncated to ${at} of ${b.length} bytes` };
    }
    case 1: {
      const n = 1 + r.int(8);
      const at: number[] = [];
      for (let i = 0; i < n; i++) {
        const k = r.int(b.length);
        out[k] = out[k]! ^ (1 << r.int(8));
        at.push(k);
      }
      return { bytes: out, what: `bits flipped at ${at.join(',')}` };
    }
    case 2: {
      const v = pick(r, [0n, 1n, 7n, 2n ** 63n, 2n ** 32n, BigInt(b.length), BigInt(b.length) * 1000n]);
      new DataView(out.buffer).setBigUint64(0, v, true);
      return { bytes: out, what: `length prefix set to ${v}` };
    }
    case 3:
      return { bytes: Buffer.concat([out, Buffer.from('junk'.repeat(1 + r.int(10)))]), what: 'junk appended' };
    case 4:
      return { bytes: new Uint8Array(0), what: 'emptied' };
    default: {
      const at = r.int(b.length);
      const len = 1 + r.int(64);
      out.fill(r.int(256), at, at + len);
      return { bytes: out, what: `bytes ${at}..${at + len} overwritten` };
    }
  }
}

/** A path of keys into a JSON value, picked at random (objects and arrays). */
function randomPath(r: Prng, v: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  let cur = v;
  while (cur !== null && typeof cur === 'object' && r.uniform() < 0.7) {
    const keys: (string | number)[] = Array.isArray(cur) ? cur.map((_, i) => i) : Object.keys(cur);
    if (keys.length === 0) break;
    const k = pick(r, keys);
    path.push(k);
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return path;
}

function setAt(v: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  const copy = Array.isArray(v) ? [...v] : { ...(v as Record<string, unknown>) };
  const [k, ...rest] = path;
  if (rest.length === 0 && remove) {
    if (Array.isArray(copy)) copy.splice(k as number, 1);
    else delete (copy as Record<string, unknown>)[k as string];
  } else (copy as Record<string | number, unknown>)[k!] = setAt((copy as Record<string | number, unknown>)[k!], rest, value, remove);
  return copy;
}

/** Damages a JSON document: a field of the wrong type or out of range, a field gone, an extra one, or the text cut or flipped. */
function mutateJson(r: Prng, text: string): { text: string; what: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const k = r.int(6);
  if (v === undefined || k >= 4) {
    const m = mutateBytes(r, Buffer.from(text));
    return { text: Buffer.from(m.bytes).toString('utf8'), what: m.what };
  }
  const path = randomPath(r, v);
  if (k === 0) return { text: JSON.stringify(setAt(v, path, undefined, true)) ?? '', what: `removed ${path.join('.') || '(root)'}` };
  if (k === 1)
    return {
      text: JSON.stringify(setAt(v, [...path, 'unexpected_key'], 1, false)),
      what: `added ${[...path, 'unexpected_key'].join('.')}`,
    };
  const value =
    k === 2
      ? pick(r, WEIRD)
      : typeof getAt(v, path) === 'number'
        ? pick(r, [-(getAt(v, path) as number), (getAt(v, path) as number) * 1e9, (getAt(v, path) as number) + 0.5, 0])
        : pick(r, WEIRD);
  return { text: JSON.stringify(setAt(v, path, value, false)), what: `${path.join('.') || '(root)'} = ${JSON.stringify(value)}` };
}

function getAt(v: unknown, path: (string | number)[]): unknown {
  let cur = v;
  for (const k of path) cur = (cur as Record<string | number, unknown>)?.[k];
  return cur;
}

/** A safetensors file whose header lies in one way: its dtype, shape or offsets, or metadata of the wrong type. */
function lyingHeader(r: Prng, b: Uint8Array): { bytes: Uint8Array; what: string } {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(b.subarray(8, 8 + n)).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: number[] }
  >;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = pick(r, names);
  const e = header[name]!;
  let what: string;
  switch (r.int(5)) {
    case 0:
      e.dtype = pick(r, ['F64', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'f32', 'F33', '']);
      what = `${name}.dtype = ${e.dtype}`;
      break;
    case 1:
      e.shape = pick(r, [[], [0], [-4], [1.5, 2], [2 ** 40], [...e.shape, 2], e.shape.slice(1), [1e308]]);
      what = `${name}.shape = ${JSON.stringify(e.shape)}`;
      break;
    case 2:
      e.data_offsets = pick(r, [
        [e.data_offsets[1]!, e.data_offsets[0]!],
        [0, e.data_offsets[1]!],
        [e.data_offsets[0]!, e.data_offsets[1]! + 4],
        [-8, 0],
        [0, 2 ** 60],
      ]);
      what = `${name}.data_offsets = ${JSON.stringify(e.data_offsets)}`;
      break;
    case 3:
      (header as Record<string, unknown>).__metadata__ = pick(r, [{ k: 1 }, [], 'x', null]);
      what = `__metadata__ = ${JSON.stringify((header as Record<string, unknown>).__metadata__)}`;
      break;
    default:
      (header as Record<string, unknown>)[name] = pick(r, WEIRD);
      what = `${name} = ${JSON.stringify((header as Record<string, unknown>)[name])}`;
  }
  const text = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  return { bytes: Buffer.concat([len, text, b.subarray(8 + n)]), what };
}

// ---- targets ------------------------------------------------------------------------------------

interface Target {
  name: string;
  /** Damages a fresh copy of the valid input in `dir`; returns what it did. */
  mutate(r: Prng, dir: string): string;
  /** Loads it; returns normally or throws. */
  load(dir: string): unknown;
  /** What an error must name. */
  names(dir: string): string[];
}

interface Originals {
  root: string;
  tensors: string;
  checkpoint: string;
  run: string;
  configs: string;
}

function makeOriginals(): Originals {
  const root = mkdtempSync(join(tmpdir(), 'genrm-fuzz-'));
  const tok = Tokenizer.byteLevel({ specials: [...JUDGE_SPECIAL_TOKENS] });
  const cfg = {
    vocabSize: tok.vocabSize,
    dModel: 16,
    nLayers: 1,
    nHeads: 2,
    nKvHeads: 1,
    ffnHidden: 32,
    maxSeqLen: 32,
    ropeTheta: 10000,
    normEps: 1e-5,
    tieEmbeddings: true,
  };
  const model = new Llama(cfg, { seed: 1 });
  const tensors = join(root, 'tensors');
  mkdirSync(tensors);
  const some = [...model.params]
    .slice(0, 3)
    .map(([n, t]): [string, { shape: readonly number[]; data: Float32Array }] => [n, { shape: t.shape, data: t.data }]);
  writeFileSync(join(tensors, 'a.safetensors'), encodeSafetensors(some, { dtype: 'F16', metadata: { format: 'pt' } }));
  const checkpoint = join(root, 'checkpoint');
  const prov = { command: 'fuzz', config: null, seed: 1, dataHash: null, parent: null };
  saveCheckpoint(checkpoint, { config: cfg, kind: 'lm', weights: model.params, tokenizer: tok, provenance: prov });
  const run = join(root, 'run');
  const docs = Array.from({ length: 8 }, (_, i) => Int32Array.from({ length: 12 }, (_, j) => 97 + ((i + j) % 16)));
  train(
    {
      params: model.params,
      stream: new PackedStream(docs, { batchSize: 2, seqLen: 8, seed: 1, separator: tok.eotId }),
      loss: (b) => ({ loss: model.loss(b.ids, b.targets, b.batch, b.seqLen) }),
      saveModel: (dir) => saveCheckpoint(dir, { config: cfg, kind: 'lm', weights: model.params, tokenizer: tok, provenance: prov }),
    },
    { config: trainLoopConfig({ steps: 2, batchSize: 2, warmupSteps: 0, checkpointEvery: 1, evalEvery: 0, logEvery: 1 }), outDir: run },
  );
  const configs = join(root, 'configs');
  mkdirSync(configs);
  writeFileSync(
    join(configs, 'genrm.yaml'),
    'data: world\nbase: models/base\nout: runs/genrm\nsteps: 300\nbatchSize: 16\nlr: 0.0003\nvalPairs: 200\nreplay: 0.1\n',
  );
  writeFileSync(
    join(configs, 'pretrain.json'),
    JSON.stringify({ preset: 'tiny', data: 'world', out: 'runs/base', steps: 40, dModel: 32, seqLen: 128 }, null, 2),
  );
  return { root, tensors, checkpoint, run, configs };
}

const YAML_BOMBS: [string, string][] = [
  [
    'billion laughs',
    'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n',
  ],
  ['deep nesting', `steps: ${'['.repeat(20000)}${']'.repeat(20000)}\n`],
  ['a huge number', 'steps: 1e999\nbatchSize: 16\n'],
  ['duplicate keys', 'steps: 1\nsteps: 2\n'],
  ['a tag', 'steps: !!js/function "function(){}"\n'],
  ['a long line', `data: ${'x'.repeat(1 << 20)}\n`],
];

function configTarget(file: string, resolve: (v: Record<string, unknown>, source: string) => unknown): Target {
  return {
    name: `config ${file}`,
    mutate: (r, dir) => {
      const p = join(dir, file);
      if (r.int(8) === 0) {
        const [what, text] = pick(r, YAML_BOMBS);
        writeFileSync(p, text);
        return `YAML bomb: ${what}`;
      }
      const text = readFileSync(p, 'utf8');
      if (file.endsWith('.json')) {
        const m = mutateJson(r, text);
        writeFileSync(p, m.text);
        return m.what;
      }
      // YAML: a field of the wrong type or out of range, or the text damaged.
      const lines = text.trim().split('\n');
      const i = r.int(lines.length);
      const key = lines[i]!.split(':')[0]!;
      if (r.int(3) === 0) {
        const m = mutateBytes(r, Buffer.from(text));
        writeFileSync(p, Buffer.from(m.bytes));
        return m.what;
      }
      const value = pick(r, ['-1', '1e9', '0', '1.5', 'null', '[]', '{}', '"16"', 'yes', '.inf', '.nan', '0x10', '~', '1e308']);
      lines[i] = `${key}: ${value}`;
      writeFileSync(p, lines.join('\n') + '\n');
      return `${key} = ${value}`;
    },
    load: (dir) => resolve(readConfigFile(join(dir, file)), join(dir, file)),
    names: (dir) => [join(dir, file)],
  };
}

function targets(o: Originals): { target: Target; original: string }[] {
  const binary = (r: Prng, p: string): string => {
    const b = readFileSync(p);
    const m = r.int(3) === 0 ? lyingHeader(r, b) : mutateBytes(r, b);
    writeFileSync(p, m.bytes);
    return m.what;
  };
  const json = (r: Prng, p: string): string => {
    const m = mutateJson(r, readFileSync(p, 'utf8'));
    writeFileSync(p, m.text);
    return m.what;
  };
  return [
    {
      original: o.tensors,
      target: {
        name: 'safetensors',
        mutate: (r, dir) => binary(r, join(dir, 'a.safetensors')),
        load: (dir) => readSafetensors(join(dir, 'a.safetensors')),
        names: (dir) => [join(dir, 'a.safetensors')],
      },
    },
    {
      original: o.checkpoint,
      target: {
        name: 'checkpoint folder',
        mutate: (r, dir) => {
          const f = pick(r, ['config.json', 'model.safetensors', 'tokenizer.json', 'genrm.json']);
          if (r.int(10) === 0) {
            unlinkSync(join(dir, f));
            return `${f} deleted`;
          }
          return `${f}: ${f.endsWith('.json') ? json(r, join(dir, f)) : binary(r, join(dir, f))}`;
        },
        load: (dir) => loadCheckpoint(dir),
        names: (dir) => [dir],
      },
    },
    {
      original: o.run,
      target: {
        name: 'training run',
        mutate: (r, dir) => {
          const ck = latestCheckpoint(dir)!;
          const f = pick(r, [
            'trainer-state/state.json',
            'trainer-state/params.safetensors',
            'trainer-state/optimizer.safetensors',
            'latest',
          ]);
          const p = f === 'latest' ? join(dir, f) : join(ck, f);
          if (r.int(10) === 0) {
            unlinkSync(p);
            return `${f} deleted`;
          }
          return `${f}: ${f.endsWith('.safetensors') ? binary(r, p) : json(r, p)}`;
        },
        load: (dir) => readTrainerState(dir),
        names: (dir) => [dir],
      },
    },
    { original: o.configs, target: configTarget('genrm.yaml', (v, s) => resolveRecipeConfig(getRecipe('genrm'), v, s)) },
    { original: o.configs, target: configTarget('pretrain.json', (v, s) => resolvePretrainConfig(v, s)) },
  ];
}

/** Runs `cases` seeded cases (round-robin over the targets); each case's input is a fresh copy. */
export function runFuzz(seed: number, cases: number, onFailure?: (f: FuzzFailure) => void): FuzzStats {
  const o = makeOriginals();
  const stats: FuzzStats = { cases: 0, loaded: 0, refused: 0, failures: [], byTarget: {} };
  try {
    const ts = targets(o);
    for (let c = 0; c < cases; c++) {
      const { target, original } = ts[c % ts.length]!;
      const r = new Prng(seed * 1_000_003 + c);
      const dir = join(o.root, `case-${c}`, basename(original));
      cpSync(original, dir, { recursive: true });
      const bt = (stats.byTarget[target.name] ??= { cases: 0, loaded: 0, refused: 0 });
      stats.cases++;
      bt.cases++;
      let mutation = '?';
      const fail = (error: string): void => {
        const f = { seed, case: c, target: target.name, mutation, error };
        stats.failures.push(f);
        onFailure?.(f);
      };
      try {
        mutation = target.mutate(r, dir);
        const t0 = performance.now();
        try {
          target.load(dir);
          stats.loaded++;
          bt.loaded++;
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          const named = target.names(dir).some((n) => err.message.includes(n));
          if (
            err instanceof TypeError ||
            err instanceof ReferenceError ||
            err instanceof SyntaxError ||
            (!named && /Maximum call stack/.test(err.message))
          )
            fail(`${err.name} from inside: ${err.message.slice(0, 300)}`);
          else if (!named) fail(`the message names no file: ${err.message.slice(0, 300)}`);
          else {
            stats.refused++;
            bt.refused++;
          }
        }
        const ms = performance.now() - t0;
        if (ms > SLOW_MS) fail(`took ${ms.toFixed(0)} ms`);
      } finally {
        rmSync(join(o.root, `case-${c}`), { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(o.root, { recursive: true, force: true });
  }
  return stats;
}
