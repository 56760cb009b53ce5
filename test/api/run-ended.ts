/** Test helper: waiting for a run of the engine service to end. */
import type { NavApi } from '../../src/shared/api/nav-api.js';
import type { NavEvent } from '../../src/shared/api/schemas.js';

/** Resolves when the engine reports the run finished or failed; every event also reaches `onEvent`. */
export function runEnded(
  api: Pick<NavApi, 'onEvent'>,
  onEvent: (e: NavEvent) => void = () => undefined,
): Promise<void> {
  return new Promise<void>((resolve) =>
    api.onEvent((e) => {
      onEvent(e);
      if (e.type === 'run' && (e.status.state === 'finished' || e.status.state === 'failed')) resolve();
    }),
  );
}
