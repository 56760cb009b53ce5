/**
 * Loads the Node-API addon built from native/ (one binary for Node and Electron). Resolution order:
 * NAVWS_NATIVE_ADDON, then native/build/Release, then native/build/Debug (sanitizer/debug builds).
 * In a packaged app the addon is unpacked from asar; Electron maps the asar path to app.asar.unpacked.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadBudget } from './thread-budget.js';

const require = createRequire(import.meta.url);
// src/workers and dist/workers are both two levels below the project root.
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function nativeAddonCandidates(): string[] {
  const list: string[] = [];
  if (process.env.NAVWS_NATIVE_ADDON) list.push(path.resolve(process.env.NAVWS_NATIVE_ADDON));
  list.push(path.join(projectRoot, 'native', 'build', 'Release', 'navws_native.node'));
  list.push(path.join(projectRoot, 'native', 'build', 'Debug', 'navws_native.node'));
  return list;
}

let cached: unknown = null;

/** The addon's exports; each kernel family is a sub-object (e.g. addon.fusion, addon.tracking). */
export function loadNativeAddon<T = Record<string, unknown>>(): T {
  if (cached) return cached as T;
  const candidates = nativeAddonCandidates();
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `native addon not built: none of ${candidates.join(', ')} exists; run 'npm run native:build' (needs a C++17 compiler)`,
    );
  }
  const addon = require(found) as { configureThreadPool: (threads: number) => number };
  // The process's one thread budget sizes the kernels' pool before any kernel creates it.
  addon.configureThreadPool(threadBudget().nativeThreads);
  cached = addon;
  return cached as T;
}
