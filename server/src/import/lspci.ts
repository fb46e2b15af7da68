// Importer: `lspci -v`/`-vv`/`-vvv` text (with or without `-nn`, `-b`, `-x`…`-xxxx`) → `.bartopo`.
//
// Two stages: `parseLspci` builds a structured model of what lspci printed (devices, BARs, ROM,
// MSI-X, SR-IOV, IOMMU group, ids), tolerant of every variant listed in the project's
// realdata/FORMATS.md; `importLspci` writes that model as `.bartopo` text. Whatever the language
// cannot express, or whatever lspci did not print, becomes a `#` comment next to where it belongs.
// Pure: no I/O. All addresses and sizes are bigint.

import {
  BarKind,
  BartopoWriter,
  commentOutRejected,
  barStatement,
  barRegistersFromConfig,
  classPrefix,
  DEFAULT_PAGE_SIZE,
  excerpt,
  formatPciAddr,
  formatSize,
  sizeLiteral,
  FOUR_GIB,
  hex,
  hostBlock,
  ImportResult,
  ImportWarning,
  isPowerOfTwo,
  log2,
  msixFromConfig,
  NameAllocator,
  parsePciAddr,
  parseSizeText,
  PciAddr,
  quote,
  routingId,
  validPageSize,
} from './emit';

export type { ImportResult, ImportWarning } from './emit';

// ---------------------------------------------------------------------------
// Model

export interface LspciBar {
  /** BAR index 0-5 (for VF BARs: the VF BAR index). */
  index: number;
  kind: BarKind;
  prefetch: boolean;
  /** Bytes; undefined when lspci printed no `[size=…]` (`-b`, `<unassigned>`, VF BARs…). */
  size?: bigint;
  /** Printed address; undefined for `<unassigned>`/`<ignored>` (and all-zero VF BAR addresses). */
  address?: bigint;
  /** What lspci printed besides address/width/size, without brackets: `virtual`, `disabled`, `enhanced`, `unassigned`, `ignored`… */
  flags: string[];
  /** 1-based input line. */
  line: number;
  /** `lspci -v` form without `Region N:`: the index was inferred from the order of the lines. */
  indexInferred?: boolean;
  /** Memory BAR printed without `(32-bit|64-bit, …)`: the width was guessed. */
  widthGuessed?: boolean;
  /** VF BARs: where the size came from when lspci did not print it. */
  sizeSource?: string;
}

export interface LspciRom {
  size?: bigint;
  address?: bigint;
  flags: string[];
  line: number;
}

export interface LspciMsix {
  entries?: number;
  enabled?: boolean;
  tableBar?: number;
  tableOffset?: bigint;
  pbaBar?: number;
  pbaOffset?: bigint;
  line: number;
  /** `config-dump`: decoded from an `lspci -x` hex dump rather than from the MSI-X text. */
  source: 'text' | 'config-dump';
}

export interface LspciEaEntry {
  line: number;
  enabled: boolean;
  vf: boolean;
  bar?: number;
  properties?: string;
  base?: bigint;
  maxOffset?: bigint;
}

export interface LspciSriov {
  line: number;
  initialVfs?: number;
  totalVfs?: number;
  numVfs?: number;
  vfOffset?: number;
  vfStride?: number;
  vfDeviceId?: string;
  supportedPageSizes?: number;
  /** The `System Page Size` register: a bit mask, 0x1 = 4K, 0x10 = 64K. */
  systemPageSize?: number;
  /** VF BARs (index = VF BAR index); sizes only when some other evidence gave them. */
  bars: LspciBar[];
  /** VF count taken from a kernel log line when lspci did not print `Total VFs`. */
  vfsFromLog?: number;
}

/** A register range inside a BAR that lspci names (VirtIO structures). */
export interface LspciRegion {
  name: string;
  bar: number;
  offset: bigint;
  size: bigint;
  hot: boolean;
  line: number;
}

export interface LspciNote {
  line: number;
  text: string;
}

export interface LspciDevice {
  pci: PciAddr;
  /** The address as printed (or the made-up one for header-less fragments). */
  pciText: string;
  /** Line of the header (of the first line that belongs to the device when the header is missing). */
  line: number;
  className?: string;
  classCode?: number;
  /** The description after the class: vendor and device names, without ids, `(rev …)`, `(prog-if …)`. */
  name: string;
  ids?: { vendor: string; device: string };
  rev?: string;
  progIf?: string;
  group?: number;
  bars: LspciBar[];
  rom?: LspciRom;
  msix?: LspciMsix;
  sriov?: LspciSriov;
  regions: LspciRegion[];
  /** `Capabilities: <access denied>`: lspci ran without root, capabilities unknown. */
  capsDenied: boolean;
  /** Region/capability lines without a device header line. */
  headerMissing: boolean;
  /** Line of the first listing when this function appeared before. */
  duplicateOf?: number;
  /** Bridge windows, Resizable BAR, elisions, … — written as comments. */
  notes: LspciNote[];
  bridgeWindows: LspciNote[];
  /** Resizable BAR capability lines by BAR index. */
  resizable: Map<number, string>;
  eaEntries: LspciEaEntry[];
  /** Bytes from an `lspci -x` hex dump, if any. */
  config?: Uint8Array;
  configLines: number;
  /** The SR-IOV PF this function is a VF of, when the PF is in the same input. */
  vfOf?: { pf: string; k: number };
}

export interface LspciModel {
  devices: LspciDevice[];
  /** Page size derived from SR-IOV `System Page Size`, if any device printed one. */
  pageSize?: { size: bigint; mask: number; line: number; device: string };
  /** Other System Page Size values that disagree with `pageSize`. */
  pageSizeConflicts: LspciNote[];
  warnings: ImportWarning[];
  /** Input lines that are not lspci output (prompts, logs, stderr), with their line numbers. */
  skipped: LspciNote[];
  /** Set when the input looks cut off. */
  truncated?: LspciNote;
  /** Kernel log `VF(n) BARi space` lines. */
  vfLog: { line: number; pci: string; bar: number; start: bigint; end: bigint; attrs: string; vfs: number }[];
}

// ---------------------------------------------------------------------------
// Parsing

const HEADER_RE = /^((?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])\s+(\S.*)$/;
/** A class name followed by `: ` — what follows the address in a real header. */
const CLASS_RE = /^[A-Za-z][^:]*?(?:\s\[[0-9a-fA-F]{4}\])?:\s/;
const HEXDUMP_RE = /^([0-9a-fA-F]{2,3}):((?:\s[0-9a-fA-F]{2}){1,16})\s*$/;
const PROMPT_RE = /^(?:\[[^\]]*\]\s?[#$]|[\w.-]+@[\w.-]+(?::\S*)?\s?[#$]|[#$%])\s/;
const VF_LOG_RE =
  /\b((?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]):\s+VF\(n\) BAR(\d) space:\s*\[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)([^\]]*)\]\s*\(contains BAR\d+ for (\d+) VFs?\)/;

