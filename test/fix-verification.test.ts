// The check a quick fix passes before it is offered (spec section 5: applying it
// removes the diagnostic it targets without creating an error). Hand-made edits
// on a small topology, through both ways a fix is checked: edits in one guest
// block (only that guest is analysed again) and edits elsewhere (the edited copy
// is analysed incrementally, reusing the original's results where it can).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze } from '../server/src/engine/analyze';
import { applyEdits, computeFixes, diagnosticKey, editedGuest, verifyFix } from '../server/src/engine/fixes';
import { editedGuestNode } from '../server/src/engine/incremental';
import { Guest } from '../server/src/engine/model';
import { Reporter } from '../server/src/engine/report';
import { GuestNode } from '../server/src/engine/ast';
import * as fc from 'fast-check';
import { generate, toBartopo } from '../bench/generate';
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
      assert.deepStrictEqual(titles, ['Align d.bar0 down to 0xffffffffff800000 (a multiple of 8M)']);
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

// A fix check of edits inside one guest block judges again only the BARs whose placement (or, after an MSI-X mode
// change, whose table) differs, keeping the other findings of the guest as they were before the edit. Its answer must
// be the one a whole analysis of the edited text gives, counted by diagnostic key.
describe('fix verification of edits in a guest block agrees with a whole analysis', () => {
  const docs = [1, 2].map((seed) => toBartopo(generate({ devices: 150, seed, guests: 2 })));
  const edit = fc.record({
    doc: fc.nat(1),
    guest: fc.nat(5),
    kind: fc.constantFrom('msix', 'allocate', 'at', 'onto'),
    value: fc.constantFrom('emulate', 'relocate', 'paravirt', 'listed', 'size-descending', 'page-match'),
    assign: fc.nat(1000),
    page: fc.nat(4000),
    offset: fc.constantFrom(0, 0x1000, 0x4000),
    diag: fc.array(fc.nat(100_000), { minLength: 1, maxLength: 4 }),
  });

  it('judges again a BAR that did not move when a moved one lands in its guest page', () => {
    // listed: a (4K) alone in guest page 0x8000_0000, b (64K) next, x (4K, host offset 0x1000: not mmapped, no finding
    // of its own in the guest), y (4K, packed after x: offset mismatch). Giving x `at 0x8000_1000` moves only x, into
    // a's page: a now shares its page with a BAR from another host page (guest-page-conflict), so the edit is not clean.
    const text =
      'host h {\n  page-size 64K\n}\ndevice a at 01:00.0 {\n  group 1\n  bar 0 mem64 size 4K at 0x1_0000_0000\n}\ndevice b at 02:00.0 {\n  group 2\n  bar 0 mem64 size 64K at 0x1_0010_0000\n}\ndevice x at 03:00.0 {\n  group 3\n  bar 0 mem64 size 4K at 0x1_0020_1000\n}\ndevice y at 04:00.0 {\n  group 4\n  bar 0 mem64 size 4K at 0x1_0030_0000\n}\nguest vm {\n  window 0x8000_0000 size 1G\n  allocate listed\n  assign a\n  assign b\n  assign x\n  assign y\n}\n';
    const a = analyze(text);
    const at = text.indexOf('  assign x') + '  assign x'.length;
    const edits = [{ span: { start: at, end: at }, newText: ' {\n    bar 0 at 0x8000_1000\n  }' }];
    const d = a.diagnostics.find((x) => x.rule === 'guest-offset-mismatch' && x.subject === 'y.bar0')!;
    assert.ok(d, a.diagnostics.map((x) => `${x.rule} ${x.subject}`).join(', '));
    assert.deepStrictEqual(wholeVerdict(a, d, edits), { ok: true, clean: false });
    assert.deepStrictEqual(verifyFix(a, d, edits), { ok: true, clean: false });
  });

  it('sees guest-no-window come when an edit removes an invalid `window` statement (the guest declared one; now it has none)', () => {
    const text = 'device a at 01:00.0 {\n  bar 0 mem64 size 4K at 0x1_0000_0000\n}\nguest vm {\n  assign a\n  window 0x80_0000_0000 size 1Gx\n}\n';
    const a = analyze(text);
    const d = a.diagnostics.find((x) => x.rule === 'syntax' && x.message.includes('1Gx'))!;
    assert.ok(d && !a.diagnostics.some((x) => x.rule === 'guest-no-window'), a.diagnostics.map((x) => x.message).join(' | '));
    const from = text.indexOf('  window');
    const edits = [{ span: { start: from + 2, end: text.indexOf('\n', from) }, newText: '' }];
    assert.deepStrictEqual(wholeVerdict(a, d, edits), { ok: true, clean: false });
    assert.deepStrictEqual(verifyFix(a, d, edits), { ok: true, clean: false });
  });

  it('for MSI-X mode, policy and explicit-address edits (some into other BARs\' guest pages) on generated topologies', () => {
    const analyses = docs.map((t) => analyze(t));
    let compared = 0;
    fc.assert(
      fc.property(edit, (e) => {
        const a = analyses[e.doc];
        const text = a.text;
        const guests = a.file.guests;
        const gn = guests[e.guest % guests.length];
        const block = text.slice(gn.stmt.start, gn.stmt.end);
        let edits: TextEdit[] = [];
        if (e.kind === 'msix' || e.kind === 'allocate') {
          const m = new RegExp(`^  ${e.kind} (\\S+)`, 'm').exec(block);
          const modes = e.kind === 'msix' ? ['emulate', 'relocate', 'paravirt'] : ['listed', 'size-descending', 'page-match'];
          const to = modes.includes(e.value) ? e.value : modes[e.value.length % 3];
          if (!m) return;
          const at = gn.stmt.start + m.index + `  ${e.kind} `.length;
          edits = [{ span: { start: at, end: at + m[1].length }, newText: to }];
        } else {
          // An assign without a block gets `{ bar N at ADDR }` for one of its device's memory BARs.
          const lines = [...block.matchAll(/^  assign (\S+)$/gm)];
          if (lines.length === 0) return;
          const m = lines[e.assign % lines.length];
          const dev = a.topology.deviceByName.get(m[1]);
          const bar = dev?.bars.find((b) => b.kind !== 'io' && b.size !== undefined);
          const w = a.topology.guests.find((g) => g.name === gn.name?.value)?.window;
          if (!bar || !w) return;
          // `onto`: into the guest page of another BAR of this guest (its neighbours' verdicts change); `at`: anywhere in the window.
          const ga = a.guests.find((x) => x.guest.name === gn.name?.value);
          const others = ga ? [...ga.placements.values()].filter((p) => p.address !== undefined) : [];
          const addr =
            e.kind === 'onto' && others.length > 0
              ? others[e.page % others.length].address! - (others[e.page % others.length].address! % 0x10000n) + BigInt(e.offset)
              : w.start + BigInt(e.page) * 0x10000n + BigInt(e.offset);
          const at = gn.stmt.start + m.index! + m[0].length;
          edits = [{ span: { start: at, end: at }, newText: ` {\n    bar ${bar.index} at 0x${addr.toString(16)}\n  }` }];
        }
        // The findings such a check is made for: those of the edited guest (a fix in a guest block targets one of them).
        const name = gn.name?.value;
        const scope = a.diagnostics.filter((x) => x.target?.guest === name || x.subject === name || x.rule === 'msix-page-shared' || (x.span.start >= gn.stmt.start && x.span.end <= gn.stmt.end));
        if (scope.length === 0) return;
        for (const k of e.diag) {
          const d = scope[k % scope.length];
          assert.deepStrictEqual(verifyFix(a, d, edits), wholeVerdict(a, d, edits), `${d.rule} ${d.subject} after ${JSON.stringify(edits)}`);
          compared++;
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(compared > 200, `only ${compared} checks compared`);
  });
});

// A fix check of edits in a guest block parses again only the statements the edits fall in and builds again only
// their assigns (editedGuestNode, editedGuestModel): the model and findings must be those of parsing and building
// the whole edited block, for edits of every kind a fix or a hand edit makes there, valid or not.
describe('a fix check in a guest block parses and builds only the statements its edits fall in', () => {
  // The third has, in each guest block, findings of statements an edit leaves alone: a syntax error, and an assign of a BAR its device lacks.
  // What an edit in one statement can change around it: two statements on one line (a `#` added to the first
  // comments out the second), a stray `{ … }` on the line after an assign with a block (it becomes the assign's
  // block if an edit removes that one), and a guest block on one line (a `#` comments out its `}`).
  const flawed = toBartopo(generate({ devices: 120, seed: 5, guests: 2 }))
    .replace(/^(guest \S+ \{)$/gm, '$1\n  frob 1')
    .replace(/^(guest [^]*?^  assign \S+\n  assign \S+)$/gm, '$1 {\n    bar 5\n  }\n  { stray }')
    .replace(/^(  assign \S+)\n  (assign \S+)$/gm, '$1; $2')
    .concat('guest tiny { window 0x7000_0000_0000 size 1G; allocate listed; assign nvme1; assign nic2 }\n');
  const docs = [3, 4].map((seed) => toBartopo(generate({ devices: 120, seed, guests: 2 }))).concat(flawed);
  const analyses = docs.map((t) => analyze(t));
  it('start from findings in the guest blocks, on the third', () => {
    const a = analyses[2];
    const rules = a.diagnostics.filter((x) => x.span.start > a.text.indexOf('\nguest ')).map((x) => x.rule);
    assert.ok(rules.includes('syntax') && rules.includes('unknown-reference'), rules.join());
    assert.ok(a.text.includes('\n  { stray }\n') && /^  assign \S+; assign \S+$/m.test(a.text) && a.topology.guests.some((g) => g.name === 'tiny' && g.assigns.length === 2));
  });
  const KINDS = ['rename', 'unknown', 'repeat-option', 'new-assign', 'junk', 'comment', 'bar-index', 'at', 'across', 'policy', 'hash', 'unblock', 'brace-first'] as const;
  const edit = fc.record({ doc: fc.nat(2), guest: fc.nat(5), kind: fc.constantFrom(...KINDS), pick: fc.nat(10_000), other: fc.nat(10_000), diag: fc.nat(100_000) });

  /** The edits of one kind in one guest block of `a`; undefined when the block has nothing to edit that way. */
  function editsOf(a: ReturnType<typeof analyze>, gn: GuestNode, kind: (typeof KINDS)[number], pick: number, other: number): TextEdit[] | undefined {
    const text = a.text;
    const stmts = gn.stmt.block?.stmts ?? [];
    const assigns = gn.assigns.filter((x) => x.device);
    if (stmts.length === 0 || assigns.length === 0) return undefined;
    const an = assigns[pick % assigns.length];
    const names = [...a.topology.deviceByName.keys()];
    const end = (s: { end: number; trailingComment?: { end: number } }): number => Math.max(s.end, s.trailingComment?.end ?? 0);
    const at = (pos: number, newText: string): TextEdit[] => [{ span: { start: pos, end: pos }, newText }];
    switch (kind) {
      case 'rename': // another device: one this guest may assign already (a duplicate), or one it does not
        return [{ span: an.device!.span, newText: names[other % names.length] }];
      case 'unknown':
        return [{ span: an.device!.span, newText: an.device!.value + 'x' }];
      case 'repeat-option': {
        const s = stmts[pick % stmts.length];
        return at(end(s), ['\n  allocate listed', '\n  msix relocate', '\n  window 0x40_0000_0000 size 1G', '\n  allocate sideways'][other % 4]);
      }
      case 'new-assign':
        return at(end(an.stmt), `\n  assign ${names[other % names.length]}`);
      case 'junk':
        return at(an.device!.span.end, ' frob');
      case 'comment':
        return at(end(an.stmt), ' # moved here');
      case 'bar-index': {
        const bar = an.bars.find((b) => b.index);
        return bar ? [{ span: bar.index!.span, newText: String(other % 8) }] : at(an.device!.span.end, ` {\n    bar ${other % 8}\n  }`);
      }
      case 'at': {
        const dev = a.topology.deviceByName.get(an.device!.value);
        const bar = dev?.bars.find((b) => b.kind !== 'io');
        return bar ? at(an.device!.span.end, ` {\n    bar ${bar.index} at 0x${(0x100_0000_0000n + BigInt(other) * 0x1000n).toString(16)}\n  }`) : undefined;
      }
      case 'across': {
        // From inside one statement into the next: not inside one statement, so the whole block is parsed.
        const i = stmts.indexOf(an.stmt);
        const next = stmts[i + 1];
        return next ? [{ span: { start: an.device!.span.end, end: next.start + 2 } , newText: '' }] : undefined;
      }
      case 'hash': {
        // A comment after a statement: what follows it on its line goes.
        const st = stmts.filter((x) => x.hasWords())[pick % stmts.length] ?? an.stmt;
        return at(st.end, ' #');
      }
      case 'unblock': {
        const withBlock = assigns.filter((x) => x.stmt.block);
        const w = withBlock[pick % Math.max(1, withBlock.length)];
        return w ? [{ span: { start: w.device!.span.end, end: w.stmt.end }, newText: '' }] : undefined;
      }
      case 'brace-first':
        return at(an.stmt.start, '{ junk }\n  ');
      case 'policy': {
        const v = gn.allocates[0];
        const to = ['listed', 'size-descending', 'page-match'][other % 3];
        return v ? [{ span: v.span, newText: to }] : at(text.indexOf('{', gn.stmt.start) + 1, `\n  allocate ${to}`);
      }
    }
  }

  const model = (g: Guest | undefined): unknown =>
    g && {
      policy: g.policy,
      msix: g.msix,
      window: g.window && [g.window.start, g.window.size],
      assigns: g.assigns.map((x) => `${x.device.name}: ${x.bars.map((b) => `${b.bar.id}${b.address !== undefined ? '@' + b.address.toString(16) : ''}${b.unplaceable ? '!' : ''}`).join(' ')}`),
    };
  const findings = (r: Reporter): string[] => r.diagnostics.map((x) => `${x.rule}|${x.subject}|${x.severity}|${x.message}`).sort();

  it('the same model and findings as parsing and building the whole edited block', () => {
    const taken = new Map<string, number>();
    fc.assert(
      fc.property(edit, (e) => {
        const a = analyses[e.doc];
        const gn = a.file.guests[e.guest % a.file.guests.length];
        const before = a.guests.find((x) => x.guest.name === gn.name?.value)?.guest;
        const edits = editsOf(a, gn, e.kind, e.pick, e.other);
        if (!before || !edits) return;
        const fast = new Reporter(a.options.severities);
        const whole = new Reporter(a.options.severities);
        const g1 = editedGuest(a, gn, before, edits, fast);
        const g2 = editedGuest(a, gn, before, edits, whole, true);
        const what = `${e.kind}: ${JSON.stringify(edits)}`;
        assert.deepStrictEqual(model(g1), model(g2), what);
        assert.deepStrictEqual(findings(fast), findings(whole), what);
        if (editedGuestNode(gn, a.text, edits)) taken.set(e.kind, (taken.get(e.kind) ?? 0) + 1);
      }),
      { numRuns: 1500 },
    );
    // Every kind but `across` is one statement's edit: parsed on its own.
    for (const k of KINDS) if (k !== 'across' && k !== 'brace-first') assert.ok((taken.get(k) ?? 0) > 10, `${k}: the statement-wise path taken ${taken.get(k) ?? 0} times`);
    assert.strictEqual(taken.get('across'), undefined);
    assert.strictEqual(taken.get('brace-first'), undefined);
  });

  it('and the same verdicts as whole analyses of the edited text', () => {
    let compared = 0;
    fc.assert(
      fc.property(edit, (e) => {
        const a = analyses[e.doc];
        const gn = a.file.guests[e.guest % a.file.guests.length];
        const edits = editsOf(a, gn, e.kind, e.pick, e.other);
        const name = gn.name?.value;
        const scope = a.diagnostics.filter((x) => x.target?.guest === name || x.subject === name || x.rule === 'msix-page-shared');
        if (!edits || scope.length === 0) return;
        const d = scope[e.diag % scope.length];
        assert.deepStrictEqual(verifyFix(a, d, edits), wholeVerdict(a, d, edits), `${e.kind} ${d.rule} ${d.subject} after ${JSON.stringify(edits)}`);
        compared++;
      }),
      { numRuns: 1000 },
    );
    assert.ok(compared > 700, `only ${compared} checks compared`);
  });
});

describe('a fix check of edits in a guest block, for a finding outside that guest', () => {
  // Another guest's finding, or a host-level one: not among what the guest's check makes again, so a whole analysis decides.
  const docs = [6, 7].map((seed) => toBartopo(generate({ devices: 150, seed, guests: 3 })));
  const analyses = docs.map((t) => analyze(t));
  it('answers what whole analyses of the edited text answer', () => {
    let compared = 0;
    fc.assert(
      fc.property(fc.record({ doc: fc.nat(1), guest: fc.nat(5), value: fc.constantFrom('listed', 'size-descending', 'page-match', 'relocate', 'emulate'), diag: fc.nat(100_000) }), (e) => {
        const a = analyses[e.doc];
        const gn = a.file.guests[e.guest % a.file.guests.length];
        const name = gn.name?.value;
        const v = e.value === 'relocate' || e.value === 'emulate' ? gn.msixModes[0] : gn.allocates[0];
        const others = a.diagnostics.filter((x) => x.rule !== 'syntax' && x.target?.guest !== name && x.subject !== name && x.rule !== 'msix-page-shared');
        if (!v || others.length === 0) return;
        const d = others[e.diag % others.length];
        const edits = [{ span: v.span, newText: e.value }];
        assert.deepStrictEqual(verifyFix(a, d, edits), wholeVerdict(a, d, edits), `${d.rule} ${d.subject} after ${JSON.stringify(edits)}`);
        compared++;
      }),
      { numRuns: 150 },
    );
    assert.ok(compared > 100, `only ${compared} checks compared`);
  });
});

/** What verifyFix must answer, from whole analyses: the target's key gone, no key with more errors, clean when no key has more. */
function wholeVerdict(a: ReturnType<typeof analyze>, d: Diagnostic, edits: TextEdit[]): { ok: boolean; clean: boolean } {
  const b = analyze(applyEdits(a.text, edits), a.options);
  const count = (ds: Diagnostic[], errorsOnly: boolean): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of ds) if (!errorsOnly || x.severity === 'error') m.set(diagnosticKey(x), (m.get(diagnosticKey(x)) ?? 0) + 1);
    return m;
  };
  const [all0, err0, all1, err1] = [count(a.diagnostics, false), count(a.diagnostics, true), count(b.diagnostics, false), count(b.diagnostics, true)];
  if (all1.has(diagnosticKey(d))) return { ok: false, clean: false };
  for (const [k, n] of err1) if (n > (err0.get(k) ?? 0)) return { ok: false, clean: false };
  let clean = true;
  for (const [k, n] of all1) if (n > (all0.get(k) ?? 0)) clean = false;
  return { ok: true, clean };
}
