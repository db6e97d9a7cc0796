// What the STaR sampler hands the exporters: plain SFT and DPO examples (prompt text in, completion
// text out), and helpers that render them from judge examples in THE judge format
// (src/data/judgeFormat.ts), so an exported dataset teaches exactly the layout genrm's judges read.
import { type PairExample, type PairMode, type PairLabel, pairPrompt, pairTarget } from '../../judgeFormat.js';

export interface SftExample {
  prompt: string;
  completion: string;
  /** Optional system message (chat exports only). */
  system?: string;
  id?: string;
}

export interface DpoExample {
  prompt: string;
  chosen: string;
  rejected: string;
  system?: string;
  id?: string;
}

export interface JudgeSample {
  verdict: PairLabel;
  /** The rationale (cot / rationalize); absent in direct mode. */
  rationale?: string;
}

/** A judge SFT example: the judge prompt, and the rationale + verdict it should write. */
export function sftFromJudge(ex: PairExample, mode: PairMode, sample: JudgeSample, hint?: PairLabel): SftExample {
  return { prompt: pairPrompt(ex, mode, hint), completion: pairTarget(mode, sample.verdict, sample.rationale) };
}

/** A judge DPO example (STaR-DPO): the same prompt, a right-verdict and a wrong-verdict completion. */
export function dpoFromJudge(
  ex: PairExample,
  mode: Exclude<PairMode, 'rationalize'>,
  chosen: JudgeSample,
  rejected: JudgeSample,
): DpoExample {
  if (chosen.verdict === rejected.verdict) throw new Error('dpoFromJudge: chosen and rejected samples must end in different verdicts');
  return {
    prompt: pairPrompt(ex, mode),
    chosen: pairTarget(mode, chosen.verdict, chosen.rationale),
    rejected: pairTarget(mode, rejected.verdict, rejected.rationale),
  };
}
