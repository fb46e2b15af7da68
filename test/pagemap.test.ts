// The page map: which host pages are drawn, what sits where in them, and the
// text and SVG pictures (checked structurally).
import * as assert from 'assert';
import { analyze } from '../server/src/engine/analyze';
import { buildPageMap } from '../server/src/pagemap/model';
import { renderSvg, renderText } from '../server/src/pagemap/render';

const PACKED = `host h {\n  page-size 64K\n}\ndevice a at 00:01.0 {\n  group 1\n  bar 0 mem32 size 4K at 0xe0010000\n}\ndevice b at 00:01.1 {\n  group 2\n  bar 0 mem32 size 16K at 0xe0014000\n}\ndevice big at 00:02.0 {\n  group 3\n  bar 0 mem64 size 1M at 0x100000000\n  msix entries 16 table bar 0 offset 0x1000\n  region db bar 0 offset 0 size 4K hot\n}\n`;

describe('page map', () => {
  const map = buildPageMap(analyze(PACKED));

  it('draws the shared page and the MSI-X table page, not the whole big BAR', () => {
    assert.deepStrictEqual(
      map.pages.map((p) => p.start.toString(16)),
      ['e0010000', '100000000'],
    );
    const shared = map.pages[0];
    assert.strictEqual(shared.crossGroup, true);
    assert.deepStrictEqual(shared.items.map((i) => [i.id, (i.start - shared.start).toString(16), (i.end - i.start).toString(16)]), [
      ['a.bar0', '0', '1000'],
      ['b.bar0', '4000', '4000'],
    ]);
    const table = map.pages[1];
    assert.deepStrictEqual(table.items.map((i) => i.kind), ['bar', 'region', 'msix-table']);
    // Only the first 64K page of the 1M BAR is drawn, clipped.
    assert.strictEqual(table.items[0].end - table.items[0].start, 0x10000n);
  });

  it('text: one scale row per page, 64 cells, items at their offsets', () => {
    const t = renderText(map);
    const rows = t.split('\n').filter((l) => l.startsWith('  |'));
    assert.strictEqual(rows.length, 2);
    const row = rows[0].slice(3, 3 + 64);
    // 64K / 64 cells = 1K per cell: a.bar0 cells 0-3, b.bar0 cells 16-31.
    assert.strictEqual(row.slice(0, 4), 'AAAA');
    assert.strictEqual(row.slice(4, 16), '.'.repeat(12));
    assert.strictEqual(row.slice(16, 32), 'B'.repeat(16));
    assert.match(t, /ISOLATION BROKEN/);
  });

  it('SVG: well-formed, one group per page, one rect per item with reveal offsets', () => {
    const svg = renderSvg(map, { title: 'x' });
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.strictEqual((svg.match(/<g class="page"/g) ?? []).length, 2);
    const items = [...svg.matchAll(/<rect class="item (\w[\w-]*)" data-id="([^"]+)" data-start="(\d+)" data-end="(\d+)"/g)];
    assert.deepStrictEqual(items.map((m) => m[2]), ['a.bar0', 'b.bar0', 'big.bar0', 'big.db', 'big.msix-table']);
    const a0 = items.find((m) => m[2] === 'a.bar0')!;
    assert.ok(PACKED.slice(+a0[3], +a0[4]).startsWith('bar 0 mem32 size 4K'));
    // Balanced tags.
    assert.strictEqual((svg.match(/<g /g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length);
    assert.ok(svg.trim().endsWith('</svg>'));
  });

  it('draws every page of a VF aperture whose VF BARs are smaller than a page, the inner ones too', () => {
    // 16 VFs of 16K from 0x2_0000_0000 on 64K pages: 256K, four pages of four VF BARs each.
    const m = buildPageMap(analyze('host h {\n  page-size 64K\n}\ndevice nic at 01:00.0 {\n  group 1\n  bar 0 mem64 size 1M at 0x1_0000_0000\n  sriov vfs 16 {\n    bar 0 mem64 size 16K at 0x2_0000_0000\n  }\n}\n'));
    assert.deepStrictEqual(
      m.pages.map((p) => p.start),
      [0x2_0000_0000n, 0x2_0001_0000n, 0x2_0002_0000n, 0x2_0003_0000n],
    );
    for (const p of m.pages) assert.deepStrictEqual(p.items.map((i) => i.id), ['nic.vf*.bar0']);
  });

  it('a VF aperture passing through a page that has resources of its own is drawn in it too', () => {
    // 64 VFs of 4K from 0x2000_0000 on 64K pages (four pages); x.bar0 is inside the aperture's third page.
    const m = buildPageMap(analyze('host h {\n  page-size 64K\n}\ndevice pf at 01:00.0 {\n  group 1\n  bar 0 mem64 size 1M at 0x1_0000_0000\n  sriov vfs 64 {\n    bar 0 mem64 size 4K at 0x2000_0000\n  }\n}\ndevice x at 02:00.0 {\n  group 2\n  bar 0 mem32 size 4K at 0x2002_0000\n}\n'));
    const page = m.pages.find((p) => p.start === 0x2002_0000n)!;
    assert.deepStrictEqual(page.items.map((i) => i.id).sort(), ['pf.vf*.bar0', 'x.bar0']);
    assert.strictEqual(page.crossGroup, true);
  });

  it('stopped by its item cap at a page boundary, draws no empty page after the last full one', () => {
    // 4 one-resource-each... 40 BARs of 64 bytes in page 0xf000_0000, then 2 in each of two more pages; cap 40.
    const devs = Array.from({ length: 44 }, (_, i) => {
      const at = i < 40 ? 0xf000_0000 + i * 64 : i < 42 ? 0xf001_0000 + (i - 40) * 64 : 0xf002_0000 + (i - 42) * 64;
      return `device d${i} at 00:${(i + 1).toString(16).padStart(2, '0')}.0 {\n  group 1\n  bar 0 mem32 size 64 at 0x${at.toString(16)}\n}\n`;
    }).join('');
    const m = buildPageMap(analyze(devs), { maxItems: 40 });
    assert.strictEqual(m.itemsCut, true);
    assert.deepStrictEqual(m.pages.map((p) => [p.start, p.items.length]), [[0xf000_0000n, 40]]);
  });

  it('SVG: a title with characters XML forbids (a control character in a path) stays well-formed', () => {
    const svg = renderSvg(map, { title: 'topo\u0001name\ud800.bartopo' });
    assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(svg), 'no control character');
    assert.ok(svg.includes('topo\ufffdname\ufffd.bartopo'));
  });

  it('an empty map says so', () => {
    const m = buildPageMap(analyze(`device a at 00:01.0 {\n  bar 0 mem32 size 1M at 0xe0000000\n}\n`));
    assert.strictEqual(m.pages.length, 0);
    assert.match(renderText(m), /No host page/);
  });
});
