// *bartopo: Show Page Map*: a webview beside the editor with the page map of
// the active .bartopo file (the server draws it: `bartopo/pageMap`). The one
// panel follows the active .bartopo editor and is redrawn, lightly debounced,
// when the document changes or the server re-analyses it (settings). Clicking
// an item selects its statement in the editor.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { PageMapParams, PageMapRequest, PageMapResult, StatusParams } from '../../server/src/protocol';
import { makeNonce, pageMapHtml } from './pageMapHtml';

const LANGUAGE_ID = 'bartopo';
const VIEW_TYPE = 'bartopo.pageMap';
/** Wait after a change before asking for a new map (several keystrokes, one request). */
const DEBOUNCE_MS = 120;

/** One map as the server drew it. */
export interface PageMapSnapshot {
  uri: string;
  version: number;
  pages: number;
  truncated: boolean;
  pageSize: string;
  svg: string;
  /** Items the webview drew (set once it confirmed drawing this map). */
  items?: number;
}

/** What *bartopo: Show Page Map* returns (for tests and other extensions). */
export interface ShowPageMapResult {
  title: string;
  viewType: string;
  uri: string;
  viewColumn: vscode.ViewColumn | undefined;
  pages: number;
  version: number;
}

function fileName(uri: vscode.Uri): string {
  const p = uri.path;
  return p.slice(p.lastIndexOf('/') + 1) || p;
}

