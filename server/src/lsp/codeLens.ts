// Code lens on each guest: how many of its memory BARs map directly, partly or
// trap. The lens is informational (its command has no id: editors show the
// title and do nothing on click).

import { CodeLens } from 'vscode-languageserver';
import { toRange } from './convert';
import { DocState } from './documents';

export function getCodeLenses(s: DocState): CodeLens[] {
  if (!s.settings.codeLens) return [];
  const out: CodeLens[] = [];
  for (const ga of s.analysis.guests) {
    const n = { direct: 0, partial: 0, trapped: 0 };
    for (const p of ga.placements.values()) n[p.verdict]++;
    const total = n.direct + n.partial + n.trapped;
    const title =
      total === 0
        ? `${ga.guest.name}: no memory BARs assigned`
        : `${ga.guest.name}: ${n.direct} direct · ${n.partial} partial · ${n.trapped} trapped (${total} BAR${total === 1 ? '' : 's'}, allocate ${ga.guest.policy}, msix ${ga.guest.msix})`;
    const sel = ga.guest.node.stmt.words[0];
    const span = sel ? { start: sel.start, end: ga.guest.nameSpan.end } : ga.guest.nameSpan;
    out.push({ range: toRange(s.index, span), command: { title, command: '' } });
  }
  return out;
}
