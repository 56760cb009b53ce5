/**
 * EngineChild over a Node child process (child_process.fork). Used by the supervisor tests with a real
 * process that really crashes, and usable by any Node host that wants the engine out of process.
 */
import { fork } from 'node:child_process';
import type { EngineChild } from './engine-supervisor.js';

export interface NodeEngineChildOptions {
  entry: string;
  args?: string[];
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

export function forkNodeEngineChild(options: NodeEngineChildOptions): EngineChild {
  const child = fork(options.entry, options.args ?? [], {
    execArgv: options.execArgv ?? process.execArgv,
    env: options.env ?? process.env,
    // Structured clone keeps typed arrays and ArrayBuffers binary across the channel.
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    get pid() {
      return child.pid;
    },
    postMessage(message, ports) {
      if (ports && ports.length > 0) throw new Error('a Node child process cannot receive MessagePorts');
      // A message racing the child's death fails with EPIPE. Without a callback Node raises that as an
      // 'error' event (an uncaught exception here); the exit handler already rejects what was in flight.
      if (child.connected) child.send(message, () => undefined);
    },
    onMessage(listener) {
      child.on('message', (m: unknown) => listener(m));
    },
    onExit(listener) {
      child.once('exit', (code, signal) => listener(code, signal));
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}
