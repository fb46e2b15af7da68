// Semantic tokens: what the TextMate grammar cannot know — which word is a
// device name (declared or referenced), a guest, a window, a region; plus
// keywords, BAR kinds, enum values, numbers, strings and comments, so that
// themes without the grammar still colour the file.

import { Range, SemanticTokens, SemanticTokensDelta, SemanticTokensEdit, SemanticTokensLegend } from 'vscode-languageserver';
import { Tok, Token } from '../engine/lexer';
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

/**
 * A word that is a number written in hex without `0x`, which may start with a letter: a device's PCI address
 * (`device a at ab:01.0`) and its `id` (`id abcd:ef01`). Numbers otherwise start with a digit.
 */
function hexWord(ctx: string, head: string, w: Token[], i: number): boolean {
  if (ctx === 'top' && head === 'device') return i >= 2 && w[i - 1].text === 'at' && /^[0-9a-f]+(?::[0-9a-f]+)*(?:\.[0-7])?$/i.test(w[i].text);
  return ctx === 'device' && head === 'id' && i === 1 && /^[0-9a-f]+:[0-9a-f]+$/i.test(w[i].text);
}

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
    else if (/^[0-9]/.test(t.text) || hexWord(ctx, head, w, i)) type = T('number');
    if (type >= 0) out.push({ start: t.start, length: t.end - t.start, type, mods });
  }
  return head;
}

/**
 * The tokens of one top-level statement (nested statements included), with
 * starts relative to the statement's start. A statement's tokens depend on its
 * own words only, and a re-parse keeps (and moves) the statements an edit did
 * not touch, so they are classified once per statement, not once per request.
 */
const tokensOfStatement = new WeakMap<Stmt, Raw[]>();

function statementTokens(top: Stmt): Raw[] {
  let out = tokensOfStatement.get(top);
  if (out) return out;
  out = [];
  const stack: { st: Stmt; ctx: string }[] = [{ st: top, ctx: 'top' }];
  while (stack.length > 0) {
    const { st, ctx } = stack.pop()!;
    const head = classify(st, ctx, out);
    const b = st.block;
    if (!b) continue;
    const inner = ctx === 'top' && (head === 'host' || head === 'device' || head === 'guest') ? head : ctx === 'device' && head === 'sriov' ? 'sriov' : ctx === 'guest' && head === 'assign' ? 'assign' : 'unknown';
    for (let i = b.stmts.length - 1; i >= 0; i--) stack.push({ st: b.stmts[i], ctx: inner });
  }
  const base = top.start;
  for (const r of out) r.start -= base;
  tokensOfStatement.set(top, out);
  return out;
}

export function getSemanticTokens(s: DocState, range?: Range): { tokens: SemanticTokens; truncated: boolean } {
  const from = range ? s.index.offsetAt(range.start) : 0;
  const to = range ? s.index.offsetAt(range.end) : s.text.length;
  const tree = s.analysis.tree;
  const limit = s.settings.maxItemsComputed * 10;
  const comments = tree.comments;
  // Statement tokens (cached per statement) and comments are both in document order: merge them
  // while encoding, walking the line starts along instead of a search per token.
  const starts = s.index.lineStarts;
  // One value per push: a five-argument push (and a preallocated large array) are slow paths in V8.
  const data: number[] = [];
  let line = 0;
  let prevLine = 0;
  let prevChar = 0;
  let last = -1;
  let count = 0;
  const emit = (start: number, length: number, type: number, mods: number): void => {
    // (A token before the previous one cannot be encoded: it would be dropped. Words and comments come in
    // document order by construction, so this does not happen.)
    if (start < from || start + length > to || length === 0 || start < last) return;
    last = start;
    count++;
    if (count > limit) return;
    while (line + 1 < starts.length && starts[line + 1] <= start) line++;
    const character = start - starts[line];
    const dl = line - prevLine;
    data.push(dl);
    data.push(dl === 0 ? character - prevChar : character);
    data.push(length);
    data.push(type);
    data.push(mods);
    prevLine = line;
    prevChar = character;
  };
  let ci = 0;
  while (ci < comments.length && comments[ci].end < from) ci++;
  for (const st of tree.stmts) {
    if (st.end < from) continue;
    if (st.start > to || count > limit) break; // past the range, or past the limit (nothing more is sent)
    const base = st.start;
    for (const r of statementTokens(st)) {
      const at = r.start + base;
      while (ci < comments.length && comments[ci].start <= at) {
        const c = comments[ci++];
        emit(c.start, c.end - c.start, COMMENT, 0);
      }
      emit(at, r.length, r.type, r.mods);
    }
  }
  for (; ci < comments.length && comments[ci].start <= to && count <= limit; ci++) emit(comments[ci].start, comments[ci].end - comments[ci].start, COMMENT, 0);
  return { tokens: { data }, truncated: count > limit };
}

/**
 * The edits that turn one token array into another: everything between their
 * common start and common end replaced (an edit changes the tokens of the
 * statements it touches; the arrays agree before and after).
 */
export function tokenEdits(before: readonly number[], after: readonly number[]): SemanticTokensEdit[] {
  const n = Math.min(before.length, after.length);
  let p = 0;
  while (p < n && before[p] === after[p]) p++;
  let q = 0;
  while (q < n - p && before[before.length - 1 - q] === after[after.length - 1 - q]) q++;
  if (p === before.length && p === after.length) return [];
  return [{ start: p, deleteCount: before.length - p - q, data: after.slice(p, after.length - q) }];
}

/**
 * The last full token array sent for each document, so that a delta request
 * (\`textDocument/semanticTokens/full/delta\`) is answered with the part that
 * changed: on a large file after a keystroke, a few numbers instead of
 * hundreds of thousands.
 */
export class SentTokens {
  private readonly last = new Map<string, { id: string; data: number[] }>();
  private counter = 0;

  /** A full result, remembered for the next delta request. */
  full(uri: string, tokens: SemanticTokens): SemanticTokens {
    const resultId = String(++this.counter);
    this.last.set(uri, { id: resultId, data: tokens.data });
    return { resultId, data: tokens.data };
  }

  /** Edits from the result the client has (`previousResultId`) to `tokens`, or the full result if that one is not the last sent. */
  delta(uri: string, previousResultId: string, tokens: SemanticTokens): SemanticTokens | SemanticTokensDelta {
    const prev = this.last.get(uri);
    const full = this.full(uri, tokens);
    if (!prev || prev.id !== previousResultId) return full;
    return { resultId: full.resultId, edits: tokenEdits(prev.data, tokens.data) };
  }

  forget(uri: string): void {
    this.last.delete(uri);
  }
}
