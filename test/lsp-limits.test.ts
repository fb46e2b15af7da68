// The server under abuse: a 50 MB document, a 1 MB line, malformed requests and
// a client that goes away mid-request. It answers, degrades with a clear
// message, stays responsive to other documents, and never crashes.
import * as assert from 'assert';
import type { DocumentSymbol, FoldingRange } from 'vscode-languageserver-protocol';
import { LspClient } from './lsp-client';
import { NEC } from './lsp-docs';

describe('lsp: limits and abuse', function () {
  this.timeout(120000);
  let client: LspClient;

  before(async () => {
    ({ client } = await LspClient.start());
  });
  after(async () => {
    await client?.stop();
  });

  it('a 50 MB document gets one file-too-large warning, and other documents are still served', async () => {
    const device = (i: number): string => `device d${i} at ${(i >> 8).toString(16).padStart(4, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}:00.0 {\n  group ${i}\n  bar 0 mem64 size 1M at 0x${(0x100000000 + i * 0x100000).toString(16)}\n}\n`;
    const parts: string[] = [];
    let size = 0;
    for (let i = 0; size < 50 * 1024 * 1024; i++) {
      const d = device(i);
      parts.push(d);
      size += d.length;
    }
    const big = parts.join('');
    const bigUri = 'file:///huge.bartopo';
    await client.open(bigUri, big);
    const small = 'file:///small.bartopo';
    await client.open(small, NEC);
    const t0 = Date.now();
    type P = { uri: string; version?: number; diagnostics: { code?: unknown; message: string }[] };
    const [pb, ps] = await Promise.all([
      client.waitFor<P>('textDocument/publishDiagnostics', (p) => p.uri === bigUri, 90000),
      client.waitFor<P>('textDocument/publishDiagnostics', (p) => p.uri === small, 90000),
    ]);
    console.log(`      (50 MB document answered in ${Date.now() - t0} ms)`);
    assert.deepStrictEqual(pb.diagnostics.map((d) => d.code), ['file-too-large']);
    assert.match(pb.diagnostics[0].message, /This file is 5\d\.\d MB; the editor analyses files up to 16 MB/);
    assert.strictEqual(ps.diagnostics.length, 3);
    // Features on the huge document answer (with nothing) instead of hanging.
    await client.request('textDocument/hover', { textDocument: { uri: bigUri }, position: { line: 2, character: 10 } });
    await client.request('textDocument/documentSymbol', { textDocument: { uri: bigUri } });
    const h = await client.request<unknown>('textDocument/hover', { textDocument: { uri: small }, position: { line: 10, character: 3 } });
    assert.ok(h, 'the small document still gets hovers');
    await client.close(bigUri);
  });

  it('a single 1 MB line is analysed and its diagnostics have valid positions', async () => {
    const uri = 'file:///longline.bartopo';
    const line = 'device x at 00:01.0 { bar 0 mem32 size 4K at 0x1001 ' + 'x'.repeat(1 << 20) + ' }';
    await client.open(uri, line);
    const p = await client.waitForDiagnostics(uri, 1);
    assert.ok(p.diagnostics.length >= 1);
    for (const d of p.diagnostics) {
      assert.strictEqual(d.range.start.line, 0);
      assert.ok(d.range.end.character <= line.length);
    }
  });

  it('a document nested 40,000 blocks deep: completion answers at once, formatting declines (its layout would be quadratic)', async () => {
    const depth = 40_000;
    // Bare blocks inside one device (a top-level keyword would end the blocks before it).
    const text = 'device d at 00:01.0 {\n' + '{\n'.repeat(depth - 1) + '  bar 0 mem32 si\n' + '}\n'.repeat(depth);
    const uri = 'file:///deep.bartopo';
    await client.open(uri, text);
    await client.waitForDiagnostics(uri, 1);
    // Each request waits for the one before: a quadratic walk of the nesting (seconds to minutes) would time the test out.
    const items = await client.request<{ label: string }[] | { items: { label: string }[] }>('textDocument/completion', { textDocument: { uri }, position: { line: depth, character: '  bar 0 mem32 si'.length } });
    // (Nothing fits in a bare block: the answer is an empty list, but an answer, within the client's 15 s.)
    assert.ok(Array.isArray(Array.isArray(items) ? items : items.items));
    assert.deepStrictEqual(await client.request('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }), []);
    const other = 'file:///after-deep.bartopo';
    await client.open(other, NEC);
    assert.strictEqual((await client.waitForDiagnostics(other, 1)).diagnostics.length, 3);
    await client.close(uri);
  });

  it('a document over bartopo.maxFileSizeMB is not formatted (it is not analysed: its braces are not known to match)', async () => {
    const { client: small } = await LspClient.start({ settings: { maxFileSizeMB: 0.01 } });
    try {
      const block = 'device a at 00:01.0 {\n      group 1\n  bar 0 mem32 size 4K at 0x1000\n}\n';
      for (const [name, text] of [
        ['messy', block.repeat(400)],
        ['unbalanced', block.repeat(400) + 'device b at 00:02.0 {\n    group 2\n'],
      ]) {
        const uri = `file:///over-limit-${name}.bartopo`;
        await small.open(uri, text);
        const p = await small.waitForDiagnostics(uri, 1);
        assert.deepStrictEqual(p.diagnostics.map((d) => d.code), ['file-too-large']);
        assert.deepStrictEqual(await small.request('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }), [], name);
      }
    } finally {
      await small.stop();
    }
  });

  it('file-too-large takes its severity from bartopo.severity like every rule (off: nothing shown)', async () => {
    const text = 'device a at 00:01.0 {\n  bar 0 mem32 size 4K at 0x1000\n}\n'.repeat(400);
    for (const [level, want] of [['error', [1]], ['info', [3]], ['off', []]] as const) {
      const { client: c } = await LspClient.start({ settings: { maxFileSizeMB: 0.01, severity: { 'file-too-large': level } } });
      try {
        const uri = `file:///too-large-${level}.bartopo`;
        await c.open(uri, text);
        const p = await c.waitForDiagnostics(uri, 1);
        assert.deepStrictEqual(p.diagnostics.map((d) => d.severity), want, level);
      } finally {
        await c.stop();
      }
    }
  });

  it('outline and folding past bartopo.maxItemsComputed: the first items in document order', async () => {
    // A comment run, a guest, then 30 devices (each a block and three outline items); the limit is 20.
    const devices = Array.from({ length: 30 }, (_, i) => `device d${i} at 00:${i.toString(16).padStart(2, '0')}.0 {\n  bar 0 mem32 size 4K at 0x${(0x10000 + i * 0x1000).toString(16)}\n  bar 1 mem32 size 4K at 0x${(0x80000 + i * 0x1000).toString(16)}\n}\n`);
    const text = '# inventory\n# rack 7\nguest vm {\n  assign d0\n}\n' + devices.join('');
    const { client: c } = await LspClient.start({ settings: { maxItemsComputed: 20 } });
    try {
      const uri = 'file:///many-items.bartopo';
      await c.open(uri, text);
      await c.waitForDiagnostics(uri, 1);
      const syms = await c.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
      const count = (l: DocumentSymbol[]): number => l.reduce((n, x) => n + 1 + count(x.children ?? []), 0);
      assert.ok(count(syms) <= 20, `${count(syms)} items`);
      // vm (with its assign: 2 items), then d0, d1, … (3 items each) as far as the limit goes.
      assert.deepStrictEqual(syms.map((x) => x.name), ['vm', 'd0', 'd1', 'd2', 'd3', 'd4', 'd5']);
      const ranges = await c.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri } });
      assert.strictEqual(ranges.length, 20);
      assert.deepStrictEqual(ranges.slice(0, 3), [{ startLine: 0, endLine: 1, kind: 'comment' }, { startLine: 2, endLine: 3 }, { startLine: 5, endLine: 7 }]);
      assert.deepStrictEqual(ranges[19], { startLine: 5 + 17 * 4, endLine: 7 + 17 * 4 });
      // The same version asked again: the same answer.
      assert.deepStrictEqual(await c.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } }), syms);
    } finally {
      await c.stop();
    }
  });

  it('malformed requests get errors, not a crash', async () => {
    await assert.rejects(client.request('textDocument/hover', null));
    await assert.rejects(client.request('bartopo/noSuchMethod', {}));
    const r = await client.request('textDocument/hover', { textDocument: { uri: 42 }, position: 'nowhere' }).catch(() => 'rejected');
    assert.ok(r === null || r === 'rejected');
    // Parameters that miss what a request needs: an InvalidParams error naming it, and no failure logged.
    const doc = 'file:///malformed.bartopo';
    await client.open(doc, NEC);
    const logged = client.notifications.length;
    for (const [method, params, missing] of [
      ['textDocument/codeAction', { textDocument: { uri: doc }, range: null, context: null }, /range/],
      ['textDocument/codeAction', { textDocument: { uri: doc }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: null }, /context/],
      ['textDocument/hover', {}, /textDocument/],
      ['textDocument/hover', { textDocument: { uri: doc }, position: { line: -1, character: 0 } }, /position/],
      ['textDocument/inlayHint', { textDocument: { uri: doc } }, /range/],
      ['textDocument/documentSymbol', { textDocument: null }, /textDocument/],
      ['textDocument/rename', { textDocument: { uri: doc }, position: { line: 0, character: 0 } }, /newName/],
    ] as const) {
      await assert.rejects(client.request(method, params), (e: { code?: number; message?: string }) => e.code === -32602 && missing.test(e.message ?? ''), `${method} ${JSON.stringify(params)}`);
    }
    // A code action request whose diagnostics list holds junk: the junk is skipped, our own diagnostic still gets its fix.
    const shown = (await client.waitForDiagnostics(doc, 1)).diagnostics;
    const ours = shown.find((d) => d.code === 'subpage-unaligned')!;
    const actions = await client.request<{ title: string }[]>('textDocument/codeAction', { textDocument: { uri: doc }, range: ours.range, context: { diagnostics: [null, 42, { source: 'bartopo', data: { rule: 'subpage-unaligned', version: 1 }, range: null }, ours] } });
    assert.ok(actions.length > 0, 'the real diagnostic still gets its actions');
    const failures = client.notifications.slice(logged).filter((n) => n.method === 'window/logMessage' && /failed/.test((n.params as { message: string }).message));
    assert.deepStrictEqual(failures, []);
    // Still alive and correct.
    const uri = 'file:///after.bartopo';
    await client.open(uri, NEC);
    assert.strictEqual((await client.waitForDiagnostics(uri, 1)).diagnostics.length, 3);
    assert.strictEqual(client.proc.exitCode, null);
  });

  it('a client that disconnects mid-request: the server exits by itself, without a stack trace', async () => {
    const { client: c } = await LspClient.start();
    await c.open('file:///x.bartopo', NEC);
    void c.request('textDocument/hover', { textDocument: { uri: 'file:///x.bartopo' }, position: { line: 10, character: 3 } }).catch(() => undefined);
    c.proc.stdin!.destroy();
    const code = await Promise.race([c.exited, new Promise((r) => setTimeout(() => r('still running'), 20000))]);
    assert.notStrictEqual(code, 'still running');
    assert.doesNotMatch(c.stderr, /TypeError|ReferenceError|Unhandled|at .*\.js:\d+:\d+/);
  });
});
