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
const KEYWORD = T('keyword');
const STRING = T('string');
const COMMENT = T('comment');
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

/** The type (and modifiers) of the second word of a statement, by block and statement keyword. */
const SECOND: Record<string, Record<string, [number, number]>> = {
  top: { device: [T('class'), DECL], guest: [T('struct'), DECL], host: [T('namespace'), DECL] },
  host: { window: [T('variable'), DECL], arch: [T('enumMember'), 0] },
  device: { region: [T('property'), DECL] },
  guest: { assign: [T('class'), 0] },
};

function classify(st: Stmt, ctx: string, out: Raw[]): string {
  const w = st.words;
  const first = w[0];
  if (!first) return '';
  const head = first.text;
  const second = SECOND[ctx]?.[head];
  for (let i = 0; i < w.length; i++) {
    const t = w[i];
    let type = -1;
    let mods = 0;
    if (t.kind === Tok.String) type = STRING;
    else if (i === 0) type = STATEMENTS[ctx]?.has(head) ? KEYWORD : -1;
    else if (i === 1 && second) {
      type = second[0];
      mods = second[1];
    } else if (KINDS.has(t.text) && head === 'bar') type = T('type');
    else if (ENUMS.has(t.text)) type = T('enumMember');
    else if (KEYWORDS.has(t.text)) type = KEYWORD;
    else if (/^[0-9]/.test(t.text)) type = T('number');
    if (type >= 0) out.push({ start: t.start, length: t.end - t.start, type, mods });
  }
  return head;
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
    const head = classify(st, ctx, raw);
    const b = st.block;
    if (!b) continue;
    const inner = ctx === 'top' && (head === 'host' || head === 'device' || head === 'guest') ? head : ctx === 'device' && head === 'sriov' ? 'sriov' : ctx === 'guest' && head === 'assign' ? 'assign' : 'unknown';
    for (let i = b.stmts.length - 1; i >= 0; i--) stack.push({ st: b.stmts[i], ctx: inner });
  }
  // The walk yields words in document order and the comments are in order too: merge them
  // (a sort only if something came out of order).
  const comments: Raw[] = [];
  for (const c of tree.comments) if (c.end >= from && c.start <= to) comments.push({ start: c.start, length: c.end - c.start, type: COMMENT, mods: 0 });
  let all = mergeByStart(raw, comments);
  for (let i = 1; i < all.length; i++) {
    if (all[i].start < all[i - 1].start) {
      all = all.sort((a, b) => a.start - b.start);
      break;
    }
  }
  const limit = s.settings.maxItemsComputed * 10;
  const truncated = all.length > limit;
  let prevLine = 0;
  let prevChar = 0;
  // Tokens come in order: walk the line starts along with them instead of a search per token.
  const starts = s.index.lineStarts;
  let line = 0;
  const n = truncated ? limit : all.length;
  // One value per push: a five-argument push (and a preallocated large array) are slow paths in V8.
  const data: number[] = [];
  for (let k = 0; k < n; k++) {
    const r = all[k];
    if (r.start < from || r.start + r.length > to || r.length === 0) continue;
    while (line + 1 < starts.length && starts[line + 1] <= r.start) line++;
    const character = r.start - starts[line];
    const dl = line - prevLine;
    data.push(dl);
    data.push(dl === 0 ? character - prevChar : character);
    data.push(r.length);
    data.push(r.type);
    data.push(r.mods);
    prevLine = line;
    prevChar = character;
  }
  return { tokens: { data }, truncated };
}

function mergeByStart(a: Raw[], b: Raw[]): Raw[] {
  if (b.length === 0) return a;
  const out: Raw[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i].start <= b[j].start ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}
