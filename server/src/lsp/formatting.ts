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
// - the file ends with one line break; its line-break style (LF or CRLF) is kept.
//
// Formatting is idempotent and only ever changes white space and `;`: the
// result is checked token by token against the input before it is offered.
// A file whose braces do not match is not formatted at all; a file with other
// syntax errors only has its indentation fixed.

import { FormattingOptions, Range, TextEdit as LspTextEdit } from 'vscode-languageserver';
import { Tok, tokenize, Token } from '../engine/lexer';
import { diffEdits, toLspEdits } from './convert';
import { DocState } from './documents';

const INDENT = '  ';

/** Characters the lexer treats as blanks besides space and tab; the full formatter would drop them. */
const ODD_BLANKS = /[\u000b\u000c\u00a0\ufeff]/;

export type FormatMode = 'full' | 'indent' | 'none';

export function formatMode(s: DocState): FormatMode {
  if (s.analysis.tree.errors.length > 0) return 'none';
  if (s.analysis.diagnostics.some((d) => d.rule === 'syntax')) return 'indent';
  if (ODD_BLANKS.test(s.text.startsWith('\ufeff') ? s.text.slice(1) : s.text)) return 'indent';
  return 'full';
}

export function formatText(text: string, mode: FormatMode): string {
  if (mode === 'none') return text;
  const bom = text.startsWith('\ufeff') ? '\ufeff' : '';
  const body = bom ? text.slice(1) : text;
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  const out = mode === 'full' ? formatFull(body) : formatIndent(body);
  if (out === undefined) return text;
  const result = bom + out.join(eol) + (out.length > 0 ? eol : '');
  return result;
}

/** Pretty-prints the token stream. Returns lines, or undefined if the check fails. */
function formatFull(text: string): string[] | undefined {
  const tokens = tokenize(text);
  const lines: string[] = [];
  let depth = 0;
  let cur = ''; // current line content, without indentation
  let curDepth = 0;
  let wordsAllowed = true; // false after `}` or a comment on the current line
  let newlines = 0; // line breaks since the last flushed line
  let afterOpen = false; // the last flushed line ended with `{`

  const flush = (): void => {
    if (cur === '') return;
    lines.push(INDENT.repeat(curDepth) + cur);
    afterOpen = cur.endsWith('{');
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

  for (const t of tokens) {
    switch (t.kind) {
      case Tok.Word:
      case Tok.String:
        if (!wordsAllowed) flush();
        append(t.text, ' ');
        break;
      case Tok.LBrace:
        if (!wordsAllowed) flush();
        append('{', ' ');
        flush();
        depth++;
        break;
      case Tok.RBrace:
        flush();
        depth = Math.max(0, depth - 1);
        append('}', ' ', true);
        wordsAllowed = false;
        break;
      case Tok.Semi:
        flush();
        break;
      case Tok.Comment: {
        const c = t.text.trimEnd();
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
  const result = lines;
  // Safety net: the formatted text must hold exactly the same tokens (`;` and line breaks aside).
  if (!sameTokens(tokens, tokenize(result.join('\n')))) return undefined;
  return result;
}

function significant(tokens: Token[]): string[] {
  return tokens.filter((t) => t.kind !== Tok.Newline && t.kind !== Tok.Semi).map((t) => `${t.kind}:${t.kind === Tok.Comment ? t.text.trimEnd() : t.text}`);
}

function sameTokens(a: Token[], b: Token[]): boolean {
  const x = significant(a);
  const y = significant(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Re-indents each line by the braces before it; nothing else changes (whitespace-only lines become empty). */
function formatIndent(text: string): string[] {
  const tokens = tokenize(text);
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
  const firstTokenSeen = new Set<number>();
  for (const t of tokens) {
    if (t.kind === Tok.Newline) continue;
    const l = lineOf(t.start);
    if (!firstTokenSeen.has(l)) {
      firstTokenSeen.add(l);
      if (t.kind === Tok.RBrace) startsWithClose[l] = true;
    }
    if (t.kind === Tok.LBrace) depth++;
    else if (t.kind === Tok.RBrace) depth = Math.max(0, depth - 1);
  }
  lineOf(text.length);
  for (let l = line + 1; l < rawLines.length; l++) depthAt[l] = depth;
  const out = rawLines.map((raw, l) => {
    const content = raw.replace(/^[ \t]+/, '');
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
  const edits = diffEdits(s.text, formatted);
  const lsp = toLspEdits(s.index, edits);
  if (!range) return lsp;
  // Range formatting: the line edits that touch the range.
  return lsp.filter((e) => e.range.end.line >= range.start.line && e.range.start.line <= range.end.line);
}
