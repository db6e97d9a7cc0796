// One root error for genrm, as openai-node has one root (APIError): every error genrm raises on
// purpose is a GenrmError whose `code` says what went wrong, so the CLI classifies it once and
// exits with that class's code (README, "Exit codes").
//   usage      the command line asks for something impossible (a flag, a model that cannot do it)
//   bad_input  a file, config or record is not what was expected (it names the file and field)
//   runtime    the work itself failed (a backend, the numerics, the machine)
export type ErrorCode = 'usage' | 'bad_input' | 'runtime';

export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = { runtime: 1, usage: 2, bad_input: 3 };

export class GenrmError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode = 'runtime',
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'GenrmError';
  }
}

/** Node's errors about a path the user gave (missing, a folder, not readable): bad input. */
const PATH_ERRNO = new Set(['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES', 'EPERM', 'ENAMETOOLONG']);

/** The class of any thrown value: a GenrmError's code, bad_input for path and schema errors, else runtime. */
export function errorCode(e: unknown): ErrorCode {
  if (e instanceof GenrmError) return e.code;
  const errno = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof errno === 'string' && PATH_ERRNO.has(errno)) return 'bad_input';
  if ((e as Error | null)?.name === 'ZodError') return 'bad_input';
  return 'runtime';
}
