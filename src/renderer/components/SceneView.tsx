/**
 * The 3D scene (Babylon.js): the fused surface as one mesh per block (a changed block replaces only its
 * own mesh), the camera trajectory as a green line, the current camera frustum, an optional point cloud
 * of the current keyframe, and measurement points picked on the surface. Rendering happens only when
 * something changed or the user is moving the view, so an idle scene costs nothing.
 */
import { useEffect, useImperativeHandle, useRef, type Ref } from 'react';
import { Engine } from '@babylonjs/core/Engines/engine.js';
import { Scene } from '@babylonjs/core/scene.js';
import { ArcRotateCamera } from '@babylonjs/core/Cameras/arcRotateCamera.js';
import { HemisphericLight } from '@babylonjs/core/Lights/hemisphericLight.js';
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial.js';
import { Color3, Color4 } from '@babylonjs/core/Maths/math.color.js';
import { Vector3 } from '@babylonjs/core/Maths/math.vector.js';
import { Mesh } from '@babylonjs/core/Meshes/mesh.js';
import { VertexData } from '@babylonjs/core/Meshes/mesh.vertexData.js';
import { CreateLineSystem, CreateLines } from '@babylonjs/core/Meshes/Builders/linesBuilder.js';
import { CreateSphere } from '@babylonjs/core/Meshes/Builders/sphereBuilder.js';
import { TransformNode } from '@babylonjs/core/Meshes/transformNode.js';
import type { LinesMesh } from '@babylonjs/core/Meshes/linesMesh.js';
import { CreateGreasedLine } from '@babylonjs/core/Meshes/Builders/greasedLineBuilder.js';
import type { GreasedLineBaseMesh } from '@babylonjs/core/Meshes/GreasedLine/greasedLineBaseMesh.js';
import { GreasedLineMeshMaterialType } from '@babylonjs/core/Materials/GreasedLine/greasedLineMaterialInterfaces.js';
import type { AbstractMesh } from '@babylonjs/core/Meshes/abstractMesh.js';
import { RegisterRay } from '@babylonjs/core/Culling/ray.pure.js';
import type { FrameBundle, MeshBlocksUpdate } from '../../shared/api/binary.js';
import type { CameraInfo } from '../../shared/api/schemas.js';
import { backproject } from '../../shared/camera.js';
import {
  fromBabylonPoint,
  poseToBabylon,
  toBabylonIndices,
  toBabylonPoint,
  toBabylonPositions,
} from '../lib/coords.js';
import { PAINT_ORDER, frameClock } from '../lib/frame-clock.js';
import { uiPerf } from '../lib/perf.js';

// scene.pick() is installed by this registration; the bundler would drop a bare side-effect import
// because the package declares itself free of side effects.
RegisterRay();

export type Vec3 = [number, number, number];

export interface SceneHandle {
  applyMesh(update: MeshBlocksUpdate): void;
  setTrajectory(positions: Vec3[]): void;
  appendTrajectory(position: Vec3): void;
  /** Frustum (and, for keyframes with depth, the point cloud) of the frame shown now. */

  showCamera(frame: FrameBundle, camera: CameraInfo | null): void;
  setMeasurePoints(points: Vec3[]): void;
  frameAll(): void;
  clear(): void;
}

interface Props {
  ref?: Ref<SceneHandle>;
  follow: boolean;
  pointCloud: boolean;
  /** Called with a surface point (world mm) when the user clicks the surface (without dragging). */
  onPick?: (point: Vec3) => void;
  label: string;
}

/**
 * Whether WebGL runs on a CPU rasteriser (SwiftShader, llvmpipe): no hardware GPU, or one the browser
 * refused. Decided once per page from a throwaway context.
 */
let softwareWebGlCache: boolean | null = null;
export function softwareWebGl(): boolean {
  if (softwareWebGlCache !== null) return softwareWebGlCache;
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl?.getExtension('WEBGL_debug_renderer_info');
  const renderer = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
  gl?.getExtension('WEBGL_lose_context')?.loseContext();
  softwareWebGlCache = /swiftshader|llvmpipe|software/i.test(renderer);
  return softwareWebGlCache;
}

