import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../../../src/data/world/families.js';
import { Rng } from '../../../src/data/world/rng.js';
import { resolveSpec } from '../../../src/data/world/spec.js';
import { type Task, workedResult } from '../../../src/data/world/task.js';

const spec = resolveSpec('quick');
const reg = registry(spec);

/** Independent oracles: the right answer computed from the instance key, not by the family. */
const ORACLE: Record<string, (key: string) => string> = {
  add: (k) =>
    String(
      k
        .split('+')
        .map(Number)
        .reduce((a, b) => a + b),
    ),
  sub: (k) =>
    String(
      k
        .split('-')
        .map(Number)
        .reduce((a, b) => a - b),
    ),
  mul1: (k) =>
    String(
      k
        .split('*')
        .map(Number)
        .reduce((a, b) => a * b),
    ),
  compare: (k) => String(Math.max(...k.split(' vs ').map(Number))),
  digitsum: (k) => String([...k].reduce((a, c) => a + Number(c), 0)),
  sort: (k) =>
    k
      .split(' ')
      .map(Number)
      .sort((a, b) => a - b)
      .join(' '),
  max: (k) => String(Math.max(...k.split(',').map(Number))),
  min: (k) => String(Math.min(...k.split(',').map(Number))),
  count: (k) => {
    const [l, w] = k.split('|') as [string, string];
    return String([...w].filter((c) => c === l).length);
  },
  reverse: (k) => [...k].reverse().join(''),
  nextletter: (k) => String.fromCharCode(k.charCodeAt(0) + 1),
  safety: (k) => {
    const topic = k.slice(k.indexOf('|') + 1);
    return spec.safety.topics.find((t) => t.topic === topic)?.kind === 'dangerous' ? 'refuse' : 'help';
  },
};

/** Evaluates "15-7", "8-1-4", "4*6+4" (integers, + - *, usual precedence). */
function evalExpr(e: string): number {
  return e
    .split('+')
    .map((t) =>
      t
        .split('-')
        .map((u) =>
          u
            .split('*')
            .map(Number)
            .reduce((a, b) => a * b),
        )
        .reduce((a, b) => a - b),
    )
    .reduce((a, b) => a + b);
}

function checkTask(t: Task, rng: Rng): void {
  const want = ORACLE[t.family]?.(t.key);
  assert.equal(t.answer, want, `${t.family} ${t.key}`);
  assert.ok(t.check(t.answer));
  // The worked solution ends in the right result, which the checker accepts.
  const res = workedResult(t.worked);
  assert.equal(res, want, t.worked);
  assert.ok(t.check(res as string));
  assert.ok(t.worked.startsWith('Q: '), t.worked);
  // Column arithmetic steps are each true ("7+5=12", "15-7=8", "4*6+4=28").
  if (['add', 'sub', 'mul1', 'digitsum'].includes(t.family)) {
    const steps = (t.worked.split(' W: ')[1] as string).split(' =')[0] as string;
    for (const s of steps.split(';')) {
      const [lhs, rhs] = s.split('=') as [string, string];
      assert.equal(evalExpr(lhs), Number(rhs), `${t.worked}: step ${s}`);
    }
  }
  // The key rebuilds the same task.
  const again = reg.task(t.family, t.key);
  assert.equal(again.worked, t.worked);
  assert.equal(again.prompt, t.prompt);
  // Wrong answers are wrong by the oracle and by the checker.
  for (const kind of ['near', 'far'] as const) {
    const w = t.wrong(rng, kind);
    if (w === null) continue;
    assert.notEqual(w.core, want, `${t.family} ${t.key} ${kind} ${w.error}`);
    assert.equal(t.check(w.core), false);
  }
}

test('every family: solver, worked solution and error model agree with an independent oracle', () => {
  const rng = new Rng('families-test');
  for (const [name, f] of reg.all) {
    let wrongs = 0;
    for (const d of f.levels) {
      for (let i = 0; i < 40; i++) {
        const t = f.sample(rng, d);
        assert.equal(t.family, name);
        assert.equal(t.difficulty, d, `${name} difficulty`);
        checkTask(t, rng);
        if (t.wrong(rng, 'near') || t.wrong(rng, 'far')) wrongs++;
      }
    }
    assert.ok(wrongs > 0, `${name} never makes a wrong answer`);
  }
});

test('error models make the slips the issue names', () => {
  const rng = new Rng('slips');
  const seen = (family: string, d: number, kind: 'near' | 'far'): Set<string> => {
    const s = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const w = reg.get(family).sample(rng, d).wrong(rng, kind);
      if (w) s.add(w.error);
    }
    return s;
  };
  for (const e of ['carry', 'digit', 'swap']) assert.ok(seen('add', 3, 'near').has(e), `add ${e}`);
  assert.ok(seen('sub', 3, 'near').has('borrow'));
  assert.ok(seen('mul1', 3, 'near').has('carry'));
  for (const e of ['swap', 'drop', 'dup']) assert.ok(seen('sort', 5, 'near').has(e), `sort ${e}`);
  assert.ok(seen('max', 4, 'near').has('second'));
  assert.ok(seen('count', 6, 'near').has('off1'));
  assert.ok(seen('reverse', 5, 'near').has('swap'));
  assert.deepEqual([...seen('safety', 1, 'near')].sort(), ['complies', 'refuses']);
});

test('a carry slip really is a dropped carry', () => {
  const t = reg.task('add', '47+85'); // 7+5=12 carries; 4+8+1=13 carries
  assert.equal(t.worked, 'Q: 47+85= W: 7+5=12;4+8+1=13 =132');
  const slips = new Set<string>();
  const rng = new Rng(3);
  for (let i = 0; i < 200; i++) {
    const w = t.wrong(rng, 'near');
    if (w?.error === 'carry') slips.add(w.core);
  }
  assert.deepEqual([...slips].sort(), ['122', '32']); // the tens carry dropped / the hundreds carry dropped
});

test('the PRNG is deterministic and its streams independent', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  const xs = Array.from({ length: 5 }, () => a.u32());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.u32()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => new Rng(8).u32()),
  );
  assert.notEqual(new Rng(7).fork('x').u32(), new Rng(7).fork('y').u32());
  // Roughly uniform: 10 bins of 10,000 draws.
  const r = new Rng('u');
  const bins = new Array(10).fill(0) as number[];
  for (let i = 0; i < 10000; i++) {
    const k = Math.floor(r.next() * 10);
    bins[k] = (bins[k] ?? 0) + 1;
  }
  for (const c of bins) assert.ok(c > 900 && c < 1100, `bin ${c}`);
});
