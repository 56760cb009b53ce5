/**
 * The engine service with a stereo source: `run.start` with depth 'stereo' on a stereo dataset folder (the
 * phantom rendered as a rectified pair) through the real pipeline (native stereo matching, photometric
 * tracking, TSDF fusion), as both hosts and the UI's stage choice call it; and the reason a mono source
 * gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FrameBundle } from '../../src/shared/api/binary.js';
import { NavApiError } from '../../src/shared/api/nav-api.js';
import { openDataset, readDatasetDepth } from '../../src/engine/dataset/dataset.js';
import { EngineService } from '../../src/engine/service/engine-service.js';
import { writePhantomDataset } from '../../src/synth/index.js';
import { runEnded } from './run-ended.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const samplesRoot = path.join(root, 'samples');

test(
  'run.start with depth stereo on a stereo dataset gives metric depth to the live frames',
  { timeout: 180_000 },
  async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'navws-service-stereo-'));
    const api = await EngineService.open({
      host: 'browser',
      casesRoot: path.join(tmp, 'cases'),
      samplesRoot,
      // The generated stereo dataset's folder is an allowed source root (docs/security.md).
      sourceRoots: [tmp],
    });
    try {
      const dataset = path.join(tmp, 'stereo');
      await writePhantomDataset(dataset, { seed: 9, frames: 12 }, { stereoBaselineMm: 4 });
      const ds = await openDataset(dataset);
      const c = await api.call('cases.create', { title: 'Stereo service test', patientRef: 'SVC-ST' });
      const frames: FrameBundle[] = [];
      api.onFrame((f) => frames.push(f));
      const finished = runEnded(api);
      await api.call('run.start', {
        caseId: c.id,
        source: { kind: 'file', path: dataset },
        depth: 'stereo',
        speed: 8,
      });
      await finished;
      const status = await api.call('status.get', {});
      assert.equal(status.run.state, 'finished', status.run.error ?? '');
      // A live replay drops frames while processing lags (drop-oldest), so how many arrive depends on the
      // machine; each that arrives must carry the stereo depth.
      assert.ok(frames.length >= 1, 'no live frame arrived');
      // The live depth is the stereo depth: metric, within a millimetre of the phantom's exact depth.
      for (const f of frames.slice(0, 3)) {
        const gt = await readDatasetDepth(ds, f.frameId);
        const errs: number[] = [];
        f.depth!.data.forEach((z, i) => {
          if (z > 0 && gt.data[i]! > 0) errs.push(Math.abs(z - gt.data[i]!));
        });
        errs.sort((a, b) => a - b);
        assert.ok(errs.length > 0.5 * gt.data.length, `frame ${f.frameId}: ${errs.length} pixels with depth`);
        assert.ok(
          errs[errs.length >> 1]! < 1,
          `frame ${f.frameId}: median depth error ${errs[errs.length >> 1]} mm`,
        );
      }

      // A mono sample cannot give stereo depth: the request is refused with the reason.
      await assert.rejects(
        api.call('run.start', { caseId: c.id, source: { kind: 'sample', name: 'phantom' }, depth: 'stereo' }),
        (e: unknown) =>
          e instanceof NavApiError &&
          e.code === 'bad-request' &&
          /stereo depth needs a stereo dataset/.test(e.message),
      );
    } finally {
      await api.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
