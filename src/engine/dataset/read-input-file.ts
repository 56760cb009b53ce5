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
