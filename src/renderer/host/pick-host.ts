/**
 * The renderer uses whichever host is present: the Electron preload's window.navws, or else the
 * browser host's socket.
 */
import type { NavApi } from '../../shared/api/nav-api.js';
import { SocketNavApi } from './socket-client.js';

declare global {
  interface Window {
    navws?: NavApi;
  }
}

export async function pickHost(): Promise<NavApi> {
  if (window.navws) return window.navws;
  const api = SocketNavApi.forPage();
  await api.start();
  return api;
}
