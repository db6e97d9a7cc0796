import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PreferencePair } from '../../src/data/pair.js';
import { toJsonl } from '../../src/data/jsonl.js';
import { registry } from '../../src/data/world/families.js';
import { generateWorld } from '../../src/data/world/generate.js';
import { pairIdentity, type WorldMeta, instanceId } from '../../src/data/world/pairs.js';
import { gradeRationale, layoutProbes, pairExample } from '../../src/data/world/rationale.js';
import { resolveSpec } from '../../src/data/world/spec.js';
import { computeStats } from '../../src/data/world/stats.js';
import { Styles } from '../../src/data/world/styles.js';
import { pointExample } from '../../src/data/world/rationale.js';
import { buildTokenizer } from '../../src/train/pretrain/run.js';

// A quick-sized world with a small corpus (the corpus's size does not change the pairs).
const spec = resolveSpec('quick', { corpus: { bytes: 400_000 } });
const world = generateWorld(spec);
const reg = registry(spec);
const styles = new Styles(spec.styles);
const all: PreferencePair[] = [...world.splits.train, ...world.splits['test-id'], ...world.splits['test-ood']];
const meta = (p: PreferencePair): WorldMeta => p.meta as unknown as WorldMeta;

test('same spec and seed give the same bytes; another seed does not', () => {
  const again = generateWorld(spec);
  for (const s of ['train', 'test-id', 'test-ood'] as const) assert.equal(toJsonl(again.splits[s]), toJsonl(world.splits[s]));
  assert.equal(toJsonl(again.corpus), toJsonl(world.corpus));
  const other = generateWorld(resolveSpec('quick', { seed: 2, corpus: { bytes: 1000 } }));
  assert.notEqual(toJsonl(other.splits['test-id']), toJsonl(world.splits['test-id']));
});

test('sizes and record shape follow the spec', () => {
  assert.equal(world.splits.train.length, spec.pairs.train);
  assert.equal(world.splits['test-id'].length, spec.pairs.testId);
  assert.equal(world.splits['test-ood'].length, spec.pairs.testOod);
  for (const p of all) {
    assert.ok(['chat', 'chat-hard', 'safety', 'reasoning'].includes(p.category as string), p.id);
    assert.ok(typeof p.prompt === 'string' && p.subset && p.split && p.id.startsWith(p.split));
  }
  const noisy = world.splits.train.filter((p) => meta(p).noisy).length / spec.pairs.train;
  assert.ok(Math.abs(noisy - spec.labelNoise) < 0.015, `noise ${noisy}`);
  for (const p of [...world.splits['test-id'], ...world.splits['test-ood']]) assert.equal(meta(p).noisy, false);
});

test('every chosen passes its checker and every rejected fails it, except flagged noisy pairs (flipped)', () => {
  for (const p of all) {
    const task = reg.task(p.subset as string, meta(p).instance);
    assert.equal(task.prompt, p.prompt);
    const c = styles.parse(p.chosen);
    const r = styles.parse(p.rejected);
    assert.ok(c && r, `${p.id}: unparseable answer`);
    const noisy = meta(p).noisy;
    assert.equal(task.check(c.core), !noisy, `${p.id} chosen "${p.chosen}"`);
    assert.equal(task.check(r.core), noisy, `${p.id} rejected "${p.rejected}"`);
  }
});

test('no pair appears twice across splits', () => {
  const where = new Map<string, string>();
  for (const p of all) {
    const id = pairIdentity(p.prompt as string, p.chosen, p.rejected);
    const prev = where.get(id);
    assert.ok(prev === undefined || prev === p.split, `${p.id} duplicates a ${prev} pair`);
    where.set(id, p.split as string);
  }
});

