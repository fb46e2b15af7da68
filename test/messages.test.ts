// The messages of the rules that build their text when it is read (guest-offset-mismatch,
// guest-page-conflict, msix-page-shared: see `MessageText` in report.ts) say the numbers of
// the layout, worked out by hand in each fixture's header, and stay the same when read late:
// after the analysis of a later version has taken the finding over.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze, barReports } from '../server/src/engine/analyze';
import { computeFixes } from '../server/src/engine/fixes';
import { readable } from '../server/src/engine/report';
import { aSized } from '../server/src/engine/values';
import * as fc from 'fast-check';
import { Diagnostic } from '../server/src/engine/types';
import { FIXTURES_DIR } from './paths';

const read = (name: string): string => fs.readFileSync(path.join(FIXTURES_DIR, 'engine', name), 'utf8');
const one = (ds: Diagnostic[], rule: string, subject: string): Diagnostic => {
  const found = ds.filter((d) => d.rule === rule && d.subject === subject);
  assert.strictEqual(found.length, 1, `one ${rule} for ${subject}`);
  return found[0];
};
const saysAll = (d: Diagnostic, facts: string[]): void => {
  for (const f of facts) assert.ok(d.message.includes(f), `${d.rule} should say "${f}": ${d.message}`);
};

describe('messages built when read', () => {
  it('guest-offset-mismatch and guest-page-conflict name the addresses, offsets and pages of the layout', () => {
    const a = analyze(read('guest-page-conflict.bartopo'));
    // b.bar0: host 0x2000_0002_0000 (offset 0 in its 64K page), guest 0x8000_1000 (offset 0x1000).
    saysAll(one(a.diagnostics, 'guest-offset-mismatch', 'b.bar0'), ['guest vm', 'b.bar0', 'guest 0x80001000', 'offset 0x1000', 'host 0x200000020000', 'offset 0x0', '64K page']);
    // a.bar0: guest page 0x8000_0000 would map host page 0x2000_0001_0000, but b.bar0 is in that guest page too.
    saysAll(one(a.diagnostics, 'guest-page-conflict', 'a.bar0'), ['guest vm', 'guest page 0x80000000', 'host page 0x200000010000', 'b.bar0 at 0x80001000', 'comes from another']);
  });

  it('offset and page-conflict advice fits how the BAR got its guest address: an explicit `at` is never moved by the allocator', () => {
    const a = analyze(read('guest-offset-mismatch.bartopo'));
    const byGuest = (g: string): Diagnostic => {
      const found = a.diagnostics.filter((d) => d.rule === 'guest-offset-mismatch' && d.target?.guest === g);
      assert.strictEqual(found.length, 1, g);
      return found[0];
    };
    // skew: d.bar0 has `at 0x8000_1000` (default policy listed): changing the `at` helps, page-match alone does not.
    const skew = byGuest('skew').message;
    assert.match(skew, /Change its `at` to a guest address with offset 0x0 in its page, or drop the `at` and use `allocate page-match`/);
    // packed: the listed allocator put d.bar0 at 0x8000_1000: page-match is the fix.
    const packed = byGuest('packed').message;
    assert.match(packed, /Use `allocate page-match` in guest packed .*or give it an explicit guest address with offset 0x0 \(`bar 0 at ADDR` in its assign block\)/);
    assert.doesNotMatch(packed, /Change its `at`/);
    // Under page-match already, an explicit BAR is told to drop its `at` so that page-match places it.
    const pm = analyze('host {\n  page-size 64K\n}\ndevice d at 00:01.0 {\n  group 1\n  bar 0 mem64 size 4K at 0x2000_0001_0000\n}\nguest g {\n  window 0x8000_0000 size 1G\n  allocate page-match\n  assign d {\n    bar 0 at 0x8000_1000\n  }\n}\n');
    const m = one(pm.diagnostics, 'guest-offset-mismatch', 'd.bar0').message;
    assert.match(m, /or drop the `at` so that `allocate page-match` places it/);
    assert.doesNotMatch(m, /use `allocate page-match`/);
    // guest-page-conflict of an explicit BAR: its `at` must change.
    const conflict = analyze(
      'host {\n  page-size 64K\n}\ndevice a at 00:01.0 {\n  group 1\n  bar 0 mem64 size 4K at 0x2000_0001_0000\n  bar 2 mem64 size 4K at 0x2000_0002_0000\n}\nguest g {\n  window 0x8000_0000 size 1G\n  assign a {\n    bar 0 at 0x8000_0000\n    bar 2 at 0x8000_1000\n  }\n}\n',
    );
    const c = conflict.diagnostics.filter((d) => d.rule === 'guest-page-conflict');
    assert.ok(c.length > 0, 'a page conflict');
    for (const d of c) assert.match(d.message, /Give it a guest page of its own: change its `at` \(an explicit address is never moved by the allocator\)\./);
    // A BAR of a page or more whose host address is off a page boundary is misaligned on the host: no guest placement
    // can match that offset (page-match places it at offset 0), so the advice is to align it.
    const mis = analyze('host h {\n  page-size 64K\n}\ndevice a at 01:00.0 {\n  bar 0 mem64 size 64K at 0x1_0000_8000\n}\nguest vm {\n  window 0x80_0000_0000 size 1G\n  allocate page-match\n  assign a\n}\n');
    const mm = one(mis.diagnostics, 'guest-offset-mismatch', 'a.bar0').message;
    assert.match(mm, /Its host address is not aligned to its size \(bar-alignment\): align it first/);
    assert.doesNotMatch(mm, /Use `allocate page-match`/);
  });

  it('msix-page-shared names the region, the shared page and the table', () => {
    const a = analyze(read('nic-msix-emulate-64k.bartopo'));
    // Table: 64 entries x 16 bytes = 0x400 bytes at 0x2000 of bar0, in host page 0x2100_0000_0000_0000.
    saysAll(one(a.diagnostics, 'msix-page-shared', 'nic.doorbells'), ['hot region doorbells', 'bar0 0x0-0x1fff', 'host page 0x2100000000000000 (64K)', 'table (bar0 0x2000-0x23ff)', 'guest vm0']);
    saysAll(one(a.diagnostics, 'msix-page-shared', 'nic.config'), ['region config', 'bar0 0x8000-0x8fff']);
  });

  it('are the same when first read after later versions took the finding over', () => {
    for (const name of ['guest-page-conflict.bartopo', 'nic-msix-emulate-64k.bartopo']) {
      let text = read(name);
      let a = analyze(text);
      // Messages of this version are never read; three edits later, the findings are read from the last analysis.
      for (const edit of ['# a comment above everything\n', '\n', '# another\n']) {
        text = edit + text;
        a = analyze(text, {}, a);
      }
      const whole = analyze(text);
      assert.deepStrictEqual(
        a.diagnostics.map((d) => [d.rule, d.span.start, d.message]),
        whole.diagnostics.map((d) => [d.rule, d.span.start, d.message]),
        name,
      );
    }
  });
});

