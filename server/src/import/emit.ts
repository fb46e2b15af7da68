// Shared writer of `.bartopo` text for the importers (lspci.ts, sysfs.ts):
// indentation, comments, number/size formatting, string quoting and the
// generation of unique, valid device names. Pure functions, no I/O.

/** One diagnostic about the importer's input: 1-based line number (0 when no line applies). */
export interface ImportWarning {
  line: number;
  message: string;
}

/** What every importer returns. */
export interface ImportResult {
  /** The generated `.bartopo` text. */
  text: string;
  /** Number of `device` blocks written. */
  devices: number;
  /** Number of device `bar` statements written (VF BARs inside `sriov` blocks and ROMs are not counted). */
  bars: number;
  warnings: ImportWarning[];
}

export type BarKind = 'mem32' | 'mem64' | 'io';

export const KiB = 1024n;
export const DEFAULT_PAGE_SIZE = 4096n;
export const FOUR_GIB = 1n << 32n;

import { analyze } from '../engine/analyze';
import { countAtMost } from '../engine/sorted';
import { formatSize, hex, isPowerOfTwo, sizeLiteral } from '../engine/values';
export { formatSize, hex, isPowerOfTwo, sizeLiteral };

/** Parses an lspci size (`256`, `4K`, `16G`, also `64KB`, `1MiB`) into bytes; undefined when not a size. */
export function parseSizeText(text: string): bigint | undefined {
  const m = /^(\d{1,20})\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim()); // more digits cannot fit 64 bits (and BigInt parses decimal in quadratic time)
  if (!m) return undefined;
  const shift: Record<string, bigint> = { '': 0n, K: 10n, M: 20n, G: 30n, T: 40n };
  return BigInt(m[1]) << shift[m[2].toUpperCase()];
}

/** log2 of a power of two. */
export function log2(v: bigint): number {
  let n = 0;
  while (v > 1n) {
    v >>= 1n;
    n++;
  }
  return n;
}

