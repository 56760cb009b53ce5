/**
 * Electron main process: single instance, the app protocol and security policy, the engine process
 * under supervision, the IPC bridge of NavApi, windows (main + optional OR monitor), menu and dialogs.
 * Main itself does no heavy work: frames go from the engine process straight to the windows over
 * MessagePorts.
 */
import {
  BrowserWindow,
  Menu,
  MessageChannelMain,
  app,
  dialog,
  ipcMain,
  screen,
  session,
  type IpcMainInvokeEvent,
} from 'electron';
import { type WriteStream, createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseParams } from '../shared/api/nav-api.js';
import type { NavEvent, SourceSpec } from '../shared/api/schemas.js';
import { exportMeshDialogOptions, openDatasetDialogOptions, openVideoDialogOptions } from './dialogs.js';
import { forkElectronEngineChild } from './engine-child-electron.js';
import { EngineSupervisor } from './engine-supervisor.js';
import { EVENT_CHANNEL, STREAM_PORT_CHANNEL } from './ipc/channels.js';
import { NAV_CONTRACT } from './ipc/nav-contract.js';
import type { SenderInfo } from './ipc/router.js';
import { trustedSenderPolicy } from './ipc/sender.js';
import { buildMenuTemplate } from './menu.js';
import { NavBridge } from './nav-bridge.js';
import { resolveAppPaths } from './resources.js';
import { APP_ENTRY_URL } from './security/app-protocol.js';
import {
  mainWindowOptions,
  orMonitorWindowOptions,
  pickOrMonitorDisplay,
} from './security/window-options.js';
import { hardenSession, lockDownWebContents, registerAppScheme } from './session-policy.js';

// No code generation from strings anywhere in the app's own processes (zod would use the Function
// constructor for its fast paths).
z.config({ jitless: true });

const PRODUCT_NAME = 'NavWS';
let logFile: WriteStream | null = null;
const log = (line: string): void => {
  const stamped = `${new Date().toISOString()} ${line}`;
  console.error(`[navws main] ${stamped}`);
  logFile?.write(`${stamped}\n`);
};

const paths = resolveAppPaths({
  isPackaged: app.isPackaged,
  appPath: app.getAppPath(),
  resourcesPath: process.resourcesPath,
});
const development = !app.isPackaged;

interface WindowEntry {
  win: BrowserWindow;
  portId: number | null;
}
const windows = new Map<number, WindowEntry>();
const trustedIds = new Set<number>();
let mainWindow: BrowserWindow | null = null;
let orMonitor: BrowserWindow | null = null;
let nextPortId = 1;
let quitting = false;

function broadcast(event: NavEvent): void {
  for (const { win } of windows.values()) if (!win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event);
}

const bridge: NavBridge = new NavBridge({
  engine: (method: string, args: unknown): Promise<unknown> => supervisor.request(method, args),
  isTrustedSender: trustedSenderPolicy(trustedIds),
  broadcast,
  log,
  // The renderer's Export asks for a destination; main shows the dialog and grants the engine the file.
  showSaveDialog: async ({ caseId, format }) => {
    const options = exportMeshDialogOptions(app.getPath('documents'), `navws-${caseId}`, format);
    const parent = BrowserWindow.getFocusedWindow() ?? mainWindow;
    const r = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
    return r.canceled || !r.filePath ? null : r.filePath;
  },
});

const supervisor: EngineSupervisor = new EngineSupervisor({
  spawn: () =>
    forkElectronEngineChild({
      entry: paths.engineEntry,
      args: [
        '--cases',
        paths.casesRoot,
        '--samples',
        paths.samplesDir,
        '--models',
        paths.modelsDir,
        '--version',
        app.getVersion(),
      ],
    }),
  restore: (call): Promise<void> => bridge.restore(call),
});
supervisor.on('event', (event) => bridge.engineEvent(event));
supervisor.on('crash', (crash) => {
  log(
    `engine ${crash.reason} (code ${crash.code}, signal ${crash.signal}); restart in ${crash.restartInMs ?? 'never'} ms`,
  );
  bridge.engineCrashed(crash);
});
supervisor.on('restored', ({ restarts }) => bridge.engineRestored(restarts));
supervisor.on('state', (state) => {
  if (state === 'running') for (const entry of windows.values()) attachStream(entry);
});
supervisor.on('protocolError', log);

