// sameDiagnostics decides whether a version's diagnostics need to reach the
// client at all: every visible difference must count, data.version must not.

import * as assert from 'assert';
import fc from 'fast-check';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import type { Diagnostic as EngineDiagnostic } from '../server/src/engine/types';
import { analyze } from '../server/src/engine/analyze';
import { changedRegion } from '../server/src/engine/incremental';
import { LineIndex } from '../server/src/engine/lineIndex';
import { sameAfterEdit, sameDiagnostics, snapshotDiagnostics, toLspDiagnostics } from '../server/src/lsp/convert';
import { generate, toBartopo } from '../bench/generate';
import { NEC } from './lsp-docs';
import { OMITTED_CODE } from '../server/src/protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DocumentStore, lspDiagnostics } from '../server/src/lsp/documents';
import { DEFAULT_SETTINGS } from '../server/src/lsp/settings';

type Mutation = [string, (ds: Diagnostic[]) => void];

const withRelated = (ds: Diagnostic[]): Diagnostic => ds.find((d) => (d.relatedInformation?.length ?? 0) > 0)!;
const withTarget = (ds: Diagnostic[]): Diagnostic & { data: { target: { bar?: number; device?: string; guest?: string; region?: string } } } =>
  ds.find((d) => (d.data as { target?: unknown }).target !== undefined) as never;

const VISIBLE: Mutation[] = [
  ['a range start column', (ds) => ds[0].range.start.character++],
  ['a range end line', (ds) => ds[0].range.end.line++],
  ['a severity', (ds) => (ds[0].severity = ds[0].severity === 1 ? 2 : 1)],
  ['a code', (ds) => (ds[0].code = 'bar-overlap')],
  ['a message', (ds) => (ds[0].message += ' ')],
  ['a source', (ds) => (ds[0].source = 'other')],
  ['a rule link', (ds) => (ds[0].codeDescription = { href: 'https://example.invalid/' })],
  ['the subject in data', (ds) => ((ds[0].data as { subject?: string }).subject = 'other.bar0')],
  ['the rule in data', (ds) => ((ds[0].data as { rule: string }).rule = 'bar-overlap')],
  ['the target BAR', (ds) => (withTarget(ds).data.target.bar = 5)],
  ['the target guest', (ds) => (withTarget(ds).data.target.guest = 'vm9')],
  ['the target region', (ds) => (withTarget(ds).data.target.region = 'other')],
  ['the target device', (ds) => (withTarget(ds).data.target.device = 'other')],
  ['a related message', (ds) => (withRelated(ds).relatedInformation![0].message += '!')],
  ['a related range', (ds) => withRelated(ds).relatedInformation![0].location.range.start.line++],
  ['a related uri', (ds) => (withRelated(ds).relatedInformation![0].location.uri = 'file:///other.bartopo')],
  ['related information dropped', (ds) => delete withRelated(ds).relatedInformation],
  ['related information added', (ds) => (ds.find((d) => !d.relatedInformation)!.relatedInformation = [])],
  ['one diagnostic more', (ds) => ds.push(structuredClone(ds[0]))],
  ['one diagnostic less', (ds) => ds.pop()],
  ['the order', (ds) => ds.reverse()],
];

describe('lsp: unchanged diagnostics are recognised', () => {
  const text = NEC;
  const base = toLspDiagnostics(new LineIndex(text), 'file:///x.bartopo', 1, analyze(text).diagnostics, 1000).diagnostics;

  it('the example has what the mutations need', () => {
    assert.ok(base.length >= 3 && withRelated(base) && withTarget(base) && base.some((d) => !d.relatedInformation));
  });

  it('a copy, or the same diagnostics of another version, count as the same', () => {
    assert.ok(sameDiagnostics(base, structuredClone(base)));
    const later = toLspDiagnostics(new LineIndex(text), 'file:///x.bartopo', 7, analyze(text).diagnostics, 1000).diagnostics;
    assert.ok(later.every((d) => (d.data as { version: number }).version === 7));
    assert.ok(sameDiagnostics(base, later));
  });

  for (const [what, mutate] of VISIBLE) {
    it(`a change of ${what} counts`, () => {
      const copy = structuredClone(base);
      mutate(copy);
      assert.ok(!sameDiagnostics(base, copy));
      assert.ok(!sameDiagnostics(copy, base));
    });
  }
});

