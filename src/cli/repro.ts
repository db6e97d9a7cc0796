// `genrm repro`: the GenRM paper's experiment on PrefWorld, end to end (src/eval/repro/).
//
//   genrm repro --quick                 # ≤ 10 minutes on the committed base; prints what it cut
//   genrm repro --out runs/full         # the full experiment (≤ 2 hours)
//   genrm repro --quick --out runs/q    # interrupted? the same command resumes where it stopped
//
// Each stage prints its time; results land in the run folder: report.md, report.html,
// results.json, plots/, report.png (headless chromium, where installed), records/ (per-pair
// verdicts of every method), models/ and stages/ (done-markers).
import { Option, type Command } from 'commander';
import { ProgressBar } from '../util/progress.js';
import { renderTerminal } from '../eval/report/terminal.js';
import { runRepro } from '../eval/repro/pipeline.js';
import { StopAfterStage } from '../eval/repro/stages.js';
import { CliError } from './errors.js';
import { intFlag } from './flags.js';

interface Flags {
  quick?: boolean;
  size?: string;
  out?: string;
  resume?: boolean;
  json?: boolean;
  base?: string;
  seed: string;
  screenshot: boolean;
  stopAfter?: string;
}

export function registerRepro(program: Command): void {
  program
    .command('repro')
    .description(
      "reproduce the GenRM paper's experiment on PrefWorld: world, base, zero-shot judge, bt/pairrm/genrm/rationalize/star-sft/star-dpo and the labelled star-sft+checked/star-dpo+checked, one training budget for all, eval in and out of distribution, report",
    )
    .option('--quick', 'the ≤ 10-minute form: committed base, fewer pairs, votes and STaR samples (prints what it cuts)')
    .option('--out <dir>', 'run folder (default runs/repro-quick or runs/repro-full)')
    .option('--resume', 'continue the run in --out (also automatic when --out holds a run with the same settings)')
    .option('--base <dir>', 'base checkpoint to start from (default: models/base if pretrained on this world, else pretrain one)')
    .option('--seed <n>', 'seed of training, sampling and the pair samples (the world keeps its own)', '1')
    .option('--no-screenshot', 'do not render report.png with headless chromium')
    .option('--json', 'print the results as JSON at the end')
    .addOption(new Option('--size <size>', 'quick | full | micro (tests)').hideHelp())
    .addOption(new Option('--stop-after <stage>', 'stop after this stage (tests: an interruption)').hideHelp())
    .action(async (f: Flags) => {
      const size = f.size ?? (f.quick ? 'quick' : 'full');
      if (size !== 'quick' && size !== 'full' && size !== 'micro')
        throw new CliError(`--size: expected quick, full or micro, got "${size}"`);
      if (f.quick && f.size && f.size !== 'quick') throw new CliError('--quick and --size disagree');
      const seed = intFlag('--seed', f.seed, { min: 0 })!;
      const out = f.out ?? `runs/repro-${size}`;
      const say = f.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
      // Progress on stderr for every stage: a bar on a terminal, a line every 30 s in a log.
      const progress = !f.json;
      let bar: ProgressBar | null = null;
      let barLabel = '';
      const command = ['genrm', ...process.argv.slice(2)].join(' ');
      try {
        const r = await runRepro({
          size,
          out,
          seed,
          base: f.base ?? null,
          command,
          progress,
          say: (line) => {
            if (bar) (bar.stop(), (bar = null));
            say(line);
          },
          onEvalProgress: (label, done, total) => {
            if (!progress) return;
            if (!bar || barLabel !== label) {
              bar?.stop();
              barLabel = label;
              bar = new ProgressBar(`  judge ${label} [{bar}] {value}/{total} pairs | ETA {eta_formatted}`, { enabled: true });
              bar.start(total, done);
            } else bar.update(done);
            if (done >= total) (bar.stop(), (bar = null));
          },
          ...(f.stopAfter ? { stopAfter: f.stopAfter } : {}),
          screenshot: f.screenshot,
        });
        if (f.json) {
          console.log(
            JSON.stringify(
              {
                out: r.out,
                resumed: r.resumed,
                seconds: r.seconds,
                timings: r.timings,
                skipped: r.skipped,
                cuts: r.cuts,
                plan: r.plan,
                base: r.base,
                files: r.files,
                png: r.png,
                results: r.results,
              },
              null,
              2,
            ),
          );
          return;
        }
        console.log('');
        console.log(renderTerminal(r.results));
        console.log('Stage times');
        for (const t of r.timings) console.log(`  ${t.stage.padEnd(18)} ${t.seconds.toFixed(1).padStart(8)} s`);
        console.log(`  ${'report'.padEnd(18)} ${r.reportSeconds.toFixed(1).padStart(8)} s`);
        console.log(
          `\n${r.resumed ? 'resumed run' : 'run'} finished in ${(r.seconds / 60).toFixed(1)} min (this process); report: ${r.files.markdown}, ${r.files.html}${r.png ? `, ${r.png}` : ''}`,
        );
      } catch (e) {
        (bar as ProgressBar | null)?.stop();
        if (e instanceof StopAfterStage) {
          say(`repro: ${e.message}; rerun the same command to resume`);
          return;
        }
        throw e;
      }
    });
}
