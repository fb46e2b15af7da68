// Resolved topology: the typed tree with names bound, defaults applied and
// derived numbers (MSI-X table/PBA sizes, VF apertures) computed. Structural
// rules that need only one statement or one device are checked here.

import { AssignNode, BarKind, BarNode, DeviceNode, FileNode, GuestNode, MsixMode, PciAddress, Policy, Val } from './ast';
import { OverlayMap } from './overlayMap';
import { emptyList, fitted } from './fitted';
import type { Resource } from './host';
import { Finding, Reporter } from './report';
import { countAtMost } from './sorted';
import { NameSuggester } from './suggest';
import { Span } from './types';
import { Stmt } from './tree';
import { aSized, endsBelow64, flat, formatPci, formatRange, formatSize, hex, isPowerOfTwo, shared, someOf, U64_LIMIT } from './values';

export const DEFAULT_PAGE_SIZE = 4096n;
export const FOUR_G = 1n << 32n;

export interface HostWindow {
  name: string;
  start: bigint;
  size: bigint;
  prefetch: boolean;
  span: Span;
}

export interface Host {
  name?: string;
  pageSize: bigint;
  /** Where the page size came from, for hover and messages. */
  pageSizeSource: 'default' | 'host' | 'override';
  pageSizeSpan?: Span;
  arch?: string;
  msixMappable: boolean;
  windows: HostWindow[];
  span?: Span;
}

export interface Bar {
  device: Device;
  index: number;
  kind: BarKind;
  prefetch: boolean;
  /** Valid size (power of two ≥ minimum); undefined when invalid. */
  size?: bigint;
  /** The size as written, valid or not. */
  declaredSize: bigint;
  host?: bigint;
  id: string;
  node: BarNode;
  span: Span;
}

export interface Msix {
  entries: bigint;
  tableBar: number;
  tableOffset: bigint;
  tableSize: bigint;
  pbaBar?: number;
  pbaOffset?: bigint;
  pbaSize: bigint;
  span: Span;
  /** Whether the layout is valid (inside memory BARs, aligned, no overlap). */
  valid: boolean;
  /** Whether the table is where it says (in a memory BAR, aligned, inside it): its page traps even when the PBA is wrong. */
  tableValid: boolean;
  /** Whether the PBA is declared and where it says, clear of the table. */
  pbaValid: boolean;
}

export interface Region {
  name: string;
  bar: number;
  offset: bigint;
  size: bigint;
  hot: boolean;
  span: Span;
  valid: boolean;
}

export interface Rom {
  size?: bigint;
  host?: bigint;
  span: Span;
}

export interface VfBar {
  device: Device;
  index: number;
  kind: BarKind;
  prefetch: boolean;
  size?: bigint;
  base?: bigint;
  span: Span;
  node: BarNode;
}

export interface Sriov {
  vfs: bigint;
  bars: VfBar[];
  span: Span;
}

export interface Device {
  name: string;
  pci?: PciAddress;
  /** Group key: `N` for a declared group, `solo:NAME` otherwise. */
  group: string;
  label?: string;
  id?: string;
  bars: Bar[];
  /** BAR slots that were declared (even if the statement had errors), incl. mem64 upper halves: bit N for slot N. */
  declaredSlots: number;
  msix?: Msix;
  regions: Region[];
  rom?: Rom;
  sriov?: Sriov;
  node: DeviceNode;
  nameSpan: Span;
  span: Span;
  /** Findings of the device statement itself (a repeated `group`) and of its parts (BARs, MSI-X, regions, ROM, SR-IOV): a device depends on its own statement only, so they are kept with the model. */
  own: Finding[];
  parts: Finding[];
  /** Caches kept with the model (fields rather than WeakMaps or wrapper objects: read for every device of every analysis). Host-level findings, and the windows they were checked against. */
  hostFound?: Finding[];
  hostWindowsKey?: string;
  /** host.ts's resources of this device. */
  resources?: Resource[];
}

export interface AssignedBar {
  bar: Bar;
  address?: bigint;
  /** Its `at` address runs past 2^64 (address-overflow): it is given no guest address at all, and traps. */
  unplaceable?: boolean;
  /** `bar N` line in the assign block, if any. */
  span?: Span;
}

export interface Assign {
  device: Device;
  /** Memory BARs in placement order: listed ones first, then the rest by index. */
  bars: AssignedBar[];
  span: Span;
  nameSpan: Span;
}

export interface Guest {
  name: string;
  window?: { start: bigint; size: bigint; span: Span };
  policy: Policy;
  msix: MsixMode;
  assigns: Assign[];
  node: GuestNode;
  nameSpan: Span;
  span: Span;
}

export interface Topology {
  host: Host;
  devices: Device[];
  deviceByName: Map<string, Device>;
  guests: Guest[];
  /** What the next version's model can reuse; absent when the devices had a duplicate name or PCI address. */
  reuse?: TopologyReuse;
  /**
   * How `devices` was made from the previous version's list, when it was
   * updated rather than rebuilt: the devices at [head, head + gone.length)
   * there were replaced by `added` (a device whose statement moved is in both).
   */
  update?: DeviceListUpdate;
  /** What the next version's guest list can take over; absent when a guest statement is unnamed or a guest name repeats. */
  guestReuse?: GuestListReuse;
}

/**
 * A guest list made from every guest statement of `nodes`, in order (`of[i]` is
 * `nodes[i]`'s model). While the next version has the same guest statements and
 * only updates the device list, it takes the list over and builds again only the
 * guests that name a replaced device (found by name in `byDevice`), instead of a
 * pass over every guest: a file with one guest per device has thousands.
 */
export interface GuestListReuse {
  nodes: GuestNode[];
  of: Guest[];
  /** Indices (ascending) of the guests with findings to report. */
  noted: number[];
  /** Indices (ascending) of the guests that name a device no statement declares. */
  unknown: number[];
  /** Guest indices by the device names their assign statements use (made on first need: it depends on `nodes` only). */
  byDevice?: Map<string, number[]>;
}

/** The guests (indices, ascending, each once) whose assign statements name a device called `name`. */
export function guestsNaming(reuse: GuestListReuse, name: string): readonly number[] {
  if (!reuse.byDevice) {
    const m = new Map<string, number[]>();
    reuse.nodes.forEach((gn, i) => {
      for (const an of gn.assigns) {
        if (!an.device) continue;
        const l = m.get(an.device.value);
        if (!l) m.set(an.device.value, [i]);
        else if (l[l.length - 1] !== i) l.push(i);
      }
    });
    reuse.byDevice = m;
  }
  return reuse.byDevice.get(name) ?? emptyList();
}

export interface DeviceListUpdate {
  head: number;
  gone: Device[];
  added: Device[];
}

/** A device list without duplicates, for the next version to update instead of rebuild (see `updateDevices`). */
interface TopologyReuse {
  /** The file's device statements, all named: `devices[i]` is `nodes[i]`'s model. */
  nodes: DeviceNode[];
  byPci: Map<number, Device>;
  windowsKey: string;
  /** Indices (ascending) of the devices that have model or host-level findings to report. */
  noted: number[];
}

/** How messages name `d`'s IOMMU group (made when needed: 40,000 devices would keep 40,000 such strings). */
export function groupLabel(d: Device): string {
  return d.group.startsWith('solo:') ? `its own group: ${d.name} has no \`group\`` : `group ${d.group}`;
}

/** The BAR `d` declares in slot `index` (a search of at most six: no per-device index array to keep). */
export function barAt(d: Device, index: number): Bar | undefined {
  for (const b of d.bars) if (b.index === index) return b;
  return undefined;
}

/**
 * The span of a statement: the statement itself (it has `start` and `end`), so
 * that spans in the model move with the statement when an incremental re-parse
 * moves it.
 */
export function stmtSpan(s: Stmt): Span {
  return s;
}

/** Where model builders report: the Reporter, or a recorder that keeps a device's findings for reuse. */
type Sink = Pick<Reporter, 'add'>;

