// The check a quick fix passes before it is offered (spec section 5: applying it
// removes the diagnostic it targets without creating an error). Hand-made edits
// on a small topology, through both ways a fix is checked: edits in one guest
// block (only that guest is analysed again) and edits elsewhere (the edited copy
// is analysed incrementally, reusing the original's results where it can).
import * as assert from 'assert';
import { analyze } from '../server/src/engine/analyze';
import { verifyFix } from '../server/src/engine/fixes';
import { Diagnostic, TextEdit } from '../server/src/engine/types';

// 64K pages. a.bar0 is 4K at offset 0x1000 of its page (subpage-unaligned); c.bar0 too, in
// another page; b.bar0 is a whole 64K page. d.bar0 and e.bar0 are 4K and start pages of their
// own (mappable); in the guest d.bar0 sits at offset 0x1000 (guest-offset-mismatch) and
// e.bar0 at offset 0x1000 of guest page 0x2_0030_0000 (mismatch too).
const TEXT = `host h {
  page-size 64K
}
device a at 00:01.0 {
  group 1
  bar 0 mem64 size 4K at 0x1_0000_1000
}
device b at 00:02.0 {
  group 2
  bar 0 mem64 size 64K at 0x1_0010_0000
}
device c at 00:03.0 {
  group 1
  bar 0 mem64 size 4K at 0x1_0030_1000
}
device d at 00:04.0 {
  group 4
  bar 0 mem64 size 4K at 0x1_0040_0000
}
device e at 00:05.0 {
  group 5
  bar 0 mem64 size 4K at 0x1_0050_0000
}
guest vm {
  window 0x2_0000_0000 size 1G
  assign b { bar 0 at 0x2_0010_0000 }
  assign d { bar 0 at 0x2_0000_1000 }
  assign e { bar 0 at 0x2_0030_1000 }
}
`;

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

  describe('host-side edits (the edited copy analysed incrementally)', () => {
    const target = (): Diagnostic => find(a, 'subpage-unaligned', 'a.bar0');

    it('refuses an edit that leaves the target in place', () => {
      assert.deepStrictEqual(verifyFix(a, target(), [replace('device b ', '0x1_0010_0000', '0x1_0020_0000')]), { ok: false, clean: false });
    });

    it('refuses an edit that removes the target but makes an error (a.bar0 moved onto b.bar0: bar-overlap)', () => {
      assert.deepStrictEqual(verifyFix(a, target(), [replace('device a ', '0x1_0000_1000', '0x1_0010_0000')]), { ok: false, clean: false });
    });

    it('accepts an edit that removes the target and adds only a warning, as not clean (a.bar0 starts c.bar0\'s page: subpage-shared)', () => {
      assert.deepStrictEqual(verifyFix(a, target(), [replace('device a ', '0x1_0000_1000', '0x1_0030_0000')]), { ok: true, clean: false });
    });

    it('accepts a clean edit (a.bar0 to a page of its own)', () => {
      assert.deepStrictEqual(verifyFix(a, target(), [replace('device a ', '0x1_0000_1000', '0x1_0060_0000')]), { ok: true, clean: true });
    });
  });

  describe('edits inside one guest block (that guest analysed again)', () => {
    const target = (): Diagnostic => find(a, 'guest-offset-mismatch', 'd.bar0');

    it('refuses an edit that leaves the target in place', () => {
      assert.deepStrictEqual(verifyFix(a, target(), [replace('assign d ', '0x2_0000_1000', '0x2_0000_2000')]), { ok: false, clean: false });
    });

    it('refuses an edit that removes the target but makes an error (d.bar0 onto b.bar0 in the guest: guest-overlap)', () => {
      assert.deepStrictEqual(verifyFix(a, target(), [replace('assign d ', '0x2_0000_1000', '0x2_0010_0000')]), { ok: false, clean: false });
    });

    it('accepts an edit that removes the target and adds only a warning, as not clean (d.bar0 in e.bar0\'s guest page: guest-page-conflict)', () => {
      assert.deepStrictEqual(verifyFix(a, target(), [replace('assign d ', '0x2_0000_1000', '0x2_0030_0000')]), { ok: true, clean: false });
    });

    it('accepts a clean edit (d.bar0 at offset 0 of a guest page of its own)', () => {
      assert.deepStrictEqual(verifyFix(a, target(), [replace('assign d ', '0x2_0000_1000', '0x2_0020_0000')]), { ok: true, clean: true });
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
