/**
 * The surgeon's flow through the UI, shared by the browser-host and Electron end-to-end tests:
 * create a case -> run the bundled sample -> video, depth overlay, 3D mesh and green trajectory appear
 * (checked on rendered pixels) -> stop -> review: scrub to a time and see video, depth and pose of that
 * same instant -> measure a distance on the surface -> export a PLY to the case's exports folder (a path
 * outside it is refused with a message) and parse it. A screenshot is saved
 * to test-results/ when a step fails.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { openDataset, readDatasetRgb } from '../src/engine/dataset/dataset.js';
import { readPly } from '../src/engine/formats/ply.js';
import { CaseStore } from '../src/engine/store/index.js';
import type { NavApi } from '../src/shared/api/nav-api.js';
import { invertRigid, multiply4 } from '../src/shared/math/mat4.js';
import { elementPixels, samplesRoot, saveScreenshot, surfaceClickPoints } from './harness.js';

export interface FlowContext {
  /** A page showing the workstation, on its first view. */
  page: Page;
  /** The host's case store folder (navws.sqlite, cases/). */
  casesRoot: string;
  /** The same API the page uses, for checks from outside the UI. */
  call: NavApi['call'];
  /** Page errors and CSP violations collected while the flow runs. */
  pageErrors: string[];
  /** Prefix of the failure screenshot. */
  name: string;
}

async function poll<T>(
  what: string,
  fn: () => Promise<T | null | false>,
  timeoutMs: number,
  page?: Page,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const message = page ? await page.getByTestId('message').textContent() : '';
  throw new Error(
    `timed out waiting for ${what}${message ? ` (UI says: ${message})` : ''}${last ? `: ${String(last)}` : ''}`,
  );
}

