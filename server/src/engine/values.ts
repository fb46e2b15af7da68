// Literal values of the language: integers, sizes, PCI addresses, names; and
// how the engine prints addresses and sizes in messages.

import { PciAddress } from './ast';

export const U64_LIMIT = 1n << 64n;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function notInteger(text: string): Parsed<bigint> {
  return { ok: false, message: `\`${text}\` is not an integer (write decimal like 256 or hex like 0x1000)` };
}

function digitValue(c: number, hexa: boolean): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (hexa) {
    const l = c | 32;
    if (l >= 97 && l <= 102) return l - 87;
  }
  return -1;
}

/** Decimal or hex integer with `_` between digits, below 2^64. Scans char codes; no regex, no BigInt for small values. */
export function parseInteger(text: string): Parsed<bigint> {
  const n = text.length;
  let i = 0;
  let hexa = false;
  if (n > 2 && text.charCodeAt(0) === 48 && (text.charCodeAt(1) | 32) === 120) {
    hexa = true;
    i = 2;
  }
  if (i >= n) return notInteger(text);
  const base = hexa ? 16 : 10;
  let small = 0;
  let digits = 0;
  let prevDigit = false;
  for (let k = i; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c === 95) {
      // `_` only between digits
      if (!prevDigit || k === n - 1) return notInteger(text);
      prevDigit = false;
      continue;
    }
    const d = digitValue(c, hexa);
    if (d < 0) return notInteger(text);
    prevDigit = true;
    if (digits > 0 || d > 0) digits++;
    if (digits <= 13) small = small * base + d;
  }
  let v: bigint;
  if (digits <= 13) v = BigInt(small); // < 2^52: exact as a double
  else v = BigInt((hexa ? '0x' : '') + text.slice(i).replace(/_/g, ''));
  if (v >= U64_LIMIT) return { ok: false, message: `\`${text}\` does not fit in 64 bits` };
  return { ok: true, value: v };
}

const UNITS: Record<string, bigint> = {
  K: 1n << 10n,
  M: 1n << 20n,
  G: 1n << 30n,
  T: 1n << 40n,
  KiB: 1n << 10n,
  MiB: 1n << 20n,
  GiB: 1n << 30n,
  TiB: 1n << 40n,
};

const UNIT_SUFFIXES = ['KiB', 'MiB', 'GiB', 'TiB', 'K', 'M', 'G', 'T'];

/** Integer with an optional binary unit: `4K`, `64KiB`, `0x1000`, `256`. */
export function parseSize(text: string): Parsed<bigint> {
  const last = text.charCodeAt(text.length - 1);
  // A unit ends in K/M/G/T or `iB`; hex digits never do (B is a hex digit only without the `i`).
  if (last === 75 || last === 77 || last === 71 || last === 84 || (last === 66 && text.endsWith('iB'))) {
    for (const u of UNIT_SUFFIXES) {
      if (text.length > u.length && text.endsWith(u)) {
        const num = text.slice(0, text.length - u.length);
        const n = parseInteger(num);
        if (!n.ok) return { ok: false, message: `\`${text}\` is not a size (write 256, 4K, 64K, 1M, 0x1000 …)` };
        const v = n.value * UNITS[u];
        if (v >= U64_LIMIT) return { ok: false, message: `\`${text}\` does not fit in 64 bits` };
        return { ok: true, value: v };
      }
    }
  }
  const n = parseInteger(text);
  if (!n.ok) {
    const lower = /^[0-9_]+([kmgt]|kib|mib|gib|tib|kb|mb|gb|tb|KB|MB|GB|TB)$/i.exec(text);
    if (lower) return { ok: false, message: `\`${text}\`: sizes use binary units written K, M, G, T (or KiB, MiB, GiB, TiB)` };
    return { ok: false, message: `\`${text}\` is not a size (write 256, 4K, 64K, 1M, 0x1000 …)` };
  }
  return n;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function isName(text: string): boolean {
  return NAME.test(text);
}

const PCI = /^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/** `[dddd:]bb:dd.f` in hex. */
export function parsePci(text: string): Parsed<PciAddress> {
  const m = PCI.exec(text);
  if (!m) return { ok: false, message: `\`${text}\` is not a PCI address (write [dddd:]bb:dd.f in hex, e.g. 0001:00:01.0)` };
  const device = parseInt(m[3], 16);
  if (device > 0x1f) return { ok: false, message: `\`${text}\`: the device number ${m[3]} is above 1f` };
  return { ok: true, value: { domain: m[1] ? parseInt(m[1], 16) : 0, bus: parseInt(m[2], 16), device, fn: parseInt(m[4], 10) } };
}

export function formatPci(p: PciAddress): string {
  const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  return `${h(p.domain, 4)}:${h(p.bus, 2)}:${h(p.device, 2)}.${p.fn}`;
}

export function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

/** Hex with `_` every four digits from the right, as people write long addresses. */
export function hexGrouped(v: bigint): string {
  const digits = v.toString(16);
  if (digits.length <= 8) return '0x' + digits;
  const parts: string[] = [];
  for (let i = digits.length; i > 0; i -= 4) parts.unshift(digits.slice(Math.max(0, i - 4), i));
  return '0x' + parts.join('_');
}

/** `4K`, `64K`, `1M`, `256` (bytes), `0x1800` when not a whole unit. */
export function formatSize(v: bigint): string {
  const units: [bigint, string][] = [
    [1n << 40n, 'T'],
    [1n << 30n, 'G'],
    [1n << 20n, 'M'],
    [1n << 10n, 'K'],
  ];
  for (const [u, s] of units) if (v >= u && v % u === 0n) return `${v / u}${s}`;
  return v.toString();
}

/** `[0x1000, 0x1fff]` — an inclusive range as engineers read them. */
export function formatRange(start: bigint, size: bigint): string {
  if (size === 0n) return `${hex(start)} (empty)`;
  return `${hex(start)}-${hex(start + size - 1n)}`;
}

export function isPowerOfTwo(v: bigint): boolean {
  return v > 0n && (v & (v - 1n)) === 0n;
}

export function alignUp(v: bigint, a: bigint): bigint {
  const r = v % a;
  return r === 0n ? v : v + (a - r);
}

export function alignDown(v: bigint, a: bigint): bigint {
  return v - (v % a);
}
