/**
 * Capture devices and their modes, as ffmpeg sees them: Linux v4l2 (/dev/video*), Windows DirectShow
 * and macOS AVFoundation. The listing parsers are pure functions over ffmpeg's log lines (unit-tested
 * on recorded output); listing itself runs ffmpeg.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { FfmpegProcess } from './ffmpeg-process.js';
import { exactFrameRate } from './probe.js';

export type DeviceApi = 'v4l2' | 'dshow' | 'avfoundation';

export interface DeviceMode {
  width: number;
  height: number;
  /** Raw pixel format (e.g. yuyv422, nv12), or null when the mode is compressed. */
  pixelFormat: string | null;
  /** Compressed codec (e.g. mjpeg, h264), or null for raw modes. */
  codec: string | null;
  /** Frame-rate range in frames per second; exact NTSC values (59.94 -> 60000/1001); null when the API does not say. */
  minFps: number | null;
  maxFps: number | null;
}

export interface CaptureDevice {
  api: DeviceApi;
  /** What to pass to ffmpeg's -i (after the API's prefix, e.g. "video=" for dshow). */
  id: string;
  name: string;
  modes: DeviceMode[];
}

export function defaultDeviceApi(platform: NodeJS.Platform = process.platform): DeviceApi | null {
  return platform === 'linux'
    ? 'v4l2'
    : platform === 'win32'
      ? 'dshow'
      : platform === 'darwin'
        ? 'avfoundation'
        : null;
}

/** ffmpeg's -framerate argument for a rate: NTSC rates as exact rationals ("60000/1001"). */
export function frameRateArg(fps: number): string {
  const exact = exactFrameRate(fps);
  if (exact !== fps || Math.abs(fps * 1001 - Math.round(fps * 1001)) < 1e-6) {
    const num = Math.round(exact * 1001);
    if (Math.abs(num / 1001 - exact) < 1e-9 && num % 1000 === 0) return `${num}/1001`;
  }
  return Number.isInteger(fps) ? String(fps) : fps.toFixed(6).replace(/0+$/, '');
}

const strip = (line: string): string => line.replace(/^\[[^\]]*@ [^\]]*\]\s?/, '');

/** `ffmpeg -f v4l2 -list_formats all -i /dev/videoN` lines -> modes (discrete sizes only). */
export function parseV4l2Formats(lines: readonly string[]): DeviceMode[] {
  const modes: DeviceMode[] = [];
  for (const raw of lines) {
    const m = /^(Raw|Compressed)\s*:\s*(\S+)\s*:\s*(.*?)\s*:\s*(.*)$/.exec(strip(raw).trim());
    if (!m) continue;
    const compressed = m[1] === 'Compressed';
    for (const size of m[4]!.trim().split(/\s+/)) {
      const s = /^(\d+)x(\d+)$/.exec(size);
      if (!s) continue;
      modes.push({
        width: Number(s[1]),
        height: Number(s[2]),
        pixelFormat: compressed ? null : m[2]!,
        codec: compressed ? m[2]! : null,
        minFps: null,
        maxFps: null,
      });
    }
  }
  return modes;
}

/** `ffmpeg -list_devices true -f dshow -i dummy` lines -> video device names (old and new formats). */
export function parseDshowDevices(lines: readonly string[]): string[] {
  const names: string[] = [];
  let section: 'video' | 'audio' | null = null;
  for (const raw of lines) {
    const line = strip(raw);
    if (/DirectShow video devices/i.test(line)) section = 'video';
    else if (/DirectShow audio devices/i.test(line)) section = 'audio';
    const tagged = /^\s*"(.+)"\s+\((video|audio|none)\)/.exec(line);
    if (tagged) {
      if (tagged[2] === 'video') names.push(tagged[1]!);
      continue;
    }
    const plain = /^\s*"(.+)"\s*$/.exec(line);
    if (plain && section === 'video') names.push(plain[1]!);
  }
  return names;
}

/** `ffmpeg -f dshow -list_options true -i video=NAME` lines -> modes. */
export function parseDshowOptions(lines: readonly string[]): DeviceMode[] {
  const modes: DeviceMode[] = [];
  for (const raw of lines) {
    const m =
      /(pixel_format|vcodec)=(\S+)\s+min s=(\d+)x(\d+) fps=([\d.]+)\s+max s=(\d+)x(\d+) fps=([\d.]+)/.exec(
        strip(raw),
      );
    if (!m) continue;
    const isRaw = m[1] === 'pixel_format';
    const mode: DeviceMode = {
      width: Number(m[6]),
      height: Number(m[7]),
      pixelFormat: isRaw ? m[2]! : null,
      codec: isRaw ? null : m[2]!,
      minFps: exactFrameRate(Number(m[5])),
      maxFps: exactFrameRate(roundRate(Number(m[8]))),
    };
    if (!modes.some((x) => JSON.stringify(x) === JSON.stringify(mode))) modes.push(mode);
  }
  return modes;
}

