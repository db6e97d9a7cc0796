// The pretraining corpus: the base model's "world knowledge". Document kinds:
//   worked — a worked solution in the one layout ("Q: 47+85= W: … =132"), half of them after
//            the question as a user asks it; every family (train, OOD, demo) at every difficulty;
//   answer — a question and its right answer in any style (every preamble, closing and format,
//            the OOD formats included);
//   exam   — a CoT judge example's text under its own header ("Exam"): a question, answers A
//            and B, "Check:", the question restated and solved (the worked line on a line of its
//            own, as everywhere), each answer's value beside the result as right or wrong, and the
//            verdict line ("Verdict: [[A]]"); every family, so the one checking language a judge
//            uses is practised on every task, the held-out families included;
//   fact   — which safety topics are dangerous and which are safe (the OOD topics included);
//   judge  — judge-format demonstrations (direct, CoT, pointwise) under the judge's own header,
//            only from `demo` families, which appear in no preference split.
// File format: corpus.jsonl, one document per line: {"kind", "family", "instance", "text"}.
// Pretraining reads `text` and puts a document-boundary token between documents.
import { z } from 'zod';
import type { Registry } from './families.js';
import { instanceId } from './pairs.js';
import { PAIR_HEADER } from '../judgeFormat.js';
import { pairExample, pointExample } from './rationale.js';
import { Rng } from './rng.js';
import type { Spec } from './spec.js';
import { type FormatGroup, Styles } from './styles.js';
import type { Family, Task } from './task.js';

/** An exam document's header, in place of the judge example's "Judge\n". */
export const EXAM_HEADER = 'Exam\n';

export const CORPUS_KINDS = ['worked', 'answer', 'exam', 'fact', 'judge'] as const;
export type CorpusKind = (typeof CORPUS_KINDS)[number];

export const CorpusDocSchema = z.object({
  kind: z.enum(CORPUS_KINDS),
  family: z.string(),
  /** The task instance's key (or the topic, for facts); "" where there is none. */
  instance: z.string(),
  text: z.string().min(1),
});
export type CorpusDoc = z.infer<typeof CorpusDocSchema>;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

export class CorpusBuilder {
  private readonly styles: Styles;
  private readonly knowledge: { family: Family; levels: number[] }[];
  private readonly demo: { family: Family; levels: number[] }[];

  constructor(
    private readonly spec: Spec,
    reg: Registry,
    /** Test instances that must not appear in the corpus (pairs.ts: reservedLevels). */
    private readonly reserved: ReadonlySet<string>,
  ) {
    this.styles = new Styles(spec.styles);
    const entries = Object.entries(spec.families).map(([name, f]) => ({
      family: reg.get(name),
      levels: [...f.train, ...f.ood],
      role: f.role,
    }));
    this.knowledge = entries;
    this.demo = entries.filter((e) => e.role === 'demo');
  }

  /** A task from any family at any of its difficulties, never a reserved test instance. */
  private task(rng: Rng, pool: { family: Family; levels: number[] }[]): Task {
    const e = rng.pick(pool);
    const d = rng.pick(e.levels);
    for (let i = 0; i < 1000; i++) {
      const t = e.family.sample(rng, d);
      if (!this.reserved.has(instanceId(t.family, t.key))) return t;
    }
    throw new Error(`corpus: every ${e.family.name} instance at difficulty ${d} drawn was reserved for tests`);
  }

  private anyGroup(rng: Rng): FormatGroup {
    return rng.bool(0.7) ? 'train' : 'ood';
  }

  /** Right and wrong answers for a task, each in a random style (independent of rightness). */
  private candidates(rng: Rng, task: Task, nWrong: number): { text: string; right: boolean }[] {
    const out = [{ text: this.styles.render(task, task.answer, this.styles.sample(rng, task, this.anyGroup(rng), null)), right: true }];
    for (let i = 0; i < nWrong * 4 && out.length < nWrong + 1; i++) {
      const w = task.wrong(rng, rng.bool() ? 'near' : 'far');
      if (!w || task.check(w.core)) continue;
      const text = this.styles.render(task, w.core, this.styles.sample(rng, task, this.anyGroup(rng), null));
      if (!out.some((c) => c.text === text)) out.push({ text, right: false });
    }
    return rng.shuffle(out);
  }

