/**
 * NavWS world coordinates (OpenCV: x right, y down, z forward, right-handed, mm) to Babylon's
 * left-handed y-up frame: negate y. That reflection flips handedness, so triangle winding is
 * reversed with it, and poses become S*M*S (S = diag(1,-1,1)), which stays a proper rotation.
 */
import { Matrix, Quaternion, Vector3 } from '@babylonjs/core/Maths/math.vector.js';

export function toBabylonPositions(src: Float32Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    out[i] = src[i]!;
    out[i + 1] = -src[i + 1]!;
    out[i + 2] = src[i + 2]!;
  }
  return out;
}

export function toBabylonIndices(src: Uint32Array): Uint32Array {
  const out = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    out[i] = src[i]!;
    out[i + 1] = src[i + 2]!;
    out[i + 2] = src[i + 1]!;
  }
  return out;
}

export function toBabylonPoint(p: ArrayLike<number>): Vector3 {
  return new Vector3(p[0]!, -p[1]!, p[2]!);
}

export function fromBabylonPoint(v: Vector3): [number, number, number] {
  return [v.x, -v.y, v.z];
}

/** Position and orientation of a camera-to-world pose (row-major, column vectors) in Babylon. */
export function poseToBabylon(pose: ArrayLike<number>): { position: Vector3; rotation: Quaternion } {
  const s = [1, -1, 1];
  // Babylon's matrices are row-vector (translation in the last row): the transpose of S*M*S.
  const m = new Array<number>(16).fill(0);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) m[c * 4 + r] = s[r]! * pose[r * 4 + c]! * s[c]!;
  }
  m[12] = pose[3]!;
  m[13] = -pose[7]!;
  m[14] = pose[11]!;
  m[15] = 1;
  const matrix = Matrix.FromArray(m);
  const rotation = new Quaternion();
  const position = new Vector3();
  matrix.decompose(undefined, rotation, position);
  return { position, rotation };
}
