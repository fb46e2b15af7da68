// Semantic tokens: what the TextMate grammar cannot know — which word is a
// device name (declared or referenced), a guest, a window, a region; plus
// keywords, BAR kinds, enum values, numbers, strings and comments, so that
// themes without the grammar still colour the file.

import { Range, SemanticTokens, SemanticTokensLegend } from 'vscode-languageserver';
import { Tok } from '../engine/lexer';
import { Stmt } from '../engine/tree';
import { DocState } from './documents';

export const TOKEN_TYPES = ['keyword', 'type', 'number', 'string', 'comment', 'class', 'struct', 'namespace', 'property', 'enumMember', 'variable'] as const;
export const TOKEN_MODIFIERS = ['declaration', 'readonly'] as const;
export const LEGEND: SemanticTokensLegend = { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] };

type TokenType = (typeof TOKEN_TYPES)[number];
const T = (t: TokenType): number => TOKEN_TYPES.indexOf(t);
const DECL = 1;

const STATEMENTS: Record<string, Set<string>> = {
  top: new Set(['host', 'device', 'guest']),
  host: new Set(['page-size', 'arch', 'msix-mappable', 'window']),
  device: new Set(['group', 'name', 'id', 'bar', 'msix', 'region', 'rom', 'sriov']),
  sriov: new Set(['bar']),
  guest: new Set(['window', 'allocate', 'msix', 'assign']),
  assign: new Set(['bar']),
};
const KEYWORDS = new Set(['at', 'size', 'table', 'bar', 'offset', 'pba', 'entries', 'vfs', 'prefetch', 'hot']);
const KINDS = new Set(['mem32', 'mem64', 'io']);
const ENUMS = new Set(['listed', 'size-descending', 'page-match', 'emulate', 'paravirt', 'relocate', 'yes', 'no']);

interface Raw {
  start: number;
  length: number;
  type: number;
  mods: number;
}

function classify(st: Stmt, ctx: string, out: Raw[]): void {
  const w = st.words;
  const first = w[0];
  if (!first) return;
  const head = first.text;
  for (let i = 0; i < w.length; i++) {
    const t = w[i];
    let type = -1;
    let mods = 0;
    if (t.kind === Tok.String) type = T('string');
    else if (i === 0) type = STATEMENTS[ctx]?.has(head) ? T('keyword') : -1;
    else if (i === 1 && ctx === 'top' && head === 'device') [type, mods] = [T('class'), DECL];
    else if (i === 1 && ctx === 'top' && head === 'guest') [type, mods] = [T('struct'), DECL];
    else if (i === 1 && ctx === 'top' && head === 'host') [type, mods] = [T('namespace'), DECL];
    else if (i === 1 && ctx === 'host' && head === 'window') [type, mods] = [T('variable'), DECL];
    else if (i === 1 && ctx === 'device' && head === 'region') [type, mods] = [T('property'), DECL];
    else if (i === 1 && ctx === 'guest' && head === 'assign') type = T('class');
    else if (i === 1 && ctx === 'host' && head === 'arch') type = T('enumMember');
    else if (KINDS.has(t.text) && head === 'bar') type = T('type');
    else if (ENUMS.has(t.text)) type = T('enumMember');
    else if (KEYWORDS.has(t.text)) type = T('keyword');
    else if (/^[0-9]/.test(t.text)) type = T('number');
    if (type >= 0) out.push({ start: t.start, length: t.end - t.start, type, mods });
  }
}

export function getSemanticTokens(s: DocState, range?: Range): { tokens: SemanticTokens; truncated: boolean } {
  const from = range ? s.index.offsetAt(range.start) : 0;
  const to = range ? s.index.offsetAt(range.end) : s.text.length;
  const raw: Raw[] = [];
  // Iterative walk with the block context of each statement.
  const stack: { st: Stmt; ctx: string }[] = [];
  const tree = s.analysis.tree;
  for (let i = tree.stmts.length - 1; i >= 0; i--) stack.push({ st: tree.stmts[i], ctx: 'top' });
  while (stack.length > 0) {
    const { st, ctx } = stack.pop()!;
    if (st.end < from || st.start > to) continue;
    classify(st, ctx, raw);
    const b = st.block;
    if (!b) continue;
    const head = st.words[0]?.text ?? '';
    const inner = ctx === 'top' && (head === 'host' || head === 'device' || head === 'guest') ? head : ctx === 'device' && head === 'sriov' ? 'sriov' : ctx === 'guest' && head === 'assign' ? 'assign' : 'unknown';
    for (let i = b.stmts.length - 1; i >= 0; i--) stack.push({ st: b.stmts[i], ctx: inner });
  }
  for (const c of tree.comments) if (c.end >= from && c.start <= to) raw.push({ start: c.start, length: c.end - c.start, type: T('comment'), mods: 0 });
  raw.sort((a, b) => a.start - b.start);
  const limit = s.settings.maxItemsComputed * 10;
  const truncated = raw.length > limit;
  const data: number[] = [];
  let prevLine = 0;
  let prevChar = 0;
  for (const r of truncated ? raw.slice(0, limit) : raw) {
    if (r.start < from || r.start + r.length > to || r.length === 0) continue;
    const p = s.index.positionAt(r.start);
    const dl = p.line - prevLine;
    data.push(dl, dl === 0 ? p.character - prevChar : p.character, r.length, r.type, r.mods);
    prevLine = p.line;
    prevChar = p.character;
  }
  return { tokens: { data }, truncated };
}