// sameAfterEdit settles most keystrokes from the engine's diagnostics and where the edit moved
// them, before any LSP conversion. It may say "not sure" (false) but never "same" wrongly.
describe('lsp: unchanged diagnostics told from the edit alone (sameAfterEdit)', () => {
  const uri = 'file:///x.bartopo';
  const convert = (t: string, a: ReturnType<typeof analyze>): Diagnostic[] => toLspDiagnostics(new LineIndex(t), uri, 1, a.diagnostics, 100000).diagnostics;
  const big = toBartopo(generate({ devices: 60, seed: 11 }));

  /** Applies `insert` at `at` (after deleting `del` characters) through an incremental analysis, as the server does; both verdicts. */
  const check = (text: string, at: number, del: number, insert: string): { quick: boolean; full: boolean } => {
    const before = analyze(text);
    const snap = snapshotDiagnostics(before.diagnostics);
    const lspBefore = convert(text, before);
    const after = text.slice(0, at) + insert + text.slice(at + del);
    const a = analyze(after, {}, before); // consumes `before`: its reused spans move, the snapshot must not
    const { prefix, suffix } = changedRegion(text, after);
    return { quick: sameAfterEdit(snap, a.diagnostics, after, text, prefix, suffix), full: sameDiagnostics(lspBefore, convert(after, a)) };
  };

  it('recognises a keystroke in a device label (diagnostics before and after it, none on its line)', () => {
    const at = big.indexOf('"', big.indexOf('  name "', big.length >> 1) + 8);
    const r = check(big, at, 0, 'x');
    assert.ok(r.full, 'the example edit must leave the diagnostics as they were');
    assert.ok(r.quick);
  });

  it('says no when a diagnostic on the edited line moves right, or an edit adds a line', () => {
    // ohci1's BAR is subpage-unaligned: typing before its address on the same line moves the range.
    const line = NEC.indexOf('  bar 0 mem32 size 4K at 0x3fe080021000');
    assert.deepStrictEqual(check(NEC, line + 2, 0, ' '), { quick: false, full: false });
    // A new comment line above: same diagnostics, one line lower.
    assert.deepStrictEqual(check(NEC, line, 0, '# x\n'), { quick: false, full: false });
    // A line break at the end of the first line (a comment, nothing on it): everything below moves down.
    assert.deepStrictEqual(check(NEC, NEC.indexOf('\n'), 0, '\n'), { quick: false, full: false });
    // A character typed at the end of that comment: nothing moves.
    assert.deepStrictEqual(check(NEC, NEC.indexOf('\n'), 0, 'x'), { quick: true, full: true });
  });

  it('says no when an edit splits a CRLF or joins a CR and an LF into one (no line break in the edit itself)', () => {
    const crlf = NEC.replace(/\n/g, '\r\n');
    const lf = crlf.indexOf('\r\n') + 1;
    // `\r\n` → `\r \n`: the first line now ends at the `\r`, a blank line follows, everything below moves down.
    assert.deepStrictEqual(check(crlf, lf, 0, ' '), { quick: false, full: false });
    // And back: `\r \n` → `\r\n`.
    const split = crlf.slice(0, lf) + ' ' + crlf.slice(lf);
    assert.deepStrictEqual(check(split, lf, 1, ''), { quick: false, full: false });
    // A character typed before the `\r`: nothing moves.
    assert.deepStrictEqual(check(crlf, lf - 1, 0, 'x'), { quick: true, full: true });
  });

  it('never says "same" when the converted diagnostics differ (random edits)', () => {
    let quickYes = 0;
    fc.assert(
      fc.property(fc.constantFrom(NEC, big, NEC.replace(/\n/g, '\r\n'), NEC.replace(/\n/g, (_, i: number) => (i % 3 === 0 ? '\r' : i % 3 === 1 ? '\r\n' : '\n'))), fc.nat(), fc.boolean(), fc.nat({ max: 3 }), fc.constantFrom('x', '0', 'f', ' ', '"', '#', '\n', '\r', '\r\n', '\n\n', '# c\n', '}', 'mem64', ''), (text, pos, atLineEnd, del, insert) => {
        // Half of the edits at a line's end (typing after a comment, a label, a value), where diagnostics often stay.
        let at = pos % (text.length + 1);
        if (atLineEnd) at = text.indexOf('\n', at) < 0 ? text.length : text.indexOf('\n', at);
        const r = check(text, at, Math.min(del, text.length - at), insert);
        if (r.quick) {
          quickYes++;
          assert.ok(r.full, `sameAfterEdit said same at ${at} (+${JSON.stringify(insert)}, -${del}) but the LSP diagnostics differ`);
        }
      }),
      { numRuns: 400 },
    );
    assert.ok(quickYes > 0, 'no edit was recognised at all');
  });
});

