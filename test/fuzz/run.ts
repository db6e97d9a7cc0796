// `npm run fuzz -- [--cases 5000] [--seed 1]`: the loaders' fuzz harness (harness.ts) at length.
// Prints each failure as it is found (seed and case reproduce it) and a summary per loader;
// exits 1 when any case failed.
import { runFuzz } from './harness.js';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`fuzz: ${name} must be a non-negative integer`);
  return v;
}

const cases = flag('--cases', 5000);
const seed = flag('--seed', 1);
const t0 = performance.now();
const s = runFuzz(seed, cases, (f) => console.log(`FAIL seed ${f.seed} case ${f.case} ${f.target}: ${f.mutation}\n  ${f.error}`));
console.log(
  `fuzz: ${s.cases} cases (seed ${seed}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${s.loaded} loaded, ${s.refused} refused by name, ${s.failures.length} failed`,
);
for (const [name, t] of Object.entries(s.byTarget))
  console.log(
    `  ${name.padEnd(22)} ${String(t.cases).padStart(6)} cases  ${String(t.loaded).padStart(6)} loaded  ${String(t.refused).padStart(6)} refused`,
  );
process.exit(s.failures.length > 0 ? 1 : 0);
