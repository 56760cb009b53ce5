#!/usr/bin/env node
/**
 * `npm run serve`: the NavWS UI in a browser, on this machine only unless told otherwise.
 *   --port N       (default 5177; 0 = any free port)
 *   --host ADDR    (default 127.0.0.1; anything else exposes the workstation to the network)
 *   --cases DIR    (default ~/.navws/cases or $NAVWS_CASES)
 *   --samples DIR  (default <app>/samples)
 *   --source-root DIR  (repeatable; also $NAVWS_SOURCE_ROOTS) a folder dataset sources may be opened from,
 *                  besides the samples and cases folders (docs/security.md)
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EngineService } from '../engine/service/engine-service.js';
import { sourceRootsFromEnv } from '../engine/service/path-policy.js';
import { startBrowserHost } from './browser-host.js';

const appRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '5177' },
      host: { type: 'string', default: '127.0.0.1' },
      cases: { type: 'string' },
      samples: { type: 'string' },
      'source-root': { type: 'string', multiple: true },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: ${values.port} is not a port number`);
  const casesRoot = path.resolve(
    values.cases ?? process.env.NAVWS_CASES ?? path.join(os.homedir(), '.navws', 'cases'),
  );
  const samplesRoot = path.resolve(values.samples ?? path.join(appRoot, 'samples'));
  const sourceRoots = [
    ...sourceRootsFromEnv(),
    ...(values['source-root'] ?? []).map((dir) => path.resolve(dir)),
  ];
  const api = await EngineService.open({ host: 'browser', casesRoot, samplesRoot, sourceRoots });
  const host = await startBrowserHost({
    api,
    staticRoot: path.join(appRoot, 'dist', 'renderer'),
    host: values.host,
    port,
    log: (line) => console.error(`[navws] ${line}`),
  });
  if (values.host !== '127.0.0.1' && values.host !== 'localhost') {
    console.error(
      `[navws] WARNING: listening on ${values.host}; anyone with the URL's token on that network can use it`,
    );
  }
  console.log(`NavWS is running. Open: ${host.url}`);
  console.log(`cases: ${casesRoot}`);
  if (sourceRoots.length > 0) console.log(`source folders: ${sourceRoots.join(', ')}`);
  const shutdown = async (): Promise<void> => {
    await api.close();
    await host.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((err: Error) => {
  console.error(`navws serve: ${err.message}`);
  process.exit(1);
});
