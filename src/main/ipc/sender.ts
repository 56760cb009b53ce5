/**
 * Which senders may use the API: the main frame of a window main created, showing the bundled app.
 * Anything else (a subframe, a page that somehow navigated away, an unknown webContents) is refused.
 */
import { isAppUrl } from '../security/app-protocol.js';
import type { SenderInfo, SenderPolicy } from './router.js';

export function trustedSenderPolicy(trustedWebContentsIds: ReadonlySet<number>): SenderPolicy {
  return (sender: SenderInfo) =>
    sender.isMainFrame &&
    trustedWebContentsIds.has(sender.webContentsId) &&
    sender.frameUrl !== null &&
    isAppUrl(sender.frameUrl);
}
