// Applying text edits (a fix may edit thousands of places, in one statement or all over the file).

import { TextEdit } from './types';

/**
 * The text with non-overlapping edits applied, in one pass (a fix may edit
 * thousands of guest blocks). Edits at the same place go in reverse order of
 * the list, as if applied one by one from the last.
 */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const order = edits.map((e, i) => ({ e, i })).sort((x, y) => x.e.span.start - y.e.span.start || x.e.span.end - y.e.span.end || y.i - x.i);
  const parts: string[] = [];
  let at = 0;
  for (const { e } of order) {
    parts.push(text.slice(at, e.span.start), e.newText);
    at = Math.max(at, e.span.end);
  }
  parts.push(text.slice(at));
  return parts.join('');
}

