// Adversarial cases for the incremental re-parser (server/src/engine/incremental.ts)
// that random edits rarely hit: line endings (CRLF, lone CR, a BOM), Allman
// blocks, trailing comments after `}`, `;`-separated statements and several
// blocks on one line, nested `sriov`/`assign` blocks, block recovery when a `}`
// goes missing, stray braces, unterminated strings, edits at the very start and
// end, whole blocks deleted or pasted, keywords changed, empty and tiny
// documents, and chains of edits that each start from the previous re-parse.
//
// Every case checks two things against a fresh start:
// - `reparse(parse(old), old, new)`, when it answers, is exactly `parse(new)`
//   (statements, words, comments, tree errors, typed nodes with spans, errors);
// - `analyze(new, {}, analyze(old))` gives the diagnostics of `analyze(new)`
//   (rule, severity, span, message, related spans and messages), and its own
//   parse is `parse(new)` too (the character sweeps check this on a sample).
// Chains do the same with each step starting from the previous step's result.
// A few more check parseEditedCopy (it must not touch its input) and analyses
// under options.
import * as assert from 'assert';
import { analyze, analyzeParsed, Analysis } from '../server/src/engine/analyze';
import { applyEdits } from '../server/src/engine/fixes';
import { parseEditedCopy, reparse } from '../server/src/engine/incremental';
import { parse, ParseResult } from '../server/src/engine/parser';
import { Stmt } from '../server/src/engine/tree';
import { AnalyzeOptions } from '../server/src/engine/types';
import { isCacheKey, parsePicture, picture } from './parse-picture';

// ---- comparison helpers (picture() as in incremental.test.ts) -------------------

const analysisParse = (a: Analysis): ParseResult => ({ tree: a.tree, file: a.file, errors: a.syntaxErrors });
type Diag = Analysis['diagnostics'][number];
const viewDiag = (d: Diag): unknown => [d.rule, d.severity, d.span.start, d.span.end, d.message, d.related.map((r) => [r.span.start, r.span.end, r.message])];
const diags = (a: Analysis): unknown[] => a.diagnostics.map(viewDiag);

/**
 * Whether two values have the same picture(), decided by walking both at once
 * (no picture is built: the sweeps compare tens of thousands of parses). A
 * statement's words are compared as source text (the same text at the same
 * offsets scans to the same words), by words only when that text differs.
 */
