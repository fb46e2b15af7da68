// Document symbols (the outline): the host with its windows, each device with
// its BARs, MSI-X, regions, ROM and SR-IOV BARs, each guest with its assigns.
// Built from the typed tree, so a half-typed file still has an outline.

import { DocumentSymbol, SymbolKind } from 'vscode-languageserver';
import { formatSize, hex, Span } from '../engine';
import { BarNode, DeviceNode, GuestNode, HostNode } from '../engine/ast';
import { Stmt } from '../engine/tree';
import { toRange } from './convert';
import { DocState } from './documents';

function stmtSpan(s: Stmt): Span {
  return { start: s.start, end: s.end };
}

/** The outline of a version (made once per version). */
export function getDocumentSymbols(s: DocState): { symbols: DocumentSymbol[]; truncated: boolean } {
  return (s.derived.symbols ??= documentSymbols(s));
}

function documentSymbols(s: DocState): { symbols: DocumentSymbol[]; truncated: boolean } {
  const f = s.analysis.file;
  const limit = s.settings.maxItemsComputed;
  let count = 0;
  let truncated = false;
  const sym = (name: string, detail: string | undefined, kind: SymbolKind, span: Span, sel: Span | undefined, children?: DocumentSymbol[]): DocumentSymbol | undefined => {
    if (count >= limit) {
      truncated = true;
      return undefined;
    }
    count++;
    const range = toRange(s.index, span);
    // The selection range must lie inside the full range.
    const selection = sel && sel.start >= span.start && sel.end <= span.end ? toRange(s.index, sel) : range;
    const out: DocumentSymbol = { name: name || '?', kind, range, selectionRange: selection };
    if (detail) out.detail = detail;
    if (children) out.children = children;
    return out;
  };
  const add = (list: DocumentSymbol[], x: DocumentSymbol | undefined): void => {
    if (x) list.push(x);
  };
  const barSym = (b: BarNode, prefix: string): DocumentSymbol | undefined => {
    const parts = [b.kind, b.prefetch ? 'prefetch' : undefined, b.size ? formatSize(b.size.value) : undefined, b.address ? `@ ${hex(b.address.value)}` : 'unassigned'];
    return sym(`${prefix}bar${b.index?.value ?? '?'}`, parts.filter(Boolean).join(' '), SymbolKind.Field, stmtSpan(b.stmt), b.index?.span);
  };

  const hostSym = (h: HostNode): DocumentSymbol | undefined => {
    const children: DocumentSymbol[] = [];
    for (const w of h.windows) {
      add(children, sym(`window ${w.name?.value ?? '?'}`, w.address && w.size ? `${hex(w.address.value)} size ${formatSize(w.size.value)}` : undefined, SymbolKind.Namespace, stmtSpan(w.stmt), w.name?.span));
    }
    const detail = [h.pageSize ? `page-size ${formatSize(h.pageSize.value)}` : 'page-size 4K (default)', h.arch?.value].filter(Boolean).join(' · ');
    return sym(`host${h.name ? ' ' + h.name.value : ''}`, detail, SymbolKind.Module, stmtSpan(h.stmt), h.name?.span ?? h.keyword, children);
  };
  const deviceSym = (d: DeviceNode): DocumentSymbol | undefined => {
    const children: DocumentSymbol[] = [];
    for (const b of d.bars) add(children, barSym(b, ''));
    for (const m of d.msix) add(children, sym('msix', m.entries ? `${m.entries.value} vectors, table bar${m.tableBar?.value ?? '?'}` : undefined, SymbolKind.Event, stmtSpan(m.stmt), m.stmt.words[0]));
    for (const r of d.regions) add(children, sym(`region ${r.name?.value ?? '?'}`, [r.bar ? `bar${r.bar.value}` : '', r.offset ? `+${hex(r.offset.value)}` : '', r.size ? formatSize(r.size.value) : '', r.hot ? 'hot' : ''].filter(Boolean).join(' '), SymbolKind.Property, stmtSpan(r.stmt), r.name?.span));
    for (const r of d.roms) add(children, sym('rom', r.size ? formatSize(r.size.value) : undefined, SymbolKind.Constant, stmtSpan(r.stmt), r.stmt.words[0]));
    for (const sr of d.sriovs) {
      const vfBars: DocumentSymbol[] = [];
      for (const b of sr.bars) add(vfBars, barSym(b, 'vf '));
      add(children, sym('sriov', sr.vfs ? `${sr.vfs.value} VFs` : undefined, SymbolKind.Array, stmtSpan(sr.stmt), sr.stmt.words[0], vfBars));
    }
    const pci = d.pci ? d.stmt.words[3]?.text : undefined;
    return sym(d.name?.value ?? 'device', [pci, d.groups[0] ? `group ${d.groups[0].value}` : undefined, d.label?.value].filter(Boolean).join(' · '), SymbolKind.Class, stmtSpan(d.stmt), d.name?.span, children);
  };
  const guestSym = (g: GuestNode): DocumentSymbol | undefined => {
    const children: DocumentSymbol[] = [];
    for (const as of g.assigns) {
      const bs: DocumentSymbol[] = [];
      for (const b of as.bars) add(bs, sym(`bar${b.index?.value ?? '?'}`, b.address ? `@ ${hex(b.address.value)}` : undefined, SymbolKind.Field, stmtSpan(b.stmt), b.index?.span));
      add(children, sym(`assign ${as.device?.value ?? '?'}`, undefined, SymbolKind.Variable, stmtSpan(as.stmt), as.device?.span, bs));
    }
    const policy = g.allocates[0]?.value;
    return sym(g.name?.value ?? 'guest', [policy ? `allocate ${policy}` : undefined, g.msixModes[0] ? `msix ${g.msixModes[0].value}` : undefined].filter(Boolean).join(' · '), SymbolKind.Object, stmtSpan(g.stmt), g.name?.span, children);
  };

  // Top-level statements in document order (each list is in it), until the limit: the outline of a file of
  // 40,000 devices is its first items, made without a pass over the rest.
  const out: DocumentSymbol[] = [];
  let hi = 0;
  let di = 0;
  let gi = 0;
  const startOf = (x: { stmt: Stmt } | undefined): number => (x ? x.stmt.start : Infinity);
  while (count < limit) {
    const h = startOf(f.hosts[hi]);
    const d = startOf(f.devices[di]);
    const g = startOf(f.guests[gi]);
    if (h === Infinity && d === Infinity && g === Infinity) break;
    add(out, h <= d && h <= g ? hostSym(f.hosts[hi++]) : d <= g ? deviceSym(f.devices[di++]) : guestSym(f.guests[gi++]));
  }
  if (hi < f.hosts.length || di < f.devices.length || gi < f.guests.length) truncated = true;
  return { symbols: out, truncated };
}
