// Robustness of the engine on awkward but legal inputs (issue 7): line endings,
// a byte order mark, tabs, non-ASCII text (positions are UTF-16 code units, as
// in LSP), addresses at the top of the 64-bit space, many guests, a device
// shared by two guests, a 1 MB line and a 5 MB document. Nothing here is timed:
// the large inputs only have to come back with an answer.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Analysis, analyze, barReports } from '../server/src/engine/analyze';
import { LineIndex } from '../server/src/engine/lineIndex';
import { Diagnostic } from '../server/src/engine/types';
import { generate, toBartopo } from '../bench/generate';
import { EXAMPLES_DIR } from './paths';

const EXAMPLES = fs
  .readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.bartopo'))
  .sort()
  .map((f) => ({ name: f, text: fs.readFileSync(path.join(EXAMPLES_DIR, f), 'utf8').replace(/\r\n?/g, '\n') }));

/** Every range inside the text; positions and offsets convert back and forth. */
function checkRanges(text: string, a: Analysis): void {
  const li = new LineIndex(text);
  for (const d of a.diagnostics) {
    for (const s of [d.span, ...d.related.map((r) => r.span)]) {
      assert.ok(s.start >= 0 && s.start <= s.end && s.end <= text.length, `${d.rule}: range ${s.start}-${s.end} outside 0-${text.length}`);
      const p = li.positionAt(s.start);
      assert.ok(p.line < li.lineCount);
      assert.strictEqual(li.offsetAt(p), s.start, `${d.rule}: offset ${s.start} does not survive positionAt/offsetAt`);
    }
  }
}

/** Rule, line, character and text of each diagnostic. */
function located(text: string, a: Analysis): string[] {
  const li = new LineIndex(text);
  return a.diagnostics.map((d) => {
    const p = li.positionAt(d.span.start);
    return `${d.rule} ${p.line}:${p.character} ${JSON.stringify(text.slice(d.span.start, d.span.end).replace(/\r/g, ''))}`;
  });
}

function rules(a: Analysis): string[] {
  return a.diagnostics.map((d) => d.rule);
}

function hasRule(a: Analysis, rule: string): Diagnostic | undefined {
  return a.diagnostics.find((d) => d.rule === rule);
}

