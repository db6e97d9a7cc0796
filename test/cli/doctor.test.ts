import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/genrm.js', import.meta.url));

interface Report {
  node: string;
  kernels: { backend: string; threads: number; blasCore?: string; reason?: string; hint?: string };
  matmul: { size: number; gflops: number };
}

function doctor(env: Record<string, string> = {}): { report: Report; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'doctor', '--json'], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return { report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

test('genrm --help lists the commands', () => {
  const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /doctor/);
});

test('genrm doctor --json reports the Node version, the kernels and a matmul speed', () => {
  const { report } = doctor();
  assert.equal(report.node, process.version);
  assert.ok(['native', 'js'].includes(report.kernels.backend));
  assert.ok(report.kernels.threads >= 1);
  if (report.kernels.backend === 'native') assert.ok((report.kernels.blasCore ?? '').length > 0, 'native names the OpenBLAS core');
  else assert.ok((report.kernels.reason ?? '').length > 0, 'the JS fallback says why');
  assert.ok(report.matmul.gflops > 0 && Number.isFinite(report.matmul.gflops));
});

test('GENRM_KERNELS=js forces the JS kernels, and doctor says why and how to get the fast path', () => {
  const { report } = doctor({ GENRM_KERNELS: 'js' });
  assert.equal(report.kernels.backend, 'js');
  assert.match(report.kernels.reason ?? '', /GENRM_KERNELS=js/);
  assert.match(report.kernels.hint ?? '', /libopenblas-dev/);
});

test('without the addon, genrm falls back to the JS kernels with a one-line warning that says how to get the fast path', () => {
  const { report, stderr } = doctor({ GENRM_NATIVE_ADDON: '/nonexistent/genrm.node' });
  assert.equal(report.kernels.backend, 'js');
  assert.match(report.kernels.reason ?? '', /not built.*nonexistent/);
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, /slow JS kernels.*libopenblas-dev.*npm run build:native/);
});

test('an addon built from older sources (another kernels version) is refused with the rebuild command, not misread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-stale-'));
  try {
    // A stand-in for a stale build: a module with the addon's shape but no kernelsVersion.
    const fake = join(dir, 'old-genrm.cjs');
    writeFileSync(fake, 'module.exports = { simd: "avx2+fma" };\n');
    const { report } = doctor({ GENRM_NATIVE_ADDON: fake });
    assert.equal(report.kernels.backend, 'js');
    assert.match(
      report.kernels.reason ?? '',
      /built from other sources \(kernels version none, this genrm needs \d+\); rebuild it: npm run build:native/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GENRM_KERNELS=native with no addon is an error, not a silent fallback', () => {
  const r = spawnSync(process.execPath, [bin, 'doctor', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, GENRM_KERNELS: 'native', GENRM_NATIVE_ADDON: '/nonexistent/genrm.node' },
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /GENRM_KERNELS=native but the native addon is not built/);
});
