// Importer: a sysfs tree (`ROOT/sys/bus/pci/devices/*`) → `.bartopo`.
//
// Per function it reads `resource` (one `0x%016x 0x%016x 0x%016x` = start end flags line per
// resource: lines 0-5 BARs, 6 expansion ROM, 7-12 SR-IOV VF BARs when the kernel has
// CONFIG_PCI_IOV, then bridge windows), the `iommu_group` link, `vendor`/`device`/`class`,
// `sriov_totalvfs`/`sriov_numvfs`, and the binary `config` space for MSI-X. Unlike lspci, sysfs
// gives VF BAR sizes: the VF BAR resource spans Total VFs × the per-VF size.
// The host page size cannot be read from sysfs: it comes from the caller (`getconf PAGESIZE`),
// else 4K is assumed and said so. Tests point ROOT at a fake tree; nothing here shells out.

import * as fs from 'fs';
import * as path from 'path';
import {
  BarKind,
  BartopoWriter,
  commentOutRejected,
  barStatement,
  classPrefix,
  DEFAULT_PAGE_SIZE,
  formatPciAddr,
  formatSize,
  sizeLiteral,
  FOUR_GIB,
  hex,
  hostBlock,
  ImportResult,
  ImportWarning,
  msixFromConfig,
  NameAllocator,
  parsePciAddr,
  PciAddr,
  validPageSize,
} from './emit';

export type { ImportResult, ImportWarning } from './emit';

/** Linux `IORESOURCE_*` flag bits as exported in `resource`. */
export const IORESOURCE_IO = 0x100n;
export const IORESOURCE_MEM = 0x200n;
export const IORESOURCE_PREFETCH = 0x2000n;
export const IORESOURCE_MEM_64 = 0x00100000n;
export const IORESOURCE_DISABLED = 0x10000000n;
export const IORESOURCE_UNSET = 0x20000000n;

export interface SysfsResource {
  /** Line number in `resource` (0-based = resource index). */
  index: number;
  start: bigint;
  end: bigint;
  flags: bigint;
}

export interface SysfsBar {
  index: number;
  kind: BarKind;
  prefetch: boolean;
  size: bigint;
  /** Undefined when the kernel marks the resource unset (no address assigned). */
  address?: bigint;
  flags: bigint;
  notes: string[];
}

export interface SysfsDevice {
  pci: PciAddr;
  dir: string;
  group?: number;
  vendor?: string;
  device?: string;
  classCode?: number;
  bars: SysfsBar[];
  rom?: SysfsBar;
  msix?: { entries: number; tableBar: number; tableOffset: bigint; pbaBar: number; pbaOffset: bigint; enabled: boolean };
  sriov?: { totalVfs?: number; numVfs?: number; bars: SysfsBar[] };
  bridgeWindows: string[];
  notes: string[];
}

export interface SysfsImportOptions {
  /** Host page size (what `getconf PAGESIZE` prints); 4K is assumed when absent. */
  pageSize?: bigint;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readInt(file: string): number | undefined {
  const t = readText(file);
  if (t === undefined) return undefined;
  const s = t.trim();
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s, 16);
  if (/^\d+$/.test(s)) return parseInt(s, 10);
  return undefined;
}

function parseResourceLines(text: string, warn: (msg: string) => void): SysfsResource[] {
  const out: SysfsResource[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l === '') continue;
    const m = /^(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)$/.exec(l);
    if (!m) {
      warn(`resource line ${i + 1} is not "start end flags" in hex: ${l.slice(0, 80)}`);
      continue;
    }
    out.push({ index: i, start: BigInt(m[1]), end: BigInt(m[2]), flags: BigInt(m[3]) });
  }
  return out;
}

