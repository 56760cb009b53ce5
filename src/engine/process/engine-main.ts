/**
 * Entry of the engine process: an Electron utilityProcess forked by main (src/main/engine-supervisor.ts),
 * or a Node child in tests. It hosts the engine service (capture, depth/tracking/fusion workers, the case
 * store) so that a crash in native code or inference ends this process only; main restarts it and
 * reopens the case.
 *
 *   engine-main --cases DIR --samples DIR [--models DIR] [--version V]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EngineService } from '../service/engine-service.js';
import { hostNavApi } from './engine-adapter.js';
import { serveEngine } from './engine-host.js';
import { connectToParent } from './parent-channel.js';

export interface EngineProcessConfig {
  casesRoot: string;
  samplesRoot: string;
  modelsDir: string | null;
  version: string;
}

export function parseEngineArgs(argv: readonly string[]): EngineProcessConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      cases: { type: 'string' },
      samples: { type: 'string' },
      models: { type: 'string' },
      version: { type: 'string', default: '0.0.0' },
    },
    strict: true,
  });
  if (!values.cases) throw new Error('engine: --cases DIR is required');
  if (!values.samples) throw new Error('engine: --samples DIR is required');
  return {
    casesRoot: path.resolve(values.cases),
    samplesRoot: path.resolve(values.samples),
    modelsDir: values.models ? path.resolve(values.models) : null,
    version: values.version,
  };
}

function main(): void {
  const channel = connectToParent();
  const config = parseEngineArgs(process.argv.slice(2));
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