class Recorder implements Sink {
  readonly found: Finding[] = [];
  add(...f: Finding): void {
    this.found.push(f);
  }
}

/**
 * A device's model with its device-local findings, kept on its syntax node. A
 * device depends on its own statement only, so when an incremental re-parse
 * reuses the node (an edit elsewhere), the device is reused too; its spans are
 * the node's own objects and move with it.
 */
function buildDevice(dn: DeviceNode, name: string): Device {
  const groupVal: Val<bigint> | undefined = dn.groups[0];
  const own = new Recorder();
  for (const g of dn.groups.slice(1)) own.add('duplicate', g.span, `${name}: \`group\` is given twice; a function is in exactly one IOMMU group.`, { subject: name });
  const d: Device = {
    name,
    pci: dn.pci?.value,
    group: groupVal ? groupVal.value.toString() : `solo:${name}`,
    label: dn.label?.value,
    id: dn.id?.value,
    bars: [],
    declaredSlots: 0,
    msix: undefined,
    regions: [],
    rom: undefined,
    sriov: undefined,
    node: dn,
    nameSpan: dn.name!.span,
    span: stmtSpan(dn.stmt),
    own: emptyList(),
    parts: emptyList(),
    hostFound: undefined,
    hostWindowsKey: undefined,
    resources: undefined,
  };
  const parts = new Recorder();
  buildBars(d, parts);
  buildMsix(d, parts);
  buildRegions(d, parts);
  buildRom(d, parts);
  buildSriov(d, parts);
  d.bars = fitted(d.bars);
  d.regions = fitted(d.regions);
  if (d.sriov) d.sriov.bars = fitted(d.sriov.bars);
  d.own = fitted(own.found);
  d.parts = fitted(parts.found);
  return d;
}

/** Whether slot `i` of `d` was declared (by a BAR or as a mem64's upper half). */
export function slotDeclared(d: Device, i: number): boolean {
  return i >= 0 && i < 31 && ((d.declaredSlots >>> i) & 1) === 1;
}

function minBarSize(kind: BarKind): bigint {
  return kind === 'io' ? 4n : 16n;
}

/** Checks one BAR-like statement's size, alignment and address range; returns the valid size. */
function checkBarNumbers(
  r: Sink,
  id: string,
  node: BarNode,
  kind: BarKind,
  subject: string,
  target: { device: string; bar: number; vf?: boolean },
  /** How many BARs of this size follow the address (a VF BAR: its VFs' whole aperture must fit below 2^64). */
  count = 1n,
): bigint | undefined {
  let size: bigint | undefined;
  if (node.size) {
    const s = node.size.value;
    const min = minBarSize(kind);
    if (!isPowerOfTwo(s)) {
      r.add('bar-size', node.size.span, `${id}: size ${s === 0n ? '0' : formatSize(s)} is not a power of two; a BAR decodes a naturally aligned power-of-two window. Use e.g. ${formatSize(nextPow2(s < min ? min : s))}.`, { subject, target });
    } else if (s < min) {
      r.add('bar-size', node.size.span, `${id}: ${kind === 'io' ? 'an I/O' : 'a memory'} BAR is at least ${formatSize(min)}; ${formatSize(s)} is too small. Use ${formatSize(min)} or more.`, { subject, target });
    } else size = s;
  }
  if (node.address && size !== undefined) {
    const a = node.address.value;
    if (a % size !== 0n) {
      r.add('bar-alignment', node.address.span, `${id}: address ${hex(a)} is not a multiple of its size ${formatSize(size)}; a BAR is naturally aligned. ${alignedChoices(a, size, count)}`, { subject, target });
    }
    // A VF BAR's range is part of its aperture (all its VFs): buildSriov reports that once.
    if (!endsBelow64(a, size) && !target.vf) {
      r.add('address-overflow', node.address.span, `${id}: ${hex(a)} + ${formatSize(size)} runs past the end of the 64-bit address space. ${belowTop(size)}`, { subject, target });
    }
  }
  return size;
}

/** What to do about a range of `size` that runs past 2^64: the highest address it may start at. */
function belowTop(size: bigint, what = `${aSized(size)} range`): string {
  return size <= U64_LIMIT ? `Lower the address: ${what} starts at ${hex(U64_LIMIT - size)} at the highest.` : `Make it smaller: ${what} is larger than the 64-bit address space.`;
}

/** `Use A or B.`: the aligned addresses below and above `a`; the one above only when the BAR there still ends within 64 bits. */
function alignedChoices(a: bigint, size: bigint, count = 1n): string {
  const down = a - (a % size);
  const fits = [down, down + size].filter((v) => v + count * size <= U64_LIMIT);
  if (fits.length > 0) return `Use ${fits.map(hex).join(' or ')}.`;
  const top = U64_LIMIT - count * size;
  return top >= 0n ? `Use a multiple of ${formatSize(size)} at or below ${hex(top - (top % size))}.` : 'Make it smaller: it does not fit in the 64-bit address space.';
}

function nextPow2(v: bigint): bigint {
  let p = 1n;
  while (p < v) p <<= 1n;
  return p;
}

/**
 * The model of a parsed file. With `previous` (the topology of an earlier
 * version whose parse shares the unchanged statements' nodes with this one),
 * the device list and maps are updated where the statements changed (see
 * `updateDevices`) and the guest models of unchanged guest statements are taken
 * over (see `guestModel`). `consume`: `previous` is not used afterwards, so its
 * maps may be updated in place.
 */
