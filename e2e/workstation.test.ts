/**
 * End to end in a real browser (Debian Chromium, WebGL through SwiftShader) against the browser host
 * (src/server), as a surgeon uses the workstation: see surgeon-flow.ts.
 */
import { test } from 'node:test';
import { browserSkipReason, launchChromium, sampleSkipReason, startHostFixture } from './harness.js';
import { collectPageErrors, surgeonFlow } from './surgeon-flow.js';

const skip = browserSkipReason() ?? sampleSkipReason();

test(
  'browser host: case -> live run -> review -> measure -> export',
  { skip: skip ?? false, timeout: 240_000 },
  async (t) => {
    // Software WebGL (SwiftShader) in CI has, rarely, produced a 3D canvas that never renders while the
    // rest of the page works. That one step gets a second attempt in a fresh browser and host, reported
    // as a diagnostic; every other failure, and a second 3D failure, fails the test.
    for (let attempt = 1; ; attempt++) {
      const fx = await startHostFixture();
      const browser = await launchChromium();
      const consoleLines: string[] = [];
      try {
        const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
        page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
        const pageErrors = collectPageErrors(page);
        await page.goto(fx.host.url);
        await surgeonFlow({
          page,
          casesRoot: fx.casesRoot,
          call: (method, params) => fx.api.call(method, params),
          pageErrors,
          name: 'e2e-browser',
        });
        return;
      } catch (err) {
        const sceneStep = /step "3D mesh and green trajectory"/.test((err as Error).message);
        if (attempt >= 2 || !sceneStep) throw err;
        t.diagnostic(
          `attempt 1: ${(err as Error).message}; browser console: ${consoleLines.slice(-20).join(' | ')}`,
        );
      } finally {
        await browser.close();
        await fx.close();
      }
    }
  },
);
