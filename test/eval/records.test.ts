// The per-pair record: schema, reader errors naming file and line, and the adapters from the judge.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PreferencePair } from '../../src/data/pair.js';
import { recordFromJudgment, recordFromOrderProbs, recordFromPointwise, recordFromScores } from '../../src/eval/fromJudge.js';
import { majScore, pairScore } from '../../src/eval/metrics/scores.js';
import { readRecordsAll, writeRecords } from '../../src/eval/records.js';
import type { PairJudgment } from '../../src/judge/pairwise.js';
import { tally } from '../../src/judge/scoring.js';
import { rec } from './fixtures.js';

const pair: PreferencePair = {
  id: 'p7',
  prompt: 'q',
  chosen: 'right',
  rejected: 'wrong',
  split: 'test-ood',
  category: 'reasoning',
  subset: 'add',
  meta: { shift: ['family', 'style'] },
};

test('records round-trip through JSONL; a broken line names the file and line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'eval-rec-'));
  const f = join(dir, 'verdicts.jsonl');
  const rs = [
    rec({ pairId: 'a', chosenFirst: { verdicts: ['A', 'invalid'], rationaleRight: [true, false] } }),
    rec({ pairId: 'b', mode: 'direct', chosenSecond: { verdicts: ['B'], pChosen: 0.6 }, pChosen: 0.6 }),
  ];
  await writeRecords(f, rs);
  assert.deepEqual(await readRecordsAll(f), rs);
  assert.deepEqual((await readdir(dir)).sort(), ['verdicts.jsonl']); // no temp file left behind
  const good = JSON.stringify(rs[0]);
  await writeFile(f, `${good}\n{"v":1,"pairId":"x"\n`);
  await assert.rejects(readRecordsAll(f), (e: Error) => e.message.startsWith(`${f}:2:`) && /JSON/.test(e.message));
  await writeFile(f, `${good}\n\n${JSON.stringify({ ...rs[0], chosenFirst: { verdicts: ['A', 'C'] } })}\n`);
  await assert.rejects(readRecordsAll(f), (e: Error) => e.message.startsWith(`${f}:3: field "chosenFirst.verdicts[1]"`));
  await writeFile(f, `${JSON.stringify({ ...rs[0], chosenFirst: { verdicts: ['A'], rationaleRight: [true, true] } })}\n`);
  await assert.rejects(readRecordsAll(f), /:1: field "chosenFirst.rationaleRight": has 2 entries, expected one per verdict \(1\)/);
  await writeFile(f, `${JSON.stringify({ v: 1, pairId: 'z', method: 'm', mode: 'cot' })}\n`);
  await assert.rejects(readRecordsAll(f), /:1: .*needs at least one order/);
  await assert.rejects(writeRecords(f, [{ ...rs[0]!, pChosen: 2 }]), /record 0 \(a\): pChosen/);
});

