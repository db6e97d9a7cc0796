// The paper's claims, each marked reproduced / not reproduced / inconclusive / underpowered from
// the numbers: never written by hand. Comparisons are PAIRED (the same pairs judged by both
// methods) and decided by the 95 % bootstrap CI of the accuracy difference:
//   "X > Y":  CI above 0 → reproduced; CI below 0 → not reproduced; CI spans 0 → undecided.
//   "X ≈ Y":  CI inside ±margin → reproduced; CI entirely outside ±margin → not reproduced;
//             otherwise undecided.
// Undecided is "underpowered" when the CI's half-width exceeds the margin (at this many pairs a
// difference of the margin's size could not be told from none: more pairs would decide it), else
// "inconclusive". A claim with several checks is reproduced when all are, not reproduced when any
// is, else underpowered when any check is, else inconclusive. A method that was not run makes its
// check inconclusive, saying so. The claims are about the paper's methods: labelled variants
// (VARIANT_METHODS) are left out of them.
import type { JudgeRecord } from '../records.js';
import { METHODS, VARIANT_METHODS } from '../records.js';
import type { Claim, ClaimStatus } from '../results.js';
import { json } from './accuracy.js';
import { bootstrapPairedDiff, type BootstrapOptions } from './bootstrap.js';
import { majScore, pairScore, samplesOf } from './scores.js';

type Check = Claim['checks'][number];

export interface ClaimContext {
  /** Final-run records per method (ties already excluded). */
  records: Map<string, JudgeRecord[]>;
  splits: { id: string; ood: string };
  bootstrap: BootstrapOptions;
  /** "≈" tolerance in accuracy (0–1). */
  margin: number;
}

const pct = (x: number | null): string => (x === null ? 'n/a' : (100 * x).toFixed(1));

/** Paired bootstrap of mean(scoreA) − mean(scoreB) over the pairs of `split` both methods judged. */
export function paired(
  ctx: Pick<ClaimContext, 'records' | 'bootstrap'>,
  a: string,
  b: string,
  split: string,
  scoreA: (r: JudgeRecord) => number,
  scoreB: (r: JudgeRecord) => number,
) {
  const ra = ctx.records.get(a);
  const rb = ctx.records.get(b);
  if (!ra || !rb) return { missing: [a, b].filter((m) => !ctx.records.has(m)) };
  const bById = new Map(rb.filter((r) => r.split === split).map((r) => [r.pairId, r]));
  const xs: number[] = [];
  const ys: number[] = [];
  for (const r of ra) {
    if (r.split !== split) continue;
    const o = bById.get(r.pairId);
    if (o) (xs.push(scoreA(r)), ys.push(scoreB(o)));
  }
  return { diff: json(bootstrapPairedDiff(xs, ys, ctx.bootstrap)) };
}

function greater(
  ctx: ClaimContext,
  a: string,
  b: string,
  split: string,
  label = `${a} − ${b} on ${split}`,
  sa: (r: JudgeRecord) => number = pairScore,
  sb: (r: JudgeRecord) => number = pairScore,
): Check {
  const p = paired(ctx, a, b, split, sa, sb);
  if (!p.diff) return { what: label, diff: null, status: 'inconclusive', why: `not run: ${p.missing!.join(', ')}` };
  const d = p.diff;
  if (d.n === 0 || d.lo === null || d.hi === null)
    return { what: label, diff: d, status: 'inconclusive', why: `no pairs of ${split} judged by both` };
  const nums = `difference ${pct(d.value)} points, 95 % CI [${pct(d.lo)}, ${pct(d.hi)}], ${d.n} pairs`;
  if (d.lo > 0) return { what: label, diff: d, status: 'reproduced', why: nums };
  if (d.hi < 0) return { what: label, diff: d, status: 'not reproduced', why: `${nums}: the other way round` };
  if (underpowered(d, ctx.margin))
    return { what: label, diff: d, status: 'underpowered', why: `${nums}: the interval includes 0 and is wider than ±${pct(ctx.margin)}` };
  return { what: label, diff: d, status: 'inconclusive', why: `${nums}: the interval includes 0` };
}

