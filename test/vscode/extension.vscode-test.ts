// The integration suite: the built extension in a real VS Code extension host
// (code-server's, or Electron's under @vscode/test-electron), driven through
// the vscode API. The workspace is a copy of examples/. Expected diagnostics
// come from the CLI (`bartopo check -f json`: same engine, other code path),
// expected quick fixes from the engine itself. Waits on
// onDidChangeDiagnostics and on providers' answers; never sleeps.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  CliFile,
  cliCheck,
  codeOf,
  extensionId,
  markdownText,
  offsetIn,
  openExample,
  ours,
  pageOf,
  plain,
  plainFromCli,
  positionOf,
  REPO_ROOT,
  setText,
  sizeName,
  sortPlain,
  waitForDiagnostics,
  waitForExactly,
  workspaceDir,
} from './util';

const FIX_EXAMPLE = 'page-match-guest.bartopo';
const MSIX_EXAMPLE = 'nic-msix-doorbells.bartopo';

function examples(): string[] {
  return fs
    .readdirSync(workspaceDir())
    .filter((f) => f.endsWith('.bartopo'))
    .sort();
}

/** Waits for exactly the CLI's diagnostics; on a timeout, fails with a readable diff. */
async function expectDiagnostics(uri: vscode.Uri, expected: CliFile['diagnostics'], what: string): Promise<vscode.Diagnostic[]> {
  const want = expected.map(plainFromCli);
  try {
    return await waitForExactly(uri, want, what);
  } catch (e) {
    assert.deepStrictEqual(sortPlain(ours(uri).map(plain)), sortPlain(want), (e as Error).message.split('\n')[0]);
    throw e;
  }
}

interface EngineModule {
  analyze(text: string): { diagnostics: { rule: string; message: string }[] };
  computeFixes(a: unknown, d: unknown): { title: string; kind: string }[];
}

/** The engine's quick-fix titles per diagnostic (`rule|message`): what the extension must offer. */
function engineFixTitles(text: string): Map<string, string[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const engine = require(path.join(REPO_ROOT, 'out', 'server', 'src', 'engine')) as EngineModule;
  const a = engine.analyze(text);
  const out = new Map<string, string[]>();
  for (const d of a.diagnostics) {
    const titles = engine
      .computeFixes(a, d)
      .filter((f) => f.kind === 'quickfix')
      .map((f) => f.title);
    out.set(`${d.rule}|${d.message}`, [...(out.get(`${d.rule}|${d.message}`) ?? []), ...titles]);
  }
  return out;
}

/** `rule|message`: identifies a diagnostic across re-analyses. */
function key(d: vscode.Diagnostic): string {
  return `${codeOf(d)}|${d.message}`;
}

/** Applies text edits to a string (the way VS Code applies one WorkspaceEdit). */
function applyTextEdits(doc: vscode.TextDocument, text: string, edits: vscode.TextEdit[]): string {
  const withOffsets = edits
    .map((e) => ({ start: doc.offsetAt(e.range.start), end: doc.offsetAt(e.range.end), text: e.newText }))
    .sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const e of withOffsets) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

async function restore(doc: vscode.TextDocument, original: string, expected: CliFile['diagnostics']): Promise<void> {
  await setText(doc, original);
  await expectDiagnostics(doc.uri, expected, 'back to the original text');
  await doc.save();
}

