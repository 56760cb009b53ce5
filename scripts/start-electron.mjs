#!/usr/bin/env node
// `npm start`: builds NavWS and launches it in Electron. Where the Electron binary is not installed it
// says so, explains how to install it and how to get the same UI in a browser, and exits with code 1.
// It never triggers a download: `require('electron')` would fetch the binary lazily, so this script
// only reads node_modules/electron/{package.json,path.txt} and checks the file exists.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The executable's path inside Electron's dist/ folder (same table as electron/install.js). */
export function electronPlatformPath(platform) {
  switch (platform) {
    case 'darwin':
    case 'mas':
      return 'Electron.app/Contents/MacOS/Electron';
    case 'win32':
      return 'electron.exe';
    default:
      return 'electron';
  }
}

/**
 * Where the Electron binary is, or why it is not there.
 * @returns {{ found: true, binary: string, version: string } | { found: false, looked: string, version: string | null, reason: string }}
 */
export function findElectronBinary({
  root = projectRoot,
  env = process.env,
  platform = process.platform,
} = {}) {
  const pkgDir = path.join(root, 'node_modules', 'electron');
  const pkgFile = path.join(pkgDir, 'package.json');
  if (!existsSync(pkgFile)) {
    return {
      found: false,
      looked: pkgFile,
      version: null,
      reason: 'the electron package is not installed (run `npm install`)',
    };
  }
  const version = JSON.parse(readFileSync(pkgFile, 'utf8')).version ?? null;
  const pathTxt = path.join(pkgDir, 'path.txt');
  const relative = existsSync(pathTxt)
    ? readFileSync(pathTxt, 'utf8').trim()
    : electronPlatformPath(platform);
  const distDir = env.ELECTRON_OVERRIDE_DIST_PATH
    ? path.resolve(env.ELECTRON_OVERRIDE_DIST_PATH)
    : path.join(pkgDir, 'dist');
  const binary = path.join(distDir, relative);
  if (!existsSync(binary)) {
    const reason = existsSync(distDir)
      ? `${distDir} exists but holds no ${relative}`
      : `${distDir} does not exist: Electron ${version} downloads its binary lazily, on first use, and it has not been downloaded`;
    return { found: false, looked: binary, version, reason };
  }
  return { found: true, binary, version };
}

export function missingElectronMessage(result) {
  const v = result.version ?? '<version in package.json>';
  return [
    `npm start: the Electron binary is not installed, so NavWS cannot open as a desktop app here.`,
    `  looked for: ${result.looked}`,
    `  why:        ${result.reason}`,
    `Nothing was downloaded. To install Electron ${v} on a machine with network access, either:`,
    `  npx install-electron                               (downloads the binary into node_modules/electron/dist)`,
    `  rm -rf node_modules/electron && npm install && npx install-electron`,
    `  or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron ${v} folder.`,
    `The same UI runs in a browser without Electron:`,
    `  npm run build && npm run serve                     (local server on 127.0.0.1, prints the URL with its token)`,
  ].join('\n');
}

function main() {
  const found = findElectronBinary();
  if (!found.found) {
    console.error(missingElectronMessage(found));
    process.exit(1);
  }
  const build = spawnSync(process.execPath, [path.join(projectRoot, 'scripts', 'build.mjs')], {
    stdio: 'inherit',
    cwd: projectRoot,
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const child = spawn(found.binary, [projectRoot, ...process.argv.slice(2)], {
    stdio: 'inherit',
    cwd: projectRoot,
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
