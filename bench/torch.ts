// Where Debian's python3-torch is installed, the benches run a plain PyTorch version of the same
// work (bench/torch_*.py) as an anchor. This finds that Python and runs one of the scripts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A python3 that can import torch (Debian's /usr/bin/python3 first), or undefined. */
export function torchPython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    if (py.startsWith('/') && !existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return undefined;
}

/** Runs bench/<script> with `args` and parses the JSON object on its last stdout line. */
export function runTorchScript<T>(py: string, script: string, args: string[]): T {
  // Beside this file under tsx; from dist/bench/ (compiled), back in the source tree.
  const path = [new URL(`./${script}`, import.meta.url), new URL(`../../bench/${script}`, import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((p) => existsSync(p));
  if (!path) throw new Error(`bench/${script} not found`);
  const r = spawnSync(py, [path, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr.slice(-500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}
