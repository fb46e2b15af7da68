// Protocol tests: the real server over stdio — initialize, diagnostics as the
// document is opened and edited (push and pull), settings changes, limits,
// the status notification, and documents that must not crash the server.

import * as assert from 'assert';
import type { CodeAction, Diagnostic, DocumentDiagnosticReport, InitializeResult, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { LspClient, positionOf, PUSH_CAPABILITIES } from './lsp-client';
import { bigTopology, CLEAN, GARBAGE, MISMATCH, NEC } from './lsp-docs';
import { analyze } from '../server/src/engine/analyze';
import { LineIndex } from '../server/src/engine/lineIndex';
import { toLspDiagnostics } from '../server/src/lsp/convert';

function rules(p: { diagnostics: Diagnostic[] } | Diagnostic[]): string[] {
  const list = Array.isArray(p) ? p : p.diagnostics;
  return list.map((d) => String(d.code)).sort();
}

describe('lsp: initialize and diagnostics (push)', function () {
  this.timeout(30000);
  let client: LspClient;
  let init: InitializeResult;

  before(async () => {
    ({ client, init } = await LspClient.start());
  });
  after(async () => {
    await client?.stop();
  });

  it('announces its capabilities', () => {
    const c = init.capabilities;
    assert.deepStrictEqual(c.textDocumentSync, { openClose: true, change: 2 }, 'incremental sync');
    assert.strictEqual(c.diagnosticProvider, undefined, 'no pull diagnostics for a client without them');
    assert.ok(c.hoverProvider && c.inlayHintProvider && c.documentSymbolProvider && c.foldingRangeProvider);
    assert.ok(c.definitionProvider && c.referencesProvider && c.documentFormattingProvider && c.codeLensProvider);
    assert.deepStrictEqual(c.renameProvider, { prepareProvider: true });
    const ca = c.codeActionProvider as { codeActionKinds: string[] };
    assert.deepStrictEqual(ca.codeActionKinds, ['quickfix', 'refactor.rewrite.bartopo', 'source.fixAll.bartopo']);
    assert.ok(c.semanticTokensProvider?.legend.tokenTypes.includes('class'));
    assert.strictEqual(init.serverInfo?.name, 'bartopo-language-server');
  });

  it('asks for the bartopo settings', async () => {
    // The server asks once it is initialized; wait for its first diagnostics to be sure it has.
    await client.open('file:///init.bartopo', CLEAN);
    await client.waitForDiagnostics('file:///init.bartopo', 1);
    assert.ok(client.configRequests.length >= 1);
  });

  it('publishes diagnostics on open, with code, source, link, related information and data', async () => {
    const uri = 'file:///nec.bartopo';
    await client.open(uri, NEC);
    const p = await client.waitForDiagnostics(uri, 1);
    assert.deepStrictEqual(rules(p), ['guest-page-conflict', 'msix-page-shared', 'subpage-unaligned']);
    for (const d of p.diagnostics) {
      assert.strictEqual(d.source, 'bartopo');
      assert.strictEqual(d.codeDescription?.href, `https://github.com/bartopo/bartopo/blob/main/docs/rules.md#${d.code}`);
      const data = d.data as { rule: string; version: number; subject?: string; target?: unknown };
      assert.strictEqual(data.rule, d.code);
      assert.strictEqual(data.version, 1);
      assert.ok(data.subject);
      assert.ok(data.target);
    }
    const unaligned = p.diagnostics.find((d) => d.code === 'subpage-unaligned')!;
    assert.strictEqual(unaligned.severity, 2);
    assert.deepStrictEqual(unaligned.range.start, positionOf(NEC, '0x3fe080021000'));
    const msix = p.diagnostics.find((d) => d.code === 'msix-page-shared')!;
    assert.strictEqual(msix.relatedInformation?.length, 1, 'points at the MSI-X table');
    assert.strictEqual(msix.relatedInformation![0].location.uri, uri);
    assert.strictEqual(msix.relatedInformation![0].location.range.start.line, positionOf(NEC, 'msix entries').line);
  });

  it('updates diagnostics after an incremental edit', async () => {
    const uri = 'file:///edit.bartopo';
    await client.open(uri, NEC);
    await client.waitForDiagnostics(uri, 1);
    // Move ohci1 to a page of its own: subpage-unaligned goes away.
    const at = positionOf(NEC, '0x3fe080021000');
    const v = await client.change(uri, [{ range: { start: at, end: { line: at.line, character: at.character + 14 } }, text: '0x3fe080040000' }]);
    const p = await client.waitForDiagnostics(uri, v);
    assert.ok(!rules(p).includes('subpage-unaligned'), rules(p).join());
    // Break a line: a syntax error appears, where it is.
    const at2 = positionOf(client.text(uri), 'allocate listed');
    const v2 = await client.change(uri, [{ range: { start: at2, end: { line: at2.line, character: at2.character + 15 } }, text: 'allocate sideways' }]);
    const p2 = await client.waitForDiagnostics(uri, v2);
    const syn = p2.diagnostics.find((d) => d.code === 'syntax');
    assert.ok(syn, rules(p2).join());
    assert.strictEqual(syn!.range.start.line, at2.line);
    assert.strictEqual(syn!.severity, 1);
  });

  it('after edits analysed incrementally, publishes what a fresh analysis of the same text gives', async () => {
    // The server re-parses only the top-level statements an edit touches and reuses the rest of the
    // previous version's parse and device models; every publish must still equal a from-scratch analysis.
    const uri = 'file:///incremental.bartopo';
    const start = bigTopology(40) + '\n' + MISMATCH;
    await client.open(uri, start);
    await client.waitForDiagnostics(uri, 1);
    const at = (needle: string, delta = 0) => positionOf(client.text(uri), needle, delta);
    const insert = (p: { line: number; character: number }, text: string) => [{ range: { start: p, end: p }, text }];
    const replace = (needle: string, text: string) => {
      const p = at(needle);
      return [{ range: { start: p, end: { line: p.line, character: p.character + needle.length } }, text }];
    };
    const steps = [
      replace('size 4K at 0x3fe080020000', 'size 4K at 0x3fe080021000'), // a host address inside one device
      insert(at('device d7 at'), 'device extra at 0001:0f:00.0 {\n  group 99\n  bar 0 mem32 size 4K at 0x3fe0_8002_2000\n}\n\n'), // a new block
      replace('device d12 at 0001:00:0c.0 {', 'device d12 at 0001:00:0c.0'), // a `{` removed: recovery runs to the next block
      replace('device d12 at 0001:00:0c.0', 'device d12 at 0001:00:0c.0 {'), // and put back
      insert(at('device d20 at'), '# a comment between two blocks\n'),
      replace('device d30 at', 'device d30x at'), // a device renamed: the guest that assigns it now names an unknown device
      insert(at('  assign d5', '  assign d5'.length), '\n  assign d6'), // a guest edit: d6 assigned twice
    ];
    let incremental = 0;
    for (const changes of steps) {
      const v = await client.change(uri, changes);
      const published = await client.waitForCurrentDiagnostics(uri, v);
      const status = await client.waitFor<{ uri: string; version: number; incremental: boolean }>('bartopo/status', (p) => p.uri === uri && p.version === v);
      if (status.incremental) incremental++;
      const text = client.text(uri);
      const fresh = toLspDiagnostics(new LineIndex(text), uri, v, analyze(text).diagnostics, 1000).diagnostics;
      const view = (ds: Diagnostic[]) => ds.map((d) => `${d.code} ${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character} ${d.message}`);
      assert.deepStrictEqual(view(published.diagnostics), view(fresh), `after ${JSON.stringify(changes).slice(0, 120)}`);
    }
    assert.ok(incremental >= steps.length - 2, `only ${incremental} of ${steps.length} edits were analysed incrementally`);
  });

  it('publishes only the latest of a burst of keystrokes, never an older version after a newer one', async () => {
    const uri = 'file:///burst.bartopo';
    await client.open(uri, CLEAN);
    await client.waitForDiagnostics(uri, 1);
    let v = 1;
    const word = 'guest g2 {';
    // Type a new line one character at a time, without waiting.
    const end = { line: CLEAN.split('\n').length - 1, character: 0 };
    for (let i = 0; i < word.length; i++) {
      v = await client.change(uri, [{ range: { start: { line: end.line, character: i }, end: { line: end.line, character: i } }, text: word[i] }]);
    }
    const last = await client.waitForDiagnostics(uri, v);
    assert.ok(rules(last).includes('syntax'), 'the unclosed block is reported');
    const versions = client.publishes(uri).map((p) => p.version!);
    for (let i = 1; i < versions.length; i++) assert.ok(versions[i] > versions[i - 1], `versions go forward: ${versions.join(',')}`);
    assert.ok(versions.length < word.length, `debounced: ${versions.length} publishes for ${word.length} keystrokes`);
  });

  it('does not send diagnostics again when an edit leaves them as they were, and still fixes them', async () => {
    const uri = 'file:///unchanged.bartopo';
    await client.open(uri, NEC);
    const p1 = await client.waitForDiagnostics(uri, 1);
    const unaligned = p1.diagnostics.find((d) => d.code === 'subpage-unaligned')!;
    // A keystroke in a label and a comment added at the end: no diagnostic moves or changes.
    const label = positionOf(NEC, 'OHCI"', 4);
    const v2 = await client.change(uri, [{ range: { start: label, end: label }, text: 'x' }]);
    const st2 = await client.waitFor<{ uri: string; version: number; diagnosticsUnchanged: boolean }>('bartopo/status', (x) => x.uri === uri && x.version === v2);
    assert.strictEqual(st2.diagnosticsUnchanged, true);
    const end = { line: NEC.split('\n').length - 1, character: 0 };
    const v3 = await client.change(uri, [{ range: { start: end, end }, text: '# reviewed\n' }]);
    const st3 = await client.waitFor<{ uri: string; version: number; diagnosticsUnchanged: boolean }>('bartopo/status', (x) => x.uri === uri && x.version === v3);
    assert.strictEqual(st3.diagnosticsUnchanged, true);
    // The client still holds version 1's diagnostics (data.version 1): their quick fixes apply to the current text.
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: unaligned.range, context: { diagnostics: [unaligned], only: ['quickfix'] } });
    const align = actions.find((a) => a.title.startsWith('Align ohci1.bar0 to the 64K page'));
    assert.ok(align, `offered: ${actions.map((a) => a.title).join('; ')}`);
    const v4 = await client.applyEdits(uri, LspClient.editsOf(align.edit, uri));
    const p4 = await client.waitForDiagnostics(uri, v4);
    assert.ok(!rules(p4).includes('subpage-unaligned'), rules(p4).join(', '));
    assert.ok(client.text(uri).includes('NEC uPD720101 OHCIx"') && client.text(uri).endsWith('# reviewed\n'), 'the fix kept the other edits');
    // A change that does alter a diagnostic is published: versions 2 and 3 never were.
    assert.deepStrictEqual(client.publishes(uri).map((p) => p.version), [1, v4]);
  });

  it('says "unchanged" only for what was published: a version analysed for a hover and never published does not count', async () => {
    // With a long debounce, a hover has the edited version analysed before its diagnostics are due; the next edit (in
    // a comment) has that version's diagnostics. They differ from the ones published, so they are sent, and the status
    // must not tell the client that what it holds stands.
    const { client: slow } = await LspClient.start({ capabilities: PUSH_CAPABILITIES, settings: { debounceMs: 1000 } });
    try {
      const uri = 'file:///hover-before-publish.bartopo';
      const text = 'device a at 01:00.0 {\n  bar 0 mem32 size 4K at 0x1000\n}\n# c\n';
      await slow.open(uri, text);
      assert.deepStrictEqual(rules(await slow.waitForDiagnostics(uri, 1)), []);
      const digit = positionOf(text, '0x1000', 5);
      const v2 = await slow.change(uri, [{ range: { start: digit, end: { line: digit.line, character: digit.character + 1 } }, text: '1' }]);
      await slow.request('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'bar 0') });
      const st2 = await slow.waitFor<{ version: number; errors: number; diagnosticsUnchanged: boolean }>('bartopo/status', (x) => x.version === v2);
      assert.deepStrictEqual([st2.errors, st2.diagnosticsUnchanged], [1, false]);
      const comment = positionOf(text, '# c', 3);
      const v3 = await slow.change(uri, [{ range: { start: comment, end: comment }, text: 'x' }]);
      const st3 = await slow.waitFor<{ version: number; diagnosticsUnchanged: boolean }>('bartopo/status', (x) => x.version === v3);
      assert.strictEqual(st3.diagnosticsUnchanged, false, 'version 2 was never published: the client still shows version 1');
      assert.deepStrictEqual(rules(await slow.waitForCurrentDiagnostics(uri, v3)), ['bar-alignment']);
      assert.deepStrictEqual(slow.publishes(uri).map((p) => p.version), [1, v3]);
    } finally {
      await slow.stop();
    }
  });

  it('clears the diagnostics of a closed document', async () => {
    const uri = 'file:///closed.bartopo';
    await client.open(uri, NEC);
    await client.waitForDiagnostics(uri, 1);
    await client.close(uri);
    const p = await client.waitFor<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (x) => x.uri === uri && x.diagnostics.length === 0);
    assert.strictEqual(p.diagnostics.length, 0);
  });

  it('sends bartopo/status with the page size and counts', async () => {
    const uri = 'file:///status.bartopo';
    await client.open(uri, MISMATCH);
    const st = await client.waitFor<{ uri: string; pageSize: string; pageSizeSource: string; errors: number; warnings: number; version: number }>('bartopo/status', (x) => x.uri === uri);
    assert.strictEqual(st.pageSize, '64K');
    assert.strictEqual(st.pageSizeSource, 'host');
    assert.strictEqual(st.errors, 1);
    assert.strictEqual(st.warnings, 2);
    assert.strictEqual(st.version, 1);
  });

  it('survives garbage documents and keeps answering', async () => {
    for (let i = 0; i < GARBAGE.length; i++) {
      const uri = `file:///garbage${i}.bartopo`;
      await client.open(uri, GARBAGE[i]);
      const p = await client.waitForDiagnostics(uri, 1);
      assert.ok(Array.isArray(p.diagnostics));
      const pos = { line: 0, character: 3 };
      await client.request('textDocument/hover', { textDocument: { uri }, position: pos });
      await client.request('textDocument/completion', { textDocument: { uri }, position: pos });
      await client.request('textDocument/documentSymbol', { textDocument: { uri } });
      await client.request('textDocument/foldingRange', { textDocument: { uri } });
      await client.request('textDocument/semanticTokens/full', { textDocument: { uri } });
      await client.request('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
      await client.request('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 9999, character: 0 } } });
      await client.request('textDocument/codeLens', { textDocument: { uri } });
      await client.request('textDocument/codeAction', { textDocument: { uri }, range: { start: pos, end: pos }, context: { diagnostics: p.diagnostics, only: ['quickfix', 'source.fixAll.bartopo'] } });
      // Edits that cut the garbage in odd places.
      const v = await client.change(uri, [{ range: { start: { line: 0, character: 1 }, end: { line: 0, character: 2 } }, text: '{\n}"' }]);
      await client.waitForDiagnostics(uri, v);
      await client.close(uri);
    }
    // Requests for unknown documents and out-of-range positions.
    assert.strictEqual(await client.request('textDocument/hover', { textDocument: { uri: 'file:///nope.bartopo' }, position: { line: 0, character: 0 } }), null);
    const uri = 'file:///alive.bartopo';
    await client.open(uri, NEC);
    await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 9999, character: 9999 } });
    const p = await client.waitForDiagnostics(uri, 1);
    assert.strictEqual(p.diagnostics.length, 3);
    assert.strictEqual(client.proc.exitCode, null, 'still running');
  });
});

