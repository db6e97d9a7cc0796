// What `genrm pretrain` and `genrm train` share: a --config file merged with flags (flags win)
// into a validated config, the integer flags, and the command line recorded in provenance.
import { readConfigFile } from '../train/configFile.js';
import { CliError } from './errors.js';

/** The command line as a shell would re-run it (arguments quoted where needed). */
export function commandLine(): string {
  return ['genrm', ...process.argv.slice(2)].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** How a training run reports and resumes, from the shared flags (--quiet and --json silence it). */
export function runOptions(flags: { quiet?: boolean; json?: boolean; resume?: boolean }) {
  const quiet = flags.quiet === true || flags.json === true;
  return {
    command: commandLine(),
    resume: flags.resume === true,
    progress: !quiet,
    say: quiet ? () => {} : (line: string) => console.error(line),
  };
}

/**
 * The config file's keys overlaid with the flags that were given, checked for required keys
 * ([key, what it is]) and validated by `resolve`.
 */
export function configFromFlags<C>(
  configFile: string | undefined,
  flags: () => Record<string, unknown>,
  required: ReadonlyArray<readonly [string, string]>,
  resolve: (given: Record<string, unknown>) => C,
): C {
  const given: Record<string, unknown> = { ...(configFile ? readConfigFile(configFile) : {}) };
  for (const [k, v] of Object.entries(flags())) if (v !== undefined) given[k] = v;
  for (const [k, what] of required) if (given[k] === undefined) throw new CliError(`--${k} is required (${what})`);
  return resolve(given);
}
