// Engine → LSP types: spans to ranges, engine diagnostics to LSP diagnostics,
// engine edits to LSP text edits, and a line diff that turns "old text → new
// text" into small edits (so that applying a fix or formatting moves no
// unrelated line, comment or marker).

import {
  Diagnostic as LspDiagnostic,
  DiagnosticSeverity,
  Position,
  Range,
  TextEdit as LspTextEdit,
} from 'vscode-languageserver';
import { Diagnostic, LineIndex, Severity, Span, TextEdit } from '../engine';
import { DiagnosticData, OMITTED_CODE, RULES_DOC_URL, SOURCE } from '../protocol';
import { encodeOnce } from './jsonEncoder';

export function toRange(index: LineIndex, span: Span): Range {
  return { start: index.positionAt(span.start), end: index.positionAt(span.end) };
}

export function toSpan(index: LineIndex, range: Range): Span {
  return { start: index.offsetAt(range.start), end: index.offsetAt(range.end) };
}

export function toSeverity(s: Severity): DiagnosticSeverity {
  return s === 'error' ? DiagnosticSeverity.Error : s === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information;
}

export function ruleUrl(rule: string): string {
  return `${RULES_DOC_URL}#${rule}`;
}

export function toLspDiagnostic(index: LineIndex, uri: string, version: number, d: Diagnostic): LspDiagnostic {
  const data: DiagnosticData = { rule: d.rule, version };
  if (d.target) data.target = d.target;
  if (d.subject !== undefined) data.subject = d.subject;
  const out: LspDiagnostic = {
    range: toRange(index, d.span),
    severity: toSeverity(d.severity),
    code: d.rule,
    codeDescription: { href: ruleUrl(d.rule) },
    source: SOURCE,
    message: d.message,
    data,
  };
  if (d.related.length > 0) {
    out.relatedInformation = d.related.map((r) => ({ location: { uri, range: toRange(index, r.span) }, message: r.message }));
  }
  return out;
}

/** Whether a span converts to exactly this range in `index`. */
function spanIsAt(index: LineIndex, span: Span, range: Range): boolean {
  return index.isAt(span.start, range.start) && index.isAt(span.end, range.end);
}

/**
 * Whether `lsp`, made from engine diagnostic `d` in an earlier version, is still
 * what `d` converts to: engine diagnostics never change after they are made
 * except that their spans move with edits, so the ranges are what to check.
 */
