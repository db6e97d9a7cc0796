#!/usr/bin/env node
// The genrm command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('genrm: dist/ is missing; run `npm run build` (or `npm ci`) in the genrm folder first.');
  process.exit(1);
}
await import(main.href);
