/**
 * What NavWS sends over OpenIGTLink, in which frame. NavWS' world is the first camera's frame (OpenCV:
 * x right, y down, z forward; mm). 3D Slicer works in RAS. NavWS has no registration to the patient,
 * so it sends the world with a fixed axis mapping chosen so that Slicer's default *Anterior* 3D view
 * shows what the first camera saw, upright (radiological convention, patient's left on the viewer's
 * right):
 *   R = -x_cam   (image right -> patient left)
 *   A = -z_cam   (the viewing direction points posterior)
 *   S = -y_cam   (image up -> superior)
 * `lps` sends the same world in LPS (L = -R, P = -A), for peers that work in LPS (ITK, DICOM).
 * Poses are sent as camera-to-RAS (or -LPS): p_ras = W * T_world_camera * p_camera, with W below; the
 * camera axes themselves stay OpenCV's (the transform's columns are the camera's x, y, z axes).
 */
import { type Mat4, multiply4, transformPositions } from '../../shared/math/mat4.js';
import type { TriangleMesh } from '../../shared/mesh.js';

export type IgtlFrame = 'ras' | 'lps';

/** World (first camera) -> RAS. */
const WORLD_TO_RAS: Mat4 = Float64Array.from([-1, 0, 0, 0, 0, 0, -1, 0, 0, -1, 0, 0, 0, 0, 0, 1]);
/** World (first camera) -> LPS. */
const WORLD_TO_LPS: Mat4 = Float64Array.from([1, 0, 0, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1]);

export function worldToFrame(frame: IgtlFrame): Mat4 {
  return (frame === 'ras' ? WORLD_TO_RAS : WORLD_TO_LPS).slice();
}

/** The camera-to-world pose expressed as camera-to-RAS (or -LPS). */
export function poseInFrame(cameraToWorld: Mat4, frame: IgtlFrame): Mat4 {
  return multiply4(worldToFrame(frame), cameraToWorld);
}

/** A world-frame direction (e.g. a camera axis) in the sent frame. */
export function directionInFrame(
  v: readonly [number, number, number],
  frame: IgtlFrame,
): [number, number, number] {
  const w = worldToFrame(frame);
  return [0, 1, 2].map((r) => w[r * 4]! * v[0] + w[r * 4 + 1]! * v[1] + w[r * 4 + 2]! * v[2]) as [
    number,
    number,
    number,
  ];
}

/**
 * The mesh's vertices in the sent frame (a new positions array; the mapping is a signed axis
 * permutation, so it is exact in float32). Triangles keep their order: the mapping is a rotation.
 */
export function positionsInFrame(mesh: TriangleMesh, frame: IgtlFrame): Float32Array {
  return transformPositions(worldToFrame(frame), mesh.positions);
}
