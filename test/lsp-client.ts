// A minimal LSP client for the protocol tests: starts the real bundled server
// (`node dist/server.js --stdio`) as a child process and talks JSON-RPC to it
// over its stdio with vscode-jsonrpc. Tests wait on notifications through
// promises (`waitForDiagnostics`, `waitFor`), never on fixed sleeps.

import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createMessageConnection, MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { ClientCapabilities, InitializeResult, PublishDiagnosticsParams, TextDocumentContentChangeEvent, TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { REPO_ROOT } from './paths';

export const SERVER_JS = path.join(REPO_ROOT, 'dist', 'server.js');

/** Capabilities of a typical push-diagnostics client (Neovim-like) with workspace/configuration. */
export const PUSH_CAPABILITIES: ClientCapabilities = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    workspaceEdit: { documentChanges: true },
    inlayHint: { refreshSupport: true },
    codeLens: { refreshSupport: true },
    semanticTokens: { refreshSupport: true },
  },
  textDocument: {
    synchronization: { dynamicRegistration: false },
    publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true, dataSupport: true },
    codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'refactor', 'refactor.rewrite', 'source', 'source.fixAll'] } }, isPreferredSupport: true, dataSupport: true },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    completion: { completionItem: { snippetSupport: false } },
    rename: { prepareSupport: true },
    documentSymbol: { hierarchicalDocumentSymbolSupport: true },
    foldingRange: { lineFoldingOnly: true },
  },
};