function same(a: unknown, b: unknown, depth = 0): boolean {
  if (depth > 500) throw new Error('cycle in the parse result');
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Stmt || b instanceof Stmt) {
    if (!(a instanceof Stmt && b instanceof Stmt)) return false;
    if (a.start !== b.start || a.wordsEnd !== b.wordsEnd || a.end !== b.end) return false;
    if (a.source.text.slice(a.start, a.wordsEnd) !== b.source.text.slice(b.start, b.wordsEnd)) {
      const words = (s: Stmt): string => JSON.stringify(s.words.map((w) => [w.kind, w.start, w.end, w.text, w.value]));
      if (words(a) !== words(b)) return false;
    }
    const ta = a.trailingComment;
    const tb = b.trailingComment;
    if (!ta !== !tb || (ta && tb && (ta.start !== tb.start || ta.end !== tb.end || ta.text !== tb.text))) return false;
    const ba = a.block;
    const bb = b.block;
    if (!ba || !bb) return !ba && !bb;
    if (ba.open !== bb.open || ba.close !== bb.close) return false;
    if (ba.stmts.length !== bb.stmts.length) return false;
    for (let i = 0; i < ba.stmts.length; i++) if (!same(ba.stmts[i], bb.stmts[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    if (a.length !== bs.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], bs[i], depth + 1)) return false;
    return true;
  }
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  const ka = Object.keys(oa).filter((k) => !isCacheKey(k) && oa[k] !== undefined);
  const kb = Object.keys(ob).filter((k) => !isCacheKey(k) && ob[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (ob[k] === undefined) return false;
    if (k === 'span') {
      const sa = oa[k] as { start: number; end: number };
      const sb = ob[k] as { start: number; end: number };
      if (sa.start !== sb.start || sa.end !== sb.end) return false;
    } else if (!same(oa[k], ob[k], depth + 1)) return false;
  }
  // A value that is its own span (start/end as own keys, `span` a getter): covered by start and end above.
  const sa = (a as { span?: { start: number; end: number } }).span;
  const sb = (b as { span?: { start: number; end: number } }).span;
  if (!sa !== !sb || (sa && sb && (sa.start !== sb.start || sa.end !== sb.end))) return false;
  return true;
}

/** Something to compare: its parts (compared with same()), and its picture when a difference has to be shown. */
interface Pic {
  parts: unknown;
  picture: () => unknown;
}
const parsePic = (p: ParseResult): Pic => ({ parts: [p.tree.stmts, p.tree.comments, p.tree.errors, p.file, p.errors], picture: () => parsePicture(p) });
const diagPic = (a: Analysis): Pic => {
  const v = diags(a);
  return { parts: JSON.stringify(v), picture: () => v };
};
function samePicture(actual: Pic, expected: Pic, message: string): void {
  if (!same(actual.parts, expected.parts)) {
    assert.deepStrictEqual(actual.picture(), expected.picture(), message);
    assert.fail(`same() sees a difference that the pictures do not show (a bug in same()): ${message}`);
  }
}

/** How often the re-parser answered (the rest fell back to a full parse): reported at the end, so the suite is not vacuous. */
const stats = { edits: 0, reparsed: 0, analyses: 0, analysesReparsed: 0 };

const show = (s: string): string => JSON.stringify(s);
const describeEdit = (label: string, before: string, after: string): string => `${label}\n    old: ${show(before)}\n    new: ${show(after)}`;

/**
 * One edit `before` → `after`, checked from fresh parses/analyses of `before`
 * (reparse consumes its input). `analysis: false` checks the parse only (for the
 * big sweeps, where the analysis is checked on a sample).
 */
function checkEdit(label: string, before: string, after: string, opts: { analysis?: boolean } = {}): void {
  const what = describeEdit(label, before, after);
  const full = parse(after);
  let fullCached: Pic | undefined;
  const fullPic = (): Pic => (fullCached ??= parsePic(full));
  const inc = reparse(parse(before), before, after);
  stats.edits++;
  if (inc) {
    stats.reparsed++;
    samePicture(parsePic(inc), fullPic(), `reparse differs from parse: ${what}`);
  }
  if (opts.analysis === false) return;
  const incA = analyze(after, {}, analyze(before));
  stats.analyses++;
  if (incA.reparsed) stats.analysesReparsed++;
  const freshA = analyze(after);
  samePicture(diagPic(incA), diagPic(freshA), `analyze(new, {}, previous) differs from analyze(new): ${what}`);
  samePicture(parsePic(analysisParse(incA)), fullPic(), `the incremental analysis' parse differs from parse: ${what}`);
}

/** The edit and its undo. */
function checkBoth(label: string, a: string, b: string): void {
  checkEdit(label, a, b);
  checkEdit(`${label} (undone)`, b, a);
}

/**
 * A chain of versions, each re-parsed / analysed from the previous step's
 * result (the re-parse when it answered, else the full parse), as an editor
 * session does.
 */
function checkChain(label: string, versions: readonly string[]): void {
  let text = versions[0];
  let prev = parse(text);
  let prevA = analyze(text);
  for (let i = 1; i < versions.length; i++) {
    const next = versions[i];
    const what = describeEdit(`${label}, step ${i}`, text, next);
    const full = parse(next);
    let fullCached: Pic | undefined;
    const fullPic = (): Pic => (fullCached ??= parsePic(full));
    const inc = reparse(prev, text, next);
    stats.edits++;
    if (inc) {
      stats.reparsed++;
      samePicture(parsePic(inc), fullPic(), `reparse differs from parse: ${what}`);
    }
    const incA = analyze(next, {}, prevA);
    stats.analyses++;
    if (incA.reparsed) stats.analysesReparsed++;
    samePicture(diagPic(incA), diagPic(analyze(next)), `analyze(new, {}, previous) differs from analyze(new): ${what}`);
    samePicture(parsePic(analysisParse(incA)), fullPic(), `the incremental analysis' parse differs from parse: ${what}`);
    prev = inc ?? full;
    prevA = incA;
    text = next;
  }
}

// ---- documents --------------------------------------------------------------

/** Every construct at once: host, nested sriov, a trailing comment after `}`, an Allman device, escapes in a string, `;`-separated blocks on one line, an assign block. */
const DOC = [
  '# A hand-written topology with what the re-parser has to get right.',
  'host h {',
  '  page-size 4K',
  '  window mmio 0x100000 size 256M',
  '}',
  '',
  'device a at 00:01.0 {',
  '  group 1',
  '  bar 0 mem32 size 4K at 0x100000',
  '  msix entries 4 table bar 0 offset 0x0',
  '  region doorbell bar 0 offset 0x40 size 64 hot',
  '  bar 2 mem32 size 256 at 0x101000',
  '  sriov vfs 2 {',
  '    bar 0 mem32 size 4K at 0x200000',
  '  }',
  '} # trailing after a',
  '',
  'device b at 00:02.0',
  '{',
  '  group 2',
  '  name "B \\"quoted\\" \\\\"',
  '  bar 0 mem32 size 256 at 0x101800',
  '}',
  'device c at 00:03.0 { group 3; bar 0 mem32 size 16K at 0x104000 }; device d at 00:04.0 { group 3 }',
  '',
  'guest g {',
  '  window 0x4000_0000 size 1G',
  '  allocate page-match',
  '  assign a {',
  '    bar 0 at 0x4000_0000',
  '  }',
  '  assign b',
  '  assign c',
  '}',
  '',
].join('\n');

/** Four top-level blocks on one line, no newline at the end. */
const ONE_LINE = 'host h { page-size 4K } device x at 00:05.0 { group 5; bar 0 mem32 size 4K at 0x5000 } device y at 00:06.0 { group 6 } guest q { assign x; assign y }';

const ONE = 'device a at 00:01.0 {\n  bar 0 mem32 size 4K at 0x1000\n}\n';
const TWO = ONE + 'guest g {\n  assign a\n}\n';
const THREE = 'host h {\n  page-size 4K\n}\n' + TWO;

/** Line-ending (and BOM) variants of a document written with `\n`: `conv` converts a whole document, `eol` a piece of one (no BOM). */
interface Variant {
  name: string;
  conv: (s: string) => string;
  eol: (s: string) => string;
}
const variant = (name: string, bom: boolean, nl: string): Variant => ({
  name,
  conv: (s) => (bom ? '\uFEFF' : '') + s.replace(/\n/g, nl),
  eol: (s) => s.replace(/\n/g, nl),
});
const VARIANTS: readonly Variant[] = [variant('LF', false, '\n'), variant('CRLF', false, '\r\n'), variant('CR', false, '\r'), variant('BOM+LF', true, '\n'), variant('BOM+CRLF', true, '\r\n')];

/** `text` with the `nth` (1-based) occurrence of `find` replaced; throws when it is not there (a typo in a case). */
function sub(text: string, find: string, replacement: string, nth = 1): string {
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = text.indexOf(find, at + 1);
    if (at < 0) throw new Error(`test bug: ${show(find)} (occurrence ${nth}) not in the document`);
  }
  return text.slice(0, at) + replacement + text.slice(at + find.length);
}

const lines = (s: string): string[] => s.split('\n');
const DOC_LINES = lines(DOC);
/** DOC without lines [from, to) (0-based). */
const withoutLines = (from: number, to: number): string => [...DOC_LINES.slice(0, from), ...DOC_LINES.slice(to)].join('\n');
const lineIndex = (startsWith: string): number => {
  const i = DOC_LINES.findIndex((l) => l.startsWith(startsWith));
  if (i < 0) throw new Error(`test bug: no line starts with ${show(startsWith)}`);
  return i;
};

const PASTE = 'device p1 at 00:0a.0 {\n  group 10\n  bar 0 mem32 size 4K at 0x10a000\n}\ndevice p2 at 00:0b.0 { group 11 }\ndevice p3 at 00:0c.0\n{\n  bar 0 mem64 size 64K at 0x110000\n} # p3\n';

// ---- the cases (written with \n; run with LF, CRLF, lone-CR and BOM+LF line endings) ----

type Case = [label: string, before: string, after: string];

const A_END = '} # trailing after a';
const B_HEAD = 'device b at 00:02.0\n{';

