// The VS Code side of bartopo: starts the bundled language server
// (dist/server.js) over Node IPC for .bartopo files, shows the file's page size
// and error/warning counts in the status bar, and offers the commands
// *bartopo: Restart Server*, *bartopo: Show Output*, *bartopo: Show Page Map*
// (pageMap.ts), *bartopo: Import from lspci output…* and *bartopo: Import this
// machine* (importCommands.ts). Everything else (diagnostics, fixes, hover,
// page maps, imports …) comes from the server.

import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind } from 'vscode-languageclient/node';
import { StatusNotification, StatusParams } from '../../server/src/protocol';
import { ImportCommands } from './importCommands';
import { PageMapSnapshot, PageMapView } from './pageMap';

const LANGUAGE_ID = 'bartopo';

let client: LanguageClient | undefined;

class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('bartopo.status', vscode.StatusBarAlignment.Right, 100);
  private readonly byUri = new Map<string, StatusParams>();
  private serverState: 'starting' | 'running' | 'stopped' = 'starting';
  /** Whether the item is shown now (a status bar item cannot be asked). */
  shown = false;

  constructor() {
    this.item.name = 'bartopo';
    this.item.command = 'workbench.actions.view.problems';
    this.update();
  }

  set(p: StatusParams): void {
    this.byUri.set(p.uri, p);
    this.update();
  }

  get text(): string {
    return this.item.text;
  }

  forget(uri: string): void {
    this.byUri.delete(uri);
  }

  setServerState(s: 'starting' | 'running' | 'stopped'): void {
    this.serverState = s;
    this.update();
  }

  update(): void {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== LANGUAGE_ID) {
      this.item.hide();
      this.shown = false;
      return;
    }
    this.shown = true;
    const p = this.byUri.get(editor.document.uri.toString());
    if (this.serverState !== 'running') {
      this.item.text = this.serverState === 'starting' ? '$(sync~spin) bartopo' : '$(circle-slash) bartopo';
      this.item.tooltip = this.serverState === 'starting' ? 'bartopo: the language server is starting' : 'bartopo: the language server is not running (bartopo: Restart Server)';
      this.item.command = this.serverState === 'stopped' ? 'bartopo.restartServer' : undefined;
      this.item.show();
      return;
    }
    this.item.command = 'workbench.actions.view.problems';
    if (!p) {
      this.item.text = '$(sync~spin) bartopo';
      this.item.tooltip = 'bartopo: checking…';
      this.item.show();
      return;
    }
    this.item.text = `$(circuit-board) ${p.pageSize} $(error) ${p.errors} $(warning) ${p.warnings}`;
    const source = p.pageSizeSource === 'override' ? 'the bartopo.pageSize setting' : p.pageSizeSource === 'host' ? 'the file (`page-size`)' : 'the default';
    const md = new vscode.MarkdownString(
      [
        `**bartopo** — host page size **${p.pageSize}** (from ${source})`,
        '',
        `${p.errors} error${p.errors === 1 ? '' : 's'}, ${p.warnings} warning${p.warnings === 1 ? '' : 's'}, ${p.infos} info`,
        p.omitted > 0 ? `\n${p.omitted} diagnostics not shown (bartopo.maxDiagnostics)` : '',
        '',
        `analysed in ${p.analysisMs} ms (version ${p.version})`,
      ].join('\n'),
    );
    this.item.tooltip = md;
    this.item.backgroundColor = p.errors > 0 ? new vscode.ThemeColor('statusBarItem.errorBackground') : p.warnings > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}

/** What `activate` returns (`vscode.extensions.getExtension('bartopo.bartopo').exports`); the tests use it. */
export interface BartopoApi {
  /** The status bar item: whether it is shown, and its text. */
  status: { shown(): boolean; text(): string };
  pageMap: {
    /** The map the page map webview shows now (once the webview confirmed drawing it). */
    current(): PageMapSnapshot | undefined;
    /** Fires each time the webview confirms it drew a map. */
    onDidRender: vscode.Event<PageMapSnapshot>;
    /** Handles a message as if the webview had posted it (`{ start, end }` selects that range). */
    receive(message: unknown): Promise<void>;
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<BartopoApi> {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    // V8's default young generation: see bin/bartopo-language-server.js for why the server is not tuned like the CLI.
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const outputChannel = vscode.window.createOutputChannel('bartopo', { log: true });
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: LANGUAGE_ID },
      { scheme: 'untitled', language: LANGUAGE_ID },
    ],
    outputChannel,
    traceOutputChannel: outputChannel,
  };
  client = new LanguageClient(LANGUAGE_ID, 'bartopo', serverOptions, clientOptions);

  const status = new StatusBar();
  const pageMap = new PageMapView(() => client, outputChannel);
  const imports = new ImportCommands(() => client, outputChannel);
  context.subscriptions.push(
    status,
    outputChannel,
    pageMap,
    client.onNotification(StatusNotification, (p: StatusParams) => {
      status.set(p);
      pageMap.statusChanged(p);
    }),
    client.onDidChangeState((e) => status.setServerState(e.newState === State.Running ? 'running' : e.newState === State.Starting ? 'starting' : 'stopped')),
    vscode.window.onDidChangeActiveTextEditor(() => status.update()),
    // A language mode change closes and reopens the document in the same editor: the item follows it (hidden for
    // another language, checking… again for bartopo), as no active-editor change says so.
    vscode.workspace.onDidCloseTextDocument((d) => {
      status.forget(d.uri.toString());
      status.update();
    }),
    vscode.workspace.onDidOpenTextDocument(() => status.update()),
    vscode.commands.registerCommand('bartopo.restartServer', async () => {
      if (!client) return;
      status.setServerState('starting');
      try {
        await client.restart();
      } catch (e) {
        outputChannel.error(`restarting the server failed: ${e instanceof Error ? e.message : String(e)}`);
        void vscode.window.showErrorMessage('bartopo: the language server could not be restarted; see bartopo: Show Output.');
      }
    }),
    vscode.commands.registerCommand('bartopo.showOutput', () => outputChannel.show(true)),
    vscode.commands.registerCommand('bartopo.showPageMap', (arg?: unknown) => pageMap.show(arg)),
    ...imports.register(),
  );

  try {
    await client.start();
  } catch (e) {
    outputChannel.error(`starting the server failed: ${e instanceof Error ? e.message : String(e)}`);
    status.setServerState('stopped');
  }
  return {
    status: { shown: () => status.shown, text: () => status.text },
    pageMap: {
      current: () => pageMap.current,
      onDidRender: pageMap.onDidRender,
      receive: (m: unknown) => pageMap.receive(m),
    },
  };
}

export async function deactivate(): Promise<void> {
  if (client) await client.stop();
  client = undefined;
}
