// Protocol tests for the custom requests behind the editor's page map and
// import commands (bartopo/pageMap, bartopo/importLspci, bartopo/importSysfs),
// against the real bundled server over stdio; and the page map webview's
// document in Chromium: its Content-Security-Policy holds, it draws a posted
// map and reports clicks.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ResponseError } from 'vscode-jsonrpc';
import { pageMapCsp, pageMapHtml } from '../client/src/pageMapHtml';
import { analyze } from '../server/src/engine/analyze';
import { buildPageMap } from '../server/src/pagemap/model';
import { renderSvg } from '../server/src/pagemap/render';
import { ImportResponse, PageMapResult } from '../server/src/protocol';
import { launchChromium } from './editor/browser';
import { ensureTools } from './editor/codeServer';
import { LspClient, positionOf } from './lsp-client';
import { NEC } from './lsp-docs';
import { REPO_ROOT } from './paths';

interface Item {
  kind: string;
  id: string;
  start: number;
  end: number;
}

/** The clickable items of a page map SVG, in document order. */
function items(svg: string): Item[] {
  const out: Item[] = [];
  const re = /<rect class="item ([\w-]+)" data-id="([^"]*)" data-start="(\d+)" data-end="(\d+)"/g;
  for (let m = re.exec(svg); m; m = re.exec(svg)) out.push({ kind: m[1], id: m[2], start: Number(m[3]), end: Number(m[4]) });
  return out;
}

/** The statement an item must reveal: the keyword its span starts with. */
function expectedStart(it: Item): RegExp {
  switch (it.kind) {
    case 'bar':
      return new RegExp(`^bar ${it.id.replace(/^.*\.bar/, '')} `);
    case 'rom':
      return /^rom /;
    case 'msix-table':
    case 'msix-pba':
      return /^msix /;
    case 'region':
      return new RegExp(`^region ${it.id.replace(/^[^.]*\./, '')} `);
    default:
      return /^bar /; // VF BARs: the bar inside sriov
  }
}

/** Which device block an offset of `text` is in. */
function deviceAt(text: string, offset: number): string | undefined {
  const before = text.slice(0, offset);
  const m = [...before.matchAll(/^device (\S+) /gm)].pop();
  return m?.[1];
}

async function requestError(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ResponseError, `expected a ResponseError, got ${String(e)}`);
    return e;
  }
  assert.fail('the request succeeded');
}

const NVME = [
  '01:00.0 Non-Volatile memory controller [0108]: Samsung Electronics Co Ltd NVMe SSD Controller SM981/PM981/PM983 [144d:a808] (prog-if 02 [NVM Express])',
  '\tSubsystem: Samsung Electronics Co Ltd SSD 970 EVO/PM983 [144d:a801]',
  '\tIOMMU group: 14',
  '\tRegion 0: Memory at f7100000 (64-bit, non-prefetchable) [size=16K]',
  '\tCapabilities: [b0] MSI-X: Enable+ Count=33 Masked-',
  '\t\tVector table: BAR=0 offset=00003000',
  '\t\tPBA: BAR=0 offset=00002000',
  '\tKernel driver in use: nvme',
  '',
  '00:1f.3 Audio device [0403]: Intel Corporation Cannon Lake PCH cAVS [8086:a348] (rev 10)',
  '\tIOMMU group: 12',
  '\tRegion 0: Memory at f7210000 (64-bit, non-prefetchable) [size=16K]',
  '\tRegion 4: Memory at f7000000 (64-bit, non-prefetchable) [size=1M]',
  '',
].join('\n');