const CASES: Case[] = [
  // Edits inside nested blocks.
  ['a value inside device a', DOC, sub(DOC, 'size 4K at 0x100000', 'size 8K at 0x100000')],
  ['a value inside the nested sriov block', DOC, sub(DOC, 'size 4K at 0x200000', 'size 16K at 0x200000')],
  ['a VF bar cut short inside sriov', DOC, sub(DOC, '    bar 0 mem32 size 4K at 0x200000', '    bar 0 mem32 size')],
  ['an unknown statement inside sriov', DOC, sub(DOC, '    bar 0 mem32 size 4K at 0x200000', '    bar 0 mem32 size 4K at 0x200000\n    group 4')],
  ['sriov vfs out of range', DOC, sub(DOC, 'sriov vfs 2', 'sriov vfs 70000')],
  ['sriov block emptied', DOC, sub(DOC, '    bar 0 mem32 size 4K at 0x200000\n', '')],
  ['a guest address inside the assign block', DOC, sub(DOC, 'bar 0 at 0x4000_0000', 'bar 0 at 0x4000_1000')],
  ['an assign-block bar index changed', DOC, sub(DOC, 'bar 0 at 0x4000_0000', 'bar 1 at 0x4000_0000')],
  ['a second bar line in the assign block', DOC, sub(DOC, '    bar 0 at 0x4000_0000\n', '    bar 0 at 0x4000_0000\n    bar 0\n')],
  ['an assign block added to assign b', DOC, sub(DOC, '  assign b\n', '  assign b {\n    bar 0 at 0x4000_1800\n  }\n')],
  ['a block on a bar statement inside sriov', DOC, sub(DOC, 'size 4K at 0x200000', 'size 4K at 0x200000 { }')],

  // A `}` removed (block recovery at the next top-level keyword) — each also undone (re-added).
  ['the host block loses its }', DOC, sub(DOC, '  window mmio 0x100000 size 256M\n}', '  window mmio 0x100000 size 256M')],
  ['the sriov block loses its }', DOC, sub(DOC, '  }\n' + A_END, A_END)],
  ['device a loses its } (comment kept; Allman device b cannot recover it)', DOC, sub(DOC, A_END, '# trailing after a')],
  ['device a loses its } and its comment', DOC, sub(DOC, A_END + '\n', '')],
  ['Allman device b loses its }', DOC, sub(DOC, '0x101800\n}', '0x101800')],
  ['device c (on the ; line) loses its }: device d recovers on the same line', DOC, sub(DOC, '0x104000 }; device d', '0x104000 ; device d')],
  ['device d loses its }', DOC, sub(DOC, '{ group 3 }', '{ group 3 ')],
  ['the assign block loses its }', DOC, sub(DOC, '    bar 0 at 0x4000_0000\n  }\n', '    bar 0 at 0x4000_0000\n')],
  ['the guest loses its last }', DOC, DOC.slice(0, DOC.lastIndexOf('}')) + DOC.slice(DOC.lastIndexOf('}') + 1)],
  ['two } removed (sriov and device a)', DOC, sub(DOC, '  }\n' + A_END, '')],
  ['the host loses its {', DOC, sub(DOC, 'host h {', 'host h')],
  ['device a loses its {', DOC, sub(DOC, 'device a at 00:01.0 {', 'device a at 00:01.0')],
  ['a } moved down past device b', DOC, sub(sub(DOC, A_END + '\n', '# trailing after a\n'), '0x101800\n}', '0x101800\n}\n}')],

  // Stray braces at the top level.
  ['a stray } line before device b', DOC, sub(DOC, B_HEAD, '}\n' + B_HEAD)],
  ['a stray } after } on the same line, before the comment', DOC, sub(DOC, A_END, '} } # trailing after a')],
  ['a stray } at the very end', DOC, DOC + '}'],
  ['a stray } at the very start', DOC, '}' + DOC],
  ['a stray } between Allman header and {', DOC, sub(DOC, B_HEAD, 'device b at 00:02.0\n}\n{')],
  ['a stray { } block between devices', DOC, sub(DOC, B_HEAD, '{ group 9 }\n' + B_HEAD)],
  ['a stray { at the very end', DOC, DOC + '{'],

  // Trailing comments after `}`.
  ['the trailing comment after } removed', DOC, sub(DOC, ' # trailing after a', '')],
  ['the trailing comment after } changed', DOC, sub(DOC, '# trailing after a', '# trailing after device a, longer')],
  ['a trailing comment added after Allman }', DOC, sub(DOC, '0x101800\n}', '0x101800\n} # b ends')],
  ['a trailing comment added after the ; line', DOC, sub(DOC, '{ group 3 }\n', '{ group 3 } # d\n')],
  ['a comment after ; hides device d', DOC, sub(DOC, '}; device d', '}; # device d')],
  ['a trailing comment added after the host }', DOC, sub(DOC, '256M\n}', '256M\n} # host')],
  ['a trailing comment swallows the next line', DOC, sub(DOC, '# trailing after a\n\n', '# trailing after a ')],
  ['a trailing comment on the last line, no newline at the end', DOC, DOC.slice(0, -1) + ' # the end'],
  ['a comment inside device a', DOC, sub(DOC, '  group 1\n', '  group 1 # one\n')],
  ['the header line of device b commented out', DOC, sub(DOC, B_HEAD, '# device b at 00:02.0\n{')],
  ['the { of device b commented out', DOC, sub(DOC, B_HEAD, 'device b at 00:02.0\n# {')],

  // Allman blocks: joining and splitting header and `{`.
  ['device b header and { joined', DOC, sub(DOC, B_HEAD, 'device b at 00:02.0 {')],
  ['device c header and { split', DOC, sub(DOC, 'device c at 00:03.0 {', 'device c at 00:03.0\n{')],
  ['device d header and { split (after ;)', DOC, sub(DOC, 'device d at 00:04.0 {', 'device d at 00:04.0\n{')],
  ['device a header and { split', DOC, sub(DOC, 'device a at 00:01.0 {', 'device a at 00:01.0\n{')],
  ['guest header and { split', DOC, sub(DOC, 'guest g {', 'guest g\n{')],
  ['host header and { split, { indented', DOC, sub(DOC, 'host h {', 'host h\n   {')],
  ['a blank line between Allman header and {', DOC, sub(DOC, B_HEAD, 'device b at 00:02.0\n\n{')],
  ['a comment line between Allman header and {', DOC, sub(DOC, B_HEAD, 'device b at 00:02.0\n# brace follows\n{')],
  ['a word line between Allman header and {', DOC, sub(DOC, B_HEAD, 'device b at 00:02.0\ngroup 9\n{')],
  ['a ; between Allman header and {', DOC, sub(DOC, B_HEAD, 'device b at 00:02.0;\n{')],
  ['Allman sriov block', DOC, sub(DOC, 'sriov vfs 2 {', 'sriov vfs 2\n  {')],
  ['Allman assign block', DOC, sub(DOC, 'assign a {', 'assign a\n  {')],
  ['the Allman header of device b deleted (its { becomes stray)', DOC, sub(DOC, B_HEAD, '{')],
  ['device b header moved onto the line of the previous }', DOC, sub(DOC, A_END + '\n\n' + B_HEAD, '} device b at 00:02.0\n{')],

  // `;`-separated statements and several blocks on one line.
  ['the ; line split', DOC, sub(DOC, '}; device d', '}\ndevice d')],
  ['the ; between blocks removed', DOC, sub(DOC, '}; device d', '} device d')],
  ['a doubled ;', DOC, sub(DOC, '}; device d', '};; device d')],
  ['the inner ; turned into a newline', DOC, sub(DOC, 'group 3; bar', 'group 3\n bar')],
  ['the inner ; removed', DOC, sub(DOC, 'group 3; bar', 'group 3 bar')],
  ['device a and device b joined onto one line', DOC, sub(DOC, A_END + '\n\n' + B_HEAD, '}; device b at 00:02.0 {')],
  ['device b through d on one line', DOC, sub(sub(DOC, B_HEAD, 'device b at 00:02.0 {'), '0x101800\n}\ndevice c', '0x101800 } device c')],
  ['several devices pasted onto the ; line', DOC, sub(DOC, '}; device d', '}; device p1 at 00:0a.0 { group 10 } device p2 at 00:0b.0 { group 11 }; device d')],

  // Strings.
  ['the closing quote of device b\'s name removed', DOC, sub(DOC, '\\\\"\n', '\\\\\n')],
  ['the closing quote of device b\'s name escaped', DOC, sub(DOC, '\\\\"\n', '\\"\n')],
  ['a string ending in a backslash at the end of a line', DOC, sub(DOC, '  group 2\n', '  group 2 "x\\\n')],
  ['a lone quote at the end of an Allman header', DOC, sub(DOC, B_HEAD, 'device b at 00:02.0 "\n{')],
  ['an unterminated string swallows a }', DOC, sub(DOC, '{ group 3 }', '{ group "3 }')],
  ['a string holding # { } ;', DOC, sub(DOC, '  group 2\n', '  name "a # { } ;"\n')],
  ['a string as a top-level statement', DOC, sub(DOC, B_HEAD, '"device" b at 00:02.0\n{')],
  ['a backslash at the very end', DOC, DOC + 'device z "\\'],
  ['a quote at the very end', DOC, DOC + '"'],

  // Edits at the very start.
  ['a line inserted at offset 0', DOC, '# new first line\n' + DOC],
  ['a word glued to the start', DOC, 'x' + DOC],
  ['the first character deleted', DOC, DOC.slice(1)],
  ['the header comment line deleted', DOC, DOC.slice(DOC.indexOf('\n') + 1)],
  ['a device inserted at offset 0', DOC, 'device z at 00:09.0 { group 9 }\n' + DOC],
  ['a } inserted at offset 0 of the host line', DOC, sub(DOC, 'host h {', '}host h {')],
  ['a { inserted at offset 0', DOC, '{' + DOC],
  ['a BOM inserted at offset 0', DOC, '\uFEFF' + DOC],
  ['a BOM inserted before a device keyword', DOC, sub(DOC, B_HEAD, '\uFEFF' + B_HEAD)],
  ['a BOM inside a word (it ends words)', DOC, sub(DOC, 'device c at', 'dev\uFEFFice c at')],
  ['the first two lines replaced', DOC, 'host h2 {' + DOC.slice(DOC.indexOf('\n', DOC.indexOf('\n') + 1))],

  // Edits at the very end.
  ['a newline appended', DOC, DOC + '\n'],
  ['the final newline removed', DOC, DOC.slice(0, -1)],
  ['a device appended without a final newline', DOC, DOC + 'device z at 00:09.0 { group 9 }'],
  ['an unclosed device appended', DOC, DOC + 'device z at 00:09.0 {'],
  ['an Allman header appended', DOC, DOC + 'device z at 00:09.0'],
  ['a comment appended without a final newline', DOC, DOC + '# end'],
  ['the last two characters deleted', DOC, DOC.slice(0, -2)],
  ['the last statement cut in the middle', DOC, DOC.slice(0, DOC.indexOf('  assign c'))],

  // Whole blocks deleted.
  ['the whole device a deleted', DOC, withoutLines(lineIndex('device a'), lineIndex('} # trailing') + 1)],
  ['device a deleted with the blank line after it', DOC, withoutLines(lineIndex('device a'), lineIndex('} # trailing') + 2)],
  ['the whole Allman device b deleted', DOC, withoutLines(lineIndex('device b'), lineIndex('device c'))],
  ['the ; line deleted', DOC, withoutLines(lineIndex('device c'), lineIndex('device c') + 1)],
  ['device c deleted from the ; line', DOC, sub(DOC, 'device c at 00:03.0 { group 3; bar 0 mem32 size 16K at 0x104000 }; ', '')],
  ['the host deleted', DOC, withoutLines(lineIndex('host'), lineIndex('host') + 4)],
  ['the guest deleted', DOC, withoutLines(lineIndex('guest'), DOC_LINES.length - 1)],
  ['everything from the middle of a to the middle of b deleted', DOC, DOC.slice(0, DOC.indexOf('  msix')) + DOC.slice(DOC.indexOf('  name "B'))],
  ['everything but the first line deleted', DOC, DOC.slice(0, DOC.indexOf('\n') + 1)],
  ['devices a to d deleted', DOC, withoutLines(lineIndex('device a'), lineIndex('guest'))],

  // Blocks pasted.
  ['three devices pasted after device a', DOC, sub(DOC, A_END + '\n', A_END + '\n' + PASTE)],
  ['three devices pasted before the host', DOC, sub(DOC, 'host h {', PASTE + 'host h {')],
  ['three devices pasted at the end', DOC, DOC + PASTE],
  ['three devices pasted at the end, no newline before', DOC, DOC.slice(0, -1) + PASTE],
  ['three devices pasted inside the guest block', DOC, sub(DOC, '  assign b\n', PASTE + '  assign b\n')],
  ['three devices pasted inside the sriov block', DOC, sub(DOC, '    bar 0 mem32 size 4K at 0x200000\n', '    bar 0 mem32 size 4K at 0x200000\n' + PASTE)],
  ['three devices pasted between Allman header and {', DOC, sub(DOC, B_HEAD, 'device b at 00:02.0\n' + PASTE + '{')],
  ['device b duplicated right after itself', DOC, sub(DOC, 'device c at', DOC.slice(DOC.indexOf('device b'), DOC.indexOf('device c')) + 'device c at')],
  ['the whole document pasted after itself', DOC, DOC + DOC],
  ['the whole document replaced by another', DOC, THREE],

  // Keywords turned into something else.
  ['device b → devic b (Allman)', DOC, sub(DOC, 'device b', 'devic b')],
  ['device a → xdevice a', DOC, sub(DOC, 'device a', 'xdevice a')],
  ['device a → guest a', DOC, sub(DOC, 'device a at', 'guest a at')],
  ['device c → host c', DOC, sub(DOC, 'device c at', 'host c at')],
  ['device d → device-d', DOC, sub(DOC, 'device d at', 'device-d at')],
  ['device keyword deleted from device c', DOC, sub(DOC, 'device c at', 'c at')],
  ['guest → guests', DOC, sub(DOC, 'guest g {', 'guests g {')],
  ['host → hosts', DOC, sub(DOC, 'host h {', 'hosts h {')],
  ['group → device inside device a (no { on its line)', DOC, sub(DOC, '  group 1\n', '  device 1\n')],
  ['a device with { inside device a (recovery)', DOC, sub(DOC, '  group 1\n', '  device q at 00:0e.0 { group 1 }\n')],
  ['a guest keyword inside the assign block', DOC, sub(DOC, '    bar 0 at 0x4000_0000\n', '    guest\n')],
  ['a host keyword with { inside the sriov block', DOC, sub(DOC, '    bar 0 mem32 size 4K at 0x200000\n', '    host x {\n')],

  // Empty and tiny documents.
  ['empty → DOC', '', DOC],
  ['newline only → DOC', '\n', DOC],
  ['BOM only → DOC', '\uFEFF', DOC],
  ['comment only → DOC', '# only a comment', DOC],
  ['empty → one device', '', ONE],
  ['empty → one line of blocks', '', ONE_LINE],
  ['one statement → two', ONE, TWO],
  ['two statements → three', TWO, THREE],
  ['one statement → three', ONE, THREE],
  ['three statements → empty', THREE, ''],
  ['three statements → spaces', THREE, '   '],
  ['an edit inside the only statement', ONE, sub(ONE, 'size 4K', 'size 8K')],
  ['the only statement loses its }', ONE, ONE.replace('}', '')],
  ['an edit inside the second of two', TWO, sub(TWO, 'assign a', 'assign b')],
  ['three statements, the middle one edited', THREE, sub(THREE, 'size 4K', 'size 4')],
  ['three statements, the first one edited', THREE, sub(THREE, 'page-size 4K', 'page-size 64K')],
  ['three statements, the last one edited', THREE, sub(THREE, 'assign a', 'assign a {\n bar 0 at 0x1000\n }')],
  ['three statements, the middle one loses its }', THREE, sub(THREE, '0x1000\n}', '0x1000\n')],
];

