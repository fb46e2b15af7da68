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

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export interface ConvertedDiagnostics {
  diagnostics: LspDiagnostic[];
  omitted: number;
}

/**
 * All diagnostics of a document, capped at `max`: errors are kept first, then
 * warnings, then infos (each in file order), and one final info diagnostic at
 * the top of the file says how many were left out.
 */
export function toLspDiagnostics(index: LineIndex, uri: string, version: number, diags: readonly Diagnostic[], max: number): ConvertedDiagnostics {
  let kept: readonly Diagnostic[] = diags;
  let omitted = 0;
  if (diags.length > max) {
    kept = [...diags]
      .map((d, i) => ({ d, i }))
      .sort((a, b) => SEVERITY_RANK[a.d.severity] - SEVERITY_RANK[b.d.severity] || a.i - b.i)
      .slice(0, max)
      .sort((a, b) => a.i - b.i)
      .map((x) => x.d);
    omitted = diags.length - max;
  }
  const out = kept.map((d) => toLspDiagnostic(index, uri, version, d));
  if (omitted > 0) {
    const firstLineEnd = index.offsetAt({ line: 0, character: Number.MAX_SAFE_INTEGER });
    out.push({
      range: toRange(index, { start: 0, end: firstLineEnd }),
      severity: DiagnosticSeverity.Information,
      code: OMITTED_CODE,
      codeDescription: { href: RULES_DOC_URL },
      source: SOURCE,
      message: `${omitted} more diagnostic${omitted === 1 ? ' was' : 's were'} left out: only the first ${max} are shown (setting bartopo.maxDiagnostics; errors are kept first). Run \`bartopo check\` for the full list.`,
    });
  }
  return { diagnostics: out, omitted };
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
  if (n === 0 || m === 0 || n * m > 4_000_000) return [edit(pre, pre + n, pre, pre + m)];
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
  if (!s || !t) return s === t;
  return s.device === t.device && s.bar === t.bar && s.guest === t.guest && s.region === t.region;
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
