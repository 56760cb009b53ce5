/** The workstation shell: view tabs, the current case, the status bar. */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { NavApi } from '../shared/api/nav-api.js';
import type { ApiTrackingState, CaseDetail, NavEvent, RunStatus } from '../shared/api/schemas.js';
import { StatusBar } from './components/StatusBar.js';
import { useKeys } from './lib/use-keys.js';
import { CaseBrowser } from './views/CaseBrowser.js';
import { ExportView } from './views/ExportView.js';
import { LiveView } from './views/LiveView.js';
import { ReviewView } from './views/ReviewView.js';

type ViewId = 'cases' | 'live' | 'review' | 'export';
type Stats = Extract<NavEvent, { type: 'stats' }>;

const VIEWS: { id: ViewId; label: string; key: string }[] = [
  { id: 'cases', label: 'Cases', key: '1' },
  { id: 'live', label: 'Live', key: '2' },
  { id: 'review', label: 'Review', key: '3' },
  { id: 'export', label: 'Export', key: '4' },
];

export function App({ api }: { api: NavApi }) {
  const [view, setView] = useState<ViewId>('cases');
  const [detail, setDetail] = useState<CaseDetail | null>(null);
  const [run, setRun] = useState<RunStatus | null>(null);
  const [runSince, setRunSince] = useState<{ at: number; elapsedS: number } | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [tracking, setTracking] = useState<ApiTrackingState | null>(null);
  const [message, setMessage] = useState<{ level: 'info' | 'warn' | 'error'; text: string } | null>(null);
  const [connection, setConnection] = useState<'up' | 'down'>('up');
  const lastRunId = useRef<string | null>(null);

  const onError = useCallback((text: string) => setMessage({ level: 'error', text }), []);

  const loadCase = useCallback(
    (caseId: string) =>
      api
        .call('cases.open', { caseId })
        .then(setDetail)
        .catch((e: Error) => onError(e.message)),
    [api, onError],
  );

  useEffect(() => {
    api
      .call('status.get', {})
      .then((s) => {
        setRun(s.run);
        setRunSince({ at: performance.now(), elapsedS: s.run.elapsedS });
      })
      .catch((e: Error) => onError(e.message));
    return api.onEvent((e) => {
      switch (e.type) {
        case 'run':
          setRun(e.status);
          setRunSince({ at: performance.now(), elapsedS: e.status.elapsedS });
          if (e.status.runId !== lastRunId.current) {
            lastRunId.current = e.status.runId;
            setStats(null);
            setTracking(null);
          }
          if (e.status.state === 'finished' || e.status.state === 'failed') {
            // The stats stay: the engine's last stats event of a run carries the run's own rates.
            if (e.status.caseId) void loadCase(e.status.caseId);
            if (e.status.error) onError(e.status.error);
          }
          break;
        case 'stats':
          setStats(e);
          break;
        case 'tracking':
          setTracking(e.state);
          break;
        case 'log':
          if (e.level !== 'info') setMessage({ level: e.level, text: e.message });
          break;
        case 'engine':
          setConnection(e.state === 'up' ? 'up' : 'down');
          if (e.state !== 'up') setMessage({ level: 'error', text: `Engine ${e.state}: ${e.message}` });
          break;
        case 'export':
          break;
      }
    });
  }, [api, loadCase, onError]);

  useKeys(true, Object.fromEntries(VIEWS.map((v) => [v.key, () => setView(v.id)])));

  return (
    <div className="app">
      <header className="top-bar">
        <span className="brand">NavWS</span>
        <nav className="tabs" role="tablist" aria-label="Views">
          {VIEWS.map((v) => (
            <button
              key={v.id}
              type="button"
              role="tab"
              aria-selected={view === v.id}
              className={view === v.id ? 'tab active' : 'tab'}
              onClick={() => setView(v.id)}
              data-testid={`tab-${v.id}`}
            >
              <kbd>{v.key}</kbd> {v.label}
            </button>
          ))}
        </nav>
        <span className="current-case" data-testid="current-case">
          {detail
            ? `${detail.summary.title}${detail.summary.patientRef ? ` · ${detail.summary.patientRef}` : ''}`
            : 'no case open'}
        </span>
      </header>
      <div className={`message ${message?.level ?? 'none'}`} role="alert" data-testid="message">
        {message ? (
          <>
            <span>{message.text}</span>
            <button
              type="button"
              className="link"
              onClick={() => setMessage(null)}
              aria-label="Dismiss message"
            >
              ✕
            </button>
          </>
        ) : null}
      </div>
      <main className="main">
        <CaseBrowser
          api={api}
          active={view === 'cases'}
          currentCaseId={detail?.summary.id ?? null}
          onOpen={(id) => {
            void loadCase(id).then(() => setView('review'));
          }}
          onCreated={(id) => {
            void loadCase(id).then(() => setView('live'));
          }}
          onError={onError}
        />
        <LiveView
          api={api}
          active={view === 'live'}
          currentCase={detail?.summary ?? null}
          run={run}
          onError={onError}
        />
        <ReviewView
          api={api}
          active={view === 'review'}
          detail={detail}
          onChanged={() => detail && void loadCase(detail.summary.id)}
          onError={onError}
        />
        <ExportView api={api} active={view === 'export'} detail={detail} onError={onError} />
      </main>
      <StatusBar run={run} since={runSince} stats={stats} tracking={tracking} connection={connection} />
    </div>
  );
}