/** Cases on the one-line document (four blocks on one line): its line ending does not vary. */
const ONE_LINE_CASES: Case[] = [
  ['one line: host value', ONE_LINE, sub(ONE_LINE, 'page-size 4K', 'page-size 64K')],
  ['one line: host loses its } (device recovers on the line)', ONE_LINE, sub(ONE_LINE, '4K } device', '4K device')],
  ['one line: device x loses its }', ONE_LINE, sub(ONE_LINE, '0x5000 }', '0x5000')],
  ['one line: guest loses its }', ONE_LINE, ONE_LINE.slice(0, -1)],
  ['one line: a ; between blocks', ONE_LINE, sub(ONE_LINE, '} device y', '}; device y')],
  ['one line: a newline between blocks', ONE_LINE, sub(ONE_LINE, '} device y', '}\ndevice y')],
  ['one line: a CR between blocks', ONE_LINE, sub(ONE_LINE, '} device y', '}\rdevice y')],
  ['one line: a CRLF between blocks', ONE_LINE, sub(ONE_LINE, '} device y', '}\r\ndevice y')],
  ['one line: a comment hides the rest', ONE_LINE, sub(ONE_LINE, '} device y', '} # device y')],
  ['one line: a stray } between blocks', ONE_LINE, sub(ONE_LINE, '} device y', '} } device y')],
  ['one line: device y deleted', ONE_LINE, sub(ONE_LINE, 'device y at 00:06.0 { group 6 } ', '')],
  ['one line: a device pasted in the middle', ONE_LINE, sub(ONE_LINE, '} device y', '} device z at 00:07.0 { group 7 } device y')],
  ['one line: device x → devicex', ONE_LINE, sub(ONE_LINE, 'device x', 'devicex')],
  ['one line: a string swallows the rest', ONE_LINE, sub(ONE_LINE, '{ group 6 }', '{ group "6 }')],
  ['one line: first character deleted', ONE_LINE, ONE_LINE.slice(1)],
  ['one line: a character appended', ONE_LINE, ONE_LINE + 'x'],
];

