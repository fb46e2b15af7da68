// Renders a page map as text (terminals) and SVG (people, the VS Code webview).

import { formatSize, hex } from '../engine/values';
import { MapItem, MapPage, PageMap } from './model';

const WIDTH = 64;

function letter(i: number): string {
  return 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[i % 62];
}

function cells(page: MapPage, it: MapItem): [number, number] {
  const scale = page.size;
  const s = Number(((it.start - page.start) * BigInt(WIDTH)) / scale);
  let e = Number(((it.end - page.start) * BigInt(WIDTH) + scale - 1n) / scale);
  if (e <= s) e = s + 1;
  return [s, Math.min(e, WIDTH)];
}

function verdictText(it: MapItem): string {
  if (it.kind === 'msix-table') return 'MSI-X table (traps under emulate)';
  if (it.kind === 'msix-pba') return 'MSI-X PBA';
  if (it.kind === 'region') return it.hot ? 'hot region' : 'region';
  if (it.kind === 'rom') return 'expansion ROM';
  if (it.kind === 'vf') return 'VF BARs';
  return it.hostVerdict ?? '';
}

export function renderText(map: PageMap): string {
  if (map.pages.length === 0) return `No host page (${formatSize(map.pageSize)}) holds more than one resource or a sub-page BAR.\n`;
  const out: string[] = [];
  for (const page of map.pages) {
    out.push(`host page ${hex(page.start)}-${hex(page.start + page.size - 1n)} (${formatSize(page.size)}): ${page.why}${page.crossGroup ? ' — ISOLATION BROKEN' : ''}`);
    const row = new Array<string>(WIDTH).fill('.');
    const legend: string[] = [];
    page.items.forEach((it, i) => {
      const ch = letter(i);
      const [s, e] = cells(page, it);
      // Inner items (table, PBA, regions) draw over their BAR.
      for (let k = s; k < e; k++) row[k] = ch;
      const off = it.start - page.start;
      legend.push(`    ${ch}  +${hex(off).padEnd(8)} ${formatSize(it.end - it.start).padStart(5)}  ${it.id.padEnd(24)} ${it.groupLabel.padEnd(12)} ${verdictText(it)}`);
    });
    out.push(`  |${row.join('')}|`);
    out.push(...legend, '');
  }
  return out.join('\n');
}

function esc(s: string): string {
  // XML 1.0 allows no control character but tab and line breaks, no lone surrogate and no U+FFFE/U+FFFF: each becomes U+FFFD.
  const allowed = s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return allowed.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const GROUP_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac', '#e15759'];

function fill(it: MapItem): string {
  if (it.kind === 'msix-table') return '#d62728';
  if (it.kind === 'msix-pba') return '#ff9896';
  if (it.kind === 'region') return it.hot ? '#ffbf00' : '#fff2b3';
  if (it.kind === 'rom') return '#c7c7c7';
  if (it.hostVerdict === 'mmap') return '#8fd18f';
  return '#f4a3a3';
}

/**
 * SVG of the map: one bar per page, items to scale, filled by verdict/kind and
 * outlined in their IOMMU group's colour. Each item carries `data-start`/`data-end`
 * (UTF-16 offsets of its statement) so a viewer can reveal it.
 */
export function renderSvg(map: PageMap, opts: { title?: string } = {}): string {
  const W = 900;
  const left = 20;
  const barW = W - 2 * left;
  const rowH = 118;
  const top = 58;
  const groupIdx = new Map<string, number>();
  for (const p of map.pages) for (const it of p.items) if (!groupIdx.has(it.group)) groupIdx.set(it.group, groupIdx.size);
  const H = top + Math.max(1, map.pages.length) * rowH + 40;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(`<text x="${left}" y="24" font-size="16" font-weight="bold">${esc(opts.title ?? 'bartopo page map')}</text>`);
  o.push(`<text x="${left}" y="44" fill="#555">host page ${formatSize(map.pageSize)} · green: host mmaps · red: no mmap · dark red: MSI-X table · amber: hot region · outline: IOMMU group</text>`);
  if (map.pages.length === 0) o.push(`<text x="${left}" y="${top + 20}">No host page holds more than one resource or a sub-page BAR.</text>`);
  map.pages.forEach((page, i) => {
    const y = top + i * rowH;
    o.push(`<g class="page" data-page="${hex(page.start)}">`);
    o.push(`<text x="${left}" y="${y + 14}" font-weight="bold"${page.crossGroup ? ' fill="#b00000"' : ''}>${esc(`${hex(page.start)} (${formatSize(page.size)}): ${page.why}`)}</text>`);
    o.push(`<rect x="${left}" y="${y + 22}" width="${barW}" height="40" fill="#f3f3f3" stroke="#888"/>`);
    // Ticks every 1/16 of the page.
    for (let t = 1; t < 16; t++) o.push(`<line x1="${left + (barW * t) / 16}" y1="${y + 62}" x2="${left + (barW * t) / 16}" y2="${y + 66}" stroke="#aaa"/>`);
    page.items.forEach((it, k) => {
      const x0 = left + (Number(it.start - page.start) / Number(page.size)) * barW;
      const w = Math.max(2, (Number(it.end - it.start) / Number(page.size)) * barW);
      const inner = it.kind === 'msix-table' || it.kind === 'msix-pba' || it.kind === 'region';
      const yy = inner ? y + 30 : y + 22;
      const hh = inner ? 24 : 40;
      const gc = GROUP_COLORS[groupIdx.get(it.group)! % GROUP_COLORS.length];
      const label = `${it.id} ${formatSize(it.fullEnd - it.fullStart)} at ${hex(it.fullStart)} · ${it.groupLabel} · ${verdictText(it)}`;
      o.push(
        `<rect class="item ${it.kind}" data-id="${esc(it.id)}" data-start="${it.span.start}" data-end="${it.span.end}" x="${x0.toFixed(1)}" y="${yy}" width="${w.toFixed(1)}" height="${hh}" fill="${fill(it)}" stroke="${gc}" stroke-width="${inner ? 1 : 3}"><title>${esc(label)}</title></rect>`,
      );
      if (!inner) {
        const ly = y + 80 + (k % 2) * 14;
        o.push(`<text x="${x0.toFixed(1)}" y="${ly}" fill="${gc}">${esc(it.id)}</text>`);
      }
    });
    o.push(`</g>`);
  });
  o.push(`</svg>`);
  return o.join('\n') + '\n';
}
