// Generic statement tree: statements are runs of words/strings ended by a
// newline or `;`, optionally carrying one `{ … }` block. Built iteratively, so
// no input (however deeply nested) can overflow the stack, and it never throws.

import { fitted } from './fitted';
import { Scanner, Tok, Token, tokenize } from './lexer';
import { Span } from './types';
import { detach } from './values';

/**
 * The text a tree's offsets refer to, shared by all its statements: an
 * incremental re-parse points the whole reused tree at the new text by
 * changing this one field.
 */
export interface Source {
  text: string;
}

/**
 * One statement. Its words are not kept: they are scanned again from the source
 * when asked for (`words`), so a big file's tree is one small object per
 * statement instead of one object and one string per word.
 */
export class Stmt {
  block?: Block;
  /** Comment on the same line after the statement, if any. */
  trailingComment?: Token;

  constructor(
    /** Where the offsets point: the tree's shared source. */
    readonly source: Source,
    /** From the first word (or `{`) to the last word or the block's `}`. */
    public start: number,
    public end: number,
    /** End of the last word (`start` when the statement has no words: a stray `{`). */
    public wordsEnd: number,
  ) {}

  /** The words and strings before the block, scanned afresh on each call: read it once into a local. */
  get words(): Token[] {
    return this.wordsEnd > this.start ? tokenize(this.source.text, this.start, this.wordsEnd) : [];
  }

  hasWords(): boolean {
    return this.wordsEnd > this.start;
  }

  /** The first word's text ('' for none); scans only that word. */
  head(): string {
    if (this.wordsEnd <= this.start) return '';
    const text = this.source.text;
    const sc = new Scanner(text, this.start, this.wordsEnd);
    sc.advance();
    return sc.kind === Tok.Word ? text.slice(sc.start, sc.end) : '';
  }
}

/** A `{ … }` block. Braces are one character, so the block keeps their offsets, not token objects (one object less per block). */
export interface Block {
  /** Offset of the `{`. */
  open: number;
  /** Offset of the `}`; undefined when the block is never closed. */
  close?: number;
  stmts: Stmt[];
}

export interface TreeError {
  span: Span;
  message: string;
}

export interface Tree {
  stmts: Stmt[];
  comments: Token[];
  errors: TreeError[];
  source: Source;
}

/** Keywords that only make sense at the top level (`host`, `device`, `guest`): seeing one inside a block means a `}` is missing. Compared in place, without slicing the word. */
function isTopLevelKeyword(text: string, start: number, end: number): boolean {
  const n = end - start;
  if (n === 4) return text.startsWith('host', start);
  if (n === 5) return text.startsWith('guest', start);
  if (n === 6) return text.startsWith('device', start);
  return false;
}

interface Frame {
  block: Block | null; // null = file level
  stmts: Stmt[];
  owner: Stmt | null;
  depth: number;
}

