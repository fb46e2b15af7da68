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

/** The folding ranges of a version (made once per version). */
export function getFoldingRanges(s: DocState): { ranges: FoldingRange[]; truncated: boolean } {
  return (s.derived.folding ??= foldingRanges(s));
}

/**
 * Blocks and comment runs, each in document order up to the limit, then merged: the ranges of a file of
 * 40,000 devices are its first ones, made without a pass over the rest.
 */
function foldingRanges(s: DocState): { ranges: FoldingRange[]; truncated: boolean } {
  const idx = s.index;
  const limit = s.settings.maxItemsComputed;
  let truncated = false;

  // Blocks, iteratively (no recursion on deep input), in document order: children are pushed last to first.
  const blocks: FoldingRange[] = [];
  const stack: Stmt[] = [];
  const tops = s.analysis.tree.stmts;
  for (let i = tops.length - 1; i >= 0; i--) stack.push(tops[i]);
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
    // A block opened on the line of the block around it (`device d … { sriov vfs 2 {`) gives no second range from that
    // line: ranges come in document order, so the outer one was the last made.
    if (endLine > startLine && (blocks.length === 0 || blocks[blocks.length - 1].startLine !== startLine)) {
      if (blocks.length >= limit) {
        truncated = true;
        break;
      }
      blocks.push({ startLine, endLine });
    }
    for (let i = b.stmts.length - 1; i >= 0; i--) stack.push(b.stmts[i]);
  }

  // Comment runs: consecutive lines holding only a comment.
  const runs: FoldingRange[] = [];
  let runStart = -1;
  let runEnd = -1;
  const endRun = (): void => {
    if (runStart < 0 || runEnd <= runStart) return;
    if (runs.length >= limit) truncated = true;
    else runs.push({ startLine: runStart, endLine: runEnd, kind: FoldingRangeKind.Comment });
  };
  for (const c of s.analysis.tree.comments) {
    if (runs.length >= limit) {
      truncated = true;
      break;
    }
    const line = idx.positionAt(c.start).line;
    const whole = startsLine(s.text, c.start);
    if (!whole) continue;
    if (runStart >= 0 && line === runEnd + 1) {
      runEnd = line;
      continue;
    }
    endRun();
    runStart = runEnd = line;
  }
  endRun();
  // Both lists are sorted by start line (a block's start comes before those of the blocks inside it).
  const ranges: FoldingRange[] = [];
  let bi = 0;
  let ri = 0;
  while (ranges.length < limit && (bi < blocks.length || ri < runs.length)) {
    ranges.push(ri >= runs.length || (bi < blocks.length && blocks[bi].startLine <= runs[ri].startLine) ? blocks[bi++] : runs[ri++]);
  }
  if (bi < blocks.length || ri < runs.length) truncated = true;
  return { ranges, truncated };
}
