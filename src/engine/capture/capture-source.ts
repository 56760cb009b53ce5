/**
 * What to capture from: a device, a network stream, a file replayed in real time, or an ffmpeg lavfi
 * graph (the virtual device of tests and benchmarks). Validated with zod (requests come over IPC)
 * and turned into ffmpeg input arguments.
 */
import { z } from 'zod';
import { type DeviceApi, defaultDeviceApi, frameRateArg, knownPixelFormats } from './devices.js';
import type { FfmpegNeeds } from './ffmpeg.js';

const fps = z.number().positive().max(1000);
export const captureSourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('device'),
    api: z.enum(['v4l2', 'dshow', 'avfoundation']).optional(),
    device: z.string().min(1).max(500),
    width: z.number().int().positive().max(16384).optional(),
    height: z.number().int().positive().max(16384).optional(),
    fps: fps.optional(),
    /** Raw pixel format to request (e.g. yuyv422, nv12). */
    pixelFormat: z
      .string()
      .regex(/^[a-z0-9_]+$/)
      .optional(),
    /** Compressed format to request (e.g. mjpeg); the recording then keeps the device's bitstream. */
    codec: z.enum(['mjpeg', 'h264']).optional(),
  }),
  z.object({
    kind: z.literal('stream'),
    url: z
      .string()
      .max(2000)
      .regex(
        /^(rtsp|rtsps|srt|udp|rtp|tcp):\/\/[^\s]+$/,
        'must be an rtsp://, srt://, udp://, rtp:// or tcp:// URL',
      ),
    /** Container of udp/tcp/srt payloads (default mpegts); ignored for rtsp. */
    format: z.enum(['mpegts', 'rtp', 'h264']).optional(),
  }),
  z.object({
    kind: z.literal('file'),
    path: z.string().min(1).max(4096),
    realtime: z.boolean().default(true),
  }),
  z.object({
    kind: z.literal('lavfi'),
    graph: z.string().min(1).max(1000),
    realtime: z.boolean().default(true),
  }),
]);
export type CaptureSource = z.input<typeof captureSourceSchema>;
type ParsedSource = z.output<typeof captureSourceSchema>;

export class CaptureSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureSourceError';
  }
}

export function parseCaptureSource(value: unknown): ParsedSource {
  const r = captureSourceSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new CaptureSourceError(
    `capture source${issue.path.length ? '.' + issue.path.join('.') : ''}: ${issue.message}`,
  );
}

/** True when the input delivers a compressed bitstream that the recording can keep as it is. */
export function deliversCompressed(source: ParsedSource): boolean {
  return source.kind === 'stream' || (source.kind === 'device' && source.codec !== undefined);
}

export function describeSource(source: ParsedSource): string {
  switch (source.kind) {
    case 'device':
      return `${source.api ?? defaultDeviceApi() ?? 'device'} ${source.device}`;
    case 'stream':
      return source.url.replace(/\/\/[^@/]*@/, '//***@');
    case 'file':
      return source.path;
    case 'lavfi':
      return `lavfi ${source.graph}`;
  }
}

/** ffmpeg input options and input (everything up to and including `-i ...`). */
/** The ffmpeg protocols a network source needs (rtsp is a demuxer over tcp; rtsps adds tls). */
export function sourceNeeds(source: ParsedSource): FfmpegNeeds {
  if (source.kind !== 'stream') return {};
  const scheme = source.url.slice(0, source.url.indexOf(':'));
  const protocols: Record<string, string[]> = {
    rtsp: ['tcp'],
    rtsps: ['tcp', 'tls'],
    srt: ['srt'],
    udp: ['udp'],
    rtp: ['rtp'],
    tcp: ['tcp'],
  };
  return { protocols: protocols[scheme] ?? [scheme] };
}

export async function inputArgs(value: CaptureSource): Promise<string[]> {
  const source = parseCaptureSource(value);
  switch (source.kind) {
    case 'device': {
      const api: DeviceApi | null = source.api ?? defaultDeviceApi();
      if (!api) throw new CaptureSourceError(`capture devices are not supported on ${process.platform}`);
      if (source.pixelFormat && !(await knownPixelFormats()).has(source.pixelFormat)) {
        throw new CaptureSourceError(
          `pixel format '${source.pixelFormat}' is not known to this ffmpeg (see ffmpeg -pix_fmts)`,
        );
      }
      const size = source.width && source.height ? ['-video_size', `${source.width}x${source.height}`] : [];
      const rate = source.fps ? ['-framerate', frameRateArg(source.fps)] : [];
      switch (api) {
        case 'v4l2':
          return [
            '-f',
            'v4l2',
            ...(source.codec
              ? ['-input_format', source.codec]
              : source.pixelFormat
                ? ['-input_format', source.pixelFormat]
                : []),
            ...size,
            ...rate,
            '-i',
            source.device,
          ];
        case 'dshow':
          return [
            '-f',
            'dshow',
            '-rtbufsize',
            '512M',
            ...(source.codec
              ? ['-vcodec', source.codec]
              : source.pixelFormat
                ? ['-pixel_format', source.pixelFormat]
                : []),
            ...size,
            ...rate,
            '-i',
            `video=${source.device}`,
          ];
        case 'avfoundation':
          return [
            '-f',
            'avfoundation',
            ...(source.pixelFormat ? ['-pixel_format', source.pixelFormat] : []),
            ...size,
            ...rate,
            '-i',
            `${source.device}:none`,
          ];
      }
      break;
    }
    case 'stream':
      if (source.url.startsWith('rtsp')) return ['-rtsp_transport', 'tcp', '-i', source.url];
      // Short probing: a live stream should start in a second, not after ffmpeg's default 5 s analysis.
      return [
        '-analyzeduration',
        '1000000',
        '-probesize',
        '1000000',
        '-f',
        source.format ?? 'mpegts',
        '-i',
        source.url,
      ];
    case 'file':
      return [...(source.realtime ? ['-re'] : []), '-i', source.path];
    case 'lavfi':
      return [...(source.realtime ? ['-re'] : []), '-f', 'lavfi', '-i', source.graph];
  }
}
