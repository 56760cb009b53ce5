/** In-memory images and frames as they travel through the pipeline. */
import type { Mat4 } from './math/mat4.js';
import type { Seconds } from './units.js';

/** 8-bit RGB, row-major, 3 bytes per pixel, no padding. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Depth along the optical axis in millimetres, row-major; 0 (or non-finite) means unknown. */
export interface DepthImage {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * Where depth's millimetres come from: triangulated from a calibrated stereo pair (metric), the
 * network's own scale (not verified), or a dataset's ground truth. Every run and every distance the UI
 * shows carries it.
 */
export const DEPTH_SCALE_SOURCES = ['stereo', 'network (unverified)', 'ground truth'] as const;
export type DepthScaleSource = (typeof DEPTH_SCALE_SOURCES)[number];

/**
 * Frame buffers of the engine side live on SharedArrayBuffers: a frame posted to the depth, tracking
 * and fusion workers is then shared, not copied (a 384x288 RGB-D pair cost ~0.5 ms of structured clone
 * per hop, and the garbage of it). Nothing writes to a frame once it entered the pipeline.
 */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

export function sharedFloats(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

/** One video frame entering the pipeline. */
export interface VideoFrame {
  /** 0-based index in the source (frames dropped for processing still consume an index). */
  index: number;
  /** Presentation time in the source, seconds from its start. */
  timestamp: Seconds;
  image: RgbImage;
  /**
   * The right view of a rectified stereo pair captured with `image` (the left, reference view), same size;
   * present only for stereo sources.
   */
  right?: RgbImage;
}

/** A camera-to-world rigid transform (mm); the world frame is the first camera's frame. */
export type CameraToWorld = Mat4;

export function assertRgbImage(img: RgbImage, what = 'image'): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width <= 0 || img.height <= 0) {
    throw new RangeError(`${what}: invalid size ${img.width}x${img.height}`);
  }
  if (img.data.length !== img.width * img.height * 3) {
    throw new RangeError(
      `${what}: RGB buffer has ${img.data.length} bytes, expected ${img.width * img.height * 3} for ${img.width}x${img.height}`,
    );
  }
}

export function assertDepthImage(img: DepthImage, what = 'depth'): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width <= 0 || img.height <= 0) {
    throw new RangeError(`${what}: invalid size ${img.width}x${img.height}`);
  }
  if (img.data.length !== img.width * img.height) {
    throw new RangeError(
      `${what}: depth buffer has ${img.data.length} values, expected ${img.width * img.height} for ${img.width}x${img.height}`,
    );
  }
}