describe('bartopo extension in VS Code', function () {
  after(async () => {
    await vscode.workspace.getConfiguration('bartopo').update('severity', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('bartopo').update('pageSize', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('activates on a .bartopo file and publishes diagnostics', async () => {
    const ext = vscode.extensions.getExtension(extensionId());
    assert.ok(ext, `extension ${extensionId()} is not installed`);
    const { uri, doc } = await openExample(FIX_EXAMPLE);
    assert.strictEqual(doc.languageId, 'bartopo');
    await waitForDiagnostics(uri, (ds) => ds.length > 0, 'first diagnostics after activation', 45_000);
    assert.ok(ext.isActive, 'the extension is not active after opening a .bartopo file');
  });

  describe('diagnostics: exactly what `bartopo check` reports', () => {
    for (const name of fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.bartopo')).sort()) {
      it(name, async () => {
        const { uri } = await openExample(name);
        const [cli] = cliCheck([uri.fsPath]);
        assert.ok(cli.diagnostics.length > 0, `the CLI reports nothing for ${name}: nothing to compare`);
        const got = await expectDiagnostics(uri, cli.diagnostics, 'the CLI diagnostics');
        assert.strictEqual(got.length, cli.diagnostics.length);
      });
    }
  });

  describe('quick fixes: each one listed by executeCodeActionProvider, applied with workspace.applyEdit', () => {
    const applied = new Map<string, string[]>();
    for (const name of fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.bartopo')).sort()) {
      it(name, async function () {
        this.timeout(180_000);
        const { uri, doc } = await openExample(name);
        const original = doc.getText();
        const [cli] = cliCheck([uri.fsPath]);
        const diagnostics = await expectDiagnostics(uri, cli.diagnostics, 'the CLI diagnostics');
        const oracle = engineFixTitles(original);
        const titles: string[] = [];
        const comments = original.split('\n').filter((l) => l.trim().startsWith('#'));
        // Which diagnostics each fix title belongs to (the engine's view).
        const owners = new Map<string, vscode.Diagnostic[]>();
        for (const d of diagnostics) for (const t of oracle.get(key(d)) ?? []) owners.set(t, [...(owners.get(t) ?? []), d]);
        for (const target of diagnostics) {
          const actions = (await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
            'vscode.executeCodeActionProvider',
            uri,
            target.range,
            vscode.CodeActionKind.QuickFix.value,
          )) ?? [];
          const fixes = actions.filter((a): a is vscode.CodeAction => 'kind' in a && !!a.kind && vscode.CodeActionKind.QuickFix.contains(a.kind));
          // VS Code hands the provider every diagnostic that touches the range: expect all their fixes.
          const touching = diagnostics.filter((d) => d.range.intersection(target.range) !== undefined);
          const expected = [...new Set(touching.flatMap((d) => oracle.get(key(d)) ?? []))].sort();
          assert.deepStrictEqual(
            fixes.map((f) => f.title).sort(),
            expected,
            `quick fixes offered at ${codeOf(target)} (line ${target.range.start.line + 1}) differ from the engine's`,
          );
          for (const fix of fixes) {
            if (titles.includes(fix.title)) continue; // offered for several diagnostics: applied once
            assert.ok(fix.edit, `"${fix.title}" has no edit`);
            const edits = fix.edit.get(uri);
            assert.ok(edits.length > 0, `"${fix.title}" does not edit ${name}`);
            assert.strictEqual(fix.edit.entries().length, 1, `"${fix.title}" edits other files`);
            const want = applyTextEdits(doc, original, edits);
            const fixed = owners.get(fix.title) ?? [];
            assert.ok(fixed.length > 0, `"${fix.title}" belongs to no diagnostic`);
            assert.ok(await vscode.workspace.applyEdit(fix.edit), `workspace.applyEdit refused "${fix.title}"`);
            const after = await waitForDiagnostics(
              uri,
              (ds) => !ds.some((d) => fixed.some((f) => key(f) === key(d))),
              `"${fix.title}" removes ${fixed.map((f) => `${codeOf(f)} (line ${f.range.start.line + 1})`).join(', ')}`,
            );
            assert.strictEqual(doc.getText(), want, `"${fix.title}": the document is not the original text with the fix's edits`);
            const errors = after.filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
            assert.deepStrictEqual(errors.map(plain), [], `"${fix.title}" introduced errors`);
            for (const c of comments) assert.ok(doc.getText().includes(c.trim()), `"${fix.title}" lost the comment ${c.trim()}`);
            titles.push(fix.title);
            await restore(doc, original, cli.diagnostics);
          }
        }
        const offered = [...owners.keys()].sort();
        assert.deepStrictEqual([...titles].sort(), offered, 'not every fix the engine has was offered and applied');
        applied.set(name, titles);
        await doc.save();
      });
    }

    it(`${FIX_EXAMPLE} and ${MSIX_EXAMPLE} offer their known fixes`, function () {
      if (!applied.has(FIX_EXAMPLE) || !applied.has(MSIX_EXAMPLE)) this.skip();
      assert.ok(applied.get(FIX_EXAMPLE)!.some((t) => t.includes('allocate page-match')), `no page-match fix in ${applied.get(FIX_EXAMPLE)!.join('; ')}`);
      assert.ok(applied.get(FIX_EXAMPLE)!.length >= 3, `only ${applied.get(FIX_EXAMPLE)!.length} fixes applied for ${FIX_EXAMPLE}`);
      assert.ok(applied.get(MSIX_EXAMPLE)!.some((t) => t.startsWith('Relocate the MSI-X table')), `no MSI-X relocation fix in ${applied.get(MSIX_EXAMPLE)!.join('; ')}`);
    });
  });

  describe('language features', () => {
    it('hover on a BAR shows its host page math and per-guest verdicts', async () => {
      const { uri, doc } = await openExample(FIX_EXAMPLE);
      const [cli] = cliCheck([uri.fsPath]);
      assert.ok(cli.bars.length >= 3);
      const text = doc.getText();
      for (const bar of cli.bars) {
        const [dev, barName] = bar.id.split('.');
        const devAt = text.indexOf(`device ${dev} `);
        assert.ok(devAt >= 0, `device ${dev} not found`);
        const barAt = text.indexOf(`bar ${barName.replace('bar', '')} `, devAt);
        const pos = doc.positionAt(barAt + 1);
        const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, pos)) ?? [];
        const md = hovers.map(markdownText).join('\n');
        assert.ok(md.includes(`**${bar.id}**`), `hover on ${bar.id} does not name it:\n${md}`);
        assert.ok(bar.host, `${bar.id} has no host address`);
        const page = pageOf(bar.host!, cli.pageSize);
        const offset = offsetIn(bar.host!, cli.pageSize);
        assert.ok(md.includes(`host page \`${page}\` (${sizeName(cli.pageSize)}), offset \`${offset}\``), `hover on ${bar.id} lacks the page math (page ${page}, offset ${offset}):\n${md}`);
        for (const [guest, g] of Object.entries(bar.guests)) {
          assert.ok(md.includes(`| ${guest} | \`${g.address}\` | **${g.verdict}**`), `hover on ${bar.id} lacks guest ${guest}: ${g.address} ${g.verdict}:\n${md}`);
        }
      }
    });

    it('completion offers allocation policies and device names', async () => {
      const { uri, doc } = await openExample(FIX_EXAMPLE);
      const labels = async (pos: vscode.Position): Promise<string[]> => {
        const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, pos);
        return (list?.items ?? []).map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
      };
      const policies = await labels(positionOf(doc, /^ *allocate /m, '  allocate '.length));
      for (const p of ['listed', 'size-descending', 'page-match']) assert.ok(policies.includes(p), `no ${p} after "allocate": ${policies.join(', ')}`);
      const devices = await labels(positionOf(doc, /^ *assign /m, '  assign '.length));
      for (const d of ['ohci0', 'ohci1', 'ehci']) assert.ok(devices.includes(d), `no ${d} after "assign": ${devices.join(', ')}`);
    });

    it('document symbols outline the host, devices with BARs and guests with assigns', async () => {
      const { uri } = await openExample(FIX_EXAMPLE);
      const symbols = (await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', uri)) ?? [];
      assert.deepStrictEqual(
        symbols.map((s) => s.name),
        ['host powernv', 'ohci0', 'ohci1', 'ehci', 'firmware', 'vmm'],
      );
      const ohci1 = symbols.find((s) => s.name === 'ohci1')!;
      assert.deepStrictEqual(ohci1.children.map((c) => c.name), ['bar0']);
      assert.strictEqual(ohci1.kind, vscode.SymbolKind.Class);
      const firmware = symbols.find((s) => s.name === 'firmware')!;
      assert.deepStrictEqual(firmware.children.map((c) => c.name), ['assign ohci0', 'assign ohci1', 'assign ehci']);
    });

    it('formatting re-indents a messed-up file to the canonical layout, idempotently', async () => {
      const { uri, doc } = await openExample(FIX_EXAMPLE);
      const original = doc.getText();
      const [cli] = cliCheck([uri.fsPath]);
      const options = { tabSize: 2, insertSpaces: true };
      const format = async (): Promise<string> => {
        const edits = (await vscode.commands.executeCommand<vscode.TextEdit[]>('vscode.executeFormatDocumentProvider', uri, options)) ?? [];
        if (edits.length === 0) return doc.getText();
        const e = new vscode.WorkspaceEdit();
        e.set(uri, edits);
        assert.ok(await vscode.workspace.applyEdit(e));
        return doc.getText();
      };
      try {
        const canonical = await format();
        assert.strictEqual(await format(), canonical, 'formatting the formatted text changes it');
        const messed = original
          .split('\n')
          .map((l, i) => (l.trim() === '' ? l : l.includes('#') ? '   ' + l.trim() : ' '.repeat(i % 3 === 0 ? 5 : 1) + l.trim().replace(/ (size|at) /g, '   $1\t')))
          .join('\n');
        await setText(doc, messed);
        assert.notStrictEqual(doc.getText(), canonical);
        assert.strictEqual(await format(), canonical, 'formatting the messed-up text does not give the canonical layout');
        // Only white space changed: the same words in the same order.
        assert.deepStrictEqual(canonical.split(/\s+/).filter(Boolean), original.split(/\s+/).filter(Boolean));
      } finally {
        await restore(doc, original, cli.diagnostics);
      }
    });
  });

  describe('settings changed live', () => {
    it('bartopo.severity turns guest-offset-mismatch into errors and back', async () => {
      const { uri } = await openExample(FIX_EXAMPLE);
      const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('bartopo');
      const [before] = cliCheck([uri.fsPath]);
      const [strict] = cliCheck([uri.fsPath], ['-s', 'guest-offset-mismatch=error']);
      assert.ok(strict.diagnostics.some((d) => d.severity === 'error'));
      await expectDiagnostics(uri, before.diagnostics, 'the default severities');
      try {
        await config().update('severity', { 'guest-offset-mismatch': 'error' }, vscode.ConfigurationTarget.Global);
        await expectDiagnostics(uri, strict.diagnostics, 'guest-offset-mismatch as error (bartopo check -s guest-offset-mismatch=error)');
      } finally {
        await config().update('severity', undefined, vscode.ConfigurationTarget.Global);
      }
      await expectDiagnostics(uri, before.diagnostics, 'the default severities again');
    });

    it('bartopo.pageSize re-checks the file as if the host had 4K pages', async () => {
      const { uri } = await openExample('nec-usb-power-64k.bartopo');
      const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('bartopo');
      const [before] = cliCheck([uri.fsPath]);
      const [small] = cliCheck([uri.fsPath], ['-p', '4K']);
      assert.notDeepStrictEqual(small.diagnostics, before.diagnostics, 'the CLI reports the same for 4K and 64K pages: pick another example');
      await expectDiagnostics(uri, before.diagnostics, 'the file\'s page size');
      try {
        await config().update('pageSize', '4K', vscode.ConfigurationTarget.Global);
        await expectDiagnostics(uri, small.diagnostics, '4K pages (bartopo check -p 4K)');
      } finally {
        await config().update('pageSize', undefined, vscode.ConfigurationTarget.Global);
      }
      await expectDiagnostics(uri, before.diagnostics, 'the file\'s page size again');
    });
  });
});
