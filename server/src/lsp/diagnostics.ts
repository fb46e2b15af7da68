// Diagnostics as the user types. Pull (textDocument/diagnostic) when the
// client supports it, push (publishDiagnostics) otherwise. Either way a
// document is analysed at most once per version, after an adaptive debounce:
// a new keystroke cancels the pending run, and a result computed for a
// version the user has already moved past is never published.

import {
  CancellationToken,
  Connection,
  DocumentDiagnosticParams,
  DocumentDiagnosticReport,
  DocumentDiagnosticReportKind,
  LSPErrorCodes,
  ResponseError,
} from 'vscode-languageserver';
import { DocState, DocumentStore, lspDiagnostics } from './documents';

/** Debounce bounds in ms when `bartopo.debounceMs` is not set. */
const MIN_DELAY = 5;
const MAX_DELAY = 250;

export class Diagnostics {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Version last published per document (push mode). */
  private readonly published = new Map<string, number>();
  /** When each document last changed (pull mode's debounce). */
  private readonly changedAt = new Map<string, number>();

  constructor(
    private readonly connection: Connection,
    private readonly store: DocumentStore,
    /** Whether the client pulls diagnostics (then nothing is pushed). */
    readonly pull: boolean,
    private readonly refreshSupport: boolean,
  ) {}

  /** Delay before analysing after a change: 1.5 × the document's usual analysis time, within bounds. */
  delayFor(uri: string): number {
    const fixed = this.store.currentSettings.debounceMs;
    if (fixed !== undefined) return fixed;
    return Math.round(Math.min(MAX_DELAY, Math.max(MIN_DELAY, this.store.costOf(uri) * 1.5)));
  }

  opened(uri: string): void {
    this.changedAt.set(uri, 0);
    if (!this.pull) this.validateNow(uri);
  }

  changed(uri: string): void {
    this.changedAt.set(uri, Date.now());
    if (this.pull) return;
    this.cancel(uri);
    const t = setTimeout(() => {
      this.timers.delete(uri);
      this.validateNow(uri);
    }, this.delayFor(uri));
    this.timers.set(uri, t);
  }

  closed(uri: string): void {
    this.cancel(uri);
    this.changedAt.delete(uri);
    this.published.delete(uri);
    if (!this.pull) void this.connection.sendDiagnostics({ uri, diagnostics: [] }).catch(() => undefined);
  }

  /** Settings changed: every open document is checked again. */
  revalidateAll(): void {
    if (this.pull) {
      if (this.refreshSupport) void this.connection.languages.diagnostics.refresh().catch(() => undefined);
      return;
    }
    this.published.clear();
    for (const doc of this.store.documents.all()) {
      this.cancel(doc.uri);
      this.validateNow(doc.uri);
    }
  }

  private cancel(uri: string): void {
    const t = this.timers.get(uri);
    if (t) clearTimeout(t);
    this.timers.delete(uri);
  }

  /** Analyses (or takes the cached analysis of) the current version and publishes it. */
  validateNow(uri: string): void {
    try {
      const s = this.store.get(uri);
      if (!s) return;
      this.publish(s);
    } catch (e) {
      this.connection.console.error(`bartopo: validating ${uri} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }

  private publish(s: DocState): void {
    const doc = this.store.documents.get(s.uri);
    if (!doc || doc.version !== s.version) return; // stale: a newer version is on its way
    if (this.published.get(s.uri) === s.version) return;
    this.published.set(s.uri, s.version);
    const { diagnostics } = lspDiagnostics(s);
    void this.connection.sendDiagnostics({ uri: s.uri, version: s.version, diagnostics }).catch(() => undefined);
  }

  /** textDocument/diagnostic. */
  async onPull(params: DocumentDiagnosticParams, token: CancellationToken): Promise<DocumentDiagnosticReport> {
    const uri = params.textDocument.uri;
    if (!this.store.documents.get(uri)) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
    if (!this.store.isCurrent(uri)) {
      // Debounce: let the keystrokes that follow this one cancel this request.
      const since = Date.now() - (this.changedAt.get(uri) ?? 0);
      const wait = this.delayFor(uri) - since;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'a newer version of the document is being checked');
    }
    const s = this.store.get(uri);
    if (!s) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
    const resultId = `${this.store.generation}:${s.version}`;
    if (params.previousResultId === resultId) return { kind: DocumentDiagnosticReportKind.Unchanged, resultId };
    return { kind: DocumentDiagnosticReportKind.Full, resultId, items: lspDiagnostics(s).diagnostics };
  }
}
