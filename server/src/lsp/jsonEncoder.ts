// The JSON encoder of the stdio transport: the bytes JSON.stringify would give,
// written piece by piece into one buffer kept from message to message.
//
// vscode-jsonrpc's default encoder builds each message as one string and then
// one new Buffer. A publish of 1,000 diagnostics is ~0.9 MB: both land in memory
// the process has never touched, and on the VMs we measured, first-touch page
// faults cost ~4.5 ms per MiB (the bench prints this figure). Large arrays are
// stringified in small pieces instead (young-generation strings, recycled) and
// copied into the kept buffer (pages already mapped). The writer encodes the
// next message only after the previous write's callback (it holds a one-slot
// semaphore across encode and write), so the buffer is free again by then.

import type { ContentTypeEncoderOptions, Message } from 'vscode-languageserver/node';

/** Arrays shorter than this, and everything below `MAX_DEPTH`, are stringified whole. */
const MIN_SPLIT = 32;
/** Elements stringified per piece of a long array (a piece of 64 diagnostics is ~55 KB, still a young-generation string). */
const CHUNK = 64;
const MAX_DEPTH = 6;
/** The kept buffer never grows past this; a larger message gets a buffer of its own. */
const MAX_KEPT = 16 << 20;

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * Calls `put` with pieces whose concatenation is `JSON.stringify(value)` (for a
 * value that stringifies to something): long arrays in chunks of elements, the
 * plain objects above them key by key, everything else whole. Throws where
 * JSON.stringify throws (a bigint, a cycle).
 */
export function jsonPieces(value: unknown, put: (piece: string) => void, depth = 0): void {
  if (depth < MAX_DEPTH && typeof value === 'object' && value !== null) {
    if (Array.isArray(value) && value.length >= MIN_SPLIT && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
      put('[');
      for (let i = 0; i < value.length; i += CHUNK) {
        if (i > 0) put(',');
        put(JSON.stringify(value.slice(i, i + CHUNK)).slice(1, -1));
      }
      put(']');
      return;
    }
    if (!Array.isArray(value) && isPlainObject(value)) {
      put('{');
      let first = true;
      for (const key of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[key];
        if (typeof v === 'object' && v !== null && (Array.isArray(v) || isPlainObject(v))) {
          put(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
          jsonPieces(v, put, depth + 1);
        } else {
          const s = JSON.stringify(v);
          if (s === undefined) continue; // undefined, functions and symbols are left out, as JSON.stringify does
          put(first ? `${JSON.stringify(key)}:${s}` : `,${JSON.stringify(key)}:${s}`);
        }
        first = false;
      }
      put('}');
      return;
    }
  }
  put(JSON.stringify(value));
}

export class KeptBufferJsonEncoder {
  readonly name = 'application/json';
  private kept = Buffer.alloc(64 << 10);

  encode(msg: Message, options: ContentTypeEncoderOptions): Promise<Uint8Array> {
    try {
      if (options.charset !== 'utf-8') return Promise.resolve(Buffer.from(JSON.stringify(msg), options.charset));
      let buf = this.kept;
      let len = 0;
      jsonPieces(msg, (s) => {
        // A UTF-16 code unit is at most 3 bytes in UTF-8.
        if (len + s.length * 3 > buf.length) {
          const bigger = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, len + s.length * 3));
          buf.copy(bigger, 0, 0, len);
          buf = bigger;
          if (buf.length <= MAX_KEPT) this.kept = buf;
        }
        len += buf.write(s, len, 'utf8');
      });
      return Promise.resolve(buf.subarray(0, len));
    } catch (e) {
      return Promise.reject(e);
    }
  }
}
