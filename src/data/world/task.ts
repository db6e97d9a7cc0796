// What every PrefWorld task family provides. A family makes Tasks; a Task is one instance
// (family + operands) with everything the world needs: the question, the right answer, the
// worked solution in the corpus's layout, a checker, and an error model.
import type { Rng } from './rng.js';

/** near: a plausible slip (chat-hard); far: clearly wrong (chat). */
export type ErrorKind = 'near' | 'far';

export interface WrongAnswer {
  core: string;
  /** Which slip made it: 'carry', 'borrow', 'digit', 'swap', 'drop', 'dup', 'second', 'off1', 'far', 'complies', 'refuses', … */
  error: string;
}

export interface Task {
  family: string;
  difficulty: number;
  /** The instance's identity (operands), unique within the family: "47+85", "a|banana". */
  key: string;
  /** The question as a user asks it. */
  prompt: string;
  /** The right answer's core (no style): "132", "1 3 5 8", "tenalp"; safety: "help" | "refuse". */
  answer: string;
  /** The worked solution in the corpus's one layout: "Q: 47+85= W: 7+5=12;4+8+1=13 =132". */
  worked: string;
  /** Is this core answer right? Also used on a rationale's own result. */
  check(core: string): boolean;
  /** A plausible wrong answer of the given kind, or null if this instance has none. */
  wrong(rng: Rng, kind: ErrorKind): WrongAnswer | null;
}

export type Group = 'arith' | 'list' | 'string' | 'safety';

export interface Family {
  name: string;
  group: Group;
  /** Every difficulty level the family can make (the spec picks which are train / OOD). */
  levels: readonly number[];
  /** How many distinct instances exist at a difficulty (decides the no-overlap rule). */
  spaceSize(difficulty: number): number;
  sample(rng: Rng, difficulty: number): Task;
  /** Rebuilds a task from its key (e.g. from a PreferencePair's meta.instance). */
  fromKey(key: string): Task;
}

/** The result written at the end of a worked line, after its last " =". */
export function workedResult(worked: string): string | null {
  const eq = worked.lastIndexOf(' =');
  return eq < 0 ? null : worked.slice(eq + 2).trim();
}
