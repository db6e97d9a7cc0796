// Writes docs/CONFIG.md from the config schemas (src/cli/configDocs.ts), after `npm run build`.
// test/cli/configDocs.test.ts fails when the committed page differs from what this writes.
import { writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { configDocsMarkdown } = await import(new URL('dist/src/cli/configDocs.js', root).href);
const file = new URL('docs/CONFIG.md', root);
writeFileSync(file, configDocsMarkdown());
console.log(`wrote ${file.pathname}`);
