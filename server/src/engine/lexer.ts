// Scanner over char codes. Tokens are word-like atoms; their meaning (number,
// size, name, PCI address) is decided by the parser from context, which keeps
// the lexer trivial and never lets it fail.

export const enum Tok {
  Word,
  String,
  LBrace,
  RBrace,
  Semi,
  Newline,
  Comment,
}

export interface Token {
  kind: Tok;
  start: number;
  end: number;
  /** Source text (for strings: the raw text including quotes). */
  text: string;
  /** Strings only: the unescaped value, and whether the closing quote was missing. */
  value?: string;
  unterminated?: boolean;
}

const CH_TAB = 9;
const CH_LF = 10;
const CH_VT = 11;
const CH_FF = 12;
const CH_CR = 13;
const CH_SPACE = 32;
const CH_QUOTE = 34;
const CH_HASH = 35;
const CH_SEMI = 59;
const CH_BACKSLASH = 92;
const CH_LBRACE = 123;
const CH_RBRACE = 125;
const CH_BOM = 0xfeff;
const CH_NBSP = 0xa0;

function isBlank(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB || c === CH_VT || c === CH_FF || c === CH_BOM || c === CH_NBSP;
}

function endsWord(c: number): boolean {
  return (
    c === CH_SPACE ||
    c === CH_TAB ||
    c === CH_LF ||
    c === CH_CR ||
    c === CH_SEMI ||
    c === CH_HASH ||
    c === CH_QUOTE ||
    c === CH_LBRACE ||
    c === CH_RBRACE ||
    c === CH_VT ||
    c === CH_FF ||
    c === CH_BOM ||
    c === CH_NBSP
  );
}

/** Splits `text[start, end)` into tokens. */
export function tokenize(text: string, start = 0, end = text.length): Token[] {
  const out: Token[] = [];
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (isBlank(c)) {
      i++;
      continue;
    }
    if (c === CH_LF) {
      out.push({ kind: Tok.Newline, start: i, end: i + 1, text: '\n' });
      i++;
      continue;
    }
    if (c === CH_CR) {
      const e = i + 1 < end && text.charCodeAt(i + 1) === CH_LF ? i + 2 : i + 1;
      out.push({ kind: Tok.Newline, start: i, end: e, text: '\n' });
      i = e;
      continue;
    }
    if (c === CH_HASH) {
      let j = i + 1;
      while (j < end) {
        const d = text.charCodeAt(j);
        if (d === CH_LF || d === CH_CR) break;
        j++;
      }
      out.push({ kind: Tok.Comment, start: i, end: j, text: text.slice(i, j) });
      i = j;
      continue;
    }
    if (c === CH_LBRACE) {
      out.push({ kind: Tok.LBrace, start: i, end: i + 1, text: '{' });
      i++;
      continue;
    }
    if (c === CH_RBRACE) {
      out.push({ kind: Tok.RBrace, start: i, end: i + 1, text: '}' });
      i++;
      continue;
    }
    if (c === CH_SEMI) {
      out.push({ kind: Tok.Semi, start: i, end: i + 1, text: ';' });
      i++;
      continue;
    }
    if (c === CH_QUOTE) {
      let j = i + 1;
      let value = '';
      let closed = false;
      let chunk = j;
      while (j < end) {
        const d = text.charCodeAt(j);
        if (d === CH_LF || d === CH_CR) break;
        if (d === CH_BACKSLASH && j + 1 < end) {
          const n = text.charCodeAt(j + 1);
          if (n === CH_QUOTE || n === CH_BACKSLASH) {
            value += text.slice(chunk, j) + String.fromCharCode(n);
            j += 2;
            chunk = j;
            continue;
          }
        }
        if (d === CH_QUOTE) {
          value += text.slice(chunk, j);
          closed = true;
          j++;
          break;
        }
        j++;
      }
      if (!closed) value += text.slice(chunk, j);
      out.push({ kind: Tok.String, start: i, end: j, text: text.slice(i, j), value, unterminated: !closed });
      i = j;
      continue;
    }
    let j = i + 1;
    while (j < end && !endsWord(text.charCodeAt(j))) j++;
    out.push({ kind: Tok.Word, start: i, end: j, text: text.slice(i, j) });
    i = j;
  }
  return out;
}
