// What `genrm pretrain` and `genrm train` share: a --config file merged with flags (flags win)
// into a validated config, the integer flags, and the command line recorded in provenance.
import { readConfigFile } from '../train/configFile.js';
import { CliError } from './errors.js';

/** A non-negative integer flag, or undefined when absent. */
export function intFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`--${flag}: expected a non-negative integer, got "${v}"`);
  return Number(v);
}

/** A non-negative number flag (the config's schema checks its range), or undefined when absent. */
export function numFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < 0) throw new CliError(`--${flag}: expected a non-negative number, got "${v}"`);
  return x;
}

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
 * ([key, what it is]) and validated by `resolve`; every failure is a CliError.
 */
export function configFromFlags<C>(
  configFile: string | undefined,
  flags: () => Record<string, unknown>,
  required: ReadonlyArray<readonly [string, string]>,
  resolve: (given: Record<string, unknown>) => C,
): C {
  try {
    const given: Record<string, unknown> = { ...(configFile ? readConfigFile(configFile) : {}) };
    for (const [k, v] of Object.entries(flags())) if (v !== undefined) given[k] = v;
    for (const [k, what] of required) if (given[k] === undefined) throw new CliError(`--${k} is required (${what})`);
    return resolve(given);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  }
}