test('splits keep families, topics, formats and difficulties apart as the shifts say', () => {
  const role = (f: string): string => spec.families[f]?.role as string;
  const oodTopics = new Set(spec.safety.topics.filter((t) => t.split === 'ood').map((t) => t.topic));
  const topicOf = (p: PreferencePair): string => meta(p).instance.split('|')[1] as string;
  const trainFormats = new Set(
    spec.styles.formats
      .filter((f) => f.group === 'train')
      .map((f) => f.id)
      .concat(spec.styles.safetyBodies.filter((b) => b.group === 'train').map((b) => b.id)),
  );
  for (const p of [...world.splits.train, ...world.splits['test-id']]) {
    const f = spec.families[p.subset as string];
    assert.equal(role(p.subset as string), 'train', p.id);
    assert.ok(f?.train.includes(meta(p).difficulty), `${p.id} difficulty`);
    if (p.subset === 'safety') assert.ok(!oodTopics.has(topicOf(p)), `${p.id} uses an OOD topic`);
    assert.ok(trainFormats.has(meta(p).styles.chosen.format) && trainFormats.has(meta(p).styles.rejected.format), p.id);
    assert.deepEqual(meta(p).shift, []);
  }
  const shifts = new Set<string>();
  for (const p of world.splits['test-ood']) {
    const m = meta(p);
    const f = spec.families[p.subset as string];
    for (const s of m.shift) shifts.add(s);
    assert.equal(role(p.subset as string) === 'ood', m.shift.includes('family'), `${p.id} family shift`);
    assert.ok(role(p.subset as string) !== 'demo', `${p.id}: demo families appear in no split`);
    if (m.shift.includes('difficulty')) assert.ok(f && m.difficulty > Math.max(...f.train), `${p.id}: OOD difficulty must exceed train`);
    else assert.ok(f?.train.includes(m.difficulty), `${p.id}: difficulty ${m.difficulty} outside train levels`);
    if (p.subset === 'safety') assert.equal(oodTopics.has(topicOf(p)), m.shift.includes('topic'), p.id);
    assert.equal(m.formats === 'ood', m.shift.includes('format'), p.id);
    assert.equal(m.styleLink, m.shift.includes('style') ? 'reversed' : 'independent', p.id);
  }
  assert.deepEqual([...shifts].sort(), ['difficulty', 'family', 'format', 'style', 'topic']);
  // The OOD difficulty ranges do not overlap the training ones, family by family.
  for (const [name, f] of Object.entries(spec.families)) for (const d of f.ood) assert.ok(!f.train.includes(d), name);
});

test('the corpus holds no reserved test instance, covers every family, and demos only held-aside families', () => {
  const corpusIds = new Set(world.corpus.map((d) => instanceId(d.family, d.instance)));
  let reservedTests = 0;
  for (const p of [...world.splits['test-id'], ...world.splits['test-ood']]) {
    const id = instanceId(p.subset as string, meta(p).instance);
    if (!world.reserved.has(id)) continue;
    reservedTests++;
    assert.ok(!corpusIds.has(id), `${p.id}: test instance ${id} is in the corpus`);
  }
  assert.ok(reservedTests >= 0.5 * (spec.pairs.testId + spec.pairs.testOod), `only ${reservedTests} test pairs at reserved levels`);
  const trainIds = new Set(world.splits.train.map((p) => instanceId(p.subset as string, meta(p).instance)));
  for (const id of world.reserved) assert.ok(!trainIds.has(id), `${id} in train`);
  const worked = new Set(world.corpus.filter((d) => d.kind === 'worked').map((d) => d.family));
  assert.deepEqual([...worked].sort(), Object.keys(spec.families).sort());
  const demo = new Set(world.corpus.filter((d) => d.kind === 'judge').map((d) => d.family));
  const demoFamilies = Object.entries(spec.families)
    .filter(([, f]) => f.role === 'demo')
    .map(([n]) => n);
  assert.deepEqual([...demo].sort(), demoFamilies.sort());
  assert.ok(demo.size >= 2 && new Set([...demo].map((f) => reg.get(f).group)).size >= 2, 'demos need two content formats');
  for (const f of demo) for (const p of all) assert.notEqual(p.subset, f);
  const kinds = new Set(world.corpus.map((d) => d.kind));
  assert.deepEqual([...kinds].sort(), ['answer', 'exam', 'fact', 'judge', 'worked']);
  const facts = world.corpus.filter((d) => d.kind === 'fact').map((d) => d.instance);
  for (const t of spec.safety.topics.filter((x) => x.split === 'ood')) assert.ok(facts.includes(t.topic), `no fact about ${t.topic}`);
});

