// Preference pairs: the right answer over a plausible wrong one, each answer in a style, with
// the style–label link, label noise, categories, splits and OOD shifts the spec asks for.
//
// Order of generation matters for the no-overlap rule: test-ood, then test-id, then train; the
// test splits' instances (where the instance space is large) are reserved, and train and the
// corpus draw around them.
import type { PreferencePair } from '../pair.js';
import type { Registry } from './families.js';
import { Rng } from './rng.js';
import type { FamilySpec, Spec } from './spec.js';
import { type FormatGroup, type Style, Styles } from './styles.js';
import type { ErrorKind, Family, Task } from './task.js';

export const SHIFTS = ['family', 'topic', 'style', 'format', 'difficulty'] as const;
export type Shift = (typeof SHIFTS)[number];
/** train: pleasant style on the chosen side `styleRatio` : 1; independent: exactly balanced; reversed: 1 : styleRatio. */
export type StyleLink = 'train' | 'independent' | 'reversed';
export type OodGroup = Shift | 'none';

export interface WorldMeta {
  instance: string;
  difficulty: number;
  error: string;
  errorKind: ErrorKind | null;
  noisy: boolean;
  styles: { chosen: Style; rejected: Style };
  styleLink: StyleLink;
  formats: FormatGroup;
  /** The shifts this pair carries; [] in train/test-id and in test-ood's control group. */
  shift: Shift[];
}

interface Plan {
  family: Family;
  fspec: FamilySpec;
  difficulty: number;
  formats: FormatGroup;
  link: StyleLink;
  shift: Shift[];
}

/** The instance's identity across the world: "add:47+85". */
export const instanceId = (family: string, key: string): string => `${family}:${key}`;

/** Pairs are the same pair whatever their order: prompt plus the unordered answers. */
export const pairIdentity = (prompt: string, a: string, b: string): string => [prompt, ...[a, b].sort()].join('\u0000');

export class PairMaker {
  private flips = new Map<string, number>();

  constructor(
    private readonly spec: Spec,
    readonly reg: Registry,
    readonly styles: Styles,
    /** Identity of every pair made so far -> its split (no pair twice across splits). */
    readonly seen = new Map<string, string>(),
    /** Instances kept out of train (and the corpus): the test splits' large-space ones. */
    readonly reserved = new Set<string>(),
  ) {}

  fspec(name: string): FamilySpec {
    const f = this.spec.families[name];
    if (!f) throw new Error(`spec: no family "${name}"`);
    return f;
  }

  /** "family:difficulty" levels whose test instances are reserved (see reservedLevels). */
  reservedLevels = new Set<string>();

  /** Styles for (chosen, rejected) under a link; `balanceKey` keeps each group's independent link exactly balanced. */
  private chooseStyles(rng: Rng, task: Task, plan: Plan, balanceKey: string): { chosen: Style; rejected: Style } {
    if (rng.bool(this.spec.shareStyle)) {
      const s = this.styles.sample(rng, task, plan.formats, null);
      return { chosen: s, rejected: s };
    }
    const pleasant = this.styles.sample(rng, task, plan.formats, true);
    const plain = this.styles.sample(rng, task, plan.formats, false);
    const r = this.spec.styleRatio;
    let chosenPleasant: boolean;
    if (plan.link === 'train') chosenPleasant = rng.bool(r / (r + 1));
    else if (plan.link === 'reversed') chosenPleasant = rng.bool(1 / (r + 1));
    else {
      const n = this.flips.get(balanceKey) ?? 0;
      this.flips.set(balanceKey, n + 1);
      chosenPleasant = n % 2 === 0;
    }
    return chosenPleasant ? { chosen: pleasant, rejected: plain } : { chosen: plain, rejected: pleasant };
  }

  private category(plan: Plan, kind: ErrorKind | null): string {
    if (plan.family.name === 'safety') return 'safety';
    if (plan.fspec.reasoningFrom !== undefined && plan.difficulty >= plan.fspec.reasoningFrom) return 'reasoning';
    return kind === 'near' ? 'chat-hard' : 'chat';
  }

