// Folding ranges: every `{ … }` block that spans lines (the closing brace
// stays visible), and runs of two or more whole-line comments.

import { FoldingRange, FoldingRangeKind } from 'vscode-languageserver';
import { isBlank } from '../engine/lexer';
import { Stmt } from '../engine/tree';
import { DocState } from './documents';

/** Whether only blanks come before `off` on its line: scans back to the first non-blank (a slice tested from the line start is re-read for every brace of a long line). */
function startsLine(text: string, off: number): boolean {
  for (let i = off - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return true;
    if (!isBlank(c)) return false;
  }
  return true;
}

export function getFoldingRanges(s: DocState): { ranges: FoldingRange[]; truncated: boolean } {
  const idx = s.index;
  const limit = s.settings.maxItemsComputed;
  const out: FoldingRange[] = [];
  let truncated = false;
  const push = (r: FoldingRange): void => {
    if (out.length >= limit) truncated = true;
    else out.push(r);
  };

  // Blocks, iteratively (no recursion on deep input).
  const stack: Stmt[] = [...s.analysis.tree.stmts];
  while (stack.length > 0) {
    const st = stack.pop()!;
    const b = st.block;
    if (!b) continue;
    const startLine = idx.positionAt(st.start).line;
    const endOff = b.close !== undefined ? b.close : st.end;
    const closeLine = idx.positionAt(endOff).line;
    // Keep the `}` line visible when the brace starts its line.
    const braceAlone = b.close !== undefined && startsLine(s.text, b.close);
    const endLine = braceAlone ? closeLine - 1 : closeLine;
    if (endLine > startLine) push({ startLine, endLine });
    for (const c of b.stmts) stack.push(c);
  }

  // Comment runs: consecutive lines holding only a comment.
  let runStart = -1;
  let runEnd = -1;
  for (const c of s.analysis.tree.comments) {
    const line = idx.positionAt(c.start).line;
    const whole = startsLine(s.text, c.start);
    if (!whole) continue;
    if (runStart >= 0 && line === runEnd + 1) {
      runEnd = line;
      continue;
    }
    if (runStart >= 0 && runEnd > runStart) push({ startLine: runStart, endLine: runEnd, kind: FoldingRangeKind.Comment });
    runStart = runEnd = line;
  }
  if (runStart >= 0 && runEnd > runStart) push({ startLine: runStart, endLine: runEnd, kind: FoldingRangeKind.Comment });
  out.sort((a, b) => a.startLine - b.startLine);
  return { ranges: out, truncated };
}