// A new version's conversion takes over the previous version's LSP diagnostics
// where they still hold (same engine diagnostic, same ranges): the result must
// be what a fresh conversion gives (data.version aside), whatever the edit.
describe('lsp: converting a new version takes over what still holds', () => {
  const uri = 'file:///x.bartopo';
  const big = toBartopo(generate({ devices: 60, seed: 11 }));
  const withoutVersion = (ds: Diagnostic[]): unknown[] => ds.map((d) => ({ ...d, data: d.data ? { ...(d.data as object), version: 0 } : undefined }));

  const edited = (text: string, at: number, del: number, insert: string, max: number) => {
    const before = analyze(text);
    const shown = toLspDiagnostics(new LineIndex(text), uri, 1, before.diagnostics, max);
    const after = text.slice(0, at) + insert + text.slice(at + del);
    const a = analyze(after, {}, before);
    const index = new LineIndex(after);
    return { shown, reused: toLspDiagnostics(index, uri, 2, a.diagnostics, max, shown), fresh: toLspDiagnostics(index, uri, 2, a.diagnostics, max) };
  };

  it('a moved BAR: the diagnostics it does not touch are the same objects, the result that of a fresh conversion', () => {
    // The last address digit of a BAR line that has a finding of its own (its message names the address).
    const lines = big.split('\n');
    const first = analyze(big).diagnostics.find((d) => / at 0x[0-9a-f_]+$/.test(big.slice(big.lastIndexOf('\n', d.span.start) + 1, big.indexOf('\n', d.span.start))))!;
    const lineEnd = big.indexOf('\n', first.span.start);
    const at = lineEnd - 1;
    assert.ok(lines.length > 100 && /[0-9a-f]/.test(big[at]));
    const { shown, reused, fresh } = edited(big, at, 1, big[at] === '8' ? '9' : '8', 100000);
    assert.deepStrictEqual(withoutVersion(reused.diagnostics), withoutVersion(fresh.diagnostics));
    const kept = reused.diagnostics.filter((d) => shown.diagnostics.includes(d)).length;
    assert.ok(kept > 0 && kept < reused.diagnostics.length, `${kept} of ${reused.diagnostics.length} taken over`);
  });

  it('a line added at the top: nothing is taken over (every range moved), the result that of a fresh conversion', () => {
    const { shown, reused, fresh } = edited(big, 0, 0, '# one more line\n', 100000);
    assert.deepStrictEqual(withoutVersion(reused.diagnostics), withoutVersion(fresh.diagnostics));
    assert.ok(!reused.diagnostics.some((d) => shown.diagnostics.includes(d)));
  });

  it('random edits, with and without a cap: the same as a fresh conversion', () => {
    fc.assert(
      fc.property(fc.constantFrom(NEC, big), fc.nat(), fc.nat({ max: 3 }), fc.constantFrom('x', '0', 'f', ' ', '"', '#', '\n', '# c\n', '}', 'mem64', ''), fc.constantFrom(3, 40, 100000), (text, pos, del, insert, max) => {
        const at = pos % (text.length + 1);
        const { reused, fresh } = edited(text, at, Math.min(del, text.length - at), insert, max);
        assert.deepStrictEqual(withoutVersion(reused.diagnostics), withoutVersion(fresh.diagnostics));
        assert.strictEqual(reused.omitted, fresh.omitted);
      }),
      { numRuns: 300 },
    );
  });

  it('a cap keeps errors first, then warnings, then infos, each in file order, and shows them in file order', () => {
    const severities = ['error', 'warning', 'info'] as const;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...severities), { maxLength: 60 }), fc.nat({ max: 70 }), (sev, max) => {
        const diags: EngineDiagnostic[] = sev.map((severity, i) => ({ rule: 'bar-overlap', severity, message: `m${i}`, span: { start: i, end: i }, related: [] }));
        const text = 'x'.repeat(60);
        const got = toLspDiagnostics(new LineIndex(text), uri, 1, diags, max);
        // Reference: a stable sort by severity, the first `max`, back in file order.
        const rank = (s: string): number => severities.indexOf(s as never);
        const want = diags
          .map((d, i) => ({ d, i }))
          .sort((a, b) => rank(a.d.severity) - rank(b.d.severity) || a.i - b.i)
          .slice(0, max)
          .sort((a, b) => a.i - b.i)
          .map((x) => x.d.message);
        const shown = got.diagnostics.filter((d) => d.code !== OMITTED_CODE).map((d) => d.message);
        assert.deepStrictEqual(shown.slice(0, want.length), want);
        assert.strictEqual(got.omitted, Math.max(0, diags.length - max));
        assert.strictEqual(got.diagnostics.length, want.length + (got.omitted > 0 ? 1 : 0));
      }),
      { numRuns: 300 },
    );
  });
});

