// Overoptimisation rows as a table: per reward and split, the held-out gold and the judge's proxy
// at each evaluated step.
import { pct, type Table } from '../report/tables.js';
import type { OveroptRow } from '../results.js';

export function overoptTable(rows: readonly OveroptRow[]): Table {
  const steps = [...new Set(rows.map((r) => r.step))].sort((a, b) => a - b);
  const out: string[][] = [];
  for (const split of [...new Set(rows.map((r) => r.split))]) {
    for (const judge of [...new Set(rows.map((r) => r.judge))]) {
      const at = (step: number): OveroptRow | undefined => rows.find((r) => r.judge === judge && r.split === split && r.step === step);
      if (!steps.some(at)) continue;
      out.push([judge, split, 'gold right', ...steps.map((s) => (at(s) ? pct(at(s)!.gold.value) : '—'))]);
      if (steps.some((s) => at(s)?.proxy))
        out.push([judge, split, 'judge: beats base', ...steps.map((s) => (at(s)?.proxy ? pct(at(s)!.proxy!.value) : '—'))]);
    }
  }
  return {
    headers: ['reward', 'split', 'measure', ...steps.map((s) => `step ${s}`)],
    rows: out,
    numeric: [false, false, false, ...steps.map(() => true)],
  };
}
