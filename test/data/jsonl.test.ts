// The one JSONL module: strict UTF-8 on reading (an error naming file and line), streamed atomic writing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonlAll, writeJsonl } from '../../src/data/jsonl.js';

const Rec = z.object({ a: z.number() });

test('reading: invalid UTF-8 is an error naming the file and line; CRLF and blank lines are fine', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-jsonl-'));
  try {
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, '{"a":1}\r\n\n{"a":2}\n');
    assert.deepEqual(await readJsonlAll(good, Rec), [{ a: 1 }, { a: 2 }]);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, Buffer.concat([Buffer.from('{"a":1}\n{"a":2, "s":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]));
    await assert.rejects(readJsonlAll(bad, Rec), (e: Error) => e.name === 'JsonlError' && e.message === `${bad}:2: not valid UTF-8`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writing: streams records from an async source; a failing source leaves the old file and no temp file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-jsonl-'));
  try {
    const f = join(dir, 'out.jsonl');
    async function* recs() {
      for (let a = 0; a < 3; a++) yield { a };
    }
    await writeJsonl(f, recs());
    assert.equal(readFileSync(f, 'utf8'), '{"a":0}\n{"a":1}\n{"a":2}\n');
    async function* failing() {
      yield { a: 9 };
      throw new Error('source broke');
    }
    await assert.rejects(writeJsonl(f, failing()), /source broke/);
    assert.equal(readFileSync(f, 'utf8'), '{"a":0}\n{"a":1}\n{"a":2}\n');
    assert.deepEqual(readdirSync(dir), ['out.jsonl']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
