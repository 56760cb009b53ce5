/** Run state, recording, elapsed time, tracking, execution provider, per-stage rates and latency. Fixed layout. */
import { useEffect, useState } from 'react';
import type { ApiTrackingState, NavEvent, RunStatus } from '../../shared/api/schemas.js';
import { uiPerf } from '../lib/perf.js';

type Stats = Extract<NavEvent, { type: 'stats' }>;

interface Props {
  run: RunStatus | null;
  /** Elapsed run time at a moment (performance.now()), from the last run event. */
  since: { at: number; elapsedS: number } | null;
  stats: Stats | null;
  tracking: ApiTrackingState | null;
  connection: 'up' | 'down';
}

const fmtTime = (s: number): string => {
  const m = Math.floor(s / 60);
  const r = Math.floor(s % 60);
  return `${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}`;
};

export function StatusBar({ run, since, stats, tracking, connection }: Props) {
  const recording = run?.recording ?? false;
  // Elapsed time and this window's latency refresh once a second here, so the rest of the UI does not
  // re-render on a timer.
  const [, setTick] = useState(0);
  useEffect(() => {
    const id = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(id);
  }, []);
  const active = run?.state === 'running' || run?.state === 'stopping';
  const elapsedS = since ? since.elapsedS + (active ? (performance.now() - since.at) / 1000 : 0) : 0;
  const uiLatencyMs = uiPerf.recentLatency();
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
