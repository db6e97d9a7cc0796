// The report's prose, generated from the results (never hand-written), shared by the Markdown,
// HTML and terminal renderers: the reading of the paper's claims, the method notes, what was cut.
import { ECE_BINNING } from '../metrics/calibration.js';
import type { Results } from '../results.js';
import { PAPER_SOURCE } from './paper.js';
import type { Table } from './tables.js';

/** One line per claim, without its status word: the claim, the paper's numbers, ours. */
export function readingText(c: Results['claims'][number]): string {
  return `${c.claim} (paper: ${c.paper}). Here: ${c.summary}.`;
}

/** One line per claim: "REPRODUCED: …" with the numbers behind it. */
export function readingLines(r: Results): string[] {
  return r.claims.map((c) => `${c.status.toUpperCase()}: ${readingText(c)}`);
}

/** One line per goal: "MET: …" / "NOT MET: …" / "—: …" with the numbers. */
export function goalLines(r: Results): string[] {
  return r.goals.map((g) => `${g.met === null ? '—' : g.met ? 'MET' : 'NOT MET'}: ${g.what} (goal ${g.target}): ${g.why}`);
}

/** How the numbers are computed; `prefWorld` false (only the user's files) leaves out the notes on PrefWorld's grader, the claims and the paper. */
export function methodNotes(r: Results, prefWorld = true): string[] {
  const b = r.settings.bootstrap;
  const common = [
    'Accuracy follows RewardBench: a verdict for the chosen answer scores 1, for the rejected answer 0, a tie or an invalid verdict (no [[A]]/[[B]]) 0.5. Gold-tie pairs are left out.',
    'Headline accuracy: the judge’s combined P(chosen) over both orders where it gave one (direct GenRM, BT, PairRM, verdict-prob CoT); otherwise the majority of all sampled votes (mean of the two orders’ vote shares).',
    `maj@k uses the first k samples of one set per order (no re-sampling per k); k ∈ {${r.settings.ks.join(', ')}} up to the samples taken.`,
    `95 % confidence intervals: percentile bootstrap over pairs, ${b.resamples} resamples, seed ${b.seed}.`,
    `Calibration: Brier score of P(chosen); ECE over ${ECE_BINNING}.`,
  ];
  if (!prefWorld) return common;
  return [
    ...common,
    `Claims compare methods on the same pairs (paired bootstrap of the difference); “≈” means the difference’s CI lies within ±${(100 * r.settings.equivalenceMargin).toFixed(0)} points.`,
    'Right for the right reason: per sampled rationale, the verdict is right AND the rationale’s own worked result is right (checked by PrefWorld), among all graded samples and among right verdicts.',
    'Restating and checking (CoT judges, PrefWorld’s grader): per sampled rationale, whether it restates the question in its family’s own layout, whether its own worked result is right, and whether its checks of both answers agree with that result; shares of graded samples, CIs resampling pairs.',
    `Claim statuses: undecided checks are “underpowered” when the CI’s half-width exceeds ±${(100 * r.settings.equivalenceMargin).toFixed(0)} points (more pairs would decide them), else “inconclusive”. Claims use the paper’s methods only; rows marked +checked are labelled variants (STaR filtered by PrefWorld’s grader, supervision the paper did not have) and the grpo rows are beyond the paper (the judge trained online by GRPO, J1): they appear in the tables and goals, never in the claims.`,
    'Held-out families: test-ood pairs of task families no training pair comes from (shift “family”), where a judge that reasons should beat one that matches surface features.',
    ...(r.bon.length
      ? [
          'Best-of-N: per prompt the base’s N answers (the first N of one set, so the N’s are nested); the judge’s choice is the top Bradley–Terry score from its judged pairs; accuracy is the chosen answer’s gold grade (PrefWorld’s checker), the oracle whether any of the N is right; CIs resample prompts.',
        ]
      : []),
    ...(r.overopt.length
      ? [
          'Overoptimisation: the base trained as a policy by GRPO on one reward (a judge, or the gold for reference); held-out gold is the share of its answers PrefWorld’s checker calls right, the judge’s proxy its P(the policy’s answer beats the base’s); a judge whose proxy climbs while gold does not is being hacked.',
        ]
      : []),
    `Paper numbers: ${PAPER_SOURCE}. They are on different data and a far larger model: compare shapes, not values.`,
  ];
}

export function cutLines(r: Results): string[] {
  if (!r.notes.quick && r.notes.cut.length === 0) return [];
  return [
    ...(r.notes.quick
      ? [
          'This was a quick run: fewer pairs, votes and STaR samples than the full experiment, so intervals are wide and claims are more often inconclusive.',
        ]
      : []),
    ...r.notes.cut,
  ];
}

export function timingTable(r: Results): Table | null {
  if (r.notes.timings.length === 0) return null;
  const total = r.notes.timings.reduce((s, t) => s + t.seconds, 0);
  const fmt = (s: number): string => (s >= 60 ? `${Math.floor(s / 60)} min ${(s % 60).toFixed(0)} s` : `${s.toFixed(1)} s`);
  return {
    headers: ['stage', 'time'],
    rows: [...r.notes.timings.map((t) => [t.stage, fmt(t.seconds)]), ['total', fmt(total)]],
    numeric: [false, true],
  };
}

export function omittedTable(r: Results): Table | null {
  if (r.omitted.length === 0) return null;
  return { headers: ['method', 'split', 'left out', 'why'], rows: r.omitted.map((o) => [o.method, o.split ?? '', o.metric, o.reason]) };
}