const BACKGROUND = new Color4(0.03, 0.04, 0.06, 1);
const TRAJECTORY_GREEN = new Color3(0.1, 1, 0.25);
const FRUSTUM_COLOR = new Color3(1, 0.85, 0.2);
const FRUSTUM_DEPTH_MM = 12;
/** 3D redraws for streamed data: 15 Hz reads as smooth for a growing surface and a moving frustum. */
const DATA_RENDER_INTERVAL_MS = 66;
/** Frames arrive on a 33 ms grid: a render due a few ms early goes with the frame at hand. */
const RENDER_SLACK_MS = 8;
/** Video paint latency (mean of the last 30 frames) above which the 3D view gives up resolution. */
const LATE_VIDEO_MS = 33;
const ON_TIME_VIDEO_MS = 20;
/**
 * 3D render resolution divisor (Babylon's hardware scaling level) range. A CPU rasteriser starts at half
 * resolution per axis: the video, the surgeon's primary view, keeps its frame rate, and the 3D view stays
 * readable.
 */
const SCALING = { gpu: { min: 1, max: 2 }, software: { min: 2, max: 3 } } as const;

interface BlockGeometry {
  chunk: string;
  positions: Float32Array;
  indices: Uint32Array;
  normals: Float32Array;
  colors: Float32Array;
}

// A light from above (world +y in Babylon's axes, tilted towards the viewer) over a darker ground.
const SKY_DIRECTION = new Vector3(0, 1, -0.3).normalize();
const SKY_INTENSITY = 1.1;
const GROUND_COLOR = new Color3(0.35, 0.35, 0.4);

/**
 * Vertex colours (RGB8, or white) lit by the hemisphere light, as RGBA floats. Baked per vertex rather
 * than lit per pixel: the surface's triangles are about a voxel across, so the two look the same,
 * while the per-pixel lighting shader was the largest part of a 3D redraw on a software renderer.
 * The light is fixed in the world (Babylon's hemispheric light is too), so orbiting needs no re-bake.
 */
export function bakeHemisphereLight(rgb: Uint8Array | null, normals: Float32Array): Float32Array {
  const n = normals.length / 3;
  const out = new Float32Array(n * 4);
  const { x: lx, y: ly, z: lz } = SKY_DIRECTION;
  for (let v = 0; v < n; v++) {
    // Babylon's hemispheric term: mix(ground, sky, 0.5 + 0.5 n.l); normals face the observed side.
    const ndl = normals[3 * v]! * lx + normals[3 * v + 1]! * ly + normals[3 * v + 2]! * lz;
    const t = 0.5 + 0.5 * ndl;
    for (let c = 0; c < 3; c++) {
      const ground = c === 0 ? GROUND_COLOR.r : c === 1 ? GROUND_COLOR.g : GROUND_COLOR.b;
      const light = (ground + (1 - ground) * t) * SKY_INTENSITY;
      const albedo = rgb ? rgb[3 * v + c]! / 255 : 1;
      out[4 * v + c] = Math.min(1, albedo * light);
    }
    out[4 * v + 3] = 1;
  }
  return out;
}

/** Blocks per chunk edge: 4^3 fusion blocks (32 mm at 1 mm voxels) share a draw call. */
const CHUNK_BLOCKS = 4;

/** The chunk of a block key "bx,by,bz" (fusion's format); any other key is a chunk of its own. */
export function chunkOf(key: string): string {
  const parts = key.split(',');
  if (parts.length !== 3) return key;
  const c = parts.map((p) => Math.floor(Number(p) / CHUNK_BLOCKS));
  return c.every(Number.isInteger) ? c.join(',') : key;
}

class SceneController {
  readonly engine: Engine;
  readonly scene: Scene;
  readonly camera: ArcRotateCamera;
  private readonly surfaceMaterial: StandardMaterial;
  /** Geometry of every fusion block (Babylon axes), drawn through the chunk meshes below. */
  private readonly blocks = new Map<string, BlockGeometry>();
  private readonly chunkBlocks = new Map<string, Set<string>>();
  private readonly chunks = new Map<string, Mesh>();
  private trajectory: Vec3[] = [];
  private trajectoryLine: GreasedLineBaseMesh | null = null;
  private trajectoryWidth = 0;
  private trajectoryDirty = false;
  private readonly frustumNode: TransformNode;
  private frustum: LinesMesh | null = null;
  private frustumKey = '';
  private cloud: Mesh | null = null;
  private readonly cloudMaterial: StandardMaterial;
  private measure: Mesh[] = [];
  private activeUntil = 0;
  private dirty = true;
  private lastRender = 0;
  private lastAdapt = 0;
  private readonly unregister: () => void;
  private readonly scaling: { min: number; max: number };
  private interactingUntil = 0;
  private get interacting(): boolean {
    return performance.now() < this.interactingUntil;
  }
  /** Keeps the whole scene in view as it grows, until the user moves the view. */
  private autoFit = true;
  private lastFit = 0;
  follow = false;
  pointCloud = false;
  private lastPose: { position: Vector3; forward: Vector3; up: Vector3 } | null = null;

