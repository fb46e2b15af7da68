// Incremental re-parsing: after any edit, re-parsing only the touched
// top-level statements must give exactly what a full parse of the new text
// gives — the same statements, words, comments, errors and typed nodes at the
// same offsets — and the same analysis.
import * as assert from 'assert';
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { analyze, analyzeParsed } from '../server/src/engine/analyze';
import { applyEdits } from '../server/src/engine/fixes';
import { changedRegion, parseEditedCopy, reparse } from '../server/src/engine/incremental';
import { parse } from '../server/src/engine/parser';
import { generate, toBartopo } from '../bench/generate';
import { parsePicture } from './parse-picture';
import { EXAMPLES_DIR } from './paths';

const EXAMPLES = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.bartopo')).map((f) => fs.readFileSync(path.join(EXAMPLES_DIR, f), 'utf8'));
const GENERATED = toBartopo(generate({ devices: 60, seed: 7 }));
const DOCS = [...EXAMPLES, GENERATED];


/** One random edit: insert, delete or replace a few characters, often structural ones. */
const edit = fc.record({
  at: fc.integer({ min: 0, max: 10_000 }).map((x) => x / 10_000), // (fc.double leans towards 0: edits would gather at the top)
  del: fc.nat(12),
  ins: fc.array(fc.constantFrom('a', '0', ' ', '\n', '\r\n', '{', '}', '#', '"', ';', 'bar 1 mem32 size 4K', 'device x at 0000:00:01.0 {', 'guest g {', 'x'), { maxLength: 3 }).map((xs) => xs.join('')),
});

function applyRandom(text: string, e: { at: number; del: number; ins: string }): string {
  const at = Math.floor(e.at * text.length);
  return text.slice(0, at) + e.ins + text.slice(Math.min(text.length, at + e.del));
}

function naiveRegion(a: string, b: string): { prefix: number; suffix: number } {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return { prefix: p, suffix: s };
}

describe('incremental re-parse', () => {
  it('finds the changed region of two texts (long common runs compared as growing, then halving, native slices)', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.nat(5000), fc.string({ maxLength: 3 }), fc.nat(4), fc.constantFrom('ab', 'aaaa', 'x\n'), (pre, suf, ins, del, unit) => {
        const a = unit.repeat(pre).slice(0, pre) + 'Q'.repeat(del) + unit.repeat(suf).slice(0, suf);
        const b = unit.repeat(pre).slice(0, pre) + ins + unit.repeat(suf).slice(0, suf);
        assert.deepStrictEqual(changedRegion(a, b), naiveRegion(a, b));
      }),
      { numRuns: 300 },
    );
  });

  it('gives exactly the full parse after any sequence of edits (and is used for most edits)', () => {
    let reused = 0;
    let tried = 0;
    fc.assert(
      fc.property(fc.constantFrom(...DOCS.keys()), fc.array(edit, { minLength: 1, maxLength: 6 }), (doc, edits) => {
        let text = DOCS[doc];
        let prev = parse(text);
        for (const e of edits) {
          const next = applyRandom(text, e);
          const full = parse(next);
          const inc = reparse(prev, text, next);
          tried++;
          if (inc) {
            reused++;
            assert.deepStrictEqual(parsePicture(inc), parsePicture(full), `edit ${JSON.stringify(e)}`);
            prev = inc;
          } else {
            prev = full;
          }
          text = next;
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(reused > tried / 2, `only ${reused} of ${tried} edits were re-parsed incrementally`);
  });

  it('analyses an edited version to the same diagnostics as a fresh analysis', () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 5 }), (edits) => {
        let text = GENERATED;
        let prev = analyze(text);
        for (const e of edits) {
          const next = applyRandom(text, e);
          const inc = analyze(next, {}, prev);
          const full = analyze(next);
          const view = (d: (typeof full.diagnostics)[number]) => [d.rule, d.severity, d.span.start, d.span.end, d.message, d.related.map((r) => [r.span.start, r.span.end, r.message])];
          assert.deepStrictEqual(inc.diagnostics.map(view), full.diagnostics.map(view));
          prev = inc;
          text = next;
        }
      }),
      { numRuns: 60 },
    );
  });

  it('re-parses only the touched statements: an edit inside one device of a big file reuses the rest', () => {
    const big = toBartopo(generate({ devices: 2000, seed: 3 }));
    const prev = parse(big);
    const at = big.indexOf('size 64K', big.length >> 1);
    const next = big.slice(0, at) + 'size 128K' + big.slice(at + 'size 64K'.length);
    const lastDevice = prev.file.devices[prev.file.devices.length - 1];
    const firstDevice = prev.file.devices[0];
    const inc = reparse(prev, big, next);
    assert.ok(inc, 'the edit was not re-parsed incrementally');
    // The very same node objects are reused on both sides of the edit, the later ones moved by one character.
    assert.strictEqual(inc.file.devices[0], firstDevice);
    assert.strictEqual(inc.file.devices[inc.file.devices.length - 1], lastDevice);
    assert.strictEqual(next.slice(lastDevice.stmt.start, lastDevice.stmt.start + 6), 'device');
    assert.deepStrictEqual(parsePicture(inc), parsePicture(parse(next)));
  });

  it('checks a fix on a copy: same findings (rule, subject, guest, severity, message) as analysing the edited text afresh', () => {
    const a = analyze(GENERATED);
    const key = (d: (typeof a.diagnostics)[number]): string => [d.rule, d.subject ?? '', d.target?.guest ?? '', d.severity, d.message].join('|');
    let copies = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (raw) => {
        const edits = raw.map((e) => {
          const at = Math.floor(e.at * GENERATED.length);
          return { span: { start: at, end: Math.min(GENERATED.length, at + e.del) }, newText: e.ins };
        });
        const disjoint = [...edits].sort((x, y) => x.span.start - y.span.start).every((e, i, xs) => i === 0 || xs[i - 1].span.end < e.span.start);
        fc.pre(disjoint);
        const copy = parseEditedCopy({ tree: a.tree, file: a.file, errors: a.syntaxErrors }, a.text, edits);
        if (!copy) return;
        copies++;
        const viaCopy = analyzeParsed(a.text, copy, a.options).diagnostics.map(key).sort();
        const fresh = analyze(applyEdits(GENERATED, edits)).diagnostics.map(key).sort();
        assert.deepStrictEqual(viaCopy, fresh);
      }),
      { numRuns: 150 },
    );
    assert.ok(copies > 20, `only ${copies} edits were checked on a copy`);
  });
});
