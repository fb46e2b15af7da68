// The messages of the rules that build their text when it is read (guest-offset-mismatch,
// guest-page-conflict, msix-page-shared: see `MessageText` in report.ts) say the numbers of
// the layout, worked out by hand in each fixture's header, and stay the same when read late:
// after the analysis of a later version has taken the finding over.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze } from '../server/src/engine/analyze';
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
  it('sriov-vf-subpage counts the VFs that really share a page, and says when a single VF has its page alone', () => {
    const vfs = (n: number): string => `host h {\n  page-size 64K\n}\ndevice pf at 00:01.0 {\n  bar 0 mem64 size 1M at 0x2_0000_0000\n  sriov vfs ${n} {\n    bar 0 mem64 size 16K at 0x2_0010_0000\n  }\n}\n`;
    // 64K / 16K = 4 VF BARs fit in a page: 8 VFs fill two pages of 4, 2 VFs share one page, 1 VF is alone.
    saysAll(one(analyze(vfs(8)).diagnostics, 'sriov-vf-subpage', 'pf.vf*.bar0'), ['16K, smaller than the 64K host page', 'up to 4 VFs share each page', 'no VF\'s BAR can be mmapped']);
    saysAll(one(analyze(vfs(2)).diagnostics, 'sriov-vf-subpage', 'pf.vf*.bar0'), ['up to 2 VFs share each page']);
    const single = one(analyze(vfs(1)).diagnostics, 'sriov-vf-subpage', 'pf.vf*.bar0');
    saysAll(single, ['with a single VF no other VF shares its page', 'with more VFs up to 4 would share each page']);
    assert.ok(!single.message.includes("no VF's BAR can be mmapped"), single.message);
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
    assert.ok(layout.some((d) => d.message.includes('(4800 bytes)') && d.message.includes('at least 8K')), layout.map((d) => d.message).join('\n'));
    // The PBA of ceil(300 / 64) x 8 = 40 bytes at 0xff8 runs past 4K: at most 0x1000 - 40 = 0xfd8.
    assert.ok(layout.some((d) => d.message.includes('(40 bytes)') && d.message.includes('at most 0xfd8')), layout.map((d) => d.message).join('\n'));
    saysAll(one(ds, 'bar-alignment', 'a.rom'), ['Use 0xf0010000 or 0xf0020000.']);
    // 0x200 bytes at 0xf00 of a 4K BAR: at most 0x1000 - 0x200 = 0xe00.
    saysAll(one(ds, 'region-outside-bar', 'a.r'), ['Use an offset of at most 0xe00.']);
    for (const d of ds) assert.ok(!/\(\d+\)/.test(d.message), `a bare number as a size: ${d.message}`);
  });

  it('writes sizes that no binary unit divides in bytes, never as a bare number', () => {
    const ds = analyze('device a at 01:00.0 {\n  bar 0 mem32 size 3000 at 0xf000_0000\n  bar 1 mem32 size 8 at 0xf000_1000\n  bar 2 mem32 size 3K at 0xf000_2000\n}\n').diagnostics;
    const sizes = ds.filter((d) => d.rule === 'bar-size').map((d) => d.message);
    assert.ok(sizes.some((m) => m.includes('size 3000 bytes is not a power of two')), sizes.join('\n'));
    assert.ok(sizes.some((m) => m.includes('at least 16 bytes; 8 bytes is too small. Use size 16 or more.')), sizes.join('\n'));
    assert.ok(sizes.some((m) => m.includes('size 3K is not a power of two')), sizes.join('\n'));
  });
});
