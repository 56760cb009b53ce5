/** Command line of the engine process (kept apart from the entry so it can be tested without starting one). */
import path from 'node:path';
import { parseArgs } from 'node:util';

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
    // The entry's own path may or may not precede the options (Node fork vs utilityProcess argv).
    allowPositionals: true,
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
