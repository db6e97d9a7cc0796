// `genrm eval`'s terminal output: the main table, the claims in one line each, and what was left out.
import type { Results } from '../results.js';
import { goalLines, readingLines } from './sections.js';
import { diagnosticsTable, mainTable, majTable, toTerminal } from './tables.js';

export function renderTerminal(r: Results, opts: { claims?: boolean } = {}): string {
  const out: string[] = ['Accuracy % [95% bootstrap CI]', toTerminal(mainTable(r))];
  const maj = majTable(r);
  if (maj) out.push('Votes (maj@k)', toTerminal(maj));
  out.push('Order effects, calibration, reasons', toTerminal(diagnosticsTable(r)));
  if (opts.claims ?? true) out.push('Paper claims', ...readingLines(r).map((l) => `  - ${l}`), '');
  if ((opts.claims ?? true) && r.goals.length) out.push('Goals (issue 20)', ...goalLines(r).map((l) => `  - ${l}`), '');
  if (r.omitted.length) out.push('Left out', ...r.omitted.map((o) => `  - ${o.method}${o.split ? ` ${o.split}` : ''}: ${o.metric}: ${o.reason}`), '');
  return out.join('\n');
}
