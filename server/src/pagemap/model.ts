// The page map: for each host page that holds more than one resource or a
// sub-page BAR, what decodes where inside it, with verdicts and IOMMU groups.

import { Analysis } from '../engine/analyze';
import { Resource, resourcesIn } from '../engine/host';
import { groupLabel } from '../engine/model';
import { HostVerdict, Span } from '../engine/types';
import { formatSize } from '../engine/values';

export type MapItemKind = 'bar' | 'rom' | 'vf' | 'msix-table' | 'msix-pba' | 'region';

export interface MapItem {
  id: string;
  kind: MapItemKind;
  /** Absolute host addresses, clipped to the page: [start, end). */
  start: bigint;
  end: bigint;
  /** Full extent of the resource (not clipped). */
  fullStart: bigint;
  fullEnd: bigint;
  device: string;
  group: string;
  groupLabel: string;
  hostVerdict?: HostVerdict;
  hot?: boolean;
  /** The statement to reveal when the item is clicked. */
  span: Span;
}

export interface MapPage {
  start: bigint;
  size: bigint;
  items: MapItem[];
  groups: string[];
  crossGroup: boolean;
  /** Why the page is on the map. */
  why: string;
}

export interface PageMap {
  pageSize: bigint;
  pages: MapPage[];
  /** Set when `maxItems` stopped the map: the last page may hold fewer items than it has, and later pages are left out. */
  itemsCut?: boolean;
}

function clip(a: bigint, b: bigint, lo: bigint, hi: bigint): [bigint, bigint] | undefined {
  const s = a > lo ? a : lo;
  const e = b < hi ? b : hi;
  return s < e ? [s, e] : undefined;
}

/**
 * The host pages worth drawing. `maxPages` stops after that many pages; `maxItems` after that many items in all
 * (a page where thousands of BARs overlap would otherwise make a drawing of tens of MB).
 */
export function buildPageMap(a: Analysis, opts: { maxPages?: number; maxItems?: number } = {}): PageMap {
  const P = a.topology.host.pageSize;
  const pages: MapPage[] = [];
  // Pages holding an MSI-X table are on the map too: under table emulation they trap whole.
  const tablePages = new Map<bigint, Resource[]>();
  for (const r of a.host.resources) {
    const m = r.device.msix;
    if (!r.bar || !m || !m.tableValid || m.tableBar !== r.bar.index) continue;
    const t0 = (r.start + m.tableOffset) / P;
    const t1 = (r.start + m.tableOffset + m.tableSize - 1n) / P;
    // (A page the host buckets hold is listed from them below; only the table BAR's inner pages need this list.)
    for (let k = t0; k <= t1; k++) tablePages.set(k, [r]);
  }
  // The inner pages of a VF aperture whose VF BARs are smaller than a page: each holds several VF BARs (the host
  // buckets hold a resource's first and last page only).
  const vfInnerPages = new Map<bigint, Resource[]>();
  for (const r of a.host.resources) {
    if (r.kind !== 'vf' || (r.vfSize ?? P) >= P || r.end <= r.start) continue;
    const p0 = r.start / P;
    const p1 = (r.end - 1n) / P;
    for (let k = p0 + 1n; k < p1; k++) {
      const l = vfInnerPages.get(k);
      if (l) l.push(r);
      else vfInnerPages.set(k, [r]);
    }
  }
  let itemCount = 0;
  let itemsCut = false;
  const keys = [...new Set([...a.host.pages.keys(), ...tablePages.keys(), ...vfInnerPages.keys()])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  for (const key of keys) {
    // The page's own bucket when it has one (it holds the table BARs of its pages), and the VF apertures passing through it.
    const own = a.host.pages.has(key) ? resourcesIn(a.host.pages, key) : (tablePages.get(key) ?? []);
    const through = vfInnerPages.get(key);
    const list = through ? [...own, ...through.filter((r) => !own.includes(r))] : own;
    const subpage = list.filter((r) => r.kind === 'bar' && r.end - r.start < P);
    const vfSub = list.filter((r) => r.kind === 'vf' && (r.vfSize ?? P) < P);
    const holdsTable = tablePages.has(key);
    if (list.length < 2 && subpage.length === 0 && vfSub.length === 0 && !holdsTable) continue;
    const lo = key * P;
    const hi = lo + P;
    const items: MapItem[] = [];
    const add = (r: Resource): void => {
      const c = clip(r.start, r.end, lo, hi);
      if (!c) return;
      const dec = r.bar ? a.host.decisions.get(r.bar) : undefined;
      items.push({
        id: r.id,
        kind: r.kind,
        start: c[0],
        end: c[1],
        fullStart: r.start,
        fullEnd: r.end,
        device: r.device.name,
        group: r.device.group,
        groupLabel: groupLabel(r.device),
        hostVerdict: dec?.verdict,
        span: r.span,
      });
      // Things inside a BAR: MSI-X table and PBA, declared regions.
      if (!r.bar) return;
      const d = r.device;
      const m = d.msix;
      const inner = (id: string, kind: MapItemKind, s: bigint, len: bigint, span: Span, hot?: boolean): void => {
        const ic = clip(s, s + len, lo, hi);
        if (ic) items.push({ id, kind, start: ic[0], end: ic[1], fullStart: s, fullEnd: s + len, device: d.name, group: d.group, groupLabel: groupLabel(d), span, hot });
      };
      if (m && m.tableValid && m.tableBar === r.bar.index) inner(`${d.name}.msix-table`, 'msix-table', r.start + m.tableOffset, m.tableSize, m.span);
      if (m && m.pbaValid && m.pbaBar === r.bar.index && m.pbaOffset !== undefined) inner(`${d.name}.msix-pba`, 'msix-pba', r.start + m.pbaOffset, m.pbaSize, m.span);
      for (const reg of d.regions) if (reg.valid && reg.bar === r.bar.index) inner(`${d.name}.${reg.name}`, 'region', r.start + reg.offset, reg.size, reg.span, reg.hot);
    };
    for (const r of list) {
      if (opts.maxItems !== undefined && itemCount + items.length >= opts.maxItems) {
        itemsCut = true;
        break;
      }
      add(r);
    }
    // The cap reached before this page's first resource: the page is not drawn at all (not drawn empty).
    if (items.length === 0 && itemsCut) break;
    itemCount += items.length;
    items.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
    const groups = [...new Set(list.map((r) => r.device.group))];
    const why =
      groups.length > 1
        ? `holds resources of ${groups.length} IOMMU groups`
        : list.length > 1
          ? `holds ${list.length} resources`
          : subpage.length > 0 || vfSub.length > 0
            ? `holds a BAR smaller than the ${formatSize(P)} page`
            : `holds the MSI-X table of ${list[0].device.name}`;
    pages.push({ start: lo, size: P, items, groups, crossGroup: groups.length > 1, why });
    if (itemsCut || (opts.maxPages !== undefined && pages.length >= opts.maxPages)) break;
  }
  return { pageSize: P, pages, ...(itemsCut ? { itemsCut } : {}) };
}
