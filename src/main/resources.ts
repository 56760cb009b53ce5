/**
 * Where the app's files are at run time. In development `electron .` runs from the project root; in a
 * packaged app the code is in resources/app.asar, native binaries in resources/app.asar.unpacked (they
 * cannot be loaded or executed from inside an archive), and models/ and samples/ are extra resources next
 * to the archive (docs/packaging.md).
 */
import os from 'node:os';
import path from 'node:path';

export interface RuntimeLayout {
  isPackaged: boolean;
  /** app.getAppPath(): the project root in development, .../resources/app.asar when packaged. */
  appPath: string;
  /** process.resourcesPath: .../resources when packaged. */
  resourcesPath: string;
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
}

export interface AppPaths {
  rendererDir: string;
  preloadPath: string;
  engineEntry: string;
  modelsDir: string;
  samplesDir: string;
  casesRoot: string;
  iconPath: string;
}

/** The real on-disk path of a file that electron-builder unpacked from the asar archive. */
export function unpackedPath(file: string): string {
  return file.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
}

export function resolveAppPaths(layout: RuntimeLayout): AppPaths {
  const env = layout.env ?? process.env;
  const dist = path.join(layout.appPath, 'dist');
  const shipped = (name: string): string =>
    layout.isPackaged ? path.join(layout.resourcesPath, name) : path.join(layout.appPath, name);
  return {
    rendererDir: path.join(dist, 'renderer'),
    preloadPath: path.join(dist, 'preload', 'preload.cjs'),
    engineEntry: path.join(dist, 'engine', 'process', 'engine-main.js'),
    modelsDir: env.NAVWS_MODELS_DIR ? path.resolve(env.NAVWS_MODELS_DIR) : shipped('models'),
    samplesDir: shipped('samples'),
    // Same default as the browser host (`npm run serve`), so a case recorded in the OR can be
    // reviewed from a browser on the same machine.
    casesRoot: path.resolve(env.NAVWS_CASES ?? path.join(layout.homeDir ?? os.homedir(), '.navws', 'cases')),
    iconPath: layout.isPackaged
      ? path.join(layout.resourcesPath, 'icon.png')
      : path.join(layout.appPath, 'build', 'icon.png'),
  };
}
