/**
 * models/manifest.json: what each shipped network is (file, sha256, inputs/outputs, depth range) and how
 * it was trained. Every model file is checked against it before a session is created, so a missing,
 * truncated, corrupt or mismatched file fails with an error that names the file and the problem.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseJsonInput } from '../../engine/dataset/read-input-file.js';

const tensorSpec = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().positive()).min(1),
  dtype: z.literal('float32'),
  normalisation: z.string().optional(),
  description: z.string().optional(),
});

const modelEntry = z.object({
  file: z.string().min(1),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  opset: z.number().int().min(13),
  inputs: z.array(tensorSpec).min(1),
  outputs: z.array(tensorSpec).min(1),
});

const manifestSchema = z.object({
  format: z.literal('navws-models/1'),
  models: z.object({
    depth: modelEntry.extend({
      depth_units: z.literal('mm'),
      depth_range_mm: z.tuple([z.number().positive(), z.number().positive()]),
    }),
    pose: modelEntry,
  }),
});

export type ModelManifest = z.infer<typeof manifestSchema>;
export type ModelEntry = z.infer<typeof modelEntry>;
export type TensorSpec = z.infer<typeof tensorSpec>;

/** Tensor names the inference code relies on, by model. */
export const REQUIRED_IO = {
  depth: { inputs: ['image', 'memory_in'], outputs: ['depth', 'memory_out'] },
  pose: { inputs: ['pair'], outputs: ['axisangle', 'translation'] },
} as const;

/** The repository's models/ folder (src/workers/depth and dist/workers/depth are both 3 levels down). */
/**
 * Where the models are: NAVWS_MODELS_DIR when set (the packaged app's engine process sets it to
 * resources/models, which electron-builder ships outside the asar archive; a site may point it
 * elsewhere), else the repository's models/ (development, CLI, tests).
 */
export function defaultModelDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NAVWS_MODELS_DIR) return path.resolve(env.NAVWS_MODELS_DIR);
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models');
}

export function parseManifest(text: string, file: string): ModelManifest {
  const m = parseJsonInput(text, file, manifestSchema);
  for (const key of ['depth', 'pose'] as const) {
    const entry = m.models[key];
    const need = REQUIRED_IO[key];
    for (const name of need.inputs) {
      if (!entry.inputs.some((t) => t.name === name))
        throw new Error(`${file}: ${key} model lacks input '${name}'`);
    }
    for (const name of need.outputs) {
      if (!entry.outputs.some((t) => t.name === name))
        throw new Error(`${file}: ${key} model lacks output '${name}'`);
    }
  }
  const [lo, hi] = m.models.depth.depth_range_mm;
  if (!(lo < hi)) throw new Error(`${file}: depth_range_mm [${lo}, ${hi}] is empty`);
  return m;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checks the file exists, has the declared size and sha256; returns its absolute path. */
export async function verifyModelFile(dir: string, entry: ModelEntry): Promise<string> {
  const file = path.resolve(dir, entry.file);
  if (!existsSync(file))
    throw new Error(`${file}: model file is missing (listed in ${path.join(dir, 'manifest.json')})`);
  const { size } = await stat(file);
  if (size !== entry.bytes) {
    throw new Error(
      `${file}: model file is ${size} bytes, manifest.json says ${entry.bytes} (truncated or replaced)`,
    );
  }
  const digest = await sha256Of(file);
  if (digest !== entry.sha256) {
    throw new Error(
      `${file}: model file is corrupt or mismatched (sha256 ${digest}, manifest.json says ${entry.sha256})`,
    );
  }
  return file;
}

export async function loadManifest(dir: string): Promise<ModelManifest> {
  const file = path.join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(
      `${file}: cannot read model manifest (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      { cause: err },
    );
  }
  return parseManifest(text, file);
}

/** What an onnxruntime session reports about its graph inputs/outputs. */
export interface SessionIo {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputShapes: ReadonlyMap<string, readonly (number | string)[]>;
}

/** Throws when the loaded graph does not have the inputs/outputs (names, shapes) the manifest declares. */
export function checkSessionIo(io: SessionIo, entry: ModelEntry, file: string): void {
  for (const spec of entry.inputs) {
    if (!io.inputNames.includes(spec.name)) {
      throw new Error(
        `${file}: graph has no input '${spec.name}' (has ${io.inputNames.join(', ')}); manifest mismatch`,
      );
    }
    const shape = io.inputShapes.get(spec.name);
    if (
      shape &&
      (shape.length !== spec.shape.length ||
        shape.some((d, i) => typeof d === 'number' && d !== spec.shape[i]))
    ) {
      throw new Error(
        `${file}: input '${spec.name}' has shape [${shape.join(',')}], manifest.json says [${spec.shape.join(',')}]`,
      );
    }
  }
  for (const spec of entry.outputs) {
    if (!io.outputNames.includes(spec.name)) {
      throw new Error(
        `${file}: graph has no output '${spec.name}' (has ${io.outputNames.join(', ')}); manifest mismatch`,
      );
    }
  }
}
