// The report's plots as Vega-Lite specs, rendered to SVG strings in Node. Rendering is offline:
// renderer 'none' + toSVG() measures text by estimate (no canvas, no fonts fetched) and the SVG
// carries no external references, so report.html stays one self-contained file.
import type { TopLevelSpec } from 'vega-lite';
import type { Results } from '../results.js';
import { findGroup } from './tables.js';

export interface Plot {
  name: string;
  title: string;
  /** What the plot shows, one sentence. */
  caption: string;
  spec?: TopLevelSpec;
  svg?: string;
  /** Why the plot is missing, when it is. */
  skipped?: string;
}

const P = (x: number | null): number | null => (x === null ? null : Math.round(1000 * x) / 10);
const FONT = { font: 'sans-serif' };
const BASE = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  background: 'white',
  config: { ...FONT, view: { stroke: '#ddd' } },
} as const;
const ACC_AXIS = { title: 'accuracy %', scale: { zero: false } } as const;

export function majSpec(r: Results): TopLevelSpec | null {
  const values = r.methods.flatMap((m) =>
    m.groups
      .filter((g) => g.by === 'all' && g.majAtK)
      .flatMap((g) =>
        g.majAtK!.map((x) => ({
          method: m.method,
          split: g.split,
          k: x.k,
          acc: P(x.accuracy.value),
          lo: P(x.accuracy.lo),
          hi: P(x.accuracy.hi),
        })),
      ),
  );
  if (values.length === 0) return null;
  const x = {
    field: 'k',
    type: 'quantitative',
    title: 'votes (k)',
    scale: { type: 'log', base: 2 },
    axis: { values: [...new Set(values.map((v) => v.k))] },
  } as const;
  return {
    ...BASE,
    data: { values },
    facet: { column: { field: 'split', type: 'nominal', title: null } },
    spec: {
      width: 280,
      height: 220,
      layer: [
        {
          mark: { type: 'errorband', opacity: 0.15 },
          encoding: {
            x,
            y: { field: 'lo', type: 'quantitative', ...ACC_AXIS },
            y2: { field: 'hi' },
            color: { field: 'method', type: 'nominal' },
          },
        },
        {
          mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'acc', type: 'quantitative', ...ACC_AXIS }, color: { field: 'method', type: 'nominal' } },
        },
      ],
    },
  } as TopLevelSpec;
}

export function idOodSpec(r: Results): TopLevelSpec | null {
  const { id, ood } = r.settings.splits;
  const values = r.methods.flatMap((m) =>
    [id, ood].flatMap((split) => {
      const g = findGroup(m, split);
      return g && g.accuracy.value !== null
        ? [{ method: m.method, split, acc: P(g.accuracy.value), lo: P(g.accuracy.lo), hi: P(g.accuracy.hi) }]
        : [];
    }),
  );
  if (values.length === 0) return null;
  const x = { field: 'method', type: 'nominal', sort: r.methods.map((m) => m.method), axis: { labelAngle: -30 }, title: null } as const;
  return {
    ...BASE,
    data: { values },
    // The step is per method (for: 'position'): left to Vega-Lite's default it applied to each
    // split's bar, which drew 8 methods 1590 px wide, past the report's 1150 px column, so the
    // right end and the legend were cut off behind a scroll bar. 64 px per method keeps a dozen
    // methods inside the column; the legend sits on top so it never adds width.
    width: { step: 64, for: 'position' },
    height: 240,
    layer: [
      {
        mark: 'bar',
        encoding: {
          x,
          xOffset: { field: 'split' },
          y: { field: 'acc', type: 'quantitative', title: 'accuracy %', scale: { domain: [0, 100] } },
          color: { field: 'split', type: 'nominal', sort: [id, ood], legend: { orient: 'top', title: null } },
        },
      },
      {
        mark: { type: 'rule', color: 'black' },
        encoding: { x, xOffset: { field: 'split' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      },
    ],
  } as TopLevelSpec;
}

export function iterationSpec(r: Results): TopLevelSpec | null {
  const values = r.methods.flatMap((m) =>
    m.iterations.map((it) => ({
      method: m.method,
      iteration: it.iteration,
      split: it.split,
      acc: P(it.accuracy.value),
      lo: P(it.accuracy.lo),
      hi: P(it.accuracy.hi),
    })),
  );
  if (values.length === 0) return null;
  const x = { field: 'iteration', type: 'ordinal', title: 'STaR iteration' } as const;
  return {
    ...BASE,
    data: { values },
    width: 320,
    height: 220,
    layer: [
      {
        mark: { type: 'rule', opacity: 0.5 },
        encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'method', type: 'nominal' } },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'acc', type: 'quantitative', ...ACC_AXIS },
          color: { field: 'method', type: 'nominal' },
          strokeDash: { field: 'split', type: 'nominal' },
        },
      },
    ],
  } as TopLevelSpec;
}

