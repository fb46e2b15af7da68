// The page map's SVG rendered in a real browser (Debian's Chromium via
// playwright-core): every item is laid out to scale, and the picture is saved
// (test-output/pagemap/; BARTOPO_UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/pagemap.png).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyze } from '../server/src/engine/analyze';
import { buildPageMap } from '../server/src/pagemap/model';
import { renderSvg } from '../server/src/pagemap/render';
import { launchChromium } from './editor/browser';
import { ensureTools } from './editor/codeServer';
import { EXAMPLES_DIR, REPO_ROOT } from './paths';

describe('page map SVG in Chromium', function () {
  this.timeout(600_000);

  it('renders every page and item to scale, and saves a screenshot', async () => {
    const tools = ensureTools();
    const file = path.join(EXAMPLES_DIR, 'nec-usb-x86-4k.bartopo');
    const text = fs.readFileSync(file, 'utf8').replace('page-size 4K', 'page-size 64K'); // the same board on a 64K host
    const map = buildPageMap(analyze(text));
    const svg = renderSvg(map, { title: 'nec-usb-x86-4k.bartopo on a 64K-page host' });
    const outDir = path.join(REPO_ROOT, 'test-output', 'pagemap');
    fs.mkdirSync(outDir, { recursive: true });
    const { context, page } = await launchChromium(tools.chromium, fs.mkdtempSync(path.join(outDir, 'profile-')), { width: 900, height: 700 });
    try {
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
      const boxes = await page.$$eval('rect.item', (els) => els.map((e) => { const b = e.getBoundingClientRect(); return { id: e.getAttribute('data-id'), x: b.x, w: b.width }; }));
      const expected = map.pages.flatMap((p) => p.items.map((i) => i.id));
      assert.deepStrictEqual(boxes.map((b) => b.id), expected);
      for (const b of boxes) assert.ok(b.w >= 1, `${b.id} is drawn`);
      // Scale: within one page, an item's width is proportional to its size.
      const p0 = map.pages[0];
      const bar = p0.items[0];
      const box = boxes[0];
      const barWidth = 900 - 2 * 20;
      const want = (Number(bar.end - bar.start) / Number(p0.size)) * barWidth;
      assert.ok(Math.abs(box.w - Math.max(2, want)) < 1.5, `${bar.id}: ${box.w}px, expected ${want}px`);
      const shot = path.join(outDir, 'pagemap.png');
      await page.locator('svg').screenshot({ path: shot });
      assert.ok(fs.statSync(shot).size > 1000);
      if (process.env.BARTOPO_UPDATE_SCREENSHOTS) fs.copyFileSync(shot, path.join(REPO_ROOT, 'docs', 'screenshots', 'pagemap.png'));
    } finally {
      await context.close();
    }
  });
});
