// Errors at the terminal: every command's error reaches `exitOnError` (main.ts), which prints it
// as one line and exits with its class's code (usage 2, bad input 3, runtime 1: README, "Exit
// codes"). GENRM_DEBUG=1 adds the stack trace.
import { EXIT_CODES, errorCode, GenrmError, type ErrorCode } from '../util/errors.js';

/** An error the CLI itself raises: a flag (usage, the default) or a file it was pointed at (bad_input). */
export class CliError extends GenrmError {
  constructor(message: string, code: ErrorCode = 'usage') {
    super(message, code);
    this.name = 'CliError';
  }
}

/** An error opening --model: a GenrmError keeps its class; anything else is the model folder's fault (bad input). */
export function modelError(model: string, e: unknown): CliError {
  if (e instanceof CliError) return e;
  return new CliError(`--model ${model}: ${e instanceof Error ? e.message : String(e)}`, e instanceof GenrmError ? e.code : 'bad_input');
}

/** Prints `genrm: <message>` (and the stack with GENRM_DEBUG=1) and exits with the error's class code. */
export function exitOnError(e: unknown): never {
  const code = errorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  console.error(`genrm: ${message}`);
  if (process.env.GENRM_DEBUG === '1' && e instanceof Error && e.stack) console.error(e.stack);
  process.exit(EXIT_CODES[code]);
}
