/** Run state, recording, elapsed time, tracking, execution provider, per-stage rates and latency. Fixed layout. */
import type { ApiTrackingState, NavEvent, RunStatus } from '../../shared/api/schemas.js';

type Stats = Extract<NavEvent, { type: 'stats' }>;

interface Props {
  run: RunStatus | null;
  elapsedS: number;
  stats: Stats | null;
  tracking: ApiTrackingState | null;
  uiLatencyMs: number | null;
  connection: 'up' | 'down';
}

const fmtTime = (s: number): string => {
  const m = Math.floor(s / 60);
  const r = Math.floor(s % 60);
  return `${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}`;
};

export function StatusBar({ run, elapsedS, stats, tracking, uiLatencyMs, connection }: Props) {
  const recording = run?.recording ?? false;
  return (
    <footer className="status-bar" role="status" aria-live="off" data-testid="status-bar">
      <span className={`status-item rec ${recording ? 'on' : ''}`} data-testid="status-recording">
        {recording ? '● REC' : '○ idle'}
      </span>
      <span className="status-item mono" data-testid="status-run">
        {run?.state ?? 'idle'}
      </span>
      <span className="status-item mono" title="elapsed time">
        {fmtTime(elapsedS)}
      </span>
      <span className={`status-item tracking ${tracking ?? 'none'}`} data-testid="status-tracking">
        {tracking ?? '—'}
      </span>
      <span className="status-item mono" title="inference execution provider">
        EP {stats?.executionProvider ?? '—'}
      </span>
      <span className="status-item stages mono" data-testid="status-stages">
        {(stats?.stages ?? []).map((s) => (
          <span key={s.name} className="stage">
            {s.name} {s.rateHz.toFixed(1)} Hz {s.meanMs.toFixed(0)} ms
          </span>
        ))}
      </span>
      <span className="status-item mono" title="capture to frame event, mean">
        lat {stats ? `${stats.latencyMs.toFixed(0)} ms` : '—'}
      </span>
      <span className="status-item mono" title="frame event to paint in this window, mean of 30">
        UI {uiLatencyMs !== null ? `${uiLatencyMs.toFixed(0)} ms` : '—'}
      </span>
      <span className="status-item mono" title="frames dropped by processing">
        drop {stats?.framesDropped ?? 0}
      </span>
      <span className={`status-item conn ${connection}`}>
        {connection === 'up' ? 'engine ok' : 'engine down'}
      </span>
    </footer>
  );
}
