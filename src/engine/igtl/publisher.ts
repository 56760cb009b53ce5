/**
 * Turns what a reconstruction produces into OpenIGTLink messages (docs/openigtlink.md):
 *   TRANSFORM  NavWS-CameraToRAS  every frame with a pose: camera (OpenCV axes) -> RAS, mm (coordinates.ts)
 *   IMAGE      NavWS-Video        the video frame, RGB uint8, at most `imageMaxHz`
 *   IMAGE      NavWS-Depth        the depth map, float32 mm (0 = unknown), when `sendDepth`
 *   POLYDATA   NavWS-Surface      the fused surface, decimated to `meshMaxTriangles`, at most every `meshIntervalS`
 *   STATUS     NavWS-Tracking     on every change of the tracking state (OK while tracking)
 * Timestamps come from the capture clock: the wall-clock time at which the run's first frame arrived,
 * plus the frame's presentation time, so messages of one frame share one stamp and the spacing between
 * stamps is the source's own. Every call returns at once: images are copied (the pipeline hands its
 * buffers on to workers), encoding waits for the server's next turn, and the surface is decimated and
 * packed in a worker thread, one job at a time.
 */
import type { DepthImage, RgbImage } from '../../shared/frames.js';
import type { Mat4 } from '../../shared/math/mat4.js';
import type { TriangleMesh } from '../../shared/mesh.js';
import { WorkerClient } from '../../workers/rpc.js';
import type { TrackingState } from '../pipeline/events.js';
import { type IgtlFrame, directionInFrame, poseInFrame } from './coordinates.js';
import {
  type ImageGeometry,
  STATUS_NOT_READY,
  STATUS_OK,
  depthImageContent,
  rgbImageContent,
  statusContent,
  transformContent,
} from './messages.js';
import type { IgtlServer } from './server.js';
import type { SurfaceHandlers } from './surface.worker.js';

export interface IgtlStreamSettings {
  /** Frame of everything sent (coordinates.ts). */
  frame: IgtlFrame;
  sendImage: boolean;
  sendDepth: boolean;
  imageMaxHz: number;
  meshMaxTriangles: number;
  meshIntervalS: number;
}

export const DEFAULT_IGTL_PORT = 18944;

export const DEFAULT_IGTL_SETTINGS: IgtlStreamSettings = {
  frame: 'ras',
  sendImage: true,
  sendDepth: false,
  imageMaxHz: 30,
  meshMaxTriangles: 50_000,
  meshIntervalS: 2,
};

export const IGTL_DEVICES = {
  pose: (frame: IgtlFrame): string => (frame === 'ras' ? 'NavWS-CameraToRAS' : 'NavWS-CameraToLPS'),
  video: 'NavWS-Video',
  depth: 'NavWS-Depth',
  surface: 'NavWS-Surface',
  tracking: 'NavWS-Tracking',
} as const;

/** STATUS code for tracking lost: the camera's pose is not present. */
export const STATUS_NOT_PRESENT = 16;

export function trackingStatus(state: TrackingState, frameIndex: number) {
  const subcode = BigInt(frameIndex);
  switch (state) {
    case 'tracking':
      return { code: STATUS_OK, subcode, errorName: '', message: 'tracking' };
    case 'relocalised':
      return { code: STATUS_OK, subcode, errorName: '', message: 'relocalised' };
    case 'initialising':
      return { code: STATUS_NOT_READY, subcode, errorName: 'INITIALISING', message: 'tracking initialising' };
    case 'lost':
      return { code: STATUS_NOT_PRESENT, subcode, errorName: 'TRACKING_LOST', message: 'tracking lost' };
  }
}