  constructor(canvas: HTMLCanvasElement) {
    // Multisampling quadruples the fragment work; on a software renderer that alone took a core.
    const software = softwareWebGl();
    const antialias = !software;
    this.scaling = software ? SCALING.software : SCALING.gpu;
    this.engine = new Engine(
      canvas,
      antialias,
      { preserveDrawingBuffer: false, stencil: false, antialias },
      false,
    );
    this.engine.setHardwareScalingLevel(this.scaling.min);
    this.scene = new Scene(this.engine);
    this.scene.clearColor = BACKGROUND;
    this.scene.skipPointerMovePicking = true;
    this.camera = new ArcRotateCamera('view', -Math.PI / 2, Math.PI / 2.4, 150, Vector3.Zero(), this.scene);
    this.camera.minZ = 0.5;
    this.camera.maxZ = 10000;
    this.camera.wheelDeltaPercentage = 0.02;
    this.camera.panningSensibility = 20;
    this.camera.lowerRadiusLimit = 5;
    this.camera.attachControl(true);
    // The surface's light is baked into its vertex colours (bakeHemisphereLight); the scene light is
    // for anything else that is lit.
    const light = new HemisphericLight('light', SKY_DIRECTION, this.scene);
    light.intensity = SKY_INTENSITY;
    light.groundColor = GROUND_COLOR;
    this.surfaceMaterial = new StandardMaterial('surface', this.scene);
    this.surfaceMaterial.backFaceCulling = false;
    // Unlit: the colour is the vertex colour (emissive white times the vertex colour, diffuse off).
    this.surfaceMaterial.disableLighting = true;
    this.surfaceMaterial.emissiveColor = Color3.White();
    this.cloudMaterial = new StandardMaterial('cloud', this.scene);
    this.cloudMaterial.pointsCloud = true;
    this.cloudMaterial.pointSize = 2;
    this.cloudMaterial.disableLighting = true;
    this.cloudMaterial.emissiveColor = Color3.White();
    this.frustumNode = new TransformNode('frustum-node', this.scene);
    this.compileShaders();
    for (const type of ['pointerdown', 'pointermove', 'wheel', 'keydown']) {
      canvas.addEventListener(
        type,
        () => {
          this.touch(1500);
          this.interactingUntil = performance.now() + 1500;
        },
        { passive: true },
      );
    }
    for (const type of ['pointerdown', 'wheel']) {
      canvas.addEventListener(type, () => (this.autoFit = false), { passive: true });
    }
    // A lost WebGL context (GPU reset, a starved software GPU) comes back empty: draw again once
    // Babylon has restored it, since this view only draws when something changed.
    this.engine.onContextRestoredObservable.add(() => this.touch(500));
    this.unregister = frameClock.add(this.painter, PAINT_ORDER.scene);
    frameClock.request(this.painter);
  }

  /**
   * Draws on the shared frame clock, in the same animation frame as the video. Streamed data redraws
   * at most every DATA_RENDER_INTERVAL_MS so the video keeps its 30 fps on a slow GPU; the user's own
   * camera moves (and their inertia) redraw at the display rate.
   */
  private readonly painter = (now: number): void => {
    if (!this.dirty && now >= this.activeUntil) return;
    if (!this.interacting && now - this.lastRender < DATA_RENDER_INTERVAL_MS - RENDER_SLACK_MS) {
      frameClock.request(this.painter);
      return;
    }
    const began = performance.now();
    if (this.trajectoryDirty) this.rebuildTrajectory();
    this.lastRender = now;
    this.dirty = false;
    this.engine.beginFrame();
    this.scene.render();
    this.engine.endFrame();
    uiPerf.work('scene', performance.now() - began);
    this.adaptResolution(now);
    if (now < this.activeUntil) frameClock.request(this.painter);
  };

