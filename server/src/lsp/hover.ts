// Hover: what the engine concluded about the thing under the cursor. On a BAR:
// size, host range, host page and offset, host verdict and why, and per guest
// the address, verdict and why. On `page-size`: the page size in force and
// what it means for the BARs. On an MSI-X line: table and PBA ranges and the
// host pages they pin. Also devices, guests, assigns and numeric literals.

import { Hover, MarkupKind } from 'vscode-languageserver';
import { BarReport, formatSize, hex, parseSize, sizeLiteral } from '../engine';
import { DeviceNode } from '../engine/ast';
import { Bar, barAt, Device, groupLabel } from '../engine/model';
import { formatRange } from '../engine/values';
import { bars, DocState, deviceBars } from './documents';
import { Scanner, Tok } from '../engine/lexer';
import { toRange } from './convert';
import { Hit, locate } from './nav';

function code(v: string): string {
  return '`' + v + '`';
}

function sizeText(v: bigint): string {
  const f = sizeLiteral(v);
  return f === v.toString() ? formatSize(v) : `${f} (${hex(v)})`;
}

function plural(n: bigint | number, word: string): string {
  return `${n} ${word}${n === 1n || n === 1 ? '' : 's'}`;
}

function topoDevice(s: DocState, node: DeviceNode): Device | undefined {
  return s.analysis.topology.devices.find((d) => d.node === node);
}

/** Markdown for one BAR report: host side, then each guest. */
export function barMarkdown(s: DocState, r: BarReport): string[] {
  const P = s.analysis.topology.host.pageSize;
  const out: string[] = [];
  out.push(`**${r.id}** — ${r.kind}${r.prefetch ? ' prefetchable' : ''}, ${sizeText(r.size)}`);
  if (r.host !== undefined) {
    const page = r.host - (r.host % P);
    const lastPage = r.host + r.size - 1n - ((r.host + r.size - 1n) % P);
    const pages = (lastPage - page) / P + 1n;
    out.push(`- host ${code(formatRange(r.host, r.size))}`);
    out.push(
      `- host page ${code(hex(page))} (${formatSize(P)}), offset ${code(hex(r.host % P))} in it` +
        (pages > 1n ? `; spans ${plural(pages, 'page')}` : r.size < P ? `; uses ${formatSize(r.size)} of the page` : ''),
    );
  } else {
    out.push('- no host address');
  }
  out.push(`- host: **${r.hostVerdict}** — ${r.hostReason}`);
  if (r.guests.size > 0) {
    out.push('', '| guest | address | verdict | pages mapped |', '|---|---|---|---|');
    for (const [name, g] of r.guests) {
      out.push(`| ${name} | ${g.address !== undefined ? code(hex(g.address)) : '—'} | **${g.verdict}** | ${g.directPages}/${g.totalPages} |`);
    }
    const why: string[] = [];
    for (const [name, g] of r.guests) for (const reason of g.reasons) why.push(`- ${name}: ${reason}`);
    if (why.length > 0) out.push('', ...why);
  } else if (r.vf === undefined) {
    out.push('', '_No guest assigns this device._');
  }
  return out;
}

function barHover(s: DocState, h: Extract<Hit, { kind: 'bar' }>): string[] {
  const reports = deviceBars(s, h.device.name?.value);
  if (h.sriov) {
    // VF BAR: the aperture and the first VFs.
    const own = reports.filter((r) => r.vf !== undefined && r.span.start === h.bar.stmt.start);
    if (own.length === 0) return [`**VF BAR ${h.bar.index?.value ?? '?'}** — not analysed (see the diagnostics on this line)`];
    const d = topoDevice(s, h.device);
    const vfs = d?.sriov?.vfs ?? 0n;
    const first = own[0];
    const out = [`**${h.device.name?.value ?? '?'}.vf*.bar${first.index}** — ${first.kind}${first.prefetch ? ' prefetchable' : ''}, ${sizeText(first.size)} per VF, ${plural(vfs, 'VF')}`];
    if (first.host !== undefined) out.push(`- aperture ${code(formatRange(first.host, first.size * vfs))}; VF k at ${code(hex(first.host))} + k·${formatSize(first.size)}`);
    out.push('', '| VF | host | verdict |', '|---|---|---|');
    for (const r of own) out.push(`| ${r.vf} | ${r.host !== undefined ? code(hex(r.host)) : '—'} | **${r.hostVerdict}** — ${r.hostReason} |`);
    if (vfs > BigInt(own.length)) out.push(`| … | ${plural(vfs - BigInt(own.length), 'more VF')} | |`);
    return out;
  }
  const r = reports.find((x) => x.vf === undefined && x.span.start === h.bar.stmt.start);
  if (r) return barMarkdown(s, r);
  const idx = h.bar.index?.value;
  const kind = h.bar.kind;
  if (kind === 'io') return [`**${h.device.name?.value ?? '?'}.bar${idx}** — I/O BAR${h.bar.size ? `, ${sizeText(h.bar.size.value)}` : ''}`, '- never mmapped and never placed in guest memory: every access goes through the VMM'];
  return [`**${h.device.name?.value ?? '?'}.bar${idx ?? '?'}** — not analysed (see the diagnostics on this line)`];
}

