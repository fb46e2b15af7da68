// Generic statement tree: statements are runs of words/strings ended by a
// newline or `;`, optionally carrying one `{ … }` block. Built iteratively, so
// no input (however deeply nested) can overflow the stack, and it never throws.

import { Tok, Token, tokenize } from './lexer';
import { Span } from './types';

export interface Stmt {
  words: Token[];
  block?: Block;
  /** From the first word (or `{`) to the last word or the block's `}`. */
  start: number;
  end: number;
  /** Comment on the same line after the statement, if any. */
  trailingComment?: Token;
}

export interface Block {
  open: Token;
  close?: Token;
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
}

/** Keywords that only make sense at the top level: seeing one inside a block means a `}` is missing. */
const TOP_LEVEL = new Set(['host', 'device', 'guest']);

interface Frame {
  block: Block | null; // null = file level
  stmts: Stmt[];
  owner: Stmt | null;
  depth: number;
}

export function parseTree(text: string): Tree {
  const tokens = tokenize(text);
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
  const closeFrame = (closeTok: Token | undefined): void => {
    const f = stack.pop()!;
    if (f.block) {
      f.block.close = closeTok;
      f.block.stmts = f.stmts;
    }
    if (f.owner) {
      f.owner.end = closeTok ? closeTok.end : lastEndOf(f);
      lastEnded = f.owner;
    }
  };
  const lastEndOf = (f: Frame): number => {
    const last = f.stmts[f.stmts.length - 1];
    return last ? last.end : f.block!.open.end;
  };

  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    switch (t.kind) {
      case Tok.Newline:
      case Tok.Semi:
        if (cur) finish();
        lastEndedByNewline = t.kind === Tok.Newline || lastEndedByNewline;
        break;
      case Tok.Comment:
        comments.push(t);
        if (cur) cur.trailingComment = t;
        else if (lastEnded && !lastEndedByNewline) lastEnded.trailingComment = t;
        break;
      case Tok.Word:
      case Tok.String:
        if (!cur) {
          // A top-level keyword inside a block: the block's `}` is missing.
          if (t.kind === Tok.Word && top().depth > 0 && TOP_LEVEL.has(t.text) && looksLikeTopLevel(tokens, k)) {
            while (top().depth > 0) {
              const f = top();
              errors.push({
                span: { start: f.block!.open.start, end: f.block!.open.end },
                message: `this \`{\` is never closed: add \`}\` before line of \`${t.text}\``,
              });
              closeFrame(undefined);
            }
          }
          cur = { words: [], start: t.start, end: t.end };
          top().stmts.push(cur);
          lastEndedByNewline = false;
        }
        cur.words.push(t);
        cur.end = t.end;
        break;
      case Tok.LBrace: {
        let owner = cur;
        if (!owner) {
          // `{` on its own line after a blockless statement (Allman style).
          const f = top();
          const prev = f.stmts[f.stmts.length - 1];
          if (prev && !prev.block && prev === lastEnded && prev.words.length > 0) {
            owner = prev;
          } else {
            owner = { words: [], start: t.start, end: t.end };
            f.stmts.push(owner);
            errors.push({ span: { start: t.start, end: t.end }, message: 'a block `{` must follow a statement such as `device NAME at ADDR`' });
          }
        }
        const block: Block = { open: t, stmts: [] };
        owner.block = block;
        owner.end = t.end;
        stack.push({ block, stmts: [], owner, depth: top().depth + 1 });
        cur = null;
        lastEnded = null;
        lastEndedByNewline = false;
        break;
      }
      case Tok.RBrace:
        if (cur) finish();
        if (top().depth > 0) {
          closeFrame(t);
          lastEndedByNewline = false;
        } else {
          errors.push({ span: { start: t.start, end: t.end }, message: 'unmatched `}`: there is no open block to close' });
        }
        break;
    }
  }
  while (top().depth > 0) {
    const f = top();
    errors.push({
      span: { start: f.block!.open.start, end: f.block!.open.end },
      message: 'this `{` is never closed: add `}` at the end of the block',
    });
    closeFrame(undefined);
  }
  return { stmts: root.stmts, comments, errors };
}

/** `device NAME at …` / `guest NAME {` / `host … {`: a top-level statement opening a block on this line. */
function looksLikeTopLevel(tokens: Token[], k: number): boolean {
  for (let j = k + 1; j < tokens.length; j++) {
    const kind = tokens[j].kind;
    if (kind === Tok.LBrace) return true;
    if (kind === Tok.Newline || kind === Tok.Semi || kind === Tok.RBrace) return false;
  }
  return false;
}
