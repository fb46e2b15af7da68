// Incremental analysis: after an edit, the analysis made from the previous
// version's (reused device and guest models, host decisions and findings of
// untouched pages, untouched guests) must equal a whole analysis of the new
// text — diagnostics, host decisions, guest placements — and so must the
// analysis of an edited copy that fix verification makes.
import * as assert from 'assert';
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { Analysis, analyze, analyzeParsed } from '../server/src/engine/analyze';
import { AnalyzeOptions } from '../server/src/engine/types';
import { parseEditedCopy } from '../server/src/engine/incremental';
import { resourcesIn } from '../server/src/engine/host';
import { computeFixes } from '../server/src/engine/fixes';
import { generate, toBartopo } from '../bench/generate';
import { EXAMPLES_DIR } from './paths';

const EXAMPLES = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.bartopo')).map((f) => fs.readFileSync(path.join(EXAMPLES_DIR, f), 'utf8'));
const GENERATED = [toBartopo(generate({ devices: 80, seed: 11 })), toBartopo(generate({ devices: 40, seed: 5 }))];
const DOCS = [...GENERATED, ...EXAMPLES];

/** Numbers in the text (addresses, sizes, groups, indexes, offsets): what moves BARs between pages. */
const NUMBER = /0x[0-9a-fA-F_]+|\b\d+[KMG]?\b/g;

interface SemanticEdit {
  /** Which number (modulo how many there are). */
  pick: number;
  /** Which character of it (modulo its length). */
  at: number;
  to: string;
}

const semanticEdit: fc.Arbitrary<SemanticEdit> = fc.record({
  pick: fc.nat(100_000),
  at: fc.nat(20),
  to: fc.constantFrom(...'0123456789abcdefKM'.split(''), '', '00', '1000'),
});

/** Line-level edits: a line removed, duplicated or moved (devices gain and lose BARs, assigns, whole blocks). */
const lineEdit = fc.record({ line: fc.nat(100_000), kind: fc.constantFrom('drop', 'dup', 'swap') });

function numberSpan(text: string, e: SemanticEdit): { start: number; end: number; newText: string } | undefined {
  const all = [...text.matchAll(NUMBER)];
  if (all.length === 0) return undefined;
  const m = all[e.pick % all.length];
  const at = m.index! + (e.at % m[0].length);
  return { start: at, end: at + 1, newText: e.to };
}

function applyLineEdit(text: string, e: { line: number; kind: string }): string {
  const lines = text.split('\n');
  const i = e.line % lines.length;
  if (e.kind === 'drop') lines.splice(i, 1);
  else if (e.kind === 'dup') lines.splice(i, 0, lines[i]);
  else if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1], lines[i]];
  return lines.join('\n');
}

/** Everything an analysis concludes, in a form two analyses can be compared by. */
function picture(a: Analysis): unknown {
  return {
    diagnostics: a.diagnostics.map((d) => [d.rule, d.severity, d.span.start, d.span.end, d.subject, d.message, JSON.stringify(d.target), d.related.map((r) => [r.span.start, r.span.end, r.message])]),
    decisions: a.topology.devices.flatMap((d) => d.bars.map((b) => { const x = a.host.decisions.get(b)!; return [b.id, x.verdict, x.reason, x.neighbours.map((n) => n.id)]; })),
    pages: [...a.host.pages.keys()].sort((x, y) => (x < y ? -1 : 1)).map((p) => [p.toString(16), resourcesIn(a.host.pages, p).map((r) => r.id)]),
    // A page of one resource holds it directly: no bucket array has fewer than two.
    bucketArraysOfTwoOrMore: [...a.host.pages.values()].every((l) => !Array.isArray(l) || l.length >= 2),
    guests: a.guests.map((ga) => [ga.guest.name, [...ga.placements].map(([b, p]) => [b.id, p.address?.toString(16), p.verdict, p.directPages.toString(), p.reasons])]),
  };
}

/**
 * `picture` of the analysis of an edited copy, its diagnostics in no particular
 * order: a copy's re-parsed statements have offsets from 0 (see
 * parseEditedCopy), so two findings from different statements may share a span,
 * and the order of such ties says nothing.
 */
function copyPicture(a: Analysis): unknown {
  const p = picture(a) as { diagnostics: unknown[] };
  return { ...p, diagnostics: p.diagnostics.map((d) => JSON.stringify(d)).sort() };
}

/**
 * A dense topology: sub-page BARs of a few groups packed into two 64K host
 * pages, devices with MSI-X tables next to hot regions, guests that assign
 * overlapping sets of them with different MSI-X modes and policies. Small
 * edits here move BARs between pages that others share, which is where
 * reused results could go stale.
 */