/** A double-quoted string literal: `"` and `\` escaped, control characters (incl. newlines) replaced by spaces. */
export function quote(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return '"' + clean.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

export interface PciAddr {
  domain: number;
  bus: number;
  device: number;
  fn: number;
}

const PCI_RE = /^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/** `[dddd:]bb:dd.f` → parts; undefined when not a PCI address (device above 1f included). */
export function parsePciAddr(text: string): PciAddr | undefined {
  const m = PCI_RE.exec(text);
  if (!m) return undefined;
  const device = parseInt(m[3], 16);
  if (device > 0x1f) return undefined;
  return { domain: m[1] ? parseInt(m[1], 16) : 0, bus: parseInt(m[2], 16), device, fn: parseInt(m[4], 10) };
}

/** `dddd:bb:dd.f`, lower case. */
export function formatPciAddr(p: PciAddr): string {
  const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  return `${h(p.domain, 4)}:${h(p.bus, 2)}:${h(p.device, 2)}.${p.fn}`;
}

/** Routing ID (bus << 8 | devfn). */
export function routingId(p: PciAddr): number {
  return (p.bus << 8) | (p.device << 3) | p.fn;
}

export function fromRoutingId(domain: number, rid: number): PciAddr {
  return { domain, bus: (rid >> 8) & 0xff, device: (rid >> 3) & 0x1f, fn: rid & 7 };
}

/** Name prefixes by PCI class name (lspci wording) — first match wins. */
const CLASS_NAME_PREFIXES: [RegExp, string][] = [
  [/non-volatile memory/i, 'nvme'],
  [/ethernet/i, 'eth'],
  [/network and computing encryption|encryption/i, 'crypto'],
  [/network/i, 'net'],
  [/infiniband/i, 'ib'],
  [/fibre channel/i, 'fc'],
  [/^vga/i, 'vga'],
  [/^3d/i, 'gpu'],
  [/display/i, 'display'],
  [/audio/i, 'audio'],
  [/multimedia/i, 'media'],
  [/usb/i, 'usb'],
  [/sata/i, 'sata'],
  [/serial attached scsi/i, 'sas'],
  [/raid/i, 'raid'],
  [/scsi/i, 'scsi'],
  [/ide interface/i, 'ide'],
  [/mass storage|storage/i, 'storage'],
  [/host bridge/i, 'hostbridge'],
  [/pci bridge|cardbus bridge/i, 'bridge'],
  [/isa bridge/i, 'isa'],
  [/bridge/i, 'bridge'],
  [/smbus/i, 'smbus'],
  [/sd host/i, 'sd'],
  [/signal processing/i, 'dsp'],
  [/communication/i, 'comm'],
  [/serial controller/i, 'serial'],
  [/serial bus/i, 'serialbus'],
  [/iommu/i, 'iommu'],
  [/system peripheral/i, 'sysp'],
  [/ram memory|memory controller|^memory/i, 'mem'],
  [/fabric/i, 'fabric'],
  [/processing accelerator|accelerator/i, 'accel'],
  [/encryption/i, 'crypto'],
];

/** PCI base class codes (the high byte of the class) → name prefix. */
const CLASS_CODE_PREFIXES: Record<number, string> = {
  0x01: 'storage',
  0x02: 'net',
  0x03: 'display',
  0x04: 'media',
  0x05: 'mem',
  0x06: 'bridge',
  0x07: 'comm',
  0x08: 'sysp',
  0x0c: 'serialbus',
  0x10: 'crypto',
  0x11: 'dsp',
  0x12: 'accel',
};

/** Sub-class refinements for the commonest classes (class code 0xCCSS). */
const SUBCLASS_PREFIXES: Record<number, string> = {
  0x0108: 'nvme',
  0x0106: 'sata',
  0x0104: 'raid',
  0x0107: 'sas',
  0x0101: 'ide',
  0x0200: 'eth',
  0x0280: 'net',
  0x0300: 'vga',
  0x0302: 'gpu',
  0x0403: 'audio',
  0x0600: 'hostbridge',
  0x0601: 'isa',
  0x0604: 'bridge',
  0x0c03: 'usb',
  0x0c04: 'fc',
  0x0c05: 'smbus',
};

/**
 * Name prefix for a function: from the 16-bit class code (base class << 8 | sub-class) when known,
 * else from the class name as lspci prints it, else `dev`.
 */
export function classPrefix(className?: string, classCode?: number): string {
  if (classCode !== undefined) {
    const sub = SUBCLASS_PREFIXES[classCode];
    if (sub) return sub;
  }
  if (className) {
    for (const [re, p] of CLASS_NAME_PREFIXES) if (re.test(className)) return p;
  }
  if (classCode !== undefined) {
    const base = CLASS_CODE_PREFIXES[classCode >> 8];
    if (base) return base;
  }
  return 'dev';
}

/** Hands out unique names matching `[A-Za-z_][A-Za-z0-9_-]*`. */
export class NameAllocator {
  private readonly used = new Set<string>();

  /** `PREFIX_bb_dd_f` (with `dddd_` first when the domain is not 0), made unique with `_2`, `_3`… */
  forDevice(prefix: string, pci: PciAddr): string {
    const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
    const dom = pci.domain !== 0 ? `${h(pci.domain, 4)}_` : '';
    return this.take(`${prefix}_${dom}${h(pci.bus, 2)}_${h(pci.device, 2)}_${pci.fn}`);
  }

  take(wanted: string): string {
    let base = wanted.replace(/[^A-Za-z0-9_-]/g, '_');
    if (!/^[A-Za-z_]/.test(base)) base = '_' + base;
    let name = base;
    for (let k = 2; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }
}

/** Line-oriented writer with two-space indentation and `#` comments. */
export class BartopoWriter {
  private readonly lines: string[] = [];
  private depth = 0;

  private pad(): string {
    return '  '.repeat(this.depth);
  }

  /** One or more comment lines (the text is split on newlines; never empty `#`-less output). */
  comment(text: string): this {
    for (const part of text.split(/\r?\n|\r/)) this.lines.push(`${this.pad()}# ${part}`.trimEnd());
    return this;
  }

  stmt(text: string): this {
    this.lines.push(this.pad() + text);
    return this;
  }

  /** `text {` and indent. */
  open(text: string): this {
    this.lines.push(`${this.pad()}${text} {`);
    this.depth++;
    return this;
  }

  close(): this {
    if (this.depth > 0) this.depth--;
    this.lines.push(`${this.pad()}}`);
    return this;
  }

  blank(): this {
    if (this.lines.length > 0 && this.lines[this.lines.length - 1] !== '') this.lines.push('');
    return this;
  }

  toString(): string {
    while (this.depth > 0) this.close();
    const out = [...this.lines];
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    return out.join('\n') + '\n';
  }
}

/** The `bar` statement text (without indentation). */
export function barStatement(b: { index: number; kind: BarKind; prefetch: boolean; size: bigint; address?: bigint }): string {
  const pf = b.prefetch && b.kind !== 'io' ? ' prefetch' : '';
  const at = b.address !== undefined ? ` at ${hex(b.address)}` : '';
  return `bar ${b.index} ${b.kind}${pf} size ${sizeLiteral(b.size)}${at}`;
}

/** Shortens a quoted input line for a comment. */
export function excerpt(s: string, max = 120): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

/** Writes the `host` block, its explanatory comments first. */
export function hostBlock(w: BartopoWriter, pageSize: bigint, comments: string[]): void {
  for (const c of comments) w.comment(c);
  w.open('host');
  w.stmt(`page-size ${sizeLiteral(pageSize)}`);
  w.close();
}

/** A usable host page size: a power of two of at least 4K. */
export function validPageSize(v: bigint): boolean {
  return isPowerOfTwo(v) && v >= DEFAULT_PAGE_SIZE;
}

// ---------------------------------------------------------------------------
// PCI configuration space (binary `config` in sysfs, or an `lspci -x` hex dump)

export interface ConfigMsix {
  entries: number;
  enabled: boolean;
  tableBar: number;
  tableOffset: bigint;
  pbaBar: number;
  pbaOffset: bigint;
  /** Offset of the MSI-X capability in config space. */
  capOffset: number;
}

export interface ConfigBarRegister {
  index: number;
  kind: BarKind;
  prefetch: boolean;
  /** The address programmed in the register (a bus address; the CPU address may differ). */
  address: bigint;
}

function u8(cfg: Uint8Array, off: number): number {
  return cfg[off];
}
function u16(cfg: Uint8Array, off: number): number {
  return cfg[off] | (cfg[off + 1] << 8);
}
function u32(cfg: Uint8Array, off: number): number {
  return (cfg[off] | (cfg[off + 1] << 8) | (cfg[off + 2] << 16) | (cfg[off + 3] << 24)) >>> 0;
}

/**
 * Walks the standard capability list (pointer at 0x34, or 0x14 for CardBus bridges) looking for
 * MSI-X (id 0x11). `note` explains why nothing could be read, e.g. config space cut at 64 bytes
 * when read without root.
 */
export function msixFromConfig(cfg: Uint8Array): { msix?: ConfigMsix; note?: string } {
  if (cfg.length < 0x40) return { note: `config space has only ${cfg.length} bytes (the standard header is 64)` };
  const status = u16(cfg, 0x06);
  if ((status & 0x10) === 0) return {}; // no capability list
  const headerType = u8(cfg, 0x0e) & 0x7f;
  let ptr = u8(cfg, headerType === 2 ? 0x14 : 0x34) & 0xfc;
  const seen = new Set<number>();
  while (ptr >= 0x40 && !seen.has(ptr) && seen.size < 48) {
    seen.add(ptr);
    if (ptr + 2 > cfg.length) {
      return { note: `the capability list continues at 0x${ptr.toString(16)}, beyond the ${cfg.length} bytes of config space available (read without root?): MSI-X unknown` };
    }
    const id = u8(cfg, ptr);
    const next = u8(cfg, ptr + 1) & 0xfc;
    if (id === 0x11) {
      if (ptr + 12 > cfg.length) return { note: `the MSI-X capability at 0x${ptr.toString(16)} is cut off by the end of the config space data` };
      const ctrl = u16(cfg, ptr + 2);
      const table = u32(cfg, ptr + 4);
      const pba = u32(cfg, ptr + 8);
      return {
        msix: {
          entries: (ctrl & 0x7ff) + 1,
          enabled: (ctrl & 0x8000) !== 0,
          tableBar: table & 7,
          tableOffset: BigInt(table) & 0xfffffff8n,
          pbaBar: pba & 7,
          pbaOffset: BigInt(pba) & 0xfffffff8n,
          capOffset: ptr,
        },
      };
    }
    ptr = next;
  }
  return {};
}

/** Decodes the six BAR registers of a type-0 header (addresses only; sizes need the kernel or a write/read-back). */
export function barRegistersFromConfig(cfg: Uint8Array): ConfigBarRegister[] {
  const out: ConfigBarRegister[] = [];
  if (cfg.length < 0x28 || (u8(cfg, 0x0e) & 0x7f) !== 0) return out;
  for (let i = 0; i < 6; i++) {
    const v = u32(cfg, 0x10 + 4 * i);
    if (v === 0) continue;
    if (v & 1) {
      out.push({ index: i, kind: 'io', prefetch: false, address: BigInt(v) & 0xfffffffcn });
      continue;
    }
    const type = (v >> 1) & 3;
    const prefetch = (v & 8) !== 0;
    let address = BigInt(v) & 0xfffffff0n;
    if (type === 2 && i < 5) {
      address |= BigInt(u32(cfg, 0x10 + 4 * (i + 1))) << 32n;
      out.push({ index: i, kind: 'mem64', prefetch, address });
      i++;
    } else {
      out.push({ index: i, kind: 'mem32', prefetch, address });
    }
  }
  return out;
}

/** `device NAME: ` for the device block line `l` is in (the writer puts `device` headers at the line start). */
function deviceAbove(lines: string[], l: number): string {
  for (let k = l; k >= 0; k--) {
    const m = /^device\s+(\S+)/.exec(lines[k]);
    if (m) return `device ${m[1]}: `;
  }
  return '';
}

/**
 * The importers' last check: their output is analysed, and a one-line statement
 * the checker rejects as malformed (`syntax`) or as a repeat (`duplicate`: a BAR
 * or region declared twice) becomes a comment that says why; so does a device
 * statement that names a BAR not there (`unknown-reference`: `msix … table bar 0`
 * or a region, once that BAR was commented out so). A real lspci or sysfs never
 * yields one, but a corrupted or hand-edited dump can (a size past 64 bits, a line
 * printed twice); the imported file then still checks without errors of the
 * importer's making, and each statement left out is in `rejected` (for a warning).
 * Lines with a brace are left alone (a block header: commenting it out would
 * unbalance the file).
 */
export function commentOutRejected(text: string): { text: string; deviceBars: number; rejected: string[] } {
  let deviceBars = 0; // device-level `bar` statements turned into comments (the writer indents them by one level)
  const rejected: string[] = [];
  for (let round = 0; round < 4; round++) {
    const a = analyze(text);
    const bad = a.diagnostics.filter((d) => d.rule === 'syntax' || d.rule === 'duplicate' || d.rule === 'unknown-reference');
    if (bad.length === 0) break;
    const lines = text.split('\n');
    const starts: number[] = [];
    for (let i = 0, o = 0; i < lines.length; o += lines[i].length + 1, i++) starts.push(o);
    let changed = false;
    for (const d of bad) {
      const l = countAtMost(starts, d.span.start) - 1;
      const line = lines[l];
      const body = line.trimStart();
      if (body.startsWith('#')) continue;
      const indent = line.slice(0, line.length - body.length);
      // A statement with a block inside a device (`sriov vfs 65536 {`): the statement and its block, down to the `}`
      // at its indent, become comments together, so the braces stay balanced.
      if (indent.length > 0 && /\{\s*$/.test(line) && !/}/.test(line)) {
        let end = l + 1;
        while (end < lines.length && !(lines[end].trim() === '}' && lines[end].startsWith(indent) && !lines[end].startsWith(indent + ' '))) end++;
        if (end >= lines.length) continue;
        lines[l] = `${indent}# not imported (${d.message.replace(/\s+/g, ' ')}): ${body}`;
        for (let k = l + 1; k <= end; k++) lines[k] = `${indent}#   ${lines[k].trimStart()}`;
        rejected.push(`${deviceAbove(lines, l)}\`${body}\` not imported: ${d.message}`);
        changed = true;
        continue;
      }
      if (/[{}]/.test(line)) continue;
      // A reference to a BAR left out: only inside a device (a guest's unknown device is not the importer's doing).
      if (d.rule === 'unknown-reference' && indent.length === 0) continue;
      lines[l] = `${indent}# not imported (${d.message.replace(/\s+/g, ' ')}): ${body}`;
      rejected.push(`${deviceAbove(lines, l)}\`${body}\` not imported: ${d.message}`);
      if (indent === '  ' && /^bar\s/.test(body)) deviceBars++;
      changed = true;
    }
    if (!changed) break;
    text = lines.join('\n');
  }
  return { text, deviceBars, rejected };
}
