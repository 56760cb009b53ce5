/**
 * The application menu as plain data. Every action runs in main (dialogs, engine requests); the
 * renderer is told about results through the ordinary NavApi events.
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openVideo(): void;
  openDataset(): void;
  exportMesh(): void;
  toggleOrMonitor(): void;
  restartEngine(): void;
  about(): void;
}

export interface MenuContext {
  platform: NodeJS.Platform;
  /** Development builds add reload and devtools. */
  development: boolean;
  productName: string;
}

export function buildMenuTemplate(actions: MenuActions, ctx: MenuContext): MenuItemConstructorOptions[] {
  const isMac = ctx.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [];
  if (isMac) {
    template.push({
      label: ctx.productName,
      submenu: [
        { label: `About ${ctx.productName}`, click: () => actions.about() },
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { type: 'separator' },
        { role: 'quit' },
      ],
    });
  }
  template.push({
    label: '&File',
    submenu: [
      { label: 'Open Video File…', accelerator: 'CmdOrCtrl+O', click: () => actions.openVideo() },
      { label: 'Open Dataset Folder…', accelerator: 'CmdOrCtrl+Shift+O', click: () => actions.openDataset() },
      { type: 'separator' },
      { label: 'Export Mesh…', accelerator: 'CmdOrCtrl+E', click: () => actions.exportMesh() },
      ...(isMac ? [] : [{ type: 'separator' } as const, { role: 'quit' } as const]),
    ],
  });
  template.push({
    label: '&Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  });
  template.push({
    label: '&View',
    submenu: [
      {
        label: 'OR Monitor Window',
        accelerator: 'CmdOrCtrl+Shift+M',
        click: () => actions.toggleOrMonitor(),
      },
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(ctx.development
        ? [{ type: 'separator' } as const, { role: 'reload' } as const, { role: 'toggleDevTools' } as const]
        : []),
    ],
  });
  template.push({
    label: 'E&ngine',
    submenu: [{ label: 'Restart Processing Engine', click: () => actions.restartEngine() }],
  });
  template.push({
    label: '&Help',
    submenu: isMac ? [] : [{ label: `About ${ctx.productName}`, click: () => actions.about() }],
  });
  return template;
}