  make(rng: Rng, plan: Plan, split: string, id: string, noise: boolean, balanceKey: string): PreferencePair {
    const kind: ErrorKind | null = plan.family.name === 'safety' ? null : rng.bool(this.spec.nearShare) ? 'near' : 'far';
    const avoidReserved = split === 'train' && this.reservedLevels.has(`${plan.family.name}:${plan.difficulty}`);
    for (let attempt = 0; attempt < 2000; attempt++) {
      const task = plan.family.sample(rng, plan.difficulty);
      if (avoidReserved && this.reserved.has(instanceId(task.family, task.key))) continue;
      const wrong = task.wrong(rng, kind ?? 'near');
      if (!wrong || task.check(wrong.core)) continue;
      const st = this.chooseStyles(rng, task, plan, balanceKey);
      let chosen = this.styles.render(task, task.answer, st.chosen);
      let rejected = this.styles.render(task, wrong.core, st.rejected);
      const ident = pairIdentity(task.prompt, chosen, rejected);
      // Never a pair twice across splits; within train a repeat is accepted only once fresh
      // pairs have become hard to find (safety's space is small at the full size).
      const before = this.seen.get(ident);
      if (before !== undefined && !(before === split && split === 'train' && attempt >= 200)) continue;
      this.seen.set(ident, split);
      let styles = st;
      const noisy = noise && rng.bool(this.spec.labelNoise);
      if (noisy) {
        [chosen, rejected] = [rejected, chosen];
        styles = { chosen: st.rejected, rejected: st.chosen };
      }
      const meta: WorldMeta = {
        instance: task.key,
        difficulty: plan.difficulty,
        error: wrong.error,
        errorKind: kind,
        noisy,
        styles,
        styleLink: plan.link,
        formats: plan.formats,
        shift: plan.shift,
      };
      return {
        id,
        prompt: task.prompt,
        chosen,
        rejected,
        category: this.category(plan, kind),
        subset: task.family,
        split,
        meta: meta as unknown as Record<string, unknown>,
      };
    }
    throw new Error(
      `prefworld: could not make a new ${split} pair for ${plan.family.name} at difficulty ${plan.difficulty} (instance space too small for the requested size?)`,
    );
  }

  // ---- plans ----

  private trainPlan(rng: Rng, extra: Partial<Plan> = {}): Plan {
    const safety = this.spec.families['safety'];
    if (safety && safety.role === 'train' && rng.bool(this.spec.safetyShare)) {
      return {
        family: this.reg.safetyTrain,
        fspec: safety,
        difficulty: rng.pick(safety.train),
        formats: 'train',
        link: 'train',
        shift: [],
        ...extra,
      };
    }
    const names = Object.entries(this.spec.families).filter(([n, f]) => f.role === 'train' && n !== 'safety');
    const [name, fs] = names[rng.weighted(names.map(([, f]) => f.weight))] as [string, FamilySpec];
    return { family: this.reg.get(name), fspec: fs, difficulty: rng.pick(fs.train), formats: 'train', link: 'train', shift: [], ...extra };
  }

  private oodPlan(rng: Rng, group: OodGroup): Plan {
    switch (group) {
      case 'family': {
        const names = Object.entries(this.spec.families).filter(([, f]) => f.role === 'ood');
        const [name, fs] = names[rng.weighted(names.map(([, f]) => f.weight))] as [string, FamilySpec];
        return {
          family: this.reg.get(name),
          fspec: fs,
          difficulty: rng.pick(fs.train),
          formats: 'train',
          link: 'independent',
          shift: ['family'],
        };
      }
      case 'topic': {
        const fs = this.fspec('safety');
        return {
          family: this.reg.safetyOod,
          fspec: fs,
          difficulty: rng.pick(fs.train),
          formats: 'train',
          link: 'independent',
          shift: ['topic'],
        };
      }
      case 'difficulty': {
        const names = Object.entries(this.spec.families).filter(([n, f]) => f.role === 'train' && n !== 'safety' && f.ood.length > 0);
        if (!names.length) throw new Error('spec: ood.difficulty > 0 but no train family has OOD difficulties');
        const [name, fs] = names[rng.weighted(names.map(([, f]) => f.weight))] as [string, FamilySpec];
        return {
          family: this.reg.get(name),
          fspec: fs,
          difficulty: rng.pick(fs.ood),
          formats: 'train',
          link: 'independent',
          shift: ['difficulty'],
        };
      }
      case 'style':
        return this.trainPlan(rng, { link: 'reversed', shift: ['style'] });
      case 'format':
        return this.trainPlan(rng, { formats: 'ood', link: 'independent', shift: ['format'] });
      case 'none':
        return this.trainPlan(rng, { link: 'independent', shift: [] });
    }
  }