describe('messages that follow the layout', () => {
  it('sriov-vf-subpage counts the VFs that really share a page, and says why even a VF alone in its page is not mmapped', () => {
    const vfs = (n: number, at = '0x2_0010_0000'): string => `host h {\n  page-size 64K\n}\ndevice pf at 00:01.0 {\n  bar 0 mem64 size 1M at 0x2_0000_0000\n  sriov vfs ${n} {\n    bar 0 mem64 size 16K at ${at}\n  }\n}\n`;
    // 64K / 16K = 4 VF BARs fit in a page: 8 VFs fill two pages of 4, 2 VFs share one page, 1 VF is alone.
    saysAll(one(analyze(vfs(8)).diagnostics, 'sriov-vf-subpage', 'pf.vf*.bar0'), ['16K, smaller than the 64K host page', '4 VFs share a page', "the rest of the last VF's page lies outside the VF BAR aperture", "no VF's BAR is mmapped"]);
    saysAll(one(analyze(vfs(2)).diagnostics, 'sriov-vf-subpage', 'pf.vf*.bar0'), ['2 VFs share a page']);
    // Two VFs from offset 0xc000: one in each page, none sharing.
    saysAll(one(analyze(vfs(2, '0x2_0010_c000')).diagnostics, 'sriov-vf-subpage', 'pf.vf*.bar0'), ['no two VFs share a page here, but the rest']);
    const single = one(analyze(vfs(1)).diagnostics, 'sriov-vf-subpage', 'pf.vf*.bar0');
    saysAll(single, ["the rest of the last VF's page lies outside the VF BAR aperture", "no VF's BAR is mmapped"]);
    assert.ok(!single.message.includes('share'), single.message);
  });

  it('subpage-shared counts every resource in the page, and names a few of them', () => {
    // 12 BARs of 2K at 0x1000 (4K pages): each shares its page with the 11 others.
    let text = '';
    for (let i = 0; i < 12; i++) text += `device d${i} at 00:0${(i >> 3).toString(16)}.${i & 7} {\n  bar 0 mem32 size 2K at 0x1000\n}\n`;
    const a = analyze(text);
    const d = one(a.diagnostics, 'subpage-shared', 'd5.bar0');
    saysAll(d, ['d5.bar0 (2K) starts host page 0x1000', 'd0.bar0', 'and 8 more']);
    assert.strictEqual(d.related.length, 8, 'eight related locations');
    assert.ok(!d.related.some((r) => r.message.startsWith('d5.bar0')), 'not itself');
  });
});

