// `genrm world generate` and `genrm world stats`: PrefWorld, the synthetic preference benchmark
// (src/data/world/). Generation is deterministic: the same spec and seed give the same bytes.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { generateWorld, writeWorld } from '../data/world/generate.js';
import { SIZES, type Size, resolveSpec } from '../data/world/spec.js';
import { type WorldStats, worldStats } from '../data/world/stats.js';
import { CliError } from './errors.js';
import { intFlag } from './flags.js';

async function loadSpecFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`--spec ${file}: cannot read (${(e as Error).message})`);
  }
  try {
    const v: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`--spec ${file}: not a JSON/YAML object (${(e as Error).message})`);
  }
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
const fmtCounts = (c: Record<string, number>): string =>
  Object.entries(c)
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

function printStats(s: WorldStats): void {
  console.log(`PrefWorld ${s.spec.name} v${s.spec.version}, seed ${s.spec.seed}, size ${s.spec.size}: ${s.dir}`);
  for (const [name, sp] of Object.entries(s.splits)) {
    console.log(`\n${name}: ${sp.pairs} pairs, ${sp.noisy} noisy`);
    console.log(`  categories  ${fmtCounts(sp.byCategory)}`);
    console.log(`  families    ${fmtCounts(sp.byFamily)}`);
    console.log(`  difficulty  ${fmtCounts(sp.byDifficulty)}`);
    if (name === 'test-ood') console.log(`  shifts      ${fmtCounts(sp.byShift)}`);
    console.log(
      `  style       differ ${pct(sp.style.differ)}, chosen pleasant when differ ${pct(sp.style.chosenPleasantWhenDiffer)}, correlation ${sp.style.correlation.toFixed(3)}`,
    );
  }
  console.log(`\nshortcut baseline (surface features only; weights ${s.shortcut.weights.map((w) => w.toFixed(2)).join(', ')}):`);
  for (const [k, v] of Object.entries(s.shortcut.accuracy)) console.log(`  ${k.padEnd(26)} ${pct(v)}`);
  console.log(
    `\noverlap of test instances with train and corpus (levels where tests would take > reserveMaxShare of the instance space; measured):`,
  );
  for (const [k, r] of Object.entries(s.overlap.rows).sort())
    if (r.inCorpus || r.inTrain)
      console.log(`  ${k.padEnd(14)} space ${r.space}: ${r.testInstances} test, ${r.inCorpus} in corpus, ${r.inTrain} in train`);
  console.log(`  overlaps at reserved levels: corpus ${s.overlap.reservedInCorpus}, train ${s.overlap.reservedInTrain} (must be 0)`);
  console.log(`\nCoT judge example bytes (prompt + rationale + verdict):`);
  for (const [k, v] of Object.entries(s.judgeBytes)) console.log(`  ${k.padEnd(18)} n=${v.n} p95=${v.p95} max=${v.max}`);
  console.log(`\ncorpus: ${s.corpus.docs} documents, ${s.corpus.bytes} bytes; ${fmtCounts(s.corpus.byKind)}`);
}

export function registerWorld(program: Command): void {
  const world = program.command('world').description('PrefWorld: the synthetic preference benchmark (splits, corpus, spec)');

  world
    .command('generate')
    .description('write train/test-id/test-ood pairs, the pretraining corpus and spec.json to a folder')
    .requiredOption('--out <dir>', 'output folder (created; files written atomically)')
    .option('--spec <file>', 'a (partial) spec, JSON or YAML, merged over the size preset')
    .option('--seed <n>', 'random seed (overrides the spec)')
    .option('--size <size>', `preset: ${Object.keys(SIZES).join(' | ')}`)
    .option('--json', 'print the manifest as JSON')
    .action(async (opts: { out: string; spec?: string; seed?: string; size?: string; json?: boolean }) => {
      const override = opts.spec ? await loadSpecFile(opts.spec) : {};
      const sizeRaw = opts.size ?? (typeof override['size'] === 'string' && override['size'] !== 'custom' ? override['size'] : 'quick');
      if (!(sizeRaw in SIZES)) throw new CliError(`--size: expected ${Object.keys(SIZES).join(' or ')}, got "${sizeRaw}"`);
      if (opts.seed !== undefined) override['seed'] = intFlag('--seed', opts.seed);
      // A --size given on the command line wins over sizes in the spec file.
      if (opts.size !== undefined) delete override['pairs'];
      let spec;
      spec = resolveSpec(sizeRaw as Size, { ...override, size: sizeRaw }, opts.spec ?? 'spec');
      const t0 = performance.now();
      const w = generateWorld(spec);
      const manifest = await writeWorld(opts.out, w);
      const secs = (performance.now() - t0) / 1000;
      if (opts.json) console.log(JSON.stringify({ out: opts.out, seconds: secs, ...manifest }, null, 2));
      else {
        console.log(`PrefWorld v${spec.version} (seed ${spec.seed}, size ${spec.size}) written to ${opts.out} in ${secs.toFixed(1)} s`);
        for (const [f, m] of Object.entries(manifest.files))
          console.log(`  ${f.padEnd(15)} ${String(m.records).padStart(7)} records ${String(m.bytes).padStart(10)} bytes`);
      }
    });

  world
    .command('stats')
    .description('counts, style-label correlation, shortcut baseline, overlap and judge-example lengths of a generated world')
    .argument('<dir>', 'a folder written by `genrm world generate`')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      let s: WorldStats;
      s = await worldStats(dir);
      if (opts.json) console.log(JSON.stringify(s, null, 2));
      else printStats(s);
    });
}
