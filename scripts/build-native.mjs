// Builds the native kernels (build/Release/genrm.node) with node-gyp. This is the package's
// `install` script, so it must never fail an install: if the build cannot run (no compiler, no
// OpenBLAS headers), it prints one line saying how to get the fast path and exits 0, and genrm
// runs on its JS kernels. `--strict` (used by `npm run build:native`) exits 1 on failure instead
// and prints the compiler's output.
//
//   node scripts/build-native.mjs [--strict] [--verbose]
//   GENRM_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const strict = process.argv.includes('--strict');
const verbose = process.argv.includes('--verbose');
const HINT = 'for the fast path: apt-get install -y libopenblas-dev g++ make python3 && npm run build:native';

function giveUp(reason, log) {
  if (strict) {
    if (log) process.stderr.write(log);
    console.error(`genrm: native kernels not built: ${reason}`);
    process.exit(1);
  }
  console.error(`genrm: native kernels not built (${reason}); genrm will use its slow JS kernels; ${HINT}`);
  process.exit(0);
}

if (process.env.GENRM_SKIP_NATIVE === '1') giveUp('GENRM_SKIP_NATIVE=1');

// Checked up front so the usual failure gets a clear reason instead of a compiler error.
const cblasDirs = [
  '/usr/include',
  '/usr/include/x86_64-linux-gnu',
  '/usr/include/aarch64-linux-gnu',
  '/usr/include/openblas',
  '/usr/local/include',
];
if (process.platform === 'linux' && !cblasDirs.some((d) => existsSync(join(d, 'cblas.h')))) {
  giveUp('OpenBLAS headers (cblas.h) not found');
}

/** node-gyp: npm's bundled copy (npm sets npm_config_node_gyp in scripts), else npm's own folder. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && existsSync(p));
}

const nodeGyp = findNodeGyp();
const args = ['rebuild', '--jobs=max'];
// Use the installed Node headers when present: offline machines cannot download them.
const prefix = dirname(dirname(process.execPath));
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const cmd = nodeGyp ? process.execPath : 'npx';
const cmdArgs = nodeGyp ? [nodeGyp, ...args] : ['--no-install', 'node-gyp', ...args];
const res = spawnSync(cmd, cmdArgs, { cwd: root, encoding: 'utf8', stdio: verbose ? 'inherit' : 'pipe' });
const log = `${res.stdout ?? ''}${res.stderr ?? ''}`;

// Keep the full log for whoever needs to see why (written atomically).
try {
  mkdirSync(join(root, 'build'), { recursive: true });
  const logPath = join(root, 'build', 'native-build.log');
  writeFileSync(`${logPath}.tmp`, log);
  renameSync(`${logPath}.tmp`, logPath);
} catch {
  // A read-only tree: the log is only a convenience.
}

if (res.error || res.status !== 0 || !existsSync(join(root, 'build', 'Release', 'genrm.node'))) {
  const firstError = /error:?[^\n]*/i.exec(log)?.[0]?.slice(0, 160);
  giveUp(
    res.error
      ? `could not run node-gyp: ${res.error.message}`
      : `node-gyp failed${firstError ? `: ${firstError}` : ''}; log in build/native-build.log`,
    log,
  );
}
console.log('genrm: native kernels built (build/Release/genrm.node)');
