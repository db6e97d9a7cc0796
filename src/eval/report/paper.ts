// The paper's reported numbers, for the same rows as our main table. Source: Mahan, Phung,
// Rafailov et al., "Generative Reward Models", SynthLabs, arXiv 2410.12832, as quoted in
// the project brief (../shared/DESIGN.md §1, outside the repo) (Llama-3.1-8B-Instruct base; in-distribution = held-out UltraFeedback, OOD =
// RewardBench). These are on DIFFERENT data from ours: they show the shape of the claims, not
// numbers we should match. Cells the design notes do not quote are left empty, not guessed.
import { METHODS } from '../records.js';

export interface PaperRow {
  /** In-distribution accuracy (UltraFeedback held-out), % — text so a range ("73–74") stays honest. */
  id?: string;
  /** Out-of-distribution accuracy (RewardBench), %. */
  ood?: string;
  /** Per RewardBench category, %. */
  categories?: Record<string, string>;
  /** What the paper's row is, where it is not simply our method. */
  note?: string;
}

export const PAPER_SOURCE =
  'Mahan et al., Generative Reward Models (arXiv 2410.12832), Llama-3.1-8B-Instruct; ID = UltraFeedback held-out, OOD = RewardBench';

export const PAPER: Readonly<Record<string, PaperRow>> = {
  [METHODS.zeroShot]: { id: '52.3', ood: '60.6', note: 'LLM-as-judge, zero-shot' },
  [METHODS.zeroShotCot]: { id: '67.8', ood: '75.2', note: 'CoT judge + majority vote' },
  [METHODS.bt]: { id: '≈73–74' },
  [METHODS.genrm]: { ood: '78.9' },
  [METHODS.starDpo]: { id: '73.9', ood: '81.9', categories: { safety: '91.0' } },
};