describe('messages quoting very long words', () => {
  it('shorten a name of 200,000 characters to its start, end and length; the subject keeps it whole', () => {
    // Before, each message quoted the name whole (twice in some): 3,000 findings about such a device were
    // 566 million characters, more than a JavaScript string holds, and `bartopo check` failed to print them.
    const name = 'n'.repeat(100_000) + 'x'.repeat(100_000);
    const text = `host h {\n  page-size 64K\n}\ndevice ${name} at 00:01.0 {\n  group 1\n  bar 0 mem32 size 4K at 0x8000_1000\n}\ndevice ${name} at 00:02.0 {\n  group 2\n  bar 0 mem32 size 3K at 0x8000_2000\n}\nguest g {\n  window 0x1_0000_0000 size 1G\n  assign ${name}\n}\n`;
    const a = analyze(text);
    assert.ok(a.diagnostics.length >= 3, a.diagnostics.map((d) => d.rule).join());
    for (const d of a.diagnostics) {
      assert.ok(d.message.length <= 2000, `${d.rule}: ${d.message.length} characters`);
      for (const r of d.related) assert.ok(r.message.length <= 2000, `${d.rule} related: ${r.message.length} characters`);
    }
    const dup = a.diagnostics.find((d) => d.rule === 'duplicate')!;
    assert.ok(dup.message.includes(`${'n'.repeat(40)}…${'x'.repeat(20)} (200,000 characters)`), dup.message);
    assert.strictEqual(dup.subject, name);
    const unaligned = a.diagnostics.find((d) => d.rule === 'subpage-unaligned')!;
    assert.match(unaligned.message, /\(200,000 characters\)\.bar0|\(200,\d{3} characters\)/);
    // Ordinary messages are untouched.
    const plain = analyze(read('guest-page-conflict.bartopo')).diagnostics;
    assert.ok(plain.every((d) => !d.message.includes('characters)')));
  });
});

