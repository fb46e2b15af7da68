// *bartopo: Import from lspci output…* and *bartopo: Import this machine*:
// the client only gathers the input (a file, the clipboard or pasted text; a
// page size) and shows the result in a new untitled bartopo editor; the
// importers run in the server (`bartopo/importLspci`, `bartopo/importSysfs`).
// Both commands take an optional argument that skips every dialog:
//   bartopo.importLspci(uri | { uri?, text?, pageSize? })
//   bartopo.importSysfs(root | { root?, pageSize? })
// and return what they did (ImportOutcome), undefined when cancelled.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ImportLspciParams, ImportLspciRequest, ImportResponse, ImportSysfsParams, ImportSysfsRequest } from '../../server/src/protocol';

const LANGUAGE_ID = 'bartopo';

export interface ImportOutcome {
  /** The untitled document holding the topology (absent when nothing was opened). */
  uri?: string;
  source: string;
  devices: number;
  bars: number;
  warnings: number;
}

interface LspciArg {
  uri?: vscode.Uri | string;
  text?: string;
  pageSize?: string;
}

interface SysfsArg {
  root?: string;
  pageSize?: string;
}

/** A device header line of lspci (`01:00.0 Ethernet …`, `0000:01:00.0 …`), also quoted in an e-mail. */
const LSPCI_HEADER = /^[>\s]*(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]\s+\S/m;

