// Literal values of the language: integers, sizes, PCI addresses, names; and
// how the engine prints addresses and sizes in messages.

import { PciAddress } from './ast';

export const U64_LIMIT = 1n << 64n;
const HALF_U64 = 1n << 63n;

/**
 * Whether [start, start + size) ends at or below 2^64 (a range past it is `address-overflow` and no address range).
 * Asked for every BAR of every analysis: two comparisons decide the usual case without the sum's new bigint.
 */
export function endsBelow64(start: bigint, size: bigint): boolean {
  return (start < HALF_U64 && size <= HALF_U64) || start + size <= U64_LIMIT;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** Why a word is not the value it should be; made only when a word fails, so reading a good value allocates nothing but the value. */
export class ValueError {
  constructor(readonly message: string) {}
}

/** A word as a message quotes it: a long one by its start and length (a message must not carry a megabyte of digits). */
function quoted(text: string): string {
  return text.length <= 48 ? `\`${text}\`` : `\`${text.slice(0, 24)}…\` (${text.length} characters)`;
}

function notInteger(text: string): ValueError {
  return new ValueError(`${quoted(text)} is not an integer (write decimal like 256 or hex like 0x1000)`);
}

function digitValue(c: number, hexa: boolean): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (hexa) {
    const l = c | 32;
    if (l >= 97 && l <= 102) return l - 87;
  }
  return -1;
}

// A bigint is a heap object (24 bytes here), and a big topology keeps about half a million of them
// in nodes, models and verdicts. Most of those are a few values: BAR sizes are powers of two, and
// offsets, entries, group numbers and page counts are small. Values read or computed from such
// numbers share one object per value (bigints are immutable, so sharing cannot be observed).
const SHARED_BELOW = 16384;
const sharedSmall: (bigint | undefined)[] = new Array<bigint | undefined>(SHARED_BELOW).fill(undefined);
const sharedPowers: (bigint | undefined)[] = new Array<bigint | undefined>(64).fill(undefined);

/** `BigInt(n)` for an integer 0 ≤ n < 2^53, as one shared object when n is small or a power of two. */
export function sharedInt(n: number): bigint {
  if (n < SHARED_BELOW) {
    let v = sharedSmall[n];
    if (v === undefined) sharedSmall[n] = v = BigInt(n);
    return v;
  }
  // (Math.log2 rounds: 2^51 - 1 gives 51. Only an exact power of two may take the shared object.)
  const k = Math.round(Math.log2(n));
  if (2 ** k !== n) return BigInt(n);
  let v = sharedPowers[k];
  if (v === undefined) sharedPowers[k] = v = BigInt(n);
  return v;
}

/** `v`, or the shared object of its value (see `sharedInt`); for results kept per BAR or page. */
export function shared(v: bigint): bigint {
  return v >= 0n && v < 0x20000000000000n ? sharedInt(Number(v)) : v;
}

/**
 * Decimal or hex integer with `_` between digits, below 2^64, read from `text[start, end)` in place
 * (no slice, no regex; no BigInt parse for values below 2^52).
 */
export function readInteger(text: string, start: number, end: number): bigint | ValueError {
  let i = start;
  let hexa = false;
  if (end - start > 2 && text.charCodeAt(start) === 48 && (text.charCodeAt(start + 1) | 32) === 120) {
    hexa = true;
    i = start + 2;
  }
  if (i >= end) return notInteger(text.slice(start, end));
  const base = hexa ? 16 : 10;
  let small = 0;
  let digits = 0;
  let prevDigit = false;
  for (let k = i; k < end; k++) {
    const c = text.charCodeAt(k);
    if (c === 95) {
      // `_` only between digits
      if (!prevDigit || k === end - 1) return notInteger(text.slice(start, end));
      prevDigit = false;
      continue;
    }
    const d = digitValue(c, hexa);
    if (d < 0) return notInteger(text.slice(start, end));
    prevDigit = true;
    if (digits > 0 || d > 0) digits++;
    if (digits <= 13) small = small * base + d;
  }
  // 2^64 has 20 decimal or 17 hex digits: more significant digits cannot fit, and are not handed to BigInt,
  // whose decimal parsing takes quadratic time on a literal of a million digits.
  const tooLong = digits > (hexa ? 16 : 20);
  let v = 0n;
  if (digits <= 13) v = sharedInt(small); // < 2^52: exact as a double
  else if (!tooLong) v = BigInt((hexa ? '0x' : '') + text.slice(i, end).replace(/_/g, ''));
  if (tooLong || v >= U64_LIMIT) return new ValueError(`${quoted(text.slice(start, end))} does not fit in 64 bits`);
  return v;
}

