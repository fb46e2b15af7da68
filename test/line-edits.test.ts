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

  it('a fix on one line of a big file is one edit of that line', () => {
    const lines = Array.from({ length: 20000 }, (_, i) => `  bar 0 mem64 size 4K at 0x${(i * 4096).toString(16)}\n`);
    const text = lines.join('');
    const at = text.indexOf('0x1000\n');
    const local = localLineEdits(text, [{ span: { start: at, end: at + 6 }, newText: '0x10000' }]);
    assert.deepStrictEqual(local, [{ span: { start: text.indexOf(lines[1]), end: text.indexOf(lines[1]) + lines[1].length }, newText: lines[1].replace('0x1000', '0x10000') }]);
  });
});