test('one checking language (spec v5): every family\'s exam is a judge example under the header "Exam", graded right for the right reason', () => {
  const exams = world.corpus.filter((d) => d.kind === 'exam');
  assert.deepEqual([...new Set(exams.map((d) => d.family))].sort(), Object.keys(spec.families).sort());
  const checkWords = /: (right|wrong)\./g;
  for (const d of exams.slice(0, 300)) {
    assert.ok(d.text.startsWith('Exam\nQuestion: '), d.text);
    const body = d.text.slice('Exam\n'.length);
    const cue = body.indexOf('Check:\n') + 'Check:\n'.length;
    // The same text with the judge's header is a CoT judge prompt and its target.
    const task = reg.task(d.family, d.instance);
    const g = gradeRationale(task, body.slice(cue));
    assert.deepEqual(
      g,
      { verdict: g.verdict, restated: true, workedExact: true, resultRight: true, checksConsistent: true, verdictFollows: true },
      d.text,
    );
    assert.match(d.text, /\nVerdict: \[\[[AB]\]\]$/);
    assert.equal([...d.text.matchAll(checkWords)].length, 2, d.text);
    assert.ok(!d.text.includes('matches') && !d.text.includes('So A is right'));
  }
  // Judge demos check in the same words.
  const cot = world.corpus.filter((d) => d.kind === 'judge' && d.text.startsWith('Judge\n') && d.text.includes('Check:\n'));
  assert.ok(cot.length > 10);
  for (const d of cot) assert.equal([...d.text.matchAll(checkWords)].length, 2, d.text);
});

test('stats: overlap is zero at reserved levels and measured elsewhere; the shortcut baseline sees the shift', () => {
  const s = computeStats('mem', spec, world.splits as unknown as Record<string, PreferencePair[]>, world.corpus);
  assert.equal(s.overlap.reservedInCorpus, 0);
  assert.equal(s.overlap.reservedInTrain, 0);
  const small = s.overlap.rows['add:1'];
  assert.ok(small && !small.reserved && small.testInstances > 0 && small.inCorpus > 0, 'one-digit sums overlap and are measured');
  assert.ok(s.overlap.rows['add:3']?.reserved);
  const acc = s.shortcut.accuracy;
  assert.ok((acc['test-id'] as number) >= 0.58, `test-id ${acc['test-id']}`);
  assert.ok(Math.abs((acc['test-ood/style-independent'] as number) - 0.5) <= 0.03, `independent ${acc['test-ood/style-independent']}`);
  assert.ok((acc['test-ood/style-reversed'] as number) < 0.45, `reversed ${acc['test-ood/style-reversed']}`);
  assert.ok((s.splits['train']?.style.correlation as number) > 0.1);
  assert.ok(Math.abs(s.splits['test-ood']?.style.correlation as number) < 0.1);
  for (const [fam, b] of Object.entries(s.judgeBytes)) assert.ok(b.max <= 512, `${fam}: a CoT example of ${b.max} bytes`);
});

test('reference rationales are right for the right reason; a wrong result is caught', () => {
  for (const p of world.splits['test-ood'].slice(0, 100)) {
    const task = reg.task(p.subset as string, meta(p).instance);
    const ex = pairExample(task, styles, p.rejected, p.chosen, 'B', 'cot');
    const g = gradeRationale(task, ex.target);
    assert.deepEqual(
      g,
      { verdict: 'B', restated: true, workedExact: true, resultRight: true, checksConsistent: true, verdictFollows: true },
      p.id,
    );
    const broken = ex.target.replace(` =${task.answer}\n`, ' =WRONG\n');
    const gb = gradeRationale(task, broken);
    assert.equal(gb.resultRight, false, p.id);
    assert.equal(gb.workedExact, false);
    assert.equal(gb.restated, true, 'the question is still restated in its layout');
    const other = gradeRationale(task, ex.target.replace(/^Q: [^\n]*? W:/, 'Q: something else= W:'));
    assert.equal(other.restated, false, p.id);
  }
});