describe('lsp: page map and import requests', function () {
  this.timeout(30000);
  let client: LspClient;
  const URI = 'file:///pagemap-nec.bartopo';

  before(async () => {
    ({ client } = await LspClient.start());
    await client.open(URI, NEC);
    await client.waitForDiagnostics(URI, 1);
  });
  after(async () => {
    await client?.stop();
  });

  describe('bartopo/pageMap', () => {
    it('answers the SVG of `bartopo map --svg`; each item’s data-start/data-end slice to its statement', async () => {
      const r = await client.request<PageMapResult>('bartopo/pageMap', { uri: URI });
      assert.ok(r, 'no page map');
      assert.ok(r.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), r.svg.slice(0, 80));
      assert.strictEqual(r.version, 1);
      assert.strictEqual(r.pageSize, '64K');
      assert.strictEqual(r.truncated, false);
      // The same picture the CLI draws (title: the file name).
      const map = buildPageMap(analyze(NEC));
      assert.strictEqual(r.pages, map.pages.length);
      assert.ok(r.pages >= 2, `only ${r.pages} pages`);
      assert.strictEqual(r.svg, renderSvg(map, { title: 'pagemap-nec.bartopo' }));
      const its = items(r.svg);
      assert.deepStrictEqual(
        its.map((i) => i.id),
        map.pages.flatMap((p) => p.items.map((i) => i.id)),
      );
      const ids = new Set(its.map((i) => i.id));
      for (const id of ['ohci0.bar0', 'ohci1.bar0', 'nic.bar0', 'nic.msix-table', 'nic.msix-pba', 'nic.doorbells']) assert.ok(ids.has(id), `${id} is not on the map: ${[...ids].join(', ')}`);
      for (const it of its) {
        const stmt = NEC.slice(it.start, it.end);
        assert.match(stmt, expectedStart(it), `${it.id} (${it.kind}) reveals \`${stmt}\``);
        assert.ok(!stmt.includes('\n'), `${it.id} reveals more than one line: \`${stmt}\``);
        assert.strictEqual(deviceAt(NEC, it.start), it.id.split('.')[0], `${it.id} reveals a statement of another device`);
      }
      const ohci1 = its.find((i) => i.id === 'ohci1.bar0')!;
      assert.strictEqual(NEC.slice(ohci1.start, ohci1.end), 'bar 0 mem32 size 4K at 0x3fe080021000');
    });

    it('follows edits: a new version, offsets of the new text, and the same answer twice for one version', async () => {
      const uri = 'file:///pagemap-edit.bartopo';
      await client.open(uri, NEC);
      await client.waitForDiagnostics(uri, 1);
      const before = await client.request<PageMapResult>('bartopo/pageMap', { uri });
      const version = await client.change(uri, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '# a new first line\n' }]);
      const after = await client.request<PageMapResult>('bartopo/pageMap', { uri });
      assert.strictEqual(after.version, version);
      const text = client.text(uri);
      const shift = '# a new first line\n'.length;
      assert.deepStrictEqual(
        items(after.svg).map((i) => [i.id, i.start, i.end]),
        items(before.svg).map((i) => [i.id, i.start + shift, i.end + shift]),
      );
      for (const it of items(after.svg)) assert.match(text.slice(it.start, it.end), expectedStart(it));
      // ohci1 as a whole 64K page of its own is off the map.
      const stmt = 'size 4K at 0x3fe080021000';
      const v2 = await client.change(uri, [{ range: { start: positionOf(text, stmt), end: positionOf(text, stmt, stmt.length) }, text: 'size 64K at 0x3fe080030000' }]);
      const moved = await client.request<PageMapResult>('bartopo/pageMap', { uri });
      assert.strictEqual(moved.version, v2);
      assert.ok(!items(moved.svg).some((i) => i.id === 'ohci1.bar0'), 'ohci1.bar0 (alone in an aligned 64K page) is still on the map');
      assert.deepStrictEqual(await client.request<PageMapResult>('bartopo/pageMap', { uri }), moved);
      await client.close(uri);
    });

    it('draws the map for the page size in force (the bartopo.pageSize setting)', async () => {
      const { client: c4 } = await LspClient.start({ settings: { pageSize: '4K' } });
      try {
        await c4.open(URI, NEC);
        await c4.waitForDiagnostics(URI, 1);
        const r = await c4.request<PageMapResult>('bartopo/pageMap', { uri: URI });
        assert.strictEqual(r.pageSize, '4K');
        assert.strictEqual(r.svg, renderSvg(buildPageMap(analyze(NEC, { pageSize: 4096n })), { title: 'pagemap-nec.bartopo' }));
      } finally {
        await c4.stop();
      }
    });

    it('answers null for a document the server does not have, and an error for a request without uri', async () => {
      assert.strictEqual(await client.request('bartopo/pageMap', { uri: 'file:///not-open.bartopo' }), null);
      const e = await requestError(client.request('bartopo/pageMap', {}));
      assert.strictEqual(e.code, -32602);
    });

    it('stops at 5,000 resources and says the map is cut: 6,000 BARs overlapping at one address make one page', async () => {
      const devs = Array.from({ length: 6000 }, (_, i) => `device d${i} at ${(Math.floor(i / 32) + 1).toString(16).padStart(2, '0')}:${(i % 32).toString(16).padStart(2, '0')}.0 {\n  bar 0 mem32 size 1K at 0xf0000000\n}\n`).join('');
      const uri = 'file:///pagemap-overlap.bartopo';
      await client.open(uri, devs);
      await client.waitForDiagnostics(uri, 1);
      const r = await client.request<PageMapResult>('bartopo/pageMap', { uri });
      assert.strictEqual(r.truncated, true);
      assert.strictEqual(items(r.svg).length, 5000);
      assert.ok(r.svg.includes('first 5000 resources'), r.svg.slice(0, 300));
      assert.ok(r.svg.length < 3_000_000, `${r.svg.length} characters`);
    });

    it('draws an empty map (and says so) for a file with no shared page', async () => {
      const uri = 'file:///pagemap-empty.bartopo';
      await client.open(uri, 'host h {\n  page-size 4K\n}\ndevice a at 00:01.0 {\n  bar 0 mem32 size 64K at 0x80000000\n}\n');
      const r = await client.request<PageMapResult>('bartopo/pageMap', { uri });
      assert.strictEqual(r.pages, 0);
      assert.deepStrictEqual(items(r.svg), []);
      assert.ok(r.svg.includes('No host page holds more than one resource'), r.svg);
      await client.close(uri);
    });
  });

  describe('bartopo/importLspci', () => {
    it('turns an lspci dump into a topology that parses without syntax errors', async () => {
      const r = await client.request<ImportResponse>('bartopo/importLspci', { text: NVME, sourceName: 'dump.txt' });
      assert.strictEqual(r.devices, 2);
      assert.strictEqual(r.bars, 3);
      assert.deepStrictEqual(r.warnings, []);
      assert.ok(r.text.includes('from lspci output (dump.txt)'), r.text);
      assert.match(r.text, /^device nvme_01_00_0 at 0000:01:00\.0 \{$/m);
      assert.match(r.text, /^ {2}bar 0 mem64 size 16K at 0xf7100000$/m);
      assert.match(r.text, /^ {2}page-size 4K$/m);
      const a = analyze(r.text);
      assert.deepStrictEqual(
        a.diagnostics.filter((d) => d.rule === 'syntax').map((d) => d.message),
        [],
      );
      assert.strictEqual(a.file.devices.length, 2);
    });

    it('uses the page size asked for, and refuses one that is not a power of two of at least 4K', async () => {
      const r = await client.request<ImportResponse>('bartopo/importLspci', { text: NVME, pageSize: '64K' });
      assert.match(r.text, /^ {2}page-size 64K$/m);
      assert.strictEqual(analyze(r.text).topology.host.pageSize, 65536n);
      const e = await requestError(client.request('bartopo/importLspci', { text: NVME, pageSize: '1000' }));
      assert.strictEqual(e.code, -32602);
      assert.match(e.message, /power of two of at least 4K/);
      const missing = await requestError(client.request('bartopo/importLspci', { pageSize: '4K' }));
      assert.strictEqual(missing.code, -32602);
    });

    it('reports what it could not read as warnings with line numbers', async () => {
      // The NVMe function listed twice: the second listing is a warning at its header line.
      const again = NVME.split('\n').slice(0, 8).join('\n');
      const text = NVME + again + '\n';
      const r = await client.request<ImportResponse>('bartopo/importLspci', { text });
      assert.strictEqual(r.devices, 2);
      assert.strictEqual(r.warnings.length, 1, JSON.stringify(r.warnings));
      assert.strictEqual(r.warnings[0].line, NVME.split('\n').length);
      assert.match(r.warnings[0].message, /already listed at line 1/);
      const none = await client.request<ImportResponse>('bartopo/importLspci', { text: 'hello\n' });
      assert.strictEqual(none.devices, 0);
      assert.match(none.warnings[0].message, /no lspci device header/);
    });
  });

  describe('bartopo/importSysfs', () => {
    let root: string;
    before(() => {
      root = fakeSysfs();
    });
    after(() => {
      fs.rmSync(root, { recursive: true, force: true });
    });

    it('reads a sysfs tree under root: devices, BARs, IOMMU groups, MSI-X', async () => {
      const r = await client.request<ImportResponse>('bartopo/importSysfs', { root });
      assert.strictEqual(r.devices, 2);
      assert.strictEqual(r.bars, 3);
      assert.ok(r.text.includes(`from sysfs under ${path.join(root, 'sys', 'bus', 'pci', 'devices')}`), r.text);
      // Not `/`: no getconf, 4K assumed.
      assert.match(r.text, /^ {2}page-size 4K$/m);
      assert.match(r.text, /^device \S+ at 0000:01:00\.0 \{$/m);
      assert.match(r.text, /^ {2}bar 0 mem64 prefetch size 32M at 0x6000000000$/m);
      assert.match(r.text, /^ {2}msix entries 64 table bar 0 offset 0x2000 pba bar 0 offset 0x3000$/m);
      const a = analyze(r.text);
      assert.deepStrictEqual(a.diagnostics.filter((d) => d.rule === 'syntax').map((d) => d.message), []);
      assert.deepStrictEqual(a.file.devices.map((d) => d.groups.map((g) => g.value)), [[3n], [27n]]);
    });

    it('uses the page size asked for', async () => {
      const r = await client.request<ImportResponse>('bartopo/importSysfs', { root, pageSize: '16K' });
      assert.match(r.text, /^ {2}page-size 16K$/m);
    });

    it('refuses a root without sys/bus/pci/devices, a relative root and a bad page size', async () => {
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'bartopo-nosysfs-'));
      try {
        const e = await requestError(client.request('bartopo/importSysfs', { root: empty }));
        assert.strictEqual(e.code, -32602);
        assert.ok(e.message.includes('has no sys/bus/pci/devices'), e.message);
      } finally {
        fs.rmSync(empty, { recursive: true, force: true });
      }
      assert.strictEqual((await requestError(client.request('bartopo/importSysfs', { root: 'relative/dir' }))).code, -32602);
      assert.strictEqual((await requestError(client.request('bartopo/importSysfs', { root, pageSize: 'big' }))).code, -32602);
    });

    it('on / (this machine) takes the page size from getconf PAGESIZE', async function () {
      if (!fs.existsSync('/sys/bus/pci/devices') || fs.readdirSync('/sys/bus/pci/devices').length === 0) {
        console.log('      (skipped: this machine has no PCI devices in /sys/bus/pci/devices)');
        this.skip();
      }
      const { execFileSync } = await import('child_process');
      const pageSize = BigInt(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());
      const r = await client.request<ImportResponse>('bartopo/importSysfs', {}, 60_000);
      assert.ok(r.devices > 0);
      assert.match(r.text, /Page size \S+ given by the caller \(getconf PAGESIZE\)/);
      assert.strictEqual(analyze(r.text).topology.host.pageSize, pageSize);
      assert.deepStrictEqual(analyze(r.text).diagnostics.filter((d) => d.rule === 'syntax'), []);
    });
  });
});

