/**
 * Structural checks run on every IPC payload before its schema sees it. Schemas check meaning; this
 * checks shape and cost: bounded size and depth (a huge or deeply nested message is refused before any
 * work is done on it), plain data only, and no keys that could pollute prototypes when a handler spreads
 * or merges the value.
 */
export interface PayloadLimits {
  /** Rough byte budget: string characters, binary bytes, 8 per number/boolean/key. */
  maxBytes: number;
  maxDepth: number;
  /** Total object keys plus array elements. */
  maxNodes: number;
  /** NavApi requests are JSON data; binary only travels from the engine to the renderer. */
  allowBinary: boolean;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = {
  // Same ceiling as the browser host's socket (MAX_CLIENT_MESSAGE_BYTES): requests are small JSON.
  maxBytes: 256 * 1024,
  maxDepth: 32,
  maxNodes: 10_000,
  allowBinary: false,
};

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type PayloadCheck = { ok: true; bytes: number } | { ok: false; reason: string };

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Walks the value without recursion (no stack overflow on hostile nesting) and stops at the first problem. */
export function checkPayload(value: unknown, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): PayloadCheck {
  let bytes = 0;
  let nodes = 0;
  const seen = new Set<object>();
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path: '$' }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const v = item.value;
    if (item.depth > limits.maxDepth)
      return { ok: false, reason: `nested deeper than ${limits.maxDepth} at ${item.path}` };
    switch (typeof v) {
      case 'string':
        bytes += v.length;
        break;
      case 'number':
      case 'boolean':
      case 'undefined':
        bytes += 8;
        break;
      case 'object': {
        if (v === null) {
          bytes += 8;
          break;
        }
        if (seen.has(v)) return { ok: false, reason: `cyclic or shared reference at ${item.path}` };
        seen.add(v);
        if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
          if (!limits.allowBinary)
            return { ok: false, reason: `binary data at ${item.path} (requests are JSON)` };
          bytes += v.byteLength;
        } else if (Array.isArray(v)) {
          nodes += v.length;
          if (nodes > limits.maxNodes) return { ok: false, reason: `more than ${limits.maxNodes} elements` };
          for (let i = 0; i < v.length; i++) {
            stack.push({ value: v[i] as unknown, depth: item.depth + 1, path: `${item.path}[${i}]` });
          }
        } else if (isPlainObject(v)) {
          const keys = Reflect.ownKeys(v);
          nodes += keys.length;
          if (nodes > limits.maxNodes) return { ok: false, reason: `more than ${limits.maxNodes} keys` };
          for (const key of keys) {
            if (typeof key === 'symbol') return { ok: false, reason: `symbol key at ${item.path}` };
            if (FORBIDDEN_KEYS.has(key))
              return { ok: false, reason: `forbidden key '${key}' at ${item.path}` };
            bytes += key.length + 8;
            stack.push({
              value: (v as Record<string, unknown>)[key],
              depth: item.depth + 1,
              path: `${item.path}.${key}`,
            });
          }
        } else {
          return { ok: false, reason: `unsupported object type at ${item.path}` };
        }
        break;
      }
      default:
        return { ok: false, reason: `unsupported value of type ${typeof v} at ${item.path}` };
    }
    if (bytes > limits.maxBytes) return { ok: false, reason: `payload larger than ${limits.maxBytes} bytes` };
  }
  return { ok: true, bytes };
}