function toParsed<T>(r: T | ValueError): Parsed<T> {
  return r instanceof ValueError ? { ok: false, message: r.message } : { ok: true, value: r };
}

/** `readInteger` of a whole string. */
export function parseInteger(text: string): Parsed<bigint> {
  return toParsed(readInteger(text, 0, text.length));
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

function notSize(text: string): ValueError {
  return new ValueError(`\`${text}\` is not a size (write 256, 4K, 64K, 1M, 0x1000 …)`);
}

/** Integer with an optional binary unit (`4K`, `64KiB`, `0x1000`, `256`), read from `text[start, end)` in place. */
export function readSize(text: string, start: number, end: number): bigint | ValueError {
  const last = text.charCodeAt(end - 1);
  // A unit ends in K/M/G/T or `iB`; hex digits never do (B is a hex digit only without the `i`).
  if (last === 75 || last === 77 || last === 71 || last === 84 || (last === 66 && end - start > 2 && text.charCodeAt(end - 2) === 105)) {
    for (const u of UNIT_SUFFIXES) {
      if (end - start > u.length && text.startsWith(u, end - u.length)) {
        const n = readInteger(text, start, end - u.length);
        if (n instanceof ValueError) return notSize(text.slice(start, end));
        const v = n * UNITS[u];
        if (v >= U64_LIMIT) return new ValueError(`\`${text.slice(start, end)}\` does not fit in 64 bits`);
        return shared(v);
      }
    }
  }
  const n = readInteger(text, start, end);
  if (n instanceof ValueError) {
    const word = text.slice(start, end);
    const lower = /^[0-9_]+([kmgt]|kib|mib|gib|tib|kb|mb|gb|tb|KB|MB|GB|TB)$/i.exec(word);
    if (lower) return new ValueError(`\`${word}\`: sizes use binary units written K, M, G, T (or KiB, MiB, GiB, TiB)`);
    return notSize(word);
  }
  return n;
}

/** `readSize` of a whole string. */
export function parseSize(text: string): Parsed<bigint> {
  return toParsed(readSize(text, 0, text.length));
}

/** Is `text[start, end)` a name: a letter or `_`, then letters, digits, `_` and `-`? */
export function isNameAt(text: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const l = c | 32;
    const ok = (l >= 97 && l <= 122) || c === 95 || (i > start && ((c >= 48 && c <= 57) || c === 45));
    if (!ok) return false;
  }
  return true;
}

export function isName(text: string): boolean {
  return isNameAt(text, 0, text.length);
}

const PCI = /^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/** `[dddd:]bb:dd.f` in hex. */
export function readPci(text: string): PciAddress | ValueError {
  const m = PCI.exec(text);
  if (!m) return new ValueError(`\`${text}\` is not a PCI address (write [dddd:]bb:dd.f in hex, e.g. 0001:00:01.0)`);
  const device = parseInt(m[3], 16);
  if (device > 0x1f) return new ValueError(`\`${text}\`: the device number ${m[3]} is above 1f`);
  return { domain: m[1] ? parseInt(m[1], 16) : 0, bus: parseInt(m[2], 16), device, fn: parseInt(m[4], 10) };
}

export function parsePci(text: string): Parsed<PciAddress> {
  return toParsed(readPci(text));
}