export async function surgeonFlow({ page, casesRoot, call, pageErrors, name }: FlowContext): Promise<void> {
  let step = 'create case';
  try {
    step = 'create case';
    await page.getByTestId('new-case-title').fill('E2E laparoscopic liver');
    await page.getByTestId('create-case').click();
    await poll(
      'the new case to be current',
      async () => (await page.getByTestId('current-case').textContent())?.includes('E2E laparoscopic liver'),
      10_000,
      page,
    );

    step = 'start the sample';
    // Ground-truth stages keep this test about the UI (the network and tracker have their own tests).
    await page.getByTestId('mode-select').selectOption('gt');
    await poll(
      'the sample source',
      async () => (await page.getByTestId('source-select').inputValue()).includes('phantom'),
      10_000,
      page,
    );
    await page.getByTestId('start-run').click();

    step = 'video plays';
    await poll(
      'several painted video frames (newest wins, so a slow page paints fewer than it receives)',
      async () =>
        (await page.evaluate(
          () => (window as { navwsPerf?: { painted_: number } }).navwsPerf?.painted_ ?? 0,
        )) >= 3,
      60_000,
      page,
    );
    assert.match(
      (await page.locator('.live-view').getByTestId('video-frame-info').textContent()) ?? '',
      /^frame \d+/,
    );
    const video = await elementPixels(page, '.live-view [data-testid=video-canvas]');
    assert.ok(
      video.nonBackground > video.width * video.height * 0.5,
      `video canvas mostly empty: ${JSON.stringify(video)}`,
    );

    step = 'depth overlay shows';
    const liveCanvas = page.locator('.live-view [data-testid=video-canvas]');
    const depthKnown = Number(await liveCanvas.getAttribute('data-depth-known'));
    assert.ok(depthKnown > 0.5, `depth known on ${depthKnown} of the frame`);
    assert.ok(Number(await liveCanvas.getAttribute('data-overlay-alpha')) > 0.2, 'depth overlay is visible');
    const legend = await page.locator('.live-view').getByTestId('depth-legend').textContent();
    assert.match(legend ?? '', /\d+.*\d+/, 'depth legend shows millimetre values');

    step = '3D mesh and green trajectory';
    const scene = await poll(
      'mesh and trajectory pixels in the 3D view',
      async () => {
        const px = await elementPixels(page, '.live-view [data-testid=scene-canvas]');
        return px.green > 150 && px.surface > 5000 ? px : null;
      },
      90_000,
      page,
    );
    assert.ok(scene.green > 150, 'green trajectory drawn');

    step = 'stop';
    // Keyboard X stops a running run (and does nothing if the short sample already finished).
    await page.locator('body').press('x');
    await poll(
      'the run to finish',
      async () => (await page.getByTestId('status-run').textContent()) === 'finished',
      60_000,
      page,
    );
    assert.match((await page.getByTestId('status-recording').textContent()) ?? '', /idle/);

    step = 'open the case in review';
    await page.getByTestId('tab-cases').click();
    await page.getByTestId('open-case').first().click();
    await poll(
      'the review of frame 0',
      async () => (await page.getByTestId('review-pose').textContent())?.includes('frame'),
      20_000,
      page,
    );

    step = 'scrub to 1 s with the keyboard';
    await page.getByTestId('timeline').focus();
    for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowRight');
    // Under load the live run drops frames (newest wins), so the instant shown is the recorded frame
    // nearest to 1 s: whichever it is, video, depth and pose on screen must all be of that frame.
    const recorded = (await call('review.trajectory', { caseId: (await call('cases.list', {}))[0]!.id }))
      .poses;
    const nearest = recorded.reduce((a, b) => (Math.abs(b.timeS - 1) < Math.abs(a.timeS - 1) ? b : a));
    const poseText = await poll(
      `the pose of frame ${nearest.frameId}, the recorded frame nearest to 1 s`,
      async () => {
        const t = (await page.getByTestId('review-pose').textContent()) ?? '';
        const m = /frame (\d+) · t ([\d.]+) s · camera at \(([-\d.]+), ([-\d.]+), ([-\d.]+)\)/.exec(t);
        return m && Number(m[1]) === nearest.frameId ? m : null;
      },
      20_000,
      page,
    );
    assert.equal((await page.getByTestId('review-time').textContent())?.slice(0, 4), '1.00');
    const frameId = Number(poseText[1]);
    // Video, depth and pose on screen are of the same instant.
    await poll(
      `the video of frame ${frameId}`,
      async () =>
        (await page.locator('.review-view [data-testid=video-canvas]').getAttribute('data-frame-id')) ===
        String(frameId),
      10_000,
      page,
    );
    const ds = await openDataset(path.join(samplesRoot, 'phantom'));
    const expectedRgb = await readDatasetRgb(ds, frameId);
    // Overlay off (keyboard D) shows the recorded video itself, pixel for pixel; D again brings depth back.
    const reviewCanvas = page.locator('.review-view [data-testid=video-canvas]');
    await page.locator('body').press('d');
    await poll(
      'the overlay to turn off',
      async () => (await reviewCanvas.getAttribute('data-overlay-alpha')) === '0.00',
      5_000,
      page,
    );
    const shownRgb = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('.review-view [data-testid=video-canvas]')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      return Array.from(d.filter((_, i) => i % 4 !== 3));
    });
    assert.equal(shownRgb.length, expectedRgb.data.length);
    assert.ok(
      shownRgb.every((v, i) => v === expectedRgb.data[i]),
      'review shows the recorded frame pixel for pixel',
    );
    await page.locator('body').press('d');
    await poll(
      'the overlay to come back',
      async () => Number(await reviewCanvas.getAttribute('data-overlay-alpha')) > 0.2,
      5_000,
      page,
    );
    const gt = ds.groundTruth!;
    const expectedPose = multiply4(invertRigid(gt[0]!.pose), gt[frameId]!.pose);
    const shownPosition = [Number(poseText[3]), Number(poseText[4]), Number(poseText[5])];
    [expectedPose[3]!, expectedPose[7]!, expectedPose[11]!].forEach((v, i) =>
      assert.ok(
        Math.abs(v - shownPosition[i]!) < 0.06,
        `camera position ${i}: ${shownPosition[i]} vs ground truth ${v}`,
      ),
    );
    const reviewDepth = Number(await reviewCanvas.getAttribute('data-depth-known'));
    assert.equal(
      await reviewCanvas.getAttribute('data-frame-id'),
      String(frameId),
      'depth and video of the same frame',
    );
    assert.ok(reviewDepth > 0.5, `review depth overlay coverage ${reviewDepth}`);

    step = 'bookmark and play';
    await page.locator('body').press('b');
    await poll(
      'a bookmark at this instant',
      async () => (await page.getByTestId('bookmarks').textContent())?.includes('s'),
      10_000,
      page,
    );
    const before = Number(/^([\d.]+)/.exec((await page.getByTestId('review-time').textContent()) ?? '')?.[1]);
    await page.locator('body').press(' ');
    await poll(
      'the timeline to play',
      async () =>
        Number(/^([\d.]+)/.exec((await page.getByTestId('review-time').textContent()) ?? '')?.[1]) >
        before + 0.2,
      10_000,
      page,
    );
    await page.locator('body').press(' ');
    const annotations = (await call('cases.open', { caseId: (await call('cases.list', {}))[0]!.id }))
      .annotations;
    assert.equal(annotations.length, 1, 'the bookmark is kept with the case');

    step = 'measure a distance on the surface';
    await page.getByTestId('measure-toggle').click();
    await poll(
      'the review mesh',
      async () => {
        const px = await elementPixels(page, '.review-view [data-testid=scene-canvas]');
        return px.surface > 5000 ? px : null;
      },
      30_000,
      page,
    );
    const [pa, pb] = await surfaceClickPoints(page, '.review-view [data-testid=scene-canvas]');
    await page.mouse.click(pa.x, pa.y);
    await page.mouse.click(pb.x, pb.y);
    const distanceText = await poll(
      'a measured distance',
      async () => {
        const t = await page.getByTestId('last-distance').textContent();
        return t && /mm/.test(t) ? t : null;
      },
      15_000,
      page,
    );
    // Kept for people reviewing the run: what the surgeon saw after measuring.
    await saveScreenshot(page, `${name}-review-measured`);
    const caseId = (await call('cases.list', {}))[0]!.id;
    const measurements = await call('measurements.list', { caseId });
    assert.equal(measurements.length, 1, 'the measurement is kept with the case');
    const m = measurements[0]!;
    assert.ok(m.distanceMm > 1 && m.distanceMm < 200, `distance ${m.distanceMm} mm`);
    assert.equal(distanceText, `${m.distanceMm.toFixed(1)} mm`);
    // The distance says which millimetres it is in: this run replayed the dataset's ground truth.
    assert.match((await page.getByTestId('measurement-scale').textContent()) ?? '', /ground truth/);
    const runMesh = await readPly(
      path.join(
        casesRoot,
        'cases',
        caseId,
        'runs',
        (await call('cases.open', { caseId })).runs[0]!.id,
        'mesh.ply',
      ),
    );
    for (const p of [m.a, m.b]) {
      let best = Infinity;
      for (let i = 0; i < runMesh.positions.length; i += 3) {
        const d = Math.hypot(
          runMesh.positions[i]! - p[0],
          runMesh.positions[i + 1]! - p[1],
          runMesh.positions[i + 2]! - p[2],
        );
        if (d < best) best = d;
      }
      assert.ok(best < 2, `picked point ${p.join(', ')} is ${best.toFixed(2)} mm from the surface`);
    }

    // The run's results and the measurement are in the SQLite case store, linked to each other.
    const store = await CaseStore.open(casesRoot, { actor: 'e2e-check', readOnly: true });
    let caseFolder: string;
    try {
      caseFolder = store.caseFolder(caseId);
      const meshes = store.listMeshes(caseId);
      assert.equal(meshes.length, 1, 'the run mesh is registered with the case');
      assert.equal(meshes[0]!.vertexCount, runMesh.positions.length / 3);
      assert.equal(store.listTrajectories(caseId).length, 1);
      assert.equal(store.listMeasurements(caseId)[0]!.meshId, meshes[0]!.id);
    } finally {
      store.close();
    }

    step = 'export a PLY';
    await page.locator('body').press('4');
    await page.getByTestId('format-ply').check();
    // The page cannot name a folder: a path is refused with a message saying why.
    await page.getByTestId('export-file-name').fill('../liver.ply');
    await page.getByTestId('export-button').click();
    await poll(
      'the refusal of a path as export file name',
      async () => /file name only, no folders/.test((await page.getByTestId('message').textContent()) ?? ''),
      10_000,
      page,
    );
    const out = path.join(caseFolder, 'exports', 'liver.ply');
    await page.getByTestId('export-file-name').fill('liver');
    await page.getByTestId('export-button').click();
    await poll(
      'the export result',
      async () => (await page.getByTestId('export-result').textContent())?.includes(out),
      30_000,
      page,
    );
    const exported = await readPly(out);
    assert.equal(exported.positions.length, runMesh.positions.length);
    assert.equal(exported.indices.length, runMesh.indices.length);
    assert.ok(exported.indices.length / 3 > 1000, 'exported mesh has triangles');

    assert.deepEqual(pageErrors, [], 'no page errors or CSP violations');
  } catch (err) {
    const shot = await saveScreenshot(page, `${name}-${step.replace(/\W+/g, '-')}`).catch(() => 'none');
    throw new Error(`step "${step}" failed (screenshot: ${shot}): ${(err as Error).message}`, { cause: err });
  }
}

/** Collects page errors, ignoring the one CSP directive a <meta> policy cannot carry. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('frame-ancestors')) errors.push(m.text());
  });
  return errors;
}