/** Odd corners: braces hidden in strings and comments, other blanks, surrogate pairs, deep nesting, bare words. */
const DEEP = 'device a at 00:01.0 { group 1 }\n' + '{ '.repeat(60) + 'x' + ' }'.repeat(60) + '\ndevice b at 00:02.0 { group 2 }\nguest g { assign a }\n';
const WORDS = 'x\ny\n{\n}\nz\nw\n';
const ODD_CASES: Case[] = [
  ['a } inside a comment uncommented', sub(DOC, '  group 1\n', '  group 1 # }\n'), sub(DOC, '  group 1\n', '  group 1 }\n')],
  ['a } inside a string: the quote removed', sub(DOC, '  group 2\n', '  name "}"\n'), sub(DOC, '  group 2\n', '  name }"\n')],
  ['a { inside a comment uncommented', sub(DOC, A_END, '} # {'), sub(DOC, A_END, '} {')],
  ['a tab and a no-break space between words', DOC, sub(sub(DOC, 'group 1', 'group\t1'), 'group 2', 'group\u00a02')],
  ['a vertical tab and a form feed', DOC, sub(sub(DOC, 'group 1', 'group\v1'), '}\ndevice c', '}\fdevice c')],
  ['an emoji changed into another (one UTF-16 unit differs)', sub(DOC, 'B \\"quoted', 'B 😀 \\"quoted'), sub(DOC, 'B \\"quoted', 'B 😁 \\"quoted')],
  ['an emoji in a word changed into another', sub(DOC, 'window mmio', 'window mm😀io'), sub(DOC, 'window mmio', 'window mm😁io')],
  ['half a surrogate pair deleted', sub(DOC, 'window mmio', 'window mm😀io'), sub(DOC, 'window mmio', 'window mm\ud83dio')],
  ['deep stray nesting: the innermost word edited', DEEP, DEEP.replace(' x ', ' y ')],
  ['deep stray nesting: the innermost } removed', DEEP, DEEP.replace(' x }', ' x')],
  ['deep stray nesting: the outermost { removed', DEEP, DEEP.replace('\n{ ', '\n')],
  ['deep stray nesting: a device inside it', DEEP, DEEP.replace(' x ', ' device q at 00:0e.0 { } ')],
  ['bare words: a { after a word (Allman) becomes stray', WORDS, WORDS.replace('y\n{', 'y\n\n}\n{')],
  ['bare words: the Allman { removed', WORDS, WORDS.replace('{\n}\n', '}\n')],
  ['bare words: a { opened at z swallows w', WORDS, WORDS.replace('z\n', 'z {\n')],
  ['bare words: a word between y and its {', WORDS, WORDS.replace('y\n{', 'y\nq\n{')],
  ['bare words: ; joins them', WORDS, 'x;y;{;};z;w;'],
  ['the same text again', DOC, DOC],
];

