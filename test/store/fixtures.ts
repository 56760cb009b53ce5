/** Small inputs for case-store tests: a coloured mesh, a depth map, poses. */
import type { DepthImage } from '../../src/shared/frames.js';
import type { TriangleMesh } from '../../src/shared/mesh.js';
import { identity4 } from '../../src/shared/math/mat4.js';
import type { CaseInput } from '../../src/engine/store/validation.js';

export const CASE: CaseInput = {
  title: 'Liver resection, segment VI',
  procedure: 'laparoscopic liver resection',
  surgeon: 'Dr. A. Surgeon',
  date: '2026-11-25',
  patientRef: 'PSN-0042',
};

/** A bumpy grid surface (mm) with per-vertex colours. */
export function gridMesh(nx = 6, ny = 5): TriangleMesh {
  const positions: number[] = [];
  const colors: number[] = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      positions.push(i * 2.5, j * 2.5, 50 + Math.sin(i) * Math.cos(j));
      colors.push((i * 40) & 255, (j * 50) & 255, 128);
    }
  }
  const indices: number[] = [];
  for (let j = 0; j + 1 < ny; j++) {
    for (let i = 0; i + 1 < nx; i++) {
      const a = j * nx + i;
      indices.push(a, a + 1, a + nx, a + 1, a + nx + 1, a + nx);
    }
  }
  return {
    positions: Float32Array.from(positions),
    colors: Uint8Array.from(colors),
    indices: Uint32Array.from(indices),
  };
}

export function depthMap(width = 16, height = 12): DepthImage {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = i % 7 === 0 ? 0 : 40 + (i % 50) * 0.25;
  return { width, height, data };
}

export function poseAt(tx: number): Float64Array {
  const m = identity4();
  m[3] = tx;
  return m;
}