/** Capabilities that always print at least one body line: input that ends on one of their headers was cut off. */
const CAPS_WITH_BODY =
  /Power Management|Express|MSI|Vital Product Data|Advanced Error|Single Root|Access Control|Alternative Routing|Secondary PCI|L1 PM|Latency Tolerance|Virtual Channel|Enhanced Allocation|Address Translation|Page Request|Process Address|Precision Time|Downstream Port|Resizable BAR|Transaction Processing/;

type CapKind = 'msix' | 'sriov' | 'ea' | 'virtio' | 'rebar' | 'other';

interface CapCtx {
  kind: CapKind;
  line: number;
  name: string;
  virtio?: string;
  ea?: LspciEaEntry;
}

function newDevice(pci: PciAddr, pciText: string, line: number): LspciDevice {
  return {
    pci,
    pciText,
    line,
    name: '',
    bars: [],
    regions: [],
    capsDenied: false,
    headerMissing: false,
    notes: [],
    bridgeWindows: [],
    resizable: new Map(),
    eaEntries: [],
    configLines: 0,
  };
}

/** Splits a header's text after the address into class, name, ids, rev and prog-if. */
function parseHeaderText(d: LspciDevice, rest: string): void {
  let desc = rest;
  const colon = CLASS_RE.exec(rest);
  if (colon) {
    let cls = colon[0].replace(/:\s$/, '');
    desc = rest.slice(colon[0].length);
    // Regexes here end in `$` and start with a literal, never with `\s*`: one that may start with blanks is tried
    // at every blank of a long run and reads the run to its end each time (40,000 spaces took 7 s).
    const cc = /\[([0-9a-fA-F]{4})\]$/.exec(cls);
    if (cc) {
      d.classCode = parseInt(cc[1], 16);
      cls = cls.slice(0, cc.index).trimEnd();
    }
    d.className = cls;
  }
  desc = desc.trimEnd();
  for (;;) {
    const pi = /\(prog-if ([0-9a-fA-F]{2})(?:\s*\[([^\]]*)\])?\)$/.exec(desc);
    if (pi) {
      d.progIf = pi[2] ? `${pi[1]} [${pi[2]}]` : pi[1];
      desc = desc.slice(0, pi.index).trimEnd();
      continue;
    }
    const rv = /\(rev ([0-9a-fA-F]{2})\)$/.exec(desc);
    if (rv) {
      d.rev = rv[1];
      desc = desc.slice(0, rv.index).trimEnd();
      continue;
    }
    break;
  }
  const ids = /\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]$/.exec(desc);
  if (ids) {
    d.ids = { vendor: ids[1].toLowerCase(), device: ids[2].toLowerCase() };
    desc = desc.slice(0, ids.index);
  }
  d.name = desc.trim();
}

interface RegionParse {
  bar?: Omit<LspciBar, 'index' | 'line'>;
  error?: string;
}

/** Parses what follows `Region N:` (or a `-v` line starting with `Memory at` / `I/O ports at`). */
function parseRegionBody(body: string): RegionParse {
  // Spacing as lspci prints it or not (a copy through a mail client or a terminal can double a space).
  const m = /^(Memory\s+at|I\/O\s+ports\s+at)\s+(\S+)\s*(.*)$/.exec(body.trim());
  if (!m) return { error: 'expected `Memory at ADDR` or `I/O ports at ADDR`' };
  const io = m[1].startsWith('I/O');
  const flags: string[] = [];
  let address: bigint | undefined;
  const addrTok = m[2];
  const angle = /^<([a-z ]+)>$/i.exec(addrTok);
  if (angle) {
    flags.push(angle[1].toLowerCase());
  } else if (/^(?:0x)?[0-9a-fA-F]+$/.test(addrTok)) {
    address = BigInt('0x' + addrTok.replace(/^0x/i, ''));
  } else {
    return { error: `\`${addrTok}\` is not an address` };
  }
  let tail = m[3];
  let kind: BarKind = io ? 'io' : 'mem32';
  let prefetch = false;
  let widthGuessed = false;
  const paren = /^\(([^)]*)\)\s*/.exec(tail);
  if (paren && !io) {
    tail = tail.slice(paren[0].length);
    const parts = paren[1].split(',').map((s) => s.trim().toLowerCase());
    let width: string | undefined;
    for (const p of parts) {
      if (p === '64-bit') width = '64';
      else if (p === '32-bit') width = '32';
      else if (p === 'low-1m') width = 'low-1M';
      else if (p === 'prefetchable') prefetch = true;
      else if (p === 'non-prefetchable') prefetch = false;
      else if (p) flags.push(p);
    }
    if (width === '64') kind = 'mem64';
    else if (width === undefined) widthGuessed = true;
    else if (width === 'low-1M') flags.push('low-1M');
  } else if (!io) {
    widthGuessed = true;
  }
  let size: bigint | undefined;
  const rest = tail.replace(/\[([^\]]*)\]/g, (_all, inner: string) => {
    const s = inner.trim();
    const sz = /^size=(.+)$/i.exec(s);
    if (sz) {
      const v = parseSizeText(sz[1]);
      if (v === undefined) flags.push(s);
      else size = v;
    } else if (s) {
      flags.push(s.toLowerCase());
    }
    return '';
  });
  if (rest.trim() !== '') flags.push(rest.trim());
  if (widthGuessed && address !== undefined && address + (size ?? 1n) > FOUR_GIB) kind = 'mem64';
  return { bar: { kind, prefetch, size, address, flags, widthGuessed: widthGuessed || undefined } };
}

function hexNum(s: string): bigint {
  return BigInt('0x' + s);
}

/**
 * Parses lspci output into a model. Never throws; problems become `warnings` (with 1-based line
 * numbers) and notes on the devices.
 */
