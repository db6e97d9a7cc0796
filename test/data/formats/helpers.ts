// Shared by the format tests: write a small file of our own into a temp folder and load it.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoadOptions, openPairs } from '../../../src/data/formats/load.js';
import type { PreferencePair } from '../../../src/data/pair.js';

export const jsonl = (...recs: unknown[]): string => recs.map((r) => JSON.stringify(r)).join('\n') + '\n';

export interface TempDir {
  dir: string;
  load(
    name: string,
    content: string | Buffer,
    opts?: LoadOptions,
  ): Promise<{ pairs: PreferencePair[]; lines: number[]; report: Awaited<ReturnType<typeof openPairs>>['report']; file: string }>;
  failure(name: string, content: string | Buffer, opts?: LoadOptions): Promise<Error>;
  close(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), 'genrm-formats-'));
  const load: TempDir['load'] = async (name, content, opts = { skipInvalid: true }) => {
    const file = join(dir, name);
    await writeFile(file, content);
    const opened = await openPairs(file, opts);
    const pairs: PreferencePair[] = [];
    const lines: number[] = [];
    for await (const { pair, line } of opened.pairs) {
      pairs.push(pair);
      lines.push(line);
    }
    return { pairs, lines, report: opened.report, file };
  };
  return {
    dir,
    load,
    failure: async (name, content, opts) => {
      try {
        await load(name, content, opts);
      } catch (e) {
        return e as Error;
      }
      assert.fail('expected the load to fail');
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