/** A fresh MessagePort pair per window: one end to the engine, the other to the window's preload. */
function attachStream(entry: WindowEntry): void {
  if (entry.win.isDestroyed() || supervisor.state !== 'running') return;
  if (entry.portId !== null) supervisor.post({ type: 'detach-frame-port', portId: entry.portId });
  const { port1, port2 } = new MessageChannelMain();
  const portId = nextPortId++;
  if (!supervisor.post({ type: 'attach-frame-port', portId }, [port1])) return;
  entry.portId = portId;
  entry.win.webContents.postMessage(STREAM_PORT_CHANNEL, null, [port2]);
}

function senderOf(event: IpcMainInvokeEvent): SenderInfo {
  const frame = event.senderFrame;
  return {
    webContentsId: event.sender.id,
    frameUrl: frame?.url ?? null,
    isMainFrame: !!frame && frame.parent === null,
  };
}

function openWindow(options: Electron.BrowserWindowConstructorOptions, hash: string): BrowserWindow {
  const win = new BrowserWindow(options);
  const id = win.webContents.id;
  const entry: WindowEntry = { win, portId: null };
  windows.set(id, entry);
  trustedIds.add(id);
  win.once('ready-to-show', () => win.show());
  win.webContents.on('did-finish-load', () => {
    attachStream(entry);
    // A window (re)loaded while the engine is down must still learn that it is down.
    if (supervisor.state === 'failed') {
      win.webContents.send(EVENT_CHANNEL, {
        type: 'engine',
        state: 'down',
        message:
          'The processing engine is stopped after repeated crashes; use Engine > Restart Processing Engine.',
      } satisfies NavEvent);
    }
  });
  win.webContents.on('did-fail-load', (_event, code, description, url) => {
    log(`window failed to load ${url}: ${description} (${code})`);
    win.show();
  });
  // A renderer crash (GPU driver, out of memory) reloads the window; the engine and the recording go on.
  win.webContents.on('render-process-gone', (_event, details) => {
    log(`renderer gone (${details.reason}, exit code ${details.exitCode})`);
    if (details.reason !== 'clean-exit' && !win.isDestroyed()) win.webContents.reload();
  });
  win.on('closed', () => {
    if (entry.portId !== null) supervisor.post({ type: 'detach-frame-port', portId: entry.portId });
    windows.delete(id);
    trustedIds.delete(id);
  });
  void win.loadURL(hash ? `${APP_ENTRY_URL}#${hash}` : APP_ENTRY_URL);
  return win;
}

async function withCase(action: (caseId: string) => Promise<void>): Promise<void> {
  const caseId = bridge.currentCaseId;
  if (!caseId) {
    await dialog.showMessageBox({ type: 'info', message: 'Open or create a case first.', buttons: ['OK'] });
    return;
  }
  try {
    await action(caseId);
  } catch (err) {
    dialog.showErrorBox(PRODUCT_NAME, err instanceof Error ? err.message : String(err));
  }
}

/** A file or folder picked in main's open dialog: the engine may open it (path policy), then it runs. */
async function startPickedRun(picked: string): Promise<void> {
  await withCase(async (caseId) => {
    await bridge.allowPickedSource(picked);
    const source: SourceSpec = { kind: 'file', path: picked };
    await supervisor.request('run.start', parseParams('run.start', { caseId, source }));
  });
}

