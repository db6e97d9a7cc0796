// genrm's command line: one file per command under src/cli/, each exporting `register`.
import { Command, CommanderError } from 'commander';
import { exitOnError } from './errors.js';
import { registerDoctor } from './doctor.js';
import { registerWorld } from './world.js';
import { registerPretrain } from './pretrain.js';
import { registerTrain } from './train.js';
import { registerStar } from './star.js';
import { registerData } from './data.js';
import { registerServe } from './serve.js';
import { registerJudge } from './judge.js';
import { registerEval } from './eval.js';
import { registerRepro } from './repro.js';
import { registerExport } from './export.js';
import { registerBon } from './bon.js';

const program = new Command();
program
  .name('genrm')
  .description('Generative Reward Models: judge, train (SFT, STaR, DPO), evaluate and serve, on an embedded CPU engine.')
  .showHelpAfterError()
  .exitOverride(); // commander's own errors (unknown option, missing argument) throw instead of exiting

registerDoctor(program);
registerWorld(program);
registerPretrain(program);
registerTrain(program);
registerStar(program);
registerData(program);
registerServe(program);
registerJudge(program);
registerEval(program);
registerRepro(program);
registerExport(program);
registerBon(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has printed its own message (and help); --help and --version end with code 0.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  exitOnError(err);
}
