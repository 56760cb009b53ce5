/**
 * What the end-to-end tests and bench/ui.ts share: the browser host started from source on an
 * ephemeral port with a temporary case folder, and Debian's Chromium driven by playwright-core with
 * WebGL through SwiftShader.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { decode } from 'fast-png';
import { EngineService } from '../src/engine/service/engine-service.js';
import { type BrowserHost, startBrowserHost } from '../src/server/browser-host.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const rendererDir = path.join(repoRoot, 'dist', 'renderer');
export const samplesRoot = path.join(repoRoot, 'samples');
export const CHROMIUM = process.env.NAVWS_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function browserSkipReason(): string | null {
  if (!existsSync(CHROMIUM))
    return `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set NAVWS_CHROMIUM)`;
  if (!existsSync(path.join(rendererDir, 'app.js')))
    return `no renderer bundle in ${rendererDir}: run \`npm run build\` first`;
  return null;
}

export function sampleSkipReason(name = 'phantom'): string | null {
  return existsSync(path.join(samplesRoot, name, 'intrinsics.json'))
    ? null
    : `samples/${name} is missing (navws synth writes it)`;
}

export interface HostFixture {
  host: BrowserHost;
  api: EngineService;
  casesRoot: string;
  close(): Promise<void>;
}

/** The browser host on an ephemeral port, with a fresh case store in a temporary folder. */
export async function startHostFixture(): Promise<HostFixture> {
  const casesRoot = mkdtempSync(path.join(os.tmpdir(), 'navws-e2e-cases-'));
  const api = await EngineService.open({ host: 'browser', casesRoot, samplesRoot });
  const host = await startBrowserHost({ api, staticRoot: rendererDir, port: 0 });
  return {
    host,
    api,
    casesRoot,
    close: async () => {
      await api.close();
      await host.close();
      rmSync(casesRoot, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  // Composite in software, as Chromium and Electron do themselves without a usable GPU: compositing
  // through SwiftShader costs about a core per 1080p frame (bench:ui), which starved the page.
  '--disable-gpu-compositing',
  // A software GPU on a loaded machine can be slower than the GPU watchdog allows; a killed GPU process
  // would lose every WebGL context in the middle of a test.
  '--disable-gpu-watchdog',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface PixelStats {
  width: number;
  height: number;
  /** Pixels that are clearly the trajectory's green. */
  green: number;
  /** Pixels that differ from the scene background. */
  nonBackground: number;
  /** Pixels with some colour that is neither background nor green (the surface). */
  surface: number;
}

/** Screenshots an element and counts what was actually rendered there. */
export async function elementPixels(page: Page, selector: string): Promise<PixelStats> {
  const png = decode(await page.locator(selector).screenshot());
  const channels = png.channels;
  const data = png.data;
  let green = 0;
  let nonBackground = 0;
  let surface = 0;
  for (let i = 0; i < png.width * png.height; i++) {
    const r = data[i * channels]!;
    const g = data[i * channels + 1]!;
    const b = data[i * channels + 2]!;
    const isBackground = r < 24 && g < 28 && b < 36;
    if (isBackground) continue;
    nonBackground++;
    if (g > 150 && r < 120 && b < 140 && g > r + 60) green++;
    else if (r + g + b > 90) surface++;
  }
  return { width: png.width, height: png.height, green, nonBackground, surface };
}

/**
 * Two page points over the rendered surface in an element, on the middle row of the surface, 25% and
 * 75% across it (so a click there picks the mesh, whatever the framing).
 */
export async function surfaceClickPoints(
  page: Page,
  selector: string,
): Promise<[{ x: number; y: number }, { x: number; y: number }]> {
  const locator = page.locator(selector);
  const box = (await locator.boundingBox())!;
  const png = decode(await locator.screenshot());
  const c = png.channels;
  const isSurface = (x: number, y: number): boolean => {
    const i = (y * png.width + x) * c;
    const [r, g, b] = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
    return r + g + b > 90 && !(g > r + 60) && !(r > 200 && g > 170 && b < 100);
  };
  const rows: number[] = [];
  for (let y = 0; y < png.height; y += 2) {
    let n = 0;
    for (let x = 0; x < png.width; x += 2) if (isSurface(x, y)) n++;
    rows.push(n);
  }
  const bestRow = rows.indexOf(Math.max(...rows)) * 2;
  const xs: number[] = [];
  for (let x = 0; x < png.width; x++) {
    // Require a solid neighbourhood so the click does not land on an edge or a hole.
    let solid = true;
    for (let dy = -3; dy <= 3 && solid; dy++)
      for (let dx = -3; dx <= 3 && solid; dx++)
        solid = isSurface(
          Math.min(png.width - 1, Math.max(0, x + dx)),
          Math.min(png.height - 1, Math.max(0, bestRow + dy)),
        );
    if (solid) xs.push(x);
  }
  if (xs.length < 10) throw new Error(`no solid surface row in ${selector}`);
  const a = xs[Math.floor(xs.length * 0.25)]!;
  const b = xs[Math.floor(xs.length * 0.75)]!;
  const scale = box.width / png.width;
  return [
    { x: box.x + a * scale, y: box.y + bestRow * scale },
    { x: box.x + b * scale, y: box.y + bestRow * scale },
  ];
}

/** Saves a screenshot of the page under test-results/ (for failures). */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  const dir = path.join(repoRoot, 'test-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  writeFileSync(file, await page.screenshot({ fullPage: true }));
  return file;
}
