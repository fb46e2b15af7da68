// The line edits the server sends for a fix or a formatting: applying them
// gives exactly the text the engine's edits give, and they never rewrite a
// line that stays the same.
import * as assert from 'assert';
import * as fc from 'fast-check';
import { applyEdits } from '../server/src/engine/fixes';
import { TextEdit } from '../server/src/engine/types';
import { diffEdits, localLineEdits } from '../server/src/lsp/convert';

const line = fc.array(fc.constantFrom('a', 'b', 'c', ' ', '#', '{', '}', 'é', '😀'), { maxLength: 8 }).map((cs) => cs.join(''));
const eol = fc.constantFrom('\n', '\r\n', '\r');
const doc = fc.array(fc.tuple(line, eol), { maxLength: 30 }).map((ls) => ls.map(([l, e]) => l + e).join(''));

/** Non-overlapping edits at random places of `text`. */
function editsOf(text: string): fc.Arbitrary<TextEdit[]> {
  return fc
    .array(fc.tuple(fc.nat(text.length), fc.nat(6), fc.array(fc.constantFrom('x', 'y', '\n', ' '), { maxLength: 6 }).map((cs) => cs.join(''))), { maxLength: 5 })
    .map((raw) => {
      const sorted = raw.map(([s, len, t]) => ({ start: s, end: Math.min(text.length, s + len), t })).sort((a, b) => a.start - b.start);
      const out: TextEdit[] = [];
      let last = -1;
      for (const r of sorted) {
        if (r.start <= last) continue; // keep them disjoint, as a fix's edits are
        out.push({ span: { start: r.start, end: r.end }, newText: r.t });
        last = r.end;
      }
      return out;
    });
}

function unchangedLinesKept(text: string, edits: TextEdit[]): void {
  for (const e of edits) assert.notStrictEqual(text.slice(e.span.start, e.span.end), e.newText, 'an edit rewrites text with itself');
}

describe('line edits of fixes', () => {
  it('localLineEdits(text, edits) applied gives applyEdits(text, edits), touching only changed lines', () => {
    fc.assert(
      fc.property(
        doc.chain((t) => fc.tuple(fc.constant(t), editsOf(t))),
        ([text, edits]) => {
          const expected = applyEdits(text, edits);
          const local = localLineEdits(text, edits);
          assert.strictEqual(applyEdits(text, local), expected);
          unchangedLinesKept(text, local);
          // Each edit covers whole lines: it starts at a line start.
          for (const e of local) assert.ok(e.span.start === 0 || /[\r\n]/.test(text[e.span.start - 1]), `edit at ${e.span.start} does not start a line`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('diffEdits(before, after) applied to before gives after', () => {
    fc.assert(
      fc.property(doc, doc, (a, b) => {
        assert.strictEqual(applyEdits(a, diffEdits(a, b)), b);
      }),
      { numRuns: 300 },
    );
  });

  it('diffEdits of a big file with changes spread all over (fix-all): applied gives after, in small edits of the changed lines', () => {
    // 3,000 lines each side: past the exact comparison's size, so the windowed walk runs.
    const base = Array.from({ length: 3000 }, (_, i) => `  bar ${i % 6} mem64 size 4K at 0x${(i * 4096).toString(16)}\n`);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(2999), fc.constantFrom('replace', 'insert', 'delete'), fc.nat(3)), { minLength: 1, maxLength: 80 }),
        (changes) => {
          const after = base.slice();
          // From the end, so the indexes of the changes still to make stay valid.
          for (const [at, kind, k] of [...changes].sort((x, y) => y[0] - x[0])) {
            if (kind === 'replace') after[at] = `  bar ${k} mem64 size 64K at 0x${(at * 65536).toString(16)}\n`;
            else if (kind === 'insert') after.splice(at, 0, ...Array.from({ length: k + 1 }, (_, q) => `  # inserted ${at}.${q}\n`));
            else after.splice(at, Math.min(k + 1, after.length - at));
          }
          const before = base.join('');
          const text = after.join('');
          const edits = diffEdits(before, text);
          assert.strictEqual(applyEdits(before, edits), text);
          // Each change is a few lines, not the rest of the file.
          const written = edits.reduce((s, e) => s + e.newText.length, 0);
          assert.ok(written <= 80 * 4 * 60, `${written} characters written for ${changes.length} changes`);
        },
      ),
      { numRuns: 60 },
    );
    // CRLF and a lone CR: lines keep their endings, so a line whose ending changed is a changed line.
    const crlf = base.map((l, i) => (i % 3 === 0 ? l.replace('\n', '\r\n') : i % 7 === 0 ? l.replace('\n', '\r') : l));
    const crlfAfter = crlf.slice();
    crlfAfter[100] = crlfAfter[100].replace('\r\n', '\n');
    crlfAfter.splice(2500, 1, '  # a\r\n', '  # b\r\n');
    const e2 = diffEdits(crlf.join(''), crlfAfter.join(''));
    assert.strictEqual(applyEdits(crlf.join(''), e2), crlfAfter.join(''));
    assert.ok(e2.length <= 3, `${e2.length} edits`);
    // Texts that agree nowhere within the window: still correct (one edit for the rest).
    const other = Array.from({ length: 3000 }, (_, i) => `other ${i}\n`).join('');
    assert.strictEqual(applyEdits(base.join(''), diffEdits(base.join(''), other)), other);
  });

  it('a fix on one line of a big file is one edit of that line', () => {
    const lines = Array.from({ length: 20000 }, (_, i) => `  bar 0 mem64 size 4K at 0x${(i * 4096).toString(16)}\n`);
    const text = lines.join('');
    const at = text.indexOf('0x1000\n');
    const local = localLineEdits(text, [{ span: { start: at, end: at + 6 }, newText: '0x10000' }]);
    assert.deepStrictEqual(local, [{ span: { start: text.indexOf(lines[1]), end: text.indexOf(lines[1]) + lines[1].length }, newText: lines[1].replace('0x1000', '0x10000') }]);
  });
});