export function parseLspci(text: string): LspciModel {
  const model: LspciModel = { devices: [], pageSizeConflicts: [], warnings: [], skipped: [], vfLog: [] };
  const lines = text.split(/\r\n|\n|\r/);
  const byAddr = new Map<string, LspciDevice>();
  let cur: LspciDevice | undefined;
  let cap: CapCtx | undefined;
  let listingGroup: number | undefined;
  let unknownCount = 0;
  /** Next free BAR slot of the current device (for header-less fragments and `-v` index inference). */
  let nextSlot = 0;
  let lastContent: { line: number; text: string; capHeader: boolean } | undefined;
  // Per device: its "lines were elided" note and the lines of the `...` it counts.
  const elided = new Map<LspciDevice, { note: { line: number; text: string }; lines: number[] }>();

  const startUnknown = (line: number, why: string): LspciDevice => {
    const n = unknownCount++;
    const pci: PciAddr = { domain: 0xffff, bus: 0xff - Math.floor(n / 256), device: 0x1f - (Math.floor(n / 8) % 32), fn: 7 - (n % 8) };
    const d = newDevice(pci, formatPciAddr(pci), line);
    d.headerMissing = true;
    d.name = `unknown_${n}`;
    d.notes.push({ line, text: why });
    model.devices.push(d);
    cur = d;
    cap = undefined;
    nextSlot = 0;
    return d;
  };

  const ensureDevice = (line: number): LspciDevice =>
    cur ??
    startUnknown(
      line,
      `the lspci device header line is missing from the input (fragment starting at line ${line}); address ffff:… and this name are made up, the real ones are unknown`,
    );

  const startHeader = (line: number, addrText: string, rest: string, group?: number): void => {
    cap = undefined;
    nextSlot = 0;
    const pci = parsePciAddr(addrText);
    if (!pci) {
      cur = undefined;
      model.warnings.push({ line, message: `\`${addrText}\` looks like a device header but is not a valid PCI address (device number above 1f); its lines are not imported under it` });
      model.skipped.push({ line, text: addrText + ' ' + rest });
      return;
    }
    const d = newDevice(pci, addrText, line);
    parseHeaderText(d, rest);
    if (group !== undefined) d.group = group;
    const key = formatPciAddr(pci);
    const first = byAddr.get(key);
    if (first) {
      d.duplicateOf = first.line;
      model.warnings.push({ line, message: `${key} was already listed at line ${first.line}; this second listing is written as comments only` });
    } else {
      byAddr.set(key, d);
    }
    model.devices.push(d);
    cur = d;
  };

  const addBar = (line: number, index: number, parsed: Omit<LspciBar, 'index' | 'line'>, inferred: boolean): void => {
    let d = ensureDevice(line);
    const slotsUsed = (b: LspciBar): number => (b.kind === 'mem64' ? 2 : 1);
    if (!inferred && index < nextSlot && d.bars.length > 0) {
      // BAR indices go up within one function: a repeat starts the next (header-less) function.
      d = startUnknown(
        line,
        d.headerMissing
          ? `Region ${index} follows Region ${d.bars[d.bars.length - 1].index} without a device header: taken as the next function (grouping of header-less Region lines is a guess from the BAR order)`
          : `Region ${index} repeats after ${d.pciText}'s Region ${d.bars[d.bars.length - 1].index} without a device header line: taken as another function whose header is missing`,
      );
    }
    const bar: LspciBar = { index, line, ...parsed };
    if (inferred) bar.indexInferred = true;
    d.bars.push(bar);
    nextSlot = index + slotsUsed(bar);
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i].replace(/^(?:>[ \t]?)+/, '');
    const t = raw.trim();
    if (t === '') {
      listingGroup = undefined;
      continue;
    }
    const indented = /^\s/.test(raw);
    const isCapHeader = /^Capabilities:\s*\[/.test(t);
    lastContent = { line: lineNo, text: t, capHeader: isCapHeader };

    // `*IOMMU Group 11 :` listings (a shell loop over /sys/kernel/iommu_groups), optionally with the device on the same line.
    const lg = /^\*?\s*IOMMU [Gg]roup (\d+)\b\s*:?\s*(.*)$/.exec(t);
    if (lg) {
      listingGroup = parseInt(lg[1], 10);
      const hm = HEADER_RE.exec(lg[2]);
      if (hm) startHeader(lineNo, hm[1], hm[2], listingGroup);
      else cur = undefined;
      continue;
    }

    const hm = HEADER_RE.exec(t);
    if (hm && (!indented || listingGroup !== undefined || CLASS_RE.test(hm[2]))) {
      startHeader(lineNo, hm[1], hm[2], listingGroup);
      continue;
    }
    listingGroup = undefined; // a group listing holds only device lines

    const hx = HEXDUMP_RE.exec(t);
    if (hx) {
      const off = parseInt(hx[1], 16);
      const bytes = hx[2].trim().split(/\s+/).map((b) => parseInt(b, 16));
      if (cur) {
        const need = off + bytes.length;
        if (!cur.config || cur.config.length < need) {
          const grown = new Uint8Array(Math.max(need, 64));
          if (cur.config) grown.set(cur.config);
          cur.config = grown;
        }
        cur.config.set(bytes, off);
        cur.configLines++;
      } else {
        model.skipped.push({ line: lineNo, text: t });
      }
      continue;
    }

    const vl = VF_LOG_RE.exec(t);
    if (vl) {
      const pci = parsePciAddr(vl[1]);
      model.vfLog.push({
        line: lineNo,
        pci: pci ? formatPciAddr(pci) : vl[1],
        bar: parseInt(vl[2], 10),
        start: BigInt(vl[3]),
        end: BigInt(vl[4]),
        attrs: vl[5].trim(),
        vfs: parseInt(vl[6], 10),
      });
      continue;
    }

    if (!indented && PROMPT_RE.test(raw)) {
      // A shell prompt: what follows is the output of another command.
      cur = undefined;
      cap = undefined;
      model.skipped.push({ line: lineNo, text: t });
      continue;
    }

    if (t === '...' || t === '…' || /^\[\s*\.\.\.\s*\]$/.test(t)) {
      if (cur) {
        let e = elided.get(cur);
        if (!e) {
          e = { note: { line: lineNo, text: '' }, lines: [] };
          elided.set(cur, e);
          cur.notes.push(e.note);
        }
        e.lines.push(lineNo);
        // At most five line numbers: thousands of `...` lines must not make one note per line of them (quadratic).
        const n = e.lines.length;
        const shown = e.lines.slice(0, 5).join(', ') + (n > 5 ? ` and ${n - 5} more` : '');
        e.note.text = `lines were elided in the source ("..." at line${n > 1 ? 's' : ''} ${shown}): this listing is incomplete`;
      } else model.skipped.push({ line: lineNo, text: t });
      continue;
    }

    // Device fields (indentation does not matter: copies use tabs, 4/5/8/9 spaces, non-breaking spaces).
    let m: RegExpExecArray | null;
    if ((m = /^Region\s+(\d+):\s*(.*)$/.exec(t))) {
      const index = parseInt(m[1], 10);
      const r = parseRegionBody(m[2]);
      const inSriov = cap?.kind === 'sriov' && cur?.sriov;
      if (!r.bar || index > 5) {
        const msg = r.error ? `cannot parse this Region line: ${r.error}` : `BAR index ${index} is out of range 0-5`;
        model.warnings.push({ line: lineNo, message: msg });
        ensureDevice(lineNo).notes.push({ line: lineNo, text: `line ${lineNo} not imported (${msg}): ${excerpt(t)}` });
        continue;
      }
      if (inSriov) {
        const b: LspciBar = { index, line: lineNo, ...r.bar };
        if (b.address === 0n) {
          b.address = undefined;
          b.flags.push('unassigned');
        }
        cur!.sriov!.bars.push(b);
      } else {
        if (cap?.kind === 'sriov') cap = undefined;
        addBar(lineNo, index, r.bar, false);
      }
      continue;
    }
    if (cur && !cap && (m = /^((?:Memory|I\/O\s+ports)\s+at\s.*)$/.exec(t))) {
      // `lspci -v`: no `Region N:` prefix; the index follows from the order.
      const r = parseRegionBody(m[1]);
      if (!r.bar || nextSlot > 5) {
        const msg = r.error ? `cannot parse this BAR line: ${r.error}` : 'more than six BARs';
        model.warnings.push({ line: lineNo, message: msg });
        cur.notes.push({ line: lineNo, text: `line ${lineNo} not imported (${msg}): ${excerpt(t)}` });
        continue;
      }
      addBar(lineNo, nextSlot, r.bar, true);
      continue;
    }
    if ((m = /^Expansion ROM at\s+(\S+)\s*(.*)$/.exec(t))) {
      const d = ensureDevice(lineNo);
      const rom: LspciRom = { flags: [], line: lineNo };
      const a = m[1];
      const angle = /^<([a-z ]+)>$/i.exec(a);
      if (angle) rom.flags.push(angle[1].toLowerCase());
      else if (/^[0-9a-fA-F]+$/.test(a)) rom.address = hexNum(a);
      else {
        const msg = `cannot parse this Expansion ROM line: \`${a}\` is not an address`;
        model.warnings.push({ line: lineNo, message: msg });
        d.notes.push({ line: lineNo, text: `line ${lineNo} not imported (${msg}): ${excerpt(t)}` });
        continue;
      }
      m[2].replace(/\[([^\]]*)\]/g, (_all, inner: string) => {
        const sz = /^size=(.+)$/i.exec(inner.trim());
        if (sz) {
          const v = parseSizeText(sz[1]);
          if (v !== undefined) rom.size = v;
          else rom.flags.push(inner.trim());
        } else rom.flags.push(inner.trim().toLowerCase());
        return '';
      });
      d.rom = rom;
      continue;
    }
    if ((m = /^IOMMU group:\s*(\d+)/.exec(t))) {
      ensureDevice(lineNo).group = parseInt(m[1], 10);
      continue;
    }
    if (cur && !cap && (m = /^Flags:.*\bIOMMU group (\d+)/.exec(t))) {
      cur.group = parseInt(m[1], 10);
      continue;
    }
    if ((m = /^Capabilities:\s*(.*)$/.exec(t))) {
      const d = ensureDevice(lineNo);
      const body = m[1];
      if (/<access denied>/i.test(body)) {
        d.capsDenied = true;
        cap = undefined;
        continue;
      }
      const cm = /^\[([0-9a-fA-F]+)(?:\s+v\d+)?\]\s*(.*)$/.exec(body);
      const name = cm ? cm[2] : body;
      let kind: CapKind = 'other';
      if (/^MSI-X\b/.test(name)) {
        kind = 'msix';
        const cnt = /\b(?:Count|TabSize)=(\d+)/.exec(name);
        d.msix = { line: lineNo, source: 'text', entries: cnt ? parseInt(cnt[1], 10) : undefined, enabled: /Enable\+/.test(name) };
      } else if (/Single Root I\/O Virtualization|\bSR-IOV\b/.test(name)) {
        kind = 'sriov';
        d.sriov = { line: lineNo, bars: [] };
      } else if (/Enhanced Allocation/.test(name)) {
        kind = 'ea';
      } else if (/Resizable BAR/.test(name)) {
        kind = 'rebar';
      }
      cap = { kind, line: lineNo, name };
      const vio = /Vendor Specific Information: VirtIO:\s*(.*)$/.exec(name);
      if (vio) {
        cap.kind = 'virtio';
        cap.virtio = vio[1].trim();
      }
      continue;
    }
    if (/^Kernel (?:driver in use|modules):/.test(t)) {
      cap = undefined;
      continue;
    }
    if ((m = /^(I\/O|Memory|Prefetchable memory) behind bridge:\s*(.*)$/.exec(t))) {
      ensureDevice(lineNo).bridgeWindows.push({ line: lineNo, text: `${m[1]} behind bridge: ${m[2]}` });
      continue;
    }

    if (cur && cap) {
      if (cap.kind === 'msix' && cur.msix) {
        if ((m = /^Vector table:\s*BAR=(\d)\s+offset=([0-9a-fA-F]+)/.exec(t))) {
          cur.msix.tableBar = parseInt(m[1], 10);
          cur.msix.tableOffset = hexNum(m[2]);
          continue;
        }
        if ((m = /^PBA:\s*BAR=(\d)\s+offset=([0-9a-fA-F]+)/.exec(t))) {
          cur.msix.pbaBar = parseInt(m[1], 10);
          cur.msix.pbaOffset = hexNum(m[2]);
          continue;
        }
      } else if (cap.kind === 'sriov' && cur.sriov) {
        const s = cur.sriov;
        const num = (re: RegExp): number | undefined => {
          const x = re.exec(t);
          return x ? parseInt(x[1], 10) : undefined;
        };
        s.initialVfs = num(/Initial VFs:\s*(\d+)/) ?? s.initialVfs;
        s.totalVfs = num(/Total VFs:\s*(\d+)/) ?? s.totalVfs;
        s.numVfs = num(/Number of VFs:\s*(\d+)/) ?? s.numVfs;
        s.vfOffset = num(/VF offset:\s*(\d+)/) ?? s.vfOffset;
        s.vfStride = num(/stride:\s*(\d+)/) ?? s.vfStride;
        const did = /Device ID:\s*([0-9a-fA-F]{4})/.exec(t);
        if (did) s.vfDeviceId = did[1].toLowerCase();
        const sup = /Supported Page Size:\s*([0-9a-fA-F]+)/.exec(t);
        if (sup) s.supportedPageSizes = parseInt(sup[1], 16);
        const sys = /System Page Size:\s*([0-9a-fA-F]+)/.exec(t);
        if (sys) s.systemPageSize = parseInt(sys[1], 16);
        continue;
      } else if (cap.kind === 'ea') {
        if ((m = /^Entry\s+\d+:\s*Enable([+-])/.exec(t))) {
          cap.ea = { line: lineNo, enabled: m[1] === '+', vf: false };
          cur.eaEntries.push(cap.ea);
          continue;
        }
        if (cap.ea) {
          if ((m = /^BAR Equivalent Indicator:\s*(VF-)?BAR\s+(\d+)/.exec(t))) {
            cap.ea.vf = !!m[1];
            cap.ea.bar = parseInt(m[2], 10);
          } else if ((m = /^PrimaryProperties:\s*(.*)$/.exec(t))) cap.ea.properties = m[1];
          else if ((m = /^Base:\s*([0-9a-fA-F]+)/.exec(t))) cap.ea.base = hexNum(m[1]);
          else if ((m = /^MaxOffset:\s*([0-9a-fA-F]+)/.exec(t))) cap.ea.maxOffset = hexNum(m[1]);
          continue;
        }
      } else if (cap.kind === 'virtio' && (m = /^BAR=(\d)\s+offset=([0-9a-fA-F]+)\s+size=([0-9a-fA-F]+)/.exec(t))) {
        const kindName = (cap.virtio ?? '').toLowerCase();
        const names: Record<string, string> = { commoncfg: 'virtio_common', notify: 'virtio_notify', isr: 'virtio_isr', devicecfg: 'virtio_device' };
        const size = hexNum(m[3]);
        const rname = names[kindName];
        if (rname && size > 0n) {
          cur.regions.push({ name: rname, bar: parseInt(m[1], 10), offset: hexNum(m[2]), size, hot: rname === 'virtio_notify', line: lineNo });
        } else {
          cur.notes.push({ line: lineNo, text: `VirtIO ${cap.virtio} structure (${excerpt(t)}) not imported as a region` });
        }
        continue;
      } else if (cap.kind === 'rebar' && (m = /^BAR\s+(\d+):\s*(.*)$/.exec(t))) {
        cur.resizable.set(parseInt(m[1], 10), m[2]);
        continue;
      }
      continue; // other capability detail: not part of the model
    }

    if (!cur || !indented) {
      // Not lspci -v output: shell output, logs, stderr (`lspci: Unable to load libkmod …`), prose.
      model.skipped.push({ line: lineNo, text: t });
    }
    // Indented device fields we do not model (Control, Status, Latency, …) are ignored.
  }

  if (lastContent && lastContent.capHeader && CAPS_WITH_BODY.test(lastContent.text)) {
    model.truncated = { line: lastContent.line, text: lastContent.text };
    const last = cur as LspciDevice | undefined;
    last?.notes.push({
      line: lastContent.line,
      text: `the input ends at line ${lastContent.line} on "${excerpt(lastContent.text, 60)}" with nothing after it: this listing looks truncated, later capabilities (MSI-X, SR-IOV) may be missing`,
    });
  }

  resolve(model);
  return model;
}