function romHover(s: DocState, h: Extract<Hit, { kind: 'rom' }>): string[] {
  const d = topoDevice(s, h.device);
  const rom = d?.rom;
  if (!d || !rom || d.node.roms[0] !== h.rom || rom.size === undefined) return ['**expansion ROM** — not analysed (see the diagnostics on this line)'];
  const P = s.analysis.topology.host.pageSize;
  const out = [`**${d.name}.rom** — expansion ROM, ${sizeText(rom.size)}`];
  if (rom.host !== undefined) {
    out.push(`- host ${code(formatRange(rom.host, rom.size))}`);
    out.push(`- host page ${code(hex(rom.host - (rom.host % P)))} (${formatSize(P)}), offset ${code(hex(rom.host % P))} in it`);
  } else out.push('- no host address');
  out.push('- never mapped directly into a guest: the VMM serves its reads');
  return out;
}

function pageSizeHover(s: DocState): string[] {
  const host = s.analysis.topology.host;
  const P = host.pageSize;
  const src =
    host.pageSizeSource === 'override'
      ? 'from the setting `bartopo.pageSize` (overrides the file)'
      : host.pageSizeSource === 'host'
        ? 'from this `page-size` line'
        : 'the default (no `page-size`)';
  let big = 0;
  let subOk = 0;
  let subTrap = 0;
  for (const r of bars(s)) {
    if (r.vf !== undefined || r.host === undefined) continue;
    if (r.size >= P) big++;
    else if (r.hostVerdict === 'mmap') subOk++;
    else subTrap++;
  }
  return [
    `**Host page size ${formatSize(P)}** (${P} bytes, ${hex(P)}) — ${src}`,
    '',
    `KVM maps guest memory in whole ${formatSize(P)} pages, and vfio-pci mmaps a BAR smaller than a page only when it starts a page that nothing else decodes in.`,
    '',
    `- memory BARs of at least one page: ${big}`,
    `- smaller BARs that vfio-pci can still mmap (alone in their page): ${subOk}`,
    `- smaller BARs that trap to the VMM: ${subTrap}`,
  ];
}

function msixHover(s: DocState, h: Extract<Hit, { kind: 'msix' }>): string[] {
  const a = s.analysis;
  const d = topoDevice(s, h.device);
  const m = d?.msix;
  if (!d || !m || d.node.msix[0] !== h.msix) return ['**MSI-X** — not analysed (see the diagnostics on this line)'];
  const P = a.topology.host.pageSize;
  const out = [`**${d.name} MSI-X** — ${plural(m.entries, 'vector')}${m.valid ? '' : ' (invalid layout: see the diagnostics)'}`];
  const pinned = (what: string, barIdx: number, off: bigint, len: bigint): bigint[] => {
    const b: Bar | undefined = barAt(d, barIdx);
    let line = `- ${what} ${len} bytes in bar${barIdx} at ${code(formatRange(off, len))}`;
    let pages: bigint[] = [];
    if (b?.host !== undefined) {
      const start = b.host + off;
      const p0 = start / P;
      const p1 = (start + len - 1n) / P;
      for (let p = p0; p <= p1 && pages.length < 16; p++) pages.push(p * P);
      line += `; host ${code(formatRange(start, len))}, in ${pages.length === 1 ? 'host page' : 'host pages'} ${pages.map((p) => code(hex(p))).join(', ')}`;
    }
    out.push(line);
    return pages;
  };
  const tablePages = pinned('table', m.tableBar, m.tableOffset, m.tableSize);
  if (m.pbaBar !== undefined && m.pbaOffset !== undefined) pinned('PBA', m.pbaBar, m.pbaOffset, m.pbaSize);
  const guests = a.topology.guests.filter((g) => g.assigns.some((x) => x.device === d));
  const mappable = a.topology.host.msixMappable;
  out.push('');
  if (guests.length === 0) {
    out.push(`No guest assigns ${d.name}. Under the default \`msix emulate\` the table page${tablePages.length > 1 ? 's' : ''} would trap.`);
  } else {
    const tableBar = barAt(d, m.tableBar);
    for (const g of guests) {
      const many = tablePages.length > 1;
      const trap = many ? '**trap**' : '**traps**';
      const pages = `the table page${many ? 's' : ''}`;
      if (g.msix === 'emulate' || !mappable) {
        const why = g.msix === 'emulate' ? 'the VMM emulates the table (`msix emulate`)' : 'the host kernel does not let user space map it (`msix-mappable no`)';
        out.push(`- ${g.name}: ${pages} ${trap} — ${why}`);
        continue;
      }
      // The MSI-X mode lets the table page map; whether it does is the BAR's own verdict in this guest.
      const placed = tableBar ? a.guests.find((ga) => ga.guest === g)?.placements.get(tableBar) : undefined;
      const mode = `\`msix ${g.msix}\` with \`msix-mappable yes\``;
      if (!placed || placed.verdict === 'trapped') {
        const why = placed?.reasons[0] ?? 'the BAR is not placed in this guest';
        out.push(`- ${g.name}: ${pages} ${trap} with the rest of bar${m.tableBar} (${why}), although ${mode} would let ${many ? 'them' : 'it'} map`);
      } else if (placed.verdict === 'partial') {
        out.push(`- ${g.name}: ${mode} lets ${pages} map, but bar${m.tableBar} maps only ${placed.directPages} of ${placed.totalPages} pages here (${placed.reasons[0] ?? 'see its hover'}): ${pages} map${many ? '' : 's'} directly only if not among the trapped ones`);
      } else {
        out.push(`- ${g.name}: ${pages} ${many ? 'map directly' : 'maps directly'} — ${mode}`);
      }
    }
  }
  out.push('', '_The PBA does not force a trap: QEMU emulates it only while a masked vector is pending._');
  return out;
}

