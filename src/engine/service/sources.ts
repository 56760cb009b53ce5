/**
 * Turns a source request from the UI into a frame source with its calibration: bundled samples and
 * dataset folders through the dataset contract, video files through ffmpeg (src/engine/capture). A
 * `file` source is opened only where the path policy allows it (path-policy.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { SourceInfo, SourceSpec } from '../../shared/api/schemas.js';
import { NavApiError } from '../../shared/api/nav-api.js';
import type { PinholeIntrinsics } from '../../shared/camera.js';
import { DatasetFrameSource } from '../capture/dataset-source.js';
import type { FrameSource } from '../capture/frame-source.js';
import type { DatasetInfo } from '../dataset/dataset.js';
import type { PathPolicy } from './path-policy.js';

export interface OpenedSource {
  spec: SourceSpec;
  /** A path or device name for logs and the run record. */
  description: string;
  frames: FrameSource;
  intrinsics: PinholeIntrinsics;
  fps: number;
  /** The dataset behind the frames, when the source is a dataset folder (gives ground truth to evaluate against). */
  dataset: DatasetInfo | null;
  /** A device delivers frames in real time; files and samples are replayed at their frame rate. */
  live: boolean;
}

export function samplePath(samplesRoot: string, name: string): string {
  if (!/^[a-z0-9_-]{1,64}$/.test(name))
    throw new NavApiError('bad-request', `sample name "${name}" is not valid`);
  return path.join(samplesRoot, name);
}

export async function openSource(
  spec: SourceSpec,
  samplesRoot: string,
  policy: PathPolicy,
): Promise<OpenedSource> {
  switch (spec.kind) {
    case 'sample':
    case 'file': {
      const root =
        spec.kind === 'sample' ? samplePath(samplesRoot, spec.name) : policy.checkSource(spec.path);
      if (!existsSync(root))
        throw new NavApiError('not-found', `${root}: no such ${spec.kind === 'sample' ? 'sample' : 'file'}`);
      if (!statSync(root).isDirectory()) {
        throw new NavApiError(
          'bad-request',
          `${root}: a video file has no calibration; put it in a dataset folder with intrinsics.json (docs/formats.md)`,
        );
      }
      let frames: DatasetFrameSource;
      try {
        frames = await DatasetFrameSource.open(root);
      } catch (err) {
        throw new NavApiError('bad-request', (err as Error).message);
      }
      const k = frames.dataset.intrinsics;
      return {
        spec,
        description: root,
        frames,
        intrinsics: k,
        fps: k.fps,
        dataset: frames.dataset,
        live: false,
      };
    }
    case 'device':
      throw new NavApiError(
        'unavailable',
        `capture device ${spec.device}: live device capture is not wired into the workstation yet; record to a file and open it`,
      );
  }
}

/** Datasets listed from one configured root: the root itself or its sub-folders with intrinsics.json. */
const MAX_LISTED_PER_ROOT = 200;

async function datasetsUnder(root: string): Promise<SourceInfo[]> {
  const entry = (folder: string): SourceInfo => ({
    source: { kind: 'file', path: folder },
    label: `Dataset: ${path.basename(folder)}`,
    available: true,
    detail: folder,
  });
  if (!existsSync(root) || !statSync(root).isDirectory()) return [];
  if (existsSync(path.join(root, 'intrinsics.json'))) return [entry(root)];
  const out: SourceInfo[] = [];
  for (const e of (await readdir(root, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (out.length >= MAX_LISTED_PER_ROOT) break;
    if (e.isDirectory() && existsSync(path.join(root, e.name, 'intrinsics.json')))
      out.push(entry(path.join(root, e.name)));
  }
  return out;
}

/**
 * Bundled samples (folders with intrinsics.json under samplesRoot), datasets in the configured source
 * roots, and capture devices present.
 */
export async function listSources(
  samplesRoot: string,
  configuredRoots: readonly string[] = [],
): Promise<SourceInfo[]> {
  const out: SourceInfo[] = [];
  if (existsSync(samplesRoot)) {
    for (const entry of (await readdir(samplesRoot, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (!entry.isDirectory() || !/^[a-z0-9_-]{1,64}$/.test(entry.name)) continue;
      const hasIntrinsics = existsSync(path.join(samplesRoot, entry.name, 'intrinsics.json'));
      out.push({
        source: { kind: 'sample', name: entry.name },
        label: `Sample: ${entry.name}`,
        available: hasIntrinsics,
        detail: hasIntrinsics ? path.join(samplesRoot, entry.name) : 'missing intrinsics.json',
      });
    }
  }
  for (const root of configuredRoots) out.push(...(await datasetsUnder(root)));
  if (process.platform === 'linux' && existsSync('/dev')) {
    for (const name of (await readdir('/dev')).filter((n) => /^video\d+$/.test(n)).sort()) {
      out.push({
        source: { kind: 'device', device: `/dev/${name}` },
        label: `Camera /dev/${name}`,
        available: false,
        detail: 'v4l2',
      });
    }
  }
  return out;
}
