// The tracker's keyframe / lost / relocalisation logic on rendered sequences, in process and through
// the worker. Phantom sequences come from src/synth (the project's endoscopy phantom).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openDataset, readDatasetDepth, readDatasetRgb } from '../../src/engine/dataset/dataset.js';
import { type PosePair, absoluteTrajectoryError } from '../../src/eval/trajectory-metrics.js';
import { Phantom } from '../../src/synth/index.js';
import type { PhantomFrame } from '../../src/synth/index.js';
import { type Mat4, identity4, invertRigid, isFiniteMatrix, multiply4 } from '../../src/shared/math/mat4.js';
import { rotationAngle, translationLength } from '../../src/shared/math/se3.js';
import { TrackerClient } from '../../src/workers/tracking/client.js';
import { PhotometricTracker } from '../../src/workers/tracking/tracker.js';
import type { TrackInput, TrackResult } from '../../src/workers/tracking/types.js';

const DEG = Math.PI / 180;
const phantom = new Phantom({ seed: 5, frames: 10, width: 256, height: 192 });
const frames: PhantomFrame[] = Array.from({ length: phantom.frameCount }, (_, i) => phantom.renderFrame(i));

function input(f: PhantomFrame, index: number, withDepth = true): TrackInput {
  return { index, timestamp: index / 30, rgb: f.rgb, depth: withDepth ? f.depth : null };
}

function poseError(estimate: Mat4, truth: Mat4): { dt: number; dr: number } {
  const e = multiply4(invertRigid(truth), estimate);
  return { dt: translationLength(e), dr: rotationAngle(e) };
}

test('a phantom sequence is tracked within a fraction of a millimetre', () => {
  const tracker = new PhotometricTracker({ intrinsics: phantom.intrinsics });
  const results = frames.map((f, i) => tracker.track(input(f, i)));
  assert.equal(results[0]!.state, 'initialising');
  assert.ok(results[0]!.isKeyframe);
  for (const [i, r] of results.entries()) {
    if (i > 0) assert.equal(r.state, 'tracking', `frame ${i}: ${r.reason}`);
    const { dt, dr } = poseError(r.pose!, frames[i]!.pose);
    assert.ok(
      dt < 0.25 && dr < 0.3 * DEG,
      `frame ${i}: error ${dt.toFixed(3)} mm ${(dr / DEG).toFixed(3)} deg`,
    );
    if (i > 0) {
      assert.ok(r.measures.reprojectionErrorPx !== null && r.measures.reprojectionErrorPx < 0.5);
      assert.ok(
        r.measures.triangulatedPoints > 1000 && r.measures.validPixels > 1000 && r.measures.iterations > 0,
      );
      assert.ok(r.measures.finalError > 0 && r.measures.finalError < 15);
    }
  }
  const travelled = translationLength(frames.at(-1)!.pose);
  assert.ok(travelled > 2, `the phantom path moves (${travelled} mm)`);
});

test('a palindrome sequence (forward then backward) returns to the start', () => {
  const tracker = new PhotometricTracker({ intrinsics: phantom.intrinsics });
  const order = [...frames.keys(), ...[...frames.keys()].reverse().slice(1)];
  let last: TrackResult | null = null;
  order.forEach((fi, i) => {
    last = tracker.track(input(frames[fi]!, i));
    assert.ok(
      last.state === 'tracking' || last.state === 'initialising',
      `step ${i}: ${last.state} ${last.reason}`,
    );
  });
  const end = last!.pose!;
  const { dt, dr } = poseError(end, identity4());
  assert.ok(dt < 0.2, `drift ${dt.toFixed(3)} mm after ${order.length} frames`);
  assert.ok(dr < 0.2 * DEG, `drift ${(dr / DEG).toFixed(3)} deg`);
});

test('degenerate frames give lost, never NaN; tracking relocalises afterwards', () => {
  const tracker = new PhotometricTracker({ intrinsics: phantom.intrinsics });
  const n = phantom.intrinsics.width * phantom.intrinsics.height;
  const uniform = { ...frames[0]!.rgb, data: new Uint8Array(n * 3).fill(140) };
  const nanDepth = { ...frames[0]!.depth, data: new Float32Array(n).fill(NaN) };
  const seq: TrackResult[] = [];
  seq.push(tracker.track(input(frames[0]!, 0)));
  seq.push(tracker.track(input(frames[1]!, 1)));
  seq.push(tracker.track({ ...input(frames[2]!, 2), rgb: uniform }));
  seq.push(tracker.track({ ...input(frames[3]!, 3), rgb: uniform, depth: nanDepth }));
  seq.push(tracker.track(input(frames[4]!, 4)));
  seq.push(tracker.track(input(frames[5]!, 5)));
  assert.deepEqual(
    seq.map((r) => r.state),
    ['initialising', 'tracking', 'lost', 'lost', 'relocalised', 'tracking'],
  );
  for (const r of seq) {
    if (r.pose) assert.ok(isFiniteMatrix(r.pose));
    for (const v of Object.values(r.measures)) if (v !== null) assert.ok(Number.isFinite(v), `measure ${v}`);
  }
  assert.equal(seq[2]!.pose, null);
  assert.match(seq[2]!.reason, /lost/);
  for (const i of [4, 5]) {
    const { dt, dr } = poseError(seq[i]!.pose!, frames[i]!.pose);
    assert.ok(dt < 0.3 && dr < 0.3 * DEG, `frame ${i} after relocalisation: ${dt} mm ${dr / DEG} deg`);
  }
});

