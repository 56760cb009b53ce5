/**
 * One thread budget for the whole engine process, so the stages never oversubscribe the cores.
 *
 * The stages run concurrently (while frame n is fused, n+1 is tracked and n+2 gets its depth), each in
 * its own worker thread, and two of them start threads of their own: onnxruntime's intra-op pool (one
 * per session) and the native kernels' pool (shared by tracking and fusion). On a 2-core machine the
 * defaults (onnxruntime spinning between operators, every pool as wide as the machine) had five busy
 * threads fighting for two cores: measured, an isolated 9 ms depth inference cost 49 ms of CPU at
 * 30 fps, most of it spinning, and tracking ran 4-7x slower inside the pipeline than alone.
 *
 * Policy: onnxruntime never spins (a waiting thread sleeps and gives the core to the other stages);
 * its sessions get half the cores (at least one), the native pool the rest of them plus the caller.
 * Overrides for a site's tuning: NAVWS_ONNX_THREADS, NAVWS_ONNX_SPINNING=1, NAVWS_NATIVE_THREADS.
 */
import os from 'node:os';

export interface ThreadBudget {
  cores: number;
  /** Intra-op threads of each onnxruntime session (the calling thread included). */
  onnxThreads: number;
  /** Whether onnxruntime's threads busy-wait between operators. */
  onnxSpinning: boolean;
  /** Threads of the native kernels' pool (the calling thread included). */
  nativeThreads: number;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string): number | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1 || v > 64) {
    throw new RangeError(`${name} must be a whole number of threads from 1 to 64, got '${raw}'`);
  }
  return v;
}

export function threadBudget(
  cores = os.availableParallelism(),
  env: NodeJS.ProcessEnv = process.env,
): ThreadBudget {
  const c = Math.max(1, Math.floor(cores));
  const onnxThreads = positiveInt(env, 'NAVWS_ONNX_THREADS') ?? Math.max(1, Math.floor(c / 2));
  return {
    cores: c,
    onnxThreads,
    onnxSpinning: env.NAVWS_ONNX_SPINNING === '1',
    nativeThreads: positiveInt(env, 'NAVWS_NATIVE_THREADS') ?? Math.max(1, Math.min(16, c - onnxThreads + 1)),
  };
}