function deviceHover(s: DocState, node: DeviceNode): string[] {
  const d = topoDevice(s, node);
  if (!d) return [`**device ${node.name?.value ?? '?'}**`];
  const out = [`**device ${d.name}**${d.label ? ` — ${literal(d.label)}` : ''}`];
  const facts: string[] = [];
  if (d.pci) facts.push(`PCI ${code(`${d.pci.domain.toString(16).padStart(4, '0')}:${d.pci.bus.toString(16).padStart(2, '0')}:${d.pci.device.toString(16).padStart(2, '0')}.${d.pci.fn}`)}`);
  facts.push(groupLabel(d));
  if (d.id) facts.push(`id ${code(d.id)}`);
  out.push(facts.join(' · '));
  const reports = deviceBars(s, d.name).filter((r) => r.vf === undefined);
  if (reports.length > 0) {
    out.push('', '| BAR | size | host | host verdict |', '|---|---|---|---|');
    for (const r of reports) out.push(`| bar${r.index} ${r.kind} | ${formatSize(r.size)} | ${r.host !== undefined ? code(hex(r.host)) : '—'} | ${r.hostVerdict} |`);
  }
  const guests = s.analysis.topology.guests.filter((g) => g.assigns.some((x) => x.device === d)).map((g) => g.name);
  out.push('', guests.length ? `Assigned to ${guests.join(', ')}.` : 'Not assigned to any guest.');
  return out;
}

function guestHover(s: DocState, name: string | undefined): string[] {
  const ga = s.analysis.guests.find((g) => g.guest.name === name);
  if (!ga) return [`**guest ${name ?? '?'}**`];
  const g = ga.guest;
  const count = { direct: 0, partial: 0, trapped: 0 };
  for (const p of ga.placements.values()) count[p.verdict]++;
  return [
    `**guest ${g.name}** — allocate ${g.policy}, msix ${g.msix}`,
    g.window ? `- window ${code(formatRange(g.window.start, g.window.size))}` : '- no window',
    `- ${plural(g.assigns.length, 'device')}, ${plural(ga.placements.size, 'memory BAR')}: ${count.direct} direct, ${count.partial} partial, ${count.trapped} trapped`,
  ];
}

function assignHover(s: DocState, guestName: string | undefined, deviceName: string | undefined, only?: number): string[] {
  const reports = deviceBars(s, deviceName).filter((r) => r.vf === undefined && (only === undefined || r.index === only));
  const out: string[] = [];
  for (const r of reports) {
    const g = guestName !== undefined ? r.guests.get(guestName) : undefined;
    if (!g) continue;
    out.push(
      `**${r.id}** in guest ${guestName}: ${g.address !== undefined ? code(formatRange(g.address, r.size)) : 'no guest address'} — **${g.verdict}** (${g.directPages}/${g.totalPages} pages mapped)`,
    );
    if (r.host !== undefined) out.push(`- host ${code(formatRange(r.host, r.size))}, host verdict ${r.hostVerdict}`);
    for (const reason of g.reasons) out.push(`- ${reason}`);
    out.push('');
  }
  if (out.length === 0) return [`**assign ${deviceName ?? '?'}** — nothing placed in guest memory`];
  return out;
}

