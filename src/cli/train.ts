// `genrm train RECIPE`: fine-tune a base checkpoint into a judge or reward model with one of the
// recipes (src/train/recipes/).
//
//   genrm train genrm --data world/ --base models/base --out models/genrm
//   genrm train bt --data pairs.jsonl --base models/base --out models/bt --config bt.yaml
//   genrm train genrm --data world/ --base models/base --out models/genrm --resume
//
// A --config file (JSON or YAML) holds any of the recipe's options (camelCase keys, e.g.
// `steps: 300`, `lr: 3e-4`) or TRL's names for them (`learning_rate`, `num_train_epochs`, ...:
// train/configFile.ts TRL_KEYS, mapped once and printed); flags win over the file; an unknown key
// is an error naming it and the nearest known key. TRL's trainer names are recipes too: `reward`
// is bt, `dpo` DPO on preference pairs, `sft` SFT on chosen answers or TRL's SFT data.
// The run folder gets the checkpoint, trainer-state/, metrics.jsonl and config.resolved.json.
import type { Command } from 'commander';
import { mapTrlKeys, mappingLine, readConfigFile, type MappedConfig } from '../train/configFile.js';
import { getRecipe, RECIPE_ALIASES, RECIPES, recipeKeys, resolveRecipeConfig, resolveSchedule, runRecipe } from '../train/recipes/index.js';
import { trainHelpAfter } from './configDocs.js';
import { CliError } from './errors.js';
import { intFlag, numFlag } from './flags.js';
import { configFromFlags, runOptions } from './trainFlags.js';

interface Flags {
  data?: string;
  base?: string;
  out?: string;
  config?: string;
  resume?: boolean;
  steps?: string;
  seed?: string;
  filter?: string;
  reward?: string;
  valPairs?: string;
  patience?: string;
  replay?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      `fine-tune a base checkpoint with a training recipe: ${RECIPES.map((r) => r.name).join(', ')} (TRL's names: reward = bt, dpo, sft)`,
    )
    .argument(
      '<recipe>',
      [
        ...RECIPES.map((r) => `${r.name}: ${r.description}`),
        ...Object.entries(RECIPE_ALIASES).map(([a, r]) => `${a}: TRL's name for ${r}`),
      ].join('; '),
    )
    .option('--data <path>', 'a PrefWorld folder (train.jsonl; test-id.jsonl for the held-out eval) or a PreferencePair JSONL file')
    .option('--base <dir>', 'the base checkpoint (kind lm), e.g. from genrm pretrain')
    .option('--out <dir>', 'run folder: checkpoint, trainer-state/, metrics.jsonl, config.resolved.json')
    .option('--config <file>', "config file (JSON or YAML) with any of the recipe's options, by genrm's or TRL's names (README: Interop)")
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--steps <n>', 'most optimizer updates: the cap early stopping works under (overrides the config)')
    .option('--seed <n>', 'seed for data order, held-out slice and sampling')
    .option('--val-pairs <n>', 'training pairs held out for early stopping (0: train exactly --steps)')
    .option('--patience <n>', 'validation checks without improvement before stopping')
    .option(
      '--replay <share>',
      'LM recipes: share of each batch drawn from the pretraining corpus (0 turns it off; corpus from --data or the replayData option)',
    )
    .option('--reward <rule>', 'grpo: right (1 for the right verdict, default) or consistent (J1: the i-th samples of both orders right)')
    .option(
      '--filter <rule>',
      "star-sft, star-dpo: which rationales count as right: verdict (the paper's rule, default) or checked (also right for the right reason by PrefWorld's grader)",
    )
    .option('--json', 'print the result as JSON (no progress bar)')
    .option('--quiet', 'no progress bar or status lines')
    // `genrm train RECIPE --help`: commander has the recipe in args by the time it prints help.
    .addHelpText('after', ({ command }) => trainHelpAfter(command.args[0], process.stdout.columns))
    .action(async (name: string, flags: Flags) => {
      let recipe: ReturnType<typeof getRecipe>;
      recipe = getRecipe(name);
      const source = flags.config ?? 'flags';
      let mapped: MappedConfig = { config: {}, schedule: {}, mapping: [] };
      let given = new Set<string>();
      const parsed = configFromFlags(
        undefined,
        () => {
          // The file's keys through TRL's names (one mapping step), then the flags on top: flags win.
          mapped = mapTrlKeys(flags.config ? readConfigFile(flags.config) : {}, recipeKeys(recipe), recipe.name, source);
          const merged: Record<string, unknown> = { ...mapped.config };
          const cli = {
            data: flags.data,
            base: flags.base,
            out: flags.out,
            steps: intFlag('--steps', flags.steps, { min: 0 }),
            seed: intFlag('--seed', flags.seed, { min: 0 }),
            filter: flags.filter,
            reward: flags.reward,
            valPairs: intFlag('--val-pairs', flags.valPairs, { min: 0 }),
            patience: intFlag('--patience', flags.patience, { min: 0 }),
            replay: numFlag('--replay', flags.replay, { min: 0 }),
          };
          for (const [k, v] of Object.entries(cli)) if (v !== undefined) merged[k] = v;
          given = new Set(Object.keys(merged));
          return merged;
        },
        [
          ['data', 'a PrefWorld folder or pairs JSONL'],
          ['base', 'the base checkpoint'],
          ['out', "the run folder; TRL's output_dir"],
        ],
        (merged) => resolveRecipeConfig(recipe, merged, source),
      );
      const opts = runOptions(flags);
      if (RECIPE_ALIASES[name]) opts.say(`train ${name}: TRL's name for recipe ${recipe.name}`);
      let cfg;
      let result;
      let notes: string[] = [];
      const s = await resolveSchedule(recipe, parsed, mapped.schedule, given, source);
      cfg = s.config;
      notes = s.notes;
      const line = mappingLine(mapped.mapping, source);
      if (line) opts.say(line);
      for (const n of notes) opts.say(`${source}: ${n}`);
      result = await runRecipe(recipe, cfg, opts);
      if (flags.json) {
        console.log(
          JSON.stringify(
            {
              ...result,
              config: cfg,
              ...(mapped.mapping.length ? { trl: mapped.mapping } : {}),
              ...(notes.length ? { schedule: notes } : {}),
            },
            null,
            2,
          ),
        );
        return;
      }
      if (!flags.quiet) {
        const ev = Object.entries(result.eval)
          .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`)
          .join(', ');
        const val =
          result.bestVal !== null
            ? `held-out val/loss ${result.bestVal.toFixed(4)} (best at step ${result.bestStep}${result.stoppedEarly ? ", stopped early; the saved model is the best step's" : ''})`
            : `loss ${result.firstLoss.toFixed(3)} -> ${result.lastLoss.toFixed(3)} (no validation slice)`;
        console.log(
          `trained ${result.recipe} -> ${result.out}: ${result.steps} steps, ${val}${ev ? `; held-out ${ev}` : ''}; ${(result.tokens / 1e6).toFixed(2)}M tokens, ${result.cpuSec.toFixed(0)} CPU s, ${(result.elapsedSec / 60).toFixed(1)} min`,
        );
      }
    });
}
