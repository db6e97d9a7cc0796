// The console's table for the user's own files (splits that are not PrefWorld's): accuracy with
// 95 % CIs per file, per category and per subset, and how many pairs each number rests on. The
// paper's numbers are never shown here: they are on other data (terminal.ts shows them beside
// PrefWorld's splits only).
import type { JudgeRecord } from '../records.js';
import type { Results } from '../results.js';
import { fmtEstimate, type Table } from './tables.js';

/** Rows per split before the rest is left to --json (JudgeBench alone has ~20 sources). */
const MAX_GROUP_ROWS = 30;

export interface ReportOptions {
  /** Splits that are the user's own files: their own table, and no paper numbers or claims (those are about PrefWorld). Default: none. */
  userSplits?: readonly string[];
}

/** The report's split of the splits: PrefWorld's (the paper's table and claims) and the user's own. */
export function reportSplits(r: Results, o: ReportOptions): { prefWorld: boolean; user: string[] } {
  const mine = new Set(o.userSplits ?? []);
  const all = [...new Set(r.methods.flatMap((m) => m.groups.map((g) => g.split)))];
  return { prefWorld: all.some((s) => !mine.has(s)), user: all.filter((s) => mine.has(s)) };
}

export function userSplitsTable(r: Results, splits: readonly string[]): Table | null {
  const rows: string[][] = [];
  for (const m of r.methods) {
    for (const split of splits) {
      const groups = m.groups.filter((g) => g.split === split && (g.by === 'all' || g.by === 'category' || g.by === 'family'));
      if (groups.length === 0) continue;
      const shown = groups.slice(0, MAX_GROUP_ROWS);
      for (const g of shown) {
        const label = g.by === 'all' ? 'all' : `${g.by === 'family' ? 'subset' : 'category'} ${g.value}`;
        rows.push([m.method, split, label, String(g.accuracy.n), fmtEstimate(g.accuracy)]);
      }
      if (groups.length > shown.length) rows.push([m.method, split, `… ${groups.length - shown.length} more groups in --json`, '', '']);
    }
  }
  if (rows.length === 0) return null;
  return { headers: ['method', 'file (split)', 'group', 'scored', 'acc % [95% CI]'], rows, numeric: [false, false, false, true, true] };
}

export interface SplitCount {
  split: string;
  judged: number;
  ties: number;
}

/** Per split, pairs judged and gold ties among them (the first method's records: every method judges the same pairs). */
export function splitCounts(records: readonly JudgeRecord[]): SplitCount[] {
  const first = records[0]?.method;
  const out = new Map<string, SplitCount>();
  for (const r of records) {
    if (r.method !== first) continue;
    const s = r.split ?? 'unsplit';
    let c = out.get(s);
    if (!c) out.set(s, (c = { split: s, judged: 0, ties: 0 }));
    c.judged++;
    if (r.tie) c.ties++;
  }
  const order = ['train', 'test-id', 'test-ood']; // as the results list their splits (evaluate.ts)
  const rank = (x: string): number => (order.includes(x) ? order.indexOf(x) : order.length);
  return [...out.values()].sort((a, b) => rank(a.split) - rank(b.split) || a.split.localeCompare(b.split));
}

/** "judgebench: 620 judged, 600 scored, 20 ties left out". */
export function countLine(c: SplitCount): string {
  return `${c.split}: ${c.judged} judged, ${c.judged - c.ties} scored${c.ties ? `, ${c.ties} ties left out` : ''}`;
}

/** The one rule for ties, said once under the numbers. */
export const TIE_RULE =
  "a pair labelled a tie has no right answer: it is judged but left out of accuracy; a judge that says tie, or gives no verdict, scores 0.5 (RewardBench's rule)";
