/** Progress of a long export: phase name and fraction of that phase done (0..1). */
export type ExportProgress = (phase: string, fraction: number) => void;

/** Calls `progress` at most ~100 times over a loop of `total` steps. */
export function progressTicker(
  progress: ExportProgress | undefined,
  phase: string,
  total: number,
): (i: number) => void {
  if (!progress || total <= 0) return () => undefined;
  const every = Math.max(1, Math.floor(total / 100));
  progress(phase, 0);
  return (i: number) => {
    if (i % every === 0) progress(phase, Math.min(1, i / total));
  };
}
