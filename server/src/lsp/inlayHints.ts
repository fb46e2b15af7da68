// Inlay hints: the last address of each host BAR (after its `at ADDR`), and
// where the allocator put each assigned BAR in each guest, with its verdict
// (after `bar N` in an assign block, or after the device name of an assign).

import { InlayHint, Range } from 'vscode-languageserver';
import { formatSize, hex } from '../engine';
import { formatRange } from '../engine/values';
import { DocState } from './documents';

const VERDICT_MARK: Record<string, string> = { direct: 'direct', partial: 'partial', trapped: 'trapped' };

export function getInlayHints(s: DocState, range: Range): InlayHint[] {
  const a = s.analysis;
  const from = s.index.offsetAt(range.start);
  const to = s.index.offsetAt(range.end);
  const inRange = (off: number): boolean => off >= from && off <= to;
  const out: InlayHint[] = [];
  const settings = s.settings.inlayHints;

  if (settings.endAddress) {
    for (const d of a.topology.devices) {
      if (d.span.end < from || d.span.start > to) continue;
      for (const b of d.bars) {
        if (b.host === undefined || b.size === undefined || !b.node.address) continue;
        const at = b.node.address.span.end;
        if (!inRange(at)) continue;
        out.push({
          position: s.index.positionAt(at),
          label: `..${hex(b.host + b.size - 1n)}`,
          paddingLeft: true,
          tooltip: `${b.id}: host ${formatRange(b.host, b.size)} (${formatSize(b.size)})`,
        });
      }
      const rom = d.rom;
      const romNode = d.node.roms[0];
      if (rom?.host !== undefined && rom.size !== undefined && romNode?.address && inRange(romNode.address.span.end)) {
        out.push({
          position: s.index.positionAt(romNode.address.span.end),
          label: `..${hex(rom.host + rom.size - 1n)}`,
          paddingLeft: true,
          tooltip: `${d.name}.rom: host ${formatRange(rom.host, rom.size)} (${formatSize(rom.size)})`,
        });
      }
      const sr = d.sriov;
      if (sr && sr.vfs > 0n) {
        for (const vb of sr.bars) {
          if (vb.base === undefined || vb.size === undefined || !vb.node.address) continue;
          const at = vb.node.address.span.end;
          if (!inRange(at)) continue;
          const total = vb.size * sr.vfs;
          out.push({
            position: s.index.positionAt(at),
            label: `..${hex(vb.base + total - 1n)} (${sr.vfs} VFs)`,
            paddingLeft: true,
            tooltip: `${d.name}.vf*.bar${vb.index}: aperture ${formatRange(vb.base, total)}, VF k at ${hex(vb.base)} + k·${formatSize(vb.size)}`,
          });
        }
      }
    }
  }

  if (settings.guestAddress) {
    for (const ga of a.guests) {
      const g = ga.guest;
      if (g.span.end < from || g.span.start > to) continue;
      // BARs placed on the assign's name (not listed in its block) are gathered into one hint.
      const onName = new Map<number, string[]>();
      const lines = new Map(g.node.assigns.flatMap((x) => x.bars).map((x) => [x.stmt.start, x] as const));
      for (const p of ga.placed) {
        const verdict = ga.placements.get(p.bar)?.verdict;
        const where = p.address !== undefined ? hex(p.address) : 'no address';
        if (p.span.start === p.assign.nameSpan.start) {
          const at = p.assign.nameSpan.end;
          if (!inRange(at)) continue;
          const l = onName.get(at) ?? [];
          l.push(`bar${p.bar.index} @ ${where}${verdict ? ` ${VERDICT_MARK[verdict]}` : ''}`);
          onName.set(at, l);
          continue;
        }
        // A `bar N [at ADDR]` line of the assign block.
        const node = lines.get(p.span.start);
        if (!node) continue;
        const anchor = node.address ?? node.index;
        if (!anchor || !inRange(anchor.span.end)) continue;
        out.push({
          position: s.index.positionAt(anchor.span.end),
          label: p.explicit ? (verdict ? VERDICT_MARK[verdict] : '') : `@ ${where}${verdict ? ` ${VERDICT_MARK[verdict]}` : ''}`,
          paddingLeft: true,
          tooltip: p.address !== undefined && p.bar.size !== undefined ? `${p.bar.id} in guest ${g.name}: ${formatRange(p.address, p.bar.size)}` : undefined,
        });
      }
      for (const [at, parts] of onName) {
        out.push({ position: s.index.positionAt(at), label: parts.join(', '), paddingLeft: true, tooltip: `guest ${g.name}: where the allocator (${g.policy}) placed these BARs` });
      }
    }
  }
  return out.filter((h) => h.label !== '').sort((x, y) => x.position.line - y.position.line || x.position.character - y.position.character);
}