test('a swapped CoT judgment with the chosen answer in slot B maps orders and probabilities', () => {
  // Judge saw (A=wrong, B=right) in order 1 and (right, wrong) in order 2.
  const o1 = tally(
    [
      { text: 'x [[B]]', verdict: 'neg' },
      { text: 'y [[A]]', verdict: 'pos' },
      { text: 'z', verdict: 'invalid' },
    ],
    false,
  );
  const o2 = tally(
    [
      { text: 'u [[A]]', verdict: 'pos' },
      { text: 'v [[A]]', verdict: 'pos' },
      { text: 'w [[B]]', verdict: 'neg' },
    ],
    false,
  );
  const j: PairJudgment = {
    id: 'p7',
    pA: (o1.p + 1 - o2.p) / 2,
    verdict: 'B',
    orders: [
      { p: o1.p, verdict: 'tie', cot: o1, truncated: false },
      { p: o2.p, verdict: 'A', cot: o2, truncated: true },
    ],
    approximate: false,
  };
  const r = recordFromJudgment(pair, j, {
    method: 'zero-shot-cot',
    chosenSlot: 'B',
    keepRationales: true,
    gradeRationale: (t) => t.startsWith('x') || t.startsWith('u'),
  });
  assert.equal(r.mode, 'cot');
  assert.deepEqual(r.shift, ['family', 'style']);
  assert.equal(r.category, 'reasoning');
  assert.deepEqual(r.chosenSecond?.verdicts, ['B', 'A', 'invalid']);
  assert.deepEqual(r.chosenFirst?.verdicts, ['A', 'A', 'B']);
  assert.deepEqual(r.chosenSecond?.rationaleRight, [true, false, false]);
  assert.equal(r.chosenSecond?.restated, undefined, 'a boolean grader records the result only');
  assert.deepEqual(r.chosenFirst?.rationales, ['u [[A]]', 'v [[A]]', 'w [[B]]']);
  assert.equal(r.chosenFirst?.truncated, true);
  // Plain vote shares are not reported as probabilities.
  assert.equal(r.pChosen, undefined);
  // maj@1: second-order share 1, first-order share 1 → 1. maj@3: (1/2 + 2/3)/2 > 0.5 → 1.
  assert.equal(majScore(r, 1), 1);
  assert.equal(pairScore(r), 1);
  // A grader returning PrefWorld's whole grade: restating and checks are recorded per sample too.
  const full = recordFromJudgment(pair, j, {
    method: 'zero-shot-cot',
    chosenSlot: 'B',
    gradeRationale: (t) => ({ resultRight: t.startsWith('x'), restated: t.includes('['), checksConsistent: t.startsWith('y') }),
  });
  assert.deepEqual(full.chosenSecond?.rationaleRight, [true, false, false]);
  assert.deepEqual(full.chosenSecond?.restated, [true, true, false]);
  assert.deepEqual(full.chosenSecond?.checksConsistent, [false, true, false]);
  assert.deepEqual(full.chosenFirst?.restated, [true, true, true]);
});

test('a direct judgment keeps P(chosen) in chosen terms; scalar and order-probability adapters', () => {
  const d = (p: number) => ({
    p,
    verdict: (p > 0.5 ? 'A' : 'B') as 'A' | 'B',
    direct: { p, logprobs: [Math.log(p), Math.log(1 - p)] as [number, number], approximate: false },
    truncated: false,
  });
  const j: PairJudgment = { id: 'p7', pA: (0.3 + 1 - 0.6) / 2, verdict: 'B', orders: [d(0.3), d(0.6)], approximate: false };
  const r = recordFromJudgment(pair, j, { method: 'genrm', chosenSlot: 'B' });
  assert.equal(r.mode, 'direct');
  assert.ok(Math.abs(r.pChosen! - 0.65) < 1e-12);
  assert.ok(Math.abs(r.chosenSecond!.pChosen! - 0.7) < 1e-12);
  assert.ok(Math.abs(r.chosenFirst!.pChosen! - 0.6) < 1e-12);
  const s = recordFromScores(pair, { chosen: 1, rejected: 3 }, { method: 'bt' });
  assert.equal(s.mode, 'scalar');
  assert.ok(Math.abs(s.pChosen! - 1 / (1 + Math.exp(2))) < 1e-12);
  assert.equal(pairScore(s), 0);
  const q = recordFromOrderProbs(pair, [0.8, 0.4], { method: 'pairrm', iteration: 2 });
  assert.ok(Math.abs(q.pChosen! - 0.7) < 1e-12);
  assert.deepEqual([q.chosenFirst?.verdicts, q.chosenSecond?.verdicts, q.iteration], [['A'], ['B'], 2]);
  const pw = recordFromPointwise(pair, { chosen: 0.4, rejected: 0.9 }, { method: 'verifier' });
  assert.deepEqual([pw.mode, pw.chosenFirst?.verdicts, pw.pChosen, pairScore(pw)], ['pointwise', ['B'], undefined, 0]);
});