/** A used resource → BAR (undefined for the all-zero lines of unused slots and upper halves of 64-bit BARs). */
function toBar(r: SysfsResource, index: number, perUnit = 1n): SysfsBar | undefined {
  // start = end = 0 is an empty resource whatever its flags say (not a 1-byte BAR at 0).
  if (r.start === 0n && r.end === 0n) return undefined;
  const notes: string[] = [];
  if (r.end < r.start) return undefined;
  const total = r.end - r.start + 1n;
  let size = total;
  if (perUnit > 1n) size = total / perUnit; // a whole number of VF BARs (checked by the caller)
  const io = (r.flags & IORESOURCE_IO) !== 0n;
  const mem = (r.flags & IORESOURCE_MEM) !== 0n;
  if (!io && !mem) {
    if (r.flags === 0n && r.start === 0n) return undefined;
    notes.push(`resource flags ${hex(r.flags)} say neither I/O nor memory; taken as memory`);
  }
  const kind: BarKind = io ? 'io' : (r.flags & IORESOURCE_MEM_64) !== 0n ? 'mem64' : 'mem32';
  const unset = (r.flags & IORESOURCE_UNSET) !== 0n;
  if (unset) notes.push('the kernel marks it unset (IORESOURCE_UNSET): no address assigned');
  if ((r.flags & IORESOURCE_DISABLED) !== 0n) notes.push('the kernel marks it disabled (IORESOURCE_DISABLED)');
  return {
    index,
    kind,
    prefetch: !io && (r.flags & IORESOURCE_PREFETCH) !== 0n,
    size,
    address: unset ? undefined : r.start,
    flags: r.flags,
    notes,
  };
}

/** Reads one function's directory. */
export function readSysfsDevice(dir: string, pci: PciAddr, warnings: ImportWarning[]): SysfsDevice {
  const name = formatPciAddr(pci);
  const d: SysfsDevice = { pci, dir, bars: [], bridgeWindows: [], notes: [] };
  // No line number: a warning's line is one of the input, and a sysfs tree is many files (the message names the file).
  const warn = (msg: string): void => {
    warnings.push({ line: 0, message: `${name}: ${msg}` });
    d.notes.push(msg);
  };

  const vendor = readInt(path.join(dir, 'vendor'));
  const device = readInt(path.join(dir, 'device'));
  if (vendor !== undefined) d.vendor = vendor.toString(16).padStart(4, '0');
  if (device !== undefined) d.device = device.toString(16).padStart(4, '0');
  const cls = readInt(path.join(dir, 'class'));
  if (cls !== undefined) d.classCode = cls >> 8;

  try {
    const link = fs.readlinkSync(path.join(dir, 'iommu_group'));
    const g = path.basename(link);
    if (/^\d+$/.test(g)) d.group = parseInt(g, 10);
    else d.notes.push(`iommu_group links to ${link}: no group number`);
  } catch {
    /* no IOMMU group: the device is alone */
  }

  try {
    const pf = path.basename(fs.readlinkSync(path.join(dir, 'physfn')));
    d.notes.push(`this function is an SR-IOV VF of ${pf} (physfn): its BARs lie inside ${pf}'s VF BAR apertures, so the checker reports bar-overlap when both are written`);
  } catch {
    /* not a VF */
  }

  const total = readInt(path.join(dir, 'sriov_totalvfs'));
  const num = readInt(path.join(dir, 'sriov_numvfs'));

  const resText = readText(path.join(dir, 'resource'));
  if (resText === undefined) {
    d.notes.push('no readable `resource` file: BARs unknown');
  } else {
    const res = parseResourceLines(resText, warn);
    const lineCount = resText.split(/\r?\n/).filter((l) => l.trim() !== '').length;
    // With CONFIG_PCI_IOV there are 6 VF BAR lines (7-12) before the bridge windows; without it, 11 lines in all.
    const hasIov = lineCount >= 13;
    for (const r of res) {
      // A line whose end is below its start is no range: said, never dropped silently.
      if (r.end < r.start && (r.index <= 6 || (hasIov && r.index <= 12))) {
        const what = r.index <= 5 ? `BAR ${r.index}` : r.index === 6 ? 'expansion ROM' : `VF BAR ${r.index - 7}`;
        d.notes.push(`${what} resource ${hex(r.start)}-${hex(r.end)} ends before it starts: not a range, not written`);
        continue;
      }
      if (r.index <= 5) {
        const b = toBar(r, r.index);
        if (b) d.bars.push(b);
      } else if (r.index === 6) {
        const b = toBar(r, 6);
        if (b) d.rom = b;
      } else if (hasIov && r.index <= 12) {
        const vf = r.index - 7;
        if (r.start === 0n && r.end === 0n && r.flags === 0n) continue;
        if (total === undefined || total === 0) {
          const b = toBar(r, vf);
          d.notes.push(
            `VF BAR ${vf} resource ${hex(r.start)}-${hex(r.end)} present but sriov_totalvfs is ${total === undefined ? 'missing' : '0'}: per-VF size unknown${b ? ` (whole aperture ${formatSize(b.size)})` : ''}`,
          );
          continue;
        }
        const aperture = r.end - r.start + 1n;
        if (r.end >= r.start && aperture % BigInt(total) !== 0n) {
          // The kernel sizes the aperture as a whole number of VF BARs: this one is not, so the per-VF size is unknown.
          d.notes.push(`VF BAR ${vf} resource ${hex(r.start)}-${hex(r.end)} (${formatSize(aperture)}) is not a multiple of sriov_totalvfs ${total}: per-VF size unknown, not written`);
          continue;
        }
        const b = toBar(r, vf, BigInt(total));
        if (b) {
          d.sriov ??= { totalVfs: total, numVfs: num, bars: [] };
          d.sriov.bars.push(b);
        }
      } else if (r.start !== 0n || r.end !== 0n || r.flags !== 0n) {
        const io = (r.flags & IORESOURCE_IO) !== 0n;
        const pf = (r.flags & IORESOURCE_PREFETCH) !== 0n;
        d.bridgeWindows.push(`resource ${r.index}: ${io ? 'I/O' : pf ? 'prefetchable memory' : 'memory'} window ${hex(r.start)}-${hex(r.end)} (flags ${hex(r.flags)})`);
      }
    }
  }
  if (total !== undefined && !d.sriov) d.sriov = { totalVfs: total, numVfs: num, bars: [] };

  const cfgPath = path.join(dir, 'config');
  let cfg: Buffer | undefined;
  try {
    cfg = fs.readFileSync(cfgPath);
  } catch {
    d.notes.push('no readable `config` file: MSI-X unknown');
  }
  if (cfg) {
    const r = msixFromConfig(new Uint8Array(cfg.buffer, cfg.byteOffset, cfg.length));
    if (r.msix) d.msix = r.msix;
    if (r.note) d.notes.push(r.note);
  }
  return d;
}

