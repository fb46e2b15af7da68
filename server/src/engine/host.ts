// Host address space: every resource that decodes memory (BARs, ROMs, VF BAR
// apertures), their overlaps (sort and sweep), which host pages they share
// (page buckets), and Linux vfio-pci's mmap decision per BAR.

import { Bar, Device, Topology } from './model';
import { Reporter } from './report';
import { HostVerdict, Span } from './types';
import { formatRange, formatSize, hex } from './values';

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
}

export interface HostDecision {
  verdict: HostVerdict;
  reason: string;
  /** Resources that decode in the rest of the BAR's page (subpage-shared). */
  neighbours: Resource[];
}

export interface HostAnalysis {
  resources: Resource[];
  /** First and last page of every memory resource, keyed by page number. */
  pages: Map<bigint, Resource[]>;
  decisions: Map<Bar, HostDecision>;
}

export function collectResources(topo: Topology): Resource[] {
  const out: Resource[] = [];
  for (const d of topo.devices) {
    for (const b of d.bars) {
      if (b.host === undefined || b.size === undefined) continue;
      out.push({
        start: b.host,
        end: b.host + b.size,
        id: b.id,
        device: d,
        span: b.span,
        addrSpan: b.node.address!.span,
        kind: 'bar',
        bar: b,
        space: b.kind === 'io' ? 'io' : 'mem',
      });
    }
    const rom = d.rom;
    if (rom && rom.host !== undefined && rom.size !== undefined) {
      out.push({ start: rom.host, end: rom.host + rom.size, id: `${d.name}.rom`, device: d, span: rom.span, addrSpan: rom.span, kind: 'rom', space: 'mem' });
    }
    if (d.sriov && d.sriov.vfs > 0n) {
      for (const vb of d.sriov.bars) {
        if (vb.base === undefined || vb.size === undefined) continue;
        out.push({
          start: vb.base,
          end: vb.base + vb.size * d.sriov.vfs,
          id: `${d.name}.vf*.bar${vb.index}`,
          device: d,
          span: vb.span,
          addrSpan: vb.node.address!.span,
          kind: 'vf',
          space: vb.kind === 'io' ? 'io' : 'mem',
          vfSize: vb.size,
          vfIndex: vb.index,
        });
      }
    }
  }
  return out;
}

function describe(res: Resource): string {
  if (res.kind === 'vf') return `${res.id} (VF BARs ${formatRange(res.start, res.end - res.start)})`;
  return `${res.id} ${formatRange(res.start, res.end - res.start)}`;
}

