// `genrm pretrain`: train genrm's tokenizer and base language model on a PrefWorld corpus.
//
//   genrm pretrain --data world/ --preset base --out models/base
//   genrm pretrain --data world/ --out models/base --resume        # after an interruption
//
// Flags and a --config file (JSON or YAML) map one to one onto the pretrain config (camelCase
// keys, e.g. `steps: 2000`, `dModel: 256`); flags win; an unknown key is an error naming it.
import type { Command } from 'commander';
import { PRESETS, resolvePretrainConfig } from '../train/pretrain/config.js';
import { pretrain, reportCheckpoint } from '../train/pretrain/run.js';
import { formatWorkedReport } from '../train/pretrain/workedEval.js';
import { pretrainHelpAfter } from './configDocs.js';
import { CliError } from './errors.js';
import { intFlag } from './flags.js';
import { configFromFlags, runOptions } from './trainFlags.js';

interface Flags {
  data?: string;
  preset?: string;
  out?: string;
  steps?: string;
  seed?: string;
  resume?: boolean;
  config?: string;
  json?: boolean;
  quiet?: boolean;
  reportOnly?: boolean;
}

export function registerPretrain(program: Command): void {
  program
    .command('pretrain')
    .description('train the tokenizer and base language model on a PrefWorld corpus (checkpoints, resume, worked-solution report)')
    .option('--data <path>', 'a PrefWorld folder (genrm world generate) or its corpus.jsonl')
    .option('--preset <name>', `model and schedule preset: ${PRESETS.join(' | ')} (default base)`)
    .option('--out <dir>', 'run folder: the checkpoint, trainer-state/ and metrics.jsonl')
    .option('--steps <n>', 'optimizer updates (overrides the preset)')
    .option('--seed <n>', 'seed for init, data order and the held-out split')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--config <file>', 'config file (JSON or YAML) with any pretrain option')
    .option(
      '--report-only',
      "only (re)write the worked-solution report of the checkpoint in --out on the --data world (its preset's task and sample counts)",
    )
    .option('--json', 'print the result as JSON (no progress bar)')
    .option('--quiet', 'no progress bar or status lines')
    .addHelpText('after', () => pretrainHelpAfter(process.stdout.columns))
    .action((flags: Flags) => {
      const cfg = configFromFlags(
        flags.config,
        () => ({
          data: flags.data,
          out: flags.out,
          preset: flags.preset,
          steps: intFlag('--steps', flags.steps, { min: 0 }),
          seed: intFlag('--seed', flags.seed, { min: 0 }),
        }),
        [
          ['data', 'a PrefWorld folder or corpus.jsonl'],
          ['out', 'the run folder'],
        ],
        (given) => resolvePretrainConfig(given, flags.config ?? 'pretrain'),
      );
      if (flags.reportOnly) {
        let r;
        r = reportCheckpoint(cfg.out, cfg.data, { tasks: cfg.evalTasks, samples: cfg.evalSamples, seed: cfg.seed });
        console.log(
          flags.json
            ? JSON.stringify(r, null, 2)
            : `worked solutions on held-out tasks (greedy; ${r.seconds.toFixed(0)} s), written to ${cfg.out}:\n${formatWorkedReport(r)}`,
        );
        return;
      }
      let result;
      result = pretrain(cfg, runOptions(flags));
      if (flags.json) {
        console.log(JSON.stringify({ ...result, config: cfg }, null, 2));
        return;
      }
      if (!flags.quiet) {
        console.log(
          `pretrained ${result.out}: ${result.steps} steps, loss ${result.firstLoss.toFixed(3)} -> ${result.lastLoss.toFixed(3)}, held-out ${result.evalLoss.toFixed(3)}, ${Math.round(result.tokensPerSec)} tokens/s, ${(result.elapsedSec / 60).toFixed(1)} min`,
        );
      }
    });
}