describe('messages that say what to do', () => {
  const HEX_PAST_2_64 = /0x[0-9a-f]{17,}/;
  it('msix-page-shared does not advise `msix relocate` when the host cannot map the table page (msix-mappable no)', () => {
    const a = analyze(read('nic-msix-mappable-no-64k.bartopo'));
    const d = one(a.diagnostics, 'msix-page-shared', 'nic.doorbells');
    saysAll(d, ['msix-mappable no', 'Move the registers to another page']);
    assert.ok(!d.message.includes('Relocate the table'), d.message);
    // With the host able to map it, relocating is the first advice.
    saysAll(one(analyze(read('nic-msix-emulate-64k.bartopo')).diagnostics, 'msix-page-shared', 'nic.doorbells'), ['Relocate the table (`msix relocate`']);
  });

  it('near 2^64, suggests only addresses that fit in 64 bits, and prints no address past 2^64', () => {
    const a = analyze(read('address-overflow-no-overlap.bartopo'));
    const align = one(a.diagnostics, 'bar-alignment', 'o.bar2');
    saysAll(align, ['Use 0xffffffffffffe000.']);
    saysAll(one(a.diagnostics, 'address-overflow', 'o.bar2'), ['Lower the address', '0xffffffffffffe000 at the highest']);
    saysAll(one(a.diagnostics, 'bar-alignment', 'o.rom'), ['Use 0xfffffffffffff000.']);
    for (const d of a.diagnostics) assert.ok(!HEX_PAST_2_64.test(d.message), d.message);
    // Away from the top, both neighbours are offered.
    saysAll(one(analyze('device x at 01:00.0 {\n  bar 0 mem32 size 4K at 0x3100\n}\n').diagnostics, 'bar-alignment', 'x.bar0'), ['Use 0x3000 or 0x4000.']);
  });

  it('MSI-X layout, region and ROM errors say what to change, with sizes as 4K/64K or in bytes', () => {
    const text = 'device a at 01:00.0 {\n  bar 0 mem32 size 4K at 0xf000_0000\n  msix entries 300 table bar 0 offset 0x0 pba bar 0 offset 0xff8\n  rom size 64K at 0xf001_8000\n  region r bar 0 offset 0xf00 size 0x200\n}\n';
    const ds = analyze(text).diagnostics;
    const layout = ds.filter((d) => d.rule === 'msix-layout');
    // 300 entries x 16 bytes = 4800 bytes: bigger than the 4K BAR, which would need 8K.
    assert.ok(layout.some((d) => d.message.includes('(300 vectors, 4800 bytes)') && d.message.includes('at least 8K')), layout.map((d) => d.message).join('\n'));
    // The PBA of ceil(300 / 64) x 8 = 40 bytes at 0xff8 runs past 4K: at most 0x1000 - 40 = 0xfd8.
    assert.ok(layout.some((d) => d.message.includes('(40 bytes)') && d.message.includes('at most 0xfd8')), layout.map((d) => d.message).join('\n'));
    saysAll(one(ds, 'bar-alignment', 'a.rom'), ['Use 0xf0010000 or 0xf0020000.']);
    // 0x200 bytes at 0xf00 of a 4K BAR: at most 0x1000 - 0x200 = 0xe00.
    saysAll(one(ds, 'region-outside-bar', 'a.r'), ['Use an offset of at most 0xe00, or a size of at most 256 bytes at this offset.']);
    for (const d of ds) assert.ok(!/\(\d+\)/.test(d.message), `a bare number as a size: ${d.message}`);
  });

  it('page-shared-across-groups names every other group in the page (a few, then how many more), not only one', () => {
    let text = 'host h { page-size 64K }\n';
    for (let i = 0; i < 6; i++) text += `device d${i} at 00:0${i}.0 {\n  group ${i + 1}\n  bar 0 mem32 size 4K at 0x8000${i}000\n}\n`;
    const ds = analyze(text).diagnostics;
    const d0 = one(ds, 'page-shared-across-groups', 'd0.bar0');
    saysAll(d0, ['holds d0.bar0 (group 1) and resources of 5 other groups: d1.bar0 (group 2), d2.bar0 (group 3), d3.bar0 (group 4) and 2 more']);
    assert.deepStrictEqual(d0.related.map((r) => r.message), ['d1.bar0, group 2', 'd2.bar0, group 3', 'd3.bar0, group 4', 'd4.bar0, group 5', 'd5.bar0, group 6']);
    const two = analyze(text.split('device d2')[0]).diagnostics;
    saysAll(one(two, 'page-shared-across-groups', 'd1.bar0'), ['holds d1.bar0 (group 2) and d0.bar0 (group 1):']);
  });

  it('a BAR of several pages: the conflict names the guest page where it is, the MSI-X reason all the table\'s pages', () => {
    const conflict = 'host { page-size 64K }\ndevice x at 01:00.0 { bar 0 mem64 size 128K at 0x100000000 }\ndevice y at 02:00.0 { bar 0 mem64 size 4K at 0x200000000 }\nguest g { window 0x80000000 size 1M\n  assign x { bar 0 at 0x80000000 }\n  assign y { bar 0 at 0x80010000 }\n}\n';
    // x.bar0 covers guest pages 0x80000000 and 0x80010000; y.bar0 is in the second.
    saysAll(one(analyze(conflict).diagnostics, 'guest-page-conflict', 'x.bar0'), ['x.bar0 needs guest page 0x80010000 to map host page 0x100010000']);
    // 300 vectors (4800 bytes) from 0x1000 on 4K pages: the table is in two pages.
    const msix = 'device n at 01:00.0 {\n  group 1\n  bar 0 mem64 size 64K at 0x100000000\n  msix entries 300 table bar 0 offset 0x1000\n}\nguest e {\n  window 0x80000000 size 1G\n  allocate page-match\n  assign n\n}\n';
    const [r] = barReports(analyze(msix));
    assert.deepStrictEqual(r.guests.get('e')!.reasons, ['the pages holding the MSI-X table (0x100001000-0x100002fff) trap: the VMM emulates the table (guest msix emulate)']);
  });

  it('writes a size of 1024T or more in hex bytes, not as millions of T or a twenty-digit count', () => {
    const ds = analyze('host h { window w 0xffffffffffff0000 size 0x8000000000000000 }\nguest vm { window 0x10000 size 0xfffffffffffff000 }\n').diagnostics;
    const w = ds.find((d) => d.rule === 'address-overflow' && d.message.startsWith('window w'))!;
    saysAll(w, ['0xffffffffffff0000 + 0x8000000000000000 bytes runs past', 'a 0x8000000000000000-byte range starts at 0x8000000000000000 at the highest']);
    for (const d of ds) assert.ok(!/\d{5,}T|\d{13,}/.test(d.message.replace(/0x[0-9a-f]+/g, '')), d.message);
  });

  it('a region reaching past the MSI-X table page traps only in that page; sharing 4 KiB with the PBA alone costs no exits', () => {
    const big = 'host h { page-size 4K }\ndevice a at 01:00.0 {\n  group 1\n  bar 0 mem64 size 1M at 0x100000000\n  msix entries 16 table bar 0 offset 0xff000 pba bar 0 offset 0xff800\n  region regs bar 0 offset 0 size 1M hot\n}\nguest vm {\n  window 0x80000000 size 1G\n  allocate page-match\n  assign a\n}\n';
    const shared = one(analyze(big).diagnostics, 'msix-page-shared', 'a.regs');
    saysAll(shared, ['every access to the part of regs in the table\'s page (bar0 0xff000-0xfffff) exits to the VMM']);
    const pba = 'device a at 01:00.0 {\n  bar 0 mem32 size 16K at 0xf0000000\n  msix entries 4 table bar 0 offset 0 pba bar 0 offset 0x1000\n  region stats bar 0 offset 0x1800 size 0x100 hot\n}\n';
    const m = one(analyze(pba).diagnostics, 'msix-4k-sharing', 'a.stats');
    saysAll(m, ['with the MSI-X PBA (bar0 0x1000-0x1007)', 'costs no exits']);
    assert.ok(!m.message.includes('msix relocate') && !m.message.includes('traps'), m.message);
    const table = one(analyze(pba.replace('offset 0x1800', 'offset 0x800')).diagnostics, 'msix-4k-sharing', 'a.stats');
    saysAll(table, ['with the MSI-X table', 'traps these registers with it', '`msix relocate`']);
  });

  it('sizes a BAR that must hold an MSI-X table or a region from where that range ends, not from its length', () => {
    // 2048 vectors (32K) at 0x2000 end at 0xa000: a 32K BAR would still not hold them; 64K does.
    const text = 'device d at 01:00.0 {\n  bar 0 mem32 size 16K at 0xf0000000\n  msix entries 2048 table bar 0 offset 0x2000\n}\ndevice r at 02:00.0 {\n  bar 0 mem32 size 1K at 0xf0100000\n  region regs bar 0 offset 0x1000 size 4K\n  region tail bar 0 offset 0x300 size 0x200\n}\n';
    const ds = analyze(text).diagnostics;
    saysAll(one(ds, 'msix-layout', 'd.msix'), ['(2048 vectors, 32K) does not fit in d.bar0 (16K)', 'Give d.bar0 a size of at least 64K (the table ends at 0xa000)']);
    const fixed = analyze(text.replace('size 16K', 'size 64K')).diagnostics;
    assert.deepStrictEqual(fixed.filter((d) => d.rule === 'msix-layout'), [], 'the advice, taken, removes the error');
    saysAll(one(ds, 'region-outside-bar', 'r.regs'), ['Its offset 0x1000 is past the end of r.bar0, and its size is more than the whole BAR: check the size and the offset, or the BAR it names.']);
    saysAll(one(ds, 'region-outside-bar', 'r.tail'), ['Use an offset of at most 0x200, or a size of at most 256 bytes at this offset.']);
  });

  it('writes sizes that no binary unit divides in bytes, never as a bare number', () => {
    const ds = analyze('device a at 01:00.0 {\n  bar 0 mem32 size 3000 at 0xf000_0000\n  bar 1 mem32 size 8 at 0xf000_1000\n  bar 2 mem32 size 3K at 0xf000_2000\n}\n').diagnostics;
    const sizes = ds.filter((d) => d.rule === 'bar-size').map((d) => d.message);
    assert.ok(sizes.some((m) => m.includes('size 3000 bytes is not a power of two')), sizes.join('\n'));
    assert.ok(sizes.some((m) => m.includes('at least 16 bytes; 8 bytes is too small. Use 16 bytes or more.')), sizes.join('\n'));
    assert.ok(sizes.some((m) => m.includes('size 3K is not a power of two')), sizes.join('\n'));
  });
});