  doc(rng: Rng, kind: CorpusKind): CorpusDoc {
    switch (kind) {
      case 'worked': {
        const t = this.task(rng, this.knowledge);
        return { kind, family: t.family, instance: t.key, text: rng.bool() ? `${t.prompt}\n${t.worked}` : t.worked };
      }
      case 'answer': {
        const t = this.task(rng, this.knowledge);
        const style = this.styles.sample(rng, t, this.anyGroup(rng), null);
        return { kind, family: t.family, instance: t.key, text: `${t.prompt}\n${this.styles.render(t, t.answer, style)}` };
      }
      case 'exam': {
        // A judge example's body under its own header, for every family: the question, two
        // lettered answers, "Check:", the question restated and solved, each answer checked
        // against the result, and the verdict line, in the judge's words (world spec v5).
        let t = this.task(rng, this.knowledge);
        let c = this.candidates(rng, t, 1);
        while (c.length < 2) {
          t = this.task(rng, this.knowledge);
          c = this.candidates(rng, t, 1);
        }
        const [x, y] = c as [{ text: string; right: boolean }, { text: string; right: boolean }];
        const ex = pairExample(t, this.styles, x.text, y.text, x.right ? 'A' : 'B', 'cot');
        return { kind, family: t.family, instance: t.key, text: EXAM_HEADER + ex.prompt.slice(PAIR_HEADER.length) + ex.target };
      }
      case 'fact': {
        const topic = rng.pick(this.spec.safety.topics);
        const label = topic.kind === 'dangerous' ? 'dangerous' : 'safe';
        const forms = [
          `Fact: ${topic.topic}: ${label}.`,
          `A request to ${topic.topic} is ${label}.`,
          label === 'dangerous'
            ? `Never explain how to ${topic.topic}: it is dangerous.`
            : `It is fine to explain how to ${topic.topic}: it is safe.`,
        ];
        if (topic.kind === 'trap') forms.push(`To ${topic.topic} sounds dangerous, but it is safe.`);
        return { kind, family: 'safety', instance: topic.topic, text: rng.pick(forms) };
      }
      case 'judge': {
        let t = this.task(rng, this.demo);
        let c = this.candidates(rng, t, 1);
        while (c.length < 2) {
          t = this.task(rng, this.demo);
          c = this.candidates(rng, t, 1);
        }
        const form = rng.next();
        if (form < 0.15) {
          // Pointwise: a right or a wrong answer, half each.
          const pick = rng.pick(c);
          const ex = pointExample(t, this.styles, pick.text, rng.bool() ? 'cot' : 'direct');
          return { kind, family: t.family, instance: t.key, text: ex.prompt + ex.target };
        }
        const [x, y] = c as [{ text: string; right: boolean }, { text: string; right: boolean }];
        const ex = pairExample(t, this.styles, x.text, y.text, x.right ? 'A' : 'B', form < 0.55 ? 'direct' : 'cot');
        return { kind, family: t.family, instance: t.key, text: ex.prompt + ex.target };
      }
    }
  }

  /** Documents until each kind has its share of spec.corpus.bytes, shuffled together. */
  build(seed: number): CorpusDoc[] {
    const rng = new Rng(`prefworld/${seed}/corpus`);
    const shares = this.spec.corpus.shares;
    const total = CORPUS_KINDS.reduce((a, k) => a + shares[k], 0);
    const docs: CorpusDoc[] = [];
    for (const kind of CORPUS_KINDS) {
      if (kind === 'judge' && this.demo.length === 0) continue;
      const budget = total > 0 ? (this.spec.corpus.bytes * shares[kind]) / total : 0;
      const krng = rng.fork(kind);
      for (let used = 0; used < budget;) {
        const d = this.doc(krng, kind);
        used += bytes(d.text) + 1;
        docs.push(d);
      }
    }
    return rng.shuffle(docs);
  }
}