/** Cross-device evidence: EA VF BARs, VF sizes from VFs present or kernel logs, MSI-X from hex dumps, page size. */
function resolve(model: LspciModel): void {
  // The devices (not their repeats) by domain and routing ID, and each domain's routing IDs (to find a PF's VFs in the listing).
  const byRid = new Map<number, LspciDevice>();
  const ridsOf = new Map<number, number[]>();
  for (const d of model.devices) {
    if (d.duplicateOf !== undefined) continue;
    const rid = routingId(d.pci);
    byRid.set(d.pci.domain * 0x10000 + rid, d);
    let l = ridsOf.get(d.pci.domain);
    if (!l) ridsOf.set(d.pci.domain, (l = []));
    l.push(rid);
  }

  for (const d of model.devices) {
    // MSI-X from an `lspci -x` dump when the text did not show it.
    if (d.config && !d.msix) {
      const r = msixFromConfig(d.config);
      if (r.msix) {
        d.msix = {
          line: d.line,
          source: 'config-dump',
          entries: r.msix.entries,
          enabled: r.msix.enabled,
          tableBar: r.msix.tableBar,
          tableOffset: r.msix.tableOffset,
          pbaBar: r.msix.pbaBar,
          pbaOffset: r.msix.pbaOffset,
        };
      }
    }
    // Enhanced Allocation VF BAR entries give VF0's base and the per-VF size (MaxOffset + 1).
    if (d.sriov) {
      for (const e of d.eaEntries) {
        if (!e.vf || e.bar === undefined || e.base === undefined || e.maxOffset === undefined || !e.enabled) continue;
        const existing = d.sriov.bars.find((b) => b.index === e.bar);
        const size = e.maxOffset + 1n;
        const prefetch = /(?<!non-)prefetchable/.test(e.properties ?? '');
        if (existing) {
          if (existing.size === undefined) {
            existing.size = size;
            existing.sizeSource = `Enhanced Allocation entry at line ${e.line} (MaxOffset ${hex(e.maxOffset)})`;
          }
        } else {
          d.sriov.bars.push({
            index: e.bar,
            kind: 'mem32',
            prefetch,
            size,
            address: e.base,
            flags: ['enhanced'],
            line: e.line,
            sizeSource: `Enhanced Allocation entry at line ${e.line} (Base ${hex(e.base)}, MaxOffset ${hex(e.maxOffset)})`,
          });
        }
      }
      d.sriov.bars.sort((a, b) => a.index - b.index);
    }
  }

  for (const d of model.devices) {
    const s = d.sriov;
    if (!s || d.duplicateOf !== undefined) continue;
    const key = formatPciAddr(d.pci);
    // Kernel log: `pci 0000:7d:00.3: VF(n) BAR0 space: [mem 0x1210d0000-0x1210fffff 64bit pref] (contains BAR0 for 3 VFs)`.
    for (const v of model.vfLog) {
      if (v.pci !== key || v.vfs <= 0) continue;
      const span = v.end - v.start + 1n;
      if (span <= 0n || span % BigInt(v.vfs) !== 0n) continue;
      const size = span / BigInt(v.vfs);
      let b = s.bars.find((x) => x.index === v.bar);
      if (!b) {
        b = { index: v.bar, kind: /64bit/.test(v.attrs) ? 'mem64' : 'mem32', prefetch: /pref/.test(v.attrs), address: v.start, flags: [], line: v.line };
        s.bars.push(b);
        s.bars.sort((a, c) => a.index - c.index);
      }
      if (b.size === undefined && (b.address === undefined || b.address === v.start)) {
        b.size = size;
        if (b.address === undefined) b.address = v.start;
        b.sizeSource = `kernel log line ${v.line} (VF(n) BAR${v.bar} space of ${formatSize(span)} for ${v.vfs} VFs)`;
      }
      if (s.totalVfs === undefined) s.vfsFromLog = v.vfs;
    }
    // VFs present in the same listing: VF k has routing ID PF + offset + k·stride; its BAR i is VF BAR i of size S at base + k·S.
    if (s.vfOffset !== undefined && s.vfStride !== undefined) {
      const count = s.totalVfs ?? s.numVfs ?? s.vfsFromLog ?? 0;
      const pfRid = routingId(d.pci);
      const first = pfRid + s.vfOffset;
      const stride = s.vfStride;
      // VF k's routing ID is first + k·stride. Up to 65,535 VFs per PF, but few devices in a listing: walk the
      // listing's routing IDs of this domain when they are fewer than the VFs (no address formatted per possible VF).
      const rids = ridsOf.get(d.pci.domain) ?? [];
      const ks: number[] = [];
      if (rids.length < count) {
        for (const rid of rids) {
          const off = rid - first;
          if (off < 0) continue;
          if (stride === 0 ? off === 0 : off % stride === 0 && off / stride < count) ks.push(stride === 0 ? 0 : off / stride);
        }
        ks.sort((x, y) => x - y);
      } else for (let k = 0; k < count; k++) ks.push(k);
      for (const k of ks) {
        const rid = first + k * stride;
        if (rid > 0xffff) break;
        const vf = byRid.get(d.pci.domain * 0x10000 + rid);
        if (!vf || vf === d) continue;
        const vfAddr = formatPciAddr(vf.pci);
        vf.vfOf = { pf: key, k };
        for (const b of s.bars) {
          if (b.size !== undefined || b.address === undefined) continue;
          const vb = vf.bars.find((x) => x.index === b.index && x.size !== undefined && x.address !== undefined);
          if (vb && vb.address === b.address + BigInt(k) * vb.size!) {
            b.size = vb.size;
            b.sizeSource = `VF ${vfAddr} (VF ${k}) in this listing: its BAR${b.index} is ${formatSize(vb.size!)} at ${hex(vb.address!)}`;
          }
        }
      }
    }
  }

  // Host page size from SR-IOV System Page Size (Linux programs the smallest supported size ≥ PAGE_SIZE).
  for (const d of model.devices) {
    const mask = d.sriov?.systemPageSize;
    if (mask === undefined || d.duplicateOf !== undefined) continue;
    if (!isPowerOfTwo(BigInt(mask))) {
      d.notes.push({ line: d.sriov!.line, text: `SR-IOV System Page Size ${mask.toString(16).padStart(8, '0')} is not a single bit: not used for the host page size` });
      continue;
    }
    const size = DEFAULT_PAGE_SIZE << BigInt(log2(BigInt(mask)));
    if (!model.pageSize) model.pageSize = { size, mask, line: d.sriov!.line, device: formatPciAddr(d.pci) };
    else if (model.pageSize.size !== size) {
      model.pageSizeConflicts.push({ line: d.sriov!.line, text: `${formatPciAddr(d.pci)} has System Page Size ${mask.toString(16).padStart(8, '0')} (${formatSize(size)})` });
    }
  }

  if (model.devices.length === 0) {
    const first = model.skipped.length > 0 ? model.skipped[0].line : 1;
    model.warnings.push({ line: first, message: 'no lspci device header or Region line found: is this `lspci -vv` output?' });
  }
}

