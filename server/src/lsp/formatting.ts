// Document formatting. The canonical layout of a .bartopo file:
//
// - one statement per line (a `;` between statements becomes a line break,
//   a `;` at the end of a line is dropped), indented two spaces per block level;
// - words separated by one space; `{` at the end of its statement's line after
//   one space (a `{` on a line of its own stays there, at its statement's
//   level); `}` on a line of its own;
// - whole-line comments stay on their own line at the level of the code around
//   them; a trailing comment stays on its line, two spaces after the code;
//   trailing white space is removed;
// - blank lines are kept, runs of them collapsed to one; blank lines at the
//   start and end of the file, right after `{` and right before `}` removed;
// - the file ends with one line break; its line-break style (LF, CRLF or a lone
//   CR) is kept (a file that mixes them gets its most common one).
//
// Formatting is idempotent and only ever changes white space and `;`: the
// result is checked token by token against the input before it is offered.
// A file whose braces do not match is not formatted at all; a file with other
// syntax errors only has its indentation fixed. A file over
// `bartopo.maxFileSizeMB` (not analysed) is not formatted, nor one whose
// layout would be several times its size (thousands of nested blocks: two
// spaces per level on every line).

import { FormattingOptions, Range, TextEdit as LspTextEdit } from 'vscode-languageserver';
import { lineBreakOf, TextEdit } from '../engine';
import { Scanner, Tok } from '../engine/lexer';
import { diffEdits, toLspEdits } from './convert';
import { DocState } from './documents';

const INDENT = '  ';

/** Characters the lexer treats as blanks besides space and tab; the full formatter would drop them. */
const ODD_BLANKS = /[\u000b\u000c\u00a0\ufeff]/;

/**
 * `full`: the canonical layout; `indent`: indentation only (a file with syntax errors); `blanks`: a file whose
 * only obstacle is an odd blank (vertical tab, form feed, NBSP) — indentation only, then the full layout when
 * that removed every odd blank (they sat on blank lines), so that formatting twice changes nothing more.
 */
export type FormatMode = 'full' | 'indent' | 'blanks' | 'none';

export function formatMode(s: DocState): FormatMode {
  if (s.analysis.diagnostics.some((d) => d.rule === 'file-too-large')) return 'none';
  if (s.analysis.tree.errors.length > 0) return 'none';
  if (s.analysis.diagnostics.some((d) => d.rule === 'syntax')) return 'indent';
  if (ODD_BLANKS.test(s.text.startsWith('\ufeff') ? s.text.slice(1) : s.text)) return 'blanks';
  return 'full';
}

export function formatText(text: string, mode: FormatMode): string {
  if (mode === 'none') return text;
  const bom = text.startsWith('\ufeff') ? '\ufeff' : '';
  const body = bom ? text.slice(1) : text;
  const eol = lineBreakOf(body);
  const limit = maxOutput(body.length);
  const out = mode === 'full' ? formatFull(body, limit) : formatIndent(body, limit);
  if (out === undefined) return text;
  const result = bom + out.join(eol) + (out.length > 0 ? eol : '');
  if (mode === 'blanks' && !ODD_BLANKS.test(result.slice(bom.length))) return formatText(result, 'full');
  return result;
}

/** Offsets of the tokens formatting keeps (all but line breaks and `;`; a comment without its trailing blanks): start, end, start, end, … */
function keptTokens(text: string): number[] {
  const out: number[] = [];
  const sc = new Scanner(text);
  while (sc.advance()) {
    if (sc.kind === Tok.Newline || sc.kind === Tok.Semi) continue;
    let end = sc.end;
    if (sc.kind === Tok.Comment) while (end > sc.start && /\s/.test(text[end - 1])) end--;
    out.push(sc.start, end);
  }
  return out;
}