export function formatPci(p: PciAddress): string {
  const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  return `${h(p.domain, 4)}:${h(p.bus, 2)}:${h(p.device, 2)}.${p.fn}`;
}

export function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

/** Hex with `_` every four digits from the right, as people write long addresses: those of more than `plain` digits. */
export function hexGrouped(v: bigint, plain = 8): string {
  const digits = v.toString(16);
  if (digits.length <= plain) return '0x' + digits;
  const parts: string[] = [];
  for (let i = digits.length; i > 0; i -= 4) parts.unshift(digits.slice(Math.max(0, i - 4), i));
  return '0x' + parts.join('_');
}

/** A size as the language writes it: `4K`, `64K`, `1M`; the number of bytes (`256`) when no binary unit divides it. */
export function sizeLiteral(v: bigint): string {
  const units: [bigint, string][] = [
    [1n << 40n, 'T'],
    [1n << 30n, 'G'],
    [1n << 20n, 'M'],
    [1n << 10n, 'K'],
  ];
  for (const [u, s] of units) if (v >= u && v % u === 0n) return `${v / u}${s}`;
  return v.toString();
}

/** `a 4K`, `an 8K`, `a 128-byte`: a size with its article, to go before a noun (`… range`, `… page`). */
export function aSized(v: bigint): string {
  if (v >= 1n << 50n) return `a ${hex(v)}-byte`; // "a 0x…": read "a zero-x …"
  const s = formatSize(v);
  const adjective = s.endsWith(' bytes') || s.endsWith(' byte') ? `${v}-byte` : s;
  // Read aloud, 8… (eight, eighty, eight hundred…) and 11 or 18 followed by whole thousands (eleven, eighteen
  // thousand, eleven million…) begin with a vowel.
  return /^(8|1[18](\d{3})*(?!\d))/.test(adjective) ? `an ${adjective}` : `a ${adjective}`;
}

/** A size as messages write it: `4K`, `64K`, `1M`, and `256 bytes` when no binary unit divides it (never a bare number). */
export function formatSize(v: bigint): string {
  // From 1024T up (only sizes that overflow the address space get there), T would give a number of seven digits or more.
  if (v >= 1n << 50n) return `${hex(v)} bytes`;
  const s = sizeLiteral(v);
  return s.length > 0 && s.charCodeAt(s.length - 1) <= 57 ? `${s} ${v === 1n ? 'byte' : 'bytes'}` : s;
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

/**
 * The names of the first `shown` items of a list, and how many more: `a, b, c
 * and 12 more`. Messages name what they are about, but a page or device shared
 * by thousands must not make a message thousands of names long. `total`: the
 * length of the whole list when `items` holds only its beginning.
 */
export function someOf<T>(items: readonly T[], name: (x: T) => string, shown = 3, total = items.length): string {
  const names = items.slice(0, shown).map(name);
  if (total > shown) return `${names.join(', ')} and ${total - shown} more`;
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * `s` as one string. A string built from template pieces is, in V8, a tree of
 * those pieces (32 bytes per join) until a character is read; reading one makes
 * the tree one string in place, and the garbage collector then drops the tree's
 * root. A string kept per BAR or per finding (ids, reasons, messages) is built
 * once and read rarely, so it is flattened when it is made (a 7-piece reason:
 * 257 → 107 bytes).
 */
export function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/**
 * `s` as a string of its own. V8 makes a slice of 13 characters or more a view
 * into the string it was cut from, so a name or label kept by a syntax node
 * would keep the whole document text of its version alive; incremental
 * analysis keeps nodes across versions, so every edited statement would pin
 * one old version of the file (0.5 MB each on a 2,000-device file). The copy
 * is made by flattening a join of its first character and the rest, which
 * copies the characters into one new string (smaller than a slice of a copy).
 */
export function detach(s: string): string {
  return s.length < 13 ? s : flat(s[0] + s.slice(1));
}
