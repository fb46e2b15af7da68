// Deterministic generator of synthetic PCI topologies for the benchmark.
//
// One seeded PRNG (sfc32) drives everything, so a given (devices, seed) pair
// always yields the same topology, byte for byte. The topology is built once
// as plain data (`Topology`) and then written twice: as a `.bartopo` file and
// as JSON of the same content (validated by bench/topology.schema.json).
//
// What it looks like (a large arm64/POWER-like host with 64 KiB pages):
// - a host block: page size 64K, a 2 GiB 32-bit window, a 64-bit window for
//   non-prefetchable BARs, one for prefetchable BARs and one for the big ones;
// - device mixes: NVMe (16K BAR with doorbells next to the MSI-X table), NICs
//   (prefetchable BAR + MSI-X BAR, some ConnectX-like with doorbells in the
//   table's page, half of them with SR-IOV), USB-like multi-function devices
//   with sub-page mem32 BARs (some packed into one page, x86 style: warnings),
//   GPUs (up to 16G BARs, ROM, I/O BAR, an audio function), miscellaneous;
// - BAR sizes 256 B … 16 GiB, naturally aligned, packed per window by a bump
//   allocator; a few BARs are misaligned or overlapping on purpose (errors);
// - MSI-X on about half of the devices, `hot` doorbell regions;
// - SR-IOV on about 10% of the devices, 8–256 VFs (log-uniform);
// - IOMMU groups (multi-function devices share one);
// - about N/50 guests, each assigning about 50 devices, with mixed allocation
//   policies and MSI-X modes, some explicit guest addresses and BAR orders.
//
// Usage: node out/bench/generate.js DEVICES [--seed N] [--out DIR]
// writes DIR/topology-DEVICES.bartopo and DIR/topology-DEVICES.json.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BarKind, MsixMode, Policy } from '../server/src/engine/ast';
import { hex, hexGrouped, sizeLiteral } from '../server/src/engine/values';

// ---------------------------------------------------------------- data model

export type { BarKind, MsixMode, Policy };

export interface GenBar {
  index: number;
  kind: BarKind;
  prefetch: boolean;
  size: bigint;
  address?: bigint;
}

export interface GenRegion {
  name: string;
  bar: number;
  offset: bigint;
  size: bigint;
  hot: boolean;
}

export interface GenMsix {
  entries: number;
  tableBar: number;
  tableOffset: bigint;
  pbaBar: number;
  pbaOffset: bigint;
}

export interface GenDevice {
  name: string;
  /** `dddd:bb:dd.f`. */
  pci: string;
  group: number;
  description: string;
  id: string;
  bars: GenBar[];
  msix?: GenMsix;
  regions: GenRegion[];
  rom?: { size: bigint; address?: bigint };
  sriov?: { vfs: number; bars: GenBar[] };
  /** Comment line written above the device in the .bartopo form. */
  comment?: string;
}

export interface GenWindow {
  name: string;
  address: bigint;
  size: bigint;
  prefetch: boolean;
}

export interface GenAssign {
  device: string;
  /** Present when the assign has a block: BAR order and optional guest addresses. */
  bars?: { index: number; address?: bigint }[];
}

export interface GenGuest {
  name: string;
  window: { address: bigint; size: bigint };
  allocate: Policy;
  msix: MsixMode;
  assign: GenAssign[];
}

export interface Topology {
  seed: number;
  host: { name: string; pageSize: bigint; arch: string; msixMappable: boolean; windows: GenWindow[] };
  devices: GenDevice[];
  guests: GenGuest[];
}

// ---------------------------------------------------------------- PRNG

/** sfc32: small, fast, good enough statistically, and identical on every platform. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** Uniform in [0, 2^32). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.float() * xs.length)];
  }

  /** A power of two 2^k with k uniform in [log2(lo), log2(hi)] (log-uniform sizes). */
  pow2(lo: bigint, hi: bigint): bigint {
    const a = log2(lo);
    const b = log2(hi);
    return 1n << BigInt(this.int(a, b));
  }

  /** Picks a key by weight. */
  weighted<K extends string>(w: Record<K, number>): K {
    const keys = Object.keys(w) as K[];
    let total = 0;
    for (const k of keys) total += w[k];
    let x = this.float() * total;
    for (const k of keys) {
      x -= w[k];
      if (x < 0) return k;
    }
    return keys[keys.length - 1];
  }
}

