// report.md: the same content as report.html, with the plots linked as SVG files beside it.
import type { Results } from '../results.js';
import { bonTable } from '../bon/table.js';
import { overoptTable } from '../overopt/table.js';
import type { Plot } from './plots.js';
import { cutLines, methodNotes, omittedTable, readingText, timingTable } from './sections.js';
import { reportSplits, userSplitsTable, type ReportOptions } from './userSplits.js';
import {
  breakdownTable,
  diagnosticsTable,
  goalsTable,
  gradesTable,
  mainTable,
  majTable,
  trainingTable,
  toMarkdown,
  type Table,
} from './tables.js';

export function renderMarkdown(r: Results, plots: Plot[], title = 'genrm evaluation report', o: ReportOptions = {}): string {
  const out: string[] = [`# ${title}`, '', `Generated ${r.createdAt}.`, ''];
  const cut = cutLines(r);
  if (cut.length) out.push('## What was cut', '', ...cut.map((l) => `- ${l}`), '');
  const splits = reportSplits(r, o);
  if (splits.prefWorld) {
    out.push(
      '## Main results',
      '',
      '*Accuracy % with 95 % bootstrap CIs. The paper’s columns are its own numbers on different data (UltraFeedback / RewardBench).*',
      '',
      toMarkdown(mainTable(r)),
    );
    out.push(
      '## Reading: the paper’s claims against these numbers',
      '',
      ...r.claims.map((c) => `- **${c.status}**: ${readingText(c)}`),
      '',
    );
  }
  const user = userSplitsTable(r, splits.user);
  if (user) out.push('## Your files', '', '*Accuracy % with 95 % bootstrap CIs, per file, category and subset.*', '', toMarkdown(user));
  const goals = splits.prefWorld ? goalsTable(r) : null;
  if (goals)
    out.push(
      '## Goals (issue 20)',
      '',
      '*Beside the paper’s claims: STaR-DPO’s OOD margin over BT (the paper’s abstract: +10–45 %), and each judge’s accuracy on held-out families.*',
      '',
      toMarkdown(goals),
    );
  out.push('## Plots', '');
  for (const p of plots)
    out.push(
      p.svg ? `### ${p.title}\n\n![${p.title}](plots/${p.name}.svg)\n\n${p.caption}\n` : `### ${p.title}\n\n*Not drawn: ${p.skipped}.*\n`,
    );
  const sec = (h: string, t: Table | null): void => {
    if (t) out.push(`## ${h}`, '', toMarkdown(t));
  };
  sec('Best-of-N (beyond the paper): accuracy of the chosen answer, % [95 % CI over prompts]', r.bon.length ? bonTable(r.bon) : null);
  sec(
    'Overoptimisation (beyond the paper): the base trained as a policy on each reward, held-out % per step',
    r.overopt.length ? overoptTable(r.overopt) : null,
  );
  sec('Votes (maj@k)', majTable(r));
  sec('Order effects, calibration and reasons', diagnosticsTable(r));
  sec('Per category', breakdownTable(r, 'category'));
  sec('Per family', breakdownTable(r, 'family'));
  sec('OOD per shift type', breakdownTable(r, 'shift'));
  sec('Held-out families (test-ood, shift family)', breakdownTable(r, 'heldout'));
  sec('Why: restating and checking, OOD per shift type', gradesTable(r, 'shift'));
  sec('Why: restating and checking, per held-out family', gradesTable(r, 'heldout'));
  sec('Left out', omittedTable(r));
  if (r.notes.samplePlan) out.push('## How sample counts were planned', '', r.notes.samplePlan, '');
  sec('Training cost', trainingTable(r));
  sec('Stage timings', timingTable(r));
  out.push('## How the numbers are computed', '', ...methodNotes(r, splits.prefWorld).map((l) => `- ${l}`), '');
  if (r.notes.extra.length) out.push(...r.notes.extra.map((l) => `- ${l}`), '');
  return out.join('\n');
}