/** Line-ending edits on mixed documents (not run through the variants: they are about the line endings themselves). */
const CRLF_DOC = DOC.replace(/\n/g, '\r\n');
const CR_DOC = DOC.replace(/\n/g, '\r');
const EOL_CASES: Case[] = [
  ['LF → one CRLF inside device a', DOC, sub(DOC, '  group 1\n', '  group 1\r\n')],
  ['LF → one lone CR inside device a', DOC, sub(DOC, '  group 1\n', '  group 1\r')],
  ['LF → lone CR after the trailing comment', DOC, sub(DOC, A_END + '\n', A_END + '\r')],
  ['LF → lone CR between Allman header and {', DOC, sub(DOC, B_HEAD, 'device b at 00:02.0\r{')],
  ['CRLF → lone CR (the LF of one CRLF deleted)', CRLF_DOC, sub(CRLF_DOC, '  group 1\r\n', '  group 1\r')],
  ['CRLF → LF (the CR of one CRLF deleted)', CRLF_DOC, sub(CRLF_DOC, '  group 1\r\n', '  group 1\n')],
  ['CRLF: a character between CR and LF', CRLF_DOC, sub(CRLF_DOC, '  group 1\r\n', '  group 1\rx\n')],
  ['CRLF: a } between CR and LF', CRLF_DOC, sub(CRLF_DOC, A_END + '\r\n', A_END + '\r}\n')],
  ['CRLF: LF CR instead of CR LF', CRLF_DOC, sub(CRLF_DOC, '  group 1\r\n', '  group 1\n\r')],
  ['CR → CRLF (an LF after one CR)', CR_DOC, sub(CR_DOC, '  group 1\r', '  group 1\r\n')],
  ['CR → LF before one CR', CR_DOC, sub(CR_DOC, '  group 1\r', '  group 1\n\r')],
  ['CR doc: an LF added at the end of the Allman header line', CR_DOC, sub(CR_DOC, 'device b at 00:02.0\r{', 'device b at 00:02.0\n{')],
  ['CR doc: an LF added after device a (recovery looks up to the next LF)', sub(CR_DOC, A_END, '# gone'), sub(sub(CR_DOC, A_END, '# gone'), '  group 2\r', '  group 2\n')],
  ['CR doc: device a loses } and an LF appears far below', CR_DOC, sub(sub(CR_DOC, A_END, '# gone'), '  assign b\r', '  assign b\n')],
  ['CR doc: the last CR removed', CR_DOC, CR_DOC.slice(0, -1)],
  ['CR doc: all line endings turned into CRLF', CR_DOC, CRLF_DOC],
  ['LF doc: all line endings turned into CR', DOC, CR_DOC],
  ['mixed endings: every other line CRLF', DOC, lines(DOC).map((l, i) => l + (i % 2 ? '\r\n' : '\n')).join('').slice(0, -1)],
  ['BOM before a CRLF document removed', '\uFEFF' + CRLF_DOC, CRLF_DOC],
  ['BOM replaced by a comment', '\uFEFF' + DOC, '# c' + DOC],
  ['text inserted before the BOM', '\uFEFF' + DOC, 'x\uFEFF' + DOC],
  ['text inserted right after the BOM', '\uFEFF' + DOC, '\uFEFFx' + DOC],
  ['BOM and the first line replaced', '\uFEFF' + DOC, DOC.slice(DOC.indexOf('\n'))],
  ['a second BOM after the first', '\uFEFF' + DOC, '\uFEFF\uFEFF' + DOC],
  ['BOM then a device at offset 0', '\uFEFF' + THREE, '\uFEFFdevice z at 00:09.0 { group 9 }\n' + THREE],
];

// ---- the tests ----------------------------------------------------------------

