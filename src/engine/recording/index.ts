/**
 * Recording and review. Main entry points (docs/capture.md):
 *
 * - `CaseRecorder.start(store, caseId, { source, processingSize })` — live capture into a case:
 *   crash-safe video in `cases/<id>/recordings/`, frame index and wall-clock offset in the store;
 *   `.frames()` gives the newest frames for processing, `.stop()` finishes, `.restart()` continues
 *   into a new segment after a failure, `.capture` emits 'stale' / 'resumed' / 'error' / 'ended'.
 * - `RecordingFrameSource.open(store, recordingId, size?)` — plays a recording back as a
 *   FrameSource, seekable with `.frames({ fromFrame })` or `.frames({ fromSeconds })`.
 */
export { CaseRecorder, type CaseRecorderOptions } from './case-recorder.js';
export { RecordingFrameSource } from './playback.js';
