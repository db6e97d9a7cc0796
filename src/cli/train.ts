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
import { readConfigFile } from '../train/configFile.js';
import { getRecipe, RECIPES, resolveRecipeConfig, runRecipe } from '../train/recipes/index.js';
import { CliError } from './errors.js';

interface Flags {
  data?: string;
  base?: string;
  out?: string;
  config?: string;
  resume?: boolean;
  steps?: string;
  seed?: string;
  json?: boolean;
  quiet?: boolean;
}

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`--${flag}: expected a non-negative integer, got "${v}"`);
  return Number(v);
}

function commandLine(): string {
  return ['genrm', ...process.argv.slice(2)].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
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
    .option('--steps <n>', 'optimizer updates (overrides the config)')
    .option('--seed <n>', 'seed for data order, held-out slice and sampling')
    .option('--json', 'print the result as JSON (no progress bar)')
    .option('--quiet', 'no progress bar or status lines')
    .action(async (name: string, flags: Flags) => {
      let recipe;
      let cfg;
      try {
        recipe = getRecipe(name);
        const fromFile = flags.config ? readConfigFile(flags.config) : {};
        const given: Record<string, unknown> = { ...fromFile };
        const over = { data: flags.data, base: flags.base, out: flags.out, steps: int('steps', flags.steps), seed: int('seed', flags.seed) };
        for (const [k, v] of Object.entries(over)) if (v !== undefined) given[k] = v;
        for (const [k, what] of [['data', 'a PrefWorld folder or pairs JSONL'], ['base', 'the base checkpoint'], ['out', 'the run folder']] as const)
          if (given[k] === undefined) throw new CliError(`--${k} is required (${what})`);
        cfg = resolveRecipeConfig(recipe, given, flags.config ?? 'flags');
      } catch (e) {
        if (e instanceof CliError) throw e;
        throw new CliError((e as Error).message);
      }
      const quiet = flags.quiet === true || flags.json === true;
      let result;
      try {
        result = await runRecipe(recipe, cfg, {
          command: commandLine(),
          resume: flags.resume === true,
          progress: !quiet,
          say: quiet ? () => {} : (line) => console.error(line),
        });
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
        console.log(`trained ${result.recipe} -> ${result.out}: ${result.steps} steps, loss ${result.firstLoss.toFixed(3)} -> ${result.lastLoss.toFixed(3)}${ev ? `; held-out ${ev}` : ''}; ${(result.elapsedSec / 60).toFixed(1)} min`);
      }
    });
}
