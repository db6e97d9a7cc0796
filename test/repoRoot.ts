// The package root (it holds package.json and bin/genrm.js), whether a test runs from test/ or
// from its compiled copy in dist/test/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}

/** The CLI as a user runs it. */
export const genrmBin = join(repoRoot(), 'bin', 'genrm.js');