function stillShows(index: LineIndex, d: Diagnostic, lsp: LspDiagnostic): boolean {
  if (!spanIsAt(index, d.span, lsp.range)) return false;
  const rel = lsp.relatedInformation;
  if (d.related.length !== (rel?.length ?? 0)) return false;
  for (let k = 0; k < d.related.length; k++) if (!spanIsAt(index, d.related[k].span, rel![k].location.range)) return false;
  return true;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export interface ConvertedDiagnostics {
  diagnostics: LspDiagnostic[];
  omitted: number;
  /**
   * The LSP diagnostic each engine diagnostic became. The next version's
   * conversion takes over those whose engine diagnostic it still has (an
   * incremental analysis keeps the findings of everything an edit did not
   * touch) and whose ranges did not move: same object, so its JSON is encoded
   * once (`encodeOnce`) and comparing it with what was shown is one check.
   */
  made: Map<Diagnostic, LspDiagnostic>;
}

/**
 * The diagnostics a cap of `max` keeps: errors first, then warnings, then
 * infos, each in file order, and those kept in file order. Counted, not sorted.
 */
function capped(diags: readonly Diagnostic[], max: number): readonly Diagnostic[] {
  if (diags.length <= max) return diags;
  const count = [0, 0, 0];
  for (const d of diags) count[SEVERITY_RANK[d.severity]]++;
  // Ranks below `cut` are kept whole; of rank `cut`, the first `room` in file order.
  let cut = 0;
  let room = max;
  while (cut < 2 && count[cut] <= room) room -= count[cut++];
  const out: Diagnostic[] = [];
  for (const d of diags) {
    const r = SEVERITY_RANK[d.severity];
    if (r < cut) out.push(d);
    else if (r === cut && room > 0) {
      out.push(d);
      room--;
    }
  }
  return out;
}

/**
 * All diagnostics of a document, capped at `max`: errors are kept first, then
 * warnings, then infos (each in file order), and one final info diagnostic at
 * the top of the file says how many were left out. With the previous version's
 * conversion, the LSP diagnostics that still hold are taken over as they are.
 */
export function toLspDiagnostics(index: LineIndex, uri: string, version: number, diags: readonly Diagnostic[], max: number, previous?: ConvertedDiagnostics): ConvertedDiagnostics {
  const kept = capped(diags, Math.max(0, max));
  const omitted = diags.length - kept.length;
  const made = new Map<Diagnostic, LspDiagnostic>();
  const out: LspDiagnostic[] = [];
  for (const d of kept) {
    const old = previous?.made.get(d);
    const lsp = old && stillShows(index, d, old) ? old : encodeOnce(toLspDiagnostic(index, uri, version, d));
    made.set(d, lsp);
    out.push(lsp);
  }
  if (omitted > 0) {
    out.push({
      // At the start of the file, empty: a range that depends on nothing in the text stays right when an edit
      // leaves the engine's diagnostics as they were (and the list shown is kept, see sameAfterEdit).
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: DiagnosticSeverity.Information,
      code: OMITTED_CODE,
      codeDescription: { href: RULES_DOC_URL },
      source: SOURCE,
      message: `${omitted} more diagnostic${omitted === 1 ? ' was' : 's were'} left out: only the first ${max} are shown (setting bartopo.maxDiagnostics; errors are kept first). Run \`bartopo check\` for the full list.`,
    });
  }
  return { diagnostics: out, omitted, made };
}

export function toLspEdits(index: LineIndex, edits: readonly TextEdit[]): LspTextEdit[] {
  return edits.map((e) => ({ range: toRange(index, e.span), newText: e.newText }));
}

/** Splits text into lines that keep their line breaks, so joining them gives the text back. */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let s = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      out.push(text.slice(s, i + 1));
      s = i + 1;
    }
  }
  if (s < text.length) out.push(text.slice(s));
  return out;
}

function lineStartAt(text: string, off: number): number {
  let i = off;
  while (i > 0) {
    const c = text.charCodeAt(i - 1);
    if (c === 10 || c === 13) break;
    i--;
  }
  return i;
}

function lineEndAfter(text: string, off: number): number {
  let i = off;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 10) return i + 1;
    if (c === 13) return text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
    i++;
  }
  return i;
}

/**
 * The line edits (as `diffEdits` makes them) of applying `edits` to `text`,
 * computed over the lines the edits touch only: a fix in a big file costs the
 * size of the fix, not of the file. Edits are grouped into runs of touched
 * lines, and each run is diffed on its own.
 */
export function localLineEdits(text: string, edits: readonly TextEdit[]): TextEdit[] {
  const sorted = [...edits].sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end);
  const out: TextEdit[] = [];
  let i = 0;
  while (i < sorted.length) {
    const from = lineStartAt(text, sorted[i].span.start);
    let to = lineEndAfter(text, sorted[i].span.end);
    let j = i + 1;
    while (j < sorted.length && sorted[j].span.start <= to) {
      to = Math.max(to, lineEndAfter(text, sorted[j].span.end));
      j++;
    }
    const before = text.slice(from, to);
    let after = before;
    for (let k = j - 1; k >= i; k--) {
      const e = sorted[k];
      after = after.slice(0, e.span.start - from) + e.newText + after.slice(e.span.end - from);
    }
    for (const e of diffEdits(before, after)) out.push({ span: { start: e.span.start + from, end: e.span.end + from }, newText: e.newText });
    i = j;
  }
  return out;
}

/**
 * Edits (in engine spans over `before`) that turn `before` into `after`,
 * one per run of changed lines. Lines equal in both are never touched. Falls
 * back to one edit over the changed middle when the middle is very large.
 */
