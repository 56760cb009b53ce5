/**
 * Execution-provider choice for onnxruntime-node: the platform's GPU provider first (CUDA on Linux when
 * its add-on is installed, DirectML on Windows, CoreML on macOS), CPU otherwise and as the fallback.
 *
 * The CUDA provider is not bundled with onnxruntime-node; install it with
 *   ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node
 * (it downloads libonnxruntime_providers_cuda.so next to the binding; needs CUDA 12 + cuDNN 9).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml';
export type ProviderRequest = ProviderName | 'auto';

export const PROVIDER_NAMES: readonly ProviderRequest[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml'];

/** True when onnxruntime-node's CUDA add-on library sits next to its native binding. */
export function cudaAddonInstalled(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const dir = path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/** Providers to try, in order; the last one is always 'cpu'. */
export function providerCandidates(
  request: ProviderRequest,
  platform: NodeJS.Platform = process.platform,
  cudaInstalled: () => boolean = cudaAddonInstalled,
): ProviderName[] {
  if (request === 'cpu') return ['cpu'];
  if (request !== 'auto') return [request, 'cpu'];
  if (platform === 'linux' && cudaInstalled()) return ['cuda', 'cpu'];
  if (platform === 'win32') return ['dml', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  return ['cpu'];
}