/**
 * Range formatting: formatting changes only the gaps between tokens (white space and `;`), and keeps every
 * token, so the two texts have the same tokens and each gap can be taken over on its own (any subset of the
 * gaps leaves every statement as it was; a subset of a line diff's edits need not: it can drop or repeat a
 * line). The edits are the formatted gaps that touch the selected lines, cut at the selection's edges: a gap
 * that begins above the first selected line (blank lines, trailing blanks) gets only its new indentation of
 * that line, and one that runs past the last selected line only its part up to that line's end; lines outside
 * the selection are left as they are (a gap whose new text has no line break there, which would join a
 * selected line with one outside, is left whole).
 */
function rangeEdits(text: string, formatted: string, index: DocState['index'], range: Range): TextEdit[] {
  const a = keptTokens(text);
  const b = keptTokens(formatted);
  if (a.length !== b.length) return []; // cannot happen: formatting is checked token by token
  // A selection that ends at the start of a line (whole lines selected) does not take that line.
  const lastLine = range.end.character === 0 && range.end.line > range.start.line ? range.end.line - 1 : range.end.line;
  const from = index.offsetAt({ line: range.start.line, character: 0 });
  const to = index.offsetAt({ line: lastLine, character: Number.MAX_SAFE_INTEGER }); // before its line break
  const edits: TextEdit[] = [];
  const n = a.length / 2;
  for (let i = 0; i <= n; i++) {
    let start = i === 0 ? 0 : a[2 * i - 1];
    let end = i === n ? text.length : a[2 * i];
    let newText = formatted.slice(i === 0 ? 0 : b[2 * i - 1], i === n ? formatted.length : b[2 * i]);
    if (end < from || start > to || text.slice(start, end) === newText) continue;
    if (start < from) {
      const k = Math.max(newText.lastIndexOf('\n'), newText.lastIndexOf('\r'));
      if (k < 0) continue;
      newText = newText.slice(k + 1);
      start = from;
    }
    if (end > to) {
      const k = newText.search(/[\r\n]/);
      if (k < 0) continue;
      newText = newText.slice(0, k);
      end = to;
    }
    if (start > end || text.slice(start, end) === newText) continue;
    edits.push({ span: { start, end }, newText });
  }
  return edits;
}

/** The longest layout offered for a text of `n` characters (a longer one is only made by absurd nesting). */
function maxOutput(n: number): number {
  return 4 * n + (1 << 20);
}

/** Pretty-prints the token stream. Returns lines, or undefined if the check fails or the result would exceed `limit` characters. */
function formatFull(text: string, limit: number): string[] | undefined {
  const lines: string[] = [];
  let size = 0;
  let depth = 0;
  let cur = ''; // current line content, without indentation
  let curDepth = 0;
  let wordsAllowed = true; // false after `{`, `}`, `;` or a comment on the current line: the next word starts a line
  let opens = false; // the current line ends its code with `{` (a comment may follow it)
  let newlines = 0; // line breaks since the last flushed line
  let afterOpen = false; // the last flushed line opened a block

  const flush = (): void => {
    if (cur === '') return;
    size += 2 * curDepth + cur.length + 1;
    if (size > limit) return; // given up below
    lines.push(INDENT.repeat(curDepth) + cur);
    afterOpen = opens;
    opens = false;
    cur = '';
    wordsAllowed = true;
    newlines = 0;
  };
  const startLine = (closing: boolean): void => {
    // One blank line for a run of them, except at the start, after `{` and before `}`.
    if (newlines >= 2 && lines.length > 0 && !afterOpen && !closing) lines.push('');
    newlines = 0;
    curDepth = depth;
  };
  const append = (t: string, sep: string, closing = false): void => {
    if (cur === '') {
      startLine(closing);
      cur = t;
    } else cur += sep + t;
  };

  const sc = new Scanner(text);
  while (sc.advance()) {
    if (size > limit) return undefined;
    switch (sc.kind) {
      case Tok.Word:
      case Tok.String:
        if (!wordsAllowed) flush();
        append(text.slice(sc.start, sc.end), ' ');
        break;
      case Tok.LBrace:
        if (!wordsAllowed) flush();
        append('{', ' ');
        // The line ends here, but a comment after the `{` stays on it: what follows starts the next line.
        opens = true;
        wordsAllowed = false;
        depth++;
        break;
      case Tok.RBrace:
        flush();
        depth = Math.max(0, depth - 1);
        append('}', ' ', true);
        wordsAllowed = false;
        break;
      case Tok.Semi:
        // Ends the statement (the `;` is dropped); a comment after it stays on its line.
        if (cur !== '') wordsAllowed = false;
        break;
      case Tok.Comment: {
        const c = text.slice(sc.start, sc.end).trimEnd();
        if (cur === '') append(c, '');
        else cur += '  ' + c;
        wordsAllowed = false;
        break;
      }
      case Tok.Newline:
        flush();
        newlines++;
        break;
    }
  }
  flush();
  if (size > limit) return undefined;
  // Safety net: the formatted text must hold exactly the same tokens (`;` and line breaks aside).
  if (!sameTokens(text, lines.join('\n'))) return undefined;
  return lines;
}

