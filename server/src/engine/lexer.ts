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

/** The blanks between tokens (a line break is a token). */
export function isBlank(c: number): boolean {
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

/**
 * Pull scanner: each `advance()` moves to the next token and exposes its kind
 * and range (and, for strings, the unescaped value) without allocating.
 */
export class Scanner {
  kind: Tok = Tok.Newline;
  start = 0;
  end = 0;
  value = '';
  unterminated = false;
  private pos: number;

  constructor(
    readonly text: string,
    from = 0,
    private readonly limit = text.length,
  ) {
    this.pos = from;
  }

  /** Moves to the next token; false at the end of the input. */
  advance(): boolean {
    const text = this.text;
    const end = this.limit;
    let i = this.pos;
    while (i < end && isBlank(text.charCodeAt(i))) i++;
    if (i >= end) {
      this.pos = i;
      return false;
    }
    const c = text.charCodeAt(i);
    this.start = i;
    if (c === CH_LF) {
      this.kind = Tok.Newline;
      i++;
    } else if (c === CH_CR) {
      this.kind = Tok.Newline;
      i = i + 1 < end && text.charCodeAt(i + 1) === CH_LF ? i + 2 : i + 1;
    } else if (c === CH_HASH) {
      this.kind = Tok.Comment;
      i++;
      while (i < end) {
        const d = text.charCodeAt(i);
        if (d === CH_LF || d === CH_CR) break;
        i++;
      }
    } else if (c === CH_LBRACE) {
      this.kind = Tok.LBrace;
      i++;
    } else if (c === CH_RBRACE) {
      this.kind = Tok.RBrace;
      i++;
    } else if (c === CH_SEMI) {
      this.kind = Tok.Semi;
      i++;
    } else if (c === CH_QUOTE) {
      this.kind = Tok.String;
      i++;
      let value = '';
      let closed = false;
      let chunk = i;
      while (i < end) {
        const d = text.charCodeAt(i);
        if (d === CH_LF || d === CH_CR) break;
        if (d === CH_BACKSLASH && i + 1 < end) {
          const n = text.charCodeAt(i + 1);
          if (n === CH_QUOTE || n === CH_BACKSLASH) {
            value += text.slice(chunk, i) + String.fromCharCode(n);
            i += 2;
            chunk = i;
            continue;
          }
        }
        if (d === CH_QUOTE) {
          value += text.slice(chunk, i);
          closed = true;
          i++;
          break;
        }
        i++;
      }
      if (!closed) value += text.slice(chunk, i);
      this.value = value;
      this.unterminated = !closed;
    } else {
      this.kind = Tok.Word;
      i++;
      while (i < end && !endsWord(text.charCodeAt(i))) i++;
    }
    this.end = i;
    this.pos = i;
    return true;
  }

  /** The current token as an object. */
  token(): Token {
    const t: Token = { kind: this.kind, start: this.start, end: this.end, text: this.kind === Tok.Newline ? '\n' : this.text.slice(this.start, this.end) };
    if (this.kind === Tok.String) {
      t.value = this.value;
      t.unterminated = this.unterminated;
    }
    return t;
  }
}

/** Splits `text[start, end)` into tokens. */
export function tokenize(text: string, start = 0, end = text.length): Token[] {
  const out: Token[] = [];
  const sc = new Scanner(text, start, end);
  while (sc.advance()) out.push(sc.token());
  return out;
}
