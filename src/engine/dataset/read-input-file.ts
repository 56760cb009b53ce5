/** Reads an input file, turning I/O failures into an error that names the file and the reason. */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

export async function readInputFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`${file}: cannot read (${reason})`, { cause: err });
  }
}

/**
 * The numbers of a whitespace-separated text file (calibration and point files of real datasets).
 * `skipWords`: labels between the numbers (e.g. Open-CAS's calibration file) are passed over.
 */
export async function readNumberFile(file: string, { skipWords = false } = {}): Promise<number[]> {
  const tokens = (await readInputFile(file)).toString('utf8').trim().split(/\s+/);
  const values = (skipWords ? tokens.filter((t) => /^[-+0-9.eE]+$/.test(t)) : tokens).map(Number);
  if (values.some((v) => !Number.isFinite(v)))
    throw new Error(`${file}: expected whitespace-separated numbers`);
  return values;
}

/**
 * A JSON input file checked against its schema: errors name the file, and the first field that is wrong
 * ("intrinsics.json: field 'fx': Too small"), for every contract file (intrinsics, stereo profile, models).
 */
export function parseJsonInput<S extends z.ZodType>(text: string, file: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return parsed.data;
}
