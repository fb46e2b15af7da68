// Protocol tests for code actions: every quick fix of spec section 5 comes as
// a workspace edit whose application removes its diagnostic, keeps every
// unrelated line and comment, and brings no new error; plus the reorder
// refactor on a guest block and source.fixAll.bartopo.

import * as assert from 'assert';
import type { CodeAction, Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { LspClient, positionOf, PUSH_CAPABILITIES } from './lsp-client';
import { MISMATCH, NEC } from './lsp-docs';

describe('lsp: code actions', function () {
  this.timeout(30000);
  let client: LspClient;
  let n = 0;

  before(async () => {
    ({ client } = await LspClient.start());
  });
  after(async () => {
    await client?.stop();
  });

  async function openDoc(text: string): Promise<{ uri: string; diags: Diagnostic[] }> {
    const uri = `file:///actions${n++}.bartopo`;
    await client.open(uri, text);
    const p = await client.waitForDiagnostics(uri, 1);
    return { uri, diags: p.diagnostics };
  }

  function actionsFor(uri: string, d: Diagnostic, only?: string[]): Promise<CodeAction[]> {
    return client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d], only } });
  }

  /** Applies the action's edit to the document and returns the diagnostics of the new version. */
  async function apply(uri: string, a: CodeAction): Promise<PublishDiagnosticsParams> {
    const edits = LspClient.editsOf(a.edit, uri);
    assert.ok(edits.length > 0, `${a.title} has edits`);
    const dc = a.edit!.documentChanges![0] as { textDocument: { version: number } };
    assert.strictEqual(dc.textDocument.version, client.version(uri), 'the edit is for the current version');
    const v = await client.applyEdits(uri, edits);
    return client.waitForCurrentDiagnostics(uri, v);
  }

  /** Every line of `before` except those in `changed` (by content) is still in `after`, in order. */
  function assertKeepsOtherLines(before: string, after: string, changedLines: number): void {
    const a = before.split('\n');
    const b = after.split('\n');
    let j = 0;
    let missing = 0;
    for (const line of a) {
      const k = b.indexOf(line, j);
      if (k < 0) missing++;
      else j = k + 1;
    }
    assert.ok(missing <= changedLines, `${missing} original lines changed or lost (allowed ${changedLines}):\n${after}`);
    for (const c of before.match(/#.*$/gm) ?? []) assert.ok(after.includes(c), `comment kept: ${c}`);
  }

  const rules = (p: PublishDiagnosticsParams): string[] => p.diagnostics.map((d) => String(d.code));
  const errors = (p: PublishDiagnosticsParams): Diagnostic[] => p.diagnostics.filter((d) => d.severity === 1);

  it('subpage-unaligned: Align host BAR to page size', async () => {
    const { uri, diags } = await openDoc(NEC);
    const d = diags.find((x) => x.code === 'subpage-unaligned')!;
    const actions = await actionsFor(uri, d);
    const align = actions.find((a) => a.title.startsWith('Align ohci1.bar0 to the 64K page'));
    assert.ok(align, JSON.stringify(actions.map((a) => a.title)));
    assert.strictEqual(align!.kind, 'quickfix');
    assert.strictEqual(align!.isPreferred, true);
    assert.deepStrictEqual(align!.diagnostics, [d]);
    const after = await apply(uri, align!);
    assert.ok(!rules(after).includes('subpage-unaligned'), rules(after).join());
    assert.strictEqual(errors(after).length, 0);
    assertKeepsOtherLines(NEC, client.text(uri), 1);
    assert.ok(client.text(uri).includes('# second function'));
  });

  it('msix-page-shared: Relocate the MSI-X table', async () => {
    const { uri, diags } = await openDoc(NEC);
    const d = diags.find((x) => x.code === 'msix-page-shared')!;
    const actions = await actionsFor(uri, d, ['quickfix']);
    const reloc = actions.find((a) => a.title.startsWith('Relocate the MSI-X table'));
    assert.ok(reloc, JSON.stringify(actions.map((a) => a.title)));
    assert.strictEqual(reloc!.isPreferred, true);
    const after = await apply(uri, reloc!);
    assert.ok(!rules(after).includes('msix-page-shared'), rules(after).join());
    assert.ok(/^ {2}msix relocate$/m.test(client.text(uri)), client.text(uri));
    assertKeepsOtherLines(NEC, client.text(uri), 0);
  });

  it('guest-page-conflict: place, reorder and page-match fixes each remove it', async () => {
    const { uri, diags } = await openDoc(NEC);
    const d = diags.find((x) => x.code === 'guest-page-conflict')!;
    const actions = await actionsFor(uri, d);
    const titles = actions.map((a) => a.title);
    assert.ok(titles.some((t) => t.startsWith('Place ohci0.bar0 at 0x200080010000')), titles.join('\n'));
    assert.ok(titles.includes('Reorder assigned BARs in guest vm0 for page-matched offsets'), titles.join('\n'));
    assert.ok(titles.some((t) => t.startsWith('Use `allocate page-match`')), titles.join('\n'));
    assert.strictEqual(actions.filter((a) => a.isPreferred).length, 1, 'one preferred fix');
    for (const a of actions) {
      const doc = await openDoc(NEC);
      // The same fix, computed for this document.
      const d2 = doc.diags.find((x) => x.code === 'guest-page-conflict')!;
      const same = (await actionsFor(doc.uri, d2)).find((x) => x.title === a.title)!;
      const after = await apply(doc.uri, same);
      assert.ok(!after.diagnostics.some((x) => x.code === 'guest-page-conflict' && (x.data as { subject: string }).subject === 'ohci0.bar0'), `${a.title}: ${rules(after).join()}`);
      assert.strictEqual(errors(after).length, 0, `${a.title} brings no error`);
      for (const c of NEC.match(/#.*$/gm) ?? []) assert.ok(client.text(doc.uri).includes(c));
    }
  });

  it('guest-offset-mismatch: Place the BAR at an address with the host offset', async () => {
    const { uri, diags } = await openDoc(MISMATCH);
    const d = diags.find((x) => x.code === 'guest-offset-mismatch')!;
    assert.ok(d, diags.map((x) => x.code).join());
    const actions = await actionsFor(uri, d);
    const place = actions.find((a) => a.title.startsWith('Place regs.bar0 at 0x100000000'));
    assert.ok(place, JSON.stringify(actions.map((a) => a.title)));
    const after = await apply(uri, place!);
    assert.ok(!rules(after).includes('guest-offset-mismatch'), rules(after).join());
    assertKeepsOtherLines(MISMATCH, client.text(uri), 1);
  });

  it('bar-alignment: Align … down / up', async () => {
    const { uri, diags } = await openDoc(MISMATCH);
    const d = diags.find((x) => x.code === 'bar-alignment')!;
    const actions = await actionsFor(uri, d);
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Align gpu.bar0 down to 0x80020000 (a multiple of 16K)'), titles.join('\n'));
    assert.ok(titles.includes('Align gpu.bar0 up to 0x80024000 (a multiple of 16K)'), titles.join('\n'));
    const up = actions.find((a) => a.title.startsWith('Align gpu.bar0 up'))!;
    const after = await apply(uri, up);
    assert.ok(!rules(after).includes('bar-alignment'), rules(after).join());
    assert.ok(client.text(uri).includes('bar 0 mem32 size 16K at 0x80024000'));
  });

  it('asked for two diagnostics on one line, offers the fixes of both, each titled with the BAR it moves', async () => {
    // Two guests on one line, each with a misaligned BAR address: an editor sends both diagnostics for a cursor there.
    const text =
      'device a at 00:01.0 { bar 0 mem32 size 16M at 0x1000000 }\ndevice b at 00:02.0 { bar 0 mem32 size 16M at 0x2000000 }\n' +
      'guest g1 { assign a { bar 0 at 0x4000100 } }; guest g2 { assign b { bar 0 at 0x4000200 } }\n';
    const { uri, diags } = await openDoc(text);
    const both = diags.filter((x) => x.code === 'bar-alignment');
    assert.strictEqual(both.length, 2, diags.map((x) => x.code).join());
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: both[0].range, context: { diagnostics: both, only: ['quickfix'] } });
    assert.deepStrictEqual(actions.map((a) => a.title).sort(), [
      'Align a.bar0 in guest g1 down to 0x4000000 (a multiple of 16M)',
      'Align a.bar0 in guest g1 up to 0x5000000 (a multiple of 16M)',
      'Align b.bar0 in guest g2 down to 0x4000000 (a multiple of 16M)',
      'Align b.bar0 in guest g2 up to 0x5000000 (a multiple of 16M)',
    ]);
    const b = actions.find((a) => a.title.startsWith('Align b.bar0 in guest g2 down'))!;
    const after = await apply(uri, b);
    assert.ok(client.text(uri).includes('guest g2 { assign b { bar 0 at 0x4000000 } }'), client.text(uri));
    assert.deepStrictEqual(after.diagnostics.filter((x) => x.code === 'bar-alignment').map((x) => (x.data as { target?: { guest?: string } }).target?.guest), ['g1']);
  });

  it('offers the reorder refactor on a guest block', async () => {
    const { uri } = await openDoc(NEC);
    const at = positionOf(NEC, 'guest vm0', 2);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: at, end: at }, context: { diagnostics: [], only: ['refactor'] } });
    assert.deepStrictEqual(
      actions.map((a) => [a.title, a.kind]),
      [['Reorder assigned BARs in guest vm0 for page-matched offsets', 'refactor.rewrite.bartopo']],
    );
    const after = await apply(uri, actions[0]);
    assert.ok(!rules(after).includes('guest-page-conflict'), rules(after).join());
    assert.deepStrictEqual(client.text(uri).split('\n').sort(), NEC.split('\n').sort(), 'only the order of lines changes');
    // Not offered outside guests, nor when not asked for refactors.
    const none = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, context: { diagnostics: [], only: ['refactor'] } });
    assert.deepStrictEqual(none, []);
  });

  it('source.fixAll.bartopo applies every verified fix and keeps comments', async () => {
    const { uri } = await openDoc(NEC);
    const noFixAll = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [] } });
    assert.ok(!noFixAll.some((a) => a.kind === 'source.fixAll.bartopo'), 'only on request');
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [], only: ['source.fixAll'] } });
    assert.strictEqual(actions.length, 1);
    assert.strictEqual(actions[0].kind, 'source.fixAll.bartopo');
    const after = await apply(uri, actions[0]);
    assert.deepStrictEqual(rules(after), [], rules(after).join());
    assertKeepsOtherLines(NEC, client.text(uri), 2);
  });

  it('answers a code action for an outdated diagnostic with an edit for the current version', async () => {
    const { uri, diags } = await openDoc(NEC);
    const d = diags.find((x) => x.code === 'subpage-unaligned')!;
    // An edit elsewhere: the diagnostic from version 1 still stands in version 2.
    const v = await client.change(uri, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '# edited\n' }]);
    await client.waitForCurrentDiagnostics(uri, v);
    const actions = await actionsFor(uri, d);
    const align = actions.find((a) => a.title.startsWith('Align ohci1.bar0'));
    assert.ok(align);
    const after = await apply(uri, align!);
    assert.ok(!rules(after).includes('subpage-unaligned'));
    assert.ok(client.text(uri).startsWith('# edited\n# NEC USB'));
  });

  it('ignores diagnostics of other sources and malformed data', async () => {
    const { uri, diags } = await openDoc(NEC);
    const d = diags[0];
    const foreign = { ...d, source: 'other' };
    const broken = { ...d, data: { rule: 42 } };
    for (const x of [foreign, broken]) assert.deepStrictEqual(await actionsFor(uri, x as Diagnostic, ['quickfix']), []);
  });
});

