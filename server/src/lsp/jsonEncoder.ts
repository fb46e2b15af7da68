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

/**
 * Objects whose JSON is kept once made (see `encodeOnce`), and that JSON when it
 * has been made. Weak: an object no longer shown takes its JSON with it.
 */
const onceJson = new WeakMap<object, string | undefined>();

/**
 * Marks `value` as never changing from now on (nor anything it holds): as an
 * element of a long array its JSON is made the first time it is sent and kept,
 * so a diagnostic published again in the next version costs a copy, not a
 * JSON.stringify. Returns `value`.
 */
export function encodeOnce<T extends object>(value: T): T {
  onceJson.set(value, undefined);
  return value;
}

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
      let first = true;
      let from = 0; // start of the elements not yet written (none of them kept JSON)
      const flush = (to: number): void => {
        if (to > from) {
          if (!first) put(',');
          put(JSON.stringify(value.slice(from, to)).slice(1, -1));
          first = false;
        }
        from = to;
      };
      for (let i = 0; i < value.length; i++) {
        const el: unknown = value[i];
        if (typeof el === 'object' && el !== null && onceJson.has(el)) {
          flush(i);
          let json = onceJson.get(el);
          if (json === undefined) {
            json = JSON.stringify(el);
            onceJson.set(el, json);
          }
          if (!first) put(',');
          put(json);
          first = false;
          from = i + 1;
        } else if (i + 1 - from >= CHUNK) flush(i + 1);
      }
      flush(value.length);
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
