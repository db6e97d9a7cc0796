// Writes a run folder's report: results.json, report.md, report.html and plots/*.svg, each
// atomically (temp file, then rename), so an interrupted run never leaves a half report.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../data/jsonl.js';
import { ResultsSchema, type Results } from '../results.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { ReportOptions } from './userSplits.js';
import { makePlots } from './plots.js';

export interface ReportFiles {
  results: string;
  markdown: string;
  html: string;
  plots: string[];
}

export async function writeReport(dir: string, r: Results, title?: string, o: ReportOptions = {}): Promise<ReportFiles> {
  const checked = ResultsSchema.parse(r);
  const plots = await makePlots(checked);
  const files: ReportFiles = {
    results: join(dir, 'results.json'),
    markdown: join(dir, 'report.md'),
    html: join(dir, 'report.html'),
    plots: [],
  };
  for (const p of plots) {
    if (!p.svg) continue;
    const f = join(dir, 'plots', `${p.name}.svg`);
    await writeFileAtomic(f, p.svg);
    files.plots.push(f);
  }
  await writeFileAtomic(files.results, JSON.stringify(checked, null, 2) + '\n');
  await writeFileAtomic(files.markdown, renderMarkdown(checked, plots, title, o));
  await writeFileAtomic(files.html, renderHtml(checked, plots, title, o));
  return files;
}

/** Reads results.json back through the schema (errors name the file and field). */
export async function readResults(file: string): Promise<Results> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not readable JSON (${(e as Error).message})`);
  }
  const p = ResultsSchema.safeParse(raw);
  if (!p.success) {
    const i = p.error.issues[0];
    throw new Error(`${file}: field "${i ? i.path.join('.') : ''}": ${i?.message ?? 'invalid results'}`);
  }
  return p.data;
}
