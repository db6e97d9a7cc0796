// Every user-facing config's options, printed from its zod schema (util/schemaDoc.ts): the
// listings after `genrm train RECIPE --help`, `genrm pretrain --help` and `genrm star sample
// --help`, and docs/CONFIG.md, which `npm run docs` writes and test/cli/configDocs.test.ts holds
// to the schemas.
import { z } from 'zod';
import { SuiteEntrySchema, SuiteFileSchema } from '../eval/suite.js';
import { JudgeConfigSchema } from '../judge/config.js';
import { PRESET_VALUES, PRESETS, PretrainConfigSchema } from '../train/pretrain/config.js';
import { RecipeCommonShape } from '../train/recipes/config.js';
import { RECIPE_ALIASES, RECIPES, type Recipe } from '../train/recipes/index.js';
import { StarBuildSchema, StarSamplingSchema } from '../train/star/config.js';
import { formatOptionDocs, formatValue, markdownOptionDocs, optionDocs, type OptionDoc } from '../util/schemaDoc.js';

const shapeOf = (r: Recipe): z.ZodRawShape => (r.schema as unknown as z.ZodObject).shape;

/** Every option of a recipe, with the recipe's defaults. */
export function recipeOptionDocs(r: Recipe): OptionDoc[] {
  return optionDocs(r.schema as unknown as z.ZodObject);
}

/** A recipe's own options and the common ones it redefines (another default or reason). */
function recipeOwnDocs(r: Recipe): OptionDoc[] {
  const shape = shapeOf(r);
  const own = new Set(Object.keys(shape).filter((k) => shape[k] !== (RecipeCommonShape as z.ZodRawShape)[k]));
  return recipeOptionDocs(r).filter((d) => own.has(d.key));
}

/** pretrain's options; the defaults are the presets' values. */
export function pretrainOptionDocs(): OptionDoc[] {
  const defaults: Record<string, string> = { preset: "'base'" };
  for (const key of Object.keys(PretrainConfigSchema.shape)) {
    const vals = PRESETS.map((p) => (PRESET_VALUES[p] as Record<string, unknown>)[key]);
    if (vals[0] === undefined) continue;
    defaults[key] = vals.every((v) => v === vals[0])
      ? formatValue(vals[0])
      : PRESETS.map((p, i) => `${p} ${formatValue(vals[i])}`).join(', ');
  }
  return optionDocs(PretrainConfigSchema, defaults);
}

const CONFIG_KEYS = 'as keys of a --config file (JSON or YAML; the flags above set the same options and win)';

/** What `genrm train [RECIPE] --help` prints after the flags: the recipe's options, or where to find them. */
export function trainHelpAfter(name: string | undefined, width?: number): string {
  const r = RECIPES.find((x) => x.name === (RECIPE_ALIASES[name ?? ''] ?? name));
  if (!r)
    return "\nEach recipe's options, with their defaults and the reasons for them: genrm train RECIPE --help (all recipes: docs/CONFIG.md).";
  return `\n${formatOptionDocs(`Options of recipe ${r.name}, ${CONFIG_KEYS}; TRL's names are mapped too (README: Interop):`, recipeOptionDocs(r), width)}`;
}

/** What `genrm pretrain --help` prints after the flags. */
export function pretrainHelpAfter(width?: number): string {
  return `\n${formatOptionDocs(`Options, ${CONFIG_KEYS}; each defaults to the preset's value:`, pretrainOptionDocs(), width)}`;
}

/** What `genrm star sample --help` prints after the flags. */
export function starSampleHelpAfter(width?: number): string {
  return `\n${formatOptionDocs(`Sampling options, ${CONFIG_KEYS}:`, optionDocs(StarSamplingSchema), width)}\n\n${formatOptionDocs('Dataset options, in the same --config file (they can change without resampling):', optionDocs(StarBuildSchema), width)}`;
}

/** docs/CONFIG.md. */
export function configDocsMarkdown(): string {
  const out: string[] = [
    '# Config options',
    '',
    '<!-- Written by `npm run docs` from the zod schemas (src/cli/configDocs.ts); test/cli/configDocs.test.ts fails when it is out of date. Do not edit by hand. -->',
    '',
    'Every option below is a key of a `--config` file (JSON or YAML, camelCase) and a field of the',
    "library config it names; the commands' flags set the same options and win over the file. An",
    'unknown key is an error naming the nearest known one; a value out of bounds is an error naming',
    "the field. `genrm train` also takes TRL's names for its keys (README: Interop). The same lists",
    'print after `genrm train RECIPE --help`, `genrm pretrain --help` and `genrm star sample --help`.',
    '',
    '## genrm train: every recipe',
    '',
    'The options every recipe takes (src/train/recipes/config.ts RecipeCommonShape), with the defaults of the recipes that do not change them:',
    '',
    markdownOptionDocs(optionDocs(z.object(RecipeCommonShape))),
  ];
  for (const r of RECIPES) {
    const aliases = Object.entries(RECIPE_ALIASES)
      .filter(([, to]) => to === r.name)
      .map(([a]) => a);
    out.push(
      '',
      `## genrm train ${r.name}`,
      '',
      `${r.description}${aliases.length ? ` (TRL's name: ${aliases.join(', ')})` : ''}. Its own options, and the common ones whose default it changes:`,
      '',
      markdownOptionDocs(recipeOwnDocs(r)),
    );
  }
  out.push(
    '',
    '## genrm pretrain',
    '',
    `The tokenizer and base model (src/train/pretrain/config.ts). Every option defaults to the preset's value (presets: ${PRESETS.join(', ')}):`,
    '',
    markdownOptionDocs(pretrainOptionDocs()),
    '',
    '## genrm star sample',
    '',
    "The STaR sampler (src/train/star/config.ts), also inside the star-sft and star-dpo recipes (where the run's `seed` seeds both). Sampling, fixed for a resumable run:",
    '',
    markdownOptionDocs(optionDocs(StarSamplingSchema)),
    '',
    'Building the STaR-SFT / STaR-DPO datasets from the samples (can change without resampling):',
    '',
    markdownOptionDocs(optionDocs(StarBuildSchema)),
    '',
    '## The judge',
    '',
    "The judge's configuration (src/judge/config.ts `JudgeConfig`), which `genrm judge`'s flags, `genrm serve`'s judge options and library callers set:",
    '',
    markdownOptionDocs(optionDocs(JudgeConfigSchema)),
    '',
    '## genrm eval --suite FILE.yaml',
    '',
    'A suite file (src/eval/suite.ts):',
    '',
    markdownOptionDocs(optionDocs(SuiteFileSchema)),
    '',
    'An entry of a category: a path, or',
    '',
    markdownOptionDocs(optionDocs(SuiteEntrySchema)),
    '',
  );
  return out.join('\n');
}
