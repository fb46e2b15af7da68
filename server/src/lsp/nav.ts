// What is at an offset: the typed node (device, BAR, MSI-X line, assign …)
// and the word under the cursor. Shared by hover, definition, references,
// rename and completion. Works on any tree, including broken ones.

import { Analysis, Span } from '../engine';
import { AssignBarNode, AssignNode, BarNode, DeviceNode, GuestNode, HostNode, MsixNode, RegionNode, RomNode, SriovNode } from '../engine/ast';
import { Block, Stmt } from '../engine/tree';

export type Hit =
  | { kind: 'host'; host: HostNode; stmt: Stmt }
  | { kind: 'page-size'; host: HostNode; stmt: Stmt }
  | { kind: 'device'; device: DeviceNode }
  | { kind: 'device-name'; device: DeviceNode; span: Span }
  | { kind: 'bar'; device: DeviceNode; bar: BarNode; sriov?: SriovNode }
  | { kind: 'msix'; device: DeviceNode; msix: MsixNode; /** BAR index named by the word under the cursor. */ barRef?: { index: number; span: Span } }
  | { kind: 'region'; device: DeviceNode; region: RegionNode; barRef?: { index: number; span: Span } }
  | { kind: 'rom'; device: DeviceNode; rom: RomNode }
  | { kind: 'guest'; guest: GuestNode }
  | { kind: 'assign'; guest: GuestNode; assign: AssignNode; onName: boolean }
  | { kind: 'assign-bar'; guest: GuestNode; assign: AssignNode; bar: AssignBarNode; onIndex: boolean };

export function within(span: { start: number; end: number }, offset: number): boolean {
  return offset >= span.start && offset <= span.end;
}

/** The most specific node at `offset`, or undefined between top-level blocks. */
export function locate(a: Analysis, offset: number): Hit | undefined {
  const f = a.file;
  for (const d of f.devices) {
    if (!within(d.stmt, offset)) continue;
    if (d.name && within(d.name.span, offset)) return { kind: 'device-name', device: d, span: d.name.span };
    for (const b of d.bars) if (within(b.stmt, offset)) return { kind: 'bar', device: d, bar: b };
    for (const m of d.msix) {
      if (!within(m.stmt, offset)) continue;
      const ref = [m.tableBar, m.pbaBar].find((v) => v && within(v.span, offset));
      return { kind: 'msix', device: d, msix: m, barRef: ref ? { index: ref.value, span: ref.span } : undefined };
    }
    for (const r of d.regions) {
      if (!within(r.stmt, offset)) continue;
      const ref = r.bar && within(r.bar.span, offset) ? { index: r.bar.value, span: r.bar.span } : undefined;
      return { kind: 'region', device: d, region: r, barRef: ref };
    }
    for (const r of d.roms) if (within(r.stmt, offset)) return { kind: 'rom', device: d, rom: r };
    for (const s of d.sriovs) for (const b of s.bars) if (within(b.stmt, offset)) return { kind: 'bar', device: d, bar: b, sriov: s };
    return { kind: 'device', device: d };
  }
  for (const g of f.guests) {
    if (!within(g.stmt, offset)) continue;
    for (const as of g.assigns) {
      if (!within(as.stmt, offset)) continue;
      for (const b of as.bars) if (within(b.stmt, offset)) return { kind: 'assign-bar', guest: g, assign: as, bar: b, onIndex: !!b.index && within(b.index.span, offset) };
      return { kind: 'assign', guest: g, assign: as, onName: !!as.device && within(as.device.span, offset) };
    }
    return { kind: 'guest', guest: g };
  }
  for (const h of f.hosts) {
    if (!within(h.stmt, offset)) continue;
    const ps = h.stmt.block?.stmts.find((s) => s.words[0]?.text === 'page-size' && within(s, offset));
    if (ps) return { kind: 'page-size', host: h, stmt: ps };
    return { kind: 'host', host: h, stmt: h.stmt };
  }
  return undefined;
}

/** The device name under the cursor (declaration or `assign` reference). */
export function deviceNameAt(a: Analysis, offset: number): { name: string; span: Span } | undefined {
  const h = locate(a, offset);
  if (h?.kind === 'device-name' && h.device.name) return { name: h.device.name.value, span: h.device.name.span };
  if (h?.kind === 'assign' && h.onName && h.assign.device) return { name: h.assign.device.value, span: h.assign.device.span };
  return undefined;
}

/** The first device declared with this name (the one `assign` binds to). */
export function deviceDecl(a: Analysis, name: string): DeviceNode | undefined {
  return a.file.devices.find((d) => d.name?.value === name);
}

/** Every `assign NAME` of that device name, in file order. */
export function deviceRefs(a: Analysis, name: string): Span[] {
  const out: Span[] = [];
  for (const g of a.file.guests) for (const as of g.assigns) if (as.device?.value === name) out.push(as.device.span);
  return out;
}

/** The innermost block containing `offset` and the statement owning it (undefined at the top level). */
export function enclosingBlock(stmts: Stmt[], offset: number): { owner: Stmt; block: Block; parents: Stmt[] } | undefined {
  // The owners of the blocks around `offset`, outermost first (one list for any depth: no copy per level).
  const chain: Stmt[] = [];
  let list = stmts;
  for (;;) {
    let next: Stmt | undefined;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      const b = s.block;
      if (!b) continue;
      // An unclosed block runs to the next statement at its own level.
      const end = b.close !== undefined ? b.close : i + 1 < list.length ? list[i + 1].start - 1 : Number.MAX_SAFE_INTEGER;
      if (offset >= b.open + 1 && offset <= end) {
        next = s;
        break;
      }
    }
    if (!next) break;
    chain.push(next);
    list = next.block!.stmts;
  }
  const owner = chain.pop();
  return owner && { owner, block: owner.block!, parents: chain };
}
