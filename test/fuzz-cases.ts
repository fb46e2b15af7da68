// The fuzz suite's cases (run by property.test.ts, in a worker under a
// watchdog): whatever arrives — random text, grammar-shaped topologies,
// mutations of the examples — the engine never throws, every range lies inside
// the document, and every offered fix yields text that still analyses.
import * as assert from 'assert';
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { analyze } from '../server/src/engine/analyze';
import { applyEdits, computeFixes, diagnosticKey, fixAll } from '../server/src/engine/fixes';
import { LineIndex } from '../server/src/engine/lineIndex';
import { Diagnostic } from '../server/src/engine/types';
import { EXAMPLES_DIR } from './paths';

const EXAMPLES = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.bartopo')).map((f) => fs.readFileSync(path.join(EXAMPLES_DIR, f), 'utf8'));

export function checkInvariants(text: string, withFixes = false): void {
  const a = analyze(text);
  const lines = new LineIndex(text);
  for (const d of a.diagnostics) {
    assert.ok(d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= text.length, `range ${d.span.start}-${d.span.end} outside 0-${text.length}: ${d.message}`);
    for (const r of d.related) assert.ok(r.span.start >= 0 && r.span.end <= text.length && r.span.start <= r.span.end);
    const p = lines.positionAt(d.span.start);
    assert.ok(p.line < lines.lineCount);
    assert.ok(d.message.length > 0);
  }
  if (withFixes) {
    for (const d of a.diagnostics.slice(0, 20)) {
      for (const f of computeFixes(a, d)) {
        for (const e of f.edits) assert.ok(e.span.start >= 0 && e.span.end <= text.length && e.span.start <= e.span.end);
        const after = applyEdits(text, f.edits);
        const b = analyze(after);
        assert.ok(!b.diagnostics.some((x) => x.rule === 'syntax' && !a.diagnostics.some((y) => y.rule === 'syntax')), `fix "${f.title}" broke the syntax`);
      }
    }
    // Fix-all (in rounds): it ends, and what it leaves has no error the document did not have (by key, counted).
    const all = fixAll(a, { maxSteps: 40 });
    const errors = (diags: readonly Diagnostic[]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const d of diags) if (d.severity === 'error') m.set(diagnosticKey(d), (m.get(diagnosticKey(d)) ?? 0) + 1);
      return m;
    };
    const before = errors(a.diagnostics);
    for (const [k, n] of errors(analyze(all.text).diagnostics)) assert.ok(n <= (before.get(k) ?? 0), `fix-all (${all.applied.join('; ')}) added the error ${k}`);
  }
}

const word = fc.constantFrom(
  'host', 'device', 'guest', 'bar', 'mem32', 'mem64', 'io', 'prefetch', 'size', 'at', 'page-size', 'window', 'msix', 'entries', 'table',
  'offset', 'pba', 'region', 'hot', 'rom', 'sriov', 'vfs', 'group', 'assign', 'allocate', 'listed', 'page-match', 'size-descending',
  'emulate', 'relocate', 'paravirt', 'msix-mappable', 'yes', 'no', '0', '1', '5', '4K', '64K', '256', '1M', '16G', '0x1000', '0x3fe0_8001_0000',
  '0xffff_ffff_ffff_f000', '0x2100_0000_0000_0000', '00:01.0', '0001:00:01.2', 'nic', 'ehci', 'vm0', '"name"', '{', '}', ';', '\n', '# c\n', '\r\n', '"', '\t',
);
const grammarish = fc.array(word, { maxLength: 120 }).map((ws) => ws.join(' '));

