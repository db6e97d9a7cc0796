// ProgressBar off a terminal: a line at start, then at most one per interval, and one at the end;
// nothing when disabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ProgressBar, formatDuration } from '../../src/util/progress.js';

function sink(): { stream: Writable & { isTTY?: boolean }; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = false;
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

test('formatDuration', () => {
  assert.equal(formatDuration(42.4), '42s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(3720), '1h02m');
  assert.equal(formatDuration(NaN), '?');
});

test('off a terminal: start line, one line per interval, a final line, with ETA from the rate', () => {
  const s = sink();
  let now = 0;
  const bar = new ProgressBar('judge bt [{bar}] {value}/{total} pairs | {tps} tok/s | ETA {eta_formatted}', {
    enabled: true,
    stream: s.stream,
    everySeconds: 30,
    clock: () => now,
  });
  bar.start(100, 0, { tps: 0 });
  for (let i = 1; i <= 100; i++) {
    now += 1000; // one pair per second
    bar.update(i, { tps: 10 * i });
  }
  bar.stop();
  const lines = s.lines();
  // start, t = 30/60/90 s, and the end (100/100)
  assert.equal(lines.length, 5, lines.join('\n'));
  assert.equal(lines[0], 'judge bt 0/100 pairs | 0 tok/s | ETA ? | 0% | elapsed 0s');
  assert.equal(lines[1], 'judge bt 30/100 pairs | 300 tok/s | ETA 1m10s | 30% | elapsed 30s');
  assert.match(lines[4]!, /^judge bt 100\/100 pairs \| 1000 tok\/s \| ETA 0s \| 100% \| elapsed 1m40s$/);
});

test('a final line at stop when the last update fell between intervals; nothing after stop', () => {
  const s = sink();
  let now = 0;
  const bar = new ProgressBar('x {value}/{total}', { enabled: true, stream: s.stream, everySeconds: 30, clock: () => now });
  bar.start(10);
  now = 5000;
  bar.update(3);
  bar.stop();
  bar.update(4);
  bar.stop();
  const lines = s.lines();
  assert.deepEqual(
    lines.map((l) => l.split(' | ')[0]),
    ['x 0/10', 'x 3/10'],
  );
  assert.match(lines[1]!, /ETA 12s$/); // 3 done in 5 s, 7 left
});

test('disabled: nothing written, terminal or not', () => {
  for (const isTTY of [false, true]) {
    const s = sink();
    s.stream.isTTY = isTTY;
    const bar = new ProgressBar('x {value}/{total}', { enabled: false, stream: s.stream, everySeconds: 0 });
    bar.start(2);
    bar.update(1);
    bar.update(2);
    bar.stop();
    assert.deepEqual(s.lines(), []);
  }
});