  /**
   * Shader programs compile on first use, which on a software renderer stalls the page for ~100 ms per
   * program: draw one of each kind of object here, while the view is idle, so the first frames of a run
   * do not stall.
   */
  private compileShaders(): void {
    const tiny = 1e-3;
    const surface = new Mesh('warm-up surface', this.scene);
    const data = new VertexData();
    data.positions = [0, 0, 0, tiny, 0, 0, 0, tiny, 0];
    data.indices = new Uint32Array([0, 1, 2]); // 32-bit, as the surface chunks: another index type is another pipeline
    data.normals = [0, 0, -1, 0, 0, -1, 0, 0, -1];
    data.colors = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    data.applyToMesh(surface);
    surface.material = this.surfaceMaterial;
    const lines = CreateLineSystem(
      'warm-up lines',
      { lines: [[Vector3.Zero(), new Vector3(tiny, 0, 0)]] },
      this.scene,
    );
    const ribbon = CreateGreasedLine(
      'warm-up ribbon',
      { points: [[0, 0, 0, tiny, 0, 0]] },
      {
        materialType: GreasedLineMeshMaterialType.MATERIAL_TYPE_SIMPLE,
        color: TRAJECTORY_GREEN,
        width: tiny,
      },
      this.scene,
    );
    // Programs may link in the background (parallel shader compilation): keep drawing until all are ready.
    // Then hidden, not disposed: a compiled program is released with the last mesh that uses it.
    this.scene.executeWhenReady(() => {
      for (const m of [surface, lines, ribbon]) {
        m.isPickable = false;
        m.setEnabled(false);
      }
      this.touch();
    });
    this.touch(2000);
  }

  /**
   * Dynamic resolution: when video frames reach the screen late (a slow or software GPU), render the
   * 3D view at fewer pixels rather than let the video, the surgeon's primary view, fall behind;
   * restore the resolution when it recovers.
   */
  private adaptResolution(now: number): void {
    if (now - this.lastAdapt < 1000) return;
    this.lastAdapt = now;
    // Only the last second's paints count: without a stream (review, a finished run) nothing is late.
    const latency = uiPerf.recentLatency() ?? 0;
    const level = this.engine.getHardwareScalingLevel();
    const { min, max } = this.scaling;
    if (latency > LATE_VIDEO_MS && level < max)
      this.engine.setHardwareScalingLevel(Math.min(max, level + 0.5));
    else if (latency < ON_TIME_VIDEO_MS && level > min)
      this.engine.setHardwareScalingLevel(Math.max(min, level - 0.5));
  }

  /** Something changed: render once more, and keep rendering for `ms` (camera inertia after input). */
  touch(ms = 0): void {
    this.dirty = true;
    this.activeUntil = Math.max(this.activeUntil, performance.now() + ms);
    frameClock.request(this.painter);
  }

  applyMesh(update: MeshBlocksUpdate): void {
    const began = performance.now();
    const dirty = new Set<string>();
    const drop = (key: string): void => {
      const block = this.blocks.get(key);
      if (!block) return;
      this.blocks.delete(key);
      this.chunkBlocks.get(block.chunk)?.delete(key);
      dirty.add(block.chunk);
    };
    if (update.reset) {
      const keep = new Set(update.changed.map((b) => b.key));
      for (const key of [...this.blocks.keys()]) if (!keep.has(key)) drop(key);
    }
    for (const key of update.removed) drop(key);
    for (const { key, mesh } of update.changed) {
      drop(key);
      if (mesh.indices.length === 0) continue;
      const positions = toBabylonPositions(mesh.positions);
      const indices = toBabylonIndices(mesh.indices);
      const normals = new Float32Array(positions.length);
      VertexData.ComputeNormals(positions, indices, normals);
      const colors = bakeHemisphereLight(mesh.colors ?? null, normals);
      const chunk = chunkOf(key);
      this.blocks.set(key, { chunk, positions, indices, normals, colors });
      let members = this.chunkBlocks.get(chunk);
      if (!members) this.chunkBlocks.set(chunk, (members = new Set()));
      members.add(key);
      dirty.add(chunk);
    }
    for (const chunk of dirty) this.rebuildChunk(chunk);
    this.fitIfAuto();
    this.touch();
    uiPerf.work('mesh', performance.now() - began);
  }

