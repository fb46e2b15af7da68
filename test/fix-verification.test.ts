// The check a quick fix passes before it is offered (spec section 5: applying it
// removes the diagnostic it targets without creating an error). Hand-made edits
// on a small topology, through both ways a fix is checked: edits in one guest
// block (only that guest is analysed again) and edits elsewhere (the edited copy
// is analysed incrementally, reusing the original's results where it can).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze } from '../server/src/engine/analyze';
import { verifyFix } from '../server/src/engine/fixes';
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

  describe('afterwards', () => {
    it('leaves the analysis it checked against as it was', () => {
      const again = analyze(TEXT);
      const key = (x: Diagnostic): string => `${x.rule} ${x.subject} ${x.severity} ${x.span.start}-${x.span.end}`;
      assert.deepStrictEqual(a.diagnostics.map(key), again.diagnostics.map(key));
    });
  });
});
