/**
 * Navigation, new-window, webview and permission policy for every window. The app is a single page
 * served from the bundle: nothing ever needs to navigate away, open a window, embed a webview or ask
 * for a browser permission (camera capture runs in the engine through ffmpeg, not getUserMedia).
 */
import { isAppUrl } from './app-protocol.js';

/** will-navigate / will-redirect / will-frame-navigate: only in-app URLs (e.g. hash changes), never elsewhere. */
export function isNavigationAllowed(url: string): boolean {
  return isAppUrl(url);
}

/** setWindowOpenHandler: no new windows, ever (the OR monitor window is created by main, not by content). */
export function windowOpenDecision(): { action: 'deny' } {
  return { action: 'deny' };
}

/** Permissions the renderer may use. Empty on purpose: see above. */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set();

/** setPermissionRequestHandler: deny everything not listed above. */
export function permissionRequestDecision(permission: string, requestingUrl: string): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && isAppUrl(requestingUrl);
}

/** setPermissionCheckHandler: same answer for synchronous checks. */
export function permissionCheckDecision(permission: string, requestingOrigin: string): boolean {
  return permissionRequestDecision(permission, requestingOrigin);
}

/** setDevicePermissionHandler (HID/serial/USB): always no. */
export function devicePermissionDecision(): boolean {
  return false;
}

/**
 * Requests the session may make: only the app's own scheme and devtools internals. Everything else
 * (http, https, ws, file, ftp) is cancelled, so even a compromised renderer cannot reach the network.
 */
export function isRequestAllowed(url: string): boolean {
  if (isAppUrl(url)) return true;
  try {
    const { protocol } = new URL(url);
    return protocol === 'devtools:' || protocol === 'blob:' || protocol === 'data:';
  } catch {
    return false;
  }
}
