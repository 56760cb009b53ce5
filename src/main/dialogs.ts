/**
 * Options for the native file dialogs and the checks on what the user picked. The dialogs themselves
 * are shown by main (Electron's dialog module); these functions are plain data and tested without it.
 */
import path from 'node:path';
import type { OpenDialogOptions, SaveDialogOptions } from 'electron';
import type { MeshFormat } from '../shared/api/schemas.js';

export const VIDEO_EXTENSIONS = ['mp4', 'mkv', 'mov', 'avi', 'webm', 'mpg', 'ts'] as const;

export const MESH_FORMATS: readonly { format: MeshFormat; name: string }[] = [
  { format: 'ply', name: 'PLY mesh (colours)' },
  { format: 'obj', name: 'Wavefront OBJ' },
  { format: 'stl', name: 'STL (planning software)' },
  { format: 'glb', name: 'glTF binary' },
];

export function openVideoDialogOptions(defaultPath?: string): OpenDialogOptions {
  return {
    title: 'Open endoscope video',
    properties: ['openFile'],
    filters: [
      { name: 'Video', extensions: [...VIDEO_EXTENSIONS] },
      { name: 'All files', extensions: ['*'] },
    ],
    ...(defaultPath ? { defaultPath } : {}),
  };
}

export function openDatasetDialogOptions(defaultPath?: string): OpenDialogOptions {
  return {
    title: 'Open dataset folder (intrinsics.json + rgb/)',
    properties: ['openDirectory'],
    ...(defaultPath ? { defaultPath } : {}),
  };
}

export function exportMeshDialogOptions(
  defaultDir: string,
  baseName: string,
  format: MeshFormat = 'ply',
): SaveDialogOptions {
  const first = MESH_FORMATS.find((f) => f.format === format)!;
  return {
    title: 'Export mesh',
    defaultPath: path.join(defaultDir, `${baseName}.${format}`),
    filters: [first, ...MESH_FORMATS.filter((f) => f !== first)].map((f) => ({
      name: f.name,
      extensions: [f.format],
    })),
    properties: ['createDirectory', 'showOverwriteConfirmation'],
  };
}

export type PickedExport =
  { ok: true; outputPath: string; format: MeshFormat } | { ok: false; reason: string };

/** The export format follows the extension the user chose; anything else is refused with a reason. */
export function checkExportPath(picked: string): PickedExport {
  if (!path.isAbsolute(picked)) return { ok: false, reason: `not an absolute path: ${picked}` };
  const ext = path.extname(picked).slice(1).toLowerCase();
  const match = MESH_FORMATS.find((f) => f.format === ext);
  if (!match) {
    return {
      ok: false,
      reason: `unknown mesh format '.${ext}'; use ${MESH_FORMATS.map((f) => `.${f.format}`).join(', ')}`,
    };
  }
  return { ok: true, outputPath: picked, format: match.format };
}
