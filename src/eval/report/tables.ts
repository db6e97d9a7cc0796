// Tables built once and printed three ways: Markdown, HTML and the terminal (aligned columns).
import type { EstimateJson, Group, MethodResult, Results } from '../results.js';
import { PAPER } from './paper.js';

export interface Table {
  headers: string[];
  rows: string[][];
  /** Columns that hold numbers (right-aligned). */
  numeric?: boolean[];
}

export const pct = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : (100 * x).toFixed(digits);

/** "73.4 [70.1, 76.5]" (percent); "—" when there is nothing. */
export function fmtEstimate(e: EstimateJson | null | undefined): string {
  if (!e || e.value === null) return '—';
  return e.lo === null || e.hi === null ? pct(e.value) : `${pct(e.value)} [${pct(e.lo)}, ${pct(e.hi)}]`;
}

export function findGroup(m: MethodResult, split: string, by: Group['by'] = 'all', value = 'all'): Group | undefined {
  return m.groups.find((g) => g.split === split && g.by === by && g.value === value);
}

/** OOD categories present in any method, in RewardBench's order first. */
export function oodCategories(r: Results): string[] {
  const seen = new Set<string>();
  for (const m of r.methods) for (const g of m.groups) if (g.split === r.settings.splits.ood && g.by === 'category') seen.add(g.value);
  const pref = ['chat', 'chat-hard', 'safety', 'reasoning'];
  return [...seen].sort((a, b) => (pref.indexOf(a) + 1 || 99) - (pref.indexOf(b) + 1 || 99) || a.localeCompare(b));
}

/** The main table: method × (ID, OOD, OOD per category), with the paper's numbers alongside. */
export function mainTable(r: Results): Table {
  const { id, ood } = r.settings.splits;
  const cats = oodCategories(r);
  const headers = [
    'method',
    `${id} acc % [95% CI]`,
    `${ood} acc % [95% CI]`,
    ...cats.map((c) => `${ood} ${c}`),
    'paper ID (UltraFeedback)',
    'paper OOD (RewardBench)',
  ];
  const rows = r.methods.map((m) => {
    const p = PAPER[m.method];
    const cells = cats.map((c) => {
      const mine = fmtEstimate(findGroup(m, ood, 'category', c)?.accuracy);
      const theirs = p?.categories?.[c];
      return theirs ? `${mine} · paper ${theirs}` : mine;
    });
    const name = `${m.method}${m.iteration !== undefined ? ` (it ${m.iteration})` : ''}${m.mode === 'cot' && m.samples > 1 ? ` maj@${m.samples}` : ''}`;
    return [name, fmtEstimate(findGroup(m, id)?.accuracy), fmtEstimate(findGroup(m, ood)?.accuracy), ...cells, p?.id ?? '—', p?.ood ?? '—'];
  });
  return { headers, rows, numeric: headers.map((_, i) => i > 0) };
}

/** Per split: maj@k columns for the methods that voted. */
export function majTable(r: Results): Table | null {
  const ks = [...new Set(r.methods.flatMap((m) => m.groups.flatMap((g) => g.majAtK?.map((x) => x.k) ?? [])))].sort((a, b) => a - b);
  if (ks.length === 0) return null;
  const rows: string[][] = [];
  for (const m of r.methods) {
    for (const g of m.groups) {
      if (g.by !== 'all' || !g.majAtK) continue;
      rows.push([m.method, g.split, ...ks.map((k) => fmtEstimate(g.majAtK!.find((x) => x.k === k)?.accuracy))]);
    }
  }
  return { headers: ['method', 'split', ...ks.map((k) => `maj@${k}`)], rows, numeric: [false, false, ...ks.map(() => true)] };
}

/** Order effects and calibration, per method and split. */
export function diagnosticsTable(r: Results): Table {
  const rows: string[][] = [];
  for (const m of r.methods) {
    for (const g of m.groups) {
      if (g.by !== 'all') continue;
      rows.push([
        m.method,
        g.split,
        fmtEstimate(g.order?.chosenFirst),
        fmtEstimate(g.order?.chosenSecond),
        fmtEstimate(g.order?.agreement),
        fmtEstimate(g.order?.firstSlotRate),
        pct(g.invalidRate),
        g.calibration ? (g.calibration.brier.value?.toFixed(3) ?? '—') : '—',
        g.calibration ? g.calibration.ece.toFixed(3) : '—',
        fmtEstimate(g.reason?.amongAll),
        fmtEstimate(g.reason?.amongRight),
      ]);
    }
  }
  const headers = [
    'method',
    'split',
    'chosen 1st %',
    'chosen 2nd %',
    'swap agree %',
    '1st-slot picks %',
    'invalid %',
    'Brier',
    'ECE',
    'right+reason % (all)',
    'right+reason % (right)',
  ];
  return { headers, rows, numeric: headers.map((_, i) => i > 1) };
}