export function analyzeHost(topo: Topology, r: Reporter): HostAnalysis {
  const P = topo.host.pageSize;
  const resources = collectResources(topo);

  // Overlaps: sort by start and sweep, comparing each resource with the one
  // reaching furthest so far. O(n log n); each overlapping resource reported once.
  for (const space of ['mem', 'io'] as const) {
    const list = resources.filter((x) => x.space === space && x.end > x.start).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
    let reach: Resource | undefined;
    for (const res of list) {
      if (reach && res.start < reach.end) {
        const oStart = res.start;
        const oEnd = res.end < reach.end ? res.end : reach.end;
        const sameDevice = reach.device === res.device;
        r.add(
          'bar-overlap',
          res.addrSpan,
          `${describe(res)} overlaps ${describe(reach)} at ${formatRange(oStart, oEnd - oStart)}${space === 'io' ? ' in I/O space' : ''}: two ${sameDevice ? 'resources of one device' : 'devices'} would decode the same addresses. Move one of them.`,
          { subject: res.id, related: [{ span: reach.addrSpan, message: `${describe(reach)}` }] },
        );
      }
      if (!reach || res.end > reach.end) reach = res;
    }
  }

  // Page buckets: first and last page of each memory resource. Interior pages
  // of a resource are its own unless something overlaps it (reported above).
  const pages = new Map<bigint, Resource[]>();
  const addTo = (p: bigint, res: Resource): void => {
    const l = pages.get(p);
    if (l) l.push(res);
    else pages.set(p, [res]);
  };
  for (const res of resources) {
    if (res.space !== 'mem' || res.end <= res.start) continue;
    const p0 = res.start / P;
    const p1 = (res.end - 1n) / P;
    addTo(p0, res);
    if (p1 !== p0) addTo(p1, res);
  }

  // Host verdicts (vfio_pci_probe_mmaps): size ≥ P maps; a sub-page BAR maps only
  // when it starts a page that nothing else decodes in.
  const decisions = new Map<Bar, HostDecision>();
  for (const d of topo.devices) {
    for (const b of d.bars) {
      decisions.set(b, decideHost(b, P, pages));
    }
  }

  // Rules on the host side.
  for (const d of topo.devices) {
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
        const names = dec.neighbours.slice(0, 3).map(describe).join(', ') + (dec.neighbours.length > 3 ? ` and ${dec.neighbours.length - 3} more` : '');
        r.add(
          'subpage-shared',
          addrSpan,
          `${b.id} (${formatSize(b.size)}) starts host page ${hex(b.host)} but shares the rest of that ${formatSize(P)} page with ${names}: vfio-pci cannot reserve the remainder, so it will not mmap the BAR and every guest access traps. Give it a page of its own.`,
          { subject: b.id, target, related: dec.neighbours.slice(0, 8).map((n) => ({ span: n.addrSpan, message: `${describe(n)} decodes in the same page` })) },
        );
      }
    }
    for (const vb of d.sriov?.bars ?? []) {
      if (vb.size === undefined || vb.size >= P) continue;
      const perPage = P / vb.size;
      r.add(
        'sriov-vf-subpage',
        vb.node.size!.span,
        `${d.name}.vf*.bar${vb.index} is ${formatSize(vb.size)}, smaller than the ${formatSize(P)} host page: up to ${perPage} VFs share each page, so no VF's BAR can be mmapped or isolated page by page and every VF access traps. Linux programs the SR-IOV System Page Size to the host page so that VF BARs span a page each; a ${formatSize(vb.size)} VF BAR here means the device or this description does not.`,
        { subject: `${d.name}.vf*.bar${vb.index}`, target: { device: d.name, bar: vb.index } },
      );
    }
  }

  // Isolation: one host page, two IOMMU groups.
  const partners = new Map<Resource, { other: Resource; page: bigint }[]>();
  for (const [page, list] of pages) {
    if (list.length < 2) continue;
    const rep1 = list[0];
    const rep2 = list.find((o) => o.device.group !== rep1.device.group);
    if (!rep2) continue;
    for (const res of list) {
      const other = res.device.group === rep1.device.group ? rep2 : rep1;
      let l = partners.get(res);
      if (!l) partners.set(res, (l = []));
      if (!l.some((x) => x.other.device.group === other.device.group)) l.push({ other, page });
    }
  }
  for (const [res, list] of partners) {
    const first = list[0];
    const pageAddr = first.page * P;
    const others = list.map((x) => `${x.other.id} (${x.other.device.groupLabel})`).join(', ');
    r.add(
      'page-shared-across-groups',
      res.addrSpan,
      `host page ${hex(pageAddr)} (${formatSize(P)}) holds ${res.id} of ${res.device.groupLabel} and ${others}: handing this page to a guest would give it another IOMMU group's registers and break isolation. Give each group's BARs pages of their own.`,
      {
        subject: res.id,
        target: res.bar ? { device: res.device.name, bar: res.bar.index } : undefined,
        related: list.map((x) => ({ span: x.other.addrSpan, message: `${x.other.id}, ${x.other.device.groupLabel}` })),
      },
    );
  }

  // PCIe: the MSI-X table and PBA must not share a naturally aligned 4 KiB range with other registers.
  for (const d of topo.devices) {
    const m = d.msix;
    if (!m || !m.valid) continue;
    const parts: [string, number, bigint, bigint][] = [['table', m.tableBar, m.tableOffset, m.tableSize]];
    if (m.pbaBar !== undefined && m.pbaOffset !== undefined) parts.push(['PBA', m.pbaBar, m.pbaOffset, m.pbaSize]);
    for (const reg of d.regions) {
      if (!reg.valid) continue;
      const shared: string[] = [];
      for (const [what, barIdx, off, len] of parts) {
        let a0: bigint, a1: bigint, b0: bigint, b1: bigint;
        if (barIdx === reg.bar) {
          a0 = off;
          a1 = off + len;
          b0 = reg.offset;
          b1 = reg.offset + reg.size;
        } else {
          const tb = d.barByIndex.get(barIdx);
          const rb = d.barByIndex.get(reg.bar);
          if (tb?.host === undefined || rb?.host === undefined) continue;
          a0 = tb.host + off;
          a1 = a0 + len;
          b0 = rb.host + reg.offset;
          b1 = b0 + reg.size;
        }
        const K4 = 4096n;
        if (a0 / K4 <= (b1 - 1n) / K4 && b0 / K4 <= (a1 - 1n) / K4) shared.push(`${what} (bar${barIdx} ${formatRange(off, len)})`);
      }
      if (shared.length === 0) continue;
      r.add(
        'msix-4k-sharing',
        reg.span,
        `${d.name}: region ${reg.name} (bar${reg.bar} ${formatRange(reg.offset, reg.size)}) shares a naturally aligned 4 KiB range with the MSI-X ${shared.join(' and the ')}; PCIe requires the table and PBA to have their 4 KiB ranges to themselves, and a VMM that emulates the table traps these registers too.`,
        { subject: `${d.name}.${reg.name}`, target: { device: d.name, region: reg.name }, related: [{ span: m.span, message: 'MSI-X capability' }] },
      );
    }
  }

  return { resources, pages, decisions };
}