describe('incremental re-parse: adversarial cases', () => {
  it('the comparison itself notices a one-off span, a changed word, a lost comment or message', () => {
    const text = DOC;
    const base = parsePic(parse(text));
    const differs = (label: string, mutate: (p: ParseResult) => void): void => {
      const p = parse(text);
      mutate(p);
      assert.ok(!same(parsePic(p).parts, base.parts), `same() misses: ${label}`);
      assert.notDeepStrictEqual(parsePicture(p), base.picture(), `picture misses: ${label}`);
    };
    differs('a statement end', (p) => p.tree.stmts[2].end++);
    differs('a nested statement start', (p) => p.tree.stmts[1].block!.stmts.find((c) => c.head() === 'sriov')!.block!.stmts[0].start--);
    differs('the source of the words', (p) => (p.tree.source.text = text.replace('page-size', 'page_size')));
    differs('a trailing comment', (p) => (p.tree.stmts[1].trailingComment = undefined));
    differs('a closing brace', (p) => (p.tree.stmts[1].block!.close = undefined));
    differs('a value span', (p) => p.file.devices[0].bars[0].size!.span.end++);
    differs('a value', (p) => (p.file.devices[0].bars[0] = { ...p.file.devices[0].bars[0], prefetch: true }));
    differs('a comment', (p) => p.tree.comments[0].start++);
    differs('an error message', (p) => p.errors.push({ span: { start: 0, end: 1 }, message: 'x' }));
    differs('a device less', (p) => p.file.devices.pop());
    assert.ok(same(parsePic(parse(text)).parts, base.parts));
  });

  for (const { name, conv } of VARIANTS.slice(0, 4)) {
    it(`targeted edits and their undo, ${name} line endings`, () => {
      for (const [label, before, after] of CASES) checkBoth(`${label} [${name}]`, conv(before), conv(after));
    });
  }

  it('braces in strings and comments, other blanks, surrogate pairs, deep nesting, bare words', () => {
    for (const { name, conv } of VARIANTS.slice(0, 3)) for (const [label, before, after] of ODD_CASES) checkBoth(`${label} [${name}]`, conv(before), conv(after));
    for (const text of [WORDS, WORDS.replace(/\n/g, '\r')]) {
      for (let at = 0; at <= text.length; at++) {
        if (at < text.length) checkEdit(`delete offset ${at} of bare words`, text, text.slice(0, at) + text.slice(at + 1));
        for (const c of ['{', '}', '\n', '\r', ';', '#', 'device', '"']) checkEdit(`insert ${show(c)} at ${at} of bare words`, text, text.slice(0, at) + c + text.slice(at));
      }
    }
  });

  it('several top-level blocks on one line', () => {
    for (const [label, before, after] of ONE_LINE_CASES) checkBoth(label, before, after);
  });

  it('edits of the line endings and the BOM themselves', () => {
    for (const [label, before, after] of EOL_CASES) checkBoth(label, before, after);
  });

  // Every offset of the document: one character deleted, and the characters
  // that change structure inserted at every token boundary (inside a long word
  // they all act alike). The analysis is checked at every 10th offset.
  const SWEEPS: readonly [Variant, string[]][] = [
    [VARIANTS[0], ['}', '{', '\n', '"', '#', ';', '\\']],
    [VARIANTS[1], ['\r', '\n', '}', '{']],
    [VARIANTS[2], ['\n', '\r', '}', '{']],
  ];
  const isWordChar = (c: string | undefined): boolean => c !== undefined && !/[\s;#"{}\uFEFF]/.test(c);
  const boundary = (text: string, at: number): boolean => !(isWordChar(text[at - 1]) && isWordChar(text[at]));
  for (const [{ name, conv }, inserts] of SWEEPS) {
    it(`one-character edits at every offset, ${name} line endings`, () => {
      const text = conv(DOC);
      for (let at = 0; at <= text.length; at++) {
        const analysis = at % 10 === 0;
        if (at < text.length) checkEdit(`delete offset ${at} [${name}]`, text, text.slice(0, at) + text.slice(at + 1), { analysis });
        if (boundary(text, at)) for (const c of inserts) checkEdit(`insert ${show(c)} at ${at} [${name}]`, text, text.slice(0, at) + c + text.slice(at), { analysis });
      }
    });
  }

  it('one-character edits near the BOM', () => {
    const text = '\uFEFF' + DOC;
    for (let at = 0; at <= 40; at++) {
      checkEdit(`delete offset ${at} [BOM]`, text, text.slice(0, at) + text.slice(at + 1));
      for (const c of ['\uFEFF', '\n', '}', '{', 'x']) checkEdit(`insert ${show(c)} at ${at} [BOM]`, text, text.slice(0, at) + c + text.slice(at));
    }
  });

  it('one-character edits at every offset of the one-line document', () => {
    for (let at = 0; at <= ONE_LINE.length; at++) {
      if (at < ONE_LINE.length) checkEdit(`delete offset ${at}`, ONE_LINE, ONE_LINE.slice(0, at) + ONE_LINE.slice(at + 1));
      for (const c of ['}', '{', '\n', '\r', '"', '#', ';']) checkEdit(`insert ${show(c)} at ${at}`, ONE_LINE, ONE_LINE.slice(0, at) + c + ONE_LINE.slice(at));
    }
  });

  for (const { name, conv } of VARIANTS.slice(0, 3)) {
    it(`whole lines deleted, duplicated, swapped and joined, ${name} line endings`, () => {
      const ls = DOC_LINES;
      const doc = (xs: string[]): string => conv(xs.join('\n'));
      const text = doc(ls);
      for (let i = 0; i < ls.length; i++) {
        checkEdit(`line ${i} deleted [${name}]`, text, doc([...ls.slice(0, i), ...ls.slice(i + 1)]));
        checkEdit(`lines ${i}-${i + 1} deleted [${name}]`, text, doc([...ls.slice(0, i), ...ls.slice(i + 2)]));
        checkEdit(`lines ${i}-${i + 3} deleted [${name}]`, text, doc([...ls.slice(0, i), ...ls.slice(i + 4)]));
        checkEdit(`line ${i} duplicated [${name}]`, text, doc([...ls.slice(0, i + 1), ...ls.slice(i)]));
        if (i + 1 < ls.length) checkEdit(`lines ${i} and ${i + 1} swapped [${name}]`, text, doc([...ls.slice(0, i), ls[i + 1], ls[i], ...ls.slice(i + 2)]));
        checkEdit(`line ${i} joined to the next [${name}]`, text, doc([...ls.slice(0, i), ls[i] + (ls[i + 1] ?? ''), ...ls.slice(i + 2)]));
        checkEdit(`line ${i} commented out [${name}]`, text, doc([...ls.slice(0, i), '# ' + ls[i], ...ls.slice(i + 1)]));
      }
    });
  }

  // ---- chains: each step starts from the previous step's re-parse / analysis ----

  /** The versions seen while typing `s` at offset `at` of `text`, one character at a time. */
  const typing = (text: string, at: number, s: string): string[] => {
    const out = [text];
    for (let i = 1; i <= s.length; i++) out.push(text.slice(0, at) + s.slice(0, i) + text.slice(at));
    return out;
  };
  /** The versions seen while deleting text[from, to) with backspace, one character at a time. */
  const backspacing = (text: string, from: number, to: number): string[] => {
    const out = [text];
    for (let end = to - 1; end >= from; end--) out.push(text.slice(0, end) + text.slice(to));
    return out;
  };
  const offsetOf = (text: string, s: string): number => {
    const i = text.indexOf(s);
    if (i < 0) throw new Error(`test bug: ${show(s)} not in the document`);
    return i;
  };

  for (const { name, conv, eol } of VARIANTS) {
    it(`chains of edits, ${name} line endings`, () => {
      const doc = conv(DOC);
      const bom = name.startsWith('BOM') ? 1 : 0;
      const dev = eol('device e at 00:05.0 {\n  bar 0 mem32 size 4K\n}\n');
      // Typing a device between a and b, at the very end, at the very start, inside the guest block.
      const mid = offsetOf(doc, eol(A_END + '\n')) + eol(A_END + '\n').length;
      checkChain(`typing a device between a and b [${name}]`, typing(doc, mid, dev));
      checkChain(`typing a device at the end [${name}]`, typing(doc, doc.length, dev));
      checkChain(`typing a device at the start [${name}]`, typing(doc, bom, dev));
      checkChain(`typing a device inside the guest block [${name}]`, typing(doc, offsetOf(doc, '  assign b'), dev));
      // Remove a `}`, type inside the now open block, put the `}` back.
      const noClose = sub(doc, A_END, '# trailing after a');
      const typed = sub(noClose, eol('  group 1\n'), eol('  group 1\n  rom size 64K\n'));
      checkChain(`remove }, type, re-add } [${name}]`, [doc, noClose, typed, sub(typed, '# trailing after a', A_END), doc]);
      // Backspacing through `}` and its trailing comment, then through the Allman header and its `{`.
      const aEnd = offsetOf(doc, A_END);
      checkChain(`backspacing through } # comment [${name}]`, backspacing(doc, aEnd - 4, aEnd + A_END.length + eol('\n').length));
      const bHead = offsetOf(doc, eol(B_HEAD));
      checkChain(`backspacing through an Allman header [${name}]`, backspacing(doc, bHead, bHead + eol(B_HEAD).length + 1));
      // Joining and splitting the Allman header again and again.
      const joined = sub(doc, eol(B_HEAD), 'device b at 00:02.0 {');
      checkChain(`Allman join/split toggled [${name}]`, [doc, joined, doc, joined, sub(joined, 'device b at 00:02.0 {', eol('device b at 00:02.0 \n\n{')), doc]);
      // Commenting out device b line by line, then uncommenting it (each version written line-wise).
      const from = lineIndex('device b');
      const to = lineIndex('device c');
      const versions: string[] = [];
      for (let k = from; k <= to; k++) versions.push(conv(DOC_LINES.map((l, i) => (i >= from && i < k ? '# ' + l : l)).join('\n')));
      for (let k = from + 1; k <= to; k++) versions.push(conv(DOC_LINES.map((l, i) => (i >= k && i < to ? '# ' + l : l)).join('\n')));
      checkChain(`commenting device b out and in, line by line [${name}]`, versions);
      // Typing a string with escapes (unterminated most of the way).
      const nameAt = offsetOf(doc, eol('  group 1\n')) + eol('  group 1\n').length;
      checkChain(`typing a string with escapes [${name}]`, typing(doc, nameAt, eol('  name "a\\"b\\\\c"\n')));
      // Through the empty document and back, then edits.
      const back = conv(THREE);
      checkChain(`to empty and back [${name}]`, [doc, '', back, sub(back, 'size 4K', 'size 8K'), sub(back, 'size 4K', 'size 8'), doc]);
      // Deleting device blocks one after the other, then pasting them back.
      const noA = doc.slice(0, offsetOf(doc, 'device a')) + doc.slice(mid);
      const noAB = noA.slice(0, offsetOf(noA, 'device b')) + noA.slice(offsetOf(noA, 'device c'));
      checkChain(`deleting devices then pasting them back [${name}]`, [doc, noA, noAB, noA, doc, doc + eol(PASTE), doc]);
    });
  }

  it('chains on the one-line document and on tiny documents', () => {
    checkChain('typing a device into the one-line document', typing(ONE_LINE, ONE_LINE.indexOf(' device y'), ' device z at 00:07.0 { group 7 }'));
    checkChain('backspacing the one-line document to nothing', backspacing(ONE_LINE, 0, ONE_LINE.length));
    checkChain('typing the three-statement document from nothing', typing('', 0, THREE));
    checkChain('typing the three-statement document with CRLF from nothing', typing('', 0, THREE.replace(/\n/g, '\r\n')));
    checkChain('one → two → three → two → one statements', [ONE, TWO, THREE, TWO, ONE, '', ONE]);
  });

  // ---- a fix checked on a copy must not touch the analysis it starts from ------

  it('parseEditedCopy leaves its input alone and agrees with a fresh analysis', () => {
    const key = (d: Diag): string => [d.rule, d.subject ?? '', d.target?.guest ?? '', d.severity, d.message].join('|');
    for (const { name, conv, eol } of VARIANTS) {
      const text = conv(DOC);
      const at = (s: string, plus = 0): number => offsetOf(text, eol(s)) + plus;
      const replace = (s: string, plus: number, len: number, newText: string) => ({ span: { start: at(s, plus), end: at(s, plus) + len }, newText });
      const cases: { label: string; edits: { span: { start: number; end: number }; newText: string }[] }[] = [
        { label: 'size inside sriov', edits: [replace('size 4K at 0x200000', 5, 2, '16K')] },
        { label: 'assign-block address', edits: [replace('0x4000_0000\n  }', 0, 11, '0x4000_1000')] },
        { label: 'Allman device bar', edits: [replace('0x101800', 0, 8, '0x102000')] },
        { label: 'a line inside device c on the ; line', edits: [replace('group 3;', 0, 7, 'group 4')] },
        { label: 'a } added inside device a', edits: [replace('  group 1', 0, 0, '}')] },
        { label: 'a string opened inside device b', edits: [replace('  group 2', 0, 0, '"')] },
        { label: 'a newline inside device a', edits: [replace('  group 1', 2, 0, eol('\n'))] },
        { label: 'two devices at once', edits: [replace('size 4K at 0x100000', 5, 2, '8K'), replace('{ group 3 }', 8, 1, '7')] },
      ];
      for (const c of cases) {
        const label = `${c.label} [${name}]`;
        const after = applyEdits(text, c.edits);
        const prev = analyze(text);
        const before = parsePic(analysisParse(prev));
        const copy = parseEditedCopy(analysisParse(prev), text, c.edits);
        samePicture(parsePic(analysisParse(prev)), before, `parseEditedCopy changed its input: ${label}`);
        if (copy) {
          const viaCopy = analyzeParsed(text, copy, prev.options).diagnostics.map(key).sort();
          const fresh = analyze(after).diagnostics.map(key).sort();
          assert.deepStrictEqual(viaCopy, fresh, `parseEditedCopy findings differ from a fresh analysis: ${describeEdit(label, text, after)}`);
        }
        // The analysis the copy was made from still serves an incremental analysis of the edited text.
        const inc = analyze(after, {}, prev);
        samePicture(diagPic(inc), diagPic(analyze(after)), `analysis after parseEditedCopy differs: ${describeEdit(label, text, after)}`);
        samePicture(parsePic(analysisParse(inc)), parsePic(parse(after)), `parse after parseEditedCopy differs: ${describeEdit(label, text, after)}`);
      }
    }
  });

  it('an incremental analysis under options (and options changed since the previous analysis) equals a fresh one', () => {
    const optionSets: AnalyzeOptions[] = [
      { pageSize: 65536n },
      { severities: { 'bar-unassigned': 'off', syntax: 'warning', 'subpage-unaligned': 'error' } },
      { msixMappableDefault: false, pageSize: 16384n },
    ];
    const edits: Case[] = [
      CASES.find((c) => c[0] === 'a value inside device a')!,
      CASES.find((c) => c[0] === 'device a loses its } (comment kept; Allman device b cannot recover it)')!,
      CASES.find((c) => c[0] === 'three devices pasted after device a')!,
      CASES.find((c) => c[0] === 'the whole Allman device b deleted')!,
    ];
    for (const { name, conv } of VARIANTS.slice(0, 3)) {
      for (const [label, b, a] of edits) {
        for (const opts of optionSets) {
          for (const prevOpts of [opts, {}]) {
            const what = describeEdit(`${label} [${name}] with ${JSON.stringify(opts, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}${prevOpts === opts ? '' : ' (previous analysis without options)'}`, conv(b), conv(a));
            const inc = analyze(conv(a), opts, analyze(conv(b), prevOpts));
            samePicture(diagPic(inc), diagPic(analyze(conv(a), opts)), `analysis differs: ${what}`);
          }
        }
      }
    }
  });

  it('the re-parser answered for a good share of the edits (the cases are not all full parses)', () => {
    // Not a correctness property: only a guard that the checks above exercised reparse at all.
    assert.ok(stats.edits > 1000, `only ${stats.edits} edits checked`);
    assert.ok(stats.reparsed > stats.edits / 3, `reparse answered for only ${stats.reparsed} of ${stats.edits} edits`);
    assert.ok(stats.analysesReparsed > stats.analyses / 3, `analyze re-parsed only ${stats.analysesReparsed} of ${stats.analyses} analyses`);
    console.log(`      (${stats.reparsed} of ${stats.edits} edits re-parsed incrementally; ${stats.analysesReparsed} of ${stats.analyses} analyses)`);
  });
});