// A fake sysfs tree, shaped like the kernel's (see test/import-sysfs.test.ts):
//   ROOT/sys/bus/pci/devices/<BDF> -> ../../../devices/pci0000:00/<BDF>
function fakeSysfs(): string {
  const hex16 = (v: bigint): string => '0x' + v.toString(16).padStart(16, '0');
  const line = (start: bigint, end: bigint, flags: bigint): string => `${hex16(start)} ${hex16(end)} ${hex16(flags)}`;
  const ZERO = line(0n, 0n, 0n);
  // Config space: capability list at 0x40 → MSI-X, 64 vectors, table in BAR0 at 0x2000, PBA at 0x3000.
  const cfg = Buffer.alloc(256);
  cfg.writeUInt16LE(0x15b3, 0);
  cfg.writeUInt16LE(0x1015, 2);
  cfg.writeUInt16LE(0x0010, 6);
  cfg[0x34] = 0x40;
  cfg[0x40] = 0x11;
  cfg.writeUInt16LE(0x803f, 0x42);
  cfg.writeUInt32LE(0x2000, 0x44);
  cfg.writeUInt32LE(0x3000, 0x48);
  const devs = [
    { bdf: '0000:00:1f.3', group: 3, cls: '0x040300', resource: [line(0x81810000n, 0x81813fffn, 0x140204n), ZERO, line(0x81900000n, 0x819fffffn, 0x140204n), ...Array<string>(10).fill(ZERO)] },
    { bdf: '0000:01:00.0', group: 27, cls: '0x020000', config: cfg, resource: [line(0x6000000000n, 0x6001ffffffn, 0x14220cn), ...Array<string>(12).fill(ZERO)] },
  ];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bartopo-lsp-sysfs-'));
  const devices = path.join(root, 'sys', 'bus', 'pci', 'devices');
  fs.mkdirSync(devices, { recursive: true });
  for (const d of devs) {
    const dir = path.join(root, 'sys', 'devices', 'pci0000:00', d.bdf);
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(path.join('..', '..', '..', 'devices', 'pci0000:00', d.bdf), path.join(devices, d.bdf));
    fs.writeFileSync(path.join(dir, 'resource'), d.resource.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'class'), d.cls + '\n');
    fs.mkdirSync(path.join(root, 'sys', 'kernel', 'iommu_groups', String(d.group), 'devices'), { recursive: true });
    fs.symlinkSync(path.join('..', '..', '..', 'kernel', 'iommu_groups', String(d.group)), path.join(dir, 'iommu_group'));
    if (d.config) fs.writeFileSync(path.join(dir, 'config'), d.config);
  }
  return root;
}

