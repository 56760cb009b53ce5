/**
 * Run state, recording, elapsed time, tracking, execution provider, per-stage rates and latency. Every
 * field has a fixed width (numbers padded in a monospace font) so nothing moves as values change, and
 * the bar wraps onto a second line on narrow screens instead of letting fields overlap (styles.css).
 * After a run the rates are the run's own (the engine's last stats event, scope 'run').
 */
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

/** "tracking  14.8 Hz   12 ms": name, rate and time in fixed columns (the widest stage name is 8). */
const fmtStage = (name: string, rateHz: number, meanMs: number): string =>
  `${name.padEnd(8)} ${rateHz.toFixed(1).padStart(5)} Hz ${meanMs.toFixed(0).padStart(4)} ms`;

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
      <span className="status-item mono run-state" data-testid="status-run">
        {run?.state ?? 'idle'}
      </span>
      <span className="status-item mono elapsed" title="elapsed time">
        {fmtTime(elapsedS)}
      </span>
      <span className={`status-item tracking ${tracking ?? 'none'}`} data-testid="status-tracking">
        {tracking ?? '—'}
      </span>
      <span
        className="status-item mono ep"
        title={`inference execution provider: ${stats?.executionProvider ?? 'none yet'}`}
      >
        EP {stats?.executionProvider ?? '—'}
      </span>
      <span
        className="stages"
        data-testid="status-stages"
        data-scope={stats?.scope ?? 'none'}
        title={stats?.scope === 'run' ? 'rates over the last run' : 'rates over the last few seconds'}
      >
        {(stats?.stages ?? []).map((s) => (
          <span key={s.name} className="status-item stage mono">
            {fmtStage(s.name, s.rateHz, s.meanMs)}
          </span>
        ))}
      </span>
      <span
        className="status-item mono latency"
        title={`capture to frame event, mean over ${stats?.scope === 'run' ? 'the last run' : 'the last few seconds'}`}
      >
        lat {stats ? `${stats.latencyMs.toFixed(0).padStart(4)} ms` : '—'}
      </span>
      <span className="status-item mono latency" title="frame event to paint in this window, mean of 30">
        UI {uiLatencyMs !== null ? `${uiLatencyMs.toFixed(0).padStart(4)} ms` : '—'}
      </span>
      <span className="status-item mono drops" title="frames dropped by processing">
        drop {String(stats?.framesDropped ?? 0).padStart(5)}
      </span>
      <span className={`status-item conn ${connection}`}>
        {connection === 'up' ? 'engine ok' : 'engine down'}
      </span>
    </footer>
  );
}
