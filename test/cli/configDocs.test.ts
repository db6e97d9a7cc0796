// The option listings come from the config schemas: docs/CONFIG.md is what the schemas print
// (so the page cannot drift from what is validated), every option says what it controls, and
// `genrm train RECIPE --help` / `genrm pretrain --help` print the recipe's or preset's defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configDocsMarkdown, pretrainOptionDocs, recipeOptionDocs } from '../../src/cli/configDocs.js';
import { SuiteEntrySchema, SuiteFileSchema } from '../../src/eval/suite.js';
import { JudgeConfigSchema } from '../../src/judge/config.js';
import { RECIPES } from '../../src/train/recipes/index.js';
import { StarBuildSchema, StarSamplingSchema } from '../../src/train/star/config.js';
import { optionDocs } from '../../src/util/schemaDoc.js';
import { genrmBin, repoRoot } from '../repoRoot.js';

const help = (...args: string[]): string => {
  const r = spawnSync(process.execPath, [genrmBin, ...args, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

test('docs/CONFIG.md is what the schemas print (run `npm run docs` after changing a config schema)', () => {
  const page = readFileSync(join(repoRoot(), 'docs', 'CONFIG.md'), 'utf8');
  assert.ok(page === configDocsMarkdown(), 'docs/CONFIG.md is out of date with the config schemas: run `npm run docs` and commit the page');
});

test('every option of every user-facing config says what it controls', () => {
  const lists = {
    ...Object.fromEntries(RECIPES.map((r) => [`recipe ${r.name}`, recipeOptionDocs(r)])),
    pretrain: pretrainOptionDocs(),
    'star sampling': optionDocs(StarSamplingSchema),
    'star datasets': optionDocs(StarBuildSchema),
    judge: optionDocs(JudgeConfigSchema),
    suite: optionDocs(SuiteFileSchema),
    'suite entry': optionDocs(SuiteEntrySchema),
  };
  for (const [what, docs] of Object.entries(lists)) {
    assert.ok(docs.length > 0, what);
    for (const d of docs)
      assert.match(d.description, /^\S.{20,}\.$/s, `${what}: option "${d.key}" has no description (a sentence in its zod .describe())`);
  }
});

test('option docs read the type, bounds and default off the schema', () => {
  const docs = optionDocs(
    z.object({
      steps: z.number().int().min(1).max(10_000_000).default(1000).describe('Updates.'),
      share: z.number().min(0).lt(1).default(3e-4),
      p: z.number().gt(0).max(1),
      seed: z.number().int().default(0),
      mode: z.enum(['a', 'b']).default('a'),
      path: z.string().min(1).optional(),
      stop: z.array(z.string()).default([]),
    }),
  );
  assert.deepEqual(
    docs.map((d) => [d.key, d.type, d.default]),
    [
      ['steps', 'integer in [1, 10,000,000]', '1000'],
      ['share', 'number in [0, 1)', '3e-4'],
      ['p', 'number in (0, 1]', undefined],
      ['seed', 'integer', '0'],
      ['mode', "'a' | 'b'", "'a'"],
      ['path', 'string', undefined],
      ['stop', 'list of string', '[]'],
    ],
  );
  assert.equal(docs[0]!.description, 'Updates.');
});

test("genrm train RECIPE --help lists that recipe's options with its own defaults; a TRL name lists its recipe's", () => {
  const bt = help('train', 'bt');
  assert.match(bt, /Options of recipe bt/);
  assert.match(bt, /^ {2}batchSize {2}\(integer in \[1, 65,536\]; default 8\)$/m, "bt pairs per batch, not the loop's 16");
  assert.match(bt, /^ {2}headSeed /m);
  assert.match(bt, /^ {6}Training pairs held out as the validation slice/m, "valPairs' description");
  assert.doesNotMatch(bt, /^ {2}beta /m, "no other recipe's options");
  assert.match(help('train', 'reward'), /Options of recipe bt/);
  assert.match(help('train', 'star-dpo'), /^ {2}lr {2}\(number in \(0, 1\]; default 3e-5\)$/m);
  assert.match(help('train'), /genrm train RECIPE --help/);
});

test("genrm pretrain --help gives each option's preset values; star sample --help its sampling and dataset options", () => {
  const p = help('pretrain');
  assert.match(p, /^ {2}steps {2}\(integer in \[1, 10,000,000\]; default tiny 40, base 3000\)$/m);
  assert.match(p, /^ {2}preset {2}\('tiny' \| 'base'; default 'base'\)$/m);
  const s = help('star', 'sample');
  assert.match(s, /^ {2}k {2}\(integer in \[1, 1024\]; default 8\)$/m);
  assert.match(s, /^ {2}pairing {2}\('all' \| 'random-one'; default 'all'\)$/m);
});
