// `genrm eval`'s terminal output: the main table (PrefWorld splits, with the paper's numbers
// beside them), the user's own files with their categories and subsets, the claims in one line
// each, and what was left out.
import type { JudgeRecord } from '../records.js';
import type { Results } from '../results.js';
import { goalLines, readingLines } from './sections.js';
import { diagnosticsTable, mainTable, majTable, toTerminal } from './tables.js';
import { TIE_RULE, countLine, splitCounts, userSplitsTable } from './userSplits.js';

export interface TerminalOptions {
  claims?: boolean;
  /**
   * Splits that are the user's own files, not PrefWorld's: shown in their own table, without the
   * paper's numbers (which are on other data). Default: none (a repro run: all PrefWorld).
   */
  userSplits?: readonly string[];
  /** The records, for "N judged, M scored, K ties left out" per split. */
  records?: readonly JudgeRecord[];
}

export function renderTerminal(r: Results, opts: TerminalOptions = {}): string {
  const user = new Set(opts.userSplits ?? []);
  const allSplits = [...new Set(r.methods.flatMap((m) => m.groups.map((g) => g.split)))];
  const prefWorld = allSplits.some((s) => !user.has(s));
  const out: string[] = [];
  if (prefWorld) out.push('Accuracy % [95% bootstrap CI]', toTerminal(mainTable(r)));
  const ut = userSplitsTable(
    r,
    allSplits.filter((s) => user.has(s)),
  );
  if (ut) out.push('Accuracy % [95% bootstrap CI] on your files', toTerminal(ut));
  if (opts.records) out.push(...splitCounts(opts.records).map(countLine), `(${TIE_RULE})`, '');
  const maj = majTable(r);
  if (maj) out.push('Votes (maj@k)', toTerminal(maj));
  out.push('Order effects, calibration, reasons', toTerminal(diagnosticsTable(r)));
  if (opts.claims ?? true) out.push('Paper claims', ...readingLines(r).map((l) => `  - ${l}`), '');
  if ((opts.claims ?? true) && r.goals.length) out.push('Goals (issue 20)', ...goalLines(r).map((l) => `  - ${l}`), '');
  if (r.omitted.length)
    out.push('Left out', ...r.omitted.map((o) => `  - ${o.method}${o.split ? ` ${o.split}` : ''}: ${o.metric}: ${o.reason}`), '');
  return out.join('\n');
}
