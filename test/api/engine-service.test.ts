/**
 * The engine service without a browser: a run on the bundled sample through the real pipeline (ground-
 * truth depth and poses, native TSDF fusion), live frames whose video, depth and pose belong together,
 * incremental mesh blocks, the run recorded in the SQLite case store, review of any instant, and export
 * in every format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FrameBundle, MeshBlocksUpdate } from '../../src/shared/api/binary.js';
import { NavApiError } from '../../src/shared/api/nav-api.js';
import type { NavEvent } from '../../src/shared/api/schemas.js';
import { invertRigid, multiply4 } from '../../src/shared/math/mat4.js';
import { openDataset, readDatasetDepth, readDatasetRgb } from '../../src/engine/dataset/dataset.js';
import { readPly } from '../../src/engine/formats/ply.js';
import { EngineService } from '../../src/engine/service/engine-service.js';
import { runEnded } from './run-ended.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const samplesRoot = path.join(root, 'samples');
const skip = existsSync(path.join(samplesRoot, 'phantom', 'intrinsics.json'))
  ? false
  : 'samples/phantom is missing';

test(
  'a run on the sample: synced live frames, mesh blocks, review of an instant, export',
  { skip, timeout: 180_000 },
  async () => {
    const casesRoot = mkdtempSync(path.join(os.tmpdir(), 'navws-service-'));
    const api = await EngineService.open({ host: 'browser', casesRoot, samplesRoot });
    try {
      const ds = await openDataset(path.join(samplesRoot, 'phantom'));
      const gt0 = invertRigid(ds.groundTruth![0]!.pose);
      const c = await api.call('cases.create', { title: 'Service test', patientRef: 'SVC-001' });
      const frames: FrameBundle[] = [];
      const meshes: MeshBlocksUpdate[] = [];
      const events: NavEvent[] = [];
      api.onFrame((f) => frames.push(f));
      api.onMesh((u) => meshes.push(u));
      const finished = runEnded(api, (e) => events.push(e));
      await api.call('run.start', {
        caseId: c.id,
        source: { kind: 'sample', name: 'phantom' },
        depth: 'gt',
        poses: 'gt',
        speed: 4,
      });
      await assert.rejects(
        api.call('run.start', { caseId: c.id, source: { kind: 'sample', name: 'phantom' } }),
        (e: unknown) => e instanceof NavApiError && e.code === 'conflict',
      );
      await finished;
      const status = await api.call('status.get', {});
      assert.equal(status.run.state, 'finished', status.run.error ?? '');

      assert.ok(frames.length > 10, `${frames.length} live frames`);
      for (const f of frames.slice(0, 5)) {
        // Video, depth and pose of one instant: the sample's own frame, depth and ground-truth pose.
        const rgb = await readDatasetRgb(ds, f.frameId);
        assert.deepEqual(f.rgb.data, rgb.data);
        const depth = await readDatasetDepth(ds, f.frameId);
        assert.deepEqual(f.depth!.data, depth.data);
        const expected = multiply4(gt0, ds.groundTruth![f.frameId]!.pose);
        f.pose!.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-9));
      }
      assert.ok(meshes.length >= 2, 'incremental mesh updates while running');
      assert.ok(
        meshes.some((m) => !m.reset && m.changed.length > 0),
        'changed blocks arrive incrementally',
      );
      assert.ok(
        events.some(
          (e) => e.type === 'stats' && e.stages.some((s) => s.name === 'fusion' && s.processed > 0),
        ),
      );
      // The run's last stats event carries its rates over the whole run (the status bar keeps them).
      const finishedAt = events.findIndex((e) => e.type === 'run' && e.status.state === 'finished');
      const statsBefore = events
        .slice(0, finishedAt)
        .filter((e): e is Extract<NavEvent, { type: 'stats' }> => e.type === 'stats');
      const runStats = statsBefore.at(-1)!;
      assert.equal(runStats.scope, 'run');
      assert.ok(statsBefore.slice(0, -1).every((e) => e.scope === 'recent'));
      for (const stage of runStats.stages) {
        if (stage.processed > 0)
          assert.ok(stage.rateHz > 0, `${stage.name}: ${stage.rateHz} Hz over the run`);
      }
      const fusionRate = runStats.stages.find((x) => x.name === 'fusion')!;
      // 60 frames at 30 fps replayed at 4x: 0.5 s of source; processing keeps up at the very least roughly.
      assert.ok(
        fusionRate.rateHz > 5 && fusionRate.rateHz < 1000,
        `fusion ${fusionRate.rateHz.toFixed(1)} Hz over the run (${fusionRate.processed} frames)`,
      );

      const detail = await api.call('cases.open', { caseId: c.id });
      assert.equal(detail.runs.length, 1);
      const run = detail.runs[0]!;
      assert.equal(run.state, 'complete');
      assert.ok(run.hasMesh);

      const trajectory = await api.call('review.trajectory', { caseId: c.id });
      assert.equal(trajectory.poses.length, run.frameCount);
      const f = await api.reviewFrame({ caseId: c.id, timeS: 1.0 });
      assert.ok(Math.abs(f.timeS - 1.0) < 0.1);
      assert.deepEqual(f.rgb.data, (await readDatasetRgb(ds, f.frameId)).data);
      const gtDepth = await readDatasetDepth(ds, f.frameId);
      // The recorded depth PNG uses the sample's own scale, so it reads back exactly.
      assert.deepEqual(f.depth!.data, gtDepth.data);
      const mesh = await api.reviewMesh({ caseId: c.id });
      assert.ok(mesh.reset && mesh.changed[0]!.mesh.indices.length > 3000);

      // Timeline bookmarks live in the case store (SQLite, audited) with their run and instant.
      const mark = await api.call('annotations.add', {
        caseId: c.id,
        runId: run.id,
        timeS: 1.0,
        kind: 'bookmark',
        label: 'vessel crossing',
      });
      assert.match(mark.id, /^\d+$/, 'the store gives the id');
      const marks = await api.call('annotations.list', { caseId: c.id });
      assert.deepEqual(
        marks.map((m) => [m.kind, m.runId, m.timeS, m.label]),
        [['bookmark', run.id, 1.0, 'vessel crossing']],
      );
      assert.ok(!existsSync(path.join(casesRoot, 'cases', c.id, 'annotations.json')), 'not a side file');

      // Exports go to the case's exports folder, by file name (the page can name no other path) ...
      const exportsDir = path.join(casesRoot, 'cases', c.id, 'exports');
      for (const format of ['ply', 'obj', 'stl', 'glb'] as const) {
        const r = await api.call('export.mesh', { caseId: c.id, format, fileName: 'export' });
        assert.equal(r.outputPath, path.join(exportsDir, `export.${format}`));
        assert.ok(existsSync(r.outputPath) && r.bytes > 1000, `${format}: ${r.bytes} bytes`);
        assert.equal(r.triangles * 3, mesh.changed[0]!.mesh.indices.length);
      }
      const ply = await readPly(path.join(exportsDir, 'export.ply'));
      assert.equal(ply.positions.length, mesh.changed[0]!.mesh.positions.length);
      const byDefault = await api.call('export.mesh', { caseId: c.id, format: 'stl' });
      assert.equal(byDefault.outputPath, path.join(exportsDir, `${run.id}.stl`));
      const outside = path.join(casesRoot, 'outside.ply');
      const refused: [Record<string, string>, RegExp][] = [
        [{ outputPath: outside }, /outputPath: not accepted: the UI cannot name a path/],
        [{ fileName: outside }, /a file name only, no folders/],
        [{ fileName: '../../outside.ply' }, /a file name only, no folders/],
        [{ fileName: '..' }, /without '\.\.'/],
        [{ fileName: 'a\\b.ply' }, /a file name only, no folders/],
        [{ fileName: 'liver.stl' }, /ends in \.stl, but the format is PLY/],
        [{ fileName: 'x', grant: 'grant-1' }, /a fileName or a grant, not both/],
        [{ grant: 'grant-made-up' }, /unknown, already used or expired/],
      ];
      for (const [destination, why] of refused) {
        await assert.rejects(
          api.call('export.mesh', { caseId: c.id, format: 'ply', ...destination } as never),
          (e: unknown) => e instanceof NavApiError && e.code === 'bad-request' && why.test(e.message),
          JSON.stringify(destination),
        );
      }
      assert.ok(!existsSync(outside), 'nothing was written outside the exports folder');

      // ... or to a file the user chose in the desktop app's save dialog: main registers it with the
      // engine (a host-only call), the page gets a single-use grant in that format.
      const chosenDir = mkdtempSync(path.join(os.tmpdir(), 'navws-service-chosen-'));
      try {
        const chosen = path.join(chosenDir, 'for planning.ply');
        const { grant, fileName } = api.grantExportDestination(chosen, 'ply');
        assert.equal(fileName, 'for planning.ply');
        await assert.rejects(
          api.call('export.mesh', { caseId: c.id, format: 'obj', grant }),
          /is for PLY, not OBJ; choose the destination again/,
        );
        const r = await api.call('export.mesh', { caseId: c.id, format: 'ply', grant });
        assert.equal(r.outputPath, chosen);
        assert.equal((await readPly(chosen)).positions.length, ply.positions.length);
        await assert.rejects(
          api.call('export.mesh', { caseId: c.id, format: 'ply', grant }),
          /unknown, already used or expired/,
          'a grant is good for one export',
        );
        assert.throws(() => api.grantExportDestination(path.join(chosenDir, 'x.stl'), 'ply'), /\.ply/);
      } finally {
        rmSync(chosenDir, { recursive: true, force: true });
      }
      await assert.rejects(
        api.call('export.chooseDestination', { caseId: c.id, format: 'ply' }),
        (e: unknown) =>
          e instanceof NavApiError && e.code === 'unavailable' && /give a file name/.test(e.message),
      );
    } finally {
      await api.close();
      rmSync(casesRoot, { recursive: true, force: true });
    }
  },
);

test(
  'a run with the product stages (network depth, photometric tracking): keyframe depth shown between keyframes, live and in review',
  { skip, timeout: 180_000 },
  async () => {
    const casesRoot = mkdtempSync(path.join(os.tmpdir(), 'navws-service-product-'));
    const api = await EngineService.open({ host: 'browser', casesRoot, samplesRoot });
    try {
      const c = await api.call('cases.create', { title: 'Product stages', patientRef: 'SVC-002' });
      const frames: FrameBundle[] = [];
      const events: NavEvent[] = [];
      api.onFrame((f) => frames.push(f));
      const finished = runEnded(api, (e) => events.push(e));
      await api.call('run.start', {
        caseId: c.id,
        source: { kind: 'sample', name: 'phantom' },
        depth: 'network',
        poses: 'track',
        speed: 0.5,
      });
      await finished;
      const status = await api.call('status.get', {});
      assert.equal(status.run.state, 'finished', status.run.error ?? '');
      // A live run drops the oldest frames when the machine is busy (by design): count nothing exact.
      assert.ok(frames.length >= 8, `${frames.length} live frames`);
      const tracked = frames.filter((f) => f.pose !== null);
      assert.ok(tracked.length >= frames.length - 1, 'every frame after the first keyframe has a pose');
      const keyframes = frames.filter((f) => f.isKeyframe);
      assert.ok(keyframes.length >= 2 && keyframes.length < frames.length, `${keyframes.length} keyframes`);
      for (const f of frames) {
        assert.ok(f.depth && f.depthFrameId !== null, `frame ${f.frameId} shows a depth`);
        if (f.isKeyframe) assert.equal(f.depthFrameId, f.frameId, 'a keyframe shows its own depth');
        else
          assert.ok(
            f.depthFrameId! < f.frameId,
            `frame ${f.frameId} shows keyframe ${f.depthFrameId}'s depth`,
          );
      }
      const stats = events
        .filter((e): e is Extract<NavEvent, { type: 'stats' }> => e.type === 'stats')
        .at(-1)!;
      const stage = (name: string) => stats.stages.find((s) => s.name === name);
      const poseHead = stage('poseHead')!.processed;
      const depthRuns = stage('depth')!.processed;
      assert.ok(poseHead >= frames.length, `the pose head runs on every processed frame (${poseHead})`);
      assert.ok(
        depthRuns >= keyframes.length && depthRuns < poseHead / 2,
        `the depth network runs for keyframes only (${depthRuns} runs, ${keyframes.length} keyframes, ${poseHead} frames)`,
      );

      // The run says its millimetres are the network's own, so every distance measured on it can say so.
      const summary = (await api.call('cases.open', { caseId: c.id })).runs[0]!;
      assert.equal(summary.scaleSource, 'network (unverified)');

      // Review of an instant between keyframes shows the keyframe's recorded depth, and says which.
      const between = frames.find((f) => !f.isKeyframe)!;
      const r = await api.reviewFrame({ caseId: c.id, timeS: between.timeS });
      assert.equal(r.frameId, between.frameId);
      assert.equal(r.depthFrameId, between.depthFrameId);
      assert.ok(r.depth !== null);
    } finally {
      await api.close();
      rmSync(casesRoot, { recursive: true, force: true });
    }
  },
);
