// LineIndex.edited must give exactly the line starts a fresh index of the
// edited text has, whatever the edit does to \n, \r\n and lone \r line ends.
import * as assert from 'assert';
import * as fc from 'fast-check';
import { changedRegion } from '../server/src/engine/incremental';
import { LineIndex } from '../server/src/engine/lineIndex';

const piece = fc.constantFrom('a', 'bc', ' ', '\n', '\r', '\r\n', '\n\r', 'device x {', '}');
const text = fc.array(piece, { maxLength: 40 }).map((xs) => xs.join(''));

describe('engine: line index after an edit', () => {
  it('equals a fresh index of the edited text', () => {
    fc.assert(
      fc.property(text, fc.nat(1000), fc.nat(6), fc.array(piece, { maxLength: 4 }), (before, at, del, ins) => {
        const a = Math.min(at % (before.length + 1), before.length);
        const after = before.slice(0, a) + ins.join('') + before.slice(Math.min(before.length, a + del));
        const { prefix, suffix } = changedRegion(before, after);
        const edited = LineIndex.edited(new LineIndex(before), after, prefix, suffix);
        assert.deepStrictEqual(edited.lineStarts, new LineIndex(after).lineStarts, JSON.stringify({ before, after }));
      }),
      { numRuns: 3000 },
    );
  });

  it('isAt(offset, position) says whether positionAt(offset) is that position', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: -2, max: 60 }), fc.integer({ min: -1, max: 12 }), fc.integer({ min: -1, max: 12 }), (t, offset, line, character) => {
        const index = new LineIndex(t);
        const at = index.positionAt(offset);
        assert.strictEqual(index.isAt(offset, at), true);
        const other = { line, character };
        assert.strictEqual(index.isAt(offset, other), at.line === line && at.character === character, JSON.stringify({ t, offset, other, at }));
      }),
      { numRuns: 3000 },
    );
  });

  it('after a chain of edits, still equals a fresh index', () => {
    fc.assert(
      fc.property(text, fc.array(fc.tuple(fc.nat(1000), fc.nat(4), fc.array(piece, { maxLength: 3 })), { maxLength: 8 }), (start, edits) => {
        let cur = start;
        let index = new LineIndex(cur);
        for (const [at, del, ins] of edits) {
          const a = at % (cur.length + 1);
          const next = cur.slice(0, a) + ins.join('') + cur.slice(Math.min(cur.length, a + del));
          const { prefix, suffix } = changedRegion(cur, next);
          index = LineIndex.edited(index, next, prefix, suffix);
          cur = next;
          assert.deepStrictEqual(index.lineStarts, new LineIndex(cur).lineStarts);
        }
      }),
      { numRuns: 500 },
    );
  });
});