describe('lsp: settings', function () {
  this.timeout(30000);
  let client: LspClient;

  before(async () => {
    ({ client } = await LspClient.start({ settings: { pageSize: '4K' } }));
  });
  after(async () => {
    await client?.stop();
  });

  it('applies page-size, severity and msix-mappable changes live', async () => {
    const uri = 'file:///settings.bartopo';
    await client.open(uri, NEC);
    // With 4K pages (the setting overrides the file's 64K) ohci1 is page-aligned: no subpage-unaligned.
    const p1 = await client.waitForDiagnostics(uri, 1);
    assert.ok(!rules(p1).includes('subpage-unaligned'), rules(p1).join());
    const st = await client.waitFor<{ uri: string; pageSize: string; pageSizeSource: string }>('bartopo/status', (x) => x.uri === uri);
    assert.deepStrictEqual([st.pageSize, st.pageSizeSource], ['4K', 'override']);

    // Back to the file's page size, and turn one rule into an error and another off.
    const before = client.publishes(uri).length;
    client.settings = { pageSize: 'file', severity: { 'subpage-unaligned': 'error', 'msix-page-shared': 'off' } };
    await client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    const p2 = await client.waitFor<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (x) => x.uri === uri && client.publishes(uri).indexOf(x) >= before);
    assert.deepStrictEqual(rules(p2), ['guest-page-conflict', 'subpage-unaligned']);
    assert.strictEqual(p2.diagnostics.find((d) => d.code === 'subpage-unaligned')!.severity, 1);

    // msix-mappable default no: the relocate fix is no longer offered (it needs a mappable table).
    client.settings = { msixMappable: false };
    const n = client.publishes(uri).length;
    await client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    const p3 = await client.waitFor<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (x) => x.uri === uri && client.publishes(uri).indexOf(x) >= n);
    const msix = p3.diagnostics.find((d) => d.code === 'msix-page-shared')!;
    assert.ok(String(msix.message).includes('msix-mappable no'), String(msix.message));
    const actions = await client.request<{ title: string }[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: msix.range,
      context: { diagnostics: [msix], only: ['quickfix'] },
    });
    assert.ok(!actions.some((a) => a.title.startsWith('Relocate')), JSON.stringify(actions.map((a) => a.title)));
  });

  it('caps diagnostics at bartopo.maxDiagnostics with a final note', async () => {
    client.settings = { maxDiagnostics: 2 };
    const uri = 'file:///many.bartopo';
    // Each line is an unknown statement: one syntax error per line.
    const text = Array.from({ length: 10 }, (_, i) => `bogus${i}`).join('\n') + '\n';
    await client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await client.waitFor<{ uri: string }>('bartopo/status', () => client.configRequests.length >= 4);
    await client.open(uri, text);
    const p = await client.waitForDiagnostics(uri, 1);
    assert.strictEqual(p.diagnostics.length, 3);
    const note = p.diagnostics[2];
    assert.strictEqual(note.code, 'too-many-diagnostics');
    assert.strictEqual(note.severity, 3);
    assert.ok(String(note.message).startsWith('8 more diagnostics'), String(note.message));
    await client.waitFor<{ uri: string; what: string }>('bartopo/resultLimitReached', (x) => x.uri === uri && x.what === 'diagnostics');
    // A new cap: published again with it, without analysing again (no new status).
    const statuses = (): number => client.notifications.filter((n) => n.method === 'bartopo/status' && (n.params as { uri: string }).uri === uri).length;
    const analysed = statuses();
    const published = client.publishes(uri).length;
    client.settings = { maxDiagnostics: 5 };
    await client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    const wider = await client.waitFor<{ uri: string; diagnostics: unknown[] }>('textDocument/publishDiagnostics', (x) => x.uri === uri && x.diagnostics.length === 6);
    assert.ok(String((wider.diagnostics[5] as { message: string }).message).startsWith('5 more diagnostics'));
    assert.strictEqual(statuses(), analysed, 'the cap changes no analysis');
    // A setting the diagnostics do not depend on: nothing analysed, nothing published.
    client.settings = { maxDiagnostics: 5, inlayHints: { endAddress: false } };
    const asked = client.configRequests.length;
    await client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    for (let i = 0; i < 100 && client.configRequests.length === asked; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(client.configRequests.length > asked, 'the server read the new settings');
    await new Promise((r) => setTimeout(r, 300));
    assert.strictEqual(statuses(), analysed);
    assert.strictEqual(client.publishes(uri).length, published + 1);
  });
});

