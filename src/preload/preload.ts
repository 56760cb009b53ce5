/**
 * The sandboxed preload: exposes exactly one object to the renderer, `window.navws`, implementing the
 * shared NavApi, and nothing else (no ipcRenderer, no Node, no Electron objects). Built by esbuild into
 * dist/preload/preload.cjs because a sandboxed preload must be a single CommonJS file.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createElectronNavApi, type IpcRendererLike } from './electron-nav-api.js';

const ipc: IpcRendererLike = {
  invoke: (channel, payload) => ipcRenderer.invoke(channel, payload),
  on: (channel, listener) =>
    ipcRenderer.on(channel, (event, ...args: unknown[]) => listener({ ports: event.ports }, ...args)),
};

contextBridge.exposeInMainWorld('navws', createElectronNavApi(ipc));