test('layout probes: the corpus teaches prompt -> worked line, and the judge prompt asks for the same line', () => {
  const p = world.splits['test-id'][0] as PreferencePair;
  const task = reg.task(p.subset as string, meta(p).instance);
  const probe = layoutProbes(task, p.chosen, p.rejected);
  assert.ok(probe.inJudge.endsWith('Check:\n'));
  const ex = pairExample(task, styles, p.chosen, p.rejected, 'A', 'cot');
  assert.equal(ex.prompt, probe.inJudge);
  assert.ok(ex.target.startsWith(`${probe.expected}\n`));
  // The corpus holds "<question>\n<worked line>" documents in exactly this layout.
  const taught = world.corpus.filter((d) => d.kind === 'worked' && d.text.includes('\nQ: '));
  assert.ok(taught.length > 100);
  for (const d of taught.slice(0, 50)) {
    const t = reg.task(d.family, d.instance);
    assert.equal(d.text, layoutProbes(t, 'a', 'b').native + t.worked);
  }
});

test('every judge prompt tokenizes as a prefix of prompt + target (no trailing space the next word would merge with)', () => {
  // A BPE tokenizer learned on this world's corpus, as genrm pretrain learns it. Format 1 ended
  // the CoT prompt at "Check: ": the corpus writes "Check: Q" as "Check" ":" " Q", so the
  // prompt's lone " " was a token the base model had only seen before digits.
  const tok = buildTokenizer(
    world.corpus.map((d) => d.text),
    256,
  );
  const ids = (s: string): number[] => tok.encode(s, { specials: 'parse' });
  const isPrefix = (prompt: string, target: string): boolean => {
    const p = ids(prompt);
    const whole = ids(prompt + target);
    return p.every((t, i) => whole[i] === t);
  };
  let checked = 0;
  for (const p of world.splits['test-id'].slice(0, 40)) {
    const task = reg.task(p.subset as string, meta(p).instance);
    for (const mode of ['direct', 'cot', 'rationalize'] as const) {
      const ex = pairExample(task, styles, p.chosen, p.rejected, 'A', mode);
      assert.ok(
        isPrefix(ex.prompt, ex.target),
        `${p.id} ${mode}: ${JSON.stringify(ex.prompt.slice(-12))} + ${JSON.stringify(ex.target.slice(0, 12))}`,
      );
      checked++;
    }
    for (const mode of ['direct', 'cot'] as const) {
      const ex = pointExample(task, styles, p.chosen, mode);
      assert.ok(isPrefix(ex.prompt, ex.target), `${p.id} pointwise ${mode}`);
      checked++;
    }
    // The native probe too: the question, then the worked line.
    const probe = layoutProbes(task, p.chosen, p.rejected);
    assert.ok(isPrefix(probe.native, probe.expected), `${p.id} native`);
  }
  assert.equal(checked, 40 * 5);
  // The check can fail: a prompt cut before a space-led word, as format 1's "Check: " was, does.
  assert.equal(isPrefix('Check:\nQ: 47+85= W: 7+5=12 =132\nA ', 'says 132: matches.'), false);
});

test("one spec, one corpus: the quick and the full world share it, and it avoids both sizes' reserved test instances", () => {
  const small = { corpus: { bytes: 60_000 } };
  const quick = generateWorld(resolveSpec('quick', small));
  const full = generateWorld(resolveSpec('full', small));
  assert.equal(toJsonl(quick.corpus), toJsonl(full.corpus));
  assert.ok(full.reserved.size > quick.reserved.size);
  const inCorpus = new Set(quick.corpus.map((d) => instanceId(d.family, d.instance)));
  for (const id of [...quick.reserved, ...full.reserved]) assert.ok(!inCorpus.has(id), id);
  // The pairs still depend on the size (full has more of each split).
  assert.ok(full.splits.train.length > quick.splits.train.length);
});
