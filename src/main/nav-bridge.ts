/**
 * Main's half of NavApi: renderer invokes pass the IPC router (sender, channel, structure, schema) and
 * go to the engine process; engine events are validated and broadcast to the windows; engine crashes and
 * restarts become `engine` events; after a restart the case that was open is opened again. Paths: the
 * renderer's export.chooseDestination is answered here with main's native save dialog, and what the
 * user picks in main's dialogs reaches the engine through host-only calls (docs/security.md).
 */
import { NavApiError, type NavApiErrorCode } from '../shared/api/nav-api.js';
import {
  type MeshFormat,
  type ParsedParams,
  type Result,
  navEventSchema,
  type NavEvent,
} from '../shared/api/schemas.js';
import { HOST_ALLOW_SOURCE_METHOD, HOST_GRANT_EXPORT_METHOD } from '../engine/process/engine-adapter.js';
import { checkExportPath } from './dialogs.js';
import { callChannel } from './ipc/channels.js';
import type { InvokeReply } from './ipc/channels.js';
import { NAV_CONTRACT, type NavContract } from './ipc/nav-contract.js';
import { type IpcError, IpcRouter, type SenderInfo, type SenderPolicy } from './ipc/router.js';
import type { EngineCall, EngineCrash } from './engine-supervisor.js';

const API_CODES: ReadonlySet<string> = new Set<NavApiErrorCode>([
  'bad-request',
  'not-found',
  'conflict',
  'unavailable',
  'internal',
  'transport',
]);

/** The router's rejection as the NavApiError code the renderer understands. */
export function apiErrorCode(error: IpcError): NavApiErrorCode {
  switch (error.code) {
    case 'untrusted-sender':
    case 'unknown-channel':
    case 'invalid-payload':
      return 'bad-request';
    case 'handler-failed':
      return error.cause && API_CODES.has(error.cause) ? (error.cause as NavApiErrorCode) : 'internal';
    case 'invalid-response':
      return 'internal';
  }
}

export interface NavBridgeOptions {
  /** Sends one request to the engine process (EngineSupervisor.request in the app). */
  engine: EngineCall;
  isTrustedSender: SenderPolicy;
  /** Delivers an event to every window. */
  broadcast: (event: NavEvent) => void;
  log?: (line: string) => void;
  /**
   * Shows the native save dialog for a mesh export; resolves the chosen path, or null when cancelled.
   * Without it, export.chooseDestination goes to the engine, which answers that there is no dialog.
   */
  showSaveDialog?: (request: { caseId: string; format: MeshFormat }) => Promise<string | null>;
}

const CHOOSE_DESTINATION_CHANNEL = callChannel('export.chooseDestination');

export class NavBridge {
  readonly router: IpcRouter<NavContract>;
  private openCaseId: string | null = null;

  constructor(private readonly options: NavBridgeOptions) {
    const handlers = Object.fromEntries(
      Object.entries(NAV_CONTRACT).map(([channel, spec]) => [
        channel,
        channel === CHOOSE_DESTINATION_CHANNEL && options.showSaveDialog
          ? (request: unknown) =>
              this.chooseExportDestination(request as ParsedParams<'export.chooseDestination'>)
          : async (request: unknown) => {
              const value = await options.engine(spec.method, request);
              if (spec.kind === 'call') this.noteOpenCase(spec.method, request);
              return value;
            },
      ]),
    );
    this.router = new IpcRouter(NAV_CONTRACT, handlers, {
      isTrustedSender: options.isTrustedSender,
      onRejected: (channel, error, sender) =>
        options.log?.(
          `IPC rejected (${error.code}) on ${typeof channel === 'string' ? channel.slice(0, 80) : typeof channel} from webContents ${sender.webContentsId}: ${error.message.slice(0, 300)}`,
        ),
    });
  }

  /**
   * Main's save dialog, then a single-use grant for the chosen file registered with the engine. The
   * format follows the extension the user chose. The renderer learns the grant and the file's name.
   */
  async chooseExportDestination(
    request: ParsedParams<'export.chooseDestination'>,
  ): Promise<Result<'export.chooseDestination'>> {
    const picked = await this.options.showSaveDialog?.({ caseId: request.caseId, format: request.format });
    if (!picked) return { grant: null, fileName: null, format: request.format };
    const checked = checkExportPath(picked);
    if (!checked.ok) throw new NavApiError('bad-request', checked.reason);
    const granted = (await this.options.engine(HOST_GRANT_EXPORT_METHOD, {
      path: checked.outputPath,
      format: checked.format,
    })) as { grant: string; fileName: string };
    return { grant: granted.grant, fileName: granted.fileName, format: checked.format };
  }

  /** A file or folder the user picked in main's open dialog may be opened as a source. */
  async allowPickedSource(picked: string): Promise<void> {
    await this.options.engine(HOST_ALLOW_SOURCE_METHOD, { path: picked });
  }

  /** The case the user has open; reopened after an engine restart. */
  get currentCaseId(): string | null {
    return this.openCaseId;
  }

  async invoke(sender: SenderInfo, channel: unknown, payload: unknown): Promise<InvokeReply> {
    const reply = await this.router.handle(sender, channel, payload);
    if (reply.ok) return reply;
    return { ok: false, error: { code: apiErrorCode(reply.error), message: reply.error.message } };
  }

  /** An event from the engine: forwarded only if it matches the shared event schema. */
  engineEvent(raw: unknown): void {
    const parsed = navEventSchema.safeParse(raw);
    if (!parsed.success) {
      this.options.log?.(`engine sent an invalid event: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      return;
    }
    this.options.broadcast(parsed.data);
  }

  engineCrashed(crash: EngineCrash): void {
    const why =
      crash.reason === 'unresponsive'
        ? 'stopped responding'
        : crash.reason === 'no-ready'
          ? 'did not start'
          : `crashed (${crash.signal ?? `exit code ${crash.code}`})`;
    const detail = crash.message ? `: ${crash.message.split('\n')[0]!.slice(0, 300)}` : '';
    const message =
      crash.restartInMs === null
        ? `The processing engine ${why}${detail}. It crashed ${crash.crashesInWindow} times in a short time and was not restarted; recorded data is safe. Restart NavWS.`
        : `The processing engine ${why}${detail}. Restarting in ${(crash.restartInMs / 1000).toFixed(1)} s; recorded data is safe.`;
    this.options.broadcast({
      type: 'engine',
      state: crash.restartInMs === null ? 'down' : 'restarting',
      message,
    });
  }

  /** Supervisor restore step: reopen the case that was open when the engine died. */
  async restore(call: EngineCall): Promise<void> {
    if (!this.openCaseId) return;
    await call('cases.open', { caseId: this.openCaseId });
  }

  engineRestored(restarts: number): void {
    const reopened = this.openCaseId ? `; case ${this.openCaseId} reopened` : '';
    this.options.broadcast({
      type: 'engine',
      state: 'up',
      message: `The processing engine was restarted (${restarts} restart${restarts === 1 ? '' : 's'})${reopened}.`,
    });
  }

  private noteOpenCase(method: string, request: unknown): void {
    if (method !== 'cases.open' && method !== 'run.start') return;
    const caseId = (request as { caseId?: unknown }).caseId;
    if (typeof caseId === 'string') this.openCaseId = caseId;
  }
}
