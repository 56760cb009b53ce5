/**
 * The engine's connection to main. In the app the engine is an Electron utilityProcess and talks through
 * `process.parentPort` (which can also carry MessagePorts for frame streams); under plain Node (tests,
 * tools) it is a forked child and talks through `process.send` with structured-clone serialisation.
 */
import type { EngineToMain, FramePort, ParentChannel } from './protocol.js';

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown; ports: FramePort[] }) => void): void;
}

export function connectToParent(): ParentChannel {
  const parentPort = (process as NodeJS.Process & { parentPort?: ElectronParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (message: EngineToMain) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on('message', (e) => listener(e.data, e.ports ?? [])),
    };
  }
  if (typeof process.send === 'function') {
    return {
      send: (message: EngineToMain) => {
        if (process.connected) process.send!(message);
      },
      onMessage: (listener) => process.on('message', (m: unknown) => listener(m, [])),
    };
  }
  throw new Error(
    'the engine process must be started by NavWS (no parent channel: not a utilityProcess or forked child)',
  );
}