  /**
   * One Babylon mesh per chunk of blocks: a draw call per fusion block (hundreds in a long case) cost
   * more than the triangles on a software renderer, while re-uploading a whole chunk for one changed
   * block is still a small, bounded upload.
   */
  private rebuildChunk(chunk: string): void {
    this.chunks.get(chunk)?.dispose();
    this.chunks.delete(chunk);
    const members = [...(this.chunkBlocks.get(chunk) ?? [])].map((key) => this.blocks.get(key)!);
    if (members.length === 0) {
      this.chunkBlocks.delete(chunk);
      return;
    }
    let vertices = 0;
    let indexCount = 0;
    for (const b of members) {
      vertices += b.positions.length / 3;
      indexCount += b.indices.length;
    }
    const data = new VertexData();
    const positions = new Float32Array(vertices * 3);
    const normals = new Float32Array(vertices * 3);
    const colors = new Float32Array(vertices * 4);
    const indices = new Uint32Array(indexCount);
    let v = 0;
    let t = 0;
    for (const b of members) {
      positions.set(b.positions, v * 3);
      normals.set(b.normals, v * 3);
      colors.set(b.colors, v * 4);
      for (let i = 0; i < b.indices.length; i++) indices[t + i] = b.indices[i]! + v;
      v += b.positions.length / 3;
      t += b.indices.length;
    }
    data.positions = positions;
    data.normals = normals;
    data.colors = colors;
    data.indices = indices;
    const mesh = new Mesh(`surface:${chunk}`, this.scene);
    data.applyToMesh(mesh, false);
    mesh.material = this.surfaceMaterial;
    mesh.metadata = { surface: true };
    mesh.freezeWorldMatrix();
    this.chunks.set(chunk, mesh);
  }

  setTrajectory(points: Vec3[]): void {
    this.trajectory = points.slice();
    this.trajectoryDirty = true;
    this.touch();
  }

  appendTrajectory(p: Vec3): void {
    this.trajectory.push(p);
    this.trajectoryDirty = true;
    this.touch();
  }

  private rebuildTrajectory(): void {
    this.trajectoryDirty = false;
    if (this.trajectory.length < 2) {
      this.trajectoryLine?.dispose();
      this.trajectoryLine = null;
      return;
    }
    const flat: number[] = [];
    for (const p of this.trajectory) flat.push(p[0], -p[1], p[2]);
    // A ribbon with a width in scene units (mm) reads at a distance where a 1-pixel line does not.
    const width = Math.max(0.3, this.sceneSize() * 0.008);
    if (this.trajectoryLine && Math.abs(width - this.trajectoryWidth) < 0.25 * this.trajectoryWidth) {
      this.trajectoryLine.setPoints([flat]);
    } else {
      this.trajectoryLine?.dispose();
      this.trajectoryLine = CreateGreasedLine(
        'trajectory',
        { points: [flat], updatable: true },
        { materialType: GreasedLineMeshMaterialType.MATERIAL_TYPE_SIMPLE, color: TRAJECTORY_GREEN, width },
        this.scene,
      );
      this.trajectoryLine.isPickable = false;
      this.trajectoryWidth = width;
    }
    this.fitIfAuto();
  }

  private sceneSize(): number {
    const box = this.bounds();
    return box ? Math.max(10, box.max.subtract(box.min).length()) : 10;
  }

  private fitIfAuto(): void {
    const now = performance.now();
    if (!this.autoFit || this.follow || now - this.lastFit < 250) return;
    this.lastFit = now;
    this.frameAll(false);
  }