describe('messages checked against the facts of the input (a message audit)', () => {
  const ds = (text: string): Diagnostic[] => analyze(text).diagnostics;
  const msgs = (text: string, rule: string): string[] => ds(text).filter((d) => d.rule === rule).map((d) => d.message);

  it('a mem32 VF BAR 5 after a mem64 VF BAR 4 is the upper half of bar 4, not "declared twice"', () => {
    const m = msgs('device n at 01:00.0 {\n  bar 0 mem64 size 1M at 0x1_0000_0000\n  sriov vfs 2 {\n    bar 4 mem64 size 16K at 0x2_0000_0000\n    bar 5 mem32 size 16K at 0xf000_0000\n  }\n}\n', 'duplicate');
    assert.strictEqual(m.length, 1, m.join('\n'));
    assert.ok(m[0].includes('VF slot 5 is already the upper half of the 64-bit n.vf*.bar4') && !m[0].includes('declared twice'), m[0]);
  });

  it('advises the largest offset that fits: BAR size minus the length (8-byte aligned for the PBA), also when the offset is past the BAR', () => {
    // A 4K region at 0x20000 of a 128K BAR: at most 0x20000 - 0x1000 = 0x1f000.
    const region = msgs('device n at 01:00.0 {\n  bar 0 mem64 size 128K at 0x1_0000_0000\n  region db bar 0 offset 0x20000 size 4K\n}\n', 'region-outside-bar');
    assert.ok(region[0].includes('at most 0x1f000'), region[0]);
    // A PBA of 8 bytes at 0x20000: at most 0x20000 - 8 = 0x1fff8.
    const pba = msgs('device n at 01:00.0 {\n  bar 0 mem64 size 128K at 0x1_0000_0000\n  msix entries 16 table bar 0 offset 0x0 pba bar 0 offset 0x20000\n}\n', 'msix-layout');
    assert.ok(pba.some((m) => m.includes('at most 0x1fff8')), pba.join('\n'));
  });

  it('guest-window-full says why a sub-page BAR needs a whole page under page-match', () => {
    const m = msgs('host h { page-size 64K }\ndevice a at 01:00.0 { group 1; bar 0 mem32 size 4K at 0xf0000000 }\nguest g { window 0x80001000 size 32K; allocate page-match; assign a }\n', 'guest-window-full');
    assert.ok(m[0].includes('a.bar0 (4K) does not fit (under `allocate page-match` a BAR smaller than a page takes a whole 64K guest page)'), m[0]);
  });

  it('guest-window-full says when the window holds no aligned range at all, and where it could start', () => {
    const m = msgs('device a at 01:00.0 {\n  group 1\n  bar 0 mem64 size 64K at 0x1_0000_0000\n}\nguest m {\n  window 0x2_0000_1000 size 64K\n  assign a\n}\n', 'guest-window-full');
    assert.ok(m[0].includes('holds no 64K-aligned range of 64K') && m[0].includes('0x200000000 or 0x200010000') && !m[0].includes('placed'), m[0]);
  });

  it('a VF aperture past 2^64 is one error, in the singular for one VF; no range past 2^64 is printed by other rules', () => {
    const text = 'host h {\n  window w 0x8000_0000 size 1G\n}\ndevice d at 01:00.0 {\n  bar 0 mem64 size 1M at 0x8000_0000\n  bar 2 mem32 size 8K at 0xffff_ffff_ffff_f000\n  sriov vfs 1 {\n    bar 0 mem64 size 16K at 0xffff_ffff_ffff_c000\n  }\n}\ndevice e at 02:00.0 {\n  bar 0 mem64 size 1M at 0x8010_0000\n  sriov vfs 1 {\n    bar 0 mem64 size 16K at 0xffff_ffff_ffff_f000\n  }\n}\n';
    const all = ds(text);
    const vf = all.filter((d) => d.rule === 'address-overflow' && d.subject === 'e.vf*.bar0');
    assert.strictEqual(vf.length, 1, vf.map((d) => d.message).join('\n'));
    assert.ok(vf[0].message.includes('1 VF of 16K from 0xfffffffffffff000 runs past'), vf[0].message);
    for (const d of all) assert.ok(!/0x[0-9a-f]{17,}/.test(d.message), d.message);
    assert.ok(!all.some((d) => (d.rule === 'bar32-above-4g' || d.rule === 'bar-outside-window') && d.subject === 'd.bar2'), 'an overflowing range is no address range');
  });

  it('writes an 8K, an 18K and a 128-byte range, never "a 8K" or "a 128 bytes range"', () => {
    const m = [
      ...msgs('device a at 01:00.0 {\n  bar 0 mem64 size 8K at 0xffff_ffff_ffff_e000\n  bar 2 mem64 size 128 at 0xffff_ffff_ffff_ffc0\n}\n', 'address-overflow'),
      ...msgs('device a at 01:00.0 {\n  bar 0 mem64 size 8K at 0xffff_ffff_ffff_f000\n  bar 2 mem64 size 128 at 0xffff_ffff_ffff_ffc0\n}\n', 'address-overflow'),
    ];
    assert.ok(m.some((x) => x.includes('an 8K range')), m.join('\n'));
    assert.ok(m.some((x) => x.includes('a 128-byte range')), m.join('\n'));
    for (const x of m) assert.ok(!/\ba 8|\ba 1[18]\b|\d bytes range/.test(x), x);
    // Read aloud: eleven thousand, eighteen thousand, eight hundred; but a hundred and ten thousand.
    assert.deepStrictEqual([11000n, 18000n, 800n, 110000n, 16n].map(aSized), ['an 11000-byte', 'an 18000-byte', 'an 800-byte', 'a 110000-byte', 'a 16-byte']);
  });

  it('suggests a device name two swapped letters away (`nci` for `nic`)', () => {
    const m = msgs('device nic at 01:00.0 {\n  bar 0 mem64 size 64K at 0x1_0000_0000\n}\nguest g {\n  window 0x8000_0000 size 1G\n  assign nci\n}\n', 'unknown-reference');
    assert.ok(m[0].endsWith('Did you mean `nic`?'), m[0]);
  });

  it('lists two guests as "a and b" and keeps the clause after the list apart', () => {
    const text = 'host h {\n  page-size 64K\n  msix-mappable no\n}\ndevice nic at 01:00.0 {\n  bar 0 mem64 size 64K at 0x1_0000_0000\n  msix entries 16 table bar 0 offset 0x1000 pba bar 0 offset 0x2000\n  region db bar 0 offset 0x0 size 4K hot\n}\nguest a {\n  window 0x8000_0000 size 1G\n  assign nic\n}\nguest b {\n  window 0x8000_0000 size 1G\n  assign nic\n}\n';
    const m = msgs(text, 'msix-page-shared');
    assert.ok(m[0].includes('traps in guests a and b, and every access'), m[0]);
  });

  it('syntax messages read as sentences', () => {
    const m = msgs('host h {\n  page-size 4K\ndevice a at 01:00.0 {\n  bar 7 mem32 size 4K at 0x1000\n}\n', 'syntax');
    assert.ok(m.includes('this `{` is never closed: add `}` before the `device` statement that follows'), m.join('\n'));
    assert.ok(m.includes('`bar`: BAR index 7 is out of range; a function has BARs 0 to 5'), m.join('\n'));
  });
});

