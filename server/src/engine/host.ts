// Host address space: every resource that decodes memory (BARs, ROMs, VF BAR
// apertures), their overlaps (sort and sweep), which host pages they share
// (page buckets), and Linux vfio-pci's mmap decision per BAR.

import { Bar, barAt, Device, groupLabel, Topology } from './model';
import { OverlayMap } from './overlayMap';
import { Overrides, Reporter } from './report';
import { Diagnostic, HostVerdict, Span } from './types';
import { fitted } from './fitted';
import { aSized, endsBelow64, flat, formatRange, formatSize, hex, someOf } from './values';

export interface Resource {
  start: bigint;
  /** Exclusive end. */
  end: bigint;
  id: string;
  device: Device;
  span: Span;
  /** Span of the address, for tight diagnostics. */
  addrSpan: Span;
  kind: 'bar' | 'rom' | 'vf';
  bar?: Bar;
  space: 'mem' | 'io';
  /** For VF apertures: per-VF size. */
  vfSize?: bigint;
  vfIndex?: number;
  /** Position among its device's resources (resource order: device order, then this). */
  order: number;
}

/**
 * Page buckets: the memory resources whose first or last page is a page, by
 * page number, in resource order. Most pages hold one resource, which the map
 * holds directly (a 40,000-device file has about 66,000 such pages: one array
 * less each); a page with more holds an array of two or more.
 */
export type PageBuckets = Map<bigint, Resource | Resource[]>;

const NO_RESOURCES: readonly Resource[] = Object.freeze([]);

/** The resources of page `pg` in `pages`, in resource order. */
export function resourcesIn(pages: PageBuckets, pg: bigint): readonly Resource[] {
  const l = pages.get(pg);
  return l === undefined ? NO_RESOURCES : Array.isArray(l) ? l : [l];
}

/** Sets page `pg` to `l` (one resource held directly, none: the page is dropped). */
function setBucket(pages: PageBuckets, pg: bigint, l: Resource[]): void {
  if (l.length === 0) pages.delete(pg);
  else pages.set(pg, l.length === 1 ? l[0] : l);
}

export interface HostDecision {
  verdict: HostVerdict;
  reason: string;
  /** The first (up to NEIGHBOURS_KEPT) resources that decode in the rest of the BAR's page (subpage-shared). */
  neighbours: Resource[];
  /** How many resources decode in the rest of the page (thousands of BARs at one address: the list keeps a few). */
  neighbourCount: number;
}

/** Neighbours a decision keeps: what its message and related locations show. */
const NEIGHBOURS_KEPT = 8;

export interface HostAnalysis {
  /** Every resource, in device order (each device's BARs, ROM, VF apertures). */
  resources: Resource[];
  /** First and last page of every memory resource, keyed by page number; each list in resource order (read with `resourcesIn`). */
  pages: PageBuckets;
  decisions: Map<Bar, HostDecision>;
  /** The findings, by what they depend on; `hostDiagnostics` lists them in order. */
  findings: HostFindings;
  /** What the next version's analysis can reuse (see `analyzeHost`). */
  reuse: HostReuse;
  /** What was computed again when this analysis was made from a previous one; undefined when everything was computed. */
  change?: HostChange;
}

export interface HostFindings {
  /** bar-overlap of each resource that overlaps one before it in the sorted list. */
  overlaps: Map<Resource, Diagnostic>;
  /** subpage-unaligned, subpage-shared and sriov-vf-subpage of each device. */
  perDevice: Map<Device, Diagnostic[]>;
  /** page-shared-across-groups of each memory resource that has one. */
  partners: Map<Resource, Diagnostic>;
  /** msix-4k-sharing of each device. */
  msix4k: Map<Device, Diagnostic[]>;
}

interface HostReuse {
  pageSize: bigint;
  /** Each device's resources (the same objects for as long as the device model is reused). */
  byDevice: Map<Device, Resource[]>;
  /** Each device's position in the device list. */
  devIndex: Map<Device, number>;
  /** Resources by space, sorted by start, end, then resource order. */
  sorted: { mem: Resource[]; io: Resource[] };
  /** The overlap sweep's state at each index of `sorted`: the resource reaching furthest up to there (the first of those that reach equally far). */
  reach: { mem: Resource[]; io: Resource[] };
}

