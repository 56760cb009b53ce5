/**
 * Export a run's mesh: format, destination, progress. The page never names a path (docs/security.md):
 * it gives a file name for the case's exports folder, or, in the desktop app, asks main for its save
 * dialog and gets back a grant for the file the user chose.
 */
import { useEffect, useState } from 'react';
import type { NavApi } from '../../shared/api/nav-api.js';
import type { CaseDetail, ExportResult, MeshFormat, NavEvent } from '../../shared/api/schemas.js';
import { useKeys } from '../lib/use-keys.js';

type ExportEvent = Extract<NavEvent, { type: 'export' }>;

interface Props {
  api: NavApi;
  active: boolean;
  detail: CaseDetail | null;
  onError(message: string): void;
}

const FORMATS: { id: MeshFormat; label: string; note: string }[] = [
  { id: 'ply', label: 'PLY', note: 'binary, vertex colours' },
  { id: 'obj', label: 'OBJ', note: '+ MTL' },
  { id: 'stl', label: 'STL', note: 'binary, no colour' },
  { id: 'glb', label: 'GLB', note: 'glTF binary' },
];

export function ExportView({ api, active, detail, onError }: Props) {
  const [format, setFormat] = useState<MeshFormat>('ply');
  const [fileName, setFileName] = useState('');
  /** A destination chosen in the desktop app's save dialog, for one export in its format. */
  const [chosen, setChosen] = useState<{ grant: string; fileName: string; format: MeshFormat } | null>(null);
  const hasDialog = api.host === 'electron';
  const [progress, setProgress] = useState<ExportEvent | null>(null);
  const [result, setResult] = useState<ExportResult | null>(null);
  const [busy, setBusy] = useState(false);
  const meshRuns = (detail?.runs ?? []).filter((r) => r.hasMesh);
  const [runId, setRunId] = useState<string>('');

  useEffect(() => {
    if (!meshRuns.some((r) => r.id === runId)) setRunId(meshRuns[meshRuns.length - 1]?.id ?? '');
  }, [meshRuns, runId]);

  useEffect(
    () =>
      api.onEvent((e) => {
        if (e.type === 'export') setProgress(e);
      }),
    [api],
  );

  const run = (): void => {
    if (!detail || !runId || busy) return;
    setBusy(true);
    setResult(null);
    const destination = chosen
      ? { grant: chosen.grant }
      : fileName.trim()
        ? { fileName: fileName.trim() }
        : {};
    api
      .call('export.mesh', { caseId: detail.summary.id, runId, format, ...destination })
      .then(setResult)
      .catch((e: Error) => onError(e.message))
      // A grant is good for one export: the next one asks again.
      .finally(() => {
        setChosen(null);
        setBusy(false);
      });
  };

  const choose = (): void => {
    if (!detail || busy) return;
    api
      .call('export.chooseDestination', { caseId: detail.summary.id, runId: runId || undefined, format })
      .then((r) => {
        if (!r.grant || !r.fileName) return;
        setFormat(r.format);
        setChosen({ grant: r.grant, fileName: r.fileName, format: r.format });
      })
      .catch((e: Error) => onError(e.message));
  };

  useKeys(active, { e: run });

  return (
    <div className="view export-view" hidden={!active}>
      <section className="panel export-panel" aria-label="Export mesh">
        <header className="panel-title">
          <span>Export mesh</span>
          <span>{detail ? `Case: ${detail.summary.title}` : 'No case open'}</span>
        </header>
        <div className="form">
          <label>
            Run
            <select value={runId} onChange={(e) => setRunId(e.target.value)} data-testid="export-run">
              {meshRuns.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.startedAt.slice(0, 19).replace('T', ' ')} · {r.keyframeCount} keyframes
                </option>
              ))}
            </select>
          </label>
          <fieldset className="formats">
            <legend>Format (millimetres, first-camera frame)</legend>
            {FORMATS.map((f) => (
              <label key={f.id} className="radio">
                <input
                  type="radio"
                  name="format"
                  value={f.id}
                  checked={format === f.id}
                  onChange={() => {
                    setFormat(f.id);
                    // The chosen file was for the previous format.
                    setChosen(null);
                  }}
                  data-testid={`format-${f.id}`}
                />
                {f.label} <small>{f.note}</small>
              </label>
            ))}
          </fieldset>
          <label>
            File name in the case's exports folder (optional)
            <input
              value={fileName}
              onChange={(e) => setFileName(e.target.value)}
              placeholder={`liver.${format}`}
              disabled={chosen !== null}
              data-testid="export-file-name"
            />
          </label>
          {hasDialog && (
            <div className="row">
              <button type="button" onClick={choose} disabled={!detail || busy} data-testid="export-choose">
                Save as…
              </button>
              <span className="mono" data-testid="export-destination">
                {chosen ? `to ${chosen.fileName} (chosen)` : 'or choose a file anywhere'}
              </span>
              {chosen && (
                <button type="button" className="link" onClick={() => setChosen(null)}>
                  use the exports folder
                </button>
              )}
            </div>
          )}
          <button
            type="button"
            className="primary"
            onClick={run}
            disabled={!runId || busy}
            data-testid="export-button"
          >
            <kbd>E</kbd> Export
          </button>
          <div className="progress" aria-label="export progress">
            <div
              className="progress-bar"
              style={{ width: `${Math.round((progress?.progress ?? 0) * 100)}%` }}
            />
          </div>
          <div className="mono" data-testid="export-status">
            {progress
              ? `${progress.stage} ${Math.round(progress.progress * 100)}%${progress.error ? ` · ${progress.error}` : ''}`
              : meshRuns.length
                ? 'ready'
                : 'no run with a mesh in this case'}
          </div>
          <div className="mono result" data-testid="export-result">
            {result
              ? `${result.format.toUpperCase()} · ${result.vertices} vertices · ${result.triangles} triangles · ${result.outputPath}`
              : ''}
          </div>
        </div>
      </section>
    </div>
  );
}