export function looksLikeLspci(text: string): boolean {
  return LSPCI_HEADER.test(text);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function baseName(uri: vscode.Uri): string {
  const p = uri.path;
  return p.slice(p.lastIndexOf('/') + 1) || p;
}

export class ImportCommands {
  constructor(
    private readonly client: () => LanguageClient | undefined,
    private readonly out: vscode.LogOutputChannel,
  ) {}

  register(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand('bartopo.importLspci', (arg?: unknown) => this.importLspci(arg)),
      vscode.commands.registerCommand('bartopo.importSysfs', (arg?: unknown) => this.importSysfs(arg)),
    ];
  }

  async importLspci(arg?: unknown): Promise<ImportOutcome | undefined> {
    if (arg !== undefined && arg !== null) return this.importLspciArg(arg);
    type Source = vscode.QuickPickItem & { source: 'file' | 'paste' | 'editor' };
    const items: Source[] = [
      { label: '$(file) Pick a file…', description: 'a saved `lspci -vvv` output', source: 'file' },
      { label: '$(clippy) Paste lspci output…', description: 'from the clipboard, or paste it into a new editor', source: 'paste' },
    ];
    const active = vscode.window.activeTextEditor?.document;
    if (active && active.languageId !== LANGUAGE_ID && looksLikeLspci(active.getText())) {
      items.unshift({ label: `$(go-to-file) Use ${baseName(active.uri)}`, description: 'the lspci output in the active editor', source: 'editor' });
    }
    const picked = await vscode.window.showQuickPick(items, { title: 'bartopo: Import from lspci output', placeHolder: 'Where is the output of `lspci -vvv`?' });
    if (!picked) return undefined;
    if (picked.source === 'file') {
      const files = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: 'Import',
        title: 'lspci -vvv output to import',
        filters: { 'lspci output': ['txt', 'lspci', 'log', 'out'], 'All files': ['*'] },
      });
      if (!files || files.length === 0) return undefined;
      const pageSize = await this.askPageSize();
      if (pageSize === null) return undefined;
      return this.importLspciArg({ uri: files[0], pageSize });
    }
    const pageSize = await this.askPageSize();
    if (pageSize === null) return undefined;
    if (picked.source === 'editor' && active) return this.runLspci({ text: active.getText(), pageSize, sourceName: baseName(active.uri) }, baseName(active.uri));
    return this.paste(pageSize);
  }

  async importSysfs(arg?: unknown): Promise<ImportOutcome | undefined> {
    const params: ImportSysfsParams = {};
    if (typeof arg === 'string') params.root = arg;
    else if (arg && typeof arg === 'object') {
      const a = arg as SysfsArg;
      if (typeof a.root === 'string') params.root = a.root;
      if (typeof a.pageSize === 'string') params.pageSize = a.pageSize;
    }
    const source = params.root && params.root !== '/' ? params.root : 'this machine';
    const client = this.client();
    if (!client) return this.failed('the language server is not running');
    let r: ImportResponse;
    try {
      r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'bartopo: reading PCI devices from sysfs' }, () =>
        client.sendRequest<ImportResponse>(ImportSysfsRequest, params),
      );
    } catch (e) {
      return this.failed(errorText(e));
    }
    if (r.devices === 0) void vscode.window.showWarningMessage(`bartopo: no PCI device found in sysfs of ${source}.`);
    return this.openResult(r, source);
  }

  // ---------------------------------------------------------------------------

  private async importLspciArg(arg: unknown): Promise<ImportOutcome | undefined> {
    let a: LspciArg;
    if (arg instanceof vscode.Uri || typeof arg === 'string') a = { uri: arg };
    else if (typeof arg === 'object') a = arg as LspciArg;
    else return this.failed('expected a file URI or { uri, text, pageSize }');
    const pageSize = typeof a.pageSize === 'string' && a.pageSize !== '' ? a.pageSize : undefined;
    if (typeof a.text === 'string') return this.runLspci({ text: a.text, pageSize }, 'pasted text');
    if (a.uri === undefined) return this.failed('expected a file URI or { uri, text, pageSize }');
    const uri = typeof a.uri === 'string' ? (/^[a-z][\w+.-]*:/i.test(a.uri) && !/^[a-z]:[\\/]/i.test(a.uri) ? vscode.Uri.parse(a.uri) : vscode.Uri.file(a.uri)) : a.uri;
    let text: string;
    try {
      text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
    } catch (e) {
      return this.failed(`${baseName(uri)}: cannot read: ${errorText(e)}`);
    }
    return this.runLspci({ text, pageSize, sourceName: baseName(uri) }, baseName(uri));
  }

  /** The host page size: a size, undefined for "from the dump", null when cancelled. */
  private async askPageSize(): Promise<string | undefined | null> {
    type Item = vscode.QuickPickItem & { value: string | undefined };
    const items: Item[] = [
      { label: 'From the dump', description: 'the SR-IOV System Page Size when lspci printed it, else 4K', value: undefined },
      { label: '4K', description: 'x86_64, most arm64', value: '4K' },
      { label: '16K', description: 'some arm64 (Apple silicon, some Android)', value: '16K' },
      { label: '64K', description: 'ppc64le, some arm64 servers', value: '64K' },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: 'bartopo: host page size', placeHolder: 'Page size of the machine the lspci output comes from' });
    return picked ? picked.value : null;
  }

  /** From the clipboard when it holds lspci output, else through a new editor the user pastes into. */
  private async paste(pageSize: string | undefined): Promise<ImportOutcome | undefined> {
    let clip = '';
    try {
      clip = await vscode.env.clipboard.readText();
    } catch {
      clip = '';
    }
    if (looksLikeLspci(clip)) return this.runLspci({ text: clip, pageSize, sourceName: 'the clipboard' }, 'the clipboard');
    const scratch = await vscode.workspace.openTextDocument({ language: 'plaintext', content: '' });
    await vscode.window.showTextDocument(scratch, { preview: false });
    void vscode.window.showInformationMessage('bartopo: paste the output of `lspci -vvv` into the new editor; it becomes a .bartopo topology as soon as it is pasted.');
    const pasted = await new Promise<boolean>((resolve) => {
      const subs = [
        vscode.workspace.onDidChangeTextDocument((e) => {
          if (e.document !== scratch || !looksLikeLspci(scratch.getText())) return;
          for (const s of subs) s.dispose();
          resolve(true);
        }),
        vscode.workspace.onDidCloseTextDocument((d) => {
          if (d !== scratch) return;
          for (const s of subs) s.dispose();
          resolve(false);
        }),
      ];
    });
    if (!pasted) return undefined;
    // The pasted editor becomes the topology (undo brings the lspci text back).
    const text = scratch.getText();
    const client = this.client();
    if (!client) return this.failed('the language server is not running');
    let r: ImportResponse;
    try {
      r = await client.sendRequest<ImportResponse>(ImportLspciRequest, { text, pageSize, sourceName: 'pasted text' } satisfies ImportLspciParams);
    } catch (e) {
      return this.failed(errorText(e));
    }
    if (!this.anyDevice(r, text, 'the pasted text')) return { source: 'pasted text', devices: 0, bars: 0, warnings: r.warnings.length };
    const edit = new vscode.WorkspaceEdit();
    edit.replace(scratch.uri, new vscode.Range(scratch.positionAt(0), scratch.positionAt(scratch.getText().length)), r.text);
    if (!(await vscode.workspace.applyEdit(edit))) return this.failed('could not write the topology into the editor');
    const doc = await vscode.languages.setTextDocumentLanguage(scratch, LANGUAGE_ID);
    // From its top: the cursor was at the end of the pasted text, which maps to the topology's last, empty line.
    const top = new vscode.Selection(0, 0, 0, 0);
    await vscode.window.showTextDocument(doc, { preview: false, selection: top });
    return this.report(r, doc, 'pasted text');
  }

  private async runLspci(params: ImportLspciParams, source: string): Promise<ImportOutcome | undefined> {
    const client = this.client();
    if (!client) return this.failed('the language server is not running');
    let r: ImportResponse;
    try {
      r = await client.sendRequest<ImportResponse>(ImportLspciRequest, params);
    } catch (e) {
      return this.failed(errorText(e));
    }
    if (!this.anyDevice(r, params.text, source)) return { source, devices: 0, bars: 0, warnings: r.warnings.length };
    return this.openResult(r, source);
  }

  /** False (and says so) when the input held no lspci device at all. */
  private anyDevice(r: ImportResponse, text: string, source: string): boolean {
    if (r.devices > 0 || /Region|Memory at|I\/O ports at/.test(text)) return true;
    this.logWarnings(r, source);
    void vscode.window.showErrorMessage(`bartopo: no PCI device found in ${source} (expected the output of \`lspci -vvv\`).`);
    return false;
  }

  private async openResult(r: ImportResponse, source: string): Promise<ImportOutcome> {
    const doc = await vscode.workspace.openTextDocument({ language: LANGUAGE_ID, content: r.text });
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    if (doc.getText() !== r.text) {
      // An untitled name (Untitled-1) freed by a just-closed document can come back with that
      // document's old model still attached; the import must show what was imported.
      this.out.warn(`import: ${doc.uri.toString()} opened with stale content; replacing it with the import`);
      const all = new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
      await editor.edit((b) => b.replace(all, r.text));
    }
    return this.report(r, doc, source);
  }

  private logWarnings(r: ImportResponse, source: string): void {
    for (const w of r.warnings) this.out.warn(`import: ${source}${w.line > 0 ? `:${w.line}` : ''}: ${w.message}`);
  }

  private report(r: ImportResponse, doc: vscode.TextDocument, source: string): ImportOutcome {
    const what = `${r.devices} device${r.devices === 1 ? '' : 's'}, ${r.bars} BAR${r.bars === 1 ? '' : 's'}`;
    this.out.info(`import: ${source}: ${what}, ${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}`);
    this.logWarnings(r, source);
    if (r.warnings.length > 0) {
      void vscode.window
        .showWarningMessage(`bartopo: imported ${what} from ${source} with ${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}.`, 'Show Warnings')
        .then((c) => {
          if (c) this.out.show(true);
        });
    } else {
      void vscode.window.showInformationMessage(`bartopo: imported ${what} from ${source}.`);
    }
    return { uri: doc.uri.toString(), source, devices: r.devices, bars: r.bars, warnings: r.warnings.length };
  }

  private failed(message: string): undefined {
    this.out.error(`import: ${message}`);
    void vscode.window.showErrorMessage(`bartopo: ${message}`);
    return undefined;
  }
}
