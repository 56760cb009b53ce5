/** The live surface as one mesh: fusion delivers it in blocks, OpenIGTLink sends it whole. */
import type { TriangleMesh } from '../../shared/mesh.js';

/** Concatenates meshes (colours kept only when every block has them; normals are not sent). */
export function mergeMeshes(blocks: readonly TriangleMesh[]): TriangleMesh {
  if (blocks.length === 1) return blocks[0]!;
  let nv = 0;
  let ni = 0;
  for (const b of blocks) {
    nv += b.positions.length;
    ni += b.indices.length;
  }
  const positions = new Float32Array(nv);
  const indices = new Uint32Array(ni);
  const withColours = blocks.length > 0 && blocks.every((b) => b.colors);
  const colors = withColours ? new Uint8Array(nv) : undefined;
  let v = 0;
  let i = 0;
  for (const b of blocks) {
    positions.set(b.positions, v);
    if (colors) colors.set(b.colors!, v);
    const base = v / 3;
    for (let k = 0; k < b.indices.length; k++) indices[i + k] = b.indices[k]! + base;
    v += b.positions.length;
    i += b.indices.length;
  }
  return colors ? { positions, indices, colors } : { positions, indices };
}
