// Offset ↔ (line, character) conversion. Offsets and characters are UTF-16
// code units, as in JavaScript strings and LSP. Lines end at \n, \r\n or \r.

import { countAtMost } from './sorted';

export interface Position {
  line: number;
  character: number;
}

export class LineIndex {
  /**
   * Offset of the first character of each line. A typed array: a new version's index is
   * built from the previous one on every keystroke, and a typed array's store is reused
   * memory (a 20,000-line array built by `push` is new heap each time, which page-faults).
   */
  readonly lineStarts: Int32Array;

  constructor(
    readonly text: string,
    /** Line starts already known (see `edited`); scanned from the text when not given. */
    known?: Int32Array,
  ) {
    if (known) {
      this.lineStarts = known;
      return;
    }
    const starts = [0];
    if (text.indexOf('\r') < 0) {
      // Only \n line ends (the usual case): let the native search find them.
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    } else {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10) starts.push(i + 1);
        else if (c === 13) {
          if (text.charCodeAt(i + 1) === 10) i++;
          starts.push(i + 1);
        }
      }
    }
    this.lineStarts = Int32Array.from(starts);
  }

  /**
   * The index of `text`, made from `prev` (the index of an earlier version)
   * when the two texts differ only between `prefix` characters at the start and
   * `suffix` at the end (see `changedRegion`): line starts before the change are
   * kept, the changed region (and one character either side, for a `\r\n`
   * split by its edges) is scanned, and the starts after it are moved.
   */
  static edited(prev: LineIndex, text: string, prefix: number, suffix: number): LineIndex {
    const oldLen = prev.text.length;
    const delta = text.length - oldLen;
    const oldEnd = oldLen - suffix;
    const newEnd = text.length - suffix;
    const lo = Math.max(0, prefix - 1);
    const hi = Math.min(text.length, newEnd + 1);
    const S = prev.lineStarts;
    // Kept as they are: the starts up to `lo`.
    const before = countAtMost(S, lo);
    // Scanned: the starts in the changed region (a few).
    const mid: number[] = [];
    for (let k = lo; k < hi; k++) {
      const c = text.charCodeAt(k);
      if (c === 10) mid.push(k + 1);
      else if (c === 13) {
        if (text.charCodeAt(k + 1) === 10) k++;
        mid.push(k + 1);
      }
    }
    const last = mid.length > 0 ? mid[mid.length - 1] : before > 0 ? S[before - 1] : -1;
    // Moved: the starts after the region.
    let after = before;
    while (after < S.length && S[after] < oldEnd + 2) after++;
    while (after < S.length && S[after] + delta <= last) after++;
    const out = new Int32Array(before + mid.length + (S.length - after));
    out.set(S.subarray(0, before));
    out.set(mid, before);
    let o = before + mid.length;
    for (let i = after; i < S.length; i++) out[o++] = S[i] + delta;
    return new LineIndex(text, out);
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const line = this.lineOf(o);
    return { line, character: o - this.lineStarts[line] };
  }

  /** Whether `positionAt(offset)` is `pos`: answered from the two line starts around `pos`, without a search. */
  isAt(offset: number, pos: Position): boolean {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const starts = this.lineStarts;
    const line = pos.line;
    if (!(line >= 0 && line < starts.length)) return false;
    const start = starts[line];
    return start <= o && o - start === pos.character && (line + 1 === starts.length || o < starts[line + 1]);
  }

  /** The line an offset (already within the text) is on. */
  private lineOf(o: number): number {
    return Math.max(0, countAtMost(this.lineStarts, o) - 1);
  }

  offsetAt(pos: Position): number {
    if (pos.line < 0) return 0;
    if (pos.line >= this.lineStarts.length) return this.text.length;
    const start = this.lineStarts[pos.line];
    const next = pos.line + 1 < this.lineStarts.length ? this.lineStarts[pos.line + 1] : this.text.length;
    // Do not step into the line break.
    let end = next;
    while (end > start && (this.text.charCodeAt(end - 1) === 10 || this.text.charCodeAt(end - 1) === 13)) end--;
    return Math.min(start + Math.max(0, pos.character), end);
  }
}

/**
 * The line break that edits of `text` should use: the file's most common one
 * (`\r\n`, a lone `\r` as in old Mac files, or `\n`; `\n` on a tie or when the
 * text has none), so that a fix or formatting adds no second style to a file.
 */
export function lineBreakOf(text: string): '\n' | '\r\n' | '\r' {
  let lf = 0;
  let crlf = 0;
  let cr = 0;
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) {
    if (text.charCodeAt(i + 1) === 10) crlf++;
    else cr++;
  }
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lf++;
  lf -= crlf;
  if (crlf > lf && crlf >= cr) return '\r\n';
  if (cr > lf && cr > crlf) return '\r';
  return '\n';
}