/** What the browser-side callbacks below see (the test's tsconfig has no DOM types). */
interface PageGlobals {
  posted: { type: string; version?: number; [k: string]: unknown }[];
  violations: string[];
  pwned?: number;
  acquireVsCodeApi: () => unknown;
  postMessage(message: unknown, targetOrigin: string): void;
  document: {
    addEventListener(type: 'securitypolicyviolation', f: (e: { violatedDirective: string; blockedURI: string }) => void): void;
    getElementById(id: string): { textContent: string | null } | null;
  };
}

describe('page map webview document', () => {
  const nonce = 'TESTnonce123';
  const html = pageMapHtml(nonce);

  it('has a strict Content-Security-Policy: nothing remote, only the nonce’d script and style', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
    assert.strictEqual(csp, pageMapCsp(nonce));
    assert.ok(csp!.startsWith("default-src 'none';"), csp);
    assert.ok(!/unsafe-|\*|https?:|data:/.test(csp!), csp);
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)];
    assert.deepStrictEqual(scripts.map((m) => m[1]), [` nonce="${nonce}"`]);
    assert.deepStrictEqual([...html.matchAll(/<style\b([^>]*)>/g)].map((m) => m[1]), [` nonce="${nonce}"`]);
    assert.ok(!/\b(src|href)=/.test(html), 'the document loads nothing');
    assert.ok(!html.includes('innerHTML'), 'the script never parses HTML from a message');
    assert.notStrictEqual(pageMapHtml('other'), html);
  });

  it('in Chromium: draws a posted map, reports it drawn and each clicked item, runs nothing from the SVG', async function () {
    this.timeout(600_000);
    const tools = ensureTools();
    const map = buildPageMap(analyze(NEC));
    const svg = renderSvg(map, { title: 'nec.bartopo' });
    const expected = items(svg);
    const outDir = path.join(REPO_ROOT, 'test-output', 'pagemap');
    fs.mkdirSync(outDir, { recursive: true });
    const profile = fs.mkdtempSync(path.join(outDir, 'webview-profile-'));
    const { context, page } = await launchChromium(tools.chromium, profile, { width: 900, height: 700 });
    try {
      await page.addInitScript(() => {
        const w = globalThis as unknown as PageGlobals;
        w.posted = [];
        w.violations = [];
        w.acquireVsCodeApi = () => ({ postMessage: (m: PageGlobals['posted'][number]) => w.posted.push(m), getState: () => undefined, setState: () => undefined });
        w.document.addEventListener('securitypolicyviolation', (e) => w.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      await page.route('http://webview.test/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
      await page.goto('http://webview.test/index.html');
      const posted = (): Promise<PageGlobals['posted']> => page.evaluate(() => (globalThis as unknown as PageGlobals).posted);
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).posted.some((m) => m.type === 'ready'));

      await page.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), { type: 'map', svg, uri: 'file:///nec.bartopo', version: 7, note: 'two pages' });
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).posted.some((m) => m.type === 'rendered'));
      assert.deepStrictEqual((await posted()).find((m) => m.type === 'rendered'), { type: 'rendered', uri: 'file:///nec.bartopo', version: 7, items: expected.length });
      assert.strictEqual(await page.locator('#note').textContent(), 'two pages');
      assert.strictEqual(await page.locator('#map rect.item').count(), expected.length);

      // A click on an item posts its statement's offsets.
      const target = expected.find((i) => i.id === 'ohci1.bar0')!;
      await page.locator(`#map rect.item[data-id="${target.id}"]`).first().click();
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).posted.some((m) => m.type === 'reveal'));
      assert.deepStrictEqual((await posted()).filter((m) => m.type === 'reveal'), [{ type: 'reveal', start: target.start, end: target.end, id: target.id }]);
      assert.strictEqual(await page.locator('#map rect.item.selected').count(), 1);
      // And so does Enter on a focused item.
      const table = expected.find((i) => i.kind === 'msix-table')!;
      await page.locator(`#map rect.item[data-id="${table.id}"]`).first().focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).posted.filter((m) => m.type === 'reveal').length === 2);
      assert.deepStrictEqual((await posted()).filter((m) => m.type === 'reveal')[1], { type: 'reveal', start: table.start, end: table.end, id: table.id });

      // Script in a posted SVG never runs (DOMParser, CSP); a message replaces the map.
      const evil = svg.replace('</svg>', '<script>window.pwned = 1</script><rect onload="window.pwned = 2" width="1" height="1"/></svg>');
      await page.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), { type: 'map', svg: evil, uri: 'file:///nec.bartopo', version: 8, note: '' });
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).posted.some((m) => m.type === 'rendered' && m.version === 8));
      assert.strictEqual(await page.evaluate(() => (globalThis as unknown as PageGlobals).pwned), undefined);
      await page.evaluate(() => (globalThis as unknown as PageGlobals).postMessage({ type: 'message', text: 'nothing to show' }, '*'));
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('note')!.textContent === 'nothing to show');
      assert.strictEqual(await page.locator('#map rect.item').count(), 0);
      // The only CSP violation: the script planted in the SVG.
      const violations = await page.evaluate(() => (globalThis as unknown as PageGlobals).violations);
      assert.ok(violations.every((v) => v.startsWith('script-src')), violations.join('\n'));
    } finally {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  });
});
