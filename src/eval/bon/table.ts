// Best-of-N rows as a table: one line per judge and split, a column per N (accuracy of the chosen
// answer with its CI), and the oracle's line per split.
import { pct, type Table } from '../report/tables.js';
import type { BonRow } from './run.js';

const cell = (e: BonRow['accuracy']): string => `${pct(e.value)} [${pct(e.lo)}, ${pct(e.hi)}]`;

export function bonTable(rows: readonly BonRow[]): Table {
  const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const splits = [...new Set(rows.map((r) => r.split))];
  const judges = [...new Set(rows.map((r) => r.judge))];
  const out: string[][] = [];
  for (const split of splits) {
    const at = (judge: string, n: number): BonRow | undefined => rows.find((r) => r.judge === judge && r.split === split && r.n === n);
    for (const judge of judges)
      if (ns.some((n) => at(judge, n)))
        out.push([
          judge,
          split,
          ...ns.map((n) => (at(judge, n) ? cell(at(judge, n)!.accuracy) : '—')),
          String(at(judge, ns[0]!)?.accuracy.n ?? '—'),
        ]);
    const any = rows.find((r) => r.split === split);
    if (any)
      out.push([
        'oracle',
        split,
        ...ns.map((n) => {
          const r = rows.find((x) => x.split === split && x.n === n);
          return r ? cell(r.oracle) : '—';
        }),
        String(any.oracle.n),
      ]);
  }
  return {
    headers: ['judge', 'split', ...ns.map((n) => `N=${n}`), 'prompts'],
    rows: out,
    numeric: [false, false, ...ns.map(() => true), true],
  };
}
