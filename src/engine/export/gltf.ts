/**
 * glTF 2.0 (binary .glb or .gltf + .bin) through @gltf-transform/core.
 *
 * Units and axes: glTF specifies metres and a right-handed frame with +Y up and the default view
 * looking along -Z; NavWS meshes are millimetres in the first camera's OpenCV frame (x right,
 * y down, z forward). The vertex data are written unchanged (millimetres, exact round trip) under a
 * root node `navws_mm_opencv_to_gltf` whose transform does the conversion explicitly: scale 0.001
 * and a 180° rotation about X ((x, y, z) -> (x, -y, -z)). A viewer therefore shows the surface at
 * true size, upright, seen from the first camera; tools that read accessors directly get mm.
 */
import { Document, NodeIO, type Node as GltfNode } from '@gltf-transform/core';
import type { TriangleMesh } from '../../shared/mesh.js';
import { validateMesh } from '../../shared/mesh.js';
import type { ExportProgress } from './progress.js';

export const GLTF_ROOT_NODE = 'navws_mm_opencv_to_gltf';
/** x, y, z, w: 180° about X. */
export const OPENCV_TO_GLTF_ROTATION: [number, number, number, number] = [1, 0, 0, 0];
export const MM_TO_M = 0.001;

function buildDocument(mesh: TriangleMesh, name: string, binName?: string): Document {
  validateMesh(mesh);
  const doc = new Document();
  doc.getRoot().getAsset().generator = 'NavWS';
  const buffer = doc.createBuffer(binName);
  const position = doc
    .createAccessor('POSITION')
    .setType('VEC3')
    .setArray(Float32Array.from(mesh.positions))
    .setBuffer(buffer);
  const prim = doc.createPrimitive().setAttribute('POSITION', position);
  prim.setIndices(
    doc
      .createAccessor('indices')
      .setType('SCALAR')
      .setArray(Uint32Array.from(mesh.indices))
      .setBuffer(buffer),
  );
  if (mesh.normals) {
    prim.setAttribute(
      'NORMAL',
      doc
        .createAccessor('NORMAL')
        .setType('VEC3')
        .setArray(Float32Array.from(mesh.normals))
        .setBuffer(buffer),
    );
  }
  if (mesh.colors) {
    prim.setAttribute(
      'COLOR_0',
      doc
        .createAccessor('COLOR_0')
        .setType('VEC3')
        .setArray(Uint8Array.from(mesh.colors))
        .setNormalized(true)
        .setBuffer(buffer),
    );
  }
  // Vertex colours carry the appearance; the material only keeps the surface neutral and visible from both sides.
  prim.setMaterial(
    doc
      .createMaterial('navws_surface')
      .setBaseColorFactor([1, 1, 1, 1])
      .setRoughnessFactor(1)
      .setMetallicFactor(0)
      .setDoubleSided(true),
  );
  const gltfMesh = doc.createMesh(name).addPrimitive(prim);
  const child = doc.createNode(name).setMesh(gltfMesh);
  const root = doc
    .createNode(GLTF_ROOT_NODE)
    .setScale([MM_TO_M, MM_TO_M, MM_TO_M])
    .setRotation(OPENCV_TO_GLTF_ROTATION)
    .setExtras({
      units: 'vertex data in millimetres',
      frame: 'first camera, OpenCV (x right, y down, z forward)',
    })
    .addChild(child);
  const scene = doc.createScene('navws').addChild(root);
  doc.getRoot().setDefaultScene(scene);
  return doc;
}

export async function encodeGlb(
  mesh: TriangleMesh,
  name = 'navws_surface',
  progress?: ExportProgress,
): Promise<Uint8Array> {
  progress?.('encode', 0);
  const glb = await new NodeIO().writeBinary(buildDocument(mesh, name));
  progress?.('encode', 1);
  return glb;
}

/** Writes `file` (.gltf) and its buffer next to it (`<basename>.bin`). */
export async function writeGltf(
  file: string,
  mesh: TriangleMesh,
  name = 'navws_surface',
  progress?: ExportProgress,
): Promise<void> {
  progress?.('encode', 0);
  const base = file
    .replace(/\.gltf$/i, '')
    .split(/[\\/]/)
    .pop()!;
  await new NodeIO().write(file, buildDocument(mesh, name, `${base}.bin`));
  progress?.('encode', 1);
}

export interface DecodedGltf {
  /** Vertex data as stored (mm for NavWS files). */
  mesh: TriangleMesh;
  /** The root node's scale and rotation (x, y, z, w). */
  rootScale: [number, number, number];
  rootRotation: [number, number, number, number];
}

function decodeDocument(doc: Document): DecodedGltf {
  const scene = doc.getRoot().getDefaultScene() ?? doc.getRoot().listScenes()[0];
  const root = scene?.listChildren()[0];
  let node: GltfNode | undefined = root;
  while (node && !node.getMesh()) node = node.listChildren()[0];
  const prim = node?.getMesh()?.listPrimitives()[0];
  const pos = prim?.getAttribute('POSITION')?.getArray();
  const idx = prim?.getIndices()?.getArray();
  if (!root || !prim || !pos || !idx)
    throw new Error('glTF has no indexed triangle mesh in its default scene');
  const mesh: TriangleMesh = { positions: Float32Array.from(pos), indices: Uint32Array.from(idx) };
  const nrm = prim.getAttribute('NORMAL')?.getArray();
  if (nrm) mesh.normals = Float32Array.from(nrm);
  const col = prim.getAttribute('COLOR_0');
  if (col) {
    const arr = col.getArray()!;
    const size = col.getElementSize();
    const n = arr.length / size;
    const rgb = new Uint8Array(3 * n);
    const scale = arr instanceof Uint8Array ? 1 : arr instanceof Uint16Array ? 1 / 257 : 255;
    for (let i = 0; i < n; i++)
      for (let k = 0; k < 3; k++) rgb[3 * i + k] = Math.round(arr[size * i + k]! * scale);
    mesh.colors = rgb;
  }
  return { mesh, rootScale: root.getScale(), rootRotation: root.getRotation() };
}

export async function decodeGlb(bytes: Uint8Array): Promise<DecodedGltf> {
  return decodeDocument(await new NodeIO().readBinary(bytes));
}

export async function readGltf(file: string): Promise<DecodedGltf> {
  return decodeDocument(await new NodeIO().read(file));
}
