/**
 * The real app in the real Electron, driven by Playwright's Electron support: the security properties
 * seen from inside the renderer, then the workstation flow through window.navws (case -> run the bundled
 * sample -> live frames -> stop -> review frame -> measure -> export PLY and parse it), then an engine
 * crash the UI survives. Runs only where the Electron binary is installed; skipped with the reason here.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { _electron } from 'playwright-core';
import { readPly } from '../../src/engine/formats/ply.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function skipReason(): string | null {
  const pkgDir = path.join(root, 'node_modules', 'electron');
  const rel = existsSync(path.join(pkgDir, 'path.txt'))
    ? readFileSync(path.join(pkgDir, 'path.txt'), 'utf8').trim()
    : 'electron';
  const binary = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(pkgDir, 'dist'), rel);
  if (!existsSync(binary))
    return `Electron binary not installed (${binary} missing; \`npx install-electron\` needs network): Electron e2e skipped`;
  for (const file of ['dist/main/main.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html']) {
    if (!existsSync(path.join(root, file))) return `${file} not built (npm run build): Electron e2e skipped`;
  }
  if (!existsSync(path.join(root, 'samples', 'phantom')))
    return 'samples/phantom missing: Electron e2e skipped';
  return null;
}

function electronBinary(): string {
  const pkgDir = path.join(root, 'node_modules', 'electron');
  const rel = existsSync(path.join(pkgDir, 'path.txt'))
    ? readFileSync(path.join(pkgDir, 'path.txt'), 'utf8').trim()
    : 'electron';
  return path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(pkgDir, 'dist'), rel);
}

const skip = skipReason();

test(
  'Electron app: security from inside, the workstation flow over window.navws, engine crash survival',
  { skip: skip ?? false, timeout: 300_000 },
  async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'navws-electron-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const app = await _electron.launch({
      executablePath: electronBinary(),
      args: [root, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
      env: { ...process.env, NAVWS_CASES: path.join(dir, 'cases') },
    });
    t.after(() => app.close());
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');

    // What the renderer can reach: window.navws and nothing of Node or Electron.
    assert.match(page.url(), /^navws:\/\/app\/index\.html/);
    const surface = await page.evaluate(() => ({
      keys: Object.keys((globalThis as unknown as { navws: object }).navws).sort(),
      node:
        typeof (globalThis as { process?: unknown }).process +
        typeof (globalThis as { require?: unknown }).require,
      eval: (() => {
        try {
          // CSP without 'unsafe-eval' blocks the Function constructor as it blocks eval.
          return String(new Function('return 1 + 1')());
        } catch {
          return 'blocked';
        }
      })(),
      popup: (globalThis as unknown as { open(url: string): unknown }).open('https://example.org') === null,
    }));
    assert.deepEqual(surface.keys, [
      'call',
      'host',
      'onEvent',
      'onFrame',
      'onMesh',
      'reviewFrame',
      'reviewMesh',
    ]);
    assert.equal(surface.node, 'undefinedundefined');
    assert.equal(surface.eval, 'blocked');
    assert.equal(surface.popup, true);
    const remote = await page.evaluate(async () => {
      try {
        await fetch('https://example.org/');
        return 'reached';
      } catch {
        return 'blocked';
      }
    });
    assert.equal(remote, 'blocked');

    // The flow through the preload's API, as the UI drives it.
    const result = await page.evaluate(async () => {
      type Api = {
        call(m: string, p: unknown): Promise<Record<string, unknown>>;
        onFrame(l: (f: { frameId: number }) => void): () => void;
        reviewFrame(p: unknown): Promise<{ frameId: number; rgb: { width: number } }>;
      };
      const api = (globalThis as unknown as { navws: Api }).navws;
      const c = await api.call('cases.create', {
        title: 'Electron e2e',
        procedure: 'Phantom',
        surgeon: 'Test',
        patientRef: 'E2E-001',
      });
      await api.call('cases.open', { caseId: c.id });
      let frames = 0;
      const off = api.onFrame(() => frames++);
      await api.call('run.start', {
        caseId: c.id,
        source: { kind: 'sample', name: 'phantom' },
        speed: 4,
        // The phantom's ground-truth depth and poses keep this test about the Electron plumbing, not
        // about whether model files are present; fusion, mesh and export are the product stages.
        depth: 'gt',
        poses: 'gt',
      });
      const deadline = Date.now() + 120_000;
      for (;;) {
        const s = (await api.call('status.get', {})) as { run: { state: string } };
        if (s.run.state === 'finished' || s.run.state === 'failed' || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      off();
      const review = await api.reviewFrame({ caseId: c.id, timeS: 0.5 });
      const m = await api.call('measurements.add', {
        caseId: c.id,
        a: [0, 0, 0],
        b: [3, 4, 12],
        label: 'e2e',
      });
      // The renderer cannot name a path: an outputPath is refused; a file name goes to the case's exports.
      const refused = await api
        .call('export.mesh', { caseId: c.id, format: 'ply', outputPath: '/tmp/navws-e2e-never.ply' })
        .then(
          () => 'accepted',
          (err: Error) => err.message,
        );
      const e = await api.call('export.mesh', { caseId: c.id, format: 'ply', fileName: 'liver' });
      return {
        refused,
        frames,
        reviewWidth: review.rgb.width,
        distance: m.distanceMm,
        exported: e.outputPath,
        caseId: c.id,
      };
    });
    assert.match(result.refused, /outputPath.*not accepted/);
    const exported = String(result.exported);
    assert.equal(exported, path.join(dir, 'cases', 'cases', result.caseId as string, 'exports', 'liver.ply'));
    assert.ok(result.frames > 0, 'live frames reached the renderer over the MessagePort');
    assert.equal(result.reviewWidth, 384);
    assert.equal(result.distance, 13);
    const mesh = await readPly(exported);
    assert.ok(mesh.positions.length > 0, 'the exported PLY holds a mesh');

    // The engine (a utilityProcess) is killed; the window stays, hears about it, and the case is reopened.
    const enginePid = await app.evaluate(async ({ app: a }) => {
      const metric = a.getAppMetrics().find((m) => m.type === 'Utility' && m.serviceName === 'NavWS engine');
      return metric?.pid ?? null;
    });
    assert.ok(enginePid, 'engine utility process found');
    const states = page.evaluate(
      () =>
        new Promise<string[]>((resolve) => {
          const seen: string[] = [];
          (
            globalThis as unknown as {
              navws: { onEvent(l: (e: { type: string; state?: string }) => void): void };
            }
          ).navws.onEvent((e) => {
            if (e.type !== 'engine') return;
            seen.push(e.state!);
            if (e.state === 'up') resolve(seen);
          });
        }),
    );
    process.kill(enginePid, 'SIGKILL');
    assert.deepEqual(await states, ['restarting', 'up']);
    const after = await page.evaluate(
      async (caseId) =>
        (
          await (
            globalThis as unknown as { navws: { call(m: string, p: unknown): Promise<unknown[]> } }
          ).navws.call('measurements.list', { caseId })
        ).length,
      result.caseId,
    );
    assert.equal(after, 1, 'the measurement recorded before the crash is still there');
  },
);
