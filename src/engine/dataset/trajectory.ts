/**
 * TUM trajectory files: one pose per line, "timestamp tx ty tz qx qy qz qw", camera-to-world,
 * millimetres and seconds. Lines starting with '#' and blank lines are ignored.
 */
import { writeFile } from 'node:fs/promises';
import { readInputFile } from './read-input-file.js';
import { type Mat4, rigidFromRt, rotationOf, translationOf } from '../../shared/math/mat4.js';
import { matrixToQuaternion, quaternionToMatrix } from '../../shared/math/quaternion.js';
import type { Seconds } from '../../shared/units.js';

export interface StampedPose {
  timestamp: Seconds;
  /** Camera-to-world, mm. */
  pose: Mat4;
}

export function parseTum(text: string, file = 'trajectory.txt'): StampedPose[] {
  const out: StampedPose[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    if (parts.length !== 8)
      throw new Error(`${file}:${i + 1}: expected 8 numbers "t tx ty tz qx qy qz qw", got ${parts.length}`);
    const v = parts.map(Number);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0)
      throw new Error(`${file}:${i + 1}: field ${bad + 1} '${parts[bad]}' is not a finite number`);
    const q = [v[4]!, v[5]!, v[6]!, v[7]!] as const;
    const norm = Math.hypot(...q);
    if (Math.abs(norm - 1) > 1e-3)
      throw new Error(`${file}:${i + 1}: quaternion norm is ${norm.toFixed(6)}, expected 1`);
    const prev = out.at(-1);
    if (prev && v[0]! < prev.timestamp)
      throw new Error(`${file}:${i + 1}: timestamp ${v[0]} goes back in time`);
    out.push({
      timestamp: v[0]!,
      pose: rigidFromRt(quaternionToMatrix([q[0], q[1], q[2], q[3]]), [v[1]!, v[2]!, v[3]!]),
    });
  });
  return out;
}

export function formatTum(poses: readonly StampedPose[]): string {
  const lines = ['# timestamp[s] tx ty tz[mm] qx qy qz qw  (camera-to-world, world = first camera)'];
  for (const { timestamp, pose } of poses) {
    const t = translationOf(pose);
    const q = matrixToQuaternion(rotationOf(pose));
    lines.push(
      [timestamp.toFixed(6), ...t.map((x) => x.toFixed(6)), ...q.map((x) => x.toFixed(9))].join(' '),
    );
  }
  return lines.join('\n') + '\n';
}

export async function readTum(file: string): Promise<StampedPose[]> {
  return parseTum((await readInputFile(file)).toString('utf8'), file);
}

export async function writeTum(file: string, poses: readonly StampedPose[]): Promise<void> {
  await writeFile(file, formatTum(poses));
}