/** Per split, the category / family / shift / held-out family breakdown of every method's accuracy. */
export function breakdownTable(r: Results, by: 'category' | 'family' | 'shift' | 'heldout'): Table | null {
  const cols = new Map<string, true>();
  for (const m of r.methods) for (const g of m.groups) if (g.by === by) cols.set(`${g.split}\u0000${g.value}`, true);
  if (cols.size === 0) return null;
  const keys = [...cols.keys()];
  const rows = r.methods.map((m) => [
    m.method,
    ...keys.map((k) => {
      const [split, value] = k.split('\u0000') as [string, string];
      return fmtEstimate(findGroup(m, split, by, value)?.accuracy);
    }),
  ]);
  return { headers: ['method', ...keys.map((k) => k.replace('\u0000', ' '))], rows, numeric: [false, ...keys.map(() => true)] };
}

/**
 * OOD per shift type or per held-out family, for the judges whose rationales were graded:
 * accuracy with, beside it, how often a rationale restates the question in its family's own
 * layout, works the right result, and checks the answers consistently with that result.
 */
export function gradesTable(r: Results, by: 'shift' | 'heldout'): Table | null {
  const ood = r.settings.splits.ood;
  const graded = r.methods.filter((m) => m.groups.some((g) => g.split === ood && g.by === by && g.grades));
  if (graded.length === 0) return null;
  const values = [...new Set(graded.flatMap((m) => m.groups.filter((g) => g.split === ood && g.by === by).map((g) => g.value)))].sort();
  const rows: string[][] = [];
  for (const v of values) {
    for (const m of graded) {
      const g = findGroup(m, ood, by, v);
      if (g)
        rows.push([
          v,
          m.method,
          fmtEstimate(g.accuracy),
          fmtEstimate(g.grades?.restated),
          fmtEstimate(g.grades?.resultRight),
          fmtEstimate(g.grades?.checksConsistent),
        ]);
    }
  }
  const headers = [
    by === 'shift' ? 'shift' : 'held-out family',
    'method',
    'acc %',
    'restated in its layout %',
    'worked result right %',
    'checks agree with result %',
  ];
  return { headers, rows, numeric: headers.map((_, i) => i > 1) };
}

/** Issue 20's goals: the number, its target, and whether it is met. */
export function goalsTable(r: Results): Table | null {
  if (r.goals.length === 0) return null;
  const met = (x: boolean | null): string => (x === null ? '—' : x ? 'yes' : 'no');
  return {
    headers: ['measured', 'value % [95% CI]', 'goal', 'met'],
    rows: r.goals.map((g) => [g.what, fmtEstimate(g.estimate), g.target, met(g.met)]),
    numeric: [false, true, false, false],
  };
}

/** What each method's training cost: steps (of the cap), best step, early stop, tokens, CPU and wall time. */
export function trainingTable(r: Results): Table | null {
  const t = r.notes.training;
  if (t.length === 0) return null;
  const n = (x: number | null): string => (x === null ? '—' : Math.round(x).toLocaleString('en-US'));
  const sec = (x: number | null): string => (x === null ? '—' : x < 100 ? x.toFixed(1) : n(x));
  const yes = (x: boolean | null): string => (x === null ? '—' : x ? 'yes' : 'no');
  const headers = ['method', 'steps', 'cap', 'best step', 'stopped early', 'tokens', 'CPU s', 'wall s'];
  return {
    headers,
    rows: t.map((c) => [c.method, n(c.steps), n(c.cap), n(c.bestStep), yes(c.stoppedEarly), n(c.tokens), sec(c.cpuSec), sec(c.seconds)]),
    numeric: headers.map((_, i) => i > 0 && i !== 4),
  };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function toMarkdown(t: Table): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const align = t.headers.map((_, i) => (t.numeric?.[i] ? '---:' : '---'));
  return (
    [`| ${t.headers.map(cell).join(' | ')} |`, `| ${align.join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join(
      '\n',
    ) + '\n'
  );
}

export function toHtml(t: Table): string {
  const th = t.headers.map((h) => `<th>${esc(h)}</th>`).join('');
  // "80.0 [72.5, 87.5] · paper 91.0": the estimate large, its interval small beneath it.
  const cellHtml = (c: string): string => {
    const m = /^(\S+) (\[[^\]]+\])( · .*)?$/.exec(c);
    return m
      ? `${esc(m[1]!)}<br><small>${esc(m[2]!)}</small>${m[3] ? `<br><small class="paper">${esc(m[3].slice(3))}</small>` : ''}`
      : esc(c);
  };
  const rows = t.rows
    .map((r) => `<tr>${r.map((c, i) => `<td${t.numeric?.[i] ? ' class="num"' : ''}>${cellHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table>\n`;
}

/** Aligned columns for the terminal (plain ASCII rules, so it pastes anywhere). */
export function toTerminal(t: Table): string {
  const width = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (t.numeric?.[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return [line(t.headers), width.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n') + '\n';
}