// The store keeps the list shown when an edit leaves the engine's diagnostics as they were: nothing in
// that list may depend on text the edit changed (the "left out" note once spanned the first line).
describe('lsp: the list kept after an edit still fits the edited text', () => {
  it('with a cap, typing and deleting on the first line: the kept list equals a fresh conversion', () => {
    const uri = 'file:///kept.bartopo';
    const doc = TextDocument.create(uri, 'bartopo', 1, '# a first line that the edits below shorten and lengthen\n' + toBartopo(generate({ devices: 40, seed: 1 })));
    const store = new DocumentStore({ get: (u: string) => (u === uri ? doc : undefined), all: () => [doc] } as never);
    store.setSettings({ ...DEFAULT_SETTINGS, maxDiagnostics: 3 });
    lspDiagnostics(store.get(uri)!);
    const view = (ds: Diagnostic[]): unknown[] => ds.map((d) => [d.code, d.range, d.message]);
    let kept = 0;
    for (const [start, end, text] of [[2, 12, ''], [2, 2, 'longer and longer '], [0, 30, '#']] as const) {
      TextDocument.update(doc, [{ range: { start: { line: 0, character: start }, end: { line: 0, character: end } }, text }], doc.version + 1);
      const s = store.get(uri)!;
      if (s.sameAs !== undefined) kept++;
      const fresh = toLspDiagnostics(new LineIndex(doc.getText()), uri, doc.version, s.analysis.diagnostics, 3).diagnostics;
      assert.deepStrictEqual(view(lspDiagnostics(s).diagnostics), view(fresh));
    }
    assert.strictEqual(kept, 3, 'each edit leaves the diagnostics as they were');
  });
});
