/**
 * Capture: frames in. Main entry points (details in docs/capture.md):
 *
 * - `DatasetFrameSource.open(folder)` — frames of a dataset folder (rgb/NNNNNN.png or rgb.mp4).
 * - `VideoFileFrameSource.open(fileOrUrl, { size })` — any input ffmpeg reads, decoded to rgb24 at
 *   the processing size; `.frames({ fromFrame | fromSeconds, maxFrames })` seeks.
 * - Every source is an `AsyncIterable<VideoFrame>` (src/shared/frames.ts); a failure part-way ends
 *   the iteration with a `FrameSourceError` after the frames already read were delivered.
 * - `LiveCapture.start({ source, processingSize, recording })` — devices, network streams, lavfi:
 *   one ffmpeg writes the full-quality recording and the processing frames; `.frames()` yields the
 *   newest frames (drop-oldest, counted), events 'stale' / 'resumed' / 'error' / 'ended', `.stop()`.
 *   Recording into a case with its frame index: src/engine/recording (`CaseRecorder`).
 * - `listCaptureDevices()` — devices and modes (v4l2 / dshow / avfoundation).
 * - `getFfmpeg()` — the ffmpeg binary and its probed capabilities ($FFMPEG_PATH, ffmpeg-static,
 *   @ffmpeg-installer, PATH); `requireFfmpeg()` names a feature the build lacks.
 * - `FfmpegProcess` — spawns ffmpeg children that never outlive the app.
 */
export {
  type FfmpegBinary,
  FfmpegFeatureError,
  FfmpegNotFoundError,
  getFfmpeg,
  requireFfmpeg,
  resolveFfmpeg,
} from './ffmpeg.js';
export { FfmpegProcess, killAllFfmpeg, liveFfmpegCount } from './ffmpeg-process.js';
export {
  type FrameRange,
  type FrameSize,
  type FrameSource,
  type FrameSourceInfo,
  FrameSourceError,
} from './frame-source.js';
export { DatasetFrameSource } from './dataset-source.js';
export { VideoFileFrameSource, type VideoFileOptions } from './video-file-source.js';
export { type VideoStreamInfo, probeVideo } from './probe.js';
export {
  type CaptureErrorKind,
  type CaptureEvents,
  type CaptureResult,
  type CaptureStats,
  type CapturedFrame,
  CaptureError,
  LiveCapture,
  type LiveCaptureOptions,
  type RecordingCodec,
  type RecordingTarget,
  monotonicWallMs,
} from './live-capture.js';
export {
  type CaptureSource,
  CaptureSourceError,
  captureSourceSchema,
  describeSource,
  parseCaptureSource,
} from './capture-source.js';
export {
  type CaptureDevice,
  type DeviceApi,
  type DeviceMode,
  defaultDeviceApi,
  frameRateArg,
  knownPixelFormats,
  listCaptureDevices,
} from './devices.js';
