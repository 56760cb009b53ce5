/**
 * Real data (Open-CAS porcine liver, Maier-Hein et al., IEEE TMI 2014): the CT surface points project
 * onto the rectified left image, and the shipped network is evaluated at them.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DepthClient } from '../../src/workers/depth/client.js';
import { evaluateLiver, loadOpenCasLiver, projectPointsToDepth } from '../../src/workers/depth/evaluation.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const liverDir = path.resolve(root, '..', 'shared', 'data', 'real', 'opencas-liver');
const skip = existsSync(liverDir) ? false : `real data not found at ${liverDir}`;

test('Open-CAS liver: CT points project into the image at 42-64 mm', { skip }, async () => {
  const liver = await loadOpenCasLiver(liverDir);
  assert.equal(liver.rgb.width, 720);
  assert.equal(liver.rgb.height, 576);
  assert.equal(liver.points.length, 4973);
  const gt = projectPointsToDepth(liver.points, liver.intrinsics);
  let n = 0;
  for (const d of gt.data) {
    if (d === 0) continue;
    n++;
    assert.ok(d > 40 && d < 66, `CT depth ${d} mm`);
  }
  assert.ok(n > 4000, `${n} pixels with CT depth`);
});

test(
  'Open-CAS liver: the shipped network is evaluated at the CT points',
  { skip, timeout: 120_000 },
  async () => {
    const client = await DepthClient.start({ provider: 'cpu' });
    try {
      const row = await evaluateLiver(client, liverDir, 200);
      assert.equal(row.frames, 1);
      assert.ok(row.raw.count > 4000 && row.raw.coverage > 0.99, 'every CT pixel has a prediction');
      assert.ok(
        row.medianScaled.absRel >= 0 && row.medianScaled.absRel < 1,
        `AbsRel ${row.medianScaled.absRel}`,
      );
    } finally {
      await client.close();
    }
  },
);