  /** A train or test-id split: the training distribution (train alone gets label noise). */
  trainLike(rng: Rng, split: 'train' | 'test-id', n: number): PreferencePair[] {
    const out: PreferencePair[] = [];
    for (let i = 0; i < n; i++) out.push(this.make(rng, this.trainPlan(rng), split, `${split}-${pad(i)}`, split === 'train', split));
    return out;
  }

  /** test-ood: groups sized by the spec's shares (largest remainder), shuffled together. */
  testOod(rng: Rng, n: number): PreferencePair[] {
    const groups = Object.entries(this.spec.ood) as [OodGroup, number][];
    const counts = apportion(
      groups.map(([, w]) => w),
      n,
    );
    const made: PreferencePair[] = [];
    groups.forEach(([g], gi) => {
      for (let i = 0; i < (counts[gi] as number); i++) made.push(this.make(rng, this.oodPlan(rng, g), 'test-ood', '', false, `ood/${g}`));
    });
    rng.shuffle(made);
    return made.map((p, i) => ({ ...p, id: `test-ood-${pad(i)}` }));
  }
}

const pad = (i: number): string => String(i).padStart(6, '0');

/** Splits n into integer parts proportional to weights (largest remainder; deterministic ties). */
export function apportion(weights: readonly number[], n: number): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return weights.map(() => 0);
  const exact = weights.map((w) => (w / total) * n);
  const out = exact.map(Math.floor);
  let left = n - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    out[i] = (out[i] as number) + 1;
  }
  return out;
}

export interface Splits {
  train: PreferencePair[];
  'test-id': PreferencePair[];
  'test-ood': PreferencePair[];
}

/** The test splits and their reserved instance ids ("family:key"), as generateSplits draws them. */
function testSplits(spec: Spec, maker: PairMaker, root: Rng): { testOod: PreferencePair[]; testId: PreferencePair[] } {
  const testOod = maker.testOod(root.fork('test-ood'), spec.pairs.testOod);
  const testId = maker.trainLike(root.fork('test-id'), 'test-id', spec.pairs.testId);
  maker.reservedLevels = reservedLevels(spec, maker.reg, [...testOod, ...testId]);
  for (const p of [...testOod, ...testId]) {
    const m = p.meta as unknown as WorldMeta;
    if (maker.reservedLevels.has(`${p.subset}:${m.difficulty}`)) maker.reserved.add(instanceId(p.subset as string, m.instance));
  }
  return { testOod, testId };
}

/** All three splits, plus the reserved instance ids that train and the corpus must avoid. */
export function generateSplits(spec: Spec, reg: Registry, styles = new Styles(spec.styles)): { splits: Splits; reserved: Set<string> } {
  const root = new Rng(`prefworld/${spec.seed}`);
  const maker = new PairMaker(spec, reg, styles);
  const { testOod, testId } = testSplits(spec, maker, root);
  const train = maker.trainLike(root.fork('train'), 'train', spec.pairs.train);
  return { splits: { train, 'test-id': testId, 'test-ood': testOod }, reserved: maker.reserved };
}

/**
 * The reserved test instances of the same spec at other split sizes (without drawing their train
 * split). The corpus avoids these too, so that every size of one spec has the same corpus and one
 * pretrained base model serves the quick and the full world alike.
 */
export function reservedAtSizes(spec: Spec, reg: Registry, sizes: readonly Spec['pairs'][]): Set<string> {
  const out = new Set<string>();
  for (const pairs of sizes) {
    const sized = { ...spec, pairs };
    const maker = new PairMaker(sized, reg, new Styles(spec.styles));
    testSplits(sized, maker, new Rng(`prefworld/${spec.seed}`));
    for (const id of maker.reserved) out.add(id);
  }
  return out;
}

/**
 * The no-overlap rule: the (family, difficulty) levels whose distinct test instances are at most
 * spec.reserveMaxShare of the level's instance space. Their test instances are kept out of train
 * and the corpus; the other levels' overlap is measured instead.
 */
export function reservedLevels(spec: Spec, reg: Registry, testPairs: readonly PreferencePair[]): Set<string> {
  const inst = new Map<string, Set<string>>();
  for (const p of testPairs) {
    const m = p.meta as unknown as WorldMeta;
    const level = `${p.subset}:${m.difficulty}`;
    let s = inst.get(level);
    if (!s) inst.set(level, (s = new Set()));
    s.add(m.instance);
  }
  const out = new Set<string>();
  for (const [level, s] of inst) {
    const [family, d] = level.split(':') as [string, string];
    if (s.size <= spec.reserveMaxShare * reg.get(family).spaceSize(Number(d))) out.add(level);
  }
  return out;
}
