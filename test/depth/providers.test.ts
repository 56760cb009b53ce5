import assert from 'node:assert/strict';
import { test } from 'node:test';
import { providerCandidates } from '../../src/workers/depth/providers.js';

test('execution providers: the platform GPU provider first, CPU always last', () => {
  assert.deepEqual(
    providerCandidates('auto', 'linux', () => true),
    ['cuda', 'cpu'],
  );
  assert.deepEqual(
    providerCandidates('auto', 'linux', () => false),
    ['cpu'],
  );
  assert.deepEqual(providerCandidates('auto', 'win32'), ['dml', 'cpu']);
  assert.deepEqual(providerCandidates('auto', 'darwin'), ['coreml', 'cpu']);
  assert.deepEqual(providerCandidates('cpu', 'win32'), ['cpu']);
  assert.deepEqual(
    providerCandidates('cuda', 'linux', () => false),
    ['cuda', 'cpu'],
  );
});
