// Protocol tests for the editor features: hover, inlay hints, code lens,
// document symbols, folding, completion, definition / references / rename,
// semantic tokens and formatting.

import * as assert from 'assert';
import type { CompletionItem, DocumentSymbol, FoldingRange, Hover, InlayHint, Location, MarkupContent, SemanticTokens, TextEdit, WorkspaceEdit, CodeLens } from 'vscode-languageserver-protocol';
import { applyTextEdits, LspClient, positionOf, PUSH_CAPABILITIES } from './lsp-client';
import { bigTopology, CLEAN, NEC } from './lsp-docs';

describe('lsp: editor features', function () {
  this.timeout(30000);
  let client: LspClient;
  let n = 0;
  const NEC_URI = 'file:///features-nec.bartopo';

  before(async () => {
    ({ client } = await LspClient.start());
    await client.open(NEC_URI, NEC);
    await client.waitForDiagnostics(NEC_URI, 1);
  });
  after(async () => {
    await client?.stop();
  });

  async function openDoc(text: string): Promise<string> {
    const uri = `file:///features${n++}.bartopo`;
    await client.open(uri, text);
    await client.waitForDiagnostics(uri, 1);
    return uri;
  }

  async function hover(needle: string, delta = 1, uri = NEC_URI, text = NEC): Promise<string> {
    const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, needle, delta) });
    assert.ok(h, `hover at ${needle}`);
    return (h!.contents as MarkupContent).value;
  }

  describe('hover', () => {
    it('on a BAR: size, host range, page and offset, host verdict, guest address and verdict, why', async () => {
      const v = await hover('bar 0 mem32 size 4K at 0x3fe080021000');
      assert.ok(v.includes('**ohci1.bar0** — mem32, 4K (0x1000)'), v);
      assert.ok(v.includes('host `0x3fe080021000-0x3fe080021fff`'), v);
      assert.ok(v.includes('host page `0x3fe080020000` (64K), offset `0x1000` in it'), v);
      assert.ok(v.includes('host: **no-mmap** — it is smaller than a 64K page and starts at offset 0x1000 in its page'), v);
      assert.ok(v.includes('| vm0 | `0x200080001000` | **trapped** | 0/1 |'), v);
      const nic = await hover('bar 0 mem64');
      assert.ok(nic.includes('| vm0 | `0x200082000000` | **partial** | 511/512 |'), nic);
      assert.ok(nic.includes('vm0: the page holding the MSI-X table (0x3fe0a0000000) traps'), nic);
    });

    it("a device's label is shown as written: Markdown and HTML in it are escaped, not rendered", async () => {
      const label = '[docs](http://example.invalid) <img src=x> *new* `x` #1_a';
      const text = `device lab at 00:01.0 {\n  group 1\n  name "${label}"\n  bar 0 mem32 size 64K at 0x80000000\n}\n`;
      const uri = await openDoc(text);
      const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'device lab', 8) });
      const v = (h.contents as MarkupContent).value;
      const header = v.split('\n')[0];
      assert.strictEqual(header, '**device lab** — \\[docs\\]\\(http://example\\.invalid\\) \\<img src=x\\> \\*new\\* \\`x\\` \\#1\\_a');
    });

    it('on page-size: the page size in force and what it means', async () => {
      const v = await hover('page-size 64K');
      assert.ok(v.startsWith('**Host page size 64K** (65536 bytes, 0x10000) — from this `page-size` line'), v);
      assert.ok(v.includes('smaller BARs that trap to the VMM: 1'), v);
    });

    it('on an MSI-X line: table and PBA ranges and the pages they pin', async () => {
      const v = await hover('msix entries');
      assert.ok(v.includes('**nic MSI-X** — 64 vectors'), v);
      assert.ok(v.includes('table 1024 bytes in bar0 at `0x2000-0x23ff`; host `0x3fe0a0002000-0x3fe0a00023ff`, in host page `0x3fe0a0000000`'), v);
      assert.ok(v.includes('PBA 8 bytes in bar0 at `0x3000-0x3007`'), v);
      assert.ok(v.includes('vm0: the table page **traps**'), v);
    });

    it('on an MSI-X line: a table page the MSI-X mode would let map still traps when its BAR traps in that guest', async () => {
      // 256-byte BAR at offset 0x2000 of a 64K host page: the host does not mmap it, so under `msix paravirt` the table page still traps.
      const text = 'host h {\n  page-size 64K\n}\ndevice ehci at 00:01.2 {\n  bar 0 mem32 size 256 at 0x80012000\n  msix entries 4 table bar 0 offset 0x80 pba bar 0 offset 0xc0\n}\nguest vm0 {\n  window 0x1_0000_0000 size 1G\n  msix paravirt\n  assign ehci\n}\n';
      const uri = await openDoc(text);
      const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'msix entries', 3) });
      const v = (h.contents as MarkupContent).value;
      assert.ok(v.includes('vm0: the table page **traps** with the rest of bar0 (the host does not mmap it'), v);
      assert.ok(!v.includes('maps directly'), v);
    });

    it('on an assigned device, a device name, a guest and a size literal', async () => {
      const a = await hover('assign ohci1', 8);
      assert.ok(a.includes('**ohci1.bar0** in guest vm0: `0x200080001000-0x200080001fff` — **trapped**'), a);
      assert.ok(a.includes('**device ohci1**'), a);
      const d = await hover('device nic', 8);
      assert.ok(d.includes('PCI `0002:01:00.0` · group 9'), d);
      const g = await hover('guest vm0', 7);
      assert.ok(g.includes('3 devices, 3 memory BARs: 0 direct, 1 partial, 2 trapped'), g);
      const s = await hover('size 2G', 6);
      assert.strictEqual(s, '`2G` = 2147483648 = `0x80000000`');
    });

    it('a number only where the statement has one: not in a PCI address, an id, a name, a string or a comment', async () => {
      const text = 'device nic at 0000:10:00.0 {\n  id 8086:1010\n  name "size 64K"\n  bar 0 mem32 size 4K at 0x10000   # page 4096\n  region db-64K bar 0 offset 0 size 16\n}\n# top comment 2M\nguest vm0 {\n  window 0x100000000 size 1G\n}\n';
      const uri = await openDoc(text);
      const at = async (needle: string, delta: number): Promise<Hover | null> => client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, needle, delta) });
      for (const [needle, delta] of [['0000:10:00.0', 5], ['8086:1010', 6], ['size 64K"', 6], ['page 4096', 6], ['db-64K', 4], ['comment 2M', 8]] as const) {
        const h = await at(needle, delta);
        assert.ok(h === null || !(h.contents as MarkupContent).value.startsWith('`'), `${needle}: ${JSON.stringify(h)}`);
      }
      // Numbers of statements keep their hover, with the word as its range.
      const size = await at('offset 0 size 16', 15);
      assert.strictEqual((size!.contents as MarkupContent).value, '`16` = 0x10');
      const line = text.split('\n').findIndex((l) => l.includes('region db'));
      assert.deepStrictEqual(size!.range, { start: { line, character: 36 }, end: { line, character: 38 } });
      assert.strictEqual(((await at('size 1G', 5))!.contents as MarkupContent).value, '`1G` = 1073741824 = `0x40000000`');
      // On the guest keyword: the guest's hover, over a range that holds the cursor.
      const g = (await at('guest vm0', 1))!;
      const gl = text.split('\n').indexOf('guest vm0 {');
      assert.deepStrictEqual(g.range, { start: { line: gl, character: 0 }, end: { line: gl, character: 9 } });
    });

    it('on a VF BAR (aperture and first VFs) and on a ROM', async () => {
      const text = 'host h {\n  page-size 64K\n}\ndevice nic at 00:01.0 {\n  group 1\n  rom size 64K at 0x80100000\n  sriov vfs 8 {\n    bar 0 mem64 size 16K at 0x200000000\n  }\n}\n';
      const uri = await openDoc(text);
      const vf = await hover('bar 0 mem64', 1, uri, text);
      assert.ok(vf.startsWith('**nic.vf*.bar0** — mem64, 16K (0x4000) per VF, 8 VFs'), vf);
      assert.ok(vf.includes('aperture `0x200000000-0x20001ffff`'), vf);
      assert.ok(vf.includes('| 0 | `0x200000000` | **no-mmap** — the next VF decodes in the rest of its page |'), vf);
      assert.ok(vf.includes('| … | 4 more VFs | |'), vf);
      const rom = await hover('rom size', 1, uri, text);
      assert.ok(rom.startsWith('**nic.rom** — expansion ROM, 64K (0x10000)'), rom);
      assert.ok(rom.includes('never mapped directly into a guest'), rom);
    });

    it('nothing on blank space', async () => {
      const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri: NEC_URI }, position: { line: 6, character: 0 } });
      assert.strictEqual(h, null);
    });
  });

  it('inlay hints: BAR end addresses and guest placements with verdicts', async () => {
    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri: NEC_URI }, range: { start: { line: 0, character: 0 }, end: { line: 100, character: 0 } } });
    const labels = hints.map((h) => `${h.position.line}:${h.position.character} ${h.label as string}`);
    assert.deepStrictEqual(labels, [
      '10:39 ..0x3fe080010fff',
      '14:39 ..0x3fe080021fff',
      '18:49 ..0x3fe0a1ffffff',
      '26:14 bar0 @ 0x200080000000 trapped',
      '27:14 bar0 @ 0x200080001000 trapped',
      '28:12 bar0 @ 0x200082000000 partial',
    ]);
    // Only the requested range.
    const some = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri: NEC_URI }, range: { start: { line: 26, character: 0 }, end: { line: 26, character: 99 } } });
    assert.strictEqual(some.length, 1);
  });

  it('code lens: direct / partial / trapped counts per guest', async () => {
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: NEC_URI } });
    assert.strictEqual(lenses.length, 1);
    assert.strictEqual(lenses[0].range.start.line, positionOf(NEC, 'guest vm0').line);
    assert.ok(lenses[0].command!.title.startsWith('vm0: 0 direct · 1 partial · 2 trapped'), lenses[0].command!.title);
  });

  it('document symbols: host, devices with BARs, guests with assigns', async () => {
    const syms = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: NEC_URI } });
    assert.deepStrictEqual(
      syms.map((s) => s.name),
      ['host power8', 'ohci0', 'ohci1', 'nic', 'vm0'],
    );
    const nic = syms[3];
    assert.strictEqual(nic.detail, '0002:01:00.0 · group 9');
    assert.deepStrictEqual(
      nic.children!.map((c) => c.name),
      ['bar0', 'msix', 'region doorbells'],
    );
    assert.strictEqual(nic.children![0].detail, 'mem64 prefetch 32M @ 0x3fe0a0000000');
    assert.deepStrictEqual(
      syms[4].children!.map((c) => c.name),
      ['assign ohci0', 'assign ohci1', 'assign nic'],
    );
    for (const s of syms) {
      assert.ok(s.selectionRange.start.line >= s.range.start.line && s.selectionRange.end.line <= s.range.end.line);
    }
  });

  it('folding: blocks (closing brace visible) and comment runs', async () => {
    const text = '# one\n# two\n# three\ndevice a at 00:01.0 {\n  group 1\n  bar 0 mem32 size 4K at 0x1000\n}\nguest g { assign a }\n';
    const uri = await openDoc(text);
    const ranges = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri } });
    assert.deepStrictEqual(ranges, [
      { startLine: 0, endLine: 2, kind: 'comment' },
      { startLine: 3, endLine: 5 },
    ]);
    // A `}` after tabs or an NBSP still starts its line (its line stays visible); one after code does not.
    const blanks = 'device a at 00:01.0 {\n  group 1\n\t\u00a0}\ndevice b at 00:01.1 {\n  group 2 }\n';
    const r2 = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri: await openDoc(blanks) } });
    assert.deepStrictEqual(r2, [
      { startLine: 0, endLine: 1 },
      { startLine: 3, endLine: 4 },
    ]);
    // Blocks opened on one line give one range from it (the outer block's); a later block on a line of its own gets its own.
    const nested = 'device d at 00:01.0 { sriov vfs 2 {\n  bar 0 mem32 size 4K }\n}\nguest g { assign d {\n    bar 0\n  }\n  allocate listed\n}\n';
    const r3 = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri: await openDoc(nested) } });
    assert.deepStrictEqual(r3, [
      { startLine: 0, endLine: 1 },
      { startLine: 3, endLine: 6 },
    ]);
  });

  describe('completion', () => {
    // The cursor is marked with `|`.
    async function completeAt(text: string): Promise<CompletionItem[]> {
      const at = text.indexOf('|');
      const clean = text.slice(0, at) + text.slice(at + 1);
      const uri = await openDoc(clean);
      const before = clean.slice(0, at).split('\n');
      const position = { line: before.length - 1, character: before[before.length - 1].length };
      return client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
    }
    const labels = async (text: string): Promise<string[]> => (await completeAt(text)).map((i) => i.label);

    it('statement keywords per block', async () => {
      assert.deepStrictEqual(await labels('|'), ['host', 'device', 'guest']);
      assert.deepStrictEqual(await labels('host h {\n  |\n}\n'), ['page-size', 'arch', 'msix-mappable', 'window']);
      assert.deepStrictEqual(await labels('device d at 00:01.0 {\n  |\n}\n'), ['group', 'name', 'id', 'bar', 'msix', 'region', 'rom', 'sriov']);
      assert.deepStrictEqual(await labels('guest g {\n  al|\n}\n'), ['window', 'allocate', 'msix', 'assign']);
    });

    it('answers after a word of 1,000,000 characters (the word being typed is found scanning back, not by a regex from every start)', async () => {
      // An unanchored `/[^\s"]*$/` took 3.4 s for 40,000 characters and grew with the square: this would hang the suite.
      const long = 'a'.repeat(1_000_000);
      assert.deepStrictEqual(await labels(`device d at 00:01.0 {\n  ${long} |\n}\n`), []);
      const items = await labels(`device d at 00:01.0 {\n  name "x"; ${long}|\n}\n`);
      assert.ok(Array.isArray(items));
    });

    it('BAR kinds, then prefetch/size, then sizes, then at', async () => {
      assert.deepStrictEqual(await labels('device d at 00:01.0 {\n  bar 0 |\n}\n'), ['mem32', 'mem64', 'io']);
      // A VF BAR is memory: no `io` in an `sriov` block.
      assert.deepStrictEqual(await labels('device d at 00:01.0 {\n  sriov vfs 4 {\n    bar 0 |\n  }\n}\n'), ['mem32', 'mem64']);
      assert.deepStrictEqual(await labels('device d at 00:01.0 {\n  bar 0 mem64 |\n}\n'), ['prefetch', 'size']);
      const sizes = await labels('device d at 00:01.0 {\n  bar 0 mem64 size |\n}\n');
      assert.ok(sizes.includes('4K') && sizes.includes('64K') && sizes.includes('1M'), sizes.join());
      assert.deepStrictEqual(await labels('device d at 00:01.0 {\n  bar 0 mem64 size 64K |\n}\n'), ['at']);
      assert.deepStrictEqual(await labels('host h {\n  page-size |\n}\n'), ['4K', '16K', '64K']);
    });

    it('a position past the end of its line or of the file: the edit range lies inside the document', async () => {
      const text = 'device a at 00:01.0 {\n  bar 0 mem32 si\n}\n';
      const uri = await openDoc(text);
      const items = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 1, character: 40 } });
      assert.ok(items.some((i) => i.label === 'size'), items.map((i) => i.label).join());
      // The word typed so far (`si`, at the line's end) is what each item replaces.
      for (const i of items) assert.deepStrictEqual((i.textEdit as { range: unknown }).range, { start: { line: 1, character: 14 }, end: { line: 1, character: 16 } });
      for (const position of [{ line: 7, character: 3 }, { line: 3, character: 99 }]) {
        const at = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
        for (const i of at) {
          const r = (i.textEdit as { range: { start: { line: number }; end: { line: number; character: number } } }).range;
          assert.ok(r.end.line <= 3 && r.end.character === 0, JSON.stringify(r));
        }
      }
    });

    it('an optional group is offered by its first keyword only: `pba` after the table offset, not the `bar` inside the group', async () => {
      const msix = 'device d at 00:01.0 {\n  bar 0 mem32 size 4K at 0x80000000\n  msix entries 4 table bar 0 offset 0 |\n}\n';
      assert.deepStrictEqual(await labels(msix), ['pba']);
      assert.deepStrictEqual(await labels(msix.replace('offset 0 |', 'offset 0 pba |')), ['bar']);
      // `at` and the address it takes: after `at`, addresses; without it, nothing is expected.
      assert.deepStrictEqual(await labels('device d at 00:01.0 {\n  rom size 64K |\n}\n'), ['at']);
    });

    it('free BAR slots, policies and MSI-X modes', async () => {
      assert.deepStrictEqual(await labels('device d at 00:01.0 {\n  bar 0 mem64 size 64K\n  bar |\n}\n'), ['2', '3', '4', '5']);
      // The statement being written does not take its own slot: retyping its index, or typing one already there.
      assert.deepStrictEqual(await labels('device d at 00:01.0 {\n  bar 0 mem64 size 64K\n  bar |2 mem32 size 4K at 0xfe000000\n}\n'), ['2', '3', '4', '5']);
      assert.deepStrictEqual(await labels('device d at 00:01.0 {\n  bar 4 mem32 size 4K\n  bar 2|\n}\n'), ['0', '1', '2', '3', '5']);
      assert.deepStrictEqual(await labels('guest g {\n  allocate |\n}\n'), ['listed', 'size-descending', 'page-match']);
      assert.deepStrictEqual(await labels('guest g {\n  msix |\n}\n'), ['emulate', 'paravirt', 'relocate']);
    });

    it('device names after assign, not-yet-assigned first', async () => {
      const items = await completeAt(NEC.replace('  assign nic\n', '  assign nic\n  assign |\n'));
      const sorted = [...items].sort((a, b) => (a.sortText ?? a.label).localeCompare(b.sortText ?? b.label)).map((i) => i.label);
      assert.deepStrictEqual(items.map((i) => i.label).sort(), ['nic', 'ohci0', 'ohci1']);
      assert.strictEqual(items.find((i) => i.label === 'nic')!.detail, '0002:01:00.0 · group 9 · already assigned here');
      assert.deepStrictEqual(sorted, ['nic', 'ohci0', 'ohci1']);
      const fresh = await completeAt(NEC.replace('  assign nic\n', '  assign |\n'));
      assert.strictEqual(fresh.find((i) => i.label === 'nic')!.sortText![0], '0');
    });

    it('BAR indexes inside an assign block and in msix/region lines', async () => {
      const text = 'device d at 00:01.0 {\n  bar 0 mem32 size 4K at 0x1000\n  bar 2 mem64 size 64K at 0x100000000\n  bar 4 io size 32\n  msix entries 4 table bar |\n}\nguest g {\n  assign d {\n    bar 2\n  }\n}\n';
      assert.deepStrictEqual(await labels(text), ['0', '2']);
      const inAssign = await completeAt(text.replace('table bar |', 'table bar 0 offset 0').replace('    bar 2\n', '    bar 2\n    bar |\n'));
      assert.deepStrictEqual(inAssign.map((i) => i.label), ['0', '2']);
      assert.ok(inAssign[1].detail!.includes('already listed'));
    });

    it('nothing inside comments or strings', async () => {
      assert.deepStrictEqual(await labels('# bar |\n'), []);
      assert.deepStrictEqual(await labels('device d at 00:01.0 {\n  name "bar |"\n}\n'), []);
    });

    it('replaces the word being typed', async () => {
      const items = await completeAt('guest g {\n  allocate pa|\n}\n');
      const pm = items.find((i) => i.label === 'page-match')!;
      assert.deepStrictEqual((pm.textEdit as TextEdit).range, { start: { line: 1, character: 11 }, end: { line: 1, character: 13 } });
    });
  });

  describe('definition, references, rename', () => {
    it('goes from assign to the device and from a BAR index to the BAR', async () => {
      const defs = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: NEC_URI }, position: positionOf(NEC, 'assign ohci1', 9) });
      assert.deepStrictEqual(defs.map((d) => d.range.start), [positionOf(NEC, 'ohci1 at')]);
      const bar = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: NEC_URI }, position: positionOf(NEC, 'table bar 0', 10) });
      assert.deepStrictEqual(bar.map((d) => d.range.start), [positionOf(NEC, 'bar 0 mem64')]);
    });

    it('finds every reference of a device', async () => {
      const text = NEC.replace('}\n$', '') + 'guest vm1 {\n  window 0x100000000 size 1G\n  assign nic\n}\n';
      const uri = await openDoc(text);
      const refs = await client.request<Location[]>('textDocument/references', { textDocument: { uri }, position: positionOf(text, 'device nic', 8), context: { includeDeclaration: true } });
      assert.strictEqual(refs.length, 3);
      const noDecl = await client.request<Location[]>('textDocument/references', { textDocument: { uri }, position: positionOf(text, 'device nic', 8), context: { includeDeclaration: false } });
      assert.strictEqual(noDecl.length, 2);
    });

    it('renames a device everywhere, and refuses invalid or taken names', async () => {
      const uri = await openDoc(NEC);
      const pos = positionOf(NEC, 'assign ohci0', 8);
      const prep = await client.request<{ range: unknown; placeholder: string }>('textDocument/prepareRename', { textDocument: { uri }, position: pos });
      assert.strictEqual(prep.placeholder, 'ohci0');
      const none = await client.request<unknown>('textDocument/prepareRename', { textDocument: { uri }, position: positionOf(NEC, 'page-size', 2) });
      assert.strictEqual(none, null);
      const edit = await client.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: pos, newName: 'usb0' });
      const edits = edit.changes![uri];
      assert.strictEqual(edits.length, 2);
      const renamed = applyTextEdits(NEC, edits);
      assert.ok(renamed.includes('device usb0 at 0001:00:01.0 {') && renamed.includes('  assign usb0\n') && !renamed.includes('ohci0'));
      await assert.rejects(client.request('textDocument/rename', { textDocument: { uri }, position: pos, newName: '9lives' }), /not a valid device name/);
      await assert.rejects(client.request('textDocument/rename', { textDocument: { uri }, position: pos, newName: 'nic' }), /already exists/);
      // A name only an unknown reference uses: the rename would bind that reference to this device.
      const dangling = await openDoc(NEC.replace('  assign nic\n', '  assign nic\n  assign usb9\n'));
      await assert.rejects(client.request('textDocument/rename', { textDocument: { uri: dangling }, position: pos, newName: 'usb9' }), /refer to no device/);
      // Applying the rename leaves the diagnostics as they were.
      const v = await client.applyEdits(uri, edits);
      const p = await client.waitForCurrentDiagnostics(uri, v);
      assert.deepStrictEqual(p.diagnostics.map((d) => d.code).sort(), ['guest-page-conflict', 'msix-page-shared', 'subpage-unaligned']);
    });
  });

  it('semantic tokens after an edit: a delta request gets the changed part, which applied to the last result gives the full tokens', async () => {
    const text = bigTopology(60);
    const uri = await openDoc(text);
    type Full = { resultId: string; data: number[] };
    type Delta = { resultId: string; edits: { start: number; deleteCount: number; data?: number[] }[] };
    const first = await client.request<Full>('textDocument/semanticTokens/full', { textDocument: { uri } });
    assert.ok(first.resultId && first.data.length > 1000);
    // A comment line added before one device: its tokens and those after it move down a line.
    const at = positionOf(text, 'device d30 at');
    const v = await client.change(uri, [{ range: { start: at, end: at }, text: '# moved\n' }]);
    await client.waitForCurrentDiagnostics(uri, v);
    const delta = await client.request<Delta>('textDocument/semanticTokens/full/delta', { textDocument: { uri }, previousResultId: first.resultId });
    assert.ok(Array.isArray(delta.edits), `a delta, not a full result: ${JSON.stringify(delta).slice(0, 100)}`);
    const sent = delta.edits.reduce((n, e) => n + (e.data?.length ?? 0), 0);
    assert.ok(sent < first.data.length / 4, `${sent} numbers sent of ${first.data.length}`);
    const applied = [...first.data];
    for (const e of [...delta.edits].sort((x, y) => y.start - x.start)) applied.splice(e.start, e.deleteCount, ...(e.data ?? []));
    const full = await client.request<Full>('textDocument/semanticTokens/full', { textDocument: { uri } });
    assert.deepStrictEqual(applied, full.data);
    // A result id the server did not send last: the full tokens.
    const stale = await client.request<Full>('textDocument/semanticTokens/full/delta', { textDocument: { uri }, previousResultId: first.resultId });
    assert.deepStrictEqual(stale.data, full.data);
  });

  it('semantic tokens: device names as classes (declarations and references), keywords, numbers, comments', async () => {
    const text = '# c\ndevice nic at 00:01.0 {\n  bar 0 mem64 size 64K at 0x100000000\n}\nguest g {\n  assign nic\n}\n';
    const uri = await openDoc(text);
    const legend = ['keyword', 'type', 'number', 'string', 'comment', 'class', 'struct', 'namespace', 'property', 'enumMember', 'variable'];
    const t = await client.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri } });
    const decoded: string[] = [];
    let line = 0;
    let ch = 0;
    for (let i = 0; i < t.data.length; i += 5) {
      line += t.data[i];
      ch = t.data[i] === 0 ? ch + t.data[i + 1] : t.data[i + 1];
      const word = text.split('\n')[line].slice(ch, ch + t.data[i + 2]);
      decoded.push(`${word}:${legend[t.data[i + 3]]}${t.data[i + 4] & 1 ? '.decl' : ''}`);
    }
    assert.deepStrictEqual(decoded, [
      '# c:comment',
      'device:keyword',
      'nic:class.decl',
      'at:keyword',
      '00:01.0:number',
      'bar:keyword',
      '0:number',
      'mem64:type',
      'size:keyword',
      '64K:number',
      'at:keyword',
      '0x100000000:number',
      'guest:keyword',
      'g:struct.decl',
      'assign:keyword',
      'nic:class',
    ]);
  });

  describe('formatting', () => {
    const MESSY = '\n\n# header comment\nhost   h{page-size 64K ;arch ppc64le}\ndevice a at 00:01.0\n{\n    group 1     # trailing\n\tbar 0 mem32   size 4K at 0x80000000;bar 2 mem64 size 64K at 0x100000000\n\n\n\n  # inner comment\n}\nguest g {   window 0x200000000 size 1G\nassign a { bar 0 ; bar 2 }\n\n\n}\n\n\n';
    const CANONICAL =
      '# header comment\nhost h {\n  page-size 64K\n  arch ppc64le\n}\ndevice a at 00:01.0\n{\n  group 1  # trailing\n  bar 0 mem32 size 4K at 0x80000000\n  bar 2 mem64 size 64K at 0x100000000\n\n  # inner comment\n}\nguest g {\n  window 0x200000000 size 1G\n  assign a {\n    bar 0\n    bar 2\n  }\n}\n';

    async function format(uri: string): Promise<TextEdit[]> {
      return client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 4, insertSpaces: true } });
    }

    it('produces the canonical layout, keeps comments, and is idempotent', async () => {
      const uri = await openDoc(MESSY);
      const edits = await format(uri);
      assert.strictEqual(applyTextEdits(MESSY, edits), CANONICAL);
      const v = await client.applyEdits(uri, edits);
      const p = await client.waitForCurrentDiagnostics(uri, v);
      assert.strictEqual(client.text(uri), CANONICAL);
      assert.deepStrictEqual(p.diagnostics.map((d) => d.code), [], 'formatting changes no meaning');
      assert.deepStrictEqual(await format(uri), [], 'idempotent');
    });

    it('keeps a comment after `{` or after a `;` on its line (the `;` dropped), in Format Document and Format Selection', async () => {
      const text = 'device nic at 01:00.0 {  # the NIC\n  group 1;  # its group\n  bar 0 mem64 size 64K at 0x100000 ; # main BAR\n  name "n"; id 8086:1572 # two statements\n}\nguest g {# vm\n  assign nic {bar 0 # pinned\n  }\n}\n';
      const expected = 'device nic at 01:00.0 {  # the NIC\n  group 1  # its group\n  bar 0 mem64 size 64K at 0x100000  # main BAR\n  name "n"\n  id 8086:1572  # two statements\n}\nguest g {  # vm\n  assign nic {\n    bar 0  # pinned\n  }\n}\n';
      const uri = await openDoc(text);
      const once = applyTextEdits(text, await format(uri));
      assert.strictEqual(once, expected);
      assert.deepStrictEqual(await format(await openDoc(once)), [], 'idempotent');
      const selection = await client.request<TextEdit[]>('textDocument/rangeFormatting', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } },
        options: { tabSize: 2, insertSpaces: true },
      });
      assert.strictEqual(applyTextEdits(text, selection).split('\n').slice(0, 2).join('\n'), 'device nic at 01:00.0 {  # the NIC\n  group 1  # its group');
    });

    it('leaves a canonical file and its CRLF or old-Mac CR line breaks alone', async () => {
      assert.deepStrictEqual(await format(await openDoc(CLEAN)), []);
      for (const eol of ['\r\n', '\r']) {
        const canonical = CANONICAL.replace(/\n/g, eol);
        assert.deepStrictEqual(await format(await openDoc(canonical)), []);
        const messy = MESSY.replace(/\n/g, eol);
        const uri = await openDoc(messy);
        assert.strictEqual(applyTextEdits(messy, await format(uri)), canonical);
      }
      // Mixed: the most common style wins, and the result has no other.
      const mixed = MESSY.replace(/\n/g, '\r').replace('\r', '\n');
      assert.strictEqual(applyTextEdits(mixed, await format(await openDoc(mixed))), CANONICAL.replace(/\n/g, '\r'));
    });

    it('formats a file with an odd blank (NBSP) on a blank line completely at once: a second run changes nothing', async () => {
      const nbsp = 'device d at 01:00.0 {\n  group 1\n\u00a0\n\n\n  bar 0 mem32 size 4K at 0x1000\n}\n';
      const once = applyTextEdits(nbsp, await format(await openDoc(nbsp)));
      assert.strictEqual(once, 'device d at 01:00.0 {\n  group 1\n\n  bar 0 mem32 size 4K at 0x1000\n}\n');
      assert.deepStrictEqual(await format(await openDoc(once)), []);
    });

    it('removes a U+FEFF in the indentation of the first line instead of making it a byte order mark', async () => {
      // The lexer takes U+FEFF for a blank. Indentation was stripped of spaces and tabs only, so the U+FEFF after a
      // tab became the first character of the file: a byte order mark, which a second run then kept.
      const feff = '\t\ufeffhost h {   \n  page-size 64K ;\n}\n';
      const once = applyTextEdits(feff, await format(await openDoc(feff)));
      assert.strictEqual(once, 'host h {\n  page-size 64K\n}\n');
      assert.deepStrictEqual(await format(await openDoc(once)), []);
    });

    it('only re-indents a file with syntax errors, and leaves a file with unbalanced braces alone', async () => {
      const broken = 'device a at 00:01.0 {\n        bar 0 mem99   size 4K\n     group 1 # note\n}\n';
      const uri = await openDoc(broken);
      assert.strictEqual(applyTextEdits(broken, await format(uri)), 'device a at 00:01.0 {\n  bar 0 mem99   size 4K\n  group 1 # note\n}\n');
      const unbalanced = 'device a at 00:01.0 {\n      group 1\n';
      assert.deepStrictEqual(await format(await openDoc(unbalanced)), []);
    });

    it('formats a range', async () => {
      const uri = await openDoc(MESSY);
      const lines = MESSY.split('\n');
      const line = lines.findIndex((l) => l.startsWith('guest g'));
      const edits = await client.request<TextEdit[]>('textDocument/rangeFormatting', {
        textDocument: { uri },
        range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } },
        options: { tabSize: 2, insertSpaces: true },
      });
      assert.ok(edits.length > 0);
      for (const e of edits) assert.ok(e.range.end.line >= line && e.range.start.line <= line + 1, JSON.stringify(e));
      const out = applyTextEdits(MESSY, edits);
      assert.ok(out.startsWith('\n\n# header comment\nhost   h{page-size 64K ;arch ppc64le}'), 'outside the range untouched');
    });
  });
});