describe('lsp: settings without workspace/configuration', function () {
  this.timeout(30000);
  it('takes initializationOptions and didChangeConfiguration settings', async () => {
    const caps = { ...PUSH_CAPABILITIES, workspace: { ...PUSH_CAPABILITIES.workspace, configuration: false } };
    const { client } = await LspClient.start({ capabilities: caps, initializationOptions: { settings: { pageSize: '4K' } } });
    try {
      const uri = 'file:///initopts.bartopo';
      await client.open(uri, NEC);
      const p1 = await client.waitForDiagnostics(uri, 1);
      assert.ok(!rules(p1).includes('subpage-unaligned'));
      assert.strictEqual(client.configRequests.length, 0);
      const n = client.publishes(uri).length;
      await client.conn.sendNotification('workspace/didChangeConfiguration', { settings: { bartopo: { pageSize: '64K' } } });
      const p2 = await client.waitFor<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (x) => x.uri === uri && client.publishes(uri).indexOf(x) >= n);
      assert.ok(rules(p2).includes('subpage-unaligned'));
    } finally {
      await client.stop();
    }
  });
});

describe('lsp: pull diagnostics', function () {
  this.timeout(30000);
  it('answers textDocument/diagnostic and pushes nothing', async () => {
    const caps = {
      workspace: { ...PUSH_CAPABILITIES.workspace, diagnostics: { refreshSupport: true } },
      textDocument: { ...PUSH_CAPABILITIES.textDocument, diagnostic: { dynamicRegistration: false, relatedDocumentSupport: false } },
    };
    const { client, init } = await LspClient.start({ capabilities: caps });
    try {
      assert.deepStrictEqual(init.capabilities.diagnosticProvider, { identifier: 'bartopo', interFileDependencies: false, workspaceDiagnostics: false });
      const uri = 'file:///pull.bartopo';
      await client.open(uri, NEC);
      const r1 = await client.request<DocumentDiagnosticReport & { resultId: string; items: Diagnostic[] }>('textDocument/diagnostic', { textDocument: { uri } });
      assert.strictEqual(r1.kind, 'full');
      assert.deepStrictEqual(rules(r1.items), ['guest-page-conflict', 'msix-page-shared', 'subpage-unaligned']);
      const r2 = await client.request<{ kind: string; resultId: string }>('textDocument/diagnostic', { textDocument: { uri }, previousResultId: r1.resultId });
      assert.deepStrictEqual(r2, { kind: 'unchanged', resultId: r1.resultId });
      // An edit that leaves every diagnostic as it was (a comment at the end): still `unchanged`, nothing resent.
      const end = { line: NEC.split('\n').length - 1, character: 0 };
      await client.change(uri, [{ range: { start: end, end }, text: '# reviewed\n' }]);
      const r2b = await client.request<{ kind: string; resultId: string }>('textDocument/diagnostic', { textDocument: { uri }, previousResultId: r1.resultId });
      assert.deepStrictEqual(r2b, { kind: 'unchanged', resultId: r1.resultId });
      const at = positionOf(NEC, '0x3fe080021000');
      await client.change(uri, [{ range: { start: at, end: { line: at.line, character: at.character + 14 } }, text: '0x3fe080040000' }]);
      const r3 = await client.request<{ kind: string; items: Diagnostic[]; resultId: string }>('textDocument/diagnostic', { textDocument: { uri }, previousResultId: r1.resultId });
      assert.strictEqual(r3.kind, 'full');
      assert.ok(!rules(r3.items).includes('subpage-unaligned'));
      assert.notStrictEqual(r3.resultId, r1.resultId);
      assert.strictEqual(client.publishes(uri).length, 0, 'nothing pushed to a pull client');
      // Closed and opened again with other text: versions start at 1 again, the result id must not repeat.
      await client.close(uri);
      await client.open(uri, NEC.replace('0x3fe080021000', '0x3fe080040000'));
      const r4 = await client.request<{ kind: string; items: Diagnostic[]; resultId: string }>('textDocument/diagnostic', { textDocument: { uri }, previousResultId: r1.resultId });
      assert.strictEqual(r4.kind, 'full', 'a reopened document is never `unchanged` against a result of its earlier opening');
      assert.ok(!rules(r4.items).includes('subpage-unaligned'));
      // Settings change: the server asks the client to pull again.
      const refreshed = new Promise<void>((resolve) => client.conn.onRequest('workspace/diagnostic/refresh', () => (resolve(), null)));
      client.settings = { pageSize: '4K' };
      await client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
      await refreshed;
    } finally {
      await client.stop();
    }
  });
});

