// Runs every test file under test/ with Node's built-in runner, after compiling to dist/.
// Node 20's `node --test` neither expands globs nor loads .ts files, so we compile with tsc and
// pass the compiled files explicitly. A run that finds no test files, or runs 0 tests, fails.
//
//   npm test                      all tests
//   npm test -- engine            only test files whose path contains "engine"
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {
  stdio: 'inherit',
});
// tsc emits even when it finds type errors; `npm run typecheck` is the gate for those.
if (tsc.status !== 0) console.error('test: tsc reported type errors (tests still run on the emitted code).');

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const testDir = join(root, 'dist/test');
let files = [];
try {
  files = walk(testDir).sort();
} catch {
  /* no compiled tests */
}
// tsc never deletes outputs: a test file renamed or removed leaves its old .js in dist/, which
// would run twice (or run a test that no longer exists). Only files with a source run.
files = files.filter((f) => existsSync(join(root, relative(join(root, 'dist'), f).replace(/\.js$/, '.ts'))));
if (filters.length > 0) files = files.filter((f) => filters.some((s) => relative(root, f).includes(s)));
if (files.length === 0) {
  console.error(`test: no test files found under ${relative(root, testDir)}${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'genrm-test-'));
const tap = join(tmp, 'report.tap');
const res = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
let count = -1;
try {
  const m = /^# tests (\d+)$/m.exec(readFileSync(tap, 'utf8'));
  if (m) count = Number(m[1]);
} catch {
  /* no report */
}
rmSync(tmp, { recursive: true, force: true });
if (count === 0) {
  console.error('test: 0 tests ran; failing.');
  process.exit(1);
}
process.exit(res.status ?? 1);