function log2(v: bigint): number {
  let n = 0;
  while (1n << BigInt(n + 1) <= v) n++;
  return n;
}

// ---------------------------------------------------------------- layout

const K = 1n << 10n;
const M = 1n << 20n;
const G = 1n << 30n;
const T = 1n << 40n;

function alignUp(v: bigint, a: bigint): bigint {
  return ((v + a - 1n) / a) * a;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** Bump allocator over one host window: naturally aligned, sub-page BARs get a page of their own. */
class Arena {
  cursor: bigint;
  /** Last BAR placed (to make a deliberate overlap). */
  last?: { address: bigint; size: bigint };

  constructor(
    readonly window: GenWindow,
    private readonly page: bigint,
  ) {
    this.cursor = window.address;
  }

  get end(): bigint {
    return this.window.address + this.window.size;
  }

  /** Whether a BAR of this size still fits. */
  fits(size: bigint): boolean {
    const step = maxBig(size, this.page);
    return alignUp(this.cursor, step) + step <= this.end;
  }

  /** A naturally aligned address; BARs below the page size get a whole page (powernv-style alignment). */
  take(size: bigint): bigint {
    const step = maxBig(size, this.page);
    const a = alignUp(this.cursor, step);
    this.cursor = a + step;
    this.last = { address: a, size };
    return a;
  }

  /** One page into which the caller packs several small BARs (x86-style packing). */
  takePage(): bigint {
    return this.take(this.page);
  }

  /** An aperture of `count` BARs of `size`, aligned to `size`. */
  takeAperture(size: bigint, count: number): bigint {
    const a = alignUp(this.cursor, maxBig(size, this.page));
    this.cursor = alignUp(a + size * BigInt(count), this.page);
    return a;
  }
}

const VENDORS: Record<string, [string, string][]> = {
  nvme: [
    ['144d:a808', 'Samsung NVMe SSD Controller SM981/PM981'],
    ['8086:0a54', 'Intel NVMe Datacenter SSD'],
    ['1e0f:0007', 'KIOXIA NVMe SSD'],
  ],
  nic: [
    ['15b3:1015', 'Mellanox ConnectX-4 Lx'],
    ['8086:1572', 'Intel Ethernet Controller X710'],
    ['19e5:a222', 'HNS GE/10GE/25GE RDMA Network Controller'],
    ['14e4:16d7', 'Broadcom BCM57414 NetXtreme-E'],
  ],
  usb: [
    ['1033:0035', 'NEC uPD720101 OHCI'],
    ['1033:00e0', 'NEC uPD720101 EHCI'],
    ['1912:0014', 'Renesas uPD720201 xHCI'],
  ],
  gpu: [
    ['10de:1eb8', 'NVIDIA Tesla T4'],
    ['1002:738c', 'AMD Instinct MI100'],
  ],
  audio: [['10de:10fa', 'NVIDIA HD Audio Controller']],
  misc: [
    ['1af4:1041', 'virtio network device'],
    ['8086:37c8', 'Intel QuickAssist'],
    ['1000:0097', 'Broadcom SAS3008 HBA'],
    ['1b36:000d', 'QEMU xHCI'],
  ],
};

type Kind = 'nvme' | 'nic' | 'usb' | 'gpu' | 'misc';

export interface GenerateOptions {
  devices: number;
  seed?: number;
  /** Guests (default: max(1, round(devices / 50))). */
  guests?: number;
  /**
   * Share of the main BARs made misaligned, and again of those made to overlap the previous BAR of their
   * window (default 0.001: a few errors in a big file; 0.2 gives a half-broken inventory).
   */
  defectRate?: number;
}

/** Builds the topology: exactly `devices` PCI functions. */
export function generate(opts: GenerateOptions): Topology {
  const seed = opts.seed ?? 20240611;
  const defectRate = opts.defectRate ?? 0.001;
  const rng = new Rng(seed ^ Math.imul(opts.devices, 0x9e3779b1));
  const P = 64n * K;
  const windows: GenWindow[] = [
    { name: 'mmio32', address: 0x8000_0000n, size: 2n * G, prefetch: false },
    { name: 'mmio64', address: 0x4000_0000_0000n, size: 16n * T, prefetch: false },
    { name: 'pref64', address: 0x6000_0000_0000n, size: 64n * T, prefetch: true },
    { name: 'large64', address: 0x8000_0000_0000n, size: 64n * T, prefetch: true },
  ];
  const [w32, w64, wpref, wlarge] = windows.map((w) => new Arena(w, P));
  let ioCursor = 0x1000n;
  const devices: GenDevice[] = [];
  let group = 1;
  let domain = 0;
  let bus = 1;
  let slot = 0;
  const counters: Record<string, number> = {};
  const nameOf = (k: string): string => {
    counters[k] = (counters[k] ?? 0) + 1;
    return `${k}${counters[k]}`;
  };
  const pciOf = (fn: number): string => `${domain.toString(16).padStart(4, '0')}:${bus.toString(16).padStart(2, '0')}:${slot.toString(16).padStart(2, '0')}.${fn}`;
  const nextSlot = (): void => {
    slot++;
    if (slot > 0x1f) {
      slot = 0;
      bus++;
      if (bus > 0xff) {
        bus = 1;
        domain++;
      }
    }
  };
  const vendor = (k: string): [string, string] => rng.pick(VENDORS[k]);

  /**
   * Places a memory BAR in a window chosen by kind, prefetch and size; mem32 falls back to mem64
   * when the 32-bit window is full. With `defects`, a share `defectRate` of BARs (default 1 in 1000) is
   * misaligned (bar-alignment) and as many land on the previous BAR of their window (bar-overlap).
   */
  const place = (b: GenBar, defects = false): void => {
    let arena: Arena;
    if (b.kind === 'mem32' && w32.fits(b.size)) arena = w32;
    else {
      if (b.kind === 'mem32') b.kind = 'mem64';
      arena = b.size >= 256n * M ? wlarge : b.prefetch ? wpref : w64;
    }
    const prev = arena.last;
    b.address = arena.take(b.size);
    if (!defects || b.size < 4n * K) return;
    const x = rng.float();
    if (x < defectRate) b.address += b.size / 2n;
    else if (x < 2 * defectRate && prev && prev.size === b.size) b.address = prev.address;
  };

  while (devices.length < opts.devices) {
    const left = opts.devices - devices.length;
    const kind = rng.weighted<Kind>({ nvme: 25, nic: 20, usb: 20, gpu: 5, misc: 30 });
    if (kind === 'nvme') {
      const [id, desc] = vendor('nvme');
      const bar: GenBar = { index: 0, kind: 'mem64', prefetch: false, size: 16n * K };
      place(bar, true);
      const entries = rng.pick([17, 32, 33, 65, 129]);
      devices.push({
        name: nameOf('nvme'),
        pci: pciOf(0),
        group: group++,
        description: desc,
        id,
        bars: [bar],
        // Doorbells at 0x1000, the MSI-X table at 0x2000 and PBA at 0x3000: one 64K page.
        msix: { entries, tableBar: 0, tableOffset: 0x2000n, pbaBar: 0, pbaOffset: 0x3000n },
        regions: [
          { name: 'registers', bar: 0, offset: 0n, size: 4n * K, hot: false },
          { name: 'doorbells', bar: 0, offset: 0x1000n, size: 4n * K, hot: true },
        ],
      });
      nextSlot();
    } else if (kind === 'nic') {
      const [id, desc] = vendor('nic');
      const cx = rng.chance(0.3); // ConnectX-like: MSI-X table inside BAR0 next to the doorbells
      const bar0: GenBar = { index: 0, kind: 'mem64', prefetch: true, size: rng.pow2(1n * M, 32n * M) };
      place(bar0, true);
      const bars = [bar0];
      const entries = rng.pick([8, 16, 64, 128, 512, 2048]);
      let msix: GenMsix;
      const regions: GenRegion[] = [];
      if (cx) {
        msix = { entries: Math.min(entries, 64), tableBar: 0, tableOffset: 0x2000n, pbaBar: 0, pbaOffset: 0x3000n };
        regions.push({ name: 'doorbells', bar: 0, offset: 0n, size: 8n * K, hot: true });
      } else {
        const size = maxBig(rng.pow2(16n * K, 64n * K), BigInt(entries) * 32n);
        const bar2: GenBar = { index: 2, kind: 'mem64', prefetch: true, size };
        place(bar2);
        bars.push(bar2);
        msix = { entries, tableBar: 2, tableOffset: 0n, pbaBar: 2, pbaOffset: size / 2n };
        regions.push({ name: 'doorbells', bar: 0, offset: 0n, size: 64n * K, hot: true });
      }
      regions.push({ name: 'stats', bar: 0, offset: bar0.size / 2n, size: 4n * K, hot: false });
      const dev: GenDevice = { name: nameOf('nic'), pci: pciOf(0), group: group++, description: desc, id, bars, msix, regions };
      if (rng.chance(0.5)) {
        // SR-IOV: 8–256 VFs (log-uniform), VF BARs 16K–1M.
        const vfs = Math.round(Math.exp(Math.log(8) + rng.float() * (Math.log(256) - Math.log(8))));
        const size = rng.pow2(16n * K, 1n * M);
        const vb: GenBar = { index: 0, kind: 'mem64', prefetch: true, size };
        vb.address = wpref.takeAperture(size, vfs);
        dev.sriov = { vfs, bars: [vb] };
        dev.comment = `${desc}: PF with ${vfs} VFs of ${fmtSize(size)}`;
      }
      devices.push(dev);
      nextSlot();
    } else if (kind === 'usb') {
      // A multi-function controller: 2–3 functions, one IOMMU group, sub-page mem32 BARs.
      const fns = Math.min(left, rng.int(2, 3));
      const packed = rng.chance(0.3); // x86-style: all functions' BARs in one page
      const crossGroup = packed && rng.chance(0.1); // a function in an IOMMU group of its own, same page
      let pageKind: BarKind = 'mem32';
      const newPage = (): bigint => {
        pageKind = w32.fits(P) ? 'mem32' : 'mem64';
        return pageKind === 'mem32' ? w32.takePage() : w64.takePage();
      };
      let page = packed ? newPage() : 0n;
      let offset = 0n;
      const g = group++;
      for (let fn = 0; fn < fns; fn++) {
        const [id, desc] = VENDORS.usb[Math.min(fn, VENDORS.usb.length - 1)];
        const size = fn === 0 ? 4n * K : rng.pick([256n, 1n * K, 4n * K, 8n * K]);
        const bar: GenBar = { index: 0, kind: 'mem32', prefetch: false, size };
        if (packed) {
          offset = alignUp(offset, size);
          if (offset + size > P) {
            page = newPage();
            offset = 0n;
          }
          bar.kind = pageKind;
          bar.address = page + offset;
          offset += size;
        } else {
          place(bar);
        }
        const bars = [bar];
        if (fn === 0 && ioCursor + 32n <= 0x1_0000n && rng.chance(0.5)) {
          bars.push({ index: 4, kind: 'io', prefetch: false, size: 32n, address: ioCursor });
          ioCursor += 32n;
        }
        devices.push({
          name: nameOf('usb'),
          pci: pciOf(fn),
          group: crossGroup && fn === fns - 1 ? group++ : g,
          description: desc,
          id,
          bars,
          regions: [],
          comment: fn === 0 ? `USB controller, ${fns} functions${packed ? ', BARs packed into one page' : ''}` : undefined,
        });
      }
      nextSlot();
    } else if (kind === 'gpu') {
      const [id, desc] = vendor('gpu');
      const g = group++;
      const bar0: GenBar = { index: 0, kind: 'mem32', prefetch: false, size: 16n * M };
      place(bar0);
      // NVIDIA-style 0/1/3 (+ I/O at 5); when BAR0 had to become 64-bit, 0/2/4 and no I/O BAR.
      const wide = bar0.kind === 'mem64';
      const bar1: GenBar = { index: wide ? 2 : 1, kind: 'mem64', prefetch: true, size: rng.pow2(256n * M, 16n * G) };
      place(bar1);
      const bar3: GenBar = { index: wide ? 4 : 3, kind: 'mem64', prefetch: true, size: 32n * M };
      place(bar3);
      const bars = [bar0, bar1, bar3];
      if (!wide && ioCursor + 128n <= 0x1_0000n) {
        ioCursor = alignUp(ioCursor, 128n);
        bars.push({ index: 5, kind: 'io', prefetch: false, size: 128n, address: ioCursor });
        ioCursor += 128n;
      }
      const rom = w32.fits(512n * K) ? { size: 512n * K, address: w32.take(512n * K) } : { size: 512n * K };
      devices.push({
        name: nameOf('gpu'),
        pci: pciOf(0),
        group: g,
        description: desc,
        id,
        bars,
        msix: { entries: rng.pick([1, 6, 16]), tableBar: 0, tableOffset: 0xb9_0000n, pbaBar: 0, pbaOffset: 0xba_0000n },
        regions: [{ name: 'fifo', bar: 0, offset: 0n, size: 64n * K, hot: true }],
        rom,
        comment: `${desc} with its HDMI audio function`,
      });
      if (left > 1) {
        const abar: GenBar = { index: 0, kind: 'mem32', prefetch: false, size: 16n * K };
        place(abar);
        const [aid, adesc] = VENDORS.audio[0];
        devices.push({ name: nameOf('audio'), pci: pciOf(1), group: g, description: adesc, id: aid, bars: [abar], regions: [] });
      }
      nextSlot();
    } else {
      const [id, desc] = vendor('misc');
      const bars: GenBar[] = [];
      const size0 = rng.pow2(4n * K, 1n * M);
      const bar0: GenBar = { index: 0, kind: 'mem64', prefetch: false, size: size0 };
      place(bar0, true);
      bars.push(bar0);
      if (rng.chance(0.4)) {
        const b: GenBar = { index: 2, kind: 'mem32', prefetch: false, size: rng.pow2(256n, 64n * K) };
        place(b);
        bars.push(b);
      }
      if (rng.chance(0.05)) bars.push({ index: 4, kind: 'mem64', prefetch: true, size: 64n * K }); // never assigned by firmware
      const dev: GenDevice = { name: nameOf('dev'), pci: pciOf(0), group: group++, description: desc, id, bars, regions: [] };
      if (rng.chance(0.1) && size0 >= 32n * K) {
        dev.msix = { entries: rng.pick([4, 16, 64]), tableBar: 0, tableOffset: size0 / 2n, pbaBar: 0, pbaOffset: size0 / 2n + size0 / 4n };
      }
      devices.push(dev);
      nextSlot();
    }
  }
  devices.length = opts.devices;

  // Guests: consecutive runs of ~50 devices, never splitting an IOMMU group; ~90% of each run is assigned.
  const nGuests = Math.max(1, opts.guests ?? Math.round(opts.devices / 50));
  const per = Math.ceil(devices.length / nGuests);
  const guests: GenGuest[] = [];
  let i = 0;
  for (let gi = 0; gi < nGuests && i < devices.length; gi++) {
    const start = i;
    i = Math.min(devices.length, start + per);
    while (i < devices.length && i > start && devices[i].group === devices[i - 1].group) i++;
    const gw = { address: 0x100_0000_0000n, size: 4n * T };
    const explicitBase = gw.address + 2n * T;
    let explicit = explicitBase;
    const guest: GenGuest = {
      name: `vm${gi + 1}`,
      window: gw,
      allocate: rng.weighted<Policy>({ listed: 40, 'size-descending': 30, 'page-match': 30 }),
      msix: rng.weighted<MsixMode>({ emulate: 50, relocate: 30, paravirt: 20 }),
      assign: [],
    };
    for (let d = start; d < i; d++) {
      const dev = devices[d];
      if (rng.chance(0.1) && !(d > start && devices[d - 1].group === dev.group)) continue;
      const mem = dev.bars.filter((b) => b.kind !== 'io' && b.address !== undefined);
      const a: GenAssign = { device: dev.name };
      const x = rng.float();
      if (x < 0.08 && mem.length > 0) {
        // An explicit guest address for the first memory BAR, with the host's page offset.
        const b = mem[0];
        const step = maxBig(b.size, P);
        explicit = alignUp(explicit, step);
        a.bars = [{ index: b.index, address: explicit + (b.address! % P) }];
        explicit += step;
      } else if (x < 0.13 && mem.length > 1) {
        // An explicit BAR order: the last memory BAR first.
        a.bars = [...mem].reverse().map((b) => ({ index: b.index }));
      }
      guest.assign.push(a);
    }
    guests.push(guest);
  }

  return {
    seed,
    host: { name: 'bench', pageSize: P, arch: 'arm64', msixMappable: true, windows },
    devices,
    guests,
  };
}

// ---------------------------------------------------------------- writers

// The language's own formatting (sizes as 4K/64K/1M, long addresses grouped by `_`).
const fmtSize = sizeLiteral;
const fmtAddr = hexGrouped;
const hexOf = hex;

function barLine(b: GenBar): string {
  return `bar ${b.index} ${b.kind}${b.prefetch ? ' prefetch' : ''} size ${fmtSize(b.size)}${b.address !== undefined ? ` at ${fmtAddr(b.address)}` : ''}`;
}

/** The topology in the bartopo language. */
export function toBartopo(t: Topology): string {
  const out: string[] = [];
  out.push(`# Synthetic topology for the bartopo benchmark: ${t.devices.length} devices, ${t.guests.length} guests, seed ${t.seed}.`);
  out.push('# Generated by bench/generate.ts; the same data is in the matching .json file.');
  out.push('');
  out.push(`host ${t.host.name} {`);
  out.push(`  page-size ${fmtSize(t.host.pageSize)}`);
  out.push(`  arch ${t.host.arch}`);
  out.push(`  msix-mappable ${t.host.msixMappable ? 'yes' : 'no'}`);
  for (const w of t.host.windows) out.push(`  window ${w.name} ${fmtAddr(w.address)} size ${fmtSize(w.size)}${w.prefetch ? ' prefetch' : ''}`);
  out.push('}');
  for (const d of t.devices) {
    out.push('');
    if (d.comment) out.push(`# ${d.comment}`);
    out.push(`device ${d.name} at ${d.pci} {`);
    out.push(`  group ${d.group}`);
    out.push(`  name "${d.description}"`);
    out.push(`  id ${d.id}`);
    for (const b of d.bars) out.push(`  ${barLine(b)}`);
    if (d.msix) {
      const m = d.msix;
      out.push(`  msix entries ${m.entries} table bar ${m.tableBar} offset ${hexOf(m.tableOffset)} pba bar ${m.pbaBar} offset ${hexOf(m.pbaOffset)}`);
    }
    for (const r of d.regions) out.push(`  region ${r.name} bar ${r.bar} offset ${hexOf(r.offset)} size ${fmtSize(r.size)}${r.hot ? ' hot' : ''}`);
    if (d.rom) out.push(`  rom size ${fmtSize(d.rom.size)}${d.rom.address !== undefined ? ` at ${fmtAddr(d.rom.address)}` : ''}`);
    if (d.sriov) {
      out.push(`  sriov vfs ${d.sriov.vfs} {`);
      for (const b of d.sriov.bars) out.push(`    ${barLine(b)}`);
      out.push('  }');
    }
    out.push('}');
  }
  for (const g of t.guests) {
    out.push('');
    out.push(`guest ${g.name} {`);
    out.push(`  window ${fmtAddr(g.window.address)} size ${fmtSize(g.window.size)}`);
    out.push(`  allocate ${g.allocate}`);
    out.push(`  msix ${g.msix}`);
    for (const a of g.assign) {
      if (!a.bars) {
        out.push(`  assign ${a.device}`);
        continue;
      }
      out.push(`  assign ${a.device} {`);
      for (const b of a.bars) out.push(`    bar ${b.index}${b.address !== undefined ? ` at ${fmtAddr(b.address)}` : ''}`);
      out.push('  }');
    }
    out.push('}');
  }
  out.push('');
  return out.join('\n');
}

function barJson(b: GenBar): Record<string, unknown> {
  const o: Record<string, unknown> = { index: b.index, kind: b.kind, prefetch: b.prefetch, size: hexOf(b.size) };
  if (b.address !== undefined) o.address = hexOf(b.address);
  return o;
}

/** The same topology as a plain JSON value (the shape bench/topology.schema.json describes). */
export function toJsonValue(t: Topology): unknown {
  return {
    version: 1,
    host: {
      name: t.host.name,
      pageSize: hexOf(t.host.pageSize),
      arch: t.host.arch,
      msixMappable: t.host.msixMappable,
      windows: t.host.windows.map((w) => ({ name: w.name, address: hexOf(w.address), size: hexOf(w.size), prefetch: w.prefetch })),
    },
    devices: t.devices.map((d) => {
      const o: Record<string, unknown> = { name: d.name, pci: d.pci, group: d.group, description: d.description, id: d.id, bars: d.bars.map(barJson) };
      if (d.msix) {
        const m = d.msix;
        o.msix = { entries: m.entries, table: { bar: m.tableBar, offset: hexOf(m.tableOffset) }, pba: { bar: m.pbaBar, offset: hexOf(m.pbaOffset) } };
      }
      if (d.regions.length > 0) o.regions = d.regions.map((r) => ({ name: r.name, bar: r.bar, offset: hexOf(r.offset), size: hexOf(r.size), hot: r.hot }));
      if (d.rom) o.rom = d.rom.address !== undefined ? { size: hexOf(d.rom.size), address: hexOf(d.rom.address) } : { size: hexOf(d.rom.size) };
      if (d.sriov) o.sriov = { vfs: d.sriov.vfs, bars: d.sriov.bars.map(barJson) };
      return o;
    }),
    guests: t.guests.map((g) => ({
      name: g.name,
      window: { address: hexOf(g.window.address), size: hexOf(g.window.size) },
      allocate: g.allocate,
      msix: g.msix,
      assign: g.assign.map((a) =>
        a.bars ? { device: a.device, bars: a.bars.map((b) => (b.address !== undefined ? { index: b.index, address: hexOf(b.address) } : { index: b.index })) } : { device: a.device },
      ),
    })),
  };
}

/** JSON text, pretty-printed with two spaces (what a person or a tool would write). */
export function toJson(t: Topology): string {
  return JSON.stringify(toJsonValue(t), null, 2) + '\n';
}

/** Where the JSON schema lives in the repository (from out/bench/ or bench/). */
export function schemaPath(): string {
  const candidates = [path.resolve(__dirname, '..', '..', 'bench', 'topology.schema.json'), path.resolve(__dirname, 'topology.schema.json')];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  return candidates[0];
}

export interface Written {
  devices: number;
  bartopoPath: string;
  jsonPath: string;
  bartopo: string;
  json: string;
  topology: Topology;
}

/** Generates and writes DIR/topology-N.bartopo and DIR/topology-N.json (and a copy of the schema). */
export function writeTopology(devices: number, dir: string, seed?: number): Written {
  const topology = generate({ devices, seed });
  const bartopo = toBartopo(topology);
  const json = toJson(topology);
  fs.mkdirSync(dir, { recursive: true });
  const bartopoPath = path.join(dir, `topology-${devices}.bartopo`);
  const jsonPath = path.join(dir, `topology-${devices}.json`);
  fs.writeFileSync(bartopoPath, bartopo);
  fs.writeFileSync(jsonPath, json);
  const schema = schemaPath();
  if (fs.existsSync(schema)) fs.copyFileSync(schema, path.join(dir, 'topology.schema.json'));
  return { devices, bartopoPath, jsonPath, bartopo, json, topology };
}

function main(argv: string[]): void {
  let seed: number | undefined;
  let dir = path.join(os.tmpdir(), 'bartopo-bench');
  const sizes: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--out') dir = argv[++i];
    else if (/^[0-9]+$/.test(a)) sizes.push(Number(a));
    else {
      console.error(`usage: node out/bench/generate.js DEVICES… [--seed N] [--out DIR]`);
      process.exit(2);
    }
  }
  if (sizes.length === 0) sizes.push(200);
  for (const n of sizes) {
    const w = writeTopology(n, dir, seed);
    console.log(`${w.bartopoPath} (${w.bartopo.length} chars), ${w.jsonPath} (${w.json.length} chars)`);
  }
}

if (require.main === module) main(process.argv.slice(2));