describe('lsp: a client that reuses version numbers', function () {
  this.timeout(30000);
  // LSP asks for increasing versions, but a client that sends the same number (or a lower one) again still
  // gets the diagnostics of the text it sent: versions are the client's labels, not the server's identity of a text.
  const CLEAN_DOC = 'device a at 00:01.0 {\n  group 1\n  bar 0 mem32 size 4K at 0x1000\n}\n';
  const send = (client: LspClient, uri: string, version: number, from: string, to: string, text: string): Promise<void> => {
    const at = positionOf(text, from);
    return client.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range: { start: at, end: { line: at.line, character: at.character + from.length } }, text: to }] });
  };
  const lastRules = (client: LspClient, uri: string): string[] => {
    const all = client.publishes(uri);
    return all.length ? rules(all[all.length - 1].diagnostics) : [];
  };
  const settle = async (client: LspClient, uri: string, want: string[]): Promise<void> => {
    for (let i = 0; i < 100 && JSON.stringify(lastRules(client, uri)) !== JSON.stringify(want); i++) await new Promise((r) => setTimeout(r, 50));
  };

  it('push: an edit sent with the version of the open, then edits numbered backwards, are each published', async () => {
    const { client } = await LspClient.start();
    try {
      const uri = 'file:///reused.bartopo';
      await client.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'bartopo', version: 1, text: CLEAN_DOC } });
      await client.waitForDiagnostics(uri, 1);
      assert.deepStrictEqual(lastRules(client, uri), []);
      // Version 1 again: 4K becomes 3K, not a power of two.
      await send(client, uri, 1, 'size 4K', 'size 3K', CLEAN_DOC);
      await settle(client, uri, ['bar-size']);
      assert.deepStrictEqual(lastRules(client, uri), ['bar-size']);
      // Back to 4K at version 5, then misaligned at version 2, then back to clean at version 2 again.
      const t3k = CLEAN_DOC.replace('size 4K', 'size 3K');
      await send(client, uri, 5, 'size 3K', 'size 4K', t3k);
      await settle(client, uri, []);
      assert.deepStrictEqual(lastRules(client, uri), []);
      await send(client, uri, 2, '0x1000', '0x1800', CLEAN_DOC);
      await settle(client, uri, ['bar-alignment']);
      assert.deepStrictEqual(lastRules(client, uri), ['bar-alignment']);
      await send(client, uri, 2, '0x1800', '0x2000', CLEAN_DOC.replace('0x1000', '0x1800'));
      await settle(client, uri, []);
      assert.deepStrictEqual(lastRules(client, uri), []);
    } finally {
      await client.stop();
    }
  });

  it('pull: a result id is never `unchanged` for a text with other diagnostics under a reused version', async () => {
    const caps = {
      workspace: { ...PUSH_CAPABILITIES.workspace, diagnostics: { refreshSupport: true } },
      textDocument: { ...PUSH_CAPABILITIES.textDocument, diagnostic: { dynamicRegistration: false, relatedDocumentSupport: false } },
    };
    const { client } = await LspClient.start({ capabilities: caps });
    try {
      const uri = 'file:///reused-pull.bartopo';
      await client.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'bartopo', version: 1, text: CLEAN_DOC } });
      const r1 = await client.request<{ kind: string; resultId: string; items: Diagnostic[] }>('textDocument/diagnostic', { textDocument: { uri } });
      assert.deepStrictEqual(rules(r1.items), []);
      await send(client, uri, 1, 'size 4K', 'size 3K', CLEAN_DOC);
      const r2 = await client.request<{ kind: string; resultId: string; items: Diagnostic[] }>('textDocument/diagnostic', { textDocument: { uri }, previousResultId: r1.resultId });
      assert.strictEqual(r2.kind, 'full');
      assert.deepStrictEqual(rules(r2.items), ['bar-size']);
    } finally {
      await client.stop();
    }
  });
});

