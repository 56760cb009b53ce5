/**
 * Entry of the engine process: an Electron utilityProcess forked by main (src/main/engine-supervisor.ts),
 * or a Node child in tests. It hosts the engine service (capture, depth/tracking/fusion workers, the case
 * store) so that a crash in native code or inference ends this process only; main restarts it and
 * reopens the case.
 *
 *   engine-main --cases DIR --samples DIR [--models DIR] [--version V]
 */
import { EngineService } from '../service/engine-service.js';
import { hostNavApi } from './engine-adapter.js';
import { parseEngineArgs } from './engine-main-args.js';
import { serveEngine } from './engine-host.js';
import { connectToParent } from './parent-channel.js';
import type { ParentChannel } from './protocol.js';

function main(): void {
  const channel = connectToParent();
  try {
    start(channel);
  } catch (err) {
    // Bad arguments or an engine that cannot be built: tell main why before exiting, so the crash
    // report names the cause instead of an exit code.
    channel.send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    setImmediate(() => process.exit(78));
  }
}

function start(channel: ParentChannel): void {
  const config = parseEngineArgs(process.argv.slice(1));
  // The depth stage finds its ONNX models here (process.resourcesPath/models in a packaged app).
  if (config.modelsDir) process.env.NAVWS_MODELS_DIR = config.modelsDir;
  const service = new EngineService({
    host: 'electron',
    casesRoot: config.casesRoot,
    samplesRoot: config.samplesRoot,
    version: config.version,
  });
  serveEngine(channel, hostNavApi(service));
}

main();
