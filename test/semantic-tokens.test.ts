// Semantic tokens are classified once per top-level statement and reused while
// an edit leaves the statement alone: after any chain of edits (analysed
// incrementally, statements moved), the tokens must equal those of a fresh
// analysis of the same text, and a range request must give exactly the full
// result's tokens inside the range.
import * as assert from 'assert';
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { Analysis, analyze } from '../server/src/engine/analyze';
import { LineIndex } from '../server/src/engine/lineIndex';
import { DocState } from '../server/src/lsp/documents';
import { getSemanticTokens, tokenEdits, TOKEN_TYPES } from '../server/src/lsp/semanticTokens';
import { generate, toBartopo } from '../bench/generate';
import { EXAMPLES_DIR } from './paths';

const DOCS = [...fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.bartopo')).map((f) => fs.readFileSync(path.join(EXAMPLES_DIR, f), 'utf8')), toBartopo(generate({ devices: 30, seed: 2 }))];

function state(text: string, analysis: Analysis): DocState {
  return { analysis, text, index: new LineIndex(text), settings: { maxItemsComputed: 1_000_000 } } as unknown as DocState;
}

/** Absolute (line, character, length, type, modifiers) of each token. */
function decode(data: number[]): number[][] {
  const out: number[][] = [];
  let line = 0;
  let ch = 0;
  for (let i = 0; i < data.length; i += 5) {
    line += data[i];
    ch = data[i] === 0 ? ch + data[i + 1] : data[i + 1];
    out.push([line, ch, data[i + 2], data[i + 3], data[i + 4]]);
  }
  return out;
}

const edit = fc.record({
  at: fc.integer({ min: 0, max: 10_000 }).map((x) => x / 10_000),
  del: fc.nat(8),
  ins: fc.constantFrom('', 'x', ' ', '\n', '# note\n', '{', '}', '"', 'bar 1 mem32 size 4K at 0x1000\n', 'device z at 0000:00:1f.0 {\n'),
});

describe('lsp: semantic tokens over edits', () => {
  it('a PCI address and an id are numbers whether they start with a digit or a hex letter', () => {
    const text = 'device a at 00:01.0 {\n  id 1033:0035\n}\ndevice b at ab:01.0 {\n  id abcd:ef01\n}\ndevice c at 0000:fe:1f.7 { id f00d:0001 }\n';
    const toks = decode(getSemanticTokens(state(text, analyze(text))).tokens.data);
    const lines = text.split('\n');
    const typeOf = (word: string, line: number): string | undefined => {
      const ch = lines[line].indexOf(word);
      const t = toks.find(([l, c, len]) => l === line && c === ch && len === word.length);
      return t && TOKEN_TYPES[t[3]];
    };
    assert.deepStrictEqual(
      [typeOf('00:01.0', 0), typeOf('1033:0035', 1), typeOf('ab:01.0', 3), typeOf('abcd:ef01', 4), typeOf('0000:fe:1f.7', 6), typeOf('f00d:0001', 6)],
      ['number', 'number', 'number', 'number', 'number', 'number'],
    );
    // The device's name stays a class, even a hex-looking one.
    assert.strictEqual(typeOf('b', 3), 'class');
  });

  it('after edits analysed incrementally, equal the tokens of a fresh analysis', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DOCS), fc.array(edit, { minLength: 1, maxLength: 6 }), (start, edits) => {
        let text = start;
        let a = analyze(text);
        getSemanticTokens(state(text, a)); // fills the per-statement cache the next versions reuse
        for (const e of edits) {
          const at = Math.floor(e.at * text.length);
          const next = text.slice(0, at) + e.ins + text.slice(Math.min(text.length, at + e.del));
          a = analyze(next, {}, a);
          text = next;
          const inc = getSemanticTokens(state(text, a)).tokens.data;
          const fresh = getSemanticTokens(state(text, analyze(text))).tokens.data;
          assert.deepStrictEqual(decode(inc), decode(fresh), JSON.stringify(e));
          // Nothing was dropped for coming out of order: every non-empty comment is there, and every word the walk classified.
          const comments = a.tree.comments.filter((c) => c.end > c.start).length;
          assert.strictEqual(decode(inc).filter((t) => t[3] === 4).length, comments, 'comment tokens');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a range request gives the full result’s tokens inside the range', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DOCS), fc.nat(200), fc.nat(60), (text, first, count) => {
        const s = state(text, analyze(text));
        const lines = text.split('\n').length;
        const a = Math.min(first, lines - 1);
        const b = Math.min(lines - 1, a + count);
        const ranged = decode(getSemanticTokens(s, { start: { line: a, character: 0 }, end: { line: b, character: 0 } }).tokens.data);
        const startOff = s.index.offsetAt({ line: a, character: 0 });
        const endOff = s.index.offsetAt({ line: b, character: 0 });
        const inside = decode(getSemanticTokens(s).tokens.data).filter(([l, c, len]) => {
          const off = s.index.offsetAt({ line: l, character: c });
          return off >= startOff && off + len <= endOff;
        });
        assert.deepStrictEqual(ranged, inside);
      }),
      { numRuns: 200 },
    );
  });
});

describe('lsp: semantic token deltas', () => {
  it('the edits between two token arrays turn the first into the second', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(5), { maxLength: 60 }), fc.array(fc.nat(5), { maxLength: 60 }), fc.nat(60), (a, ins, at) => {
        // The second array: the first with a stretch replaced (the usual case), or unrelated.
        const cut = Math.min(at, a.length);
        for (const b of [[...a.slice(0, cut), ...ins, ...a.slice(cut + 3)], ins]) {
          const out = [...a];
          for (const e of tokenEdits(a, b)) out.splice(e.start, e.deleteCount, ...(e.data ?? []));
          assert.deepStrictEqual(out, b);
        }
        assert.deepStrictEqual(tokenEdits(a, [...a]), []);
      }),
      { numRuns: 500 },
    );
  });
});