function decideHost(b: Bar, P: bigint, pages: Map<bigint, Resource[]>): HostDecision {
  if (b.kind === 'io') return { verdict: 'no-mmap', reason: 'I/O BARs are never mmapped', neighbours: [] };
  if (b.size === undefined) return { verdict: 'no-mmap', reason: 'its size is invalid', neighbours: [] };
  if (b.host === undefined) return { verdict: 'no-mmap', reason: 'it has no host address', neighbours: [] };
  if (b.size >= P) return { verdict: 'mmap', reason: `it is at least one ${formatSize(P)} page`, neighbours: [] };
  if (b.host % P !== 0n) return { verdict: 'no-mmap', reason: `it is smaller than a ${formatSize(P)} page and starts at offset ${hex(b.host % P)} in its page`, neighbours: [] };
  const neighbours = (pages.get(b.host / P) ?? []).filter((x) => x.bar !== b);
  if (neighbours.length > 0) return { verdict: 'no-mmap', reason: `other resources decode in the rest of its ${formatSize(P)} page`, neighbours };
  return { verdict: 'mmap', reason: `it starts a ${formatSize(P)} page that nothing else uses, so vfio-pci reserves the remainder`, neighbours: [] };
}

/** Host verdict of VF k's BAR (for reports): VF BARs follow the same rule, siblings included. */
export function decideVfHost(res: Resource, k: bigint, P: bigint, pages: Map<bigint, Resource[]>): { verdict: HostVerdict; reason: string } {
  const size = res.vfSize!;
  const start = res.start + k * size;
  if (size >= P) return { verdict: 'mmap', reason: `it is at least one ${formatSize(P)} page` };
  if (start % P !== 0n) return { verdict: 'no-mmap', reason: `it is smaller than a ${formatSize(P)} page and starts at offset ${hex(start % P)} in its page` };
  const page = start / P;
  const pageEnd = (page + 1n) * P;
  // Siblings: the aperture covers more of this page than VF k's own BAR.
  const apertureInPage = (res.end < pageEnd ? res.end : pageEnd) - start;
  if (apertureInPage > size) return { verdict: 'no-mmap', reason: 'the next VF decodes in the rest of its page' };
  const others = (pages.get(page) ?? []).filter((x) => x !== res);
  if (others.length > 0) return { verdict: 'no-mmap', reason: `other resources decode in the rest of its ${formatSize(P)} page` };
  return { verdict: 'mmap', reason: `it starts a ${formatSize(P)} page that nothing else uses` };
}