/** Devices whose host-side results may differ from the previous analysis's (see `analyzeHost`). */
export interface HostChange {
  /** Devices new in this topology (new or edited statements). */
  added: Set<Device>;
  /** Devices of the previous version that are not in this one (a device whose statement moved is both added and removed). */
  removed: Device[];
  /** Devices with a resource in a page where a resource came or went: their decisions and findings were computed again. */
  touched: Set<Device>;
  /**
   * The touched devices with a BAR whose decision came out different (verdict or
   * reason): the only touched devices whose guest results can change, since a
   * guest reads of a device it did not edit only its BARs' decisions.
   */
  redecided: Set<Device>;
}

/**
 * A device's resources, by device model: a reused device model (its statement
 * untouched by an edit) keeps its resource objects, which is what lets the
 * next analysis recognise what did not change.
 */

export function deviceResources(d: Device): Resource[] {
  let out = d.resources;
  if (out) return out;
  out = [];
  for (const b of d.bars) {
    // A range past 2^64 is not an address range (address-overflow reports it): it takes part in no overlap or page.
    if (b.host === undefined || b.size === undefined || !endsBelow64(b.host, b.size)) continue;
    out.push({ start: b.host, end: b.host + b.size, id: b.id, device: d, span: b.span, addrSpan: b.node.address!.span, kind: 'bar', bar: b, space: b.kind === 'io' ? 'io' : 'mem', order: 0 });
  }
  const rom = d.rom;
  if (rom && rom.host !== undefined && rom.size !== undefined && endsBelow64(rom.host, rom.size)) {
    out.push({ start: rom.host, end: rom.host + rom.size, id: flat(`${d.name}.rom`), device: d, span: rom.span, addrSpan: rom.span, kind: 'rom', space: 'mem', order: 0 });
  }
  if (d.sriov && d.sriov.vfs > 0n) {
    for (const vb of d.sriov.bars) {
      if (vb.base === undefined || vb.size === undefined) continue;
      out.push({
        start: vb.base,
        end: vb.base + vb.size * d.sriov.vfs,
        id: flat(`${d.name}.vf*.bar${vb.index}`),
        device: d,
        span: vb.span,
        addrSpan: vb.node.address!.span,
        kind: 'vf',
        space: vb.kind === 'io' ? 'io' : 'mem',
        vfSize: vb.size,
        vfIndex: vb.index,
        order: 0,
      });
    }
  }
  out = fitted(out);
  out.forEach((res, i) => (res.order = i));
  d.resources = out;
  return out;
}

function describe(res: Resource): string {
  if (res.kind === 'vf') return `${res.id} (VF BAR${res.device.sriov?.vfs === 1n ? '' : 's'} ${formatRange(res.start, res.end - res.start)})`;
  return `${res.id} ${formatRange(res.start, res.end - res.start)}`;
}

/**
 * Host diagnostics, by kind (overlaps, per device, per resource, MSI-X 4K) and
 * within a kind in the order the findings maps hold them: O(findings), not
 * O(devices + resources), since a fix check asks for them after every edited
 * copy. The final sort by position gives the same order as device order would:
 * two findings of one kind that share a span come from one device's list,
 * which keeps its order.
 */
export function hostDiagnostics(h: HostAnalysis): Diagnostic[] {
  const f = h.findings;
  const out: Diagnostic[] = [...f.overlaps.values()];
  for (const l of f.perDevice.values()) for (const x of l) out.push(x);
  for (const x of f.partners.values()) out.push(x);
  for (const l of f.msix4k.values()) for (const x of l) out.push(x);
  return out;
}

/** Most devices an incremental host analysis takes on; beyond, analysing everything is as cheap. */
const MAX_CHANGED_DEVICES = 64;

/** The resource each bar-overlap finding reports its resource overlapping (the sweep's furthest-reaching one). */
const overlapWith = new WeakMap<Diagnostic, Resource>();

/**
 * Host address space analysis. With `previous` (the host analysis of an earlier
 * version with the same page size and rule severities), only what the changed
 * devices can affect is computed again: their resources leave and enter the
 * sorted lists and page buckets, and the decisions and findings of every
 * resource in a page they leave or enter are recomputed; the rest is taken
 * over. The overlap sweep runs again from the first place the lists changed until its
 * state is what it was there, and keeps the finding of a resource it passes whose
 * overlapping resource is the same.
 * `previous` is not modified unless `consume` is set (then its maps are
 * updated in place and it must not be used afterwards). The result is the
 * same as without it (tests compare the two); `change` says what was
 * recomputed, or undefined when everything was.
 */