describe('lsp: hover for a plain-text client', function () {
  this.timeout(30000);
  it('answers in plain text', async () => {
    const caps = { ...PUSH_CAPABILITIES, textDocument: { ...PUSH_CAPABILITIES.textDocument, hover: { contentFormat: ['plaintext' as const] } } };
    const { client } = await LspClient.start({ capabilities: caps });
    try {
      const uri = 'file:///plain.bartopo';
      await client.open(uri, NEC);
      await client.waitForDiagnostics(uri, 1);
      const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(NEC, 'bar 0 mem64', 1) });
      const c = h.contents as MarkupContent;
      assert.strictEqual(c.kind, 'plaintext');
      assert.ok(c.value.startsWith('nic.bar0 — mem64 prefetchable, 32M (0x2000000)'), c.value);
      assert.ok(!c.value.includes('**') && !c.value.includes('`'), c.value);
      // A label with Markdown characters reads as written.
      const label = 'PF [0] *main*_x';
      const text = `device lab at 00:01.0 {\n  name "${label}"\n  bar 0 mem32 size 64K at 0x80000000\n}\n`;
      const doc = 'file:///plain-label.bartopo';
      await client.open(doc, text);
      const l = await client.request<Hover>('textDocument/hover', { textDocument: { uri: doc }, position: positionOf(text, 'device lab', 8) });
      assert.strictEqual((l.contents as MarkupContent).value.split('\n')[0], `device lab — ${label}`);
    } finally {
      await client.stop();
    }
  });
});