export function calibrationSpec(r: Results): TopLevelSpec | null {
  const values = r.methods.flatMap((m) =>
    m.groups
      .filter((g) => g.by === 'all' && g.calibration)
      .flatMap((g) =>
        g
          .calibration!.bins.filter((b) => b.n > 0)
          .map((b) => ({ method: m.method, split: g.split, confidence: P(b.confidence), acc: P(b.accuracy), n: b.n })),
      ),
  );
  if (values.length === 0) return null;
  const scale = { domain: [50, 100] };
  return {
    ...BASE,
    data: { values },
    width: 300,
    height: 300,
    layer: [
      {
        mark: { type: 'rule', strokeDash: [4, 4], color: '#888' },
        encoding: {
          x: { datum: 50, type: 'quantitative', scale },
          y: { datum: 50, type: 'quantitative', scale },
          x2: { datum: 100 },
          y2: { datum: 100 },
        },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'confidence', type: 'quantitative', title: 'mean confidence % (bin)', scale },
          y: { field: 'acc', type: 'quantitative', title: 'accuracy % (bin)', scale },
          color: { field: 'method', type: 'nominal' },
          strokeDash: { field: 'split', type: 'nominal' },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Vega-Lite → Vega → SVG text, without a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded here, not at import: vega and vega-lite take ~0.5 s to load, which every genrm command
  // (all register through cli/main.ts) would otherwise pay at start-up.
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function bonSpec(r: Results): TopLevelSpec | null {
  if (r.bon.length === 0) return null;
  const oracle = new Map(r.bon.map((b) => [`${b.split}/${b.n}`, b.oracle]));
  const values = [
    ...r.bon.map((b) => ({
      judge: b.judge,
      line: 'judge',
      split: b.split,
      n: b.n,
      acc: P(b.accuracy.value),
      lo: P(b.accuracy.lo),
      hi: P(b.accuracy.hi),
    })),
    ...[...oracle].map(([k, e]) => ({
      judge: 'oracle',
      line: 'oracle',
      split: k.slice(0, k.lastIndexOf('/')),
      n: Number(k.slice(k.lastIndexOf('/') + 1)),
      acc: P(e.value),
      lo: P(e.lo),
      hi: P(e.hi),
    })),
  ];
  const x = {
    field: 'n',
    type: 'quantitative',
    title: 'answers (N)',
    scale: { type: 'log', base: 2 },
    axis: { values: [...new Set(values.map((v) => v.n))] },
  } as const;
  const color = { field: 'judge', type: 'nominal', sort: [...new Set(values.map((v) => v.judge))] } as const;
  return {
    ...BASE,
    data: { values },
    facet: { column: { field: 'split', type: 'nominal', title: null } },
    spec: {
      width: 280,
      height: 220,
      layer: [
        {
          mark: { type: 'errorband', opacity: 0.12 },
          encoding: {
            x,
            y: { field: 'lo', type: 'quantitative', title: 'chosen answer right %', scale: { zero: false } },
            y2: { field: 'hi' },
            color,
          },
        },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x,
            y: { field: 'acc', type: 'quantitative', title: 'chosen answer right %', scale: { zero: false } },
            color,
            strokeDash: { field: 'line', type: 'nominal', legend: null },
          },
        },
      ],
    },
  } as unknown as TopLevelSpec; // checked by vega-lite when rendered (report tests)
}

export function overoptSpec(r: Results): TopLevelSpec | null {
  if (r.overopt.length === 0) return null;
  const values = r.overopt.flatMap((o) => [
    { reward: o.judge, split: o.split, step: o.step, measure: 'gold right', v: P(o.gold.value) },
    ...(o.proxy ? [{ reward: o.judge, split: o.split, step: o.step, measure: 'judge: beats base', v: P(o.proxy.value) }] : []),
  ]);
  const x = { field: 'step', type: 'quantitative', title: 'policy updates' } as const;
  return {
    ...BASE,
    data: { values },
    facet: { column: { field: 'split', type: 'nominal', title: null } },
    spec: {
      width: 280,
      height: 220,
      mark: { type: 'line', point: true },
      encoding: {
        x,
        y: { field: 'v', type: 'quantitative', title: '%', scale: { zero: true } },
        color: { field: 'reward', type: 'nominal', sort: [...new Set(values.map((v) => v.reward))] },
        strokeDash: { field: 'measure', type: 'nominal' },
      },
    },
  } as unknown as TopLevelSpec; // checked by vega-lite when rendered (report tests)
}

/** Every plot of the report, rendered; a plot with no data is skipped with the reason. */
export async function makePlots(r: Results): Promise<Plot[]> {
  const defs: [string, string, string, TopLevelSpec | null, string][] = [
    [
      'maj-at-k',
      'Accuracy vs number of votes (maj@k)',
      'Majority of the first k sampled verdicts per order, from one set of samples; bands are 95 % bootstrap CIs.',
      majSpec(r),
      'no method sampled more than one verdict per order',
    ],
    [
      'id-vs-ood',
      'In-distribution vs OOD accuracy',
      'Headline accuracy per method on the two test splits; bars are 95 % bootstrap CIs.',
      idOodSpec(r),
      'no method has test-split results',
    ],
    [
      'star-iterations',
      'STaR accuracy per iteration',
      'Accuracy of each STaR iteration’s judge, every iteration at the same number of votes (maj@k, k the fewest any iteration was judged with); rules are 95 % bootstrap CIs.',
      iterationSpec(r),
      'no records carry a STaR iteration',
    ],
    [
      'best-of-n',
      'Best-of-N: accuracy of the chosen answer vs N',
      'The base answers each prompt N times; each judge picks one (Bradley–Terry over its judged pairs); dashed: the oracle (some answer right); bands are 95 % bootstrap CIs over prompts.',
      bonSpec(r),
      'the run had no best-of-N stage',
    ],
    [
      'overoptimisation',
      'Overoptimisation: a policy trained on each judge',
      'The base trained by GRPO with each judge as its reward (gold: PrefWorld’s checker as the reward, for reference); solid: held-out answers right by the gold; dashed: the judge’s P(the policy’s answer beats the base’s).',
      overoptSpec(r),
      'the run had no overoptimisation stage',
    ],
    [
      'calibration',
      'Calibration (reliability curve)',
      'Accuracy vs mean confidence in each confidence bin (binning as in the calibration table); the dashed diagonal is perfect calibration.',
      calibrationSpec(r),
      'no method recorded probabilities (P(chosen))',
    ],
  ];
  const out: Plot[] = [];
  for (const [name, title, caption, spec, why] of defs) {
    if (!spec) out.push({ name, title, caption, skipped: why });
    else out.push({ name, title, caption, spec, svg: await renderSvg(spec) });
  }
  return out;
}
