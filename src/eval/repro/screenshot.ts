// A picture of report.html: Debian's chromium, headless, saves report.png beside it. Skipped
// (with the reason) where chromium is not installed. Flags keep the browser from reaching the
// network or writing outside a throwaway profile folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--hide-scrollbars',
];

/** Renders `html` to `png`; returns the png path, or the reason there is none. */
export function screenshot(
  html: string,
  png: string,
  o: { width?: number; height?: number; timeoutMs?: number } = {},
): { png: string } | { skipped: string } {
  const chromium = findChromium();
  if (!chromium) return { skipped: 'Debian chromium is not installed (apt-get install -y chromium)' };
  const profile = mkdtempSync(join(tmpdir(), 'genrm-chromium-'));
  try {
    const r = spawnSync(
      chromium,
      [
        ...CHROMIUM_FLAGS,
        `--user-data-dir=${profile}`,
        `--screenshot=${png}`,
        `--window-size=${o.width ?? 1200},${o.height ?? 3600}`,
        `file://${html}`,
      ],
      { encoding: 'utf8', timeout: o.timeoutMs ?? 60_000 },
    );
    if (r.status !== 0 || !existsSync(png))
      return {
        skipped: `chromium exited with ${r.status ?? r.signal}: ${(r.stderr ?? '').split('\n').filter(Boolean).slice(-2).join(' | ')}`,
      };
    return { png };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