describe('alignment advice for a VF BAR near 2^64', () => {
  it('offers only addresses whose whole VF aperture fits below 2^64, in the message and as quick fixes', () => {
    // 2 VFs of 4K at 0xffff_ffff_ffff_e800: aligned down 0x…e000 (aperture ends at 2^64) fits; up 0x…f000 does not.
    const a = analyze('device a at 01:00.0 {\n  sriov vfs 2 {\n    bar 0 mem64 size 4K at 0xffff_ffff_ffff_e800\n  }\n}\n');
    const d = one(a.diagnostics, 'bar-alignment', 'a.vf*.bar0');
    assert.ok(d.message.endsWith('Use 0xffffffffffffe000.'), d.message);
    const titles = computeFixes(a, d).map((f) => f.title);
    assert.deepStrictEqual(titles, ['Align a.vf*.bar0 down to 0xffffffffffffe000 (a multiple of 4K)']);
  });
});

describe('msix-4k-sharing across two BARs', () => {
  it('gives host addresses when the region and the table are in different BARs (offsets alone share nothing)', () => {
    // bar0 256 bytes at 0xfe00_0000 holds the table at 0x0; bar1 256 bytes at 0xfe00_0100 holds the region at 0x0:
    // both in the 4 KiB range 0xfe00_0000.
    const a = analyze('device s at 01:00.0 {\n  bar 0 mem32 size 256 at 0xfe00_0000\n  bar 1 mem32 size 256 at 0xfe00_0100\n  msix entries 8 table bar 0 offset 0x0 pba bar 0 offset 0x80\n  region status bar 1 offset 0x0 size 16\n}\n');
    saysAll(one(a.diagnostics, 'msix-4k-sharing', 's.status'), ['bar1 0x0-0xf, host 0xfe000100-0xfe00010f', 'table (bar0 0x0-0x7f, host 0xfe000000-0xfe00007f)']);
  });
});