/** The tree of `text`, or of `text[from, to)` (with offsets into the whole text); its statements read their words through `source`. */
export function parseTree(text: string, from = 0, to = text.length, source: Source = { text }): Tree {
  const sc = new Scanner(text, from, to);
  const comments: Token[] = [];
  const errors: TreeError[] = [];
  const root: Frame = { block: null, stmts: [], owner: null, depth: 0 };
  const stack: Frame[] = [root];
  let cur = null as Stmt | null;
  // Statement that just had its block closed; a `{` right after a newline may attach to a blockless statement.
  let lastEnded = null as Stmt | null;
  let lastEndedByNewline = false;

  const top = (): Frame => stack[stack.length - 1];
  const finish = (): void => {
    if (cur) {
      lastEnded = cur;
      cur = null;
    }
  };
  /** Closes the innermost block at the `}` at offset `close` (undefined: the block is never closed). */
  const closeFrame = (close: number | undefined): void => {
    const f = stack.pop()!;
    if (f.block) {
      f.block.close = close;
      f.block.stmts = fitted(f.stmts);
    }
    if (f.owner) {
      f.owner.end = close !== undefined ? close + 1 : lastEndOf(f);
      lastEnded = f.owner;
    }
  };
  const lastEndOf = (f: Frame): number => {
    const last = f.stmts[f.stmts.length - 1];
    return last ? last.end : f.block!.open + 1;
  };

  while (sc.advance()) {
    const kind = sc.kind;
    // Newlines and `;` only end statements: no token object for them.
    if (kind === Tok.Newline || kind === Tok.Semi) {
      if (cur) finish();
      lastEndedByNewline = kind === Tok.Newline || lastEndedByNewline;
      continue;
    }
    switch (kind) {
      case Tok.Comment: {
        const t = sc.token();
        // Kept across versions by incremental re-parses: its text must not be a view into this version's text.
        t.text = detach(t.text);
        comments.push(t);
        if (cur) cur.trailingComment = t;
        else if (lastEnded && !lastEndedByNewline) lastEnded.trailingComment = t;
        break;
      }
      case Tok.Word:
      case Tok.String:
        // Words are not kept (Stmt.words scans them again): only the statement's extent grows.
        if (!cur) {
          // A top-level keyword inside a block: the block's `}` is missing.
          if (kind === Tok.Word && top().depth > 0 && isTopLevelKeyword(text, sc.start, sc.end) && opensBlockOnThisLine(text, sc.end)) {
            const word = text.slice(sc.start, sc.end);
            while (top().depth > 0) {
              const f = top();
              errors.push({
                span: { start: f.block!.open, end: f.block!.open + 1 },
                message: `this \`{\` is never closed: add \`}\` before the \`${word}\` statement that follows`,
              });
              closeFrame(undefined);
            }
          }
          cur = new Stmt(source, sc.start, sc.end, sc.end);
          top().stmts.push(cur);
          lastEndedByNewline = false;
        }
        cur.end = sc.end;
        cur.wordsEnd = sc.end;
        break;
      case Tok.LBrace: {
        const at = sc.start; // a brace is one character
        let owner = cur;
        if (!owner) {
          // `{` on its own line after a blockless statement (Allman style).
          const f = top();
          const prev = f.stmts[f.stmts.length - 1];
          if (prev && !prev.block && prev === lastEnded && prev.hasWords()) {
            owner = prev;
          } else {
            owner = new Stmt(source, at, at + 1, at);
            f.stmts.push(owner);
            errors.push({ span: { start: at, end: at + 1 }, message: 'a block `{` must follow a statement such as `device NAME at ADDR`' });
          }
        }
        const block: Block = { open: at, close: undefined, stmts: [] };
        owner.block = block;
        owner.end = at + 1;
        stack.push({ block, stmts: [], owner, depth: top().depth + 1 });
        cur = null;
        lastEnded = null;
        lastEndedByNewline = false;
        break;
      }
      case Tok.RBrace: {
        const at = sc.start;
        if (cur) finish();
        if (top().depth > 0) {
          closeFrame(at);
          lastEndedByNewline = false;
        } else {
          errors.push({ span: { start: at, end: at + 1 }, message: 'unmatched `}`: there is no open block to close' });
        }
        break;
      }
    }
  }
  while (top().depth > 0) {
    const f = top();
    errors.push({
      span: { start: f.block!.open, end: f.block!.open + 1 },
      message: 'this `{` is never closed: add `}` at the end of the block',
    });
    closeFrame(undefined);
  }
  return { stmts: root.stmts, comments, errors, source };
}

/** `device NAME at … {`: does a `{` follow on this line (outside strings and comments)? Lines end at \n, \r\n or a lone \r, as everywhere else. */
function opensBlockOnThisLine(text: string, from: number): boolean {
  const sc = new Scanner(text, from);
  while (sc.advance()) {
    if (sc.kind === Tok.LBrace) return true;
    if (sc.kind === Tok.Newline || sc.kind === Tok.Semi || sc.kind === Tok.RBrace || sc.kind === Tok.Comment) return false;
  }
  return false;
}
