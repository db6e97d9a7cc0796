// ADAPTER, to be replaced: genrm's compact judge format for its own models is defined by the
// judge-format module src/data/judgeFormat.ts (DESIGN.md §5, shared with PrefWorld's corpus).
// That module had not landed when the judge was written, so this file holds the smallest stand-in
// with the same job: render a judge example's prompt as text that ends where the model continues
// (direct: at the verdict; CoT / rationalize: at the rationale). When judgeFormat.ts lands, these
// functions become thin calls into it and the layout below goes away.
import { VERDICT_A, VERDICT_B } from './verdicts.js';

export type CompactMode = 'direct' | 'cot' | 'rationalize';

export function compactPairPrompt(f: { question: string; answerA: string; answerB: string; mode: CompactMode; hint?: 'A' | 'B' }): string {
  const head = `Question:\n${f.question}\n\nAnswer A:\n${f.answerA}\n\nAnswer B:\n${f.answerB}\n\n`;
  if (f.mode === 'direct') return `${head}Verdict: `;
  if (f.mode === 'rationalize') {
    if (f.hint === undefined) throw new Error('compact format: rationalize mode needs the right verdict as a hint');
    return `${head}Better: ${f.hint === 'A' ? VERDICT_A : VERDICT_B}\nReasoning:\n`;
  }
  return `${head}Reasoning:\n`;
}

export function compactPointPrompt(f: { question: string; answer: string; mode: 'direct' | 'cot' }): string {
  const head = `Question:\n${f.question}\n\nAnswer:\n${f.answer}\n\nIs the answer correct?\n`;
  return f.mode === 'direct' ? `${head}Verdict: ` : `${head}Reasoning:\n`;
}