  showCamera(frame: FrameBundle, camera: CameraInfo | null): void {
    if (!frame.pose) {
      this.frustumNode.setEnabled(false);
      this.touch();
      return;
    }
    const { width, height } = frame.rgb;
    const k = camera ?? {
      width,
      height,
      fx: width * 0.8,
      fy: width * 0.8,
      cx: (width - 1) / 2,
      cy: (height - 1) / 2,
    };
    const key = `${k.width}x${k.height}:${k.fx}:${k.fy}:${k.cx}:${k.cy}`;
    if (key !== this.frustumKey) {
      this.frustum?.dispose();
      const z = FRUSTUM_DEPTH_MM;
      const corners = [
        backproject(k, -0.5, -0.5, z),
        backproject(k, k.width - 0.5, -0.5, z),
        backproject(k, k.width - 0.5, k.height - 0.5, z),
        backproject(k, -0.5, k.height - 0.5, z),
      ].map((c) => toBabylonPoint(c));
      const o = Vector3.Zero();
      const lines = [
        [o, corners[0]!],
        [o, corners[1]!],
        [o, corners[2]!],
        [o, corners[3]!],
        [corners[0]!, corners[1]!, corners[2]!, corners[3]!, corners[0]!],
        // A tick on the image's top edge shows which way is up in the video.
        [
          corners[0]!.add(corners[1]!).scale(0.5),
          corners[0]!
            .add(corners[1]!)
            .scale(0.5)
            .add(new Vector3(0, 2.5, 0)),
        ],
      ];
      this.frustum = CreateLineSystem('frustum', { lines }, this.scene);
      this.frustum.color = FRUSTUM_COLOR;
      this.frustum.isPickable = false;
      this.frustum.parent = this.frustumNode;
      this.frustumKey = key;
    }
    const { position, rotation } = poseToBabylon(frame.pose);
    this.frustumNode.setEnabled(true);
    this.frustumNode.position = position;
    this.frustumNode.rotationQuaternion = rotation;
    const forward = toBabylonPoint([frame.pose[2]!, frame.pose[6]!, frame.pose[10]!]);
    const up = toBabylonPoint([-frame.pose[1]!, -frame.pose[5]!, -frame.pose[9]!]);
    this.lastPose = { position, forward, up };
    if (this.follow) this.followCamera();
    if (this.pointCloud && frame.isKeyframe && frame.depth) this.showPointCloud(frame, k);
    if (!this.pointCloud && this.cloud) {
      this.cloud.dispose();
      this.cloud = null;
    }
    this.touch();
  }

  followCamera(): void {
    const p = this.lastPose;
    if (!p) return;
    // Just behind and above the endoscope tip, looking where it looks.
    const eye = p.position.subtract(p.forward.scale(35)).add(p.up.scale(12));
    this.camera.setTarget(p.position.add(p.forward.scale(40)));
    this.camera.setPosition(eye);
    this.touch();
  }

  private showPointCloud(frame: FrameBundle, k: CameraInfo): void {
    const depth = frame.depth!;
    const pose = frame.pose!;
    const step = 4;
    const positions: number[] = [];
    const colors: number[] = [];
    for (let v = 0; v < depth.height; v += step) {
      for (let u = 0; u < depth.width; u += step) {
        const i = v * depth.width + u;
        const d = depth.data[i]!;
        if (!(d > 0)) continue;
        const c = backproject(k, u, v, d);
        const x = pose[0]! * c[0] + pose[1]! * c[1] + pose[2]! * c[2] + pose[3]!;
        const y = pose[4]! * c[0] + pose[5]! * c[1] + pose[6]! * c[2] + pose[7]!;
        const z = pose[8]! * c[0] + pose[9]! * c[1] + pose[10]! * c[2] + pose[11]!;
        positions.push(x, -y, z);
        colors.push(
          frame.rgb.data[i * 3]! / 255,
          frame.rgb.data[i * 3 + 1]! / 255,
          frame.rgb.data[i * 3 + 2]! / 255,
          1,
        );
      }
    }
    this.cloud?.dispose();
    const cloud = new Mesh('keyframe-cloud', this.scene);
    const data = new VertexData();
    data.positions = positions;
    data.colors = colors;
    data.indices = positions.map((_, i) => i).slice(0, positions.length / 3);
    data.applyToMesh(cloud);
    cloud.material = this.cloudMaterial;
    cloud.isPickable = false;
    this.cloud = cloud;
  }

  setMeasurePoints(points: Vec3[]): void {
    for (const m of this.measure) m.dispose(false, true);
    this.measure = [];
    const bp = points.map(toBabylonPoint);
    for (const p of bp) {
      const s = CreateSphere('measure-point', { diameter: 1.6, segments: 12 }, this.scene);
      s.position = p;
      s.isPickable = false;
      // Drawn over the surface (own rendering group), so a measurement is never hidden by the mesh.
      s.renderingGroupId = 1;
      const mat = new StandardMaterial('measure-mat', this.scene);
      mat.emissiveColor = new Color3(1, 0.2, 0.9);
      mat.disableLighting = true;
      s.material = mat;
      this.measure.push(s);
    }
    if (bp.length === 2) {
      const line = CreateLines('measure-line', { points: bp }, this.scene);
      line.color = new Color3(1, 0.2, 0.9);
      line.isPickable = false;
      line.renderingGroupId = 1;
      this.measure.push(line);
    }
    this.touch();
  }

