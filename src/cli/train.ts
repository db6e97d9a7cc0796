// `genrm train RECIPE`: fine-tune a base checkpoint into a judge or reward model with one of the
// recipes (src/train/recipes/).
//
//   genrm train genrm --data world/ --base models/base --out models/genrm
//   genrm train bt --data pairs.jsonl --base models/base --out models/bt --config bt.yaml
//   genrm train genrm --data world/ --base models/base --out models/genrm --resume
//
// A --config file (JSON or YAML) holds any of the recipe's options (camelCase keys, e.g.
// `steps: 300`, `lr: 3e-4`); flags win over the file; an unknown key is an error naming it.
// The run folder gets the checkpoint, trainer-state/, metrics.jsonl and config.resolved.json.
import type { Command } from 'commander';
import { getRecipe, RECIPES, resolveRecipeConfig, runRecipe } from '../train/recipes/index.js';
import { CliError } from './errors.js';
import { configFromFlags, intFlag, numFlag, runOptions } from './trainFlags.js';

interface Flags {
  data?: string;
  base?: string;
  out?: string;
  config?: string;
  resume?: boolean;
  steps?: string;
  seed?: string;
  filter?: string;
  valPairs?: string;
  patience?: string;
  replay?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(`fine-tune a base checkpoint with a training recipe: ${RECIPES.map((r) => r.name).join(', ')}`)
    .argument('<recipe>', RECIPES.map((r) => `${r.name}: ${r.description}`).join('; '))
    .option('--data <path>', 'a PrefWorld folder (train.jsonl; test-id.jsonl for the held-out eval) or a PreferencePair JSONL file')
    .option('--base <dir>', 'the base checkpoint (kind lm), e.g. from genrm pretrain')
    .option('--out <dir>', 'run folder: checkpoint, trainer-state/, metrics.jsonl, config.resolved.json')
    .option('--config <file>', "config file (JSON or YAML) with any of the recipe's options")
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--steps <n>', 'most optimizer updates: the cap early stopping works under (overrides the config)')
    .option('--seed <n>', 'seed for data order, held-out slice and sampling')
    .option('--val-pairs <n>', 'training pairs held out for early stopping (0: train exactly --steps)')
    .option('--patience <n>', 'validation checks without improvement before stopping')
    .option('--replay <share>', 'LM recipes: share of each batch drawn from the pretraining corpus (0 turns it off; corpus from --data or the replayData option)')
    .option('--filter <rule>', "star-sft, star-dpo: which rationales count as right: verdict (the paper's rule, default) or checked (also right for the right reason by PrefWorld's grader)")
    .option('--json', 'print the result as JSON (no progress bar)')
    .option('--quiet', 'no progress bar or status lines')
    .action(async (name: string, flags: Flags) => {
      let recipe: ReturnType<typeof getRecipe>;
      try {
        recipe = getRecipe(name);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const cfg = configFromFlags(
        flags.config,
        () => ({ data: flags.data, base: flags.base, out: flags.out, steps: intFlag('steps', flags.steps), seed: intFlag('seed', flags.seed), filter: flags.filter, valPairs: intFlag('val-pairs', flags.valPairs), patience: intFlag('patience', flags.patience), replay: numFlag('replay', flags.replay) }),
        [['data', 'a PrefWorld folder or pairs JSONL'], ['base', 'the base checkpoint'], ['out', 'the run folder']],
        (given) => resolveRecipeConfig(recipe, given, flags.config ?? 'flags'),
      );
      let result;
      try {
        result = await runRecipe(recipe, cfg, runOptions(flags));
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      if (flags.json) {
        console.log(JSON.stringify({ ...result, config: cfg }, null, 2));
        return;
      }
      if (!flags.quiet) {
        const ev = Object.entries(result.eval)
          .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`)
          .join(', ');
        const val = result.bestVal !== null ? `held-out val/loss ${result.bestVal.toFixed(4)} (best at step ${result.bestStep}${result.stoppedEarly ? ', stopped early; the saved model is the best step\'s' : ''})` : `loss ${result.firstLoss.toFixed(3)} -> ${result.lastLoss.toFixed(3)} (no validation slice)`;
        console.log(`trained ${result.recipe} -> ${result.out}: ${result.steps} steps, ${val}${ev ? `; held-out ${ev}` : ''}; ${(result.tokens / 1e6).toFixed(2)}M tokens, ${result.cpuSec.toFixed(0)} CPU s, ${(result.elapsedSec / 60).toFixed(1)} min`);
      }
    });
}
