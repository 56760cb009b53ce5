/** An indexed triangle mesh in millimetres, in the world frame of its reconstruction (first camera). */
export interface TriangleMesh {
  /** xyz per vertex, mm. */
  positions: Float32Array;
  /** Unit normal per vertex (optional). */
  normals?: Float32Array;
  /** 8-bit RGB per vertex (optional). */
  colors?: Uint8Array;
  /** Three vertex indices per triangle, counter-clockwise seen from outside (the side the camera saw). */
  indices: Uint32Array;
}

export function vertexCount(mesh: TriangleMesh): number {
  return mesh.positions.length / 3;
}

export function triangleCount(mesh: TriangleMesh): number {
  return mesh.indices.length / 3;
}

export function validateMesh(mesh: TriangleMesh, what = 'mesh'): void {
  const n = mesh.positions.length / 3;
  if (!Number.isInteger(n))
    throw new RangeError(`${what}: positions length ${mesh.positions.length} is not a multiple of 3`);
  if (mesh.normals && mesh.normals.length !== mesh.positions.length) {
    throw new RangeError(`${what}: ${mesh.normals.length / 3} normals for ${n} vertices`);
  }
  if (mesh.colors && mesh.colors.length !== mesh.positions.length) {
    throw new RangeError(`${what}: ${mesh.colors.length / 3} colours for ${n} vertices`);
  }
  if (mesh.indices.length % 3 !== 0)
    throw new RangeError(`${what}: index count ${mesh.indices.length} is not a multiple of 3`);
  for (let i = 0; i < mesh.indices.length; i++) {
    if (mesh.indices[i]! >= n)
      throw new RangeError(
        `${what}: triangle ${Math.floor(i / 3)} refers to vertex ${mesh.indices[i]} of ${n}`,
      );
  }
}
