// Best-of-N's raw material: PrefWorld prompts, N answers to each from a policy, and each answer's
// gold grade. The policy is any LanguageModel. A model that continues text (genrm's base) is
// asked the way the pretraining corpus shows a question and its answer (`prompt\n` + answer, one
// line); a chat-only server gets the prompt as a user message. The base also writes worked lines
// ("Q: 47+85= W: … =132") after a question, as its corpus does half the time: those are
// working, not answers, and are drawn again, as are samples that hit the token cap.
import type { LanguageModel, Prompt } from '../../backends/types.js';
import type { PreferencePair } from '../../data/pair.js';
import { registry, type Registry } from '../../data/world/families.js';
import { says } from '../../data/world/rationale.js';
import type { Spec } from '../../data/world/spec.js';
import { Styles } from '../../data/world/styles.js';
import type { WorldMeta } from '../../data/world/pairs.js';

/** One prompt of a best-of-N run, with what grading its answers needs. */
export interface BonPrompt {
  id: string;
  split: string;
  /** The task family (PrefWorld's subset). */
  subset: string;
  category?: string;
  prompt: string;
  /** The task instance's key (PrefWorld meta.instance). */
  instance: string;
  shift: string[];
}

/** The distinct prompts of a split's pairs (one per task instance), the first `limit` of them. */
export function bonPrompts(pairs: readonly PreferencePair[], limit: number): BonPrompt[] {
  const seen = new Set<string>();
  const out: BonPrompt[] = [];
  for (const p of pairs) {
    const meta = p.meta as Partial<WorldMeta> | undefined;
    if (typeof p.prompt !== 'string' || !p.subset || typeof meta?.instance !== 'string') {
      throw new Error(
        `pair ${p.id}: best-of-N needs PrefWorld pairs (a text prompt, subset and meta.instance), to grade the policy's answers`,
      );
    }
    const key = `${p.subset}:${meta.instance}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      id: p.id,
      split: p.split ?? 'test',
      subset: p.subset,
      ...(p.category ? { category: p.category } : {}),
      prompt: p.prompt,
      instance: meta.instance,
      shift: meta.shift ?? [],
    });
    if (out.length >= limit) break;
  }
  return out;
}

/** Grades answers against PrefWorld's tasks: the answer's core, read as a judge's check reads it. */
export class GoldGrader {
  private readonly reg: Registry;
  private readonly styles: Styles;
  constructor(spec: Spec) {
    this.reg = registry(spec);
    this.styles = new Styles(spec.styles);
  }
  right(p: BonPrompt, answer: string): boolean {
    return this.reg.task(p.subset, p.instance).check(says(this.styles, answer));
  }
}

export interface PolicyOptions {
  /** Answers wanted per prompt. */
  n: number;
  seed: number;
  /** 1.0: the policy as it is, so N answers are N draws from it. */
  temperature: number;
  topP: number;
  maxTokens: number;
  /** Draws per prompt per try, as a multiple of n (a try keeps only whole answers). */
  overdraw: number;
  /** Tries before a prompt with fewer than n answers is left out. */
  tries: number;
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_POLICY: Omit<PolicyOptions, 'n' | 'seed'> = { temperature: 1.0, topP: 1.0, maxTokens: 48, overdraw: 3, tries: 3 };

/** The corpus's worked-line head: the base's working, not an answer. */
const WORKED_HEAD = 'Q: ';

/** A whole answer: ended by the policy (not the token cap), not empty, not a worked line. */
export function isWholeAnswer(s: { text: string; finishReason: string }): boolean {
  const text = s.text.trim();
  return s.finishReason === 'stop' && text !== '' && !text.startsWith(WORKED_HEAD);
}

/** How the policy is asked: text models as the corpus lays out a question and answer; chat-only servers as a user turn. */
/** A question as the corpus lays it out for its answer (text models), and where the answer ends. */
export const answerText = (prompt: string): string => `${prompt}\n`;
export const ANSWER_STOP: readonly string[] = ['\n'];

export function policyPrompt(policy: LanguageModel, prompt: string): { prompt: Prompt; stop: string[] } {
  return policy.capabilities.prompts.text
    ? { prompt: answerText(prompt), stop: [...ANSWER_STOP] }
    : { prompt: [{ role: 'user', content: prompt }], stop: [] };
}

export interface DrawnAnswers {
  /** Per kept prompt, exactly n answers in sampling order. */
  prompts: BonPrompt[];
  answers: string[][];
  /** Prompts left out: the policy gave fewer than n whole answers in every try. */
  short: BonPrompt[];
  /** Samples drawn and samples dropped (worked lines, cut at the token cap, empty). */
  drawn: number;
  dropped: number;
}

/** n whole answers per prompt from the policy, seeded (try t draws with seed + t·10⁶). */
export async function drawAnswers(policy: LanguageModel, prompts: readonly BonPrompt[], o: PolicyOptions): Promise<DrawnAnswers> {
  if (!policy.capabilities.generate) throw new Error('best-of-N: the policy model cannot generate');
  const got: string[][] = prompts.map(() => []);
  let drawn = 0;
  let dropped = 0;
  for (let t = 0; t < o.tries; t++) {
    const need = prompts.map((_, i) => i).filter((i) => (got[i] as string[]).length < o.n);
    if (need.length === 0) break;
    const asks = need.map((i) => policyPrompt(policy, (prompts[i] as BonPrompt).prompt));
    const gens = await policy.generate(
      asks.map((a) => a.prompt),
      {
        n: o.n * o.overdraw,
        temperature: o.temperature,
        topP: o.topP,
        maxTokens: o.maxTokens,
        stop: asks[0]?.stop ?? [],
        seed: o.seed + t * 1_000_000,
      },
    );
    gens.forEach((g, k) => {
      const mine = got[need[k] as number] as string[];
      for (const s of g.samples) {
        drawn++;
        if (!isWholeAnswer(s)) dropped++;
        else if (mine.length < o.n) mine.push(s.text.trim());
      }
    });
    o.onProgress?.(got.filter((g) => g.length >= o.n).length, prompts.length);
  }
  const keep = prompts.map((_, i) => i).filter((i) => (got[i] as string[]).length >= o.n);
  return {
    prompts: keep.map((i) => prompts[i] as BonPrompt),
    answers: keep.map((i) => got[i] as string[]),
    short: prompts.filter((_, i) => (got[i] as string[]).length < o.n),
    drawn,
    dropped,
  };
}
