/** Renderer entry: picks the host (Electron preload or browser socket) and mounts the workstation. */
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { pickHost } from './host/pick-host.js';

const root = createRoot(document.getElementById('root')!);

pickHost()
  .then((api) => root.render(<App api={api} />))
  .catch((err: Error) => {
    const el = document.getElementById('root')!;
    el.textContent = `NavWS cannot reach its engine: ${err.message}`;
    el.className = 'fatal';
  });