/** DirectShow reports 59.9402 or 60.0002 for what the device calls 59.94 / 60. */
function roundRate(fps: number): number {
  const ntsc = exactFrameRate(Number(fps.toFixed(2)));
  if (Math.abs(ntsc - fps) < 0.01) return ntsc;
  return Math.abs(fps - Math.round(fps)) < 0.01 ? Math.round(fps) : fps;
}

/** `ffmpeg -f avfoundation -list_devices true -i ""` lines -> video devices ([index] name). */
export function parseAvfoundationDevices(lines: readonly string[]): { id: string; name: string }[] {
  const out: { id: string; name: string }[] = [];
  let video = false;
  for (const raw of lines) {
    const line = strip(raw);
    if (/AVFoundation video devices/i.test(line)) video = true;
    else if (/AVFoundation audio devices/i.test(line)) video = false;
    const m = /^\[(\d+)\]\s+(.+)$/.exec(line.trim());
    if (m && video) out.push({ id: m[1]!, name: m[2]! });
  }
  return out;
}

/** The "Supported modes" that AVFoundation prints when asked for an impossible one. */
export function parseAvfoundationModes(lines: readonly string[]): DeviceMode[] {
  const modes: DeviceMode[] = [];
  for (const raw of lines) {
    const m = /^\s*(\d+)x(\d+)@\[([\d.]+)\s+([\d.]+)\]fps/.exec(strip(raw));
    if (!m) continue;
    modes.push({
      width: Number(m[1]),
      height: Number(m[2]),
      pixelFormat: null,
      codec: null,
      minFps: exactFrameRate(Number(m[3])),
      maxFps: roundRate(Number(m[4])),
    });
  }
  return modes;
}

async function ffmpegLines(args: string[]): Promise<string[]> {
  const proc = await FfmpegProcess.spawn(['-hide_banner', '-nostdin', ...args], { keepLines: 2000 });
  proc.stdout.resume();
  await proc.exited;
  return proc.stderrTail(2000);
}

/** Lists the capture devices of this machine's API (empty when there are none). */
export async function listCaptureDevices(
  api: DeviceApi | null = defaultDeviceApi(),
): Promise<CaptureDevice[]> {
  switch (api) {
    case 'v4l2': {
      const dir = '/dev';
      const nodes = existsSync(dir) ? (await readdir(dir)).filter((n) => /^video\d+$/.test(n)).sort() : [];
      const out: CaptureDevice[] = [];
      for (const node of nodes) {
        const modes = parseV4l2Formats(
          await ffmpegLines(['-f', 'v4l2', '-list_formats', 'all', '-i', `/dev/${node}`]),
        );
        // Metadata nodes of UVC cameras list no formats: they are not capture devices.
        if (modes.length === 0) continue;
        const name = await readFile(`/sys/class/video4linux/${node}/name`, 'utf8').then(
          (s) => s.trim(),
          () => node,
        );
        out.push({ api, id: `/dev/${node}`, name, modes });
      }
      return out;
    }
    case 'dshow': {
      const names = parseDshowDevices(
        await ffmpegLines(['-list_devices', 'true', '-f', 'dshow', '-i', 'dummy']),
      );
      const out: CaptureDevice[] = [];
      for (const name of names) {
        const modes = parseDshowOptions(
          await ffmpegLines(['-f', 'dshow', '-list_options', 'true', '-i', `video=${name}`]),
        );
        out.push({ api, id: name, name, modes });
      }
      return out;
    }
    case 'avfoundation': {
      const devices = parseAvfoundationDevices(
        await ffmpegLines(['-f', 'avfoundation', '-list_devices', 'true', '-i', '']),
      );
      const out: CaptureDevice[] = [];
      for (const d of devices) {
        const modes = parseAvfoundationModes(
          await ffmpegLines([
            '-f',
            'avfoundation',
            '-video_size',
            '1x1',
            '-i',
            `${d.id}:none`,
            '-frames:v',
            '1',
            '-f',
            'null',
            '-',
          ]),
        );
        out.push({ api, id: d.id, name: d.name, modes });
      }
      return out;
    }
    default:
      return [];
  }
}

let pixFmtCache: Promise<Set<string>> | null = null;

/** Pixel format names this ffmpeg knows (`ffmpeg -pix_fmts`). */
export function knownPixelFormats(): Promise<Set<string>> {
  pixFmtCache ??= (async () => {
    const proc = await FfmpegProcess.spawn(['-hide_banner', '-nostdin', '-pix_fmts']);
    let text = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (s: string) => (text += s));
    await proc.exited;
    const names = new Set<string>();
    for (const line of text.split('\n')) {
      const m = /^[IOHPB.]{5}\s+(\S+)\s+\d+\s+\d+/.exec(line);
      if (m) names.add(m[1]!);
    }
    return names;
  })();
  return pixFmtCache;
}
