// A plain, comparable picture of a parse result, for tests that compare an
// incremental re-parse with a full parse.
import { ParseResult } from '../server/src/engine/parser';
import { Stmt } from '../server/src/engine/tree';

/** Keys of syntax nodes that hold caches of later stages, not parsed content (`model`: the device model.ts built from a device node). */
export function isCacheKey(k: string): boolean {
  return k === 'model';
}

/** A plain, comparable picture of a value: statements by offsets and words, values with their spans. */
export function picture(x: unknown, seen = new Set<unknown>()): unknown {
  if (typeof x === 'bigint') return `${x}n`;
  if (x === null || typeof x !== 'object') return x;
  if (x instanceof Stmt) {
    return {
      stmt: [x.start, x.wordsEnd, x.end],
      words: x.words.map((w) => [w.kind, w.start, w.end, w.text, w.value]),
      trailing: x.trailingComment ? [x.trailingComment.start, x.trailingComment.end, x.trailingComment.text] : null,
      block: x.block ? { open: x.block.open, close: x.block.close ?? null, stmts: x.block.stmts.map((s) => picture(s, seen)) } : null,
    };
  }
  if (seen.has(x)) throw new Error('cycle in the parse result');
  seen.add(x);
  let out: unknown;
  if (Array.isArray(x)) out = x.map((v) => picture(v, seen));
  else {
    const o: Record<string, unknown> = {};
    const keys = Object.keys(x).filter((k) => !isCacheKey(k) && (x as Record<string, unknown>)[k] !== undefined);
    // Values are their own spans: record start/end whichever way they are stored.
    const span = (x as { span?: { start: number; end: number } }).span;
    if (span && !keys.includes('span')) keys.push('span');
    for (const k of keys.sort()) o[k] = k === 'span' ? [span!.start, span!.end] : picture((x as Record<string, unknown>)[k], seen);
    out = o;
  }
  seen.delete(x);
  return out;
}

export const parsePicture = (p: ParseResult): unknown => ({ stmts: picture(p.tree.stmts), comments: picture(p.tree.comments), treeErrors: picture(p.tree.errors), file: picture(p.file), errors: picture(p.errors) });