// ---------------------------------------------------------------------------
// Writing

export interface LspciImportOptions {
  /** Host page size; overrides what the input suggests. */
  pageSize?: bigint;
  /** Shown in the header comment (e.g. the input file name). */
  sourceName?: string;
}

function flagNotes(b: LspciBar, what: string): string[] {
  const out: string[] = [];
  for (const f of b.flags) {
    switch (f) {
      case 'virtual':
        out.push(`${what} is [virtual]: the address is the kernel's resource, the BAR register itself reads back 0 (typical of VF BARs)`);
        break;
      case 'disabled':
        out.push(`${what} is [disabled]: memory/I-O decoding was off (Control: Mem-/I/O-) when lspci ran`);
        break;
      case 'enhanced':
        out.push(`${what} is [enhanced]: fixed by the Enhanced Allocation capability, not programmable`);
        break;
      case 'unassigned':
        out.push(`${what} is <unassigned>: no address was assigned`);
        break;
      case 'ignored':
        out.push(`${what} is <ignored>: the kernel ignored the firmware's address (it was reassigned or could not be used)`);
        break;
      case 'low-1M':
        out.push(`${what} is a legacy "low-1M" memory BAR (must sit below 1 MiB)`);
        break;
      default:
        out.push(`${what}: lspci also printed "${f}"`);
    }
  }
  return out;
}