test('no keyframe before a frame with usable depth; world = first keyframe', () => {
  const tracker = new PhotometricTracker({ intrinsics: phantom.intrinsics });
  const n = phantom.intrinsics.width * phantom.intrinsics.height;
  const a = tracker.track(input(frames[0]!, 0, false));
  assert.equal(a.state, 'initialising');
  assert.equal(a.pose, null);
  assert.match(a.reason, /no depth/);
  const b = tracker.track({
    ...input(frames[1]!, 1),
    depth: { ...frames[1]!.depth, data: new Float32Array(n).fill(NaN) },
  });
  assert.equal(b.state, 'initialising');
  assert.equal(b.pose, null);
  const c = tracker.track(input(frames[2]!, 2));
  assert.ok(c.isKeyframe);
  assert.deepEqual(Array.from(c.pose!), Array.from(identity4()));
  // Later frames without depth are tracked against the keyframe but cannot become keyframes.
  const d = tracker.track(input(frames[6]!, 6, false));
  assert.equal(d.state, 'tracking');
  assert.equal(d.isKeyframe, false);
  assert.equal(d.measures.reprojectionErrorPx, null);
  const rel = multiply4(invertRigid(frames[2]!.pose), frames[6]!.pose);
  const { dt } = poseError(d.pose!, rel);
  assert.ok(dt < 0.3, `frame 6 relative to frame 2: ${dt} mm`);
});

test('keyframes are taken when the camera moves away, by criteria', () => {
  const tracker = new PhotometricTracker({
    intrinsics: phantom.intrinsics,
    keyframe: { maxTranslationRatio: 0.02 },
  });
  const results = frames.map((f, i) => tracker.track(input(f, i)));
  const kfs = results.filter((r) => r.isKeyframe).map((r) => r.index);
  assert.ok(kfs.length >= 3, `keyframes at ${kfs.join(', ')}`);
  assert.ok(kfs.length < frames.length, 'not every frame is a keyframe');
  // Each frame reports the keyframe it was aligned against, which precedes it.
  for (const r of results.slice(1)) assert.ok(r.keyframeIndex !== null && r.keyframeIndex < r.index);
});

test('keyframe schedule: frames tracked without depth ask for keyframes, addKeyframe completes them', () => {
  const tracker = new PhotometricTracker({
    intrinsics: phantom.intrinsics,
    keyframe: { maxTranslationRatio: 0.02 },
  });
  const first = tracker.track(input(frames[0]!, 0, false));
  assert.equal(first.pose, null);
  assert.equal(first.needsKeyframe, true, 'the first frame asks for its depth');
  const made = tracker.addKeyframe({ index: 0, depth: frames[0]!.depth });
  assert.equal(made.isKeyframe, true);
  assert.deepEqual(Array.from(made.pose!), Array.from(identity4()), 'world = the first keyframe');
  const asked: number[] = [];
  for (let i = 1; i < frames.length; i++) {
    const r = tracker.track(input(frames[i]!, i, false));
    assert.equal(r.state, 'tracking', `frame ${i}: ${r.reason}`);
    assert.equal(r.isKeyframe, false, 'no depth, no keyframe by itself');
    const { dt, dr } = poseError(r.pose!, multiply4(invertRigid(frames[0]!.pose), frames[i]!.pose));
    assert.ok(dt < 0.3 && dr < 0.3 * DEG, `frame ${i}: ${dt.toFixed(3)} mm ${(dr / DEG).toFixed(3)} deg`);
    if (r.needsKeyframe) {
      asked.push(i);
      const k = tracker.addKeyframe({ index: i, depth: frames[i]!.depth });
      assert.equal(k.isKeyframe, true);
      assert.deepEqual(Array.from(k.pose!), Array.from(r.pose!), 'a keyframe keeps its tracked pose');
      assert.equal(k.keyframeIndex, i);
    }
  }
  assert.ok(asked.length >= 2 && asked.length < frames.length - 1, `keyframes asked at ${asked.join(', ')}`);
  assert.equal(tracker.keyframeCount, asked.length + 1);
  // Depth for any other frame than the one that asked is a caller bug, named as such.
  assert.throws(
    () => tracker.addKeyframe({ index: 3, depth: frames[3]!.depth }),
    /addKeyframe: frame 3 is not a recent frame asking for a keyframe/,
  );
});

