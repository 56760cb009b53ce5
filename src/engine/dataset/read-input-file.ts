/** Reads an input file, turning I/O failures into an error that names the file and the reason. */
import { readFile } from 'node:fs/promises';

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