/**
 * A number under the cursor (a size, offset, count or address): its value in bytes, hex and binary units. Only a
 * whole word of the statement that reads as a number: not part of a word (`db-64K`, a PCI address `0000:10:00.0`,
 * an id `8086:1010`), nor anything in a string or a comment.
 */
function literalHover(s: DocState, offset: number): { lines: string[]; start: number; end: number } | undefined {
  const text = s.text;
  // Strings and comments end at the line break: the line's tokens, scanned from its start, are the file's.
  let from = offset;
  while (from > 0 && text.charCodeAt(from - 1) !== 10 && text.charCodeAt(from - 1) !== 13) from--;
  const sc = new Scanner(text, from);
  while (sc.advance() && sc.start <= offset && sc.kind !== Tok.Newline) {
    if (offset > sc.end) continue;
    if (sc.kind !== Tok.Word) return undefined;
    const w = text.slice(sc.start, sc.end);
    if (!/^[0-9]/.test(w)) return undefined;
    const r = parseSize(w);
    if (!r.ok) return undefined;
    const v = r.value;
    const forms = [v.toString(), hex(v), sizeLiteral(v)].filter((f, i, all) => f !== w && all.indexOf(f) === i);
    return { lines: [`${code(w)} = ${forms.map((f, i) => (i === 0 ? f : code(f))).join(' = ')}`], start: sc.start, end: sc.end };
  }
  return undefined;
}

/** Characters Markdown gives a meaning to (emphasis, code, links, HTML, headings, lists, tables). */
const MARKDOWN_SPECIAL = /[\\`*_{}[\]()#+\-.!|<>~]/g;

/** Text from the file (a device's `name "…"`) shown as it is: every Markdown character escaped. */
function literal(text: string): string {
  return text.replace(MARKDOWN_SPECIAL, '\\$&');
}

/** Markdown → plain text for clients that cannot render Markdown. */
function plain(md: string): string {
  return md
    .replace(/\*\*(.*?)\*\*/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/^_(.*)_$/gm, '$1')
    .replace(/^\|---.*$\n?/gm, '')
    .replace(/^---$/gm, '')
    .replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, '$1');
}

export function getHover(s: DocState, offset: number, markdown = true): Hover | null {
  const h = locate(s.analysis, offset);
  let lines: string[] | undefined;
  let span: { start: number; end: number } | undefined;
  switch (h?.kind) {
    case 'bar':
      lines = barHover(s, h);
      span = h.bar.stmt;
      break;
    case 'rom':
      lines = romHover(s, h);
      span = h.rom.stmt;
      break;
    case 'page-size':
      lines = pageSizeHover(s);
      span = h.stmt;
      break;
    case 'msix':
      lines = msixHover(s, h);
      span = h.msix.stmt;
      break;
    case 'device-name':
      lines = deviceHover(s, h.device);
      span = h.span;
      break;
    case 'guest':
      if (h.guest.name && offset <= h.guest.name.span.end) {
        lines = guestHover(s, h.guest.name.value);
        // From the keyword: the hover is given on `guest` too, and its range holds the cursor.
        span = { start: h.guest.stmt.start, end: h.guest.name.span.end };
      }
      break;
    case 'assign':
      if (h.onName && h.assign.device) {
        const decl = s.analysis.file.devices.find((d) => d.name?.value === h.assign.device!.value);
        lines = [...assignHover(s, h.guest.name?.value, h.assign.device.value), ...(decl ? ['---', ...deviceHover(s, decl)] : [])];
        span = h.assign.device.span;
      }
      break;
    case 'assign-bar':
      lines = assignHover(s, h.guest.name?.value, h.assign.device?.value, h.bar.index?.value);
      span = h.bar.stmt;
      break;
    default:
      break;
  }
  if (!lines) {
    const lit = literalHover(s, offset);
    if (!lit) return null;
    lines = lit.lines;
    span = lit;
  }
  return {
    contents: markdown ? { kind: MarkupKind.Markdown, value: lines.join('\n') } : { kind: MarkupKind.PlainText, value: plain(lines.join('\n')) },
    range: span ? toRange(s.index, { start: span.start, end: span.end }) : undefined,
  };
}
