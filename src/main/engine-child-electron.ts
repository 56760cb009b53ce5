/**
 * EngineChild over an Electron utilityProcess: a Node environment in its own OS process, with
 * MessagePort support for the binary frame streams. Loaded only inside Electron.
 */
import { type MessagePortMain, utilityProcess } from 'electron';
import type { EngineChild } from './engine-supervisor.js';

export interface ElectronEngineChildOptions {
  entry: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export function forkElectronEngineChild(options: ElectronEngineChildOptions): EngineChild {
  const child = utilityProcess.fork(options.entry, options.args, {
    serviceName: 'NavWS engine',
    stdio: 'inherit',
    ...(options.env ? { env: options.env } : {}),
  });
  const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
  let exited: { code: number | null } | null = null;
  child.once('exit', (code) => {
    exited = { code };
    for (const l of exitListeners.splice(0)) l(code, null);
  });
  return {
    get pid() {
      return child.pid;
    },
    postMessage(message, ports) {
      child.postMessage(message, (ports ?? []) as MessagePortMain[]);
    },
    onMessage(listener) {
      child.on('message', (message: unknown) => listener(message));
    },
    onExit(listener) {
      if (exited) listener(exited.code, null);
      else exitListeners.push(listener);
    },
    kill() {
      child.kill();
    },
  };
}