function barWords(b: { index: number; kind: BarKind; prefetch: boolean }): string {
  return `bar ${b.index} ${b.kind}${b.prefetch && b.kind !== 'io' ? ' prefetch' : ''}`;
}

/** Reads lspci text and writes `.bartopo`. See the module comment. */
export function importLspci(text: string, opts: LspciImportOptions = {}): ImportResult {
  const model = parseLspci(text);
  const warnings = [...model.warnings];
  const w = new BartopoWriter();
  const names = new NameAllocator();
  let devices = 0;
  let bars = 0;

  // Header and host block.
  w.comment(`Imported by bartopo from lspci output${opts.sourceName ? ` (${opts.sourceName})` : ''}.`);
  w.comment('Lines starting with # note what lspci printed but this file cannot express, or what was missing.');
  if (model.truncated) {
    w.comment(`The input appears truncated: it ends at line ${model.truncated.line} on "${excerpt(model.truncated.text, 80)}" with nothing after it.`);
  }
  writeSkipped(w, model.skipped);
  w.blank();

  const hostComments: string[] = [];
  let pageSize = DEFAULT_PAGE_SIZE;
  const derived = model.pageSize;
  const derivedText = derived
    ? `SR-IOV "System Page Size: ${derived.mask.toString(16).padStart(8, '0')}" of ${derived.device} (line ${derived.line}) = ${formatSize(derived.size)}; Linux programs the smallest supported size >= its PAGE_SIZE`
    : undefined;
  if (opts.pageSize !== undefined && validPageSize(opts.pageSize)) {
    pageSize = opts.pageSize;
    hostComments.push(`Page size ${formatSize(pageSize)} given by the user.`);
    if (derived && derived.size !== pageSize) hostComments.push(`Note: the input suggests ${formatSize(derived.size)} (${derivedText}).`);
  } else {
    if (opts.pageSize !== undefined) {
      warnings.push({ line: 0, message: `page size ${opts.pageSize} is not a power of two of at least 4K; ignored` });
    }
    if (derived) {
      pageSize = derived.size;
      hostComments.push(`Page size from ${derivedText}.`);
    } else {
      hostComments.push('Page size 4K assumed: lspci does not print it (no SR-IOV System Page Size in the input). Run `getconf PAGESIZE` on the host and fix it here.');
    }
  }
  for (const c of model.pageSizeConflicts) hostComments.push(`Conflicting evidence: ${c.text} (line ${c.line}).`);
  hostBlock(w, pageSize, hostComments);

  if (model.devices.length === 0) {
    w.blank();
    w.comment('No devices: the input contains no lspci device header and no Region line.');
  }

  for (const d of model.devices) {
    w.blank();
    if (d.duplicateOf !== undefined) {
      w.comment(`${formatPciAddr(d.pci)} (line ${d.line}) was already listed at line ${d.duplicateOf}; this second listing is not imported:`);
      w.comment(`  ${d.className ?? ''}${d.className ? ': ' : ''}${d.name}${d.group !== undefined ? ` (IOMMU group ${d.group})` : ''}${d.bars.length ? `, ${d.bars.length} BAR line(s)` : ''}`);
      continue;
    }
    const r = writeDevice(w, d, names);
    devices++;
    bars += r.bars;
  }

  const checked = commentOutRejected(w.toString());
  for (const r of checked.rejected) warnings.push({ line: 0, message: r });
  return { text: checked.text, devices, bars: bars - checked.deviceBars, warnings };
}