export function analyzeHost(topo: Topology, overrides: Overrides, previous?: HostAnalysis, consume = false): HostAnalysis {
  // The maps taken over from `previous`: updated in place when it is consumed, else overlays on them.
  const takeOver = <K, V>(m: Map<K, V>): Map<K, V> => (consume ? m : new OverlayMap(m));
  const P = topo.host.pageSize;
  let byDevice: Map<Device, Resource[]>;
  let devIndex: Map<Device, number>;
  let resources: Resource[] | undefined;
  let change: HostChange | undefined;
  const removedRes: Resource[] = [];
  let addedRes: Resource[] = [];
  const update = previous && previous.reuse.pageSize === P ? topo.update : undefined;
  if (update && update.gone.length + update.added.length <= MAX_CHANGED_DEVICES) {
    // The device list was updated in one place: so are the maps, without a pass over every device.
    const was = previous!.reuse;
    for (const d of update.gone) for (const res of was.byDevice.get(d)!) removedRes.push(res); // before a consumed map changes
    byDevice = takeOver(was.byDevice);
    for (const d of update.gone) byDevice.delete(d);
    for (const d of update.added) byDevice.set(d, deviceResources(d));
    if (update.added.length === update.gone.length) {
      devIndex = takeOver(was.devIndex);
      for (const d of update.gone) devIndex.delete(d);
      update.added.forEach((d, k) => devIndex.set(d, update.head + k));
    } else {
      devIndex = new Map();
      topo.devices.forEach((d, i) => devIndex.set(d, i));
    }
    change = { added: new Set(update.added), touched: new Set(), redecided: new Set(), removed: update.gone };
    for (const d of update.added) for (const res of byDevice.get(d)!) addedRes.push(res);
  } else {
    byDevice = new Map();
    devIndex = new Map();
    resources = [];
    for (let i = 0; i < topo.devices.length; i++) {
      const d = topo.devices[i];
      const rs = deviceResources(d);
      byDevice.set(d, rs);
      devIndex.set(d, i);
      for (const res of rs) resources.push(res);
    }
    if (previous && previous.reuse.pageSize === P) {
      // A rebuilt device list still reuses the models of untouched statements: find the ones that are new.
      const added = new Set<Device>();
      const removed: Device[] = [];
      for (const d of topo.devices) if (!previous.reuse.byDevice.has(d)) added.add(d);
      previous.reuse.byDevice.forEach((_, d) => {
        if (!byDevice.has(d)) removed.push(d);
      });
      if (added.size + removed.length <= MAX_CHANGED_DEVICES) {
        change = { added, touched: new Set(), redecided: new Set(), removed };
        for (const d of removed) removedRes.push(...previous.reuse.byDevice.get(d)!);
        for (const d of added) addedRes.push(...byDevice.get(d)!);
      }
    }
    if (!change) addedRes = resources;
  }
  // Resource order: device order, then order within the device.
  const before = (a: Resource, b: Resource): boolean => {
    const da = devIndex.get(a.device)!;
    const db = devIndex.get(b.device)!;
    return da < db || (da === db && a.order < b.order);
  };
  const cmpSorted = (a: Resource, b: Resource): number =>
    a.start < b.start ? -1 : a.start > b.start ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : a === b ? 0 : before(a, b) ? -1 : 1;

  // Sorted lists and the overlap sweep: each resource is compared with the one
  // reaching furthest before it (`reach`), and an overlapping resource is
  // reported once. Incrementally: the resources that went and came are spliced
  // out of and into the previous lists, and the sweep runs again from the first
  // place that changed until its state is the one it had there before.
  const sorted = { mem: [] as Resource[], io: [] as Resource[] };
  const reachAt = { mem: [] as Resource[], io: [] as Resource[] };
  const overlaps = change ? takeOver(previous!.findings.overlaps) : new Map<Resource, Diagnostic>();
  const overlapFinding = (res: Resource, reach: Resource | undefined): void => {
    if (!reach || res.start >= reach.end) {
      overlaps.delete(res);
      return;
    }
    // The finding of a resource the sweep passes again, against the same resource as before, is kept: its text
    // depends on the two resources only (and the severities, the same for any analysis that takes over the map).
    const before = overlaps.get(res);
    if (before !== undefined && overlapWith.get(before) === reach) return;
    const oEnd = res.end < reach.end ? res.end : reach.end;
    const ro = new Reporter(overrides);
    ro.add(
      'bar-overlap',
      res.addrSpan,
      `${describe(res)} overlaps ${describe(reach)} at ${formatRange(res.start, oEnd - res.start)}${res.space === 'io' ? ' in I/O space' : ''}: two ${reach.device === res.device ? 'resources of one device' : 'devices'} would decode the same addresses. Move one of them.`,
      { subject: res.id, related: [{ span: reach.addrSpan, message: `${describe(reach)}` }] },
    );
    if (ro.diagnostics.length > 0) {
      overlaps.set(res, ro.diagnostics[0]);
      overlapWith.set(ro.diagnostics[0], reach);
    } else overlaps.delete(res);
  };
  const decodes = (x: Resource, space: 'mem' | 'io'): boolean => x.space === space && x.end > x.start;
  if (change) for (const res of removedRes) overlaps.delete(res);
  for (const space of ['mem', 'io'] as const) {
    if (!change) {
      const list = addedRes.filter((x) => decodes(x, space)).sort(cmpSorted);
      const reach: Resource[] = [];
      let cur: Resource | undefined;
      for (const res of list) {
        overlapFinding(res, cur);
        if (!cur || res.end > cur.end) cur = res;
        reach.push(cur);
      }
      sorted[space] = list;
      reachAt[space] = reach;
      continue;
    }
    const was = previous!.reuse;
    const list = consume ? was.sorted[space] : was.sorted[space].slice();
    const reach = consume ? was.reach[space] : was.reach[space].slice();
    let first = list.length;
    let last = -1;
    // Where (start, end) would go: the first index whose resource is not before it.
    const lowerBound = (start: bigint, end: bigint): number => {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const x = list[mid];
        if (x.start < start || (x.start === start && x.end < end)) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    for (const res of removedRes) {
      if (!decodes(res, space)) continue;
      let i = lowerBound(res.start, res.end);
      while (i < list.length && list[i] !== res && list[i].start === res.start && list[i].end === res.end) i++;
      if (list[i] !== res) continue;
      list.splice(i, 1);
      reach.splice(i, 1);
      if (i < first) first = i;
    }
    const fresh = addedRes.filter((x) => decodes(x, space)).sort(cmpSorted);
    for (const res of fresh) {
      let i = lowerBound(res.start, res.end);
      while (i < list.length && cmpSorted(list[i], res) < 0) i++;
      list.splice(i, 0, res);
      reach.splice(i, 0, res); // a placeholder, set by the sweep below
      if (i < first) first = i;
    }
    // The last place a change can show: the last new resource, or where the last removed one was.
    for (const res of fresh) {
      let i = lowerBound(res.start, res.end);
      while (list[i] !== res) i++;
      if (i > last) last = i;
    }
    for (const res of removedRes) {
      if (!decodes(res, space)) continue;
      let i = lowerBound(res.start, res.end);
      while (i < list.length && list[i].start === res.start && list[i].end === res.end) i++;
      if (i > last) last = i;
    }
    let cur = first > 0 ? reach[first - 1] : undefined;
    for (let i = first; i < list.length; i++) {
      const res = list[i];
      overlapFinding(res, cur);
      if (!cur || res.end > cur.end) cur = res;
      if (i > last && reach[i] === cur) break; // the sweep is back where it was: nothing after changes
      reach[i] = cur;
    }
    sorted[space] = list;
    reachAt[space] = reach;
  }

  // Page buckets: first and last page of each memory resource, each bucket in
  // resource order. Interior pages of a resource are its own unless something
  // overlaps it (reported above). Incrementally: the previous buckets, with
  // new arrays for the pages a resource leaves or enters.
  const pages = change ? takeOver(previous!.pages) : (new Map() as PageBuckets);
  const touchedPages = new Set<bigint>();
  const pagesOf = (res: Resource): bigint[] => {
    if (res.space !== 'mem' || res.end <= res.start) return [];
    const p0 = res.start / P;
    const p1 = (res.end - 1n) / P;
    return p1 === p0 ? [p0] : [p0, p1];
  };
  if (change) {
    const gone = new Set(removedRes);
    for (const res of removedRes) {
      for (const pg of pagesOf(res)) {
        if (touchedPages.has(pg)) continue;
        touchedPages.add(pg);
        setBucket(pages, pg, resourcesIn(pages, pg).filter((x) => !gone.has(x)));
      }
    }
    for (const res of addedRes) {
      for (const pg of pagesOf(res)) {
        // A list made for this version may change in place; one taken over from the previous version is copied.
        const old = pages.get(pg);
        const l = touchedPages.has(pg) && Array.isArray(old) ? old : [...resourcesIn(pages, pg)];
        touchedPages.add(pg);
        let at = l.length;
        while (at > 0 && before(res, l[at - 1])) at--;
        l.splice(at, 0, res);
        setBucket(pages, pg, l);
      }
    }
  } else {
    for (const res of resources!) {
      for (const pg of pagesOf(res)) {
        const l = pages.get(pg);
        if (l === undefined) pages.set(pg, res);
        else if (Array.isArray(l)) l.push(res);
        else pages.set(pg, [l, res]);
      }
    }
  }

  // What is computed again: devices with a resource in a touched page, and new devices.
  let redo: Iterable<Device> = topo.devices;
  let redoResources: Iterable<Resource>;
  if (!change) {
    // Only resources in a page that holds two groups can have partners.
    const mixed = new Set<Resource>();
    for (const l of pages.values()) {
      if (!Array.isArray(l) || l.length < 2) continue;
      const g0 = l[0].device.group;
      if (l.some((x) => x.device.group !== g0)) for (const x of l) mixed.add(x);
    }
    redoResources = mixed;
  } else {
    const again = new Set<Resource>();
    for (const pg of touchedPages) for (const res of resourcesIn(pages, pg)) again.add(res);
    for (const res of addedRes) again.add(res);
    for (const res of again) if (!change.added.has(res.device)) change.touched.add(res.device);
    redo = [...change.added, ...change.touched];
    redoResources = again;
  }

  // Host verdicts (vfio_pci_probe_mmaps): size ≥ P maps; a sub-page BAR maps only
  // when it starts a page that nothing else decodes in.
  const decisions = change ? takeOver(previous!.decisions) : new Map<Bar, HostDecision>();
  if (change) for (const d of change.removed) for (const b of d.bars) decisions.delete(b);
  for (const d of redo) {
    for (const b of d.bars) {
      const dec = decideHost(b, P, pages);
      if (change && change.touched.has(d)) {
        const was = decisions.get(b);
        if (!was || was.verdict !== dec.verdict || was.reason !== dec.reason) change.redecided.add(d);
      }
      decisions.set(b, dec);
    }
  }

  // Rules on the host side, per device.
  const perDevice = change ? takeOver(previous!.findings.perDevice) : new Map<Device, Diagnostic[]>();
  const msix4k = change ? takeOver(previous!.findings.msix4k) : new Map<Device, Diagnostic[]>();
  if (change) {
    for (const d of change.removed) {
      perDevice.delete(d);
      msix4k.delete(d);
    }
  }
  for (const d of redo) {
    const l = subpageFindings(d, P, decisions, overrides);
    if (l.length > 0) perDevice.set(d, l);
    else perDevice.delete(d);
  }
  for (const d of change ? change.added : topo.devices) {
    const l = msix4kFindings(d, overrides);
    if (l.length > 0) msix4k.set(d, l);
    else msix4k.delete(d);
  }

  // Isolation: one host page, two IOMMU groups; per resource, over its first and last page.
  const partners = change ? takeOver(previous!.findings.partners) : new Map<Resource, Diagnostic>();
  if (change) for (const res of removedRes) partners.delete(res);
  for (const res of redoResources) {
    const x = partnerFinding(res, P, pages, overrides, pagesOf(res));
    if (x) partners.set(res, x);
    else partners.delete(res);
  }

  return {
    // Every resource in device order: asked for by some fixes and reports only, so listed on demand after an update.
    get resources(): Resource[] {
      return (resources ??= topo.devices.flatMap(deviceResources));
    },
    pages,
    decisions,
    findings: { overlaps, perDevice, partners, msix4k },
    reuse: { pageSize: P, byDevice, devIndex, sorted, reach: reachAt },
    change,
  };
}

/** No findings (shared: callers only store non-empty lists). */
const NONE: Diagnostic[] = [];

function subpageFindings(d: Device, P: bigint, decisions: Map<Bar, HostDecision>, overrides: Overrides): Diagnostic[] {
  // Most devices have nothing to report: the reporter is made on the first finding.
  let rep: Reporter | undefined;
  const r = { add: (...f: Parameters<Reporter['add']>): void => (rep ??= new Reporter(overrides)).add(...f) };
  for (const b of d.bars) {
    const dec = decisions.get(b)!;
    if (b.kind === 'io' || b.host === undefined || b.size === undefined || b.size >= P) continue;
    const target = { device: d.name, bar: b.index };
    const addrSpan = b.node.address!.span;
    if (b.host % P !== 0n) {
      r.add(
        'subpage-unaligned',
        addrSpan,
        `${b.id} is ${formatSize(b.size)} at ${hex(b.host)}, offset ${hex(b.host % P)} into its ${formatSize(P)} host page: Linux (vfio-pci) will not mmap a sub-page BAR that does not start a page, so every guest access traps to the VMM. Align it to ${formatSize(P)} (pci=resource_alignment=, or the platform's page-size BAR alignment).`,
        { subject: b.id, target },
      );
    } else if (dec.neighbours.length > 0) {
      const names = someOf(dec.neighbours, describe, 3, dec.neighbourCount);
      r.add(
        'subpage-shared',
        addrSpan,
        `${b.id} (${formatSize(b.size)}) starts host page ${hex(b.host)} but shares the rest of that ${formatSize(P)} page with ${names}: vfio-pci cannot reserve the remainder, so it will not mmap the BAR and every guest access traps. Give it a page of its own.`,
        { subject: b.id, target, related: dec.neighbours.map((n) => ({ span: n.addrSpan, message: `${describe(n)} decodes in the same page` })) },
      );
    }
  }
  for (const vb of d.sriov?.bars ?? []) {
    if (vb.size === undefined || vb.size >= P) continue;
    const perPage = P / vb.size;
    const vfs = d.sriov!.vfs;
    // No VF BAR of this size is mmapped: VFs share a page (VF k's BAR is k sizes above VF 0's), and the last VF's page runs
    // past the aperture, where vfio-pci cannot reserve it (`decideVfHost`). How many share depends on where VF 0 starts.
    const together = mostVfsInAPage(vb.base, vb.size, vfs, P);
    const share = together > 1n ? `${together} VFs share a page, and the ` : vfs > 1n ? 'no two VFs share a page here, but the ' : 'the ';
    const effect = `${share}rest of the last VF's page lies outside the VF BAR aperture, where vfio-pci cannot reserve it: no VF's BAR is mmapped or isolated page by page, and every VF access traps`;
    r.add(
      'sriov-vf-subpage',
      vb.node.size!.span,
      `${d.name}.vf*.bar${vb.index} is ${formatSize(vb.size)}, smaller than the ${formatSize(P)} host page: ${effect}. Linux programs the SR-IOV System Page Size to the host page so that VF BARs span a page each; ${aSized(vb.size)} VF BAR here means the device or this description does not.`,
      { subject: `${d.name}.vf*.bar${vb.index}`, target: { device: d.name, bar: vb.index, vf: true } },
    );
  }
  return rep?.diagnostics ?? NONE;
}

/** The most VF BARs (of `vfs`, each `size` < P, VF 0's at `base`) that start in one host page; without `base`, as many as fit. */
function mostVfsInAPage(base: bigint | undefined, size: bigint, vfs: bigint, P: bigint): bigint {
  const perPage = P / size;
  if (base === undefined) return vfs < perPage ? vfs : perPage;
  const inFirst = (P - (base % P) + size - 1n) / size; // VFs starting in VF 0's page
  const first = vfs < inFirst ? vfs : inFirst;
  const rest = vfs - first;
  const full = rest < perPage ? rest : perPage;
  return first > full ? first : full;
}

/** Resources of a page looked at for the other groups a finding names: a page of thousands is not read whole for each of them. */
const GROUP_SCAN = 64;
/** Other groups a page-shared-across-groups finding names (three in the message, eight as related locations). */
const MAX_GROUPS_NAMED = 8;

function partnerFinding(res: Resource, P: bigint, pages: PageBuckets, overrides: Overrides, own: bigint[]): Diagnostic | undefined {
  // One resource of each other group found in the resource's pages (at most MAX_GROUPS_NAMED + 1 of them, from the first
  // GROUP_SCAN resources of each page: `more` when a page has more than that).
  let list: { other: Resource; page: bigint }[] | undefined;
  let more = false;
  for (const page of own) {
    const l = resourcesIn(pages, page);
    if (l.length < 2) continue;
    const n = l.length < GROUP_SCAN ? l.length : GROUP_SCAN;
    for (let i = 0; i < n && (list?.length ?? 0) <= MAX_GROUPS_NAMED; i++) {
      const other = l[i];
      if (other.device.group === res.device.group) continue;
      list ??= [];
      if (!list.some((x) => x.other.device.group === other.device.group)) list.push({ other, page });
    }
    if (l.length > GROUP_SCAN) more = true;
  }
  if (!list) return undefined;
  const r = new Reporter(overrides);
  const pageAddr = list[0].page * P;
  const name = (x: { other: Resource }): string => `${x.other.id} (${groupLabel(x.other.device)})`;
  // Cut short (a crowded page, or more groups than are named): the first few, and "and more" without a count.
  const cut = more || list.length > MAX_GROUPS_NAMED;
  const named = cut ? `${list.slice(0, 3).map(name).join(', ')} and more` : someOf(list, name);
  const others = list.length === 1 && !cut ? named : `resources of ${cut ? 'at least ' : ''}${list.length} other groups: ${named}`;
  r.add(
    'page-shared-across-groups',
    res.addrSpan,
    `host page ${hex(pageAddr)} (${formatSize(P)}) holds ${res.id} (${groupLabel(res.device)}) and ${others}: handing this page to a guest would give it another IOMMU group's registers and break isolation. Give each group's BARs pages of their own.`,
    {
      subject: res.id,
      target: res.bar ? { device: res.device.name, bar: res.bar.index } : undefined,
      related: list.slice(0, 8).map((x) => ({ span: x.other.addrSpan, message: `${x.other.id}, ${groupLabel(x.other.device)}` })),
    },
  );
  return r.diagnostics[0];
}

/** PCIe: the MSI-X table and PBA must not share a naturally aligned 4 KiB range with other registers. */
function msix4kFindings(d: Device, overrides: Overrides): Diagnostic[] {
  const m = d.msix;
  if (!m || !(m.tableValid || m.pbaValid) || d.regions.length === 0) return [];
  const r = new Reporter(overrides);
  const parts: [string, number, bigint, bigint][] = [];
  if (m.tableValid) parts.push(['table', m.tableBar, m.tableOffset, m.tableSize]);
  if (m.pbaValid && m.pbaBar !== undefined && m.pbaOffset !== undefined) parts.push(['PBA', m.pbaBar, m.pbaOffset, m.pbaSize]);
  for (const reg of d.regions) {
    if (!reg.valid) continue;
    const shared: string[] = [];
    let sharesTable = false;
    // In two BARs, offsets alone show no common range: the host addresses do.
    let regionHost: bigint | undefined;
    for (const [what, barIdx, off, len] of parts) {
      let a0: bigint, a1: bigint, b0: bigint, b1: bigint;
      if (barIdx === reg.bar) {
        a0 = off;
        a1 = off + len;
        b0 = reg.offset;
        b1 = reg.offset + reg.size;
      } else {
        const tb = barAt(d, barIdx);
        const rb = barAt(d, reg.bar);
        if (tb?.host === undefined || rb?.host === undefined) continue;
        a0 = tb.host + off;
        a1 = a0 + len;
        b0 = rb.host + reg.offset;
        b1 = b0 + reg.size;
      }
      const K4 = 4096n;
      if (a0 / K4 <= (b1 - 1n) / K4 && b0 / K4 <= (a1 - 1n) / K4) {
        const cross = barIdx !== reg.bar;
        if (cross) regionHost = b0;
        if (what === 'table') sharesTable = true;
        shared.push(`${what} (bar${barIdx} ${formatRange(off, len)}${cross ? `, host ${formatRange(a0, len)}` : ''})`);
      }
    }
    if (shared.length === 0) continue;
    // Only the table's page traps (a VMM emulates the table, not the PBA): sharing with the PBA alone costs no exits.
    const effect = sharesTable
      ? 'and a VMM that emulates the table traps these registers with it. Check the region\'s offset against the device\'s datasheet; if the device really mixes them, relocate the table in the guest (`msix relocate`).'
      : 'The PBA does not make its page trap, so this costs no exits, but a device laid out so breaks the rule. Check the region\'s offset against the device\'s datasheet.';
    r.add(
      'msix-4k-sharing',
      reg.span,
      `${d.name}: region ${reg.name} (bar${reg.bar} ${formatRange(reg.offset, reg.size)}${regionHost !== undefined ? `, host ${formatRange(regionHost, reg.size)}` : ''}) shares a naturally aligned 4 KiB range with the MSI-X ${shared.join(' and the ')}; PCIe requires the table and PBA to have their 4 KiB ranges to themselves${sharesTable ? ', ' : '. '}${effect}`,
      { subject: `${d.name}.${reg.name}`, target: { device: d.name, region: reg.name }, related: [{ span: m.span, message: 'MSI-X capability' }] },
    );
  }
  return r.diagnostics;
}

/** Decisions that do not depend on the BAR (most of them), made once per page size and shared: never modified. */
const sharedDecisions = new Map<bigint, Record<'io' | 'invalid' | 'unplaced' | 'overflow' | 'big' | 'alone', HostDecision>>();

function decisionsFor(P: bigint): Record<'io' | 'invalid' | 'unplaced' | 'overflow' | 'big' | 'alone', HostDecision> {
  let d = sharedDecisions.get(P);
  if (!d) {
    const none = Object.freeze([] as Resource[]) as Resource[]; // frozen: a decision's neighbours are only read
    d = {
      io: { verdict: 'no-mmap', reason: 'I/O BARs are never mmapped', neighbours: none, neighbourCount: 0 },
      invalid: { verdict: 'no-mmap', reason: 'its size is invalid', neighbours: none, neighbourCount: 0 },
      unplaced: { verdict: 'no-mmap', reason: 'it has no host address', neighbours: none, neighbourCount: 0 },
      overflow: { verdict: 'no-mmap', reason: 'it runs past the end of the 64-bit address space', neighbours: none, neighbourCount: 0 },
      big: { verdict: 'mmap', reason: `it is at least one ${formatSize(P)} page`, neighbours: none, neighbourCount: 0 },
      alone: { verdict: 'mmap', reason: `it starts ${aSized(P)} page that nothing else uses, so vfio-pci reserves the remainder`, neighbours: none, neighbourCount: 0 },
    };
    for (const x of Object.values(d)) Object.freeze(x);
    sharedDecisions.set(P, d);
  }
  return d;
}

function decideHost(b: Bar, P: bigint, pages: PageBuckets): HostDecision {
  const shared = decisionsFor(P);
  if (b.kind === 'io') return shared.io;
  if (b.size === undefined) return shared.invalid;
  if (b.host === undefined) return shared.unplaced;
  if (!endsBelow64(b.host, b.size)) return shared.overflow;
  if (b.size >= P) return shared.big;
  if (b.host % P !== 0n) return { verdict: 'no-mmap', reason: `it is smaller than ${aSized(P)} page and starts at offset ${hex(b.host % P)} in its page`, neighbours: [], neighbourCount: 0 };
  const list = resourcesIn(pages, b.host / P);
  // The BAR's own resource is in its page's list exactly once (a sub-page BAR at a page start has one page), so
  // the others are counted without reading them all: n BARs at one address cost O(n), not O(n²).
  const neighbourCount = list.length - 1;
  if (neighbourCount <= 0) return shared.alone;
  const neighbours: Resource[] = [];
  for (let k = 0; k < list.length && neighbours.length < NEIGHBOURS_KEPT; k++) if (list[k].bar !== b) neighbours.push(list[k]);
  return { verdict: 'no-mmap', reason: `other resources decode in the rest of its ${formatSize(P)} page`, neighbours, neighbourCount };
}

/** A VF BAR's host verdict and why. */
export interface VfHostDecision {
  verdict: HostVerdict;
  reason: string;
}

/** A sub-page VF BAR that does not start its page: the reason names the offset, formatted when read (a large SR-IOV device has thousands). */
class OffsetInPage implements VfHostDecision {
  readonly verdict = 'no-mmap' as const;
  constructor(
    private readonly offset: bigint,
    private readonly pageSize: bigint,
  ) {}
  get reason(): string {
    return `it is smaller than ${aSized(this.pageSize)} page and starts at offset ${hex(this.offset)} in its page`;
  }
}

const NEXT_VF_IN_PAGE: VfHostDecision = { verdict: 'no-mmap', reason: 'the next VF decodes in the rest of its page' };

/**
 * The last VF's sub-page BAR (or the only VF's): vfio-pci reserves the rest of the page as a resource under the
 * BAR's parent, and a VF BAR's parent is its PF's VF BAR aperture, which ends with the last VF: the reservation
 * falls outside it and fails (`request_resource`), so the BAR is not mmapped even with nothing else in the page.
 */
const PAST_APERTURE: VfHostDecision = {
  verdict: 'no-mmap',
  reason: "the rest of its page lies past the end of the PF's VF BAR aperture, where vfio-pci cannot reserve it",
};

/**
 * Host verdict of VF k's BAR (for reports). At least a page: mmap. Smaller: never, since the next VF decodes in
 * the rest of its page, or (the last VF) that rest is outside the aperture the kernel reserves it in.
 */
export function decideVfHost(res: Resource, k: bigint, P: bigint): VfHostDecision {
  const size = res.vfSize!;
  const start = res.start + k * size;
  if (size >= P) return { verdict: 'mmap', reason: `it is at least one ${formatSize(P)} page` };
  if (start % P !== 0n) return new OffsetInPage(start % P, P);
  const pageEnd = (start / P + 1n) * P;
  // Siblings: the aperture covers more of this page than VF k's own BAR.
  const apertureInPage = (res.end < pageEnd ? res.end : pageEnd) - start;
  return apertureInPage > size ? NEXT_VF_IN_PAGE : PAST_APERTURE;
}
