/**
 * BrowserWindow options for every window the app opens. Plain data, so a test can walk Electron's
 * security checklist against exactly what main passes to `new BrowserWindow(...)`.
 */
import type { BrowserWindowConstructorOptions, Rectangle, WebPreferences } from 'electron';

/** The web preferences every window gets; nothing here may be relaxed per window. */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    enableBlinkFeatures: '',
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    // The 3D view and video must keep their frame rate when the window is covered by a dialog.
    backgroundThrottling: false,
    devTools: true,
  };
}

export interface WindowOptionsInput {
  preloadPath: string;
  iconPath?: string;
  /** Work area of the display the window opens on. */
  bounds?: Rectangle;
  /** Production builds close devtools; development keeps them for debugging. */
  devTools?: boolean;
}

const BACKGROUND = '#0b0e12';

/** The surgeon's main window (case browser, live view, review). */
export function mainWindowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    title: 'NavWS',
    width: input.bounds?.width ?? 1600,
    height: input.bounds?.height ?? 1000,
    ...(input.bounds ? { x: input.bounds.x, y: input.bounds.y } : {}),
    minWidth: 1024,
    minHeight: 700,
    show: false,
    backgroundColor: BACKGROUND,
    autoHideMenuBar: false,
    ...(input.iconPath ? { icon: input.iconPath } : {}),
    webPreferences: { ...secureWebPreferences(input.preloadPath), devTools: input.devTools ?? false },
  };
}

/**
 * The OR monitor window: the live view only, full screen on a second display, no menu, no frame.
 * Same renderer, same preload, same restrictions as the main window.
 */
export function orMonitorWindowOptions(
  input: WindowOptionsInput & { bounds: Rectangle },
): BrowserWindowConstructorOptions {
  return {
    title: 'NavWS — OR monitor',
    x: input.bounds.x,
    y: input.bounds.y,
    width: input.bounds.width,
    height: input.bounds.height,
    show: false,
    frame: false,
    fullscreen: true,
    autoHideMenuBar: true,
    backgroundColor: BACKGROUND,
    ...(input.iconPath ? { icon: input.iconPath } : {}),
    webPreferences: { ...secureWebPreferences(input.preloadPath), devTools: input.devTools ?? false },
  };
}

export interface DisplayInfo {
  id: number;
  bounds: Rectangle;
  workArea: Rectangle;
  internal?: boolean;
}

/**
 * The display for the OR monitor: the largest one that is not the primary display (the surgeon's
 * workstation screen), or null when only one display is connected.
 */
export function pickOrMonitorDisplay(
  displays: readonly DisplayInfo[],
  primaryId: number,
): DisplayInfo | null {
  const others = displays.filter((d) => d.id !== primaryId);
  if (others.length === 0) return null;
  return others.reduce((best, d) =>
    d.bounds.width * d.bounds.height > best.bounds.width * best.bounds.height ? d : best,
  );
}