describe('robustness', function () {
  // Nothing is timed here; generous limits keep a loaded CI machine from failing the large inputs.
  this.timeout(120000);
  describe('line endings, BOM, tabs', () => {
    for (const ex of EXAMPLES) {
      it(`${ex.name}: CRLF gives the same diagnostics at the same lines and characters`, () => {
        const crlf = ex.text.replace(/\n/g, '\r\n');
        const a = analyze(ex.text);
        const b = analyze(crlf);
        checkRanges(crlf, b);
        assert.deepStrictEqual(located(crlf, b), located(ex.text, a));
      });

      it(`${ex.name}: old Mac CR line ends give the same diagnostics`, () => {
        const cr = ex.text.replace(/\n/g, '\r');
        const b = analyze(cr);
        checkRanges(cr, b);
        assert.deepStrictEqual(located(cr, b), located(ex.text, analyze(ex.text)));
      });

      it(`${ex.name}: a UTF-8 BOM changes nothing but the first line's characters`, () => {
        const bom = '\ufeff' + ex.text;
        const a = analyze(ex.text);
        const b = analyze(bom);
        checkRanges(bom, b);
        assert.deepStrictEqual(rules(b), rules(a));
        assert.ok(!hasRule(b, 'syntax'), 'the BOM is not a syntax error');
        const la = new LineIndex(ex.text);
        const lb = new LineIndex(bom);
        a.diagnostics.forEach((d, i) => {
          const pa = la.positionAt(d.span.start);
          const pb = lb.positionAt(b.diagnostics[i].span.start);
          assert.strictEqual(pb.line, pa.line);
          assert.strictEqual(pb.character, pa.line === 0 ? pa.character + 1 : pa.character);
        });
      });

      it(`${ex.name}: tab indentation gives the same diagnostics, characters counting a tab as one`, () => {
        const tabs = ex.text.replace(/^( {2})+/gm, (m) => '\t'.repeat(m.length / 2));
        const a = analyze(ex.text);
        const b = analyze(tabs);
        checkRanges(tabs, b);
        assert.deepStrictEqual(rules(b), rules(a));
        const lines = tabs.split('\n');
        const li = new LineIndex(tabs);
        for (const d of b.diagnostics) {
          const p = li.positionAt(d.span.start);
          const line = lines[p.line];
          const indent = /^\t*/.exec(line)![0].length;
          assert.ok(p.character >= indent || line.trim() === '', `${d.rule} at ${p.line}:${p.character} starts inside the indentation`);
          assert.strictEqual(line.slice(p.character, p.character + 1), tabs.slice(d.span.start, d.span.start + 1));
        }
      });
    }

    it('a missing `}` is recovered the same way whatever the line ends (LF, CRLF, lone CR)', () => {
      // `device b` with its `{` on the next line does not open a block on its own line, so it
      // must not end device a; the check looks for the line's end, which a lone CR also is.
      const lf = 'device a at 00:01.0 {\n  group 1\ndevice b at 00:02.0\n{\n  group 2\n}\ndevice c at 00:03.0 {\n}\n';
      const base = analyze(lf);
      for (const eol of ['\r\n', '\r']) {
        const other = lf.replace(/\n/g, eol);
        const b = analyze(other);
        assert.strictEqual(b.tree.stmts.length, base.tree.stmts.length, `top-level statements with ${JSON.stringify(eol)}`);
        assert.deepStrictEqual(located(other, b), located(lf, base));
      }
    });
  });

  describe('BAR reports of one device (what a hover computes)', () => {
    it('equal the whole file\'s reports of that device, for every device, VF BARs and guest placements included', () => {
      const docs = [...EXAMPLES.map((e) => e.text), toBartopo(generate({ devices: 120, seed: 11 })), 'device d at 00:01.0 {\n  bar 0 mem32 size 4K at 0x1000\n}\ndevice d at 00:02.0 {\n  bar 0 mem32 size 4K at 0x3000\n}\n'];
      let compared = 0;
      for (const text of docs) {
        const a = analyze(text);
        const all = barReports(a, { maxVfs: 4 });
        for (const name of new Set(a.topology.devices.map((d) => d.name))) {
          const one = barReports(a, { maxVfs: 4, device: name });
          assert.deepStrictEqual(one, all.filter((r) => r.device === name), name);
          compared += one.length;
        }
        assert.deepStrictEqual(barReports(a, { device: 'no-such-device' }), []);
      }
      assert.ok(compared > 200, `only ${compared} reports compared`);
    });
  });

  describe('non-ASCII text: characters are UTF-16 code units', () => {
    const text = [
      '# 主机 🖥️ host with 64K pages — 日本語のコメント 🚀🚀',
      'host h {',
      '  page-size 64K # 页大小 📄',
      '}',
      '# 网卡 🚀 next line has an emoji string, then a misaligned BAR',
      'device d at 00:01.0 { name "网卡 🚀🚀 NIC"; bar 0 mem32 size 4K at 0x1800 }',
      'device e at 00:02.0 {',
      '  name "😀 emoji 😀"',
      '  bar 0 mem64 size 64K at 0x1_0000_8000',
      '}',
      '',
    ].join('\n');

    it('a diagnostic after emoji and CJK has the right line and character', () => {
      const a = analyze(text);
      checkRanges(text, a);
      assert.ok(!hasRule(a, 'syntax'), JSON.stringify(located(text, a)));
      const li = new LineIndex(text);
      const lines = text.split('\n');
      const d = hasRule(a, 'bar-alignment');
      assert.ok(d, `bar-alignment expected: ${JSON.stringify(located(text, a))}`);
      const p = li.positionAt(d.span.start);
      assert.strictEqual(p.line, 5);
      const line = lines[5];
      const snippet = text.slice(d.span.start, d.span.end);
      assert.strictEqual(p.character, line.indexOf(snippet), 'character is the UTF-16 index in the line');
      // The emoji before it are two code units each: counting code points would be off.
      assert.notStrictEqual(p.character, [...line.slice(0, p.character)].length);
      assert.strictEqual(line.slice(p.character, p.character + snippet.length), snippet);
      // The second device's BAR, below the emoji string, is on its own line.
      const e = a.diagnostics.find((x) => x.subject?.startsWith('e.'));
      assert.ok(e, JSON.stringify(located(text, a)));
      const pe = li.positionAt(e.span.start);
      assert.strictEqual(pe.line, 8);
      assert.strictEqual(pe.character, lines[8].indexOf(text.slice(e.span.start, e.span.end)));
    });

    it('keeps non-ASCII names in strings intact', () => {
      const a = analyze(text);
      assert.strictEqual(a.topology.devices.length, 2);
      const bars = barReports(a);
      assert.deepStrictEqual(
        bars.map((b) => b.id),
        ['d.bar0', 'e.bar0'],
      );
    });

    it('survives lone surrogates and control characters', () => {
      const odd = text.replace('🚀🚀 NIC', '\ud83d NIC \udc00').replace('host h {', 'host h {\u0000\u0007');
      const a = analyze(odd);
      checkRanges(odd, a);
    });
  });

  describe('the top of the 64-bit address space', () => {
    const text = [
      'host h {',
      '  page-size 64K',
      '}',
      'device d at 00:01.0 {',
      '  bar 0 mem64 size 64K at 0xffff_ffff_ffff_f000',
      '  bar 2 mem64 prefetch size 16G at 0xffff_ffff_0000_0000',
      '  rom size 64K at 0xffff_ffff_ffff_0000',
      '  region r bar 0 offset 0xffff_ffff_ffff_fff0 size 4K',
      '  msix entries 2048 table bar 0 offset 0xffff_ffff_ffff_fff8 pba bar 0 offset 0xffff_ffff_ffff_fff0',
      '}',
      'device v at 00:02.0 {',
      '  bar 0 mem64 size 1M at 0x4000_0000',
      '  sriov vfs 256 {',
      '    bar 0 mem64 size 1M at 0xffff_ffff_fff0_0000',
      '  }',
      '}',
      'device top at 00:03.0 {',
      '  bar 0 mem64 size 0x8000_0000_0000_0000 at 0x8000_0000_0000_0000',
      '}',
      'device big at 00:04.0 {',
      '  bar 0 mem64 size 4K at 0xffff_ffff_ffff_ffff',
      '  bar 2 mem64 size 4K at 0x1_0000_0000_0000_0000',
      '}',
      'guest g {',
      '  window 0xffff_ffff_ffff_0000 size 1M',
      '  assign d { bar 0 at 0xffff_ffff_ffff_f000 }',
      '  assign v',
      '  assign top',
      '}',
      'guest g2 {',
      '  window 0xffff_ffff_fff0_0000 size 1M',
      '  allocate page-match',
      '  assign d',
      '}',
      '',
    ].join('\n');

    it('reports overflow or misalignment instead of crashing', () => {
      const a = analyze(text);
      checkRanges(text, a);
      const onD = a.diagnostics.filter((d) => d.subject === 'd.bar0').map((d) => d.rule);
      assert.ok(onD.includes('address-overflow') || onD.includes('bar-alignment'), `d.bar0: ${onD.join(', ')}`);
      const onBar2 = a.diagnostics.filter((d) => d.subject === 'd.bar2').map((d) => d.rule);
      assert.ok(onBar2.includes('address-overflow') || onBar2.includes('bar-alignment'), `d.bar2: ${onBar2.join(', ')}`);
      assert.ok(a.diagnostics.some((d) => d.rule === 'address-overflow' && /^v\./.test(d.subject ?? '')), `the VF aperture of v runs past 2^64: ${located(text, a).join('; ')}`);
      assert.ok(hasRule(a, 'syntax'), 'an address of 2^64 does not fit in 64 bits');
      for (const d of a.diagnostics) assert.ok(d.message.length > 0);
    });

    it('a literal of a million digits is too big for 64 bits, said in a short message', () => {
      for (const digits of ['1'.repeat(1_000_000), '0x' + 'f'.repeat(1_000_000), '0'.repeat(999_990) + '18446744073709551616']) {
        const t = `device d at 00:00.0 {\n  bar 0 mem64 size 4K at ${digits}\n}\n`;
        const a = analyze(t);
        checkRanges(t, a);
        const d = a.diagnostics.find((x) => x.rule === 'syntax');
        assert.ok(d && /does not fit in 64 bits/.test(d.message), located(t, a).join('; '));
        assert.ok(d.message.length < 300, `${d.message.length} characters`);
        assert.match(d.message, new RegExp(`\\(${digits.length} characters\\)`));
      }
      // Leading zeros do not count: 20 significant digits below 2^64 still read.
      const ok = `device d at 00:00.0 {\n  bar 0 mem64 size 4K at ${'0'.repeat(100)}18446744073709547520\n}\n`;
      assert.ok(!analyze(ok).diagnostics.some((x) => x.rule === 'syntax'));
    });

    it('still gives every BAR a report, with sane numbers', () => {
      const a = analyze(text);
      const bars = barReports(a);
      assert.ok(bars.length > 0);
      for (const b of bars) {
        assert.ok(b.size >= 0n && b.size < 1n << 64n, b.id);
        if (b.host !== undefined) assert.ok(b.host >= 0n && b.host < 1n << 64n, `${b.id} host ${b.host}`);
        for (const [, p] of b.guests) if (p.address !== undefined) assert.ok(p.address >= 0n && p.address < 1n << 64n, `${b.id} guest ${p.address}`);
      }
      // The engine also survives a what-if page size at the top of the range.
      checkRanges(text, analyze(text, { pageSize: 1n << 63n }));
    });
  });

  describe('many guests, shared devices', () => {
    it('analyses 1,000 guests, each with its verdicts', () => {
      const parts = ['host h {', '  page-size 64K', '}'];
      for (let i = 0; i < 100; i++) {
        const a = (0x4000_0000_0000 + i * 0x10_0000).toString(16);
        parts.push(`device d${i} at 00:${(i % 32).toString(16).padStart(2, '0')}.${i % 8} {`, `  group ${i}`, `  bar 0 mem64 size 64K at 0x${a}`, '}');
      }
      const policies = ['listed', 'size-descending', 'page-match'];
      for (let g = 0; g < 1000; g++) {
        parts.push(`guest vm${g} {`, '  window 0x100_0000_0000 size 1G', `  allocate ${policies[g % 3]}`, `  assign d${g % 100}`, `  assign d${(g * 7 + 3) % 100}`, '}');
      }
      const text = parts.join('\n') + '\n';
      const a = analyze(text);
      checkRanges(text, a);
      assert.ok(!a.diagnostics.some((d) => d.severity === 'error' && d.rule !== 'duplicate'), located(text, a).slice(0, 5).join('; '));
      assert.strictEqual(a.guests.length, 1000);
      const bars = barReports(a);
      const total = bars.reduce((n, b) => n + b.guests.size, 0);
      // d(g % 100) and d((7g+3) % 100) coincide for some g: then the guest assigns one device twice.
      assert.ok(total >= 1000 && total <= 2000, `${total} guest verdicts`);
      for (let g = 0; g < 1000; g++) {
        const b = bars.find((x) => x.id === `d${g % 100}.bar0`)!;
        const p = b.guests.get(`vm${g}`);
        assert.ok(p, `vm${g} has a verdict for ${b.id}`);
        assert.ok(['direct', 'partial', 'trapped'].includes(p.verdict));
      }
    });

    it('gives a device assigned to two guests a verdict in both', () => {
      const text = [
        'host h {',
        '  page-size 64K',
        '}',
        'device nic at 00:01.0 {',
        '  bar 0 mem64 size 1M at 0x4000_0000_0000',
        '  bar 2 mem64 size 16K at 0x4000_0010_0000',
        '}',
        'guest a {',
        '  window 0x100_0000_0000 size 1G',
        '  assign nic',
        '}',
        'guest b {',
        '  window 0x200_0000_0000 size 1G',
        '  allocate size-descending',
        '  assign nic { bar 2 at 0x200_0001_0000 }',
        '}',
        '',
      ].join('\n');
      const a = analyze(text);
      checkRanges(text, a);
      const bars = barReports(a);
      for (const id of ['nic.bar0', 'nic.bar2']) {
        const r = bars.find((x) => x.id === id)!;
        assert.deepStrictEqual([...r.guests.keys()].sort(), ['a', 'b'], id);
        for (const [, p] of r.guests) assert.ok(['direct', 'partial', 'trapped'].includes(p.verdict));
      }
      assert.strictEqual(bars.find((x) => x.id === 'nic.bar2')!.guests.get('b')!.address, 0x200_0001_0000n);
    });

    it('names three of many guests, groups or neighbours in a message and counts the rest', () => {
      // One device with a hot register next to its MSI-X table, assigned to 1,000 guests;
      // 200 small BARs in one 64K page; a guest page shared by 50 BARs.
      const parts = ['host h {', '  page-size 64K', '}'];
      parts.push('device d at 00:00.0 {', '  bar 0 mem64 size 64K at 0x1_0000_0000', '  msix entries 8 table bar 0 offset 0x800', '  region r bar 0 offset 0 size 256 hot', '}');
      for (let i = 0; i < 200; i++) parts.push(`device s${i} at 01:00.0 {`, `  group ${i + 10}`, `  bar 0 mem32 size 256 at 0x${(0x8000_0000 + i * 0x100).toString(16)}`, '}');
      for (let i = 0; i < 50; i++) parts.push(`device q${i} at 02:00.0 {`, `  bar 0 mem64 size 4K at 0x${(0x2_0000_0000 + i * 0x10000).toString(16)}`, '}');
      for (let g = 0; g < 1000; g++) parts.push(`guest vm${g} {`, '  window 0x100_0000_0000 size 1G', '  assign d', '}');
      parts.push('guest packed {', ...Array.from({ length: 50 }, (_, i) => `  assign q${i} { bar 0 at 0x3_0000_${(i * 0x10).toString(16).padStart(4, '0')} }`), '}');
      const text = parts.join('\n') + '\n';
      const a = analyze(text);
      checkRanges(text, a);
      const msix = a.diagnostics.find((d) => d.rule === 'msix-page-shared')!;
      assert.ok(msix.message.includes('in guests vm0, vm1, vm2 and 997 more, and every access'), msix.message);
      const shared = a.diagnostics.find((d) => d.rule === 'subpage-shared' && d.subject === 's0.bar0')!;
      assert.ok(/shares the rest of that 64K page with s1\.bar0 0x80000100-0x800001ff, s2\.bar0 0x80000200-0x800002ff, s3\.bar0 0x80000300-0x800003ff and 196 more:/.test(shared.message), shared.message);
      assert.ok(shared.related!.length <= 8, `${shared.related!.length} related locations`);
      const conflict = a.diagnostics.find((d) => d.rule === 'guest-page-conflict' && d.subject === 'q0.bar0')!;
      assert.ok(conflict.message.includes('and 46 more, which come'), conflict.message);
      for (const d of a.diagnostics) assert.ok(d.message.length < 1000, `${d.rule} ${d.subject}: ${d.message.length} characters`);
    });
  });

  describe('names', () => {
    it('suggests the nearest device name within 3 edits (alphabetical on ties), for the first 8 unknown names of a guest', () => {
      const devices = ['nvme0', 'nvme1', 'nic0', 'gpu_primary', 'a'.repeat(5000)].map((n, i) => `device ${n} at 00:0${i}.0 {\n}`);
      const typos = ['nvme9', 'nic', 'gpu_primray', 'zzzzz', 'a'.repeat(4999) + 'b', 'gpu_p', 'nvmeX', 'nick0', 'nvme7'];
      const text = [...devices, 'guest vm {', ...typos.map((t) => `  assign ${t}`), '}', ''].join('\n');
      const hints = analyze(text)
        .diagnostics.filter((d) => d.rule === 'unknown-reference')
        .map((d) => /Did you mean `([^`]*)`/.exec(d.message)?.[1] ?? '-');
      // nvme9: one edit from nvme0 and nvme1 (tie: nvme0); gpu_primray: a swap is two edits (≤ 3);
      // zzzzz: nothing close; the 5000-character name: one edit; gpu_p: 6 edits, too far;
      // the ninth unknown name gets no suggestion (at most 8 per guest are looked up). A message quotes a word
      // over 80 characters by its start, end and length (report.ts, `readable`).
      assert.deepStrictEqual(hints, ['nvme0', 'nic0', 'gpu_primary', '-', `${'a'.repeat(40)}…${'a'.repeat(20)} (5,000 characters)`, '-', 'nvme0', 'nic0', '-']);
    });

    it('lists three of many host windows in a BAR outside them all, and finds the window of a BAR among thousands', () => {
      const windows = Array.from({ length: 3000 }, (_, i) => `  window w${i} 0x${(0x10_0000_0000 + i * 0x1000_0000).toString(16)} size 16M`);
      const text = ['host h {', ...windows, '}', 'device out at 00:00.0 {', '  bar 0 mem64 size 4K at 0x1000', '}', 'device in at 00:01.0 {', `  bar 0 mem64 size 4K at 0x${(0x10_0000_0000 + 2999 * 0x1000_0000 + 0x1000).toString(16)}`, '}', ''].join('\n');
      const a = analyze(text);
      const outside = a.diagnostics.filter((d) => d.rule === 'bar-outside-window');
      assert.deepStrictEqual(outside.map((d) => d.subject), ['out.bar0']);
      assert.match(outside[0].message, /\(w0 0x1000000000-0x1000ffffff, w1 0x1010000000-0x1010ffffff, w2 0x1020000000-0x1020ffffff and 2997 more\)/);
    });
  });

  describe('large inputs (answers only, nothing timed)', () => {
    it('analyses a 1 MB single line', function () {
      this.timeout(120000);
      const parts = ['host h { page-size 64K; window w 0x4000_0000_0000 size 1T }'];
      let len = parts[0].length;
      let i = 0;
      while (len < 1_000_000) {
        // Every fifth BAR is 4K at offset 0x1000 in its page: subpage-unaligned, far along the line.
        const addr = (0x4000_0000_0000 + i * 0x1_0000 + (i % 5 === 0 ? 0x1000 : 0)).toString(16);
        const s = `; device d${i} at ${(i >> 8).toString(16)}:${((i >> 3) & 0x1f).toString(16)}.${i & 7} { group ${i}; name "dev ${i} 🚀"; bar 0 mem64 size ${i % 5 === 0 ? '4K' : '64K'} at 0x${addr} }`;
        parts.push(s);
        len += s.length;
        i++;
      }
      parts.push('; guest g { window 0x100_0000_0000 size 1T; assign d0; assign d1; assign d2 }');
      const text = parts.join('');
      assert.ok(text.length >= 1_000_000 && !text.includes('\n'));
      const a = analyze(text);
      checkRanges(text, a);
      assert.ok(!hasRule(a, 'syntax'), located(text, a).slice(0, 3).join('; '));
      assert.strictEqual(a.topology.devices.length, i);
      const li = new LineIndex(text);
      assert.strictEqual(li.lineCount, 1);
      for (const d of a.diagnostics) assert.strictEqual(li.positionAt(d.span.end).line, 0);
      const unaligned = a.diagnostics.filter((d) => d.rule === 'subpage-unaligned');
      assert.strictEqual(unaligned.length, Math.ceil(i / 5));
      const last = unaligned[unaligned.length - 1];
      const p = li.positionAt(last.span.start);
      assert.ok(p.character > 900_000, `character ${p.character}`);
      assert.strictEqual(p.character, last.span.start);
      assert.ok(text.slice(last.span.start, last.span.end).includes('0x'), 'the diagnostic points at the address');
      assert.ok(barReports(a).length >= i);
    });

    it('analyses a 1 MB comment and a 1 MB string on one line each', function () {
      this.timeout(60000);
      const text = `# ${'é🚀x'.repeat(250_000)}\ndevice d at 00:01.0 {\n  name "${'网'.repeat(1_000_000)}"\n  bar 0 mem32 size 4K at 0x1800\n}\n`;
      const a = analyze(text);
      checkRanges(text, a);
      const d = hasRule(a, 'bar-alignment');
      assert.ok(d);
      assert.strictEqual(new LineIndex(text).positionAt(d.span.start).line, 3);
    });

    it('analyses a 5 MB document', function () {
      this.timeout(300000);
      const text = toBartopo(generate({ devices: 20000, seed: 7 }));
      assert.ok(text.length >= 5_000_000, `${text.length} chars`);
      const a = analyze(text);
      assert.strictEqual(a.topology.devices.length, 20000);
      assert.ok(!hasRule(a, 'syntax'));
      assert.ok(a.diagnostics.length > 0);
      const last = a.diagnostics[a.diagnostics.length - 1];
      assert.ok(last.span.end <= text.length);
    });
  });
});
