// The report files: written atomically, results.json round-trips, report.html self-contained with
// rendered plots, and (where Debian's chromium exists) opened in a headless browser.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluate } from '../../src/eval/evaluate.js';
import { renderTerminal } from '../../src/eval/report/terminal.js';
import { readResults, writeReport } from '../../src/eval/report/write.js';
import { synthRecords } from './fixtures.js';

const B = { resamples: 200, seed: 5, level: 0.95 };
const results = evaluate(
  synthRecords(
    [
      { method: 'zero-shot', mode: 'direct', pRight: { 'test-id': 0.55, 'test-ood': 0.6 } },
      { method: 'zero-shot-cot', mode: 'cot', votes: 8, pRight: { 'test-id': 0.6, 'test-ood': 0.62 }, grade: true },
      { method: 'bt', mode: 'scalar', pRight: { 'test-id': 0.8, 'test-ood': 0.6 } },
      { method: 'star-dpo', mode: 'cot', votes: 8, iterations: [1, 2, 3], pRight: { 'test-id': 0.65, 'test-ood': 0.66 }, grade: true },
    ],
    40,
  ),
  {
    bootstrap: B,
    now: new Date(0),
    notes: {
      quick: true,
      cut: ['40 pairs per split instead of 1000'],
      samplePlan: 'PLAN-TEXT-MARKER',
      timings: [
        { stage: 'world', seconds: 1.5 },
        { stage: 'judge', seconds: 95 },
      ],
      training: [
        { method: 'bt', cap: 300, steps: 120, bestStep: 80, stoppedEarly: true, tokens: 96000, cpuSec: 12.3, seconds: 7.2 },
        { method: 'star-dpo', cap: 300, seconds: 50 },
      ],
    },
  },
);

test('report files are written atomically and results.json round-trips', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eval-report-'));
  const f = await writeReport(dir, results);
  assert.deepEqual(readdirSync(dir).sort(), ['plots', 'report.html', 'report.md', 'results.json']);
  assert.deepEqual(readdirSync(join(dir, 'plots')).sort(), ['calibration.svg', 'id-vs-ood.svg', 'maj-at-k.svg', 'star-iterations.svg']);
  assert.deepEqual(await readResults(f.results), results);
  const md = readFileSync(f.markdown, 'utf8');
  for (const s of [
    '## What was cut',
    '40 pairs per split',
    'PLAN-TEXT-MARKER',
    '| world | 1.5 s |',
    '| total | 1 min 37 s |',
    '52.3',
    'paper ID (UltraFeedback)',
  ])
    assert.ok(md.includes(s), s);
  // Every claim appears with its computed status.
  for (const c of results.claims) assert.ok(md.includes(`**${c.status}**: ${c.claim}`), c.id);
  // Goals, held-out families and the grader's reasons beside OOD accuracy; training cost with "—" for what a recipe did not report.
  for (const s of [
    '## Goals (issue 20)',
    '| star-dpo − bt on test-ood |',
    '≥ 10.0 points, CI excluding 0',
    '## Held-out families',
    '## Why: restating and checking, OOD per shift type',
    '| family | star-dpo |',
    '## Why: restating and checking, per held-out family',
    '## Training cost',
    '| bt | 120 | 300 | 80 | yes | 96,000 | 12.3 | 7.2 |',
    '| star-dpo | — | 300 | — | — | — | — | 50.0 |',
  ])
    assert.ok(md.includes(s), s);
  // Bad results.json names the file and field.
  const bad = join(dir, 'bad.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(bad, JSON.stringify({ ...results, version: 1 })); // before claim status 'underpowered'
  await assert.rejects(readResults(bad), new RegExp(`${bad}: field "version"`));
  rmSync(dir, { recursive: true });
});

test('report.html is one self-contained file with four SVG plots', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eval-html-'));
  const html = readFileSync((await writeReport(dir, results)).html, 'utf8');
  assert.equal(html.match(/<svg[\s>]/g)?.length, 4);
  assert.ok(!/<script|<link|<img|<iframe|url\(/i.test(html), 'no scripts, links, images or CSS urls');
  assert.ok(!/(src|href)="https?:/i.test(html), 'no external references');
  // Plots draw marks: paths for the lines/bars and the methods in legends.
  assert.ok((html.match(/<path/g)?.length ?? 0) > 20);
  assert.ok(html.includes('star-dpo') && html.includes('STaR iteration'));
  rmSync(dir, { recursive: true });
});

test('a plot with no data is skipped with the reason, not failed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eval-skip-'));
  const direct = evaluate(synthRecords([{ method: 'genrm', mode: 'direct', pRight: { 'test-id': 0.7, 'test-ood': 0.6 } }], 10), {
    bootstrap: B,
  });
  const f = await writeReport(dir, direct);
  assert.deepEqual(readdirSync(join(dir, 'plots')).sort(), ['calibration.svg', 'id-vs-ood.svg']);
  const html = readFileSync(f.html, 'utf8');
  assert.match(html, /not drawn \(no method sampled more than one verdict per order\)/);
  assert.match(html, /not drawn \(no records carry a STaR iteration\)/);
  rmSync(dir, { recursive: true });
});

test('terminal table lists every method with its CIs, the claims and the goals', () => {
  const t = renderTerminal(results);
  for (const m of results.methods) assert.match(t, new RegExp(`^${m.method}`, 'm'));
  assert.match(t, /\d+\.\d \[\d+\.\d, \d+\.\d\]/);
  assert.equal((t.match(/^ {2}- (REPRODUCED|NOT REPRODUCED|INCONCLUSIVE|UNDERPOWERED):/gm) ?? []).length, results.claims.length);
  assert.equal((t.match(/^ {2}- (MET|NOT MET|—): /gm) ?? []).length, results.goals.length);
});

function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

test('report.html renders in headless Chromium: SVG plots present, no console errors, screenshot saved', async (t) => {
  const chromium = findChromium();
  if (!chromium) {
    console.log('# skipped: Debian chromium is not installed (apt-get install -y chromium; .ci/run installs it)');
    t.skip('chromium not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'eval-chromium-'));
  const files = await writeReport(dir, results);
  const profile = mkdtempSync(join(tmpdir(), 'eval-chromium-profile-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--user-data-dir=${profile}`,
    '--hide-scrollbars',
  ];
  const url = `file://${files.html}`;
  const dom = spawnSync(chromium, [...args, '--enable-logging=stderr', '--v=0', '--dump-dom', url], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(dom.status, 0, dom.stderr);
  // The DOM the browser built holds the four plots and their marks.
  assert.equal(dom.stdout.match(/<svg[\s>]/g)?.length, 4);
  assert.ok(dom.stdout.includes('class="mark-line'), 'line marks rendered');
  // Chromium logs page console messages as "CONSOLE" lines: there must be none.
  const consoleLines = dom.stderr.split('\n').filter((l) => /:CONSOLE[:(]|Uncaught/.test(l));
  assert.deepEqual(consoleLines, []);
  const png = join(dir, 'report.png');
  const shot = spawnSync(chromium, [...args, `--screenshot=${png}`, '--window-size=1200,2000', url], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(shot.status, 0, shot.stderr);
  assert.ok(existsSync(png));
  const head = readFileSync(png).subarray(0, 8);
  assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]); // PNG signature
  assert.ok(readFileSync(png).length > 20_000, 'screenshot has content');
  rmSync(profile, { recursive: true, force: true });
  rmSync(dir, { recursive: true });
});