export function diffEdits(before: string, after: string): TextEdit[] {
  if (before === after) return [];
  const a = splitLines(before);
  const b = splitLines(after);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const offsets: number[] = [0];
  for (const l of a) offsets.push(offsets[offsets.length - 1] + l.length);
  const n = a.length - pre - suf;
  const m = b.length - pre - suf;
  const edit = (a0: number, a1: number, b0: number, b1: number): TextEdit => ({
    span: { start: offsets[a0], end: offsets[a1] },
    newText: b.slice(b0, b1).join(''),
  });
  if (n === 0 || m === 0) return [edit(pre, pre + n, pre, pre + m)];
  if (n * m > 4_000_000) return resyncEdits(a, b, pre, n, m, edit);
  // Longest common subsequence of the middle lines (dynamic programming, suffix form).
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[pre + i] === b[pre + j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  const out: TextEdit[] = [];
  let i = 0;
  let j = 0;
  let runA = -1;
  let runB = -1;
  const flush = (): void => {
    if (runA >= 0) out.push(edit(pre + runA, pre + i, pre + runB, pre + j));
    runA = runB = -1;
  };
  while (i < n || j < m) {
    if (i < n && j < m && a[pre + i] === b[pre + j]) {
      flush();
      i++;
      j++;
      continue;
    }
    if (runA < 0) {
      runA = i;
      runB = j;
    }
    if (j >= m || (i < n && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) i++;
    else j++;
  }
  flush();
  return out;
}

/** Lines looked ahead, in each text, to find where two texts agree again after a difference. */
const RESYNC_WINDOW = 64;

/**
 * Line edits for texts too long for the exact comparison (fix-all of a big file): a walk of both
 * texts that, at a difference, looks up to RESYNC_WINDOW lines ahead in each for the nearest line
 * where they agree again (a fix changes or adds a few lines in place). O((n + m) × window), and
 * each changed run is one edit; where no agreement is found within the window, the rest of the
 * middle is one edit.
 */
function resyncEdits(a: string[], b: string[], pre: number, n: number, m: number, edit: (a0: number, a1: number, b0: number, b1: number) => TextEdit): TextEdit[] {
  const out: TextEdit[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[pre + i] === b[pre + j]) {
      i++;
      j++;
      continue;
    }
    // The nearest (di, dj) with a[i + di] === b[j + dj], smallest di + dj first.
    let found: [number, number] | undefined;
    for (let d = 1; d <= 2 * RESYNC_WINDOW && !found; d++) {
      for (let di = Math.max(0, d - RESYNC_WINDOW); di <= Math.min(d, RESYNC_WINDOW); di++) {
        const dj = d - di;
        if (i + di < n && j + dj < m && a[pre + i + di] === b[pre + j + dj]) {
          found = [di, dj];
          break;
        }
      }
    }
    if (!found) break;
    out.push(edit(pre + i, pre + i + found[0], pre + j, pre + j + found[1]));
    i += found[0];
    j += found[1];
  }
  if (i < n || j < m) out.push(edit(pre + i, pre + n, pre + j, pre + m));
  return out;
}

function samePosition(a: Position, b: Position): boolean {
  return a.line === b.line && a.character === b.character;
}

function sameRange(a: Range, b: Range): boolean {
  return samePosition(a.start, b.start) && samePosition(a.end, b.end);
}

function sameData(a: unknown, b: unknown): boolean {
  const x = a as DiagnosticData | undefined;
  const y = b as DiagnosticData | undefined;
  if (!x || !y) return x === y;
  const s = x.target;
  const t = y.target;
  if (x.rule !== y.rule || x.subject !== y.subject) return false;
  return sameTarget(s, t);
}

function sameTarget(a: Diagnostic['target'], b: Diagnostic['target']): boolean {
  if (!a || !b) return a === b;
  return a.device === b.device && a.bar === b.bar && a.vf === b.vf && a.guest === b.guest && a.region === b.region;
}

/**
 * Whether two lists of converted diagnostics show the same thing: the same
 * ranges, severities, codes, messages, targets and related locations, in the
 * same order. `data.version` is not compared (it is where a diagnostic was
 * computed, not what it says). A keystroke in a comment or a label usually
 * leaves them the same; then nothing needs to reach the client.
 */
export function sameDiagnostics(a: readonly LspDiagnostic[], b: readonly LspDiagnostic[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue; // taken over from the previous conversion
    if (!sameRange(x.range, y.range) || x.severity !== y.severity || x.code !== y.code || x.message !== y.message || x.source !== y.source) return false;
    if (x.codeDescription?.href !== y.codeDescription?.href || !sameData(x.data, y.data)) return false;
    const r = x.relatedInformation;
    const s = y.relatedInformation;
    if (!r || !s) {
      if (r !== s) return false;
      continue;
    }
    if (r.length !== s.length) return false;
    for (let k = 0; k < r.length; k++) {
      if (r[k].message !== s[k].message || r[k].location.uri !== s[k].location.uri || !sameRange(r[k].location.range, s[k].location.range)) return false;
    }
  }
  return true;
}

/**
 * Where a version's engine diagnostics (and their related locations) were, kept beside them:
 * diagnostics reused by an incremental analysis share span objects that the next edit moves,
 * so the offsets are copied.
 */
export interface DiagnosticsSnapshot {
  diagnostics: readonly Diagnostic[];
  /** start, end of each diagnostic, then of each of its related locations, in order. */
  offsets: Int32Array;
}

export function snapshotDiagnostics(diags: readonly Diagnostic[]): DiagnosticsSnapshot {
  let n = 0;
  for (const d of diags) n += 2 + 2 * d.related.length;
  const offsets = new Int32Array(n);
  let o = 0;
  for (const d of diags) {
    offsets[o++] = d.span.start;
    offsets[o++] = d.span.end;
    for (const r of d.related) {
      offsets[o++] = r.span.start;
      offsets[o++] = r.span.end;
    }
  }
  return { diagnostics: diags, offsets };
}

function hasLineBreak(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return true;
  }
  return false;
}


