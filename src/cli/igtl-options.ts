/** The `--igtl*` flags shared by `navws reconstruct` and `navws igtl-replay`, and the session they open. */
import type { PipelineEvent } from '../engine/pipeline/events.js';
import { DEFAULT_IGTL_SETTINGS } from '../engine/igtl/publisher.js';
import { IgtlSession, parseIgtlAddress } from '../engine/igtl/session.js';
import type { TriangleMesh } from '../shared/mesh.js';
import { UsageError } from './command.js';

export const igtlCliOptions = {
  igtl: { type: 'string' },
  'igtl-wait': { type: 'string' },
  'igtl-frame': { type: 'string' },
  'igtl-depth': { type: 'boolean', default: false },
  'igtl-triangles': { type: 'string' },
} as const;

export interface IgtlCliOptions {
  igtl?: string;
  'igtl-wait'?: string;
  'igtl-frame'?: string;
  'igtl-depth'?: boolean;
  'igtl-triangles'?: string;
}

export interface CliIgtl {
  session: IgtlSession;
  waitForClients(): Promise<void>;
  onPipelineEvent(e: PipelineEvent): void;
  finalMesh(mesh: TriangleMesh): void;
  close(): Promise<void>;
}

function positiveInt(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${flag} must be an integer >= ${min}, got '${value}'`);
  return n;
}

/** Null without --igtl; flags given without --igtl are a usage error (they would do nothing). */
export function igtlSettingsFromCli(values: IgtlCliOptions) {
  if (values.igtl === undefined) {
    const stray = (['igtl-wait', 'igtl-frame', 'igtl-triangles'] as const).find(
      (k) => values[k] !== undefined,
    );
    if (stray || values['igtl-depth'])
      throw new UsageError(`--${stray ?? 'igtl-depth'} needs --igtl [host:]port`);
    return null;
  }
  let address;
  try {
    address = parseIgtlAddress(values.igtl);
  } catch (err) {
    throw new UsageError(`--igtl: ${(err as Error).message}`);
  }
  const frame = values['igtl-frame'] ?? 'ras';
  if (frame !== 'ras' && frame !== 'lps')
    throw new UsageError(`--igtl-frame must be ras or lps, got '${frame}'`);
  return {
    address,
    wait: positiveInt(values['igtl-wait'], '--igtl-wait', 0) ?? 0,
    settings: {
      frame: frame as 'ras' | 'lps',
      sendDepth: !!values['igtl-depth'],
      meshMaxTriangles:
        positiveInt(values['igtl-triangles'], '--igtl-triangles', 1) ??
        DEFAULT_IGTL_SETTINGS.meshMaxTriangles,
    },
  };
}

export async function openIgtlFromCli(
  values: IgtlCliOptions,
  log: (level: 'info' | 'warn' | 'error', message: string) => void,
  epochS?: number,
): Promise<CliIgtl | null> {
  const parsed = igtlSettingsFromCli(values);
  if (!parsed) return null;
  const session = await IgtlSession.open(parsed.address, parsed.settings, {
    log: (level, message) => (level === 'info' ? undefined : log(level, message)),
    epochS,
  });
  const a = session.address;
  // Always printed: with port 0 it is the only way to learn the port.
  process.stderr.write(`OpenIGTLink server listening on ${a.host}:${a.port}\n`);
  const publisher = session.publisher;
  return {
    session,
    async waitForClients() {
      if (parsed.wait === 0) return;
      process.stderr.write(`waiting for ${parsed.wait} OpenIGTLink client(s) on ${a.host}:${a.port}\n`);
      await session.server.waitForClients(parsed.wait);
    },
    onPipelineEvent(e) {
      if (e.type === 'frame') publisher.frame(e);
      else if (e.type === 'mesh')
        publisher.surface({ reset: false, changed: e.changedBlocks, removed: e.removedBlocks });
    },
    finalMesh(mesh) {
      publisher.surface({ reset: true, changed: [{ key: 'final', mesh }], removed: [] });
    },
    close: () => session.close(),
  };
}
