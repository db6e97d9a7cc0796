// Benchmark dispatcher: `npm run bench -- <name> [options]` (e.g. `npm run bench -- engine --json`).
// Each benchmark is a module under bench/ exporting `run(args)`; register new ones in BENCHES.
export interface BenchModule {
  /** One line for the usage text. */
  describe: string;
  /** Runs with the remaining CLI args; prints its own report (text, or JSON with --json). */
  run(args: string[]): Promise<void>;
}

const BENCHES: Record<string, () => Promise<BenchModule>> = {
  engine: () => import('./engine.js'),
  lm: () => import('./lm.js'),
  judge: () => import('./judge.js'),
  data: () => import('./data.js'),
  gguf: () => import('./gguf.js'),
  serve: () => import('./serve.js'),
  train: () => import('./train.js'),
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const load = name === undefined ? undefined : BENCHES[name];
  if (!load) {
    console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--json] [options]`);
    for (const [n, l] of Object.entries(BENCHES)) console.error(`  ${n.padEnd(8)} ${(await l()).describe}`);
    process.exit(name === undefined || name === '--help' ? 0 : 2);
  }
  await (await load()).run(rest);
}

await main();
