/**
 * OpenIGTLink through the engine service, as the UI starts it (run.start with `igtl`): the reference
 * peer receives the run's poses, surface and video; a port in use is a clear request error.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { poseInFrame } from '../../src/engine/igtl/coordinates.js';
import { IGTL_DEVICES } from '../../src/engine/igtl/publisher.js';
import { IgtlServer } from '../../src/engine/igtl/server.js';
import { EngineService } from '../../src/engine/service/engine-service.js';
import { NavApiError } from '../../src/shared/api/nav-api.js';
import { mat4FromArray } from '../../src/shared/math/mat4.js';
import { referencePeer, startPeer } from './peer.js';
import { runEnded } from '../api/run-ended.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const samplesRoot = path.join(root, 'samples');
const peer = referencePeer();
const skip =
  'missing' in peer
    ? peer.missing
    : !existsSync(path.join(samplesRoot, 'phantom')) && 'samples/phantom is missing';

test(
  'run.start with igtl streams the run to the reference peer; the stream ends with the run',
  { skip, timeout: 120_000 },
  async () => {
    const casesRoot = mkdtempSync(path.join(os.tmpdir(), 'navws-igtl-service-'));
    const api = await EngineService.open({ host: 'browser', casesRoot, samplesRoot });
    try {
      const c = await api.call('cases.create', { title: 'IGTL', patientRef: 'IGTL-001' });
      let receiver: ReturnType<typeof startPeer> | null = null;
      const logs: string[] = [];
      const finished = runEnded(api, (e) => {
        if (e.type !== 'log') return;
        logs.push(e.message);
        const m = /OpenIGTLink server listening on [^\s:]+:(\d+)/.exec(e.message);
        if (m && !receiver) receiver = startPeer((peer as { binary: string }).binary, Number(m[1]));
      });
      await api.call('run.start', {
        caseId: c.id,
        source: { kind: 'sample', name: 'phantom' },
        depth: 'gt',
        poses: 'gt',
        igtl: { port: 0, meshMaxTriangles: 5_000_000 },
      });
      assert.ok(receiver, 'the server listened before run.start returned');
      await finished;
      const got = await (receiver as ReturnType<typeof startPeer>).done;
      assert.ok(
        logs.some((l) => /OpenIGTLink client .* connected/.test(l)),
        logs.join('\n'),
      );

      const trajectory = await api.call('review.trajectory', { caseId: c.id });
      const transforms = got.filter((m) => m.type === 'TRANSFORM');
      assert.ok(
        transforms.length >= trajectory.poses.length / 2,
        `${transforms.length} of ${trajectory.poses.length} poses`,
      );
      for (const m of transforms) {
        const best = Math.min(
          ...trajectory.poses.map((p) => {
            const want = poseInFrame(mat4FromArray(p.pose), 'ras');
            return Math.max(...(m.m as number[]).map((v, i) => Math.abs(v - want[i]!)));
          }),
        );
        assert.ok(best < 1e-4, `a received pose is not in the run's trajectory (off by ${best})`);
      }
      const mesh = await api.reviewMesh({ caseId: c.id });
      const polys = got.filter((m) => m.type === 'POLYDATA' && m.device === IGTL_DEVICES.surface);
      assert.equal(polys[polys.length - 1]!.points, mesh.totalVertices, 'the last surface is the final mesh');
      assert.ok(got.some((m) => m.type === 'IMAGE' && m.device === IGTL_DEVICES.video));
      assert.ok(got.some((m) => m.type === 'STATUS' && m.code === 1));
      assert.ok(got.every((m) => m.crc));

      // A port in use: the run is refused with the reason, nothing is left running.
      const taken = await IgtlServer.listen({ port: 0 });
      await assert.rejects(
        api.call('run.start', {
          caseId: c.id,
          source: { kind: 'sample', name: 'phantom' },
          igtl: { port: taken.address.port },
        }),
        (e: unknown) => e instanceof NavApiError && e.code === 'bad-request' && /EADDRINUSE/.test(e.message),
      );
      await taken.close();
      assert.equal((await api.call('status.get', {})).run.state, 'finished');
    } finally {
      await api.close();
      rmSync(casesRoot, { recursive: true, force: true });
    }
  },
);