function writeSkipped(w: BartopoWriter, skipped: LspciNote[]): void {
  if (skipped.length === 0) return;
  const shown = 6;
  w.comment(`Skipped ${skipped.length} input line(s) that are not lspci device output (prompts, logs, hex dumps without a device, prose):`);
  for (const s of skipped.slice(0, shown)) w.comment(`  line ${s.line}: ${excerpt(s.text, 100)}`);
  if (skipped.length > shown) w.comment(`  … and ${skipped.length - shown} more`);
}

function writeDevice(w: BartopoWriter, d: LspciDevice, names: NameAllocator): { bars: number } {
  const prefix = d.headerMissing ? 'unknown' : classPrefix(d.className, d.classCode);
  const name = d.headerMissing ? names.take(d.name) : names.forDevice(prefix, d.pci);
  const desc: string[] = [];
  if (d.className) desc.push(d.classCode !== undefined ? `${d.className} [${d.classCode.toString(16).padStart(4, '0')}]` : d.className);
  if (d.rev) desc.push(`rev ${d.rev}`);
  if (d.progIf) desc.push(`prog-if ${d.progIf}`);
  w.comment(`${d.headerMissing ? 'Header-less fragment' : d.pciText}${desc.length ? ': ' + desc.join(', ') : ''} (input line ${d.line})`);
  w.open(`device ${name} at ${formatPciAddr(d.pci)}`);

  for (const n of d.notes) w.comment(n.text);
  if (d.capsDenied) w.comment('Capabilities: <access denied> — MSI-X/SR-IOV unknown: lspci ran without root (rerun as root to see them).');
  if (d.vfOf) {
    w.comment(`This function is VF ${d.vfOf.k} of ${d.vfOf.pf} (SR-IOV): its BARs lie inside ${d.vfOf.pf}'s VF BAR apertures,`);
    w.comment('so when that PF\'s sriov block is written both declare the same addresses (the checker reports bar-overlap).');
  }
  if (d.config) {
    w.comment(`lspci -x hex dump of config space (${d.configLines} lines, ${d.config.length} bytes) not imported as such${d.msix?.source === 'config-dump' ? '; MSI-X below was decoded from it' : ''}.`);
    if (d.bars.length === 0) {
      for (const b of barRegistersFromConfig(d.config)) {
        w.comment(`  config dump: BAR${b.index} register = ${hex(b.address)} (${b.kind}${b.prefetch ? ', prefetchable' : ''}; a bus address, size not in the dump)`);
      }
    }
  }

  if (d.group !== undefined) w.stmt(`group ${d.group}`);
  if (d.name && !d.headerMissing) w.stmt(`name ${quote(d.name)}`);
  if (d.ids) w.stmt(`id ${d.ids.vendor}:${d.ids.device}`);

  // BARs.
  const written = new Set<number>();
  let barCount = 0;
  const noSizes = d.bars.length > 0 && d.bars.every((b) => b.size === undefined);
  if (noSizes && d.bars.some((b) => b.address !== undefined)) {
    w.comment('lspci printed no BAR sizes for this function (lspci -b?): addresses may be bus addresses rather than CPU addresses.');
  }
  for (const b of d.bars) {
    const what = `BAR ${b.index}`;
    for (const note of flagNotes(b, what)) w.comment(note);
    if (b.indexInferred) w.comment(`${what}: index inferred from the order of the lines (lspci -v prints no "Region N:"); check it.`);
    if (b.widthGuessed) w.comment(`${what}: lspci printed no width; ${b.kind} guessed.`);
    const rb = d.resizable.get(b.index);
    if (rb) w.comment(`${what} is resizable: ${rb}`);
    if (b.size === undefined) {
      const why = b.flags.includes('unassigned') || b.flags.includes('ignored') ? 'the BAR has no address and lspci printed no size' : 'lspci printed no size';
      w.comment(`${barWords(b)} size ?${b.address !== undefined ? ` at ${hex(b.address)}` : ''}  — not written: ${why} (line ${b.line}); a BAR needs a size`);
      continue;
    }
    if (b.kind === 'mem32' && b.address !== undefined && b.address + b.size > FOUR_GIB) {
      w.comment(
        `${what} is "32-bit" but lspci shows the CPU address ${hex(b.address)}, above 4 GiB: the host bridge translates it (or Enhanced Allocation placed it). Kept as mem32 as printed; to silence bar32-above-4g declare the translated window in the host block (window NAME ADDR size SIZE, at most 4G).`,
      );
    }
    if (written.has(b.index)) {
      w.comment(`${barStatement({ ...b, size: b.size })}  — not written: BAR ${b.index} appears twice (line ${b.line})`);
      continue;
    }
    w.stmt(barStatement({ ...b, size: b.size }));
    written.add(b.index);
    barCount++;
  }

  // Expansion ROM.
  if (d.rom) {
    const rom = d.rom;
    const fl = rom.flags.filter((f) => f !== 'disabled');
    // [disabled] is a ROM BAR's usual state (its enable bit is set only while the ROM is read): noted, as every flag is.
    if (rom.flags.includes('disabled')) w.comment('Expansion ROM is [disabled]: its decoding is off until the ROM is read (the usual state); the address is where it decodes when on');
    if (fl.length) w.comment(`Expansion ROM flags: ${rom.flags.map((f) => (f === 'unassigned' || f === 'ignored' ? `<${f}>` : `[${f}]`)).join(' ')}${fl.includes('virtual') ? ' ([virtual]: a shadow copy or a resource the kernel tracks, not read from the ROM BAR)' : ''}`);
    if (rom.size === undefined) {
      w.comment(`rom size ?${rom.address !== undefined ? ` at ${hex(rom.address)}` : ''}  — not written: lspci printed no ROM size (line ${rom.line})`);
    } else {
      w.stmt(`rom size ${sizeLiteral(rom.size)}${rom.address !== undefined ? ` at ${hex(rom.address)}` : ''}`);
    }
  }

  // MSI-X.
  if (d.msix) writeMsix(w, d.msix, written);

  // VirtIO register structures as regions.
  for (const r of d.regions) {
    const stmt = `region ${r.name} bar ${r.bar} offset ${hex(r.offset)} size ${sizeLiteral(r.size)}${r.hot ? ' hot' : ''}`;
    if (!written.has(r.bar)) w.comment(`${stmt}  — not written: BAR ${r.bar} is not in this file (line ${r.line})`);
    else w.stmt(stmt);
  }

  // SR-IOV.
  if (d.sriov) writeSriov(w, d.sriov);

  // Bridge windows.
  if (d.bridgeWindows.length) {
    w.comment('Bridge windows (the language has no statement for them):');
    for (const bw of d.bridgeWindows) w.comment(`  ${excerpt(bw.text, 110)} (line ${bw.line})`);
  }
  w.close();
  return { bars: barCount };
}

