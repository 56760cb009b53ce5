/**
 * The engine service (src/engine/service) as the engine process hosts it: NavApi methods by name,
 * binary review answers and live streams encoded with the shared wire format (src/shared/api/binary.ts),
 * so frames leave this process as one binary message each and are decoded only in the renderer's preload.
 */
import { z } from 'zod';
import { encodeFrame, encodeMeshBlocks } from '../../shared/api/binary.js';
import {
  NavApiError,
  type NavApi,
  isBinaryMethod,
  isMethod,
  parseBinaryParams,
} from '../../shared/api/index.js';
import { describeZodError, meshFormatSchema, type MeshFormat } from '../../shared/api/schemas.js';
import type { HostedEngine } from './engine-host.js';

export interface ClosableNavApi extends NavApi {
  close(): Promise<void>;
}

/** What only the host (Electron main, after a native dialog) may ask of the engine: see path-policy.ts. */
export interface HostOnlyEngine {
  allowPickedSource(picked: string): string;
  grantExportDestination(outputPath: string, format: MeshFormat): { grant: string; fileName: string };
}

/** Engine-process methods that are not NavApi requests. */
export const ENGINE_PING_METHOD = 'engine.ping';
/**
 * Host-only methods. Only main sends requests to the engine process, and main forwards from a renderer
 * only the NavApi channels (src/main/ipc/nav-contract.ts), so no renderer can reach these.
 */
export const HOST_ALLOW_SOURCE_METHOD = 'host.allowSource';
export const HOST_GRANT_EXPORT_METHOD = 'host.grantExport';

const allowSourceArgs = z.object({ path: z.string().min(1).max(4096) });
const grantExportArgs = z.object({ path: z.string().min(1).max(4096), format: meshFormatSchema });

function parseHostArgs<T extends z.ZodType>(schema: T, method: string, args: unknown): z.output<T> {
  const parsed = schema.safeParse(args);
  if (!parsed.success) throw new NavApiError('bad-request', describeZodError(parsed.error, method));
  return parsed.data;
}

export function hostNavApi(api: ClosableNavApi & HostOnlyEngine): HostedEngine {
  return {
    async call(method, args) {
      if (method === ENGINE_PING_METHOD) return { pid: process.pid };
      if (method === HOST_ALLOW_SOURCE_METHOD)
        return { path: api.allowPickedSource(parseHostArgs(allowSourceArgs, method, args).path) };
      if (method === HOST_GRANT_EXPORT_METHOD) {
        const a = parseHostArgs(grantExportArgs, method, args);
        return api.grantExportDestination(a.path, a.format);
      }
      if (isMethod(method)) return api.call(method, args as never);
      if (isBinaryMethod(method)) {
        switch (method) {
          case 'review.frame':
            return encodeFrame(await api.reviewFrame(parseBinaryParams('review.frame', args)));
          case 'review.mesh':
            return encodeMeshBlocks(await api.reviewMesh(parseBinaryParams('review.mesh', args)));
        }
      }
      throw new NavApiError('bad-request', `unknown method ${method.slice(0, 64)}`);
    },
    subscribe(listener) {
      return api.onEvent(listener);
    },
    subscribeBinary(listener) {
      const offFrames = api.onFrame((frame) => listener(encodeFrame(frame), 'frame'));
      const offMesh = api.onMesh((update) => listener(encodeMeshBlocks(update), 'mesh'));
      return () => {
        offFrames();
        offMesh();
      };
    },
    close: () => api.close(),
  };
}
