/**
 * End to end in a real browser (Debian Chromium, WebGL through SwiftShader) against the browser host
 * (src/server), as a surgeon uses the workstation: see surgeon-flow.ts.
 */
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { browserSkipReason, launchChromium, sampleSkipReason, startHostFixture } from './harness.js';
import { collectPageErrors, surgeonFlow } from './surgeon-flow.js';

const skip = browserSkipReason() ?? sampleSkipReason();

test(
  'browser host: case -> live run -> review -> measure -> export',
  { skip: skip ?? false, timeout: 240_000 },
  async () => {
    const fx = await startHostFixture();
    const browser = await launchChromium();
    const exportDir = mkdtempSync(path.join(os.tmpdir(), 'navws-e2e-export-'));
    try {
      const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
      const pageErrors = collectPageErrors(page);
      await page.goto(fx.host.url);
      await surgeonFlow({
        page,
        casesRoot: fx.casesRoot,
        exportDir,
        call: (method, params) => fx.api.call(method, params),
        pageErrors,
        name: 'e2e-browser',
      });
    } finally {
      await browser.close();
      await fx.close();
      rmSync(exportDir, { recursive: true, force: true });
    }
  },
);
