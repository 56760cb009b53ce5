/**
 * The IPC contract of NavApi, derived from the shared request tables: channel -> request and response
 * schemas. Nothing is declared twice; adding a method to src/shared/api adds its channel here.
 */
import { z } from 'zod';
import {
  type BinaryMethod,
  type Method,
  binaryMethodNames,
  binaryRequestTable,
  methodNames,
  requestTable,
} from '../../shared/api/schemas.js';
import { binaryChannel, callChannel } from './channels.js';
import type { ChannelSpec } from './router.js';

/** Largest binary answer (one review frame or one run's mesh). */
export const MAX_BINARY_REPLY_BYTES = 512 * 1024 * 1024;

const binaryReply = z
  .instanceof(Uint8Array)
  .refine(
    (b) => b.byteLength <= MAX_BINARY_REPLY_BYTES,
    `binary reply larger than ${MAX_BINARY_REPLY_BYTES} bytes`,
  );

export interface NavChannelSpec extends ChannelSpec {
  kind: 'call' | 'binary';
  method: Method | BinaryMethod;
}

function buildContract(): Readonly<Record<string, NavChannelSpec>> {
  const contract: Record<string, NavChannelSpec> = Object.create(null) as Record<string, NavChannelSpec>;
  for (const method of methodNames) {
    const spec = requestTable[method];
    contract[callChannel(method)] = { kind: 'call', method, request: spec.params, response: spec.result };
  }
  for (const method of binaryMethodNames) {
    contract[binaryChannel(method)] = {
      kind: 'binary',
      method,
      request: binaryRequestTable[method].params,
      response: binaryReply,
    };
  }
  return Object.freeze(contract);
}

export const NAV_CONTRACT = buildContract();
export type NavContract = typeof NAV_CONTRACT;
