/** Turns a dataset's rgb/NNNNNN.png frames into rgb.mp4 (the contract's video alternative) with ffmpeg. */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { getFfmpeg, requireFfmpeg } from '../engine/capture/ffmpeg.js';

const run = promisify(execFile);

export async function encodeFramesAsVideo(root: string, fps: number): Promise<void> {
  const ffmpeg = await getFfmpeg();
  requireFfmpeg(ffmpeg, { encoders: ['libx264'] }, 'encoding the phantom as rgb.mp4');
  const target = path.join(root, 'rgb.mp4');
  try {
    // 4:4:4 keeps the colour resolution of the rendered frames; single-threaded x264 keeps it deterministic.
    await run(ffmpeg.path, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-framerate',
      String(fps),
      '-i',
      path.join(root, 'rgb', '%06d.png'),
      '-c:v',
      'libx264',
      '-preset',
      'slow',
      '-crf',
      '14',
      '-pix_fmt',
      'yuv444p',
      '-threads',
      '1',
      '-bitexact',
      '-movflags',
      '+faststart',
      target,
    ]);
  } catch (err) {
    throw new Error(
      `${target}: ffmpeg could not encode the frames (${(err as Error).message.split('\n')[0]})`,
      { cause: err },
    );
  }
  await rm(path.join(root, 'rgb'), { recursive: true, force: true });
}