describe('related information of guest-page-conflict', () => {
  it('points at the other BAR\'s declaration when both were placed by one assign, and says where it went', () => {
    // 16K host pages; a.bar0 and a.bar1 are 4K at host offsets 0x0 and 0x1000 of two different host pages, so
    // listed packs them into one guest page 0x4000_0000 at 0x0 and 0x1000: each conflicts with the other.
    const text = 'host h {\n  page-size 16K\n}\ndevice a at 01:00.0 {\n  bar 0 mem32 size 4K at 0x8000_4000\n  bar 1 mem32 size 4K at 0x8000_9000\n}\nguest sd {\n  window 0x4000_0000 size 1M\n  assign a\n}\n';
    const a = analyze(text);
    const d = one(a.diagnostics, 'guest-page-conflict', 'a.bar0');
    assert.strictEqual(d.related.length, 1);
    const rel = d.related[0];
    assert.strictEqual(text.slice(rel.span.start, rel.span.end), 'bar 1 mem32 size 4K at 0x8000_9000');
    assert.strictEqual(rel.message, 'a.bar1 at 0x40001000, in the same guest page');
  });
});

describe('readable (messages quoting very long words)', () => {
  it('gives what the regex alone gives, on random texts of words, blanks and punctuation of any length', () => {
    const regexOnly = (m: string): string => {
      if (m.length <= 80) return m;
      const out = m.replace(/[^\s`'"(),;:]{81,}/g, (w) => `${w.slice(0, 40)}…${w.slice(-20)} (${w.length.toLocaleString('en-US')} characters)`);
      return out.length <= 2000 ? out : `${out.slice(0, 1999)}…`;
    };
    const piece = fc.oneof(fc.constantFrom(' ', '\t', '\n', '`', "'", '"', '(', ')', ',', ';', ':', '\u00a0', '\u2003', '\u3000', '\ufeff', '-', '_', '.', 'é', '😀'), fc.string({ minLength: 1, maxLength: 3 }), fc.nat(120).map((n) => 'x'.repeat(n)));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (parts) => {
        const m = parts.join('');
        assert.strictEqual(readable(m), regexOnly(m));
      }),
      { numRuns: 3000 },
    );
  });
});
