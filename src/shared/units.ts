/**
 * Units and frames used everywhere in NavWS (see docs/conventions.md).
 *
 * - Lengths are millimetres, times are seconds. The aliases below carry that in signatures.
 * - Images are row-major, pixel centres at integer coordinates: pixel (u, v) covers [u-0.5, u+0.5].
 * - Camera frame: x right, y down, z forward (OpenCV).
 * - Poses are camera-to-world 4x4 rigid transforms (SE(3)); the world frame of a reconstruction is
 *   the first camera's frame.
 */

/** A length in millimetres. */
export type Millimetres = number;
/** A time in seconds. */
export type Seconds = number;
/** A length in pixels. */
export type Pixels = number;