/** start/end of each item of an SVG by its data-id (first occurrence). */
export function itemSpans(svg: string): Map<string, { start: number; end: number }> {
  const out = new Map<string, { start: number; end: number }>();
  const re = /<rect class="item[^"]*" data-id="([^"]*)" data-start="(\d+)" data-end="(\d+)"/g;
  for (let m = re.exec(svg); m; m = re.exec(svg)) {
    const id = m[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    if (!out.has(id)) out.set(id, { start: Number(m[2]), end: Number(m[3]) });
  }
  return out;
}

export class PageMapView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelSubs: vscode.Disposable[] = [];
  /** The document shown. */
  private target: vscode.Uri | undefined;
  /** Column of the editor the document was last seen in (where clicks reveal). */
  private column: vscode.ViewColumn | undefined;
  /** Latest map from the server, and the map the current webview instance was sent. */
  private last: PageMapSnapshot | undefined;
  private posted: PageMapSnapshot | undefined;
  private rendered: PageMapSnapshot | undefined;
  /** A change arrived while the panel was hidden. */
  private stale = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private pending = false;
  private readonly renderEmitter = new vscode.EventEmitter<PageMapSnapshot>();
  /** Fires when the webview confirms it drew a map. */
  readonly onDidRender = this.renderEmitter.event;
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly client: () => LanguageClient | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subs = [
      this.renderEmitter,
      vscode.window.onDidChangeActiveTextEditor((e) => this.follow(e)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0 && this.isTarget(e.document.uri)) this.schedule();
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.closed(d.uri)),
    ];
  }

  /** The map the webview shows now (confirmed by it). */
  get current(): PageMapSnapshot | undefined {
    return this.rendered;
  }

  get isOpen(): boolean {
    return !!this.panel;
  }

  /** The server analysed a document again (edit or settings): redraw if it is ours. */
  statusChanged(p: StatusParams): void {
    if (this.panel && this.isTarget(p.uri)) this.schedule();
  }

  async show(arg?: unknown): Promise<ShowPageMapResult | undefined> {
    const doc = await this.documentFor(arg);
    if (!doc) {
      void vscode.window.showErrorMessage('bartopo: open a .bartopo file to show its page map.');
      return undefined;
    }
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === doc);
    this.column = editor?.viewColumn ?? vscode.window.activeTextEditor?.viewColumn ?? this.column;
    this.setTarget(doc.uri);
    if (!this.panel) this.create();
    else if (!this.panel.visible) this.panel.reveal(undefined, true);
    await this.refresh();
    const panel = this.panel!;
    return {
      title: panel.title,
      viewType: panel.viewType,
      uri: doc.uri.toString(),
      viewColumn: panel.viewColumn,
      pages: this.last?.pages ?? 0,
      version: this.last?.version ?? -1,
    };
  }

  /** Handles a message of the webview (tests call it too, to act as the webview). */
  async receive(m: unknown): Promise<void> {
    if (!m || typeof m !== 'object') return;
    const msg = m as { type?: unknown; start?: unknown; end?: unknown; id?: unknown; uri?: unknown; version?: unknown; items?: unknown };
    if (msg.type === 'ready') {
      // A new instance of the page (first load, or shown again after being hidden).
      this.posted = undefined;
      if (this.last && !this.stale) this.post(this.last);
      else void this.refresh();
      return;
    }
    if (msg.type === 'rendered') {
      const l = this.posted;
      if (l && msg.uri === l.uri && msg.version === l.version) {
        this.rendered = { ...l, items: typeof msg.items === 'number' ? msg.items : undefined };
        this.renderEmitter.fire(this.rendered);
      }
      return;
    }
    if (typeof msg.start === 'number' && typeof msg.end === 'number') {
      await this.reveal(msg.start, msg.end, typeof msg.id === 'string' ? msg.id : undefined);
    }
  }

  /** Selects [start, end) (UTF-16 offsets in the mapped version) in the document's editor. */
  async reveal(start: number, end: number, id?: string): Promise<vscode.TextEditor | undefined> {
    const uri = this.last?.uri ?? this.target?.toString();
    if (!uri || !Number.isFinite(start) || !Number.isFinite(end)) return undefined;
    let doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    if (!doc) {
      // An untitled document that was closed is gone: opening its URI would make a new, empty one.
      if (vscode.Uri.parse(uri).scheme === 'untitled') {
        void vscode.window.showWarningMessage(`bartopo: ${fileName(vscode.Uri.parse(uri))} is no longer open.`);
        return undefined;
      }
      try {
        doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
      } catch {
        void vscode.window.showWarningMessage(`bartopo: ${fileName(vscode.Uri.parse(uri))} is no longer open.`);
        return undefined;
      }
    }
    // Offsets belong to the version the map was drawn from; after an edit, find the item again by id.
    if (id !== undefined && this.last && this.last.version !== doc.version) {
      await this.refresh();
      const span = this.last && this.last.version === doc.version ? itemSpans(this.last.svg).get(id) : undefined;
      if (span) ({ start, end } = span);
    }
    const len = doc.getText().length;
    const s = Math.max(0, Math.min(len, Math.trunc(start)));
    const e = Math.max(s, Math.min(len, Math.trunc(end)));
    const range = new vscode.Range(doc.positionAt(s), doc.positionAt(e));
    const visible = vscode.window.visibleTextEditors.find((ed) => ed.document === doc);
    const editor = await vscode.window.showTextDocument(doc, {
      viewColumn: visible?.viewColumn ?? this.column ?? vscode.ViewColumn.One,
      selection: range,
      preserveFocus: false,
      preview: false,
    });
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    return editor;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.subs) d.dispose();
  }

  // ---------------------------------------------------------------------------

  /** The mapped document was closed: the map it showed is no longer of anything open, so it is cleared, not left clickable. */
  private closed(uri: vscode.Uri): void {
    if (!this.isTarget(uri)) return;
    clearTimeout(this.timer);
    this.last = undefined;
    this.posted = undefined;
    this.rendered = undefined;
    void this.panel?.webview.postMessage({ type: 'message', text: `${fileName(uri)} was closed. Open a .bartopo file to see its page map.` });
  }

  private isTarget(uri: vscode.Uri | string): boolean {
    return !!this.target && this.target.toString() === uri.toString();
  }

  private async documentFor(arg: unknown): Promise<vscode.TextDocument | undefined> {
    let uri: vscode.Uri | undefined;
    if (arg instanceof vscode.Uri) uri = arg;
    else if (typeof arg === 'string' && arg !== '') uri = vscode.Uri.parse(arg);
    if (uri) {
      const doc = await vscode.workspace.openTextDocument(uri);
      return doc.languageId === LANGUAGE_ID ? doc : undefined;
    }
    const active = vscode.window.activeTextEditor?.document;
    if (active?.languageId === LANGUAGE_ID) return active;
    // Focus in the page map itself (or elsewhere): keep the file shown, else the one visible .bartopo editor.
    if (this.target) {
      const shown = vscode.workspace.textDocuments.find((d) => this.isTarget(d.uri));
      if (shown) return shown;
    }
    return vscode.window.visibleTextEditors.find((e) => e.document.languageId === LANGUAGE_ID)?.document;
  }

  private setTarget(uri: vscode.Uri): void {
    if (!this.isTarget(uri)) {
      this.target = uri;
      this.last = undefined;
    }
    if (this.panel) this.panel.title = `Page Map: ${fileName(uri)}`;
  }

  private create(): void {
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      `Page Map: ${fileName(this.target!)}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [], enableCommandUris: false, enableFindWidget: false },
    );
    this.panel = panel;
    this.posted = undefined;
    this.rendered = undefined;
    panel.webview.html = pageMapHtml(makeNonce());
    this.panelSubs = [
      panel.webview.onDidReceiveMessage((m) => {
        this.receive(m).catch((e) => this.log.error(`page map: ${e instanceof Error ? e.message : String(e)}`));
      }),
      panel.onDidChangeViewState((e) => {
        if (e.webviewPanel.visible && this.stale) void this.refresh();
      }),
      panel.onDidDispose(() => {
        for (const d of this.panelSubs) d.dispose();
        this.panelSubs = [];
        clearTimeout(this.timer);
        if (this.panel === panel) {
          this.panel = undefined;
          this.last = this.posted = this.rendered = undefined;
          this.stale = false;
        }
      }),
    ];
  }

  /** Follows the active editor to another .bartopo document. */
  private follow(editor: vscode.TextEditor | undefined): void {
    if (!this.panel || !editor || editor.document.languageId !== LANGUAGE_ID) return;
    this.column = editor.viewColumn ?? this.column;
    if (this.isTarget(editor.document.uri)) return;
    this.setTarget(editor.document.uri);
    void this.refresh();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), DEBOUNCE_MS);
  }

  /** Fetches and posts the map; concurrent calls share one loop that ends with the newest state. */
  private refresh(): Promise<void> {
    clearTimeout(this.timer);
    this.pending = true;
    if (!this.running) {
      this.running = (async () => {
        try {
          while (this.pending) {
            this.pending = false;
            await this.fetchOnce();
          }
        } finally {
          this.running = undefined;
        }
      })();
    }
    return this.running;
  }

  private async fetchOnce(): Promise<void> {
    const panel = this.panel;
    const target = this.target;
    const client = this.client();
    if (!panel || !target || !client) return;
    if (!panel.visible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const uri = target.toString();
    let r: PageMapResult | null;
    try {
      const params: PageMapParams = { uri };
      r = await client.sendRequest<PageMapResult | null>(PageMapRequest, params);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      this.log.error(`page map of ${uri}: ${text}`);
      if (this.panel === panel && this.isTarget(uri)) void panel.webview.postMessage({ type: 'message', text: `The page map could not be drawn: ${text}` });
      return;
    }
    if (this.panel !== panel || !this.isTarget(uri)) return; // switched meanwhile: the loop runs again
    if (!r) {
      void panel.webview.postMessage({ type: 'message', text: `${fileName(target)} is not open in the bartopo language server.` });
      return;
    }
    const snap: PageMapSnapshot = { uri, version: r.version, pages: r.pages, truncated: r.truncated, pageSize: r.pageSize, svg: r.svg };
    this.last = snap;
    const p = this.posted;
    if (p && p.uri === snap.uri && p.version === snap.version && p.svg === snap.svg) return;
    this.post(snap);
  }

  private post(snap: PageMapSnapshot): void {
    if (!this.panel) return;
    this.posted = snap;
    const pages = `${snap.pages} host page${snap.pages === 1 ? '' : 's'} of ${snap.pageSize}${snap.truncated ? ' (the first ones only)' : ''}`;
    const note = snap.pages === 0 ? '' : `${pages} · click an item to select its statement`;
    void this.panel.webview.postMessage({ type: 'map', svg: snap.svg, uri: snap.uri, version: snap.version, note });
  }
}
