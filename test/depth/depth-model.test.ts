/**
 * The shipped networks (models/) in onnxruntime-node through DepthClient's worker: output size and range,
 * SAB memory carried between frames and cleared by reset, the pose head's T_prev_cur.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isRigid } from '../../src/shared/math/mat4.js';
import { Phantom } from '../../src/synth/index.js';
import { DepthClient } from '../../src/workers/depth/client.js';
import { defaultModelDir } from '../../src/workers/depth/manifest.js';

const manifest = JSON.parse(readFileSync(path.join(defaultModelDir(), 'manifest.json'), 'utf8')) as {
  models: { depth: { architecture: { config: { tokens_per_frame: number; memory_dim: number } } } };
};

test(
  'shipped depth model: depth in mm at the frame size, in the declared range; SAB memory round-trips',
  { timeout: 120_000 },
  async () => {
    const phantom = new Phantom({ seed: 4242, frames: 3, width: 200, height: 150, fovMask: true });
    const client = await DepthClient.start({ provider: 'cpu' });
    try {
      assert.equal(client.executionProvider, 'cpu');
      const [lo, hi] = client.info.depthRangeMm;
      const { tokens_per_frame: perFrame, memory_dim: dim } = manifest.models.depth.architecture.config;
      assert.ok(
        (await client.memory()).every((v) => v === 0),
        'a new session starts with an empty memory',
      );

      const f0 = phantom.renderFrame(0);
      const r0 = await client.estimate({ rgb: f0.rgb, intrinsics: phantom.intrinsics });
      assert.equal(r0.relativePose, null, 'no pose for the first frame');
      assert.equal(r0.depth.width, 200);
      assert.equal(r0.depth.height, 150);
      let known = 0;
      for (let i = 0; i < r0.depth.data.length; i++) {
        const d = r0.depth.data[i]!;
        assert.ok(Number.isFinite(d), `pixel ${i} is finite`);
        if (d === 0) continue;
        known++;
        assert.ok(d >= lo - 1e-3 && d <= hi + 1e-3, `pixel ${i}: ${d} mm outside [${lo}, ${hi}]`);
      }
      assert.ok(known > 0.6 * r0.depth.data.length, 'depth known inside the field of view');
      const corner = 0; // outside the circular field of view: black, so unknown
      assert.equal(r0.depth.data[corner], 0);
      // The phantom's tissue is 30-80 mm away: the network must be in that ballpark, not at a range limit.
      const centre = r0.depth.data[75 * 200 + 100]!;
      assert.ok(centre > 20 && centre < 120, `centre depth ${centre} mm`);

      const m1 = await client.memory();
      assert.ok(
        m1.some((v) => v !== 0),
        'the first frame wrote its tokens into the memory',
      );
      const f1 = phantom.renderFrame(1);
      const r1 = await client.estimate({ rgb: f1.rgb, intrinsics: phantom.intrinsics });
      const m2 = await client.memory();
      // memory_out of frame 0 was fed back: frame 1 shifted it by one frame's tokens and appended its own.
      const keep = m1.length - perFrame * dim;
      assert.deepEqual(Array.from(m2.subarray(0, keep)), Array.from(m1.subarray(perFrame * dim)));
      assert.ok(r1.relativePose && isRigid(r1.relativePose, 1e-4), 'pose head gives a rigid T_prev_cur');
      assert.ok(
        Math.hypot(r1.relativePose[3]!, r1.relativePose[7]!, r1.relativePose[11]!) < 20,
        'inter-frame motion of mm, not metres',
      );

      await client.reset();
      assert.ok(
        (await client.memory()).every((v) => v === 0),
        'reset clears the memory',
      );
      const again = await client.estimate({ rgb: f0.rgb, intrinsics: phantom.intrinsics });
      assert.equal(again.relativePose, null, 'reset forgets the previous frame');
      assert.deepEqual(again.depth.data, r0.depth.data, 'same frame after reset gives the same depth');

      await assert.rejects(
        client.estimate({ rgb: f0.rgb, intrinsics: { ...phantom.intrinsics, width: 100 } }),
        /frame is 200x150, intrinsics describe 100x150/,
      );
    } finally {
      await client.close();
    }
  },
);

test(
  'the keyframe schedule splits estimate exactly: motion alone then depth alone give the same outputs',
  { timeout: 120_000 },
  async () => {
    const phantom = new Phantom({ seed: 77, frames: 3, width: 160, height: 120, fovMask: true });
    const frames = [0, 1, 2].map((i) => phantom.renderFrame(i));
    const k = phantom.intrinsics;
    const whole = await DepthClient.start({ provider: 'cpu' });
    const split = await DepthClient.start({ provider: 'cpu' });
    try {
      for (const [i, f] of frames.entries()) {
        // Requests sent together still run one at a time, in order, against the sequence state.
        const [e, motion, depth] = await Promise.all([
          whole.estimate({ rgb: f.rgb, intrinsics: k }),
          split.motion({ rgb: f.rgb, intrinsics: k }),
          split.depth({ rgb: f.rgb, intrinsics: k }),
        ]);
        if (i === 0) assert.equal(motion, null, 'no motion for the first frame');
        else assert.deepEqual(Array.from(motion!), Array.from(e.relativePose!), `frame ${i} motion`);
        assert.deepEqual(depth.data, e.depth.data, `frame ${i} depth`);
      }
      // Depth alone does not advance the pose head's pair: the next motion is still against frame 2.
      await split.depth({ rgb: frames[0]!.rgb, intrinsics: k });
      const again = await split.motion({ rgb: frames[2]!.rgb, intrinsics: k });
      assert.ok(again !== null && isRigid(again, 1e-4));
      const still = Array.from(again).slice(0, 12);
      assert.ok(
        Math.abs(still[3]!) + Math.abs(still[7]!) + Math.abs(still[11]!) < 1,
        'frame 2 against itself: (almost) no translation',
      );
    } finally {
      await Promise.all([whole.close(), split.close()]);
    }
  },
);
