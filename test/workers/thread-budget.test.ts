import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadBudget } from '../../src/workers/thread-budget.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the budget splits the cores between onnxruntime and the native pool, with no spinning', () => {
  assert.deepEqual(threadBudget(2, {}), { cores: 2, onnxThreads: 1, onnxSpinning: false, nativeThreads: 2 });
  assert.deepEqual(threadBudget(1, {}), { cores: 1, onnxThreads: 1, onnxSpinning: false, nativeThreads: 1 });
  // The native pool gets the cores onnxruntime does not, plus the calling thread (which waits on it).
  assert.deepEqual(threadBudget(8, {}), { cores: 8, onnxThreads: 4, onnxSpinning: false, nativeThreads: 5 });
  assert.equal(threadBudget(64, {}).nativeThreads, 16, 'the native pool is capped');
});

test('site overrides are validated and named when wrong', () => {
  const b = threadBudget(2, { NAVWS_ONNX_THREADS: '2', NAVWS_ONNX_SPINNING: '1', NAVWS_NATIVE_THREADS: '1' });
  assert.deepEqual(b, { cores: 2, onnxThreads: 2, onnxSpinning: true, nativeThreads: 1 });
  assert.throws(
    () => threadBudget(2, { NAVWS_NATIVE_THREADS: 'four' }),
    /NAVWS_NATIVE_THREADS must be a whole number/,
  );
  assert.throws(() => threadBudget(2, { NAVWS_ONNX_THREADS: '0' }), /NAVWS_ONNX_THREADS .* got '0'/);
});

test('the native kernels pool takes its size from the budget before its first use', () => {
  // A fresh process per size: the pool is created once per process.
  const size = (env: Record<string, string>): number =>
    Number(
      execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `import { loadTrackingKernels } from ${JSON.stringify(path.join(root, 'src/workers/tracking/kernels.ts'))};
           process.stdout.write(String(loadTrackingKernels().threads()));`,
        ],
        { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' },
      ),
    );
  assert.equal(size({ NAVWS_NATIVE_THREADS: '1' }), 1);
  assert.equal(size({ NAVWS_NATIVE_THREADS: '3' }), 3);
});
