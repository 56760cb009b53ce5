/** Export a run's mesh: format, output path, progress. */
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
  const [outputPath, setOutputPath] = useState('');
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
    api
      .call('export.mesh', {
        caseId: detail.summary.id,
        runId,
        format,
        outputPath: outputPath.trim() || undefined,
      })
      .then(setResult)
      .catch((e: Error) => onError(e.message))
      .finally(() => setBusy(false));
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
                  onChange={() => setFormat(f.id)}
                  data-testid={`format-${f.id}`}
                />
                {f.label} <small>{f.note}</small>
              </label>
            ))}
          </fieldset>
          <label>
            Output path (optional; default: the case folder's exports/)
            <input
              value={outputPath}
              onChange={(e) => setOutputPath(e.target.value)}
              placeholder="/path/to/mesh.ply"
              data-testid="export-path"
            />
          </label>
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