/** Moves `sc` to its next token that is not a line break or `;`; false at the end. */
function nextSignificant(sc: Scanner): boolean {
  while (sc.advance()) if (sc.kind !== Tok.Newline && sc.kind !== Tok.Semi) return true;
  return false;
}

/** Whether two texts hold the same tokens (line breaks and `;` aside; comments compared without trailing blanks), read side by side. */
function sameTokens(a: string, b: string): boolean {
  const x = new Scanner(a);
  const y = new Scanner(b);
  for (;;) {
    const more = nextSignificant(x);
    if (more !== nextSignificant(y)) return false;
    if (!more) return true;
    if (x.kind !== y.kind) return false;
    let s = a.slice(x.start, x.end);
    let t = b.slice(y.start, y.end);
    if (x.kind === Tok.Comment) {
      s = s.trimEnd();
      t = t.trimEnd();
    }
    if (s !== t) return false;
  }
}

/** Re-indents each line by the braces before it; nothing else changes (whitespace-only lines become empty). Undefined past `limit` characters. */
function formatIndent(text: string, limit: number): string[] | undefined {
  const rawLines = text.split(/\r\n|\r|\n/);
  // Brace depth at the start of each line and whether the line starts with `}`.
  const lineStarts: number[] = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) lineStarts.push(i + 1);
  }
  const depthAt: number[] = new Array(rawLines.length).fill(0);
  const startsWithClose: boolean[] = new Array(rawLines.length).fill(false);
  let depth = 0;
  let line = 0;
  const lineOf = (off: number): number => {
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= off) {
      line++;
      depthAt[line] = depth;
    }
    return line;
  };
  let lastSeen = -1; // the last line whose first token was seen
  const sc = new Scanner(text);
  while (sc.advance()) {
    const kind = sc.kind;
    if (kind === Tok.Newline) continue;
    const l = lineOf(sc.start);
    if (l !== lastSeen) {
      lastSeen = l;
      if (kind === Tok.RBrace) startsWithClose[l] = true;
    }
    if (kind === Tok.LBrace) depth++;
    else if (kind === Tok.RBrace) depth = Math.max(0, depth - 1);
  }
  lineOf(text.length);
  for (let l = line + 1; l < rawLines.length; l++) depthAt[l] = depth;
  let size = 0;
  for (let l = 0; l < rawLines.length; l++) size += 2 * depthAt[l] + rawLines[l].length + 1;
  if (size > limit) return undefined;
  const out = rawLines.map((raw, l) => {
    // Every blank the lexer skips, odd ones too: a U+FEFF left first in the file would become a byte order mark.
    const content = raw.replace(/^[ \t\u000b\u000c\u00a0\ufeff]+/, '');
    if (content.trim() === '') return '';
    const d = Math.max(0, depthAt[l] - (startsWithClose[l] ? 1 : 0));
    return INDENT.repeat(d) + content;
  });
  // The final line break is re-added by the caller.
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

export function getFormattingEdits(s: DocState, _options: FormattingOptions, range?: Range): LspTextEdit[] {
  const formatted = formatText(s.text, formatMode(s));
  if (formatted === s.text) return [];
  if (range) return toLspEdits(s.index, rangeEdits(s.text, formatted, s.index, range));
  return toLspEdits(s.index, diffEdits(s.text, formatted));
}
