import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runReconstruction } from '../../src/engine/pipeline/reconstruct.js';
import type { DepthStage, FusionInput, FusionStage, PoseStage } from '../../src/engine/pipeline/stages.js';
import type { VideoFrame } from '../../src/shared/frames.js';
import { identity4 } from '../../src/shared/math/mat4.js';

const K = { width: 4, height: 2, fx: 2, fy: 2, cx: 1.5, cy: 0.5 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function* frames(n: number, intervalMs: number, failAfter?: number): AsyncGenerator<VideoFrame> {
  for (let i = 0; i < n; i++) {
    if (failAfter !== undefined && i === failAfter)
      throw new Error('ffmpeg exited with code 1 (truncated stream)');
    if (intervalMs > 0) await sleep(intervalMs);
    yield { index: i, timestamp: i / 30, image: { width: 4, height: 2, data: new Uint8Array(24).fill(i) } };
  }
}

// Test stages with controllable latency; they record what reaches them.
function stages(depthMs: number) {
  const seen = { depth: [] as number[], tracked: [] as number[], fused: [] as FusionInput[] };
  const depth: DepthStage = {
    name: 'test-depth',
    executionProvider: 'cpu',
    async estimate(frame) {
      seen.depth.push(frame.index);
      await sleep(depthMs);
      return {
        depth: { width: 4, height: 2, data: new Float32Array(8).fill(40 + frame.index) },
        relativePose: null,
      };
    },
    async close() {},
  };
  const poses: PoseStage = {
    name: 'test-poses',
    async track({ frame }) {
      seen.tracked.push(frame.index);
      const pose = identity4();
      pose[3] = frame.index;
      return {
        pose,
        state: 'tracking',
        isKeyframe: frame.index % 2 === 0,
        metrics: { meanReprojectionErrorPx: frame.index },
      };
    },
    async close() {},
  };
  const fusion: FusionStage = {
    name: 'test-fusion',
    async integrate(input) {
      seen.fused.push(input);
    },
    async extractChanged() {
      return { changedBlocks: [], removedBlocks: [] };
    },
    async extractMesh() {
      return { positions: new Float32Array(9), indices: Uint32Array.from([0, 1, 2]) };
    },
    async close() {},
  };
  return { seen, depth, poses, fusion };
}

test('offline: every frame is processed in order, keyframes are fused with their own depth and pose', async () => {
  const s = stages(1);
  const r = await runReconstruction({
    source: frames(12, 0),
    intrinsics: K,
    depth: s.depth,
    poses: s.poses,
    fusion: s.fusion,
    live: false,
  });
  assert.deepEqual(s.seen.tracked, [...Array(12).keys()]);
  assert.equal(r.report.framesDropped, 0);
  assert.equal(r.report.framesProcessed, 12);
  assert.equal(r.report.keyframes, 6);
  assert.deepEqual(
    s.seen.fused.map((f) => f.pose[3]),
    [0, 2, 4, 6, 8, 10],
  );
  assert.deepEqual(
    s.seen.fused.map((f) => f.depth.data[0]),
    [40, 42, 44, 46, 48, 50],
  );
  assert.deepEqual(
    r.trajectory.map((p) => p.timestamp),
    [...Array(12).keys()].map((i) => i / 30),
  );
  assert.equal(r.report.trackingMeans.meanReprojectionErrorPx, 5.5);
  assert.equal(r.report.stages.depth.count, 12);
  assert.equal(r.report.schedule, 'every-frame');
  assert.ok(r.mesh);
});

test('keyframe schedule: motion on every frame, depth only where tracking asks, frames show the latest depth', async () => {
  const s = stages(0);
  const calls = { motion: [] as number[], depth: [] as number[], added: [] as number[] };
  const depth: DepthStage = {
    ...s.depth,
    async estimateMotion(frame) {
      calls.motion.push(frame.index);
      return identity4();
    },
    async estimateDepth(frame) {
      calls.depth.push(frame.index);
      return { width: 4, height: 2, data: new Float32Array(8).fill(40 + frame.index) };
    },
  };
  const poses: PoseStage = {
    name: 'test-keyframe-tracker',
    async track({ frame, depth: d }) {
      assert.equal(d, null, 'tracking gets no per-frame depth');
      const pose = identity4();
      pose[3] = frame.index;
      // Asks for a keyframe every third frame (and for the first, which has no pose yet).
      return {
        pose: frame.index === 0 ? null : pose,
        state: frame.index === 0 ? 'initialising' : 'tracking',
        isKeyframe: false,
        needsKeyframe: frame.index % 3 === 0,
        metrics: {},
      };
    },
    async addKeyframe(frame, d, tracked) {
      calls.added.push(frame.index);
      assert.equal(d.data[0], 40 + frame.index, 'the keyframe gets its own frame depth');
      return { ...tracked, pose: tracked.pose ?? identity4(), isKeyframe: true, needsKeyframe: false };
    },
    async close() {},
  };
  const shown: { index: number; depthFrame: number | null }[] = [];
  const r = await runReconstruction({
    source: frames(10, 0),
    intrinsics: K,
    depth,
    poses,
    fusion: s.fusion,
    live: false,
    onEvent: (e) => {
      if (e.type === 'frame') shown.push({ index: e.index, depthFrame: e.depthFrame });
    },
  });
  assert.equal(r.report.schedule, 'keyframes');
  assert.deepEqual(calls.motion, [...Array(10).keys()]);
  assert.deepEqual(calls.depth, [0, 3, 6, 9]);
  assert.deepEqual(calls.added, [0, 3, 6, 9]);
  assert.deepEqual(s.seen.depth, [], 'the whole estimate never runs');
  assert.deepEqual(
    s.seen.fused.map((f) => f.depth.data[0]),
    [40, 43, 46, 49],
  );
  assert.deepEqual(
    shown.map((e) => e.depthFrame),
    [0, 0, 0, 3, 3, 3, 6, 6, 6, 9],
  );
  assert.equal(r.report.stages.poseHead.count, 10);
  assert.equal(r.report.stages.depth.count, 4);
  assert.equal(r.report.keyframes, 4);
});

test('a keyframe depth or a fusion call failing while the loop waits rejects the run (never an unhandled rejection)', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => {
    unhandled.push(e);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    for (const failing of ['depth', 'fusion'] as const) {
      const s = stages(0);
      const depth: DepthStage = {
        ...s.depth,
        async estimateMotion() {
          return identity4();
        },
        async estimateDepth(frame) {
          // Fails late, after the pipeline moved on to wait for the next frame.
          if (failing === 'depth' && frame.index === 3) {
            await sleep(30);
            throw new Error('depth worker exited (code 1)');
          }
          return { width: 4, height: 2, data: new Float32Array(8).fill(40) };
        },
      };
      const poses: PoseStage = {
        name: 'test-keyframe-tracker',
        async track({ frame }) {
          return {
            pose: frame.index === 0 ? null : identity4(),
            state: frame.index === 0 ? 'initialising' : 'tracking',
            isKeyframe: false,
            needsKeyframe: frame.index % 3 === 0,
            metrics: {},
          };
        },
        async addKeyframe(_frame, _d, tracked) {
          return { ...tracked, pose: tracked.pose ?? identity4(), isKeyframe: true, needsKeyframe: false };
        },
        async close() {},
      };
      const fusion: FusionStage = {
        ...s.fusion,
        async integrate(input) {
          if (failing === 'fusion' && input.depth.data[0] === 40 && s.seen.fused.length === 1) {
            await sleep(30);
            throw new Error('fusion: depth has NaN at pixel 3');
          }
          s.seen.fused.push(input);
        },
      };
      await assert.rejects(
        runReconstruction({ source: frames(10, 40), intrinsics: K, depth, poses, fusion, live: false }),
        failing === 'depth' ? /depth worker exited/ : /fusion: depth has NaN/,
      );
    }
    await sleep(50);
    assert.deepEqual(unhandled, [], 'no rejection escaped the pipeline');
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('live: a slow depth stage makes the pipeline drop the oldest frames, never stall the source', async () => {
  const s = stages(25);
  const start = performance.now();
  const r = await runReconstruction({
    source: frames(40, 2),
    intrinsics: K,
    depth: s.depth,
    poses: s.poses,
    fusion: null,
    live: true,
  });
  const elapsed = performance.now() - start;
  assert.equal(r.report.framesIn, 40);
  assert.ok(r.report.framesDropped > 10, `dropped ${r.report.framesDropped}`);
  assert.equal(r.report.framesProcessed + r.report.framesDropped, 40);
  // Processing sees increasing frame numbers and always ends with the newest frame.
  assert.deepEqual(
    [...s.seen.tracked].sort((a, b) => a - b),
    s.seen.tracked,
  );
  assert.equal(s.seen.tracked.at(-1), 39);
  // Had the source been blocked, 40 frames at 25 ms each would take 1 s.
  assert.ok(elapsed < 40 * 25, `took ${elapsed} ms`);
});

test('a source failure keeps the frames already read and reports the error', async () => {
  const s = stages(0);
  const events: string[] = [];
  const r = await runReconstruction({
    source: frames(10, 0, 6),
    intrinsics: K,
    depth: s.depth,
    poses: s.poses,
    fusion: s.fusion,
    live: false,
    onEvent: (e) => {
      if (e.type === 'log') events.push(e.message);
    },
  });
  assert.equal(r.report.framesProcessed, 6);
  assert.equal(r.trajectory.length, 6);
  assert.match(r.report.sourceError ?? '', /truncated stream/);
  assert.ok(events.some((m) => /source failed/.test(m)));
});

test('a stage error stops the pipeline and rejects with that error', async () => {
  const s = stages(0);
  const failing: PoseStage = {
    ...s.poses,
    async track(input) {
      if (input.frame.index === 3) throw new Error('tracker: NaN in normal equations');
      return s.poses.track(input);
    },
  };
  await assert.rejects(
    runReconstruction({
      source: frames(10, 0),
      intrinsics: K,
      depth: s.depth,
      poses: failing,
      fusion: s.fusion,
      live: false,
    }),
    /NaN in normal equations/,
  );
});