function equivalent(ctx: ClaimContext, a: string, b: string, split: string): Check {
  const label = `${a} − ${b} on ${split}`;
  const p = paired(ctx, a, b, split, pairScore, pairScore);
  if (!p.diff) return { what: label, diff: null, status: 'inconclusive', why: `not run: ${p.missing!.join(', ')}` };
  const d = p.diff;
  if (d.n === 0 || d.lo === null || d.hi === null)
    return { what: label, diff: d, status: 'inconclusive', why: `no pairs of ${split} judged by both` };
  const m = ctx.margin;
  const nums = `difference ${pct(d.value)} points, 95 % CI [${pct(d.lo)}, ${pct(d.hi)}] vs ±${pct(m)}, ${d.n} pairs`;
  if (d.lo >= -m && d.hi <= m) return { what: label, diff: d, status: 'reproduced', why: nums };
  if (d.lo > m || d.hi < -m) return { what: label, diff: d, status: 'not reproduced', why: `${nums}: clearly apart` };
  if (underpowered(d, m))
    return { what: label, diff: d, status: 'underpowered', why: `${nums}: wider than the margin, so it cannot fit inside it at this size` };
  return { what: label, diff: d, status: 'inconclusive', why: `${nums}: straddles the margin` };
}

/** An undecided interval wider than ±margin: the planned pairs cannot decide a difference of the margin's size. */
function underpowered(d: { lo: number | null; hi: number | null }, margin: number): boolean {
  return d.lo !== null && d.hi !== null && (d.hi - d.lo) / 2 > margin;
}

function combine(checks: Check[]): ClaimStatus {
  if (checks.length > 0 && checks.every((c) => c.status === 'reproduced')) return 'reproduced';
  if (checks.some((c) => c.status === 'not reproduced')) return 'not reproduced';
  if (checks.some((c) => c.status === 'underpowered')) return 'underpowered';
  return 'inconclusive';
}

function claim(id: string, text: string, paper: string, checks: Check[]): Claim {
  const status = combine(checks);
  const summary =
    checks.length === 0
      ? 'nothing to compare: no method it needs was run'
      : checks.map((c) => `${c.what}: ${c.status} (${c.why})`).join('; ');
  return { id, claim: text, paper, status, checks, summary };
}

/** maj@1 and maj@(all samples) of one method's records, as scorers. */
const majFirst = (r: JudgeRecord): number => majScore(r, 1);
const majAll = (r: JudgeRecord): number => majScore(r, samplesOf(r));

export function evaluateClaims(all: ClaimContext): Claim[] {
  const ctx: ClaimContext = { ...all, records: new Map([...all.records].filter(([m]) => !VARIANT_METHODS.has(m))) };
  const { id, ood } = ctx.splits;
  const M = METHODS;
  const out: Claim[] = [];
  out.push(
    claim(
      'zero-shot-below-bt',
      'A zero-shot LLM judge is less accurate than a BT reward model in-distribution',
      'zero-shot 52.3 vs BT ≈ 73–74 on held-out UltraFeedback',
      [greater(ctx, M.bt, M.zeroShot, id)],
    ),
  );
  out.push(
    claim(
      'cot-helps-zero-shot',
      'Chain of thought (with votes) makes the zero-shot judge more accurate',
      'zero-shot 52.3 / 60.6 → CoT + votes 67.8 / 75.2 (ID / OOD)',
      [greater(ctx, M.zeroShotCot, M.zeroShot, id), greater(ctx, M.zeroShotCot, M.zeroShot, ood)],
    ),
  );
  out.push(
    claim(
      'genrm-matches-bt',
      'A trained GenRM is about as accurate as BT in-distribution (within the CI)',
      'BT ≈ 73–74 vs STaR-DPO 73.9 on UltraFeedback',
      [equivalent(ctx, M.genrm, M.bt, id)],
    ),
  );
  const others = [...ctx.records.keys()].filter((m) => m !== M.starDpo).sort();
  out.push(
    claim(
      'star-dpo-best-ood',
      'STaR-DPO is the most accurate method out of distribution',
      'STaR-DPO 81.9 on RewardBench, above GenRM 78.9 and BT',
      ctx.records.has(M.starDpo) ? others.map((m) => greater(ctx, M.starDpo, m, ood)) : [greater(ctx, M.starDpo, M.bt, ood)],
    ),
  );
  // Votes: maj@(all samples) vs maj@1 of the same records, for every CoT method that sampled more than once.
  const voteChecks: Check[] = [];
  for (const [m, recs] of [...ctx.records].sort(([a], [b]) => a.localeCompare(b))) {
    if (recs.length === 0 || recs[0]!.mode !== 'cot' || Math.min(...recs.map(samplesOf)) < 2) continue;
    const k = Math.min(...recs.map(samplesOf));
    for (const split of [id, ood]) voteChecks.push(greater(ctx, m, m, split, `${m} maj@${k} − maj@1 on ${split}`, majAll, majFirst));
  }
  out.push(
    claim(
      'votes-help',
      'Majority voting over sampled rationales raises accuracy',
      'accuracy rises with the number of votes up to 32',
      voteChecks,
    ),
  );
  return out;
}