const denseDoc = fc
  .record({
    devices: fc.array(
      fc.record({
        slot: fc.nat(31),
        group: fc.integer({ min: 1, max: 3 }),
        size: fc.constantFrom('4K', '16K', '64K', '256'),
        msix: fc.boolean(),
        // Rarer shapes: I/O BARs, ROMs, VFs, a BAR right below 2^64, a BAR overlapping another device's.
        extra: fc.constantFrom('none', 'none', 'io', 'rom', 'sriov', 'top', 'overlap'),
      }),
      { minLength: 3, maxLength: 10 },
    ),
    guests: fc.array(fc.record({ assigns: fc.array(fc.nat(9), { maxLength: 4 }), msix: fc.constantFrom('emulate', 'relocate', 'paravirt'), policy: fc.constantFrom('listed', 'page-match', 'size-descending') }), { minLength: 1, maxLength: 3 }),
  })
  .map(({ devices, guests }) => {
    const out = ['host h {', '  page-size 64K', '}', ''];
    devices.forEach((d, i) => {
      out.push(`device d${i} at 0000:00:${(i + 1).toString(16).padStart(2, '0')}.0 {`, `  group ${d.group}`);
      out.push(`  bar 0 mem32 size ${d.size} at 0x8000_${(d.slot * 0x1000).toString(16).padStart(5, '0')}`);
      if (d.msix) {
        out.push('  bar 2 mem32 size 64K at 0x9000_' + (i * 0x10000).toString(16).padStart(5, '0'));
        out.push('  msix entries 16 table bar 2 offset 0x2000 pba bar 2 offset 0x3000');
        out.push('  region doorbells bar 2 offset 0x0 size 4K hot');
      }
      if (d.extra === 'io') out.push(`  bar 1 io size 32 at 0x${(0x1000 + (d.slot % 4) * 0x20).toString(16)}`);
      if (d.extra === 'rom') out.push(`  rom size 64K at 0x8001_${(d.slot % 2) * 0x8000 === 0 ? '0000' : '8000'}`);
      if (d.extra === 'sriov') out.push('  sriov vfs 4 {', `    bar 0 mem64 size 16K at 0x8002_${(d.slot * 0x1000).toString(16).padStart(4, '0')}`, '  }');
      if (d.extra === 'top') out.push('  bar 4 mem64 size 4K at 0xffff_ffff_ffff_f000');
      if (d.extra === 'overlap') out.push('  bar 4 mem64 size 64K at 0x8000_0000');
      out.push('}', '');
    });
    guests.forEach((g, k) => {
      out.push(`guest g${k} {`, `  window 0x1_0000_0000 size 1G`, `  allocate ${g.policy}`, `  msix ${g.msix}`);
      for (const a of new Set(g.assigns.map((x) => x % devices.length))) out.push(`  assign d${a}`);
      out.push('}', '');
    });
    return out.join('\n');
  });

/**
 * Chains of overlapping resources: BARs from 256 bytes to 16M, ROMs, VF
 * apertures and I/O BARs at random places in a 32M range, so that the overlap
 * sweep's "reaching furthest" resource changes with most edits and big
 * resources reach over many others.
 */