export function buildTopology(file: FileNode, r: Reporter, opts: { pageSize?: bigint; msixMappableDefault?: boolean }, previous?: Topology, consume = false): Topology {
  for (const rep of file.repeated) r.add('duplicate', rep.span, rep.message);

  // Host.
  const hn = file.hosts[0];
  for (const extra of file.hosts.slice(1)) {
    r.add('duplicate', extra.keyword, 'a file describes one host; this second `host` block is ignored. Merge it into the first one.', {
      related: [{ span: hn.keyword, message: 'the first host block' }],
    });
  }
  const host: Host = {
    pageSize: DEFAULT_PAGE_SIZE,
    pageSizeSource: 'default',
    msixMappable: opts.msixMappableDefault ?? true,
    windows: [],
  };
  if (hn) {
    host.name = hn.name?.value;
    host.span = stmtSpan(hn.stmt);
    host.arch = hn.arch?.value;
    if (hn.pageSize) {
      host.pageSize = hn.pageSize.value;
      host.pageSizeSource = 'host';
      host.pageSizeSpan = hn.pageSize.span;
    }
    if (hn.msixMappable) host.msixMappable = hn.msixMappable.value;
    const seen = new Map<string, Span>();
    for (const w of hn.windows) {
      if (!w.name || !w.address || !w.size) continue;
      const prev = seen.get(w.name.value);
      if (prev) {
        r.add('duplicate', w.name.span, `window \`${w.name.value}\` is declared twice; the first one counts. Rename or remove one.`, { related: [{ span: prev, message: 'first declaration' }] });
        continue;
      }
      seen.set(w.name.value, w.name.span);
      if (!endsBelow64(w.address.value, w.size.value)) {
        r.add('address-overflow', w.size.span, `window ${w.name.value}: ${hex(w.address.value)} + ${formatSize(w.size.value)} runs past the end of the 64-bit address space. ${belowTop(w.size.value)}`);
        continue;
      }
      host.windows.push({ name: w.name.value, start: w.address.value, size: w.size.value, prefetch: w.prefetch, span: stmtSpan(w.stmt) });
    }
  }
  if (opts.pageSize !== undefined) {
    host.pageSize = opts.pageSize;
    host.pageSizeSource = 'override';
  }

  // Devices: updated from the previous version's when only a few statements changed and no name or PCI address repeats; else built.
  const windowsKey = host.windows.map((w) => `${w.name}=${w.start}+${w.size}`).join(',');
  const updated = previous?.reuse && updateDevices(file, previous, host.windows, windowsKey, consume);
  const { devices, deviceByName, reuse, update } = updated ?? buildDevices(file, r, host.windows, windowsKey);
  if (updated) replayFindings(devices, updated.reuse!.noted, host.windows, windowsKey, r);

  // Guests.
  const guests: Guest[] = [];
  const guestNames = new Map<string, Span>();
  // After an update of the device list, an earlier guest model can resolve differently only through the replaced devices' names.
  let renamed: Set<string> | undefined;
  // Whether the update left the set of device names as it was (each replaced device came back under its name): then
  // a name no device has is still unknown, and its "did you mean" is the same.
  let sameNames = false;
  if (update) {
    renamed = new Set();
    for (const d of update.gone) renamed.add(d.name);
    // Names are unique in an updated list: as many added as gone, each under a gone name, is the same set.
    sameNames = update.added.length === update.gone.length && update.added.every((d) => renamed!.has(d.name));
    for (const d of update.added) renamed.add(d.name);
  }
  // Indexes the names only if a guest names an unknown device; the previous version's index while the names are the same.
  const names = (sameNames && previous && suggesters.get(previous)) || new NameSuggester(deviceByName);
  const was = previous?.guestReuse;
  if (renamed && was && was.of === previous!.guests && sameList(was.nodes, file.guests)) {
    const taken = takeOverGuests(file, was, deviceByName, renamed, sameNames, names, r);
    const topology: Topology = { host, devices, deviceByName, guests: taken.of, reuse, update, guestReuse: taken };
    suggesters.set(topology, names);
    return topology;
  }
  // The previous version's guest models, by statement: each analysis takes over from the one it follows.
  const earlierGuests = previous && previous.guests.length > 0 ? new Map(previous.guests.map((g) => [g.node, g])) : undefined;
  let clean = true; // every guest statement named, no name twice
  const noted: number[] = [];
  const unknown: number[] = [];
  for (const gn of file.guests) {
    if (!gn.name) {
      clean = false;
      continue;
    }
    const name = gn.name.value;
    const prevG = guestNames.get(name);
    if (prevG) {
      clean = false;
      r.add('duplicate', gn.name.span, `guest \`${name}\` is declared twice; guest names must be unique.`, { subject: name, related: [{ span: prevG, message: 'first declaration' }] });
      continue;
    }
    guestNames.set(name, gn.name.span);
    const g = guestModel(gn, name, deviceByName, r, earlierGuests?.get(gn), renamed, sameNames, names);
    const src = guestSources.get(g)!;
    if (src.found.length > 0) noted.push(guests.length);
    if (src.unknown) unknown.push(guests.length);
    guests.push(g);
  }
  const guestReuse: GuestListReuse | undefined = clean ? { nodes: file.guests, of: guests, noted, unknown } : undefined;
  const topology: Topology = { host, devices, deviceByName, guests, reuse, update, guestReuse };
  suggesters.set(topology, names);
  return topology;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The guest list after an update of the device list that left every guest statement as it was: the
 * previous list, with the guests that name a replaced device (and, when the device names changed, those
 * naming an unknown device) modelled again by `guestModel`, which keeps or patches them. Findings are
 * reported in guest order, as the whole loop reports them.
 */
function takeOverGuests(
  file: FileNode,
  was: GuestListReuse,
  deviceByName: Map<string, Device>,
  renamed: Set<string>,
  sameNames: boolean,
  names: NameSuggester,
  r: Pick<Reporter, 'replay'>,
): GuestListReuse {
  const of = was.of.slice();
  const again = new Set<number>();
  for (const n of renamed) for (const i of guestsNaming(was, n)) again.add(i);
  if (!sameNames) for (const i of was.unknown) again.add(i);
  const quiet = { replay: (): void => undefined }; // reported below, in order
  for (const i of again) of[i] = guestModel(file.guests[i], of[i].name, deviceByName, quiet, was.of[i], renamed, sameNames, names);
  const has = (i: number, what: 'noted' | 'unknown'): boolean => {
    const src = guestSources.get(of[i])!;
    return what === 'noted' ? src.found.length > 0 : src.unknown;
  };
  // The indices kept from before (those not modelled again), with those modelled again that qualify, in order.
  const merged = (old: number[], what: 'noted' | 'unknown'): number[] => {
    const redone = [...again].filter((i) => has(i, what)).sort((x, y) => x - y);
    if (redone.length === 0 && again.size === 0) return old;
    const out: number[] = [];
    let k = 0;
    for (const i of old) {
      if (again.has(i)) continue;
      while (k < redone.length && redone[k] < i) out.push(redone[k++]);
      out.push(i);
    }
    while (k < redone.length) out.push(redone[k++]);
    return out;
  };
  const noted = merged(was.noted, 'noted');
  for (const i of noted) for (const f of guestSources.get(of[i])!.found) r.replay(f);
  return { nodes: file.guests, of, noted, unknown: merged(was.unknown, 'unknown'), byDevice: was.byDevice };
}

/** The devices with one of `names`: looked up when names are unique (the list has `reuse`), else found by a pass over the list. */
export function devicesNamed(topo: Topology, names: Set<string>): Device[] {
  if (names.size === 0) return [];
  const out: Device[] = [];
  if (topo.reuse) {
    for (const n of names) {
      const d = topo.deviceByName.get(n);
      if (d) out.push(d);
    }
  } else {
    for (const d of topo.devices) if (names.has(d.name)) out.push(d);
  }
  return out;
}

function pciKey(p: PciAddress): number {
  return p.domain * 65536 + p.bus * 256 + p.device * 8 + p.fn;
}

function builtDevice(dn: DeviceNode, name: string): Device {
  let d = dn.model as Device | undefined;
  if (!d) dn.model = d = buildDevice(dn, name);
  return d;
}

function hostLevelOf(d: Device, windows: HostWindow[], windowsKey: string): Finding[] {
  if (d.hostFound === undefined || d.hostWindowsKey !== windowsKey) {
    d.hostFound = hostLevelFindings(d, windows);
    d.hostWindowsKey = windowsKey;
  }
  return d.hostFound;
}

/** Whether a device has model or host-level findings to report (the `noted` devices of `TopologyReuse`). */
function hasFindings(d: Device, windows: HostWindow[], windowsKey: string): boolean {
  return d.own.length + d.parts.length + hostLevelOf(d, windows, windowsKey).length > 0;
}

/** Every device statement's model, the name and PCI address checks, and the findings, in file order. */
function buildDevices(file: FileNode, r: Reporter, windows: HostWindow[], windowsKey: string): Pick<Topology, 'devices' | 'deviceByName' | 'reuse' | 'update'> {
  const devices: Device[] = [];
  const deviceByName = new Map<string, Device>();
  const byPci = new Map<number, Device>();
  let clean = true; // every statement named, no name or PCI address twice
  for (const dn of file.devices) {
    if (!dn.name) {
      clean = false;
      continue;
    }
    const name = dn.name.value;
    const d = builtDevice(dn, name);
    for (const f of d.own) r.replay(f);
    const prev = deviceByName.get(name);
    if (prev) {
      clean = false;
      r.add('duplicate', dn.name.span, `device \`${name}\` is declared twice; names must be unique (assign and messages refer to devices by name).`, {
        subject: name,
        related: [{ span: prev.nameSpan, message: `first \`${name}\`` }],
      });
    } else {
      deviceByName.set(name, d);
    }
    if (dn.pci) {
      const p = dn.pci.value;
      const key = pciKey(p);
      const other = byPci.get(key);
      if (other) {
        clean = false;
        r.add('duplicate', dn.pci.span, `${name} and ${other.name} are both at PCI address ${formatPci(p)}; one address is one function. Correct the address of one (\`lspci -D\` lists them).`, {
          subject: name,
          related: [{ span: other.node.pci!.span, message: `${other.name} is at ${formatPci(p)}` }],
        });
      } else byPci.set(key, d);
    }
    devices.push(d);
    for (const f of d.parts) r.replay(f);
  }
  // Host-level checks per BAR (4G, windows): per device, kept with the device model while the windows stay the same.
  const noted: number[] = [];
  devices.forEach((d, i) => {
    for (const f of hostLevelOf(d, windows, windowsKey)) r.replay(f);
    if (hasFindings(d, windows, windowsKey)) noted.push(i);
  });
  return { devices, deviceByName, reuse: clean ? { nodes: file.devices, byPci, windowsKey, noted } : undefined };
}

/** Most device statements an update takes on; beyond, building the list again is as cheap. */
const MAX_UPDATED_DEVICES = 64;

/**
 * The device list of `file` as an update of `previous`'s: the statements both
 * share at the start and at the end keep their models and places, the ones in
 * between are replaced. Undefined (build instead) when the windows changed, too
 * many statements did, or a replacing statement is unnamed or repeats a name or
 * PCI address: then duplicate reports, which depend on file order, need the
 * whole list. Findings are not reported here (see `replayFindings`).
 */
function updateDevices(file: FileNode, previous: Topology, windows: HostWindow[], windowsKey: string, consume: boolean): Pick<Topology, 'devices' | 'deviceByName' | 'reuse' | 'update'> | undefined {
  const old = previous.reuse!;
  if (old.windowsKey !== windowsKey) return undefined;
  const a = old.nodes;
  const b = file.devices;
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const gone = previous.devices.slice(head, a.length - tail);
  const fresh = b.slice(head, b.length - tail);
  if (gone.length + fresh.length > MAX_UPDATED_DEVICES) return undefined;
  // Check every replacing statement before anything changes (a consumed previous is updated in place).
  const goneNames = new Set(gone.map((d) => d.name));
  const goneKeys = new Set(gone.filter((d) => d.pci).map((d) => pciKey(d.pci!)));
  const names = new Set<string>();
  const keys = new Set<number>();
  for (const dn of fresh) {
    if (!dn.name) return undefined;
    const name = dn.name.value;
    if (names.has(name) || (previous.deviceByName.has(name) && !goneNames.has(name))) return undefined;
    names.add(name);
    if (dn.pci) {
      const key = pciKey(dn.pci.value);
      if (keys.has(key) || (old.byPci.has(key) && !goneKeys.has(key))) return undefined;
      keys.add(key);
    }
  }
  const deviceByName = consume ? previous.deviceByName : new OverlayMap(previous.deviceByName);
  const byPci = consume ? old.byPci : new OverlayMap(old.byPci);
  for (const d of gone) {
    deviceByName.delete(d.name);
    if (d.pci) byPci.delete(pciKey(d.pci));
  }
  const added: Device[] = [];
  for (const dn of fresh) {
    const d = builtDevice(dn, dn.name!.value);
    deviceByName.set(d.name, d);
    if (d.pci) byPci.set(pciKey(d.pci), d);
    added.push(d);
  }
  const devices = previous.devices.slice(0, head).concat(added, previous.devices.slice(previous.devices.length - tail));
  // The devices with findings: before the change as they were, the new ones, after it shifted.
  const shift = added.length - gone.length;
  const noted: number[] = [];
  for (const i of old.noted) if (i < head) noted.push(i);
  added.forEach((d, k) => {
    if (hasFindings(d, windows, windowsKey)) noted.push(head + k);
  });
  for (const i of old.noted) if (i >= a.length - tail) noted.push(i + shift);
  return { devices, deviceByName, reuse: { nodes: b, byPci, windowsKey, noted }, update: { head, gone, added } };
}

/**
 * Reports the findings of an updated device list in the order `buildDevices`
 * reports them. The host-level ones are read through `hostLevelOf`: a model is
 * shared with the analyses of edited copies, which may have checked it against
 * other windows since.
 */
function replayFindings(devices: Device[], noted: number[], windows: HostWindow[], windowsKey: string, r: Reporter): void {
  for (const i of noted) {
    const d = devices[i];
    for (const f of d.own) r.replay(f);
    for (const f of d.parts) r.replay(f);
  }
  for (const i of noted) for (const f of hostLevelOf(devices[i], windows, windowsKey)) r.replay(f);
}

/**
 * A guest's model and findings. A guest depends on its own statement and on the
 * devices its assigns name: while the node is reused and every name resolves to
 * the same device model, the previous version's model (`earlier`) is taken over,
 * which lets the guest analysis be reused too. What a model was built from is
 * kept with the model, not with the node: fixes analyse edited copies that share
 * the original's nodes, and their models must not take the original's place. A
 * guest that names an unknown device is reused only while the device names are
 * the same set (its message suggests names from all devices): so a guest with a
 * half-typed assign does not make every keystroke elsewhere build, place and
 * judge it again.
 */
interface GuestSource {
  found: Finding[];
  resolved: (Device | undefined)[];
  /** Whether an assign names a device no statement declares. */
  unknown: boolean;
  /**
   * When every assign names a device once and each resolved: where each assign's findings start in
   * `found` (by the assign's index; one more entry for the end). Such a model is patched, not built
   * again, when some of its devices were replaced: the other assigns keep their objects and findings.
   */
  marks?: number[];
  /** The device names the assigns use, made on first need. */
  names?: Set<string>;
  /** With `marks`: the index of each assign statement in the node, made on first need (fix checks, `editedGuestModel`). */
  index?: Map<AssignNode, number>;
}
const guestSources = new WeakMap<Guest, GuestSource>();

/** The "did you mean" index of each topology's device names (built on first need, shared while the names stay the same). */
const suggesters = new WeakMap<Topology, NameSuggester>();

function guestModel(
  gn: GuestNode,
  name: string,
  deviceByName: Map<string, Device>,
  r: Pick<Reporter, 'replay'>,
  earlier: Guest | undefined,
  renamed: Set<string> | undefined,
  sameNames: boolean,
  names: NameSuggester,
): Guest {
  const cached = earlier && guestSources.get(earlier);
  const patchable = earlier !== undefined && cached?.marks !== undefined && earlier.name === name && earlier.node === gn;
  // A patchable model one of whose devices was replaced is looked at once, by `patchedGuest` (which keeps the model
  // when every name still resolves to the device it did), not also by `resolvesAsBefore`: each is a lookup per assign.
  const replaced = patchable && renamed !== undefined && namesReplaced(gn, cached!, renamed);
  if (earlier && cached && !replaced && earlier.name === name && (!cached.unknown || (renamed !== undefined && sameNames)) && resolvesAsBefore(gn, cached, deviceByName, renamed)) {
    for (const f of cached.found) r.replay(f);
    return earlier;
  }
  const patched = patchable ? patchedGuest(gn, earlier!, cached!, deviceByName) : undefined;
  if (patched) {
    if (patched.guest !== earlier) guestSources.set(patched.guest, patched.source);
    for (const f of patched.source.found) r.replay(f);
    return patched.guest;
  }
  const rec = new Recorder();
  const marks: number[] = [];
  const guest = buildGuest(gn, name, deviceByName, rec, names, (i) => (marks[i] = rec.found.length));
  const resolved = gn.assigns.map((an) => deviceByName.get(an.device?.value ?? ''));
  const once = new Set(gn.assigns.map((an) => an.device?.value)).size === gn.assigns.length;
  const simple = once && gn.assigns.every((an, i) => an.device !== undefined && resolved[i] !== undefined);
  guestSources.set(guest, {
    found: rec.found,
    resolved,
    unknown: gn.assigns.some((an, i) => an.device !== undefined && resolved[i] === undefined),
    marks: simple ? marks : undefined,
  });
  for (const f of rec.found) r.replay(f);
  return guest;
}

/**
 * The model of a guest whose statement is unchanged but some of whose devices were replaced (an edit in
 * a device it assigns), made from the earlier model: the assigns of unchanged devices keep their objects
 * and findings, the others are built again. What `buildGuest` would give (the same values, the findings in
 * the same order): `earlier` itself when every assign still names the device it did; undefined when an
 * assign no longer resolves.
 */
function patchedGuest(gn: GuestNode, earlier: Guest, cached: GuestSource, deviceByName: Map<string, Device>): { guest: Guest; source: GuestSource } | undefined {
  const marks = cached.marks!;
  const n = gn.assigns.length;
  if (earlier.assigns.length !== n) return undefined;
  const found: Finding[] = cached.found.slice(0, marks[0]); // the guest's own (allocate, msix, window)
  let changed = false;
  const newMarks: number[] = [];
  const resolved: Device[] = [];
  const assigns: Assign[] = [];
  for (let i = 0; i < n; i++) {
    const an = gn.assigns[i];
    const d = deviceByName.get(an.device!.value);
    if (!d) return undefined;
    resolved.push(d);
    newMarks.push(found.length);
    if (d === cached.resolved[i]) {
      assigns.push(earlier.assigns[i]);
      for (let k = marks[i]; k < marks[i + 1]; k++) found.push(cached.found[k]);
    } else {
      changed = true;
      const rec = new Recorder();
      assigns.push(buildAssign(an, d, earlier.name, rec));
      for (const f of rec.found) found.push(f);
    }
  }
  newMarks.push(found.length);
  if (!changed) return { guest: earlier, source: cached };
  return { guest: { ...earlier, assigns }, source: { found, resolved, unknown: false, marks: newMarks } };
}

/**
 * Whether a guest's assigns name the same device models as when its model was
 * built. With `renamed` (the names of the devices a device-list update
 * replaced, when the model was resolved against the previous list), only those
 * names can resolve differently; else every assign is looked up again.
 */
function resolvesAsBefore(gn: GuestNode, cached: GuestSource, deviceByName: Map<string, Device>, renamed: Set<string> | undefined): boolean {
  if (!renamed || namesReplaced(gn, cached, renamed)) return gn.assigns.every((an, i) => deviceByName.get(an.device?.value ?? '') === cached.resolved[i]);
  return true;
}

/** Whether a guest's assigns name one of `renamed` (the names of the devices a device-list update replaced). */
function namesReplaced(gn: GuestNode, cached: GuestSource, renamed: Set<string>): boolean {
  const names = (cached.names ??= new Set(gn.assigns.map((an) => an.device?.value ?? '')));
  for (const n of renamed) if (names.has(n)) return true;
  return false;
}

/** bar32-above-4g and bar-outside-window of one device's BARs, ROM and VF apertures. */
function hostLevelFindings(d: Device, windows: HostWindow[]): Finding[] {
  const r = new Recorder();
  // A range past 2^64 is reported as address-overflow and is no address range: no window or 4 GiB question about it.
  for (const b of d.bars) {
    if (b.host === undefined || b.size === undefined || b.kind === 'io' || !endsBelow64(b.host, b.size)) continue;
    if (b.kind === 'mem32' && b.host + b.size > FOUR_G && !inWindow(windows, b.host, b.size, 'translated32')) {
      r.add(
        'bar32-above-4g',
        b.node.address!.span,
        `${b.id} is a 32-bit BAR but ${formatRange(b.host, b.size)} ends above 4 GiB; a mem32 BAR register cannot hold it. Move it below 4 GiB, declare it mem64, or declare the host's translated 32-bit window (\`window mmio32 ADDR size SIZE\`, at most 4G) that contains it.`,
        { subject: b.id, target: { device: d.name, bar: b.index } },
      );
    }
  }
  // A 32-bit VF BAR register holds VF 0's address; VF k's BAR is k sizes above it: all of them must be below 4 GiB.
  for (const vb of d.sriov?.bars ?? []) {
    if (vb.kind !== 'mem32' || vb.base === undefined || vb.size === undefined) continue;
    const total = vb.size * d.sriov!.vfs;
    if (vb.base + total > FOUR_G && !inWindow(windows, vb.base, total, 'translated32')) {
      r.add(
        'bar32-above-4g',
        vb.node.address!.span,
        `${d.name}.vf*.bar${vb.index} is a 32-bit VF BAR but ${d.sriov!.vfs === 1n ? `its one VF's BAR ${formatRange(vb.base, total)} ends` : `its ${d.sriov!.vfs} VFs' BARs ${formatRange(vb.base, total)} end`} above 4 GiB; a mem32 VF BAR register cannot place them there. Move it below 4 GiB, declare it mem64, or declare the host's translated 32-bit window (\`window mmio32 ADDR size SIZE\`, at most 4G) that contains it.`,
        { subject: `${d.name}.vf*.bar${vb.index}`, target: { device: d.name, bar: vb.index, vf: true } },
      );
    }
  }
  if (windows.length > 0) {
    for (const b of d.bars) if (b.host !== undefined && b.size !== undefined && b.kind !== 'io' && endsBelow64(b.host, b.size)) checkInWindow(r, windows, b.id, b.host, b.size, b.node.address!.span, { device: d.name, bar: b.index });
    if (d.rom?.host !== undefined && d.rom.size !== undefined && endsBelow64(d.rom.host, d.rom.size)) checkInWindow(r, windows, `${d.name}.rom`, d.rom.host, d.rom.size, d.rom.span, { device: d.name, bar: -1 });
    for (const vb of d.sriov?.bars ?? []) {
      if (vb.base === undefined || vb.size === undefined) continue;
      checkInWindow(r, windows, `${d.name}.vf*.bar${vb.index}`, vb.base, vb.size * d.sriov!.vfs, vb.node.address!.span, { device: d.name, bar: vb.index, vf: true }, d.sriov!.vfs);
    }
  }
  return fitted(r.found);
}

function checkInWindow(r: Sink, windows: HostWindow[], id: string, start: bigint, size: bigint, span: Span, target: { device: string; bar: number; vf?: boolean }, vfs = 0n): void {
  if (inWindow(windows, start, size, 'all')) return;
  const names = someOf(windows, (w) => `${w.name} ${formatRange(w.start, w.size)}`);
  const what = target.vf ? `${id} (VF BAR${vfs === 1n ? '' : 's'} ${formatRange(start, size)})` : `${id} ${formatRange(start, size)}`;
  r.add('bar-outside-window', span, `${what} is outside every host window (${names}); the host bridge does not route it. Move it into a window.`, {
    subject: id,
    target,
  });
}

/** One guest: policy, window, MSI-X mode and its assigns in placement order. */
export function buildGuest(
  gn: GuestNode,
  name: string,
  deviceByName: Map<string, Device>,
  r: Sink,
  names: NameSuggester = new NameSuggester(deviceByName),
  /** Called before each assign statement is looked at (by its index in the node), and once more at the end. */
  onAssign?: (i: number) => void,
  /** An earlier model whose assigns a node shared with it keeps, with their findings (`editedGuestModel`). */
  prior?: PriorAssigns,
): Guest {
  let suggestions = 0;
  const g: Guest = {
    name,
    policy: gn.allocates[0]?.value ?? 'listed',
    msix: gn.msixModes[0]?.value ?? 'emulate',
    assigns: [],
    node: gn,
    nameSpan: gn.name?.span ?? stmtSpan(gn.stmt),
    span: stmtSpan(gn.stmt),
  };
  for (const extra of gn.allocates.slice(1)) r.add('duplicate', extra.span, `guest ${name}: \`allocate\` is given twice; the first one counts.`, { subject: name });
  for (const extra of gn.msixModes.slice(1)) r.add('duplicate', extra.span, `guest ${name}: \`msix\` is given twice; the first one counts.`, { subject: name });
  for (const w of gn.windows) {
    if (!w.address || !w.size) continue;
    if (g.window) {
      r.add('duplicate', stmtSpan(w.stmt), `guest ${name}: \`window\` is given twice; the first one counts.`, { subject: name });
      continue;
    }
    if (!endsBelow64(w.address.value, w.size.value)) {
      r.add('address-overflow', w.size.span, `guest ${name}: window ${hex(w.address.value)} + ${formatSize(w.size.value)} runs past the end of the 64-bit address space; no BAR is placed in it. ${belowTop(w.size.value)}`, { subject: name });
      continue;
    }
    g.window = { start: w.address.value, size: w.size.value, span: stmtSpan(w.stmt) };
  }
  const assigned = new Map<string, Span>();
  for (let i = 0; i < gn.assigns.length; i++) {
    onAssign?.(i);
    const an = gn.assigns[i];
    if (!an.device) continue;
    const dn = an.device.value;
    const d = deviceByName.get(dn);
    if (!d) {
      const hint = suggestions++ < MAX_SUGGESTIONS_PER_GUEST ? names.suggest(dn) : '';
      r.add('unknown-reference', an.device.span, `guest ${name} assigns \`${dn}\`, but no device has that name.${hint}`, { subject: name });
      continue;
    }
    const prevA = assigned.get(dn);
    if (prevA) {
      r.add('duplicate', an.device.span, `guest ${name} assigns ${dn} twice; the first one counts. Remove this one.`, { subject: name, related: [{ span: prevA, message: 'first assign' }] });
      continue;
    }
    assigned.set(dn, an.device.span);
    const j = prior?.index.get(an);
    if (prior && j !== undefined && prior.source.resolved[j] === d) {
      // The same assign statement of the same device model: the same assign and findings.
      g.assigns.push(prior.guest.assigns[j]);
      const { found, marks } = prior.source;
      for (let k = marks![j]; k < marks![j + 1]; k++) prior.replay(found[k]);
      continue;
    }
    g.assigns.push(buildAssign(an, d, name, r));
  }
  onAssign?.(gn.assigns.length);
  return g;
}

/** What `buildGuest` can take over from an earlier model of a guest: its assigns by their node, with their findings. */
interface PriorAssigns {
  guest: Guest;
  source: GuestSource;
  /** Index of each of the earlier node's assign statements. */
  index: Map<AssignNode, number>;
  replay: (f: Finding) => void;
}

/**
 * The model of `gn`, an edited copy of the node `earlier` was built from (`editedGuestNode`: the statements
 * no edit touched are the same node objects), for a fix check: an assign statement shared with `earlier`'s
 * node that names the same device model keeps `earlier`'s assign and findings; the rest is built. What
 * `buildGuest(gn, …)` gives, without a pass over every BAR of a guest of thousands of assigns.
 */
export function editedGuestModel(gn: GuestNode, earlier: Guest, deviceByName: Map<string, Device>, r: Pick<Reporter, 'add' | 'replay'>): Guest {
  const source = guestSources.get(earlier);
  // Only a model whose assigns line up with its node's (each names a device once, and each resolved) has them by index.
  if (!source?.marks) return buildGuest(gn, earlier.name, deviceByName, r);
  const { found, marks } = source;
  if (gn.assigns === earlier.node.assigns) {
    // Only guest-level statements edited (`allocate`, `msix`, `window`): the same assigns, with their findings after the guest's own.
    const g = buildGuest({ ...gn, assigns: [] }, earlier.name, deviceByName, r);
    for (let k = marks[0]; k < found.length; k++) r.replay(found[k]);
    return { ...g, assigns: earlier.assigns, node: gn };
  }
  if (!source.index) {
    const index = (source.index = new Map<AssignNode, number>());
    earlier.node.assigns.forEach((an, i) => index.set(an, i));
  }
  return buildGuest(gn, earlier.name, deviceByName, r, undefined, undefined, { guest: earlier, source, index: source.index, replay: (f) => r.replay(f) });
}

/** One assign of a device that resolved (`d`), with its BAR list in placement order and the findings of its block. */
function buildAssign(an: AssignNode, d: Device, name: string, r: Sink): Assign {
  const dn = d.name;
  const listed: AssignedBar[] = [];
  const listedIdx = new Set<number>();
  for (const ab of an.bars) {
    if (!ab.index) continue;
    const idx = ab.index.value;
    const b = barAt(d, idx);
    if (!b) {
      if (!slotDeclared(d, idx)) {
        r.add('unknown-reference', ab.index.span, `guest ${name}: ${dn} has no BAR ${idx}${describeBars(d)}.`, { subject: name });
      } else if (isUpperSlot(d, idx)) {
        r.add('unknown-reference', ab.index.span, `slot ${idx} of ${dn} is the upper half of the 64-bit ${dn}.bar${idx - 1}; refer to bar ${idx - 1}.`, { subject: name });
      }
      continue;
    }
    if (b.kind === 'io') {
      if (ab.address) r.add('unknown-reference', ab.address.span, `${b.id} is an I/O BAR: it lives in I/O port space and is never placed in guest memory. Remove its \`at\`.`, { subject: b.id });
      continue;
    }
    if (listedIdx.has(idx)) {
      r.add('duplicate', ab.index.span, `guest ${name}: ${b.id} is listed twice in this assign block.`, { subject: b.id });
      continue;
    }
    listedIdx.add(idx);
    if (ab.address && b.size !== undefined) {
      if (ab.address.value % b.size !== 0n) {
        r.add('bar-alignment', ab.address.span, `guest ${name}: ${b.id} at ${hex(ab.address.value)} is not a multiple of its size ${formatSize(b.size)}; the guest sees a naturally aligned BAR too. ${alignedChoices(ab.address.value, b.size)}`, {
          subject: b.id,
          target: { device: dn, bar: idx, guest: name },
        });
      }
      if (!endsBelow64(ab.address.value, b.size)) {
        r.add('address-overflow', ab.address.span, `guest ${name}: ${b.id} at ${hex(ab.address.value)} runs past the end of the 64-bit address space; it gets no guest address. ${belowTop(b.size)}`, { subject: b.id });
        listed.push({ bar: b, span: stmtSpan(ab.stmt), unplaceable: true });
        continue;
      }
    }
    listed.push({ bar: b, address: ab.address?.value, span: stmtSpan(ab.stmt) });
  }
  const rest = d.bars.filter((b) => b.kind !== 'io' && !listedIdx.has(b.index)).sort((a, b) => a.index - b.index);
  return {
    device: d,
    bars: fitted([...listed, ...rest.map((bar) => ({ bar }))]),
    span: stmtSpan(an.stmt),
    nameSpan: an.device!.span,
  };
}

function isUpperSlot(d: Device, idx: number): boolean {
  const lower = barAt(d, idx - 1);
  return !!lower && lower.kind === 'mem64';
}

function describeBars(d: Device): string {
  const idx = d.bars.map((b) => b.index);
  return idx.length ? ` (it has ${idx.map((i) => 'bar' + i).join(', ')})` : ' (it declares no BARs)';
}

/** "Did you mean" lookups per guest, at most (each is a pass over the names of similar length). */
const MAX_SUGGESTIONS_PER_GUEST = 8;

/** Windows sorted by start, with the furthest end among each one and those before it: "is [a, b) inside a window?" by binary search. */
interface WindowIndex {
  starts: bigint[];
  reach: bigint[];
}
const windowIndexes = new WeakMap<HostWindow[], { all?: WindowIndex; translated32?: WindowIndex }>();

function windowIndex(windows: HostWindow[], which: 'all' | 'translated32'): WindowIndex {
  let byKind = windowIndexes.get(windows);
  if (!byKind) windowIndexes.set(windows, (byKind = {}));
  let ix = byKind[which];
  if (!ix) {
    const ws = windows.filter((w) => which === 'all' || w.size <= FOUR_G).sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
    ix = { starts: [], reach: [] };
    let far = -1n;
    for (const w of ws) {
      if (w.start + w.size > far) far = w.start + w.size;
      ix.starts.push(w.start);
      ix.reach.push(far);
    }
    byKind[which] = ix;
  }
  return ix;
}

/**
 * Whether [start, start + size) lies inside one window (of every window, or of
 * the translated 32-bit ones, at most 4G): O(log windows), since a host may
 * declare thousands.
 */
export function inWindow(windows: HostWindow[], start: bigint, size: bigint, which: 'all' | 'translated32'): boolean {
  if (windows.length === 0) return false;
  const { starts, reach } = windowIndex(windows, which);
  const lo = countAtMost(starts, start);
  // Among the windows starting at or below `start`, one reaches past the end iff the furthest does.
  return lo > 0 && reach[lo - 1] >= start + size;
}

function buildBars(d: Device, r: Sink): void {
  for (const bn of d.node.bars) {
    if (!bn.index) continue;
    const idx = bn.index.value;
    const kind = bn.kind;
    const id = flat(`${d.name}.bar${idx}`);
    const subject = id;
    const target = { device: d.name, bar: idx };
    if (slotDeclared(d, idx)) {
      const upper = isUpperSlot(d, idx);
      const first = barAt(d, idx) ?? barAt(d, idx - 1);
      r.add(
        'duplicate',
        bn.index.span,
        upper
          ? `${d.name}: slot ${idx} is already the upper half of the 64-bit ${d.name}.bar${idx - 1}; a mem64 BAR takes two slots.`
          : `${d.name}: BAR ${idx} is declared twice; the first one counts. Remove one, or give this one a free index.`,
        { subject, related: first ? [{ span: first.span, message: upper ? `64-bit ${first.id}` : `first ${first.id}` }] : [] },
      );
      continue;
    }
    d.declaredSlots |= 1 << idx;
    if (kind === 'mem64') {
      if (idx === 5) {
        r.add('bar64-slot', bn.index.span, `${id}: a 64-bit BAR uses two slots (5 and 6), and there is no slot 6. Move it to an index 0-4 or make it mem32.`, { subject, target });
      } else if (slotDeclared(d, idx + 1)) {
        const other = barAt(d, idx + 1);
        r.add('duplicate', bn.index.span, `${id} is 64-bit and needs slot ${idx + 1} too, which ${other ? other.id : 'another BAR'} already uses.`, {
          subject,
          related: other ? [{ span: other.span, message: `${other.id} uses slot ${idx + 1}` }] : [],
        });
      } else d.declaredSlots |= 1 << (idx + 1);
    }
    if (!kind || !bn.size) continue; // syntax error already reported
    const size = checkBarNumbers(r, id, bn, kind, subject, target);
    const bar: Bar = {
      device: d,
      index: idx,
      kind,
      prefetch: bn.prefetch,
      size,
      declaredSize: bn.size.value,
      host: size !== undefined ? bn.address?.value : undefined,
      id,
      node: bn,
      span: stmtSpan(bn.stmt),
    };
    d.bars.push(bar);
    if (bn.address === undefined && !bn.incomplete && kind !== 'io' && size !== undefined) {
      r.add('bar-unassigned', bn.index.span, `${id} (${formatSize(size)}) has no host address: the firmware or kernel did not assign it, so it cannot be used or passed through until it is.`, {
        subject,
        target,
      });
    }
  }
}

function checkRef(d: Device, r: Sink, bar: Val<number>, what: string): Bar | undefined {
  const b = barAt(d, bar.value);
  if (!b) {
    if (!slotDeclared(d, bar.value)) r.add('unknown-reference', bar.span, `${d.name}: ${what} names BAR ${bar.value}, which ${d.name} does not declare${describeBars(d)}.`, { subject: d.name });
    else if (isUpperSlot(d, bar.value)) r.add('unknown-reference', bar.span, `${d.name}: ${what} names slot ${bar.value}, the upper half of the 64-bit bar${bar.value - 1}; use bar ${bar.value - 1}.`, { subject: d.name });
    return undefined;
  }
  return b;
}

function buildMsix(d: Device, r: Sink): void {
  for (const extra of d.node.msix.slice(1)) r.add('duplicate', stmtSpan(extra.stmt), `${d.name}: a function has one MSI-X capability; this second \`msix\` is ignored.`, { subject: d.name });
  const m = d.node.msix[0];
  if (!m || !m.entries || !m.tableBar || !m.tableOffset) return;
  const span = stmtSpan(m.stmt);
  const n = m.entries.value;
  const subject = `${d.name}.msix`;
  const target = { device: d.name };
  const msix: Msix = {
    entries: n,
    tableBar: m.tableBar.value,
    tableOffset: m.tableOffset.value,
    tableSize: shared(16n * n),
    pbaBar: m.pbaBar?.value,
    pbaOffset: m.pbaOffset?.value,
    pbaSize: shared(8n * ((n + 63n) / 64n)),
    span,
    valid: false,
    tableValid: false,
    pbaValid: false,
  };
  d.msix = msix;
  if (n < 1n || n > 2048n) {
    r.add('msix-layout', m.entries.span, `${d.name}: MSI-X has 1 to 2048 vectors; ${n} is out of range. Use the capability's table size (\`lspci -vvv\`: MSI-X: Count=N).`, { subject, target });
    return;
  }
  const tb = checkRef(d, r, m.tableBar, 'the MSI-X table');
  const pb = m.pbaBar ? checkRef(d, r, m.pbaBar, 'the MSI-X PBA') : undefined;
  if (!tb) return;
  const place = (what: string, b: Bar, off: bigint, len: bigint, offSpan: Span): boolean => {
    if (b.kind === 'io') {
      r.add('msix-layout', offSpan, `${d.name}: the MSI-X ${what} is in ${b.id}, an I/O BAR; it must live in a memory BAR. Name the memory BAR the capability gives (\`lspci -vvv\`: Vector table / PBA: BAR=N).`, { subject, target });
      return false;
    }
    let ok = true;
    if (off % 8n !== 0n) {
      r.add('msix-layout', offSpan, `${d.name}: the MSI-X ${what} offset ${hex(off)} is not 8-byte aligned (its low 3 bits hold the BAR index). Use ${hex(off - (off % 8n))}, or the offset the capability gives (\`lspci -vvv\`).`, { subject, target });
      ok = false;
    }
    if (b.size !== undefined && off + len > b.size) {
      // The BAR must reach the end of the range (its offset included), not only hold its length.
      const reach = `give ${b.id} a size of at least ${formatSize(nextPow2(off + len))} (the ${what} ends at ${hex(off + len)})`;
      const last = b.size - len - ((b.size - len) % 8n);
      const advice = len > b.size ? `${reach[0].toUpperCase()}${reach.slice(1)}` : `${last === 0n ? 'Use offset 0x0' : `Use an offset of at most ${hex(last)}`}, or ${reach}`;
      const amount = what === 'table' ? `${msix.entries} vector${msix.entries === 1n ? '' : 's'}, ${formatSize(len)}` : formatSize(len);
      r.add('msix-layout', offSpan, `${d.name}: the MSI-X ${what} ${formatRange(off, len)} (${amount}) does not fit in ${b.id} (${formatSize(b.size)}): the device could not decode it. ${advice}, as the device's capability says.`, {
        subject,
        target,
        related: [{ span: b.span, message: `${b.id}, ${formatSize(b.size)}` }],
      });
      ok = false;
    }
    return ok;
  };
  msix.tableValid = place('table', tb, msix.tableOffset, msix.tableSize, m.tableOffset.span);
  if (pb && msix.pbaOffset !== undefined) {
    msix.pbaValid = place('PBA', pb, msix.pbaOffset, msix.pbaSize, m.pbaOffset!.span);
    if (msix.pbaBar === msix.tableBar && msix.pbaOffset < msix.tableOffset + msix.tableSize && msix.tableOffset < msix.pbaOffset + msix.pbaSize) {
      r.add(
        'msix-layout',
        m.pbaOffset!.span,
        `${d.name}: the MSI-X table ${formatRange(msix.tableOffset, msix.tableSize)} and PBA ${formatRange(msix.pbaOffset, msix.pbaSize)} overlap in ${tb.id}: a device keeps them apart. Check the offsets against the device's capability (\`lspci -vvv\`: Vector table, PBA).`,
        { subject, target },
      );
      msix.pbaValid = false;
    }
  }
  // A missing PBA (no `pba` clause) is not an error of the layout; a `pba` naming a BAR that does not exist is.
  msix.valid = msix.tableValid && (m.pbaBar ? msix.pbaValid : true);
}

/** What to change about a region that runs past the end of its BAR `b`: the offset, the size, or the BAR named. */
function regionAdvice(offset: bigint, size: bigint, barId: string, barSize: bigint): string {
  const pastEnd = offset >= barSize;
  if (size > barSize) return `${pastEnd ? `Its offset ${hex(offset)} is past the end of ${barId}, and its` : 'Its'} size is more than the whole BAR: check the size${pastEnd ? ' and the offset' : ''}, or the BAR it names`;
  if (pastEnd) return `Its offset ${hex(offset)} is past the end of ${barId}: use an offset of at most ${hex(barSize - size)}, or check the BAR it names`;
  return `Use an offset of at most ${hex(barSize - size)}, or a size of at most ${formatSize(barSize - offset)} at this offset`;
}

function buildRegions(d: Device, r: Sink): void {
  const names = new Map<string, Span>();
  for (const rn of d.node.regions) {
    if (!rn.name || !rn.bar || rn.offset === undefined || !rn.size) continue;
    const name = rn.name.value;
    const prev = names.get(name);
    if (prev) {
      r.add('duplicate', rn.name.span, `${d.name}: region \`${name}\` is declared twice; the first one counts. Rename or remove one.`, { subject: `${d.name}.${name}`, related: [{ span: prev, message: 'first declaration' }] });
      continue;
    }
    names.set(name, rn.name.span);
    const b = checkRef(d, r, rn.bar, `region ${name}`);
    const region: Region = { name, bar: rn.bar.value, offset: rn.offset.value, size: rn.size.value, hot: rn.hot, span: stmtSpan(rn.stmt), valid: false };
    d.regions.push(region);
    if (!b) continue;
    if (b.size !== undefined && region.offset + region.size > b.size) {
      r.add(
        'region-outside-bar',
        rn.size.span,
        `${d.name}: region ${name} ${formatRange(region.offset, region.size)} does not fit in ${b.id} (${formatSize(b.size)}), so nothing can be said about its page. ${regionAdvice(region.offset, region.size, b.id, b.size)}.`,
        { subject: `${d.name}.${name}`, related: [{ span: b.span, message: `${b.id}, ${formatSize(b.size)}` }] },
      );
      continue;
    }
    region.valid = region.size > 0n;
  }
}

function buildRom(d: Device, r: Sink): void {
  for (const extra of d.node.roms.slice(1)) r.add('duplicate', stmtSpan(extra.stmt), `${d.name}: a function has one expansion ROM; this second \`rom\` is ignored.`, { subject: d.name });
  const rn = d.node.roms[0];
  if (!rn || !rn.size) return;
  const id = `${d.name}.rom`;
  let size: bigint | undefined;
  const s = rn.size.value;
  if (!isPowerOfTwo(s) || s < 2048n) {
    r.add('bar-size', rn.size.span, `${id}: an expansion ROM is a power of two of at least 2K; ${formatSize(s)} is not. Use e.g. ${formatSize(nextPow2(s < 2048n ? 2048n : s))} (the size \`lspci -vvv\` prints for the Expansion ROM).`, { subject: id });
  } else size = s;
  if (rn.address && size !== undefined) {
    const a = rn.address.value;
    if (a % size !== 0n) r.add('bar-alignment', rn.address.span, `${id}: address ${hex(a)} is not a multiple of its size ${formatSize(size)}; a ROM BAR is naturally aligned. ${alignedChoices(a, size)}`, { subject: id, target: { device: d.name, bar: -1 } });
    if (!endsBelow64(a, size)) r.add('address-overflow', rn.address.span, `${id}: ${hex(a)} + ${formatSize(size)} runs past the end of the 64-bit address space. ${belowTop(size)}`, { subject: id });
  }
  d.rom = { size, host: size !== undefined ? rn.address?.value : undefined, span: stmtSpan(rn.stmt) };
}

function buildSriov(d: Device, r: Sink): void {
  for (const extra of d.node.sriovs.slice(1)) r.add('duplicate', stmtSpan(extra.stmt), `${d.name}: a function has one SR-IOV capability; this second \`sriov\` is ignored.`, { subject: d.name });
  const sn = d.node.sriovs[0];
  if (!sn || !sn.vfs) return;
  const vfs = sn.vfs.value;
  const sriov: Sriov = { vfs, bars: [], span: stmtSpan(sn.stmt) };
  d.sriov = sriov;
  if (vfs < 1n || vfs > 65535n) {
    r.add('syntax', sn.vfs.span, `${d.name}: \`sriov vfs\` is 1 to 65535; ${vfs} is out of range.`, { subject: d.name });
    sriov.vfs = 0n;
    return;
  }
  // Slot index → the VF BAR statement that took it (a mem64 VF BAR takes its index and the next).
  const seen = new Map<number, { index: number; span: Span }>();
  for (const bn of sn.bars) {
    if (!bn.index || !bn.kind || !bn.size) continue;
    const idx = bn.index.value;
    const id = `${d.name}.vf*.bar${idx}`;
    const taken = seen.get(idx);
    if (taken) {
      const upper = taken.index !== idx;
      r.add(
        'duplicate',
        bn.index.span,
        upper
          ? `${d.name}: VF slot ${idx} is already the upper half of the 64-bit ${d.name}.vf*.bar${taken.index}; a mem64 BAR takes two slots. Use another index, or make bar ${taken.index} mem32.`
          : `${d.name}: VF BAR ${idx} is declared twice; the first one counts. Remove one, or give this one a free index.`,
        { subject: id, related: [{ span: taken.span, message: upper ? `64-bit ${d.name}.vf*.bar${taken.index}` : `first ${d.name}.vf*.bar${idx}` }] },
      );
      continue;
    }
    const here = { index: idx, span: stmtSpan(bn.stmt) };
    seen.set(idx, here);
    if (bn.kind === 'mem64') {
      if (idx === 5) r.add('bar64-slot', bn.index.span, `${id}: a 64-bit VF BAR uses two slots (5 and 6), and there is no slot 6. Move it to an index 0-4 or make it mem32.`, { subject: id });
      else if (seen.has(idx + 1)) r.add('duplicate', bn.index.span, `${id} is 64-bit and needs slot ${idx + 1}, which another VF BAR uses. Use another index, or make it mem32.`, { subject: id, related: [{ span: seen.get(idx + 1)!.span, message: `${d.name}.vf*.bar${idx + 1}` }] });
      else seen.set(idx + 1, here);
    }
    const size = checkBarNumbers(r, id, bn, bn.kind, id, { device: d.name, bar: idx, vf: true }, vfs);
    let base = size !== undefined ? bn.address?.value : undefined;
    if (base !== undefined && size !== undefined && base + size * vfs > U64_LIMIT) {
      const what = vfs === 1n ? `1 VF of ${formatSize(size)} from ${hex(base)} runs` : `${vfs} VFs of ${formatSize(size)} from ${hex(base)} run`;
      r.add('address-overflow', bn.address!.span, `${id}: ${what} past the end of the 64-bit address space. ${belowTop(size * vfs, vfs === 1n ? undefined : `the ${formatSize(size * vfs)} of ${vfs} VF BARs`)}`, { subject: id });
      base = undefined;
    }
    sriov.bars.push({ device: d, index: idx, kind: bn.kind, prefetch: bn.prefetch, size, base, span: stmtSpan(bn.stmt), node: bn });
  }
}