/**
 * Whether `next` (the diagnostics of the text after an edit) would convert to exactly the LSP
 * diagnostics of the version `before` describes, decided without converting: same rules,
 * severities, messages, subjects, targets and related messages, in the same order, and every
 * range at the same line and character. The edit is what `changedRegion` found (common `prefix`
 * and `suffix` of the old text, `oldLength` long, and `text`). Offsets before the edit stay; offsets
 * after it move by the length change, which leaves their line and character alone when the edit
 * adds or removes no line break and they are not on the edited line. Anything else (an offset
 * inside the edit, after it on its line, line breaks in it) answers false, and the caller
 * converts and compares the LSP diagnostics as usual: false is never wrong, only slower.
 */
export function sameAfterEdit(before: DiagnosticsSnapshot, next: readonly Diagnostic[], text: string, oldText: string, prefix: number, suffix: number): boolean {
  const prev = before.diagnostics;
  if (prev.length !== next.length) return false;
  const oldEnd = oldText.length - suffix;
  const newEnd = text.length - suffix;
  if (hasLineBreak(oldText, prefix, oldEnd) || hasLineBreak(text, prefix, newEnd)) return false;
  // A `\r` just before the edit pairs with a `\n` just after it in one text and not in the other
  // (`\r\n` → `\r x\n`, or back): one line break became two, or two one, though the edit holds none.
  if (oldText.charCodeAt(prefix - 1) === 13 && (oldText.charCodeAt(prefix) === 10 || text.charCodeAt(prefix) === 10)) return false;
  const delta = text.length - oldText.length;
  // End of the edited line in the new text: offsets moved up to here changed character.
  let lineEnd = newEnd;
  while (lineEnd < text.length) {
    const c = text.charCodeAt(lineEnd);
    if (c === 10 || c === 13) break;
    lineEnd++;
  }
  /** The new offset of old offset `x`, or -1 when its position (line, character) changes or cannot be told. */
  const moved = (x: number): number => {
    if (x < prefix) return x;
    if (x < oldEnd) return -1;
    const y = x + delta;
    return delta !== 0 && y <= lineEnd ? -1 : y;
  };
  const off = before.offsets;
  let o = 0;
  for (let i = 0; i < prev.length; i++) {
    const a = prev[i];
    const b = next[i];
    if (a.rule !== b.rule || a.severity !== b.severity || a.message !== b.message || a.subject !== b.subject || !sameTarget(a.target, b.target)) return false;
    if (a.related.length !== b.related.length) return false;
    const s = moved(off[o++]);
    const e = moved(off[o++]);
    if (s < 0 || e < 0 || s !== b.span.start || e !== b.span.end) return false;
    for (let k = 0; k < b.related.length; k++) {
      const rs = moved(off[o++]);
      const re = moved(off[o++]);
      if (rs < 0 || re < 0 || rs !== b.related[k].span.start || re !== b.related[k].span.end || a.related[k].message !== b.related[k].message) return false;
    }
  }
  return true;
}
