// Hand-made and synthetic JudgeRecords for the eval tests.
import { Prng } from '../../src/engine/prng.js';
import { JudgeRecordSchema, type JudgeRecord, type JudgeRecordInput, type SlotVerdict } from '../../src/eval/records.js';

/** A record from the parts a test cares about (v, method, mode, split filled in). */
export function rec(p: Partial<JudgeRecordInput> & { pairId: string }): JudgeRecord {
  return JudgeRecordSchema.parse({ v: 1, method: 'm', mode: 'cot', split: 'test-id', ...p });
}

export interface SynthMethod {
  method: string;
  mode: 'direct' | 'cot' | 'scalar';
  /** P(a sampled verdict names the chosen answer), per split. */
  pRight: Record<string, number>;
  votes?: number;
  iterations?: number[];
  /** Give each sample a rationale grade (right result with prob pRight; restated, checks consistent). */
  grade?: boolean;
}

/**
 * A synthetic run: `pairsPerSplit` pairs in test-id and test-ood (OOD pairs carry a shift and a
 * category), each judged in both orders by every method with the given per-sample accuracy.
 */
export function synthRecords(methods: SynthMethod[], pairsPerSplit: number, seed = 1): JudgeRecord[] {
  const rng = new Prng(seed);
  const cats = ['chat', 'chat-hard', 'safety', 'reasoning'];
  const fams = ['add', 'sort', 'count'];
  const shifts = ['family', 'style', 'difficulty'];
  const out: JudgeRecord[] = [];
  for (const m of methods) {
    for (const it of m.iterations ?? [-1]) {
      for (const split of ['test-id', 'test-ood']) {
        const p = (m.pRight[split] ?? 0.5) + (it > 0 ? 0.03 * it : 0);
        for (let i = 0; i < pairsPerSplit; i++) {
          const n = m.mode === 'cot' ? (m.votes ?? 8) : 1;
          const order = (first: boolean) => {
            const verdicts: SlotVerdict[] = [];
            const rightFlags: boolean[] = [];
            const restated: boolean[] = [];
            const consistent: boolean[] = [];
            for (let s = 0; s < n; s++) {
              const u = rng.uniform();
              const right = u < p;
              const v: SlotVerdict = u > 0.97 ? 'invalid' : right === first ? 'A' : 'B';
              verdicts.push(v);
              rightFlags.push(right && rng.uniform() < 0.9);
              restated.push(rng.uniform() < 0.8);
              consistent.push(right && rng.uniform() < 0.7);
            }
            const pc = Math.min(0.99, Math.max(0.01, p + 0.3 * (rng.uniform() - 0.5)));
            return {
              verdicts,
              ...(m.grade ? { rationaleRight: rightFlags, restated, checksConsistent: consistent } : {}),
              ...(m.mode !== 'cot' ? { pChosen: first ? pc : pc } : {}),
            };
          };
          const cf = order(true);
          const cs = order(false);
          // Direct/scalar: make the recorded verdicts agree with the order probabilities.
          if (m.mode !== 'cot') {
            cf.verdicts = [(cf.pChosen as number) > 0.5 ? 'A' : 'B'];
            cs.verdicts = [(cs.pChosen as number) > 0.5 ? 'B' : 'A'];
          }
          out.push(
            JudgeRecordSchema.parse({
              v: 1,
              pairId: `${split}-${i}`,
              split,
              category: cats[i % cats.length],
              subset: fams[i % fams.length],
              shift: split === 'test-ood' && i % 4 !== 0 ? [shifts[i % shifts.length]] : [],
              method: m.method,
              mode: m.mode,
              ...(it >= 0 ? { iteration: it } : {}),
              chosenFirst: cf,
              ...(m.mode === 'scalar' ? {} : { chosenSecond: cs }),
              ...(m.mode !== 'cot'
                ? { pChosen: m.mode === 'scalar' ? cf.pChosen : ((cf.pChosen as number) + (cs.pChosen as number)) / 2 }
                : {}),
            }),
          );
        }
      }
    }
  }
  return out;
}