  private bounds(): { min: Vector3; max: Vector3 } | null {
    let min: Vector3 | null = null;
    let max: Vector3 | null = null;
    for (const m of this.chunks.values()) {
      const b = m.getBoundingInfo().boundingBox;
      min = min ? Vector3.Minimize(min, b.minimumWorld) : b.minimumWorld.clone();
      max = max ? Vector3.Maximize(max, b.maximumWorld) : b.maximumWorld.clone();
    }
    for (const p of this.trajectory) {
      const v = toBabylonPoint(p);
      min = min ? Vector3.Minimize(min, v) : v.clone();
      max = max ? Vector3.Maximize(max, v) : v.clone();
    }
    return min && max ? { min, max } : null;
  }

  /** Frames everything; `userAsked` also resumes following the growing scene. */
  frameAll(userAsked = true): void {
    if (userAsked) this.autoFit = true;
    const box = this.bounds();
    if (!box) return;
    const center = box.min.add(box.max).scale(0.5);
    const size = Math.max(10, box.max.subtract(box.min).length());
    this.camera.setTarget(center);
    // Seen from behind and above the first camera (world origin), the way the endoscope saw the scene.
    this.camera.alpha = -Math.PI / 2;
    this.camera.beta = Math.PI / 2.6;
    this.camera.radius = size * 1.2;
    this.touch(200);
  }

  pick(x: number, y: number): Vec3 | null {
    const hit = this.scene.pick(
      x,
      y,
      (m: AbstractMesh) => (m.metadata as { surface?: boolean } | null)?.surface === true,
    );
    return hit?.hit && hit.pickedPoint ? fromBabylonPoint(hit.pickedPoint) : null;
  }

  clear(): void {
    for (const m of this.chunks.values()) m.dispose();
    this.chunks.clear();
    this.chunkBlocks.clear();
    this.blocks.clear();
    this.trajectory = [];
    this.trajectoryDirty = true;
    this.frustumNode.setEnabled(false);
    this.cloud?.dispose();
    this.cloud = null;
    this.setMeasurePoints([]);
    this.autoFit = true;
    this.lastPose = null;
    this.touch();
  }

  dispose(): void {
    this.unregister();
    this.scene.dispose();
    this.engine.dispose();
  }
}

export function SceneView({ ref, follow, pointCloud, onPick, label }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const controller = useRef<SceneController | null>(null);
  const onPickRef = useRef(onPick);
  onPickRef.current = onPick;

  useEffect(() => {
    const canvas = canvasRef.current!;
    const c = new SceneController(canvas);
    controller.current = c;
    const resize = new ResizeObserver(() => {
      c.engine.resize();
      c.touch();
    });
    resize.observe(canvas);
    let down: { x: number; y: number } | null = null;
    const onDown = (e: PointerEvent): void => {
      down = { x: e.offsetX, y: e.offsetY };
    };
    const onUp = (e: PointerEvent): void => {
      if (!down || Math.hypot(e.offsetX - down.x, e.offsetY - down.y) > 4) return;
      down = null;
      if (!onPickRef.current) return;
      const p = c.pick(e.offsetX, e.offsetY);
      if (p) onPickRef.current(p);
    };
    canvas.addEventListener('pointerdown', onDown);
    canvas.addEventListener('pointerup', onUp);
    return () => {
      resize.disconnect();
      canvas.removeEventListener('pointerdown', onDown);
      canvas.removeEventListener('pointerup', onUp);
      c.dispose();
      controller.current = null;
    };
  }, []);

  useEffect(() => {
    if (!controller.current) return;
    controller.current.follow = follow;
    if (follow) controller.current.followCamera();
  }, [follow]);

  useEffect(() => {
    if (controller.current) controller.current.pointCloud = pointCloud;
  }, [pointCloud]);

  useImperativeHandle(ref, () => ({
    applyMesh: (u) => controller.current?.applyMesh(u),
    setTrajectory: (p) => controller.current?.setTrajectory(p),
    appendTrajectory: (p) => controller.current?.appendTrajectory(p),
    showCamera: (f, k) => controller.current?.showCamera(f, k),
    setMeasurePoints: (p) => controller.current?.setMeasurePoints(p),
    frameAll: () => controller.current?.frameAll(),
    clear: () => controller.current?.clear(),
  }));

  return (
    <section className="panel scene-panel" aria-label={label}>
      <canvas
        ref={canvasRef}
        className="scene-canvas"
        data-testid="scene-canvas"
        tabIndex={0}
        aria-label="3D scene: drag to orbit, wheel to zoom"
      />
    </section>
  );
}
