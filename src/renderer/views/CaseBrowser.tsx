/** List, search, open and create cases. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { NavApi } from '../../shared/api/nav-api.js';
import type { CaseSummary } from '../../shared/api/schemas.js';

interface Props {
  api: NavApi;
  active: boolean;
  currentCaseId: string | null;
  onOpen(caseId: string): void;
  onCreated(caseId: string): void;
  onError(message: string): void;
}

export function CaseBrowser({ api, active, currentCaseId, onOpen, onCreated, onError }: Props) {
  const [cases, setCases] = useState<CaseSummary[]>([]);
  const [search, setSearch] = useState('');
  const [form, setForm] = useState({ title: '', procedure: '', surgeon: '', patientRef: '' });

  const refresh = useCallback(() => {
    api
      .call('cases.list', { search: search || undefined })
      .then(setCases)
      .catch((e: Error) => onError(e.message));
  }, [api, search, onError]);

  useEffect(() => {
    if (active) refresh();
  }, [active, refresh]);

  const create = (e: FormEvent): void => {
    e.preventDefault();
    if (!form.title.trim()) return;
    api
      .call('cases.create', {
        title: form.title.trim(),
        procedure: form.procedure.trim() || undefined,
        surgeon: form.surgeon.trim() || undefined,
        patientRef: form.patientRef.trim() || undefined,
      })
      .then((c) => {
        setForm({ title: '', procedure: '', surgeon: '', patientRef: '' });
        refresh();
        onCreated(c.id);
      })
      .catch((err: Error) => onError(err.message));
  };

  return (
    <div className="view cases-view" hidden={!active}>
      <section className="panel case-list-panel" aria-label="Cases">
        <header className="panel-title">
          <span>Cases</span>
          <input
            type="search"
            className="search"
            placeholder="Search title, procedure, surgeon, reference"
            aria-label="Search cases"
            data-testid="case-search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </header>
        <table className="case-table" data-testid="case-table">
          <thead>
            <tr>
              <th>Title</th>
              <th>Procedure</th>
              <th>Surgeon</th>
              <th>Ref</th>
              <th>Created</th>
              <th>Runs</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {cases.map((c) => (
              <tr key={c.id} className={c.id === currentCaseId ? 'current' : ''} data-case-id={c.id}>
                <td>{c.title}</td>
                <td>{c.procedure}</td>
                <td>{c.surgeon}</td>
                <td className="mono">{c.patientRef}</td>
                <td className="mono">{c.createdAt.slice(0, 16).replace('T', ' ')}</td>
                <td className="mono">{c.runCount}</td>
                <td>
                  <button type="button" onClick={() => onOpen(c.id)} data-testid="open-case">
                    Open
                  </button>
                </td>
              </tr>
            ))}
            {cases.length === 0 && (
              <tr>
                <td colSpan={7} className="empty">
                  No cases{search ? ' match the search' : ' yet: create one before the procedure'}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
      <section className="panel new-case-panel" aria-label="New case">
        <header className="panel-title">
          <span>New case</span>
        </header>
        <form onSubmit={create} className="form">
          <label>
            Title
            <input
              required
              maxLength={200}
              value={form.title}
              data-testid="new-case-title"
              onChange={(e) => setForm({ ...form, title: e.target.value })}
            />
          </label>
          <label>
            Procedure
            <input
              maxLength={200}
              value={form.procedure}
              onChange={(e) => setForm({ ...form, procedure: e.target.value })}
            />
          </label>
          <label>
            Surgeon
            <input
              maxLength={200}
              value={form.surgeon}
              onChange={(e) => setForm({ ...form, surgeon: e.target.value })}
            />
          </label>
          <label>
            Patient reference (pseudonymous code, never a name; generated if empty)
            <input
              maxLength={100}
              value={form.patientRef}
              onChange={(e) => setForm({ ...form, patientRef: e.target.value })}
            />
          </label>
          <button type="submit" className="primary" data-testid="create-case">
            Create case
          </button>
        </form>
      </section>
    </div>
  );
}
