/**
 * The sandboxed preload: exposes exactly one object to the renderer, `window.navws`, implementing the
 * shared NavApi, and nothing else (no ipcRenderer, no Node, no Electron objects). Built by esbuild into
 * dist/preload/preload.cjs because a sandboxed preload must be a single CommonJS file.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { z } from 'zod';
import { createElectronNavApi, type IpcRendererLike } from './electron-nav-api.js';

// zod compiles fast paths with the Function constructor when it can; the page's CSP forbids that, and
// even zod's probe for it is reported as a CSP violation. Validation works the same without it.
z.config({ jitless: true });

const ipc: IpcRendererLike = {
  invoke: (channel, payload) => ipcRenderer.invoke(channel, payload),
  on: (channel, listener) =>
    ipcRenderer.on(channel, (event, ...args: unknown[]) => listener({ ports: event.ports }, ...args)),
};

contextBridge.exposeInMainWorld('navws', createElectronNavApi(ipc));