test('keyframe depth may arrive after the next frame was tracked (the pipeline overlaps them)', () => {
  const tracker = new PhotometricTracker({
    intrinsics: phantom.intrinsics,
    keyframe: { maxTranslationRatio: 0.02 },
  });
  tracker.track(input(frames[0]!, 0, false));
  tracker.addKeyframe({ index: 0, depth: frames[0]!.depth });
  const world = (i: number): Mat4 => multiply4(invertRigid(frames[0]!.pose), frames[i]!.pose);
  let asked = -1;
  for (let i = 1; i < frames.length - 1 && asked < 0; i++) {
    if (tracker.track(input(frames[i]!, i, false)).needsKeyframe) asked = i;
  }
  assert.ok(asked > 0, 'tracking asked for a keyframe');
  // The next frame is tracked against the old keyframe before the asked frame's depth arrives.
  const next = tracker.track(input(frames[asked + 1]!, asked + 1, false));
  assert.equal(next.keyframeIndex, 0);
  const made = tracker.addKeyframe({ index: asked, depth: frames[asked]!.depth });
  assert.equal(made.isKeyframe, true);
  assert.equal(made.keyframeIndex, asked);
  assert.equal(made.state, 'tracking');
  const { dt: madeDt } = poseError(made.pose!, world(asked));
  assert.ok(madeDt < 0.3, `the keyframe keeps its own tracked pose (${madeDt.toFixed(3)} mm)`);
  if (asked + 2 < frames.length) {
    const after = tracker.track(input(frames[asked + 2]!, asked + 2, false));
    assert.equal(after.keyframeIndex, asked, 'later frames align against the new keyframe');
    const { dt } = poseError(after.pose!, world(asked + 2));
    assert.ok(dt < 0.3, `frame ${asked + 2}: ${dt.toFixed(3)} mm`);
  }
});

test('bad input is rejected with a clear error', () => {
  const tracker = new PhotometricTracker({ intrinsics: phantom.intrinsics });
  const f = frames[0]!;
  assert.throws(
    () => tracker.track({ ...input(f, 0), rgb: { width: 10, height: 10, data: new Uint8Array(300) } }),
    /intrinsics say 256x192/,
  );
  assert.throws(
    () => tracker.track({ ...input(f, 0), depth: { ...f.depth, data: new Float32Array(5) } }),
    /depth/,
  );
  assert.throws(() => tracker.track({ ...input(f, 0), poseHint: new Float64Array(16) }), /poseHint/);
  tracker.track(input(f, 3));
  assert.throws(() => tracker.track(input(f, 2)), /in order/);
  assert.throws(() => new PhotometricTracker({ intrinsics: { ...phantom.intrinsics, fx: 0 } }), /fx/);
  assert.throws(() => new PhotometricTracker({ intrinsics: phantom.intrinsics, levels: 0 }), /levels/);
  assert.throws(
    () => new PhotometricTracker({ intrinsics: phantom.intrinsics, finestLevel: 4 }),
    /finestLevel/,
  );
  assert.throws(
    () => new PhotometricTracker({ intrinsics: phantom.intrinsics, depthWeight: -1 }),
    /depthWeight/,
  );
});

test('TrackerClient runs the tracker in a worker thread', async () => {
  const client = TrackerClient.start({ intrinsics: phantom.intrinsics });
  try {
    const r0 = await client.track(input(frames[0]!, 0));
    const r1 = await client.track({ ...input(frames[1]!, 1), poseHint: frames[1]!.pose });
    assert.equal(r0.state, 'initialising');
    assert.equal(r1.state, 'tracking');
    assert.ok(r1.pose instanceof Float64Array);
    const { dt } = poseError(r1.pose, frames[1]!.pose);
    assert.ok(dt < 0.2, `worker result ${dt} mm`);
    assert.ok(r1.measures.ms > 0);
    await assert.rejects(
      client.track({ ...input(frames[2]!, 2), rgb: { width: 1, height: 1, data: new Uint8Array(3) } }),
      /intrinsics/,
    );
  } finally {
    await client.close();
  }
});

test('fast motion with blur, smoke and highlights (samples/phantom-hard, every 2nd frame)', async (t) => {
  const root = path.resolve(process.env.NAVWS_ROOT ?? process.cwd(), 'samples', 'phantom-hard');
  if (!existsSync(path.join(root, 'groundtruth.txt'))) {
    t.skip(`${root} not found (generate it with the phantom generator)`);
    return;
  }
  const ds = await openDataset(root);
  const tracker = new PhotometricTracker({ intrinsics: ds.intrinsics });
  const pairs: PosePair[] = [];
  for (let i = 0; i < (ds.frameCount ?? 0); i += 2) {
    const r = tracker.track({
      index: i,
      timestamp: ds.groundTruth![i]!.timestamp,
      rgb: await readDatasetRgb(ds, i),
      depth: await readDatasetDepth(ds, i),
    });
    assert.notEqual(r.state, 'lost', `frame ${i}: ${r.reason}`);
    pairs.push({ estimated: r.pose!, truth: ds.groundTruth![i]!.pose, index: i });
  }
  const ate = absoluteTrajectoryError(pairs, false).rmse;
  assert.ok(ate < 0.05, `ATE ${ate.toFixed(4)} mm over ${pairs.length} frames`);
});