const overlapDoc = fc
  .array(
    fc.array(
      fc.record({
        kind: fc.constantFrom('mem64', 'mem64', 'mem32', 'io', 'rom', 'sriov'),
        size: fc.constantFrom('256', '4K', '64K', '1M', '16M'),
        at: fc.nat(0x1fff),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    { minLength: 3, maxLength: 14 },
  )
  .map((devices) => {
    const out = ['host h {', '  page-size 64K', '}', ''];
    devices.forEach((bars, i) => {
      out.push(`device d${i} at 0000:01:${i.toString(16).padStart(2, '0')}.0 {`, `  group ${i % 3}`);
      bars.forEach((b, k) => {
        const addr = `0x1_${(b.at * 0x1000).toString(16).padStart(8, '0')}`;
        if (b.kind === 'io') out.push(`  bar ${k} io size 32 at 0x${(0x1000 + (b.at % 8) * 0x10).toString(16)}`);
        else if (b.kind === 'rom') out.push(`  rom size ${b.size === '256' ? '4K' : b.size} at ${addr}`);
        else if (b.kind === 'sriov') out.push('  sriov vfs 4 {', `    bar ${k} mem64 size ${b.size === '256' ? '4K' : b.size} at ${addr}`, '  }');
        else out.push(`  bar ${k} ${b.kind} size ${b.size} at ${addr}`);
      });
      out.push('}', '');
    });
    return out.join('\n');
  });

/** Whole device blocks deleted, duplicated (a repeated name: the list is built again) or moved. */
const blockEdit = fc.record({ block: fc.nat(1000), kind: fc.constantFrom('delete', 'dup', 'move') });

function applyBlockEdit(text: string, e: { block: number; kind: string }): string {
  const blocks = [...text.matchAll(/^device [^\n]*\{[^]*?^\}\n/gm)];
  if (blocks.length < 2) return text;
  const m = blocks[e.block % blocks.length];
  const without = text.slice(0, m.index!) + text.slice(m.index! + m[0].length);
  if (e.kind === 'delete') return without;
  if (e.kind === 'dup') return text.slice(0, m.index!) + m[0] + text.slice(m.index!);
  const end = without.lastIndexOf('}\n') + 2; // after the last block
  return without.slice(0, end) + '\n' + m[0] + without.slice(end);
}

type Edit = SemanticEdit | { line: number; kind: string } | { block: number; kind: string };

/**
 * Applies `edits` one after another, analysing each version both incrementally
 * (from the previous version's analysis) and as a whole, and asserts the two
 * agree. Returns how many versions there were and how many were incremental.
 */
function checkEditChain(start: string, edits: Edit[], options: AnalyzeOptions = {}): { tried: number; incremental: number } {
  let text = start;
  let prev = analyze(text, options);
  let tried = 0;
  let incremental = 0;
  for (const e of edits) {
    let next = text;
    if ('pick' in e) {
      const s = numberSpan(text, e);
      if (!s) continue;
      next = text.slice(0, s.start) + s.newText + text.slice(s.end);
    } else if ('block' in e) next = applyBlockEdit(text, e);
    else next = applyLineEdit(text, e);
    const full = analyze(next, options);
    const inc = analyze(next, options, prev);
    tried++;
    if (inc.host.change) incremental++;
    assert.deepStrictEqual(picture(inc), picture(full), `edit ${JSON.stringify(e)} of\n${text}`);
    prev = inc;
    text = next;
  }
  return { tried, incremental };
}

describe('incremental analysis', function () {
  this.timeout(120_000);

  it('after random value and line edits, equals a whole analysis (and is incremental for most)', () => {
    let incremental = 0;
    let tried = 0;
    fc.assert(
      fc.property(fc.constantFrom(...DOCS.keys()), fc.array(fc.oneof(semanticEdit, lineEdit), { minLength: 1, maxLength: 8 }), (doc, edits) => {
        const n = checkEditChain(DOCS[doc], edits);
        tried += n.tried;
        incremental += n.incremental;
      }),
      { numRuns: 250 },
    );
    assert.ok(incremental > tried / 2, `only ${incremental} of ${tried} analyses were incremental`);
  });

  it('in dense pages shared by groups and guests, after random value and line edits, equals a whole analysis', () => {
    let incremental = 0;
    let tried = 0;
    fc.assert(
      fc.property(denseDoc, fc.array(fc.oneof(semanticEdit, semanticEdit, lineEdit), { minLength: 1, maxLength: 8 }), (doc, edits) => {
        const n = checkEditChain(doc, edits);
        tried += n.tried;
        incremental += n.incremental;
      }),
      { numRuns: 400 },
    );
    assert.ok(incremental > tried / 3, `only ${incremental} of ${tried} analyses were incremental`);
  });

  it('in chains of overlapping resources, after value, line and block edits, equals a whole analysis, and so does an edited copy', () => {
    let incremental = 0;
    let tried = 0;
    let overlapping = 0;
    fc.assert(
      fc.property(overlapDoc, fc.array(fc.oneof(semanticEdit, semanticEdit, lineEdit, blockEdit), { minLength: 1, maxLength: 8 }), semanticEdit, (doc, edits, last) => {
        const n = checkEditChain(doc, edits);
        tried += n.tried;
        incremental += n.incremental;
        // An edited copy of the first version, analysed without consuming it (fix verification), equals a whole analysis.
        const a = analyze(doc);
        if (a.diagnostics.some((d) => d.rule === 'bar-overlap')) overlapping++;
        const s = numberSpan(doc, last);
        const copy = s && parseEditedCopy({ tree: a.tree, file: a.file, errors: a.syntaxErrors }, doc, [{ span: { start: s.start, end: s.end }, newText: s.newText }]);
        if (!copy) return;
        const before = picture(a);
        assert.deepStrictEqual(copyPicture(analyzeParsed(doc, copy, {}, false, a)), copyPicture(analyzeParsed(doc, copy, {})));
        assert.deepStrictEqual(picture(a), before, 'the original analysis changed');
      }),
      { numRuns: 300 },
    );
    assert.ok(incremental > tried / 3, `only ${incremental} of ${tried} analyses were incremental`);
    assert.ok(overlapping > 150, `only ${overlapping} of 300 documents had overlaps`);
  });

  it('under every analysis option (page-size override, severities, msix-mappable default), equals a whole analysis', () => {
    const options: fc.Arbitrary<AnalyzeOptions> = fc.record(
      {
        pageSize: fc.constantFrom(4096n, 16384n, 65536n),
        severities: fc.constantFrom({}, { 'subpage-shared': 'off' as const, 'guest-offset-mismatch': 'error' as const }, { 'page-shared-across-groups': 'info' as const, 'msix-page-shared': 'off' as const }),
        msixMappableDefault: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(denseDoc, options, fc.array(fc.oneof(semanticEdit, lineEdit), { minLength: 1, maxLength: 6 }), (doc, opts, edits) => {
        checkEditChain(doc.replace('  page-size 64K\n', ''), edits, opts); // no page size in the file: the option or the default decides
      }),
      { numRuns: 200 },
    );
  });

  it('with rule severities changed between versions, analyses everything again', () => {
    const text = GENERATED[0];
    const a = analyze(text);
    const at = text.indexOf('at 0x') + 5;
    const next = text.slice(0, at) + '1' + text.slice(at + 1);
    const inc = analyze(next, { severities: { 'subpage-shared': 'off', 'guest-offset-mismatch': 'error' } }, a);
    assert.strictEqual(inc.host.change, undefined);
    assert.deepStrictEqual(picture(inc), picture(analyze(next, { severities: { 'subpage-shared': 'off', 'guest-offset-mismatch': 'error' } })));
  });

  it('analyses an edited copy (fix verification) to what a whole analysis of that copy gives, leaving the original untouched', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...DOCS), denseDoc), semanticEdit, (text, e) => {
        const a = analyze(text);
        const before = picture(a);
        const s = numberSpan(text, e);
        if (!s) return;
        const edits = [{ span: { start: s.start, end: s.end }, newText: s.newText }];
        const copy = parseEditedCopy({ tree: a.tree, file: a.file, errors: a.syntaxErrors }, text, edits);
        if (!copy) return;
        const inc = analyzeParsed(text, copy, {}, false, a);
        const full = analyzeParsed(text, copy, {});
        assert.deepStrictEqual(copyPicture(inc), copyPicture(full));
        assert.deepStrictEqual(picture(a), before, 'the original analysis changed');
      }),
      { numRuns: 250 },
    );
  });

  it('on a large file, an edit in one device recomputes a few devices and guests, not the topology', () => {
    const big = toBartopo(generate({ devices: 2000, seed: 3 }));
    const a = analyze(big);
    const at = big.indexOf('at 0x', big.length >> 1) + 'at 0x'.length + 2;
    const next = big.slice(0, at) + (big[at] === '1' ? '2' : '1') + big.slice(at + 1);
    const inc = analyze(next, {}, a);
    assert.ok(inc.host.change, 'not incremental');
    assert.ok(inc.host.change.added.size <= 3, `${inc.host.change.added.size} devices new`); // the edited one and its re-parsed neighbours
    assert.ok(inc.host.change.touched.size < 10, `${inc.host.change.touched.size} devices touched`);
    const reusedGuests = inc.guests.filter((g) => a.guests.includes(g)).length;
    assert.ok(reusedGuests >= inc.guests.length - 2, `${reusedGuests} of ${inc.guests.length} guests reused`);
    assert.deepStrictEqual(picture(inc), picture(analyze(next)));
  });

  it('in one guest of 600 devices, a BAR address edit judges again only the BARs of the pages it leaves and enters', () => {
    // Every device is assigned to the one guest, so each keystroke in a BAR reaches it: the guest is placed
    // again, but the verdicts of BARs whose pages the edit does not concern are taken over (same objects).
    for (const policy of ['listed', 'page-match', 'size-descending']) {
      const big = toBartopo(generate({ devices: 600, seed: 9, guests: 1 })).replace(/allocate \S+/, `allocate ${policy}`);
      let text = big;
      let prev = analyze(text);
      const at = [...text.matchAll(/^ {2}bar \d+ mem\S* .*at (0x[0-9a-f_]+)$/gm)].map((m) => m.index! + m[0].length - 1);
      assert.ok(at.length > 100, `${at.length} BAR addresses`);
      let rejudged = 0;
      for (let k = 0; k < 12; k++) {
        const i = at[Math.floor(((k + 0.5) * at.length) / 12)];
        const next = text.slice(0, i) + (text[i] === '0' ? '8' : '0') + text.slice(i + 1); // moves it within or across pages
        const before = prev.guests[0];
        const inc = analyze(next, {}, prev);
        const ga = inc.guests[0];
        assert.ok(ga !== before, 'the guest was not analysed again');
        const old = new Set(before.placements.values());
        const kept = [...ga.placements.values()].filter((p) => old.has(p)).length;
        if (kept >= ga.placements.size * 0.8) rejudged++; // 4K BARs packed 16 to a guest page (size-descending) take their page mates along
        assert.deepStrictEqual(picture(inc), picture(analyze(next)), `${policy}, edit ${k}`);
        text = next;
        prev = inc;
      }
      assert.strictEqual(rejudged, 12, `${policy}: only ${rejudged} of 12 edits took most verdicts over`);
    }
  });

  it('updates the device list through renames, PCI address changes, duplicates made and undone, and window edits', () => {
    // The device list is updated, not rebuilt, unless a name or PCI address repeats or the
    // windows change: each step below is checked against a whole analysis of its version.
    const start = [
      'host h {',
      '  page-size 64K',
      '  window w32 0x8000_0000 size 1G',
      '}',
      ...Array.from({ length: 8 }, (_, i) => `device d${i} at 00:0${i}.0 {\n  group ${i}\n  bar 0 mem32 size 64K at 0x${(0x8000_0000 + i * 0x10000).toString(16)}\n}`),
      'device far at 00:09.0 {\n  bar 0 mem32 size 4K at 0xf000_0000\n}', // outside the window
      'device farther at 00:0a.0 {\n  bar 0 mem64 size 4K at 0x1_0000_0000\n}', // outside the window, also after it grows
      'guest vm {\n  window 0x1_0000_0000 size 1G\n  assign d1\n  assign d7\n  assign far\n  assign nobody\n}',
      '',
    ].join('\n');
    const steps: [string, (t: string) => string][] = [
      ['a rename to a free name', (t) => t.replace('device d3 ', 'device e3 ')],
      ['a rename onto an existing name (duplicate)', (t) => t.replace('device e3 ', 'device d5 ')],
      ['the duplicate renamed away again', (t) => t.replace('device d5 at 00:03.0', 'device d3 at 00:03.0')],
      ['a PCI address onto another device\'s (duplicate)', (t) => t.replace('device d2 at 00:02.0', 'device d2 at 00:06.0')],
      ['the PCI address back', (t) => t.replace('device d2 at 00:06.0', 'device d2 at 00:02.0')],
      ['an unknown assign gets its device (a name close to others)', (t) => t.replace('device d0 ', 'device nobody ')],
      ['the window grows over the far device', (t) => t.replace('window w32 0x8000_0000 size 1G', 'window w32 0x8000_0000 size 2G')],
      ['a device deleted', (t) => t.replace(/device d4 [^}]*}\n/, '')],
      ['a device statement without a name', (t) => t.replace('device d6 ', 'device ')],
      ['the name back', (t) => t.replace('device at 00:06.0', 'device d6 at 00:06.0')],
    ];
    let text = start;
    let prev = analyze(text);
    assert.ok(prev.topology.reuse, 'no duplicates at the start: the list can be updated');
    for (const [what, edit] of steps) {
      const next = edit(text);
      assert.notStrictEqual(next, text, `${what}: the edit changed nothing`);
      const inc = analyze(next, {}, prev);
      assert.deepStrictEqual(picture(inc), picture(analyze(next)), what);
      prev = inc;
      text = next;
    }
    // A verified fix's copy with other windows must not leave its host-level findings on the shared device models.
    const copyWithoutWindow = parseEditedCopy({ tree: prev.tree, file: prev.file, errors: prev.syntaxErrors }, text, [
      { span: { start: text.indexOf('  window w32'), end: text.indexOf('\n', text.indexOf('  window w32')) }, newText: '  window w32 0xc000_0000 size 16M' },
    ]);
    assert.ok(copyWithoutWindow);
    analyzeParsed(text, copyWithoutWindow, {}, false, prev);
    const next = `${text}# a comment at the end\n`;
    assert.deepStrictEqual(picture(analyze(next, {}, prev)), picture(analyze(next)), 'a keystroke after the copy');
  });

  // Statements between the edited one and the one that must be kept (an edit parses its neighbours again too).
  const FILLER = 'device f1 at 03:00.0 {\n  group 3\n}\ndevice f2 at 04:00.0 {\n  group 4\n}\n';
  const FILLER2 = 'device f3 at 05:00.0 {\n  group 5\n}\ndevice f4 at 06:00.0 {\n  group 6\n}\n';

  it('keeps a guest that names an unknown device while the device names stay the same, and builds it again when they change', () => {
    const doc = (other: string, addr: string): string =>
      `host h {\n  page-size 64K\n}\ndevice nic at 01:00.0 {\n  group 1\n  bar 0 mem64 size 64K at 0x1_0000_0000\n}\n${FILLER2}device ${other} at 02:00.0 {\n  group 2\n  bar 0 mem64 size 64K at ${addr}\n}\n${FILLER}guest g {\n  window 0x8000_0000 size 1G\n  assign nic\n  assign nci\n}\n`;
    const unknown = (a: Analysis): string[] => a.diagnostics.filter((d) => d.target?.guest === 'g' || /nci/.test(d.message)).map((d) => d.message);
    const a = analyze(doc('other', '0x2_0000_0000'));
    assert.ok(unknown(a).some((m) => m.includes('Did you mean `nic`?')), unknown(a).join('\n'));
    // A BAR edit in a device the guest does not assign: the guest (and its analysis) is kept, finding and all.
    const b = analyze(doc('other', '0x3_0000_0000'), {}, a);
    assert.ok(b.host.change, 'not incremental');
    assert.strictEqual(b.topology.guests[0], a.topology.guests[0], 'the guest model was built again');
    assert.strictEqual(b.guests[0], a.guests[0], 'the guest was placed and judged again');
    assert.deepStrictEqual(picture(b), picture(analyze(doc('other', '0x3_0000_0000'))));
    // A rename that gives a closer-in-order name (nci2 and nic are both one edit from nci; the first in alphabetical order wins).
    const c = analyze(doc('nci2', '0x3_0000_0000'), {}, b);
    assert.notStrictEqual(c.topology.guests[0], b.topology.guests[0]);
    assert.ok(unknown(c).some((m) => m.includes('Did you mean `nci2`?')), unknown(c).join('\n'));
    assert.deepStrictEqual(picture(c), picture(analyze(doc('nci2', '0x3_0000_0000'))));
    // A rename that makes the unknown name known.
    const d = analyze(doc('nci', '0x3_0000_0000'), {}, c);
    assert.ok(!unknown(d).some((m) => m.includes('Did you mean')), unknown(d).join('\n'));
    assert.deepStrictEqual(picture(d), picture(analyze(doc('nci', '0x3_0000_0000'))));
  });

  it('with one small guest per device (the guest list taken over, only the guests naming an edited device built again), equals a whole analysis', () => {
    // Guests name their device, sometimes a second one or a name no device has; edits rename devices (to names
    // guests use, to unknown ones), move BARs, and drop, duplicate or move lines and device blocks.
    const manyGuests = fc
      .record({
        n: fc.integer({ min: 3, max: 14 }),
        extra: fc.array(fc.option(fc.nat(16), { nil: undefined }), { minLength: 14, maxLength: 14 }),
        policy: fc.constantFrom('listed', 'page-match'),
      })
      .map(({ n, extra, policy }) => {
        const out = ['host h {', '  page-size 64K', '}', ''];
        for (let i = 0; i < n; i++) {
          out.push(`device d${i} at 0000:00:${(i + 1).toString(16).padStart(2, '0')}.0 {`, `  group ${i}`, `  bar 0 mem64 size ${i % 3 === 0 ? '4K' : '64K'} at 0x1_${(i * 0x10000 + (i % 4 === 1 ? 0x1000 : 0)).toString(16).padStart(8, '0')}`, '}', '');
        }
        for (let i = 0; i < n; i++) {
          out.push(`guest g${i} {`, `  window 0x8000_0000 size 1G`, `  allocate ${policy}`, `  assign d${i}`);
          if (extra[i] !== undefined) out.push(`  assign d${extra[i]}`); // d14, d15, d16 never exist
          out.push('}', '');
        }
        return out.join('\n');
      });
    const rename = fc.record({ device: fc.nat(20), to: fc.nat(17) });
    fc.assert(
      fc.property(manyGuests, fc.array(fc.oneof(rename, semanticEdit, lineEdit, blockEdit), { minLength: 1, maxLength: 8 }), (start, edits) => {
        let text = start;
        let prev = analyze(text);
        for (const e of edits) {
          let next = text;
          if ('device' in e) {
            const decls = [...text.matchAll(/^device (d\d+) at/gm)];
            if (decls.length === 0) continue;
            const m = decls[e.device % decls.length];
            const at = m.index! + 'device '.length;
            next = text.slice(0, at) + `d${e.to}` + text.slice(at + m[1].length);
          } else if ('pick' in e) {
            const sp = numberSpan(text, e);
            if (!sp) continue;
            next = text.slice(0, sp.start) + sp.newText + text.slice(sp.end);
          } else if ('block' in e) next = applyBlockEdit(text, e);
          else next = applyLineEdit(text, e);
          const inc = analyze(next, {}, prev);
          assert.deepStrictEqual(picture(inc), picture(analyze(next)), `edit ${JSON.stringify(e)} of\n${text}`);
          prev = inc;
          text = next;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('judges again a guest whose device an edit elsewhere re-decided (its model is kept, its verdict changes)', () => {
    // b's BAR moves into a's 64K page: a is no longer mmapped (subpage-shared), so guest g, which assigns only a
    // and whose statement and model are untouched, must judge a again: direct -> trapped.
    const doc = (bAddr: string): string =>
      `host h {\n  page-size 64K\n}\ndevice a at 01:00.0 {\n  group 1\n  bar 0 mem64 size 4K at 0x1_0000_0000\n}\n${FILLER}device b at 02:00.0 {\n  group 2\n  bar 0 mem64 size 4K at ${bAddr}\n}\n${FILLER2}guest g {\n  window 0x8000_0000 size 1G\n  allocate page-match\n  assign a\n}\n`;
    const verdicts = (x: Analysis): string[] => [...x.guests[0].placements.values()].map((p) => p.verdict);
    const a = analyze(doc('0x2_0000_0000'));
    assert.deepStrictEqual(verdicts(a), ['direct']);
    const b = analyze(doc('0x1_0000_1000'), {}, a);
    assert.deepStrictEqual([...(b.host.change?.redecided ?? [])].map((d) => d.name), ['a']);
    assert.strictEqual(b.topology.guests[0], a.topology.guests[0], 'the guest model should be kept');
    assert.deepStrictEqual(verdicts(b), ['trapped']);
    assert.deepStrictEqual(picture(b), picture(analyze(doc('0x1_0000_1000'))));
  });

  it('after an assign names another device (as many assigns as before), redoes the MSI-X page findings of both devices', () => {
    // msix-page-shared depends on which guests assign a device: renaming an assign moves it from one device to another.
    const start = toBartopo(generate({ devices: 60, seed: 21, guests: 2 }));
    const names = [...start.matchAll(/^device (\S+) /gm)].map((m) => m[1]);
    let moved = 0;
    fc.assert(
      fc.property(fc.array(fc.record({ line: fc.nat(1000), to: fc.nat(1000) }), { minLength: 1, maxLength: 6 }), (edits) => {
        let text = start;
        let prev = analyze(text);
        for (const e of edits) {
          const lines = [...text.matchAll(/^  assign (\S+)$/gm)];
          const m = lines[e.line % lines.length];
          const at = m.index! + '  assign '.length;
          const next = text.slice(0, at) + names[e.to % names.length] + text.slice(at + m[1].length);
          const inc = analyze(next, {}, prev);
          const count = (x: Analysis): number => x.diagnostics.filter((d) => d.rule === 'msix-page-shared').length;
          if (count(inc) !== count(prev)) moved++;
          assert.deepStrictEqual(picture(inc), picture(analyze(next)), `${m[1]} -> ${names[e.to % names.length]}`);
          prev = inc;
          text = next;
        }
      }),
      { numRuns: 60 },
    );
    assert.ok(moved > 10, `MSI-X page findings changed after only ${moved} renames`);
  });

  it('patches a guest model when devices it assigns change: the other assigns keep their objects, findings follow the edited one', () => {
    // x and y are assigned; y's assign lists bar 2 (x's lists bar 4, which x lacks: a finding that must stay).
    const doc = (yBars: string): string =>
      `host h {\n  page-size 64K\n}\ndevice x at 01:00.0 {\n  group 1\n  bar 0 mem64 size 64K at 0x1_0000_0000\n}\n${FILLER}device y at 02:00.0 {\n  group 2\n${yBars}}\n${FILLER2}guest g {\n  window 0x8000_0000 size 1G\n  allocate page-match\n  assign x {\n    bar 4\n  }\n  assign y {\n    bar 2\n  }\n}\n`;
    const both = '  bar 0 mem64 size 64K at 0x2_0000_0000\n  bar 2 mem64 size 64K at 0x2_0001_0000\n';
    const a = analyze(doc(both));
    const refs = (x: Analysis): string[] => x.diagnostics.filter((d) => d.rule === 'unknown-reference').map((d) => d.message).sort();
    assert.deepStrictEqual(refs(a), ['guest g: x has no BAR 4 (it has bar0).']);
    // y loses bar 2: the guest model is new, x's assign is the same object, and y's assign block now has a finding.
    const b = analyze(doc('  bar 0 mem64 size 64K at 0x2_0000_0000\n'), {}, a);
    assert.ok(b.host.change, 'not incremental');
    assert.notStrictEqual(b.topology.guests[0], a.topology.guests[0]);
    assert.strictEqual(b.topology.guests[0].assigns[0], a.topology.guests[0].assigns[0], 'the assign of the unchanged device was built again');
    assert.notStrictEqual(b.topology.guests[0].assigns[1], a.topology.guests[0].assigns[1]);
    assert.deepStrictEqual(refs(b), ['guest g: x has no BAR 4 (it has bar0).', 'guest g: y has no BAR 2 (it has bar0).']);
    assert.deepStrictEqual(picture(b), picture(analyze(doc('  bar 0 mem64 size 64K at 0x2_0000_0000\n'))));
    // And back.
    const c = analyze(doc(both), {}, b);
    assert.deepStrictEqual(refs(c), ['guest g: x has no BAR 4 (it has bar0).']);
    assert.deepStrictEqual(picture(c), picture(analyze(doc(both))));
  });

  it('reports the findings of a kept device as the same diagnostic objects, and as new ones when their severity changes', () => {
    // Two devices with a finding each (misaligned BARs); an edit in the second keeps the first device's model.
    const doc = (addr: string): string =>
      `device a at 01:00.0 {\n  group 1\n  bar 0 mem64 size 1M at 0x1_0001_0000\n}\n${FILLER}device b at 02:00.0 {\n  group 2\n  bar 0 mem64 size 1M at ${addr}\n}\n`;
    const first = analyze(doc('0x2_0001_0000'));
    const ofA = (x: Analysis) => x.diagnostics.find((d) => d.subject === 'a.bar0' && d.rule === 'bar-alignment')!;
    const next = analyze(doc('0x2_0002_0000'), {}, first);
    assert.strictEqual(ofA(next), ofA(first), 'a new diagnostic object for an unchanged device');
    assert.deepStrictEqual(picture(next), picture(analyze(doc('0x2_0002_0000'))));
    const warned = analyze(doc('0x2_0003_0000'), { severities: { 'bar-alignment': 'warning' } }, next);
    assert.strictEqual(ofA(warned).severity, 'warning');
    assert.deepStrictEqual(picture(warned), picture(analyze(doc('0x2_0003_0000'), { severities: { 'bar-alignment': 'warning' } })));
  });

  it('after fixes were verified on edited copies, still reuses the guests an edit does not reach', () => {
    // A verification analyses an edited copy that shares the original's nodes; what it
    // builds must not take the place of the original's models (the next keystroke would
    // then rebuild and re-place every guest a verified fix touched).
    const big = toBartopo(generate({ devices: 2000, seed: 3 }));
    const a = analyze(big);
    const hostSide = a.diagnostics.filter((d) => d.rule === 'subpage-shared' || d.rule === 'subpage-unaligned').slice(0, 20);
    let offered = 0;
    for (const d of hostSide) offered += computeFixes(a, d).length;
    assert.ok(offered >= 10, `${offered} fixes offered`);
    const inGuest = a.guests.filter((g) => g.guest.assigns.some((x) => hostSide.some((d) => d.target?.device === x.device.name)));
    assert.ok(inGuest.length >= 3, `${inGuest.length} guests assign a fixed device`);
    // A keystroke in the first device's label: its guests see a new device model, no other guest is reached.
    const at = big.indexOf('  name "') + '  name "'.length;
    const next = big.slice(0, at) + 'x' + big.slice(at);
    const inc = analyze(next, {}, a);
    assert.ok(inc.host.change, 'not incremental');
    const newNames = new Set([...inc.host.change.added].map((d) => d.name));
    const unreached = a.guests.filter((g) => !g.guest.assigns.some((x) => newNames.has(x.device.name)));
    assert.ok(unreached.length >= inc.guests.length - 3, `${unreached.length} of ${inc.guests.length} guests out of the edit's reach`);
    const notReused = unreached.filter((g) => !inc.guests.includes(g)).map((g) => g.guest.name);
    assert.deepStrictEqual(notReused, [], 'analysed again although the edit does not reach them');
    assert.deepStrictEqual(picture(inc), picture(analyze(next)));
  });
});