/** One processed frame, as the pipeline (FrameEvent) or the engine service (FrameBundle) reports it. */
export interface IgtlFrameInput {
  index: number;
  /** Presentation time in the source (s). */
  timestamp: number;
  /** Null where the video is not available (a replay without its dataset). */
  rgb: RgbImage | null;
  depth: DepthImage | null;
  /** Camera-to-world, mm; null while tracking is lost. */
  pose: Mat4 | null;
  trackingState: TrackingState;
  /** performance.now() when the frame was captured (entered the pipeline), for latency figures. */
  capturedAtMs?: number;
}

export interface IgtlSurfaceUpdate {
  reset: boolean;
  changed: { key: string; mesh: TriangleMesh }[];
  removed: string[];
}

export interface IgtlPublisherOptions {
  /** Epoch of the capture clock (s since the Unix epoch at presentation time 0); default: set by the first frame. */
  epochS?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export class IgtlPublisher {
  private epochS: number | null;
  private lastState: TrackingState | null = null;
  private lastImageAt = -Infinity;
  private lastTimestampS = 0;
  private readonly blocks = new Map<string, TriangleMesh>();
  private surfaceDirty = false;
  private surfaceJob: Promise<void> | null = null;
  private surfaceTimer: NodeJS.Timeout | null = null;
  private lastSurfaceAt = -Infinity;
  private worker: WorkerClient<SurfaceHandlers> | null = null;
  private closed = false;
  private readonly warned = new Set<string>();
  private readonly geometry: { video: ImageGeometry };
  private readonly unsubscribe: () => void;
  private readonly log: NonNullable<IgtlPublisherOptions['log']>;

  constructor(
    readonly server: IgtlServer,
    readonly settings: IgtlStreamSettings,
    options: IgtlPublisherOptions = {},
  ) {
    this.epochS = options.epochS ?? null;
    this.log = options.log ?? (() => undefined);
    this.geometry = { video: videoGeometry(settings.frame) };
    // A client joining late gets the surface as it is now.
    this.unsubscribe = server.onClient(() => this.scheduleSurface());
  }

  /** The stamp (s since the epoch) of a presentation time. */
  stampOf(timestamp: number): number {
    this.epochS ??= Date.now() / 1000 - timestamp;
    return this.epochS + timestamp;
  }

  /** Never throws: a frame the stream cannot send is logged (once per reason), the pipeline goes on. */
  frame(f: IgtlFrameInput): void {
    try {
      this.publishFrame(f);
    } catch (err) {
      this.warnOnce(`OpenIGTLink frame ${f.index} not sent: ${(err as Error).message}`);
    }
  }

  private warnOnce(message: string): void {
    const key = message.replace(/\d+/g, '#');
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log('warn', message);
  }

  private publishFrame(f: IgtlFrameInput): void {
    if (this.closed) return;
    const stamp = this.stampOf(f.timestamp);
    this.lastTimestampS = stamp;
    if (f.trackingState !== this.lastState) {
      this.lastState = f.trackingState;
      const status = trackingStatus(f.trackingState, f.index);
      this.server.publish({
        type: 'STATUS',
        deviceName: IGTL_DEVICES.tracking,
        timestampS: stamp,
        content: () => statusContent(status),
        retain: true,
        capturedAtMs: f.capturedAtMs,
      });
    }
    if (this.server.clientCount === 0) return;
    if (f.pose) {
      const pose = poseInFrame(f.pose, this.settings.frame);
      this.server.publish({
        type: 'TRANSFORM',
        deviceName: IGTL_DEVICES.pose(this.settings.frame),
        timestampS: stamp,
        content: () => transformContent(pose),
        capturedAtMs: f.capturedAtMs,
      });
    }
    const now = performance.now();
    if (
      (this.settings.sendImage || this.settings.sendDepth) &&
      now - this.lastImageAt >= 1000 / this.settings.imageMaxHz
    ) {
      this.lastImageAt = now;
      const g = this.geometry.video;
      if (this.settings.sendImage && f.rgb) {
        // Packed now, so the pixels are copied once (the pipeline hands its buffer on to a worker).
        const content = rgbImageContent(f.rgb, g);
        this.server.publish({
          type: 'IMAGE',
          deviceName: IGTL_DEVICES.video,
          timestampS: stamp,
          content: () => content,
          capturedAtMs: f.capturedAtMs,
        });
      }
      if (this.settings.sendDepth && f.depth) {
        const content = depthImageContent(f.depth, g);
        this.server.publish({
          type: 'IMAGE',
          deviceName: IGTL_DEVICES.depth,
          timestampS: stamp,
          content: () => content,
          capturedAtMs: f.capturedAtMs,
        });
      }
    }
  }

  surface(u: IgtlSurfaceUpdate): void {
    if (this.closed) return;
    if (u.reset) this.blocks.clear();
    for (const b of u.changed) this.blocks.set(b.key, b.mesh);
    for (const k of u.removed) this.blocks.delete(k);
    this.surfaceDirty = true;
    this.scheduleSurface();
  }

  /** Sends the current surface now (skipping the rate limit) and waits until it is published. */
  async flush(): Promise<void> {
    if (this.surfaceTimer) {
      clearTimeout(this.surfaceTimer);
      this.surfaceTimer = null;
    }
    await this.surfaceJob;
    if (this.surfaceDirty && this.server.clientCount > 0) await this.sendSurface();
  }

  async close(): Promise<void> {
    await this.flush().catch((err: Error) => this.log('warn', `OpenIGTLink surface: ${err.message}`));
    this.closed = true;
    this.unsubscribe();
    await this.worker?.close();
    this.worker = null;
  }

  private scheduleSurface(): void {
    if (this.closed || !this.surfaceDirty || this.surfaceJob || this.surfaceTimer) return;
    if (this.server.clientCount === 0 || this.blocks.size === 0) return;
    const wait = this.lastSurfaceAt + this.settings.meshIntervalS * 1000 - performance.now();
    if (wait > 0) {
      this.surfaceTimer = setTimeout(() => {
        this.surfaceTimer = null;
        this.scheduleSurface();
      }, wait);
      this.surfaceTimer.unref();
      return;
    }
    void this.sendSurface();
  }

  private sendSurface(): Promise<void> {
    if (this.surfaceTimer) {
      clearTimeout(this.surfaceTimer);
      this.surfaceTimer = null;
    }
    this.surfaceDirty = false;
    this.lastSurfaceAt = performance.now();
    const blocks = [...this.blocks.values()];
    const stamp = this.lastTimestampS || Date.now() / 1000;
    const job = (async () => {
      if (blocks.length === 0) return;
      const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
      this.worker ??= WorkerClient.start<SurfaceHandlers>(
        new URL(`./surface.worker${ext}`, import.meta.url),
        null,
        'igtl-surface',
      );
      const r = await this.worker.call('encode', {
        blocks,
        maxTriangles: this.settings.meshMaxTriangles,
        frame: this.settings.frame,
      });
      this.server.publish({
        type: 'POLYDATA',
        deviceName: IGTL_DEVICES.surface,
        timestampS: stamp,
        content: () => r.content,
        retain: true,
      });
    })()
      .catch((err: Error) => this.log('warn', `OpenIGTLink surface not sent: ${err.message}`))
      .finally(() => {
        this.surfaceJob = null;
        this.scheduleSurface();
      });
    this.surfaceJob = job;
    return job;
  }
}

/**
 * Where the video frame lies: in the plane the first camera faces, its columns along the camera's x,
 * its rows along y (top row first, as the pixels are sent), 1 mm per pixel, centred on the origin.
 */
export function videoGeometry(frame: IgtlFrame): ImageGeometry {
  return {
    coord: frame,
    dirI: directionInFrame([1, 0, 0], frame),
    dirJ: directionInFrame([0, 1, 0], frame),
    dirK: directionInFrame([0, 0, 1], frame),
    spacing: [1, 1, 1],
    centre: [0, 0, 0],
  };
}
