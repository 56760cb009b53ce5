/**
 * Applies the security policy (src/main/security/*) to Electron: the app protocol that serves the
 * bundle with its CSP, request filtering, permission handlers, and navigation / window / webview
 * blocking on every webContents ever created. Loaded only inside Electron.
 */
import { readFile } from 'node:fs/promises';
import { type Session, app, protocol } from 'electron';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, resolveAppAsset } from './security/app-protocol.js';
import { securityHeaders, withCspHeader } from './security/csp.js';
import {
  devicePermissionDecision,
  isNavigationAllowed,
  isRequestAllowed,
  permissionCheckDecision,
  permissionRequestDecision,
  windowOpenDecision,
} from './security/navigation.js';

/** Must run before app 'ready'. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }]);
}

export function hardenSession(ses: Session, rendererDir: string, log: (line: string) => void): void {
  ses.protocol.handle(APP_SCHEME, async (request) => {
    const asset = resolveAppAsset(request.url, rendererDir);
    if (!asset.ok) {
      log(`app protocol refused ${request.url}: ${asset.reason}`);
      return new Response(asset.reason, {
        status: asset.status,
        headers: securityHeaders('text/plain; charset=utf-8'),
      });
    }
    try {
      const body = await readFile(asset.filePath);
      return new Response(body, { status: 200, headers: securityHeaders(asset.contentType) });
    } catch {
      return new Response('not found', {
        status: 404,
        headers: securityHeaders('text/plain; charset=utf-8'),
      });
    }
  });
  ses.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isRequestAllowed(details.url);
    if (!allowed) log(`blocked request to ${details.url.slice(0, 200)}`);
    callback({ cancel: !allowed });
  });
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withCspHeader(details.responseHeaders) });
  });
  ses.setPermissionRequestHandler((_wc, permission, callback, details) => {
    const granted = permissionRequestDecision(permission, details.requestingUrl);
    if (!granted) log(`denied permission '${permission}'`);
    callback(granted);
  });
  ses.setPermissionCheckHandler((_wc, permission, origin) => permissionCheckDecision(permission, origin));
  ses.setDevicePermissionHandler(() => devicePermissionDecision());
}

/** Navigation, new windows and webviews are refused for every webContents, including future ones. */
export function lockDownWebContents(log: (line: string) => void): void {
  app.on('web-contents-created', (_event, contents) => {
    const guard = (event: { preventDefault(): void }, url: string): void => {
      if (!isNavigationAllowed(url)) {
        event.preventDefault();
        log(`blocked navigation to ${url.slice(0, 200)}`);
      }
    };
    contents.on('will-navigate', guard);
    contents.on('will-redirect', guard);
    contents.on('will-frame-navigate', (event) => guard(event, event.url));
    contents.on('will-attach-webview', (event) => {
      event.preventDefault();
      log('blocked a <webview>');
    });
    contents.setWindowOpenHandler(({ url }) => {
      log(`blocked window.open(${url.slice(0, 200)})`);
      return windowOpenDecision();
    });
  });
}