/** Lists the functions under `ROOT/sys/bus/pci/devices`, sorted by address. */
export function readSysfs(root: string, warnings: ImportWarning[] = []): SysfsDevice[] {
  const base = path.join(root, 'sys', 'bus', 'pci', 'devices');
  let entries: string[];
  try {
    entries = fs.readdirSync(base);
  } catch (e) {
    warnings.push({ line: 0, message: `cannot list ${base}: ${(e as Error).message}` });
    return [];
  }
  const found: { pci: PciAddr; name: string }[] = [];
  for (const name of entries) {
    const pci = parsePciAddr(name);
    if (!pci) {
      warnings.push({ line: 0, message: `${path.join(base, name)}: not a PCI address, skipped` });
      continue;
    }
    found.push({ pci, name });
  }
  found.sort((a, b) => formatPciAddr(a.pci).localeCompare(formatPciAddr(b.pci)));
  return found.map((f) => readSysfsDevice(path.join(base, f.name), f.pci, warnings));
}

/** Reads a sysfs tree rooted at `root` (normally `/`) and writes `.bartopo`. */
export function importSysfs(root: string, opts: SysfsImportOptions = {}): ImportResult {
  const warnings: ImportWarning[] = [];
  const devs = readSysfs(root, warnings);
  const w = new BartopoWriter();
  const names = new NameAllocator();
  let bars = 0;

  w.comment(`Imported by bartopo from sysfs under ${path.join(root, 'sys', 'bus', 'pci', 'devices')}.`);
  w.comment('Lines starting with # note what sysfs showed but this file cannot express, or what was missing.');
  w.blank();
  let pageSize = DEFAULT_PAGE_SIZE;
  const hostComments: string[] = [];
  if (opts.pageSize !== undefined && validPageSize(opts.pageSize)) {
    pageSize = opts.pageSize;
    hostComments.push(`Page size ${formatSize(pageSize)} given by the caller (getconf PAGESIZE).`);
  } else {
    if (opts.pageSize !== undefined) warnings.push({ line: 0, message: `page size ${opts.pageSize} is not a power of two of at least 4K; ignored` });
    hostComments.push('Page size 4K assumed: sysfs does not show it. Run `getconf PAGESIZE` on the host and fix it here.');
  }
  hostBlock(w, pageSize, hostComments);
  if (devs.length === 0) {
    w.blank();
    w.comment('No PCI functions found.');
  }

  for (const d of devs) {
    w.blank();
    const prefix = classPrefix(undefined, d.classCode);
    const name = names.forDevice(prefix, d.pci);
    const cls = d.classCode !== undefined ? ` class ${d.classCode.toString(16).padStart(4, '0')}` : '';
    w.comment(`${formatPciAddr(d.pci)}${cls}`);
    w.open(`device ${name} at ${formatPciAddr(d.pci)}`);
    for (const n of d.notes) w.comment(n);
    if (d.group !== undefined) w.stmt(`group ${d.group}`);
    else w.comment('no iommu_group link: no IOMMU (or the device is not isolated)');
    if (d.vendor && d.device) w.stmt(`id ${d.vendor}:${d.device}`);

    const written = new Set<number>();
    for (const b of d.bars) {
      for (const n of b.notes) w.comment(`BAR ${b.index}: ${n}`);
      if (b.kind === 'mem32' && b.address !== undefined && b.address + b.size > FOUR_GIB) {
        const where = b.address >= FOUR_GIB ? `its CPU address ${hex(b.address)} is above 4 GiB` : `its CPU range ${hex(b.address)} + ${formatSize(b.size)} ends above 4 GiB`;
        w.comment(`BAR ${b.index} is 32-bit but ${where} (the host bridge translates it); kept as mem32. Declare the translated window in the host block (window NAME ADDR size SIZE, at most 4G) to silence bar32-above-4g.`);
      }
      w.stmt(barStatement(b));
      written.add(b.index);
      bars++;
    }
    if (d.rom) {
      for (const n of d.rom.notes) w.comment(`ROM: ${n}`);
      w.stmt(`rom size ${sizeLiteral(d.rom.size)}${d.rom.address !== undefined ? ` at ${hex(d.rom.address)}` : ''}`);
    }
    if (d.msix) {
      const m = d.msix;
      const stmt = `msix entries ${m.entries} table bar ${m.tableBar} offset ${hex(m.tableOffset)} pba bar ${m.pbaBar} offset ${hex(m.pbaOffset)}`;
      if (written.has(m.tableBar) && written.has(m.pbaBar)) w.stmt(stmt);
      else w.comment(`${stmt}  — not written: its BAR is not in \`resource\``);
    }
    if (d.sriov) {
      const s = d.sriov;
      w.comment(`SR-IOV: sriov_totalvfs ${s.totalVfs ?? '?'}, sriov_numvfs ${s.numVfs ?? '?'}`);
      if (s.totalVfs && s.bars.length > 0) {
        w.open(`sriov vfs ${s.totalVfs}`);
        for (const b of s.bars) {
          for (const n of b.notes) w.comment(`VF BAR ${b.index}: ${n}`);
          w.stmt(barStatement(b));
        }
        w.close();
      } else {
        w.comment('sriov not written: no VF BAR resources (lines 7-12 of `resource`) or no VF count');
      }
    }
    if (d.bridgeWindows.length) {
      w.comment('Bridge windows (the language has no statement for them):');
      for (const bw of d.bridgeWindows) w.comment(`  ${bw}`);
    }
    w.close();
  }
  const checked = commentOutRejected(w.toString());
  for (const r of checked.rejected) warnings.push({ line: 0, message: r });
  return { text: checked.text, devices: devs.length, bars: bars - checked.deviceBars, warnings };
}
