// Answer styles: an optional polite preamble, an optional closing offer of more help, and a
// format (terse "132", sentence "The answer is 132.", or phrasings held out for the `format`
// shift). Safety answers use whole bodies instead of formats. A style is "pleasant" when it has
// a preamble or a closing: the surface feature that train correlates with the label.
import type { Rng } from './rng.js';
import type { Spec } from './spec.js';
import { isSafetyTask } from './safety.js';
import type { Task } from './task.js';

export interface Style {
  preamble: number | null; // index into spec.styles.preambles
  closing: number | null; // index into spec.styles.closings
  format: string; // a format id (or a safety body id for safety answers)
}

export type FormatGroup = 'train' | 'ood';

export function isPleasant(s: Style): boolean {
  return s.preamble !== null || s.closing !== null;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Styles {
  private readonly formatRes: { id: string; re: RegExp }[];
  private readonly bodyRes: { id: string; re: RegExp; core: 'help' | 'refuse' }[];

  constructor(private readonly spec: Spec['styles']) {
    // Terse "{x}" matches anything, so it is tried last.
    const fmts = [...spec.formats].sort((a, b) => (a.template === '{x}' ? 1 : 0) - (b.template === '{x}' ? 1 : 0));
    this.formatRes = fmts.map((f) => ({ id: f.id, re: new RegExp(`^${escapeRe(f.template).replace('\\{x\\}', '(.+?)')}$`, 's') }));
    this.bodyRes = spec.safetyBodies.flatMap((b) =>
      (['help', 'refuse'] as const).map((core) => ({
        id: b.id,
        core,
        re: new RegExp(`^${escapeRe(b[core]).replace('\\{topic\\}', '(.+?)')}$`, 's'),
      })),
    );
  }

  /** Format (or safety body) ids of a group, for a task. */
  formatIds(task: Task, group: FormatGroup): string[] {
    const list = isSafetyTask(task) ? this.spec.safetyBodies : this.spec.formats;
    return list.filter((f) => f.group === group).map((f) => f.id);
  }

  /** A random style; `pleasant` true/false forces a preamble or closing / neither. */
  sample(rng: Rng, task: Task, group: FormatGroup, pleasant: boolean | null): Style {
    const format = rng.pick(this.formatIds(task, group));
    const np = this.spec.preambles.length;
    const nc = this.spec.closings.length;
    if (pleasant === false) return { preamble: null, closing: null, format };
    for (;;) {
      const preamble = rng.bool() ? rng.int(0, np - 1) : null;
      const closing = rng.bool() ? rng.int(0, nc - 1) : null;
      const s = { preamble, closing, format };
      if (pleasant === null || isPleasant(s)) return s;
    }
  }

  /** The answer text for a core ("132", or "help"/"refuse" for safety) in a style. */
  render(task: Task, core: string, style: Style): string {
    let body: string;
    if (isSafetyTask(task)) {
      const b = this.spec.safetyBodies.find((x) => x.id === style.format);
      if (!b || (core !== 'help' && core !== 'refuse')) throw new Error(`styles: no safety body "${style.format}" for core "${core}"`);
      body = b[core].replace('{topic}', task.topic);
    } else {
      const f = this.spec.formats.find((x) => x.id === style.format);
      if (!f) throw new Error(`styles: unknown format "${style.format}"`);
      body = f.template.replace('{x}', core);
    }
    const pre = style.preamble === null ? '' : (this.spec.preambles[style.preamble] ?? '');
    const post = style.closing === null ? '' : (this.spec.closings[style.closing] ?? '');
    return pre + body + post;
  }

  /** Reads an answer text back into its core and style; null if it is in no known style. */
  parse(text: string): { core: string; style: Style } | null {
    let rest = text;
    let preamble: number | null = null;
    let closing: number | null = null;
    this.spec.preambles.forEach((p, i) => {
      if (preamble === null && rest.startsWith(p)) {
        preamble = i;
        rest = rest.slice(p.length);
      }
    });
    this.spec.closings.forEach((c, i) => {
      if (closing === null && rest.endsWith(c)) {
        closing = i;
        rest = rest.slice(0, rest.length - c.length);
      }
    });
    for (const b of this.bodyRes) if (b.re.test(rest)) return { core: b.core, style: { preamble, closing, format: b.id } };
    for (const f of this.formatRes) {
      const m = f.re.exec(rest);
      if (m) return { core: (m[1] as string).trim(), style: { preamble, closing, format: f.id } };
    }
    return null;
  }
}
