/**
 * Mesh export. Main entry point: `exportMesh(mesh, file, { format?, smooth?, decimate?, onProgress? })`
 * writes PLY (binary, colours), OBJ + MTL (vertex colours), STL (binary) or glTF/GLB; all in
 * millimetres in the first camera's OpenCV frame, except that glTF adds a root node converting to
 * its metres / +Y-up convention (see gltf.ts and docs/case-store.md). Readers for round trips:
 * `decodeObj`, `decodeStl`, `decodeGlb`, `readGltf` (PLY: src/engine/formats/ply.ts).
 * Processing: `taubinSmooth`, `decimateByClustering`, `decimateToTriangles`, `computeVertexNormals`.
 */
export {
  type MeshExportFormat,
  type MeshExportOptions,
  type MeshExportResult,
  exportMesh,
  formatFromPath,
  prepareMesh,
} from './export-mesh.js';
export { decimateByClustering, decimateToTriangles } from './decimate.js';
export { type TaubinOptions, taubinSmooth } from './smooth.js';
export { computeVertexNormals } from './normals.js';
export { decodeObj, encodeMtl, encodeObj } from './obj.js';
export { STL_HEADER, decodeStl, encodeStl } from './stl.js';
export {
  GLTF_ROOT_NODE,
  MM_TO_M,
  OPENCV_TO_GLTF_ROTATION,
  decodeGlb,
  encodeGlb,
  readGltf,
  writeGltf,
} from './gltf.js';
export type { ExportProgress } from './progress.js';
