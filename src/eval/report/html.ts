// report.html: one self-contained file (inline CSS and SVG, no scripts, no external requests).
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
  toHtml,
  type Table,
} from './tables.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1150px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; vertical-align: top; }
th { background: #f4f4f4; text-align: left; } td:first-child { white-space: nowrap; } small { color: #666; } small.paper { color: #7a4f00; }
li.claim { margin-bottom: .4rem; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.status-reproduced { color: #176b2c; font-weight: 600; } .status-not { color: #a11; font-weight: 600; } .status-inconclusive { color: #8a6d00; font-weight: 600; }
.cut { background: #fff7e0; border-left: 4px solid #e0a800; padding: .5rem 1rem; }
figure { margin: 1rem 0; } figcaption { font-size: .85rem; color: #555; } .scroll { overflow-x: auto; }
.note { font-size: .85rem; color: #555; }`;

function statusClass(s: string): string {
  return s === 'reproduced' ? 'status-reproduced' : s === 'not reproduced' ? 'status-not' : 'status-inconclusive';
}

export function renderHtml(r: Results, plots: Plot[], title = 'genrm evaluation report', o: ReportOptions = {}): string {
  const body: string[] = [`<h1>${esc(title)}</h1>`, `<p class="note">Generated ${esc(r.createdAt)}.</p>`];
  const cut = cutLines(r);
  if (cut.length) body.push(`<div class="cut"><h2>What was cut</h2><ul>${cut.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></div>`);
  const splits = reportSplits(r, o);
  if (splits.prefWorld) {
    body.push(
      '<h2>Main results</h2>',
      '<p class="note">Accuracy % with 95 % bootstrap CIs. The paper’s columns are its own numbers on different data (UltraFeedback / RewardBench).</p>',
      `<div class="scroll">${toHtml(mainTable(r))}</div>`,
    );
    body.push('<h2>Reading: the paper’s claims against these numbers</h2><ul>');
    for (const c of r.claims)
      body.push(`<li class="claim"><span class="${statusClass(c.status)}">${esc(c.status)}</span> — ${esc(readingText(c))}</li>`);
    body.push('</ul>');
  }
  const user = userSplitsTable(r, splits.user);
  if (user)
    body.push(
      '<h2>Your files</h2>',
      '<p class="note">Accuracy % with 95 % bootstrap CIs, per file, category and subset.</p>',
      `<div class="scroll">${toHtml(user)}</div>`,
    );
  const goals = splits.prefWorld ? goalsTable(r) : null;
  if (goals)
    body.push(
      '<h2>Goals (issue 20)</h2>',
      '<p class="note">Beside the paper’s claims: STaR-DPO’s OOD margin over BT (the paper’s abstract: +10–45 %), and each judge’s accuracy on held-out families.</p>',
      `<div class="scroll">${toHtml(goals)}</div>`,
    );
  body.push('<h2>Plots</h2>');
  for (const p of plots) {
    body.push(
      p.svg
        ? `<figure id="plot-${esc(p.name)}"><h3>${esc(p.title)}</h3><div class="scroll">${p.svg}</div><figcaption>${esc(p.caption)}</figcaption></figure>`
        : `<p><b>${esc(p.title)}</b>: not drawn (${esc(p.skipped ?? '')}).</p>`,
    );
  }
  const sec = (h: string, t: Table | null): void => {
    if (t) body.push(`<h2>${esc(h)}</h2><div class="scroll">${toHtml(t)}</div>`);
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
  if (r.notes.samplePlan) body.push('<h2>How sample counts were planned</h2>', `<p>${esc(r.notes.samplePlan)}</p>`);
  sec('Training cost', trainingTable(r));
  sec('Stage timings', timingTable(r));
  body.push(
    '<h2>How the numbers are computed</h2><ul>',
    ...methodNotes(r, splits.prefWorld).map((l) => `<li>${esc(l)}</li>`),
    ...r.notes.extra.map((l) => `<li>${esc(l)}</li>`),
    '</ul>',
  );
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${esc(title)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n${body.join('\n')}\n</body>\n</html>\n`;
}
