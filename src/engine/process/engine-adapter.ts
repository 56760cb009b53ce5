/**
 * The engine service (src/engine/service) as the engine process hosts it: NavApi methods by name,
 * binary review answers and live streams encoded with the shared wire format (src/shared/api/binary.ts),
 * so frames leave this process as one binary message each and are decoded only in the renderer's preload.
 */
import { encodeFrame, encodeMeshBlocks } from '../../shared/api/binary.js';
import {
  NavApiError,
  type NavApi,
  isBinaryMethod,
  isMethod,
  parseBinaryParams,
} from '../../shared/api/index.js';
import type { HostedEngine } from './engine-host.js';

export interface ClosableNavApi extends NavApi {
  close(): Promise<void>;
}

/** Engine-process methods that are not NavApi requests. */
export const ENGINE_PING_METHOD = 'engine.ping';

export function hostNavApi(api: ClosableNavApi): HostedEngine {
  return {
    async call(method, args) {
      if (method === ENGINE_PING_METHOD) return { pid: process.pid };
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