type Waiter = { method: string; pred: (p: unknown) => boolean; resolve: (p: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class LspClient {
  readonly notifications: { method: string; params: unknown }[] = [];
  readonly configRequests: unknown[] = [];
  readonly appliedEdits: WorkspaceEdit[] = [];
  /** What workspace/configuration answers for the `bartopo` section. */
  settings: unknown = {};
  stderr = '';
  private waiters: Waiter[] = [];
  private docs = new Map<string, TextDocument>();
  exited: Promise<number | null>;

  private constructor(
    readonly proc: cp.ChildProcess,
    readonly conn: MessageConnection,
  ) {
    this.exited = new Promise((r) => proc.on('exit', (code) => r(code)));
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    conn.onNotification((method: string, params: unknown) => {
      this.notifications.push({ method, params });
      for (const w of [...this.waiters]) {
        if (w.method === method && w.pred(params)) {
          clearTimeout(w.timer);
          this.waiters = this.waiters.filter((x) => x !== w);
          w.resolve(params);
        }
      }
    });
    conn.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) => {
      this.configRequests.push(p);
      return p.items.map((i) => (i.section === 'bartopo' ? this.settings : null));
    });
    conn.onRequest('client/registerCapability', () => null);
    conn.onRequest('client/unregisterCapability', () => null);
    conn.onRequest('workspace/inlayHint/refresh', () => null);
    conn.onRequest('workspace/codeLens/refresh', () => null);
    conn.onRequest('workspace/semanticTokens/refresh', () => null);
    conn.onRequest('workspace/diagnostic/refresh', () => null);
    conn.onRequest('window/workDoneProgress/create', () => null);
    conn.onRequest('workspace/applyEdit', (p: { edit: WorkspaceEdit }) => {
      this.appliedEdits.push(p.edit);
      return { applied: true };
    });
    conn.listen();
  }

  static async start(opts: { capabilities?: ClientCapabilities; settings?: unknown; initializationOptions?: unknown; args?: string[] } = {}): Promise<{ client: LspClient; init: InitializeResult }> {
    if (!fs.existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} is missing: run \`node scripts/bundle.js\` first`);
    const proc = cp.spawn(process.execPath, [SERVER_JS, '--stdio', ...(opts.args ?? [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const client = new LspClient(proc, conn);
    if (opts.settings !== undefined) client.settings = opts.settings;
    const init = (await conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: opts.capabilities ?? PUSH_CAPABILITIES,
      initializationOptions: opts.initializationOptions,
    })) as InitializeResult;
    await conn.sendNotification('initialized', {});
    return { client, init };
  }

  /** Resolves with the first notification `method` (already received or future) whose params satisfy `pred`. */
  waitFor<T>(method: string, pred: (p: T) => boolean = () => true, timeoutMs = 15000, includePast = true): Promise<T> {
    if (includePast) {
      const past = this.notifications.find((n) => n.method === method && pred(n.params as T));
      if (past) return Promise.resolve(past.params as T);
    }
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = {
        method,
        pred: pred as (p: unknown) => boolean,
        resolve: resolve as (p: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`timed out waiting for ${method}; server stderr:\n${this.stderr}`));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /** Diagnostics published for `uri` at `version` (or the first publish when no version is given). */
  waitForDiagnostics(uri: string, version?: number): Promise<PublishDiagnosticsParams> {
    return this.waitFor<PublishDiagnosticsParams>('textDocument/publishDiagnostics', (p) => p.uri === uri && (version === undefined || p.version === version));
  }

  /**
   * Resolves once the client's diagnostics for `uri` are those of `version`:
   * either they were published for it, or the server's status says that
   * version's diagnostics are unchanged (then nothing is sent again and the last
   * publish stands). Resolves with the diagnostics the client now shows.
   */
  async waitForCurrentDiagnostics(uri: string, version: number): Promise<PublishDiagnosticsParams> {
    const published = this.waitForDiagnostics(uri, version);
    const unchanged = this.waitFor<{ uri: string; version: number; diagnosticsUnchanged: boolean }>('bartopo/status', (p) => p.uri === uri && p.version === version && p.diagnosticsUnchanged);
    published.catch(() => undefined);
    unchanged.catch(() => undefined);
    const p = await Promise.race([published, unchanged.then(() => undefined)]);
    if (p) return p;
    const all = this.publishes(uri);
    if (all.length === 0) throw new Error(`${uri}: diagnostics of version ${version} are "unchanged" but none were ever published`);
    return all[all.length - 1];
  }

  publishes(uri: string): PublishDiagnosticsParams[] {
    return this.notifications.filter((n) => n.method === 'textDocument/publishDiagnostics' && (n.params as PublishDiagnosticsParams).uri === uri).map((n) => n.params as PublishDiagnosticsParams);
  }

  /** Sends a request; rejects (with the server's stderr) if no answer comes within `timeoutMs`. */
  request<T>(method: string, params: unknown, timeoutMs = 15000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to ${method} within ${timeoutMs} ms; server stderr:\n${this.stderr}`)), timeoutMs);
    });
    return Promise.race([this.conn.sendRequest(method, params) as Promise<T>, timeout]).finally(() => clearTimeout(timer));
  }

  text(uri: string): string {
    return this.docs.get(uri)!.getText();
  }

  version(uri: string): number {
    return this.docs.get(uri)!.version;
  }

  async open(uri: string, text: string, version = 1): Promise<void> {
    this.docs.set(uri, TextDocument.create(uri, 'bartopo', version, text));
    await this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'bartopo', version, text } });
  }

  /** Sends incremental changes (ranges in the current text) and returns the new version. */
  async change(uri: string, changes: TextDocumentContentChangeEvent[]): Promise<number> {
    const doc = this.docs.get(uri)!;
    const version = doc.version + 1;
    TextDocument.update(doc, changes, version);
    await this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
    return version;
  }

  /** Applies LSP text edits to the client's copy and sends them as incremental changes; returns the new version. */
  async applyEdits(uri: string, edits: TextEdit[]): Promise<number> {
    // Later edits first, so each range is still valid in the text it applies to.
    const sorted = [...edits].sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character);
    return this.change(
      uri,
      sorted.map((e) => ({ range: e.range, text: e.newText })),
    );
  }

  /** Text edits of a workspace edit for `uri` (either form). */
  static editsOf(edit: WorkspaceEdit | undefined, uri: string): TextEdit[] {
    if (!edit) return [];
    if (edit.documentChanges) {
      const out: TextEdit[] = [];
      for (const dc of edit.documentChanges) if ('textDocument' in dc && dc.textDocument.uri === uri) out.push(...(dc.edits as TextEdit[]));
      return out;
    }
    return edit.changes?.[uri] ?? [];
  }

  async close(uri: string): Promise<void> {
    this.docs.delete(uri);
    await this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  async stop(): Promise<void> {
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters = [];
    if (this.proc.exitCode === null) {
      try {
        await Promise.race([this.conn.sendRequest('shutdown'), this.exited]);
        await this.conn.sendNotification('exit');
      } catch {
        // already gone
      }
      const killer = setTimeout(() => this.proc.kill(), 5000);
      await this.exited;
      clearTimeout(killer);
    }
    this.conn.dispose();
  }
}

/** Applies text edits to a string (for comparing expected results). */
export function applyTextEdits(text: string, edits: TextEdit[]): string {
  return TextDocument.applyEdits(TextDocument.create('x:', 'bartopo', 0, text), edits);
}

/** Offset → LSP position helper for inline test documents. */
export function positionOf(text: string, needle: string, delta = 0): { line: number; character: number } {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`\`${needle}\` not found`);
  const before = text.slice(0, i + delta);
  const lines = before.split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
}