const menuActions = {
  openVideo: () =>
    void (async () => {
      const r = await dialog.showOpenDialog(openVideoDialogOptions());
      if (!r.canceled && r.filePaths[0]) await startPickedRun(r.filePaths[0]);
    })(),
  openDataset: () =>
    void (async () => {
      const r = await dialog.showOpenDialog(openDatasetDialogOptions());
      if (!r.canceled && r.filePaths[0]) await startPickedRun(r.filePaths[0]);
    })(),
  exportMesh: () =>
    void withCase(async (caseId) => {
      const chosen = await bridge.chooseExportDestination({ caseId, format: 'ply' });
      if (!chosen.grant) return;
      // Progress and the result reach the UI as ordinary `export` events.
      await supervisor.request(
        'export.mesh',
        parseParams('export.mesh', { caseId, format: chosen.format, grant: chosen.grant }),
      );
    }),
  toggleOrMonitor: () => {
    if (orMonitor && !orMonitor.isDestroyed()) {
      orMonitor.close();
      return;
    }
    const display = pickOrMonitorDisplay(screen.getAllDisplays(), screen.getPrimaryDisplay().id);
    if (!display) {
      void dialog.showMessageBox({
        type: 'info',
        message: 'No second display is connected for the OR monitor.',
        buttons: ['OK'],
      });
      return;
    }
    orMonitor = openWindow(
      orMonitorWindowOptions({
        preloadPath: paths.preloadPath,
        iconPath: paths.iconPath,
        bounds: display.bounds,
      }),
      'or-monitor',
    );
    orMonitor.on('closed', () => (orMonitor = null));
  },
  restartEngine: () => {
    if (supervisor.state === 'failed' || supervisor.state === 'stopped') {
      supervisor.start().catch((err: Error) => log(`engine restart failed: ${err.message}`));
    } else {
      supervisor.killForRestart();
    }
  },
  about: () =>
    void dialog.showMessageBox({
      type: 'info',
      title: `About ${PRODUCT_NAME}`,
      message: `${PRODUCT_NAME} ${app.getVersion()}`,
      detail: `Surgical navigation workstation.\nElectron ${process.versions.electron}, Chromium ${process.versions.chrome}, Node ${process.versions.node}.\nEngine: ${supervisor.state}${supervisor.pid ? ` (pid ${supervisor.pid})` : ''}.`,
      buttons: ['OK'],
    }),
};

function start(): void {
  // Crashes, restarts and refused IPC are kept for service staff: <logs>/main.log (Electron's logs folder).
  const logsDir = app.getPath('logs');
  mkdirSync(logsDir, { recursive: true });
  logFile = createWriteStream(path.join(logsDir, 'main.log'), { flags: 'a' });
  log(`NavWS ${app.getVersion()} starting (Electron ${process.versions.electron})`);
  hardenSession(session.defaultSession, paths.rendererDir, log);
  for (const channel of Object.keys(NAV_CONTRACT)) {
    ipcMain.handle(channel, (event, payload: unknown) => bridge.invoke(senderOf(event), channel, payload));
  }
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      buildMenuTemplate(menuActions, { platform: process.platform, development, productName: PRODUCT_NAME }),
    ),
  );
  mainWindow = openWindow(
    mainWindowOptions({ preloadPath: paths.preloadPath, iconPath: paths.iconPath, devTools: development }),
    '',
  );
  mainWindow.on('closed', () => (mainWindow = null));
  screen.on('display-removed', () => {
    if (
      orMonitor &&
      !orMonitor.isDestroyed() &&
      !pickOrMonitorDisplay(screen.getAllDisplays(), screen.getPrimaryDisplay().id)
    ) {
      orMonitor.close();
    }
  });
  supervisor.start().catch((err: Error) => {
    log(`engine did not start: ${err.message}`);
    broadcast({
      type: 'engine',
      state: 'down',
      message: `The processing engine did not start: ${err.message}`,
    });
  });
}

// Without a usable GPU, Chromium composites in software but gives WebGL no fallback unless SwiftShader
// is allowed; the 3D view would stay blank. The renderer loads only the app's own bundle, so the CPU
// rasteriser's larger attack surface is not exposed to web content. (The 3D view detects it and renders
// without multisampling at half resolution: docs/ui.md.)
app.commandLine.appendSwitch('enable-unsafe-swiftshader');

// Security settings that must precede 'ready'.
app.enableSandbox();
registerAppScheme();
lockDownWebContents(log);

if (!app.requestSingleInstanceLock()) {
  // Another NavWS owns the engine and the case store; hand over to it.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    if (quitting || supervisor.state === 'idle' || supervisor.state === 'stopped') return;
    // Let the engine close the case store and finish the recording before the app exits.
    event.preventDefault();
    quitting = true;
    void supervisor.stop().finally(() => app.quit());
  });
  app.whenReady().then(start, (err: Error) => {
    log(`startup failed: ${err.message}`);
    app.exit(1);
  });
}
