// The check a quick fix passes before it is offered (spec section 5: applying it
// removes the diagnostic it targets without creating an error). Hand-made edits
// on a small topology, through both ways a fix is checked: edits in one guest
// block (only that guest is analysed again) and edits elsewhere (the edited copy
// is analysed incrementally, reusing the original's results where it can).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze } from '../server/src/engine/analyze';
import { computeFixes, verifyFix } from '../server/src/engine/fixes';
import { Diagnostic, TextEdit } from '../server/src/engine/types';
import { FIXTURES_DIR } from './paths';

const TEXT = fs.readFileSync(path.join(FIXTURES_DIR, 'fixes', 'verification.bartopo'), 'utf8');

/** An edit that replaces the first `from` after `after` with `to`. */
function replace(after: string, from: string, to: string): TextEdit {
  const at = TEXT.indexOf(from, TEXT.indexOf(after));
  assert.ok(at >= 0, `${from} after ${after}`);
  return { span: { start: at, end: at + from.length }, newText: to };
}

function find(a: ReturnType<typeof analyze>, rule: string, subject: string): Diagnostic {
  const d = a.diagnostics.find((x) => x.rule === rule && x.subject === subject);
  assert.ok(d, `${rule} ${subject} in ${a.diagnostics.map((x) => `${x.rule} ${x.subject}`).join(', ')}`);
  return d;
}

describe('fix verification', () => {
  const a = analyze(TEXT);

  it('the topology reports what the cases below start from, and no error', () => {
    assert.deepStrictEqual(a.diagnostics.filter((x) => x.severity === 'error'), []);
    find(a, 'subpage-unaligned', 'a.bar0');
    find(a, 'subpage-unaligned', 'c.bar0');
    find(a, 'guest-offset-mismatch', 'd.bar0');
    find(a, 'guest-offset-mismatch', 'e.bar0');
  });

  // Per way of checking: the target, then edits (`after`: where, `from` → `to`) and the verdict expected.
  const WAYS: { way: string; target: [string, string]; edits: [string, string, string, string, { ok: boolean; clean: boolean }][] }[] = [
    {
      way: 'host-side edits (the edited copy analysed incrementally)',
      target: ['subpage-unaligned', 'a.bar0'],
      edits: [
        ['refuses an edit that leaves the target in place', 'device b ', '0x1_0010_0000', '0x1_0020_0000', { ok: false, clean: false }],
        ['refuses an edit that removes the target but makes an error (a.bar0 moved onto b.bar0: bar-overlap)', 'device a ', '0x1_0000_1000', '0x1_0010_0000', { ok: false, clean: false }],
        ["accepts an edit that removes the target and adds only a warning, as not clean (a.bar0 starts c.bar0's page: subpage-shared)", 'device a ', '0x1_0000_1000', '0x1_0030_0000', { ok: true, clean: false }],
        ['accepts a clean edit (a.bar0 to a page of its own)', 'device a ', '0x1_0000_1000', '0x1_0060_0000', { ok: true, clean: true }],
      ],
    },
    {
      way: 'edits inside one guest block (that guest analysed again)',
      target: ['guest-offset-mismatch', 'd.bar0'],
      edits: [
        ['refuses an edit that leaves the target in place', 'assign d ', '0x2_0000_1000', '0x2_0000_2000', { ok: false, clean: false }],
        ['refuses an edit that removes the target but makes an error (d.bar0 onto b.bar0 in the guest: guest-overlap)', 'assign d ', '0x2_0000_1000', '0x2_0010_0000', { ok: false, clean: false }],
        ["accepts an edit that removes the target and adds only a warning, as not clean (d.bar0 in e.bar0's guest page: guest-page-conflict)", 'assign d ', '0x2_0000_1000', '0x2_0030_0000', { ok: true, clean: false }],
        ['accepts a clean edit (d.bar0 at offset 0 of a guest page of its own)', 'assign d ', '0x2_0000_1000', '0x2_0020_0000', { ok: true, clean: true }],
      ],
    },
  ];

  for (const { way, target, edits } of WAYS) {
    describe(way, () => {
      for (const [title, after, from, to, expected] of edits) {
        it(title, () => {
          assert.deepStrictEqual(verifyFix(a, find(a, ...target), [replace(after, from, to)]), expected);
        });
      }
    });
  }

  describe('with errors already in the file', () => {
    // A syntax error has no subject: errors are told apart by message and counted, so an existing one hides no new one.
    const text = ['device d at 00:00.0 {', '  bar 0 mem64 size 8M at 0xffff_ffff_fff0_0000', '  frob', '}', 'device e at 00:01.0 {', '  bar 0 mem64 size 4K at 0x1000', '  label "e"', '}', ''].join('\n');
    const b = analyze(text);
    const at = (from: string, to: string): TextEdit => ({ span: { start: text.indexOf(from), end: text.indexOf(from) + from.length }, newText: to });

    it('refuses an edit that makes a different syntax error (an address past 2^64)', () => {
      const target = b.diagnostics.find((x) => x.rule === 'bar-alignment')!;
      assert.ok(target, b.diagnostics.map((x) => x.rule).join());
      assert.deepStrictEqual(verifyFix(b, target, [at('0xffff_ffff_fff0_0000', '0x1_0000_0000_0000_0000')]), { ok: false, clean: false });
      assert.deepStrictEqual(verifyFix(b, target, [at('0xffff_ffff_fff0_0000', '0xffff_ffff_ff80_0000')]), { ok: true, clean: true });
    });

    it('refuses an edit that repeats an error the file already has (one more of the same message)', () => {
      const target = b.diagnostics.find((x) => x.rule === 'bar-alignment')!;
      const fixAndRepeat = [at('0xffff_ffff_fff0_0000', '0xffff_ffff_ff80_0000'), at('label "e"', 'frob')];
      assert.deepStrictEqual(verifyFix(b, target, fixAndRepeat), { ok: false, clean: false });
    });

    it('offers no alignment up past the end of the 64-bit address space', () => {
      const target = b.diagnostics.find((x) => x.rule === 'bar-alignment')!;
      const titles = computeFixes(b, target).map((f) => f.title);
      assert.deepStrictEqual(titles, ['Align address down to 0xffffffffff800000 (a multiple of 8M)']);
    });
  });

  describe('afterwards', () => {
    it('leaves the analysis it checked against as it was', () => {
      const again = analyze(TEXT);
      const key = (x: Diagnostic): string => `${x.rule} ${x.subject} ${x.severity} ${x.span.start}-${x.span.end}`;
      assert.deepStrictEqual(a.diagnostics.map(key), again.diagnostics.map(key));
    });
  });
});