describe('lsp: code actions for a client without versioned document changes', function () {
  this.timeout(30000);
  it('answers with `changes` edits', async () => {
    const caps = { ...PUSH_CAPABILITIES, workspace: { ...PUSH_CAPABILITIES.workspace, workspaceEdit: { documentChanges: false } } };
    const { client } = await LspClient.start({ capabilities: caps });
    try {
      const uri = 'file:///changes.bartopo';
      await client.open(uri, NEC);
      const p = await client.waitForDiagnostics(uri, 1);
      const d = p.diagnostics.find((x) => x.code === 'subpage-unaligned')!;
      const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
      const a = actions.find((x) => x.title.startsWith('Align ohci1.bar0'))!;
      assert.strictEqual(a.edit!.documentChanges, undefined);
      assert.strictEqual(a.edit!.changes![uri].length, 1);
      assert.deepStrictEqual(a.edit!.changes![uri][0].range.start.line, d.range.start.line, 'only the changed line');
    } finally {
      await client.stop();
    }
  });
});

describe('lsp: code actions for a client without code action literals', function () {
  this.timeout(30000);
  // Such a client takes only `Command[]` from textDocument/codeAction (LSP 3.17, CodeActionClientCapabilities).
  const withoutLiterals = (applyEdit: boolean): typeof PUSH_CAPABILITIES => ({
    ...PUSH_CAPABILITIES,
    textDocument: { ...PUSH_CAPABILITIES.textDocument, codeAction: {} },
    workspace: { ...PUSH_CAPABILITIES.workspace, applyEdit },
  });

  it('answers with commands that carry the fix; executing one applies it through workspace/applyEdit and removes the diagnostic', async () => {
    const { client, init } = await LspClient.start({ capabilities: withoutLiterals(true) });
    try {
      assert.deepStrictEqual(init.capabilities.executeCommandProvider?.commands, ['bartopo.applyEdit']);
      const uri = 'file:///commands.bartopo';
      await client.open(uri, NEC);
      const p = await client.waitForDiagnostics(uri, 1);
      const d = p.diagnostics.find((x) => x.code === 'subpage-unaligned')!;
      const commands = await client.request<{ title: string; command: string; arguments?: unknown[]; edit?: unknown }[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
      assert.ok(commands.length > 0, 'commands offered');
      for (const c of commands) {
        assert.strictEqual(c.command, 'bartopo.applyEdit', c.title);
        assert.strictEqual(c.edit, undefined, 'a command, not a code action literal');
      }
      const c = commands.find((x) => x.title.startsWith('Align ohci1.bar0'))!;
      await client.request('workspace/executeCommand', { command: c.command, arguments: c.arguments });
      assert.strictEqual(client.appliedEdits.length, 1);
      const v = await client.applyEdits(uri, LspClient.editsOf(client.appliedEdits[0], uri));
      const after = await client.waitForCurrentDiagnostics(uri, v);
      assert.ok(!after.diagnostics.some((x) => x.code === 'subpage-unaligned' && x.range.start.line === d.range.start.line), 'the diagnostic is gone');
      // Anything else is refused with an error, not run.
      await assert.rejects(client.request('workspace/executeCommand', { command: 'bartopo.applyEdit', arguments: ['not an edit'] }));
      await assert.rejects(client.request('workspace/executeCommand', { command: 'rm -rf', arguments: [] }));
    } finally {
      await client.stop();
    }
  });

  it('offers nothing to a client that can neither take literals nor apply edits', async () => {
    const { client, init } = await LspClient.start({ capabilities: withoutLiterals(false) });
    try {
      assert.strictEqual(init.capabilities.executeCommandProvider, undefined);
      const uri = 'file:///nothing.bartopo';
      await client.open(uri, NEC);
      const p = await client.waitForDiagnostics(uri, 1);
      const d = p.diagnostics.find((x) => x.code === 'subpage-unaligned')!;
      const out = await client.request<unknown[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
      assert.deepStrictEqual(out, []);
    } finally {
      await client.stop();
    }
  });
});
