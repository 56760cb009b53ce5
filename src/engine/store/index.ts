/**
 * Case store: SQLite (better-sqlite3) plus case folders. Main entry points (docs/case-store.md):
 *
 * - `CaseStore.open(root, { actor })` — opens/creates `<root>/navws.sqlite` and `<root>/cases/<id>/`;
 *   migrates, checks integrity and file hashes; `store.health` tells whether it fell back to read-only.
 * - Cases: `createCase`, `updateCase`, `getCase`, `listCases`; two-step deletion:
 *   `requestCaseDeletion(id)` -> token, then `deleteCase(id, token)`.
 * - Recordings: `beginRecording`, `appendFrames` (frame index), `setRecordingWallOffset`,
 *   `finishRecording`, `frameIndex`, `frameAtTime`; crashed sessions are closed on open.
 * - Results: `addKeyframes` (pose + depth PNG), `addTrajectory`, `addMesh` (versioned, with parameters),
 *   `addAnnotation`, `addMeasurement`; `readMesh`, `readKeyframeDepth`, `readTrajectory` verify hashes.
 * - `auditLog(caseId?)` — append-only trail (database triggers refuse UPDATE/DELETE).
 * - `exportCase(store, id, file.tar)` / `importCase(store, file.tar)` — one archive per case.
 */
export * from './case-store.js';
export { ARCHIVE_FORMAT, ArchiveError, type ArchiveProgress, exportCase, importCase } from './archive.js';
export { SCHEMA_VERSION } from './schema.js';
export {
  type AnnotationInput,
  type CaseInput,
  type FrameRow,
  type MeasurementInput,
  type RecordingInput,
  StoreInputError,
} from './validation.js';