const sizeArb = fc.constantFrom('16', '256', '4K', '16K', '64K', '1M', '32M', '3K', '0', '0x1000_0000_0000_0000', '0x8000_0000_0000_0000');
const addrArb = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => '0x' + (v & ~0xfffn).toString(16));
const barArb = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.constantFrom('mem32', 'mem64', 'io'), fc.boolean(), sizeArb, fc.option(addrArb)).map(
  ([i, k, p, s, a]) => `  bar ${i} ${k}${p ? ' prefetch' : ''} size ${s}${a ? ' at ' + a : ''}`,
);
const deviceArb = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.array(barArb, { maxLength: 4 }), fc.boolean(), fc.integer({ min: 1, max: 300 })).map(
  ([n, bars, msix, entries]) =>
    `device d${n} at 00:${(n % 32).toString(16).padStart(2, '0')}.${n % 8} {\n  group ${n % 4}\n${bars.join('\n')}\n${msix ? `  msix entries ${entries} table bar 0 offset 0x2000 pba bar 0 offset 0x3000\n  region db bar 0 offset 0 size 4K hot\n` : ''}}`,
);
const guestArb = fc.tuple(fc.constantFrom('listed', 'size-descending', 'page-match'), fc.constantFrom('emulate', 'relocate', 'paravirt'), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 5 })).map(
  ([pol, mx, ds]) => `guest vm {\n  window 0x80000000 size 1G\n  allocate ${pol}\n  msix ${mx}\n${ds.map((d) => `  assign d${d}`).join('\n')}\n}`,
);
const topologyArb = fc.tuple(fc.constantFrom('4K', '16K', '64K'), fc.array(deviceArb, { maxLength: 6 }), fc.array(guestArb, { maxLength: 2 })).map(
  ([p, ds, gs]) => `host h {\n  page-size ${p}\n}\n${ds.join('\n')}\n${gs.join('\n')}\n`,
);

const mutated = fc.tuple(fc.constantFrom(...EXAMPLES), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 40 }), fc.constantFrom('del', 'dup', 'splice')), { minLength: 1, maxLength: 6 })).map(([text, ops]) => {
  let t = text;
  for (const [pos, len, op] of ops) {
    const at = t.length ? pos % t.length : 0;
    const piece = t.slice(at, at + len);
    if (op === 'del') t = t.slice(0, at) + t.slice(at + len);
    else if (op === 'dup') t = t.slice(0, at) + piece + piece + t.slice(at + len);
    else {
      const other = EXAMPLES[pos % EXAMPLES.length];
      const o = other.length ? (pos * 7) % other.length : 0;
      t = t.slice(0, at) + other.slice(o, o + len) + t.slice(at);
    }
  }
  return t;
});

/** One fuzz property: documents from `arb` (`numRuns` of them), or the `fixed` ones, each checked by `checkInvariants`. */
export interface FuzzCase {
  name: string;
  arb?: fc.Arbitrary<string>;
  fixed?: string[];
  withFixes: boolean;
  numRuns: number;
}

export const FUZZ_CASES: FuzzCase[] = [
  { name: 'random unicode strings', arb: fc.string({ unit: 'grapheme', maxLength: 300 }), withFixes: false, numRuns: 300 },
  { name: 'random binary-ish strings', arb: fc.string({ unit: 'binary', maxLength: 300 }), withFixes: false, numRuns: 300 },
  { name: 'grammar-shaped word soup', arb: grammarish, withFixes: false, numRuns: 400 },
  { name: 'random well-formed topologies, with every fix applied', arb: topologyArb, withFixes: true, numRuns: 150 },
  { name: 'mutations (deletions, duplications, splices) of every example, with fixes', arb: mutated, withFixes: true, numRuns: 200 },
  {
    // Fix-all's search for free pages once stepped through a BAR page by page: 2^44 steps for this one.
    name: 'fix-all with an exabyte BAR placed in a guest',
    fixed: [
      'host h {\n  page-size 64K\n}\ndevice big at 00:01.0 {\n  group 1\n  bar 0 mem64 prefetch size 0x1000_0000_0000_0000 at 0x4000_0000_0000_0000\n}\n' +
        'device other at 00:02.0 {\n  group 2\n  bar 0 mem64 size 4K at 0x1000_0000\n}\n' +
        'guest vm {\n  window 0x0 size 0x8000_0000_0000_0000\n  assign other { bar 0 at 0x1000_0000_0000_1000 }\n  assign big { bar 0 at 0x1000_0000_0000_1000 }\n}\n',
    ],
    withFixes: true,
    numRuns: 1,
  },
  {
    name: 'deep nesting and long lines do not overflow the stack',
    fixed: [
      '{'.repeat(100000),
      'device a at 00:01.0 ' + '{ '.repeat(50000) + '}'.repeat(50000),
      'device x at 00:00.0 { bar 0 mem32 size 4K at 0x1000 ' + 'x'.repeat(1 << 20) + ' }',
    ],
    withFixes: false,
    numRuns: 3,
  },
];
