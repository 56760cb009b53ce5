/**
 * Stereo carried in one stream: the two views packed into each frame, as 3D laparoscope towers and
 * video-over-IP encoders send them. `side-by-side`: left | right (2W x H); `top-bottom`: left over right
 * (W x 2H); `line-interleaved`: even rows left, odd rows right (W x 2H, left field first). The views'
 * size (W x H) is the stereo profile's; a frame of any other size is refused, naming the layout.
 */
import { type RgbImage, sharedBytes } from '../../shared/frames.js';

export type PackedStereoLayout = 'side-by-side' | 'top-bottom' | 'line-interleaved';

export interface ViewSize {
  width: number;
  height: number;
}

export function packedFrameSize(layout: PackedStereoLayout, view: ViewSize): ViewSize {
  return layout === 'side-by-side'
    ? { width: 2 * view.width, height: view.height }
    : { width: view.width, height: 2 * view.height };
}

export class StereoLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StereoLayoutError';
  }
}

/** Checks a packed frame size against the layout, naming both when they disagree. */
export function checkPackedSize(
  layout: PackedStereoLayout,
  view: ViewSize,
  frame: ViewSize,
  what: string,
): void {
  const want = packedFrameSize(layout, view);
  if (frame.width !== want.width || frame.height !== want.height) {
    throw new StereoLayoutError(
      `${what}: a ${layout} stereo frame of ${view.width}x${view.height} views must be ${want.width}x${want.height}, ` +
        `got ${frame.width}x${frame.height} (does the stereo profile's layout match the stream?)`,
    );
  }
}

/** The two views of a packed frame (each on its own shared buffer, as frames travel between threads). */
export function splitPackedStereo(
  img: RgbImage,
  layout: PackedStereoLayout,
  view: ViewSize,
  what: string,
): { left: RgbImage; right: RgbImage } {
  checkPackedSize(layout, view, img, what);
  const { width: w, height: h } = view;
  const row = 3 * w;
  const left = sharedBytes(row * h);
  const right = sharedBytes(row * h);
  const src = img.data;
  for (let y = 0; y < h; y++) {
    let l: number;
    let r: number;
    if (layout === 'side-by-side') {
      l = y * 2 * row;
      r = l + row;
    } else if (layout === 'top-bottom') {
      l = y * row;
      r = (y + h) * row;
    } else {
      l = 2 * y * row;
      r = (2 * y + 1) * row;
    }
    left.set(src.subarray(l, l + row), y * row);
    right.set(src.subarray(r, r + row), y * row);
  }
  return { left: { width: w, height: h, data: left }, right: { width: w, height: h, data: right } };
}