describe('lsp: a client that stops reading', function () {
  this.timeout(30000);
  it('keeps running, quietly, when its output is closed and edits keep coming; ends when its input ends', async () => {
    const { client } = await LspClient.start();
    const uri = 'file:///deaf.bartopo';
    // The client closes the server's stdout (it stops reading) but keeps writing to its stdin, raw.
    client.proc.stdout!.destroy();
    const frame = (o: object): Buffer => {
      const b = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...o }));
      return Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`), b]);
    };
    const write = (o: object): boolean => client.proc.stdin!.write(frame(o));
    write({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'bartopo', version: 1, text: 'device a at 00:01.0 {\n  bar 0 mem32 size 3K\n}\n' } } });
    for (let v = 2; v < 40; v++) {
      write({ method: 'textDocument/didChange', params: { textDocument: { uri, version: v }, contentChanges: [{ range: { start: { line: 1, character: 21 }, end: { line: 1, character: 22 } }, text: v % 2 ? 'K' : 'M' }] } });
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.strictEqual(client.proc.exitCode, null, `the server died: ${client.stderr.slice(-2000)}`);
    assert.ok(!/uncaught exception/.test(client.stderr), client.stderr.slice(-2000));
    client.proc.stdin!.end();
    const code = await Promise.race([client.exited, new Promise((r) => setTimeout(() => r('still running'), 10000))]);
    assert.notStrictEqual(code, 'still running', 'the server ends when its input ends');
  });
});

describe('lsp: a realistic large file', function () {
  this.timeout(60000);
  it('answers each keystroke with fresh diagnostics quickly (hundreds of devices)', async () => {
    const { client } = await LspClient.start();
    try {
      const uri = 'file:///big.bartopo';
      const text = bigTopology(400);
      await client.open(uri, text);
      const first = await client.waitForDiagnostics(uri, 1);
      assert.ok(first.diagnostics.length > 100);
      // Warm up, then time edit → diagnostics for a few single-character edits.
      const line = positionOf(text, 'device d200 at').line + 2; // `  name "device 200"`
      const times: number[] = [];
      for (let i = 0; i < 12; i++) {
        const t0 = performance.now();
        const v = await client.change(uri, [{ range: { start: { line, character: 9 }, end: { line, character: 9 } }, text: 'x' }]);
        await client.waitForCurrentDiagnostics(uri, v);
        times.push(performance.now() - t0);
      }
      const steady = times.slice(2).sort((a, b) => a - b);
      const median = steady[Math.floor(steady.length / 2)];
      console.log(`      keystroke → diagnostics on ${text.length} chars / 400 devices: median ${median.toFixed(0)} ms, max ${steady[steady.length - 1].toFixed(0)} ms`);
      // Generous bound for slow CI machines; typical is well under 100 ms.
      assert.ok(median < 1000, `median ${median} ms`);
    } finally {
      await client.stop();
    }
  });
});