function writeMsix(w: BartopoWriter, m: LspciMsix, written: Set<number>): void {
  const st = m.enabled === undefined ? '' : m.enabled ? ', Enable+' : ', Enable-';
  if (m.entries === undefined || m.tableBar === undefined || m.tableOffset === undefined) {
    const have = [
      m.entries !== undefined ? `${m.entries} vectors` : 'vector count unknown',
      m.tableBar !== undefined ? `table in BAR ${m.tableBar} at ${hex(m.tableOffset ?? 0n)}` : 'no "Vector table" line',
    ];
    w.comment(`MSI-X capability (line ${m.line}${st}) is incomplete in the input (${have.join(', ')}): not written.`);
    return;
  }
  let stmt = `msix entries ${m.entries} table bar ${m.tableBar} offset ${hex(m.tableOffset)}`;
  const hasPba = m.pbaBar !== undefined && m.pbaOffset !== undefined;
  if (hasPba) stmt += ` pba bar ${m.pbaBar} offset ${hex(m.pbaOffset!)}`;
  const src = m.source === 'config-dump' ? ' (decoded from the config-space hex dump)' : '';
  const missing = [m.tableBar, ...(hasPba ? [m.pbaBar!] : [])].filter((b) => !written.has(b));
  if (missing.length) {
    w.comment(`${stmt}  — not written: BAR ${[...new Set(missing)].join(', ')} is not in this file (MSI-X capability at line ${m.line}${src})`);
    return;
  }
  w.comment(`MSI-X capability (line ${m.line})${src}${st}${hasPba ? '' : '; no PBA line in the input'}`);
  w.stmt(stmt);
}

function writeSriov(w: BartopoWriter, s: LspciSriov): void {
  const vfs = s.totalVfs ?? s.vfsFromLog;
  const facts: string[] = [];
  if (s.totalVfs !== undefined) facts.push(`${s.totalVfs} VFs total`);
  else if (s.vfsFromLog !== undefined) facts.push(`${s.vfsFromLog} VFs (from the kernel log; lspci printed no Total VFs)`);
  if (s.numVfs !== undefined) facts.push(`${s.numVfs} enabled`);
  if (s.initialVfs !== undefined) facts.push(`initial ${s.initialVfs}`);
  if (s.vfOffset !== undefined) facts.push(`VF offset ${s.vfOffset} stride ${s.vfStride ?? '?'}`);
  if (s.vfDeviceId) facts.push(`VF device id ${s.vfDeviceId}`);
  if (s.systemPageSize !== undefined) facts.push(`System Page Size ${s.systemPageSize.toString(16).padStart(8, '0')}`);
  w.comment(`SR-IOV (line ${s.line}): ${facts.length ? facts.join(', ') : 'no details printed'}.`);

  const sized = s.bars.filter((b) => b.size !== undefined);
  const vfBarLine = (b: LspciBar): string =>
    b.size !== undefined ? barStatement({ ...b, size: b.size }) : `${barWords(b)} size ?${b.address !== undefined ? ` at ${hex(b.address)}` : ''}`;
  const unsizedNote = 'lspci never prints VF BAR sizes: take them from sysfs (resource lines 7-12 divided by Total VFs) or the kernel log "VF(n) BARi space"';

  if (vfs === undefined || vfs === 0 || sized.length === 0) {
    const why =
      vfs === undefined ? 'the number of VFs is not in the input' : vfs === 0 ? 'the device reports 0 VFs' : s.bars.length === 0 ? 'no VF BAR lines in the input' : unsizedNote;
    w.comment(`sriov not written: ${why}.`);
    for (const b of s.bars) {
      w.comment(`  VF ${vfBarLine(b)}${b.flags.includes('unassigned') ? ' (unassigned)' : ''} (line ${b.line})`);
    }
    return;
  }
  w.open(`sriov vfs ${vfs}`);
  for (const b of s.bars) {
    if (b.size === undefined) {
      w.comment(`${vfBarLine(b)}  — not written: ${unsizedNote} (line ${b.line})`);
      continue;
    }
    if (b.sizeSource) w.comment(`VF BAR ${b.index} size from ${b.sizeSource}`);
    if (b.flags.includes('enhanced')) w.comment(`VF BAR ${b.index} comes from Enhanced Allocation (printed as 32-bit by lspci; address above 4 GiB kept as is).`);
    w.stmt(barStatement({ ...b, size: b.size }));
  }
  w.close();
}
