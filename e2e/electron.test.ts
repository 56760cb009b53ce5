/**
 * The same surgeon flow as workstation.test.ts, through the UI of the real Electron app (Playwright's
 * Electron support): the renderer on window.navws from the preload instead of the browser host's
 * socket. Runs where the Electron binary is installed; skipped with the reason where it is not.
 */
import { test } from 'node:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron } from 'playwright-core';
import type { NavApi } from '../src/shared/api/nav-api.js';
import { repoRoot, sampleSkipReason } from './harness.js';
import { collectPageErrors, surgeonFlow } from './surgeon-flow.js';

function electronBinary(): string {
  const pkg = path.join(repoRoot, 'node_modules', 'electron');
  const rel = existsSync(path.join(pkg, 'path.txt'))
    ? readFileSync(path.join(pkg, 'path.txt'), 'utf8').trim()
    : 'electron';
  return path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(pkg, 'dist'), rel);
}

function skipReason(): string | null {
  const binary = electronBinary();
  if (!existsSync(binary)) {
    return `Electron binary not installed (${binary} missing; it cannot be downloaded offline): the Electron run of the surgeon flow is skipped`;
  }
  for (const file of ['dist/main/main.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html']) {
    if (!existsSync(path.join(repoRoot, file)))
      return `${file} not built (npm run build): Electron run skipped`;
  }
  return sampleSkipReason();
}

const skip = skipReason();

test(
  'Electron app: case -> live run -> review -> measure -> export, through the UI',
  { skip: skip ?? false, timeout: 300_000 },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'navws-e2e-electron-'));
    const casesRoot = path.join(dir, 'cases');
    const app = await _electron.launch({
      executablePath: electronBinary(),
      args: [repoRoot, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
      env: { ...process.env, NAVWS_CASES: casesRoot },
    });
    try {
      const page = await app.firstWindow();
      const pageErrors = collectPageErrors(page);
      await page.setViewportSize({ width: 1920, height: 1080 }).catch(() => undefined);
      await page.waitForLoadState('domcontentloaded');
      const call: NavApi['call'] = (method, params) =>
        page.evaluate(
          ([m, p]) => (window as unknown as { navws: NavApi }).navws.call(m as never, p as never),
          [method, params] as const,
        ) as never;
      await surgeonFlow({ page, casesRoot, call, pageErrors, name: 'e2e-electron' });
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
