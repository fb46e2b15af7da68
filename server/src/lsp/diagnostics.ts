// Diagnostics as the user types. Pull (textDocument/diagnostic) when the
// client supports it, push (publishDiagnostics) otherwise. Either way a
// document is analysed at most once per version, and a result computed for a
// version the user has already moved past is never published.
//
// Scheduling is a throttle with a leading edge: a keystroke after a pause is
// checked at once (on the next turn of the event loop); a keystroke that
// closely follows an analysis waits until `delay` has passed since that
// analysis, and a newer keystroke replaces the
// pending run. `delay` is half the document's usual analysis time, 5 ms to 1 s.
// So an isolated edit costs one analysis and no waiting, and a burst of typing
// in a file of any size keeps the server at most about two thirds busy with it
// (requests for other documents are answered between its analyses), with
// diagnostics at most one analysis behind.
//
// A version whose diagnostics are exactly those the client already holds (the
// store compares them: see `sameAs` in documents.ts) is not sent again: push
// skips it, and a pull gets `unchanged` (versions with identical diagnostics
// share a result id).

import {
  CancellationToken,
  Connection,
  DocumentDiagnosticParams,
  DocumentDiagnosticReport,
  DocumentDiagnosticReportKind,
  LSPErrorCodes,
  ResponseError,
} from 'vscode-languageserver';
import { prepareFixes } from '../engine';
import { diagnosticsByKey, diagnosticsVersion, DocState, DocumentStore, lspDiagnostics } from './documents';
import { describeError, logError } from './log';

/** Bounds of the adaptive delay, in ms, when `bartopo.debounceMs` is not set. */
const MIN_DELAY = 5;
const MAX_DELAY = 1000;
/** Least wait: none (the run is queued behind the messages already read, see `changed`). */
const COALESCE = 0;
/**
 * After this long without an edit, what the quick fixes of the version share is built
 * (`prepareFixes`), so that the first code action after a pause is not the one that pays
 * for it; skipped for documents whose analysis takes longer than PREPARE_MAX_MS (the
 * preparation would hold the server for a noticeable time).
 */
const PREPARE_AFTER_MS = 150;
const PREPARE_MAX_MS = 300;

export class Diagnostics {
  private readonly timers = new Map<string, { cancel(): void }>();
  /** When each document was last analysed (performance.now()). */
  private readonly lastRun = new Map<string, number>();
  /** The analysis (`diagnosticsVersion`) whose diagnostics were last sent (published, or answered to a pull), per document. */
  private readonly published = new Map<string, number>();
  /** Pending preparation of quick fixes, per document. */
  private readonly preparing = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly connection: Connection,
    private readonly store: DocumentStore,
    /** Whether the client pulls diagnostics (then nothing is pushed). */
    readonly pull: boolean,
    private readonly refreshSupport: boolean,
  ) {}

  /**
   * Whether the client already holds `s`'s diagnostics: those last sent for its document are the same analysis's
   * (`diagnosticsVersion`). Compared with what was sent, not with the version analysed before, which a hover or
   * code action may have had analysed without its diagnostics ever being sent.
   */
  sentAlready(s: DocState): boolean {
    return this.published.get(s.uri) === diagnosticsVersion(s);
  }

  /** Least time between two analyses of a document (see the top of this file). */
  delayFor(uri: string): number {
    const fixed = this.store.currentSettings.debounceMs;
    if (fixed !== undefined) return fixed;
    return Math.round(Math.min(MAX_DELAY, Math.max(MIN_DELAY, this.store.costOf(uri) / 2)));
  }

  opened(uri: string): void {
    if (!this.pull) this.validateNow(uri);
  }

  /** Milliseconds to wait before analysing a change made now (0: at once). */
  waitFor(uri: string): number {
    const last = this.lastRun.get(uri);
    if (last === undefined) return COALESCE;
    return Math.max(COALESCE, Math.round(last + this.delayFor(uri) - performance.now()));
  }

  changed(uri: string): void {
    if (this.pull) return;
    this.cancel(uri);
    const run = (): void => {
      this.timers.delete(uri);
      this.validateNow(uri);
    };
    const wait = this.waitFor(uri);
    if (wait <= 0) {
      // A keystroke after a pause: checked on the next turn of the event loop, without a timer's extra millisecond.
      const t = setImmediate(run);
      this.timers.set(uri, { cancel: () => clearImmediate(t) });
    } else {
      const t = setTimeout(run, wait);
      this.timers.set(uri, { cancel: () => clearTimeout(t) });
    }
  }

  closed(uri: string): void {
    this.cancel(uri);
    this.lastRun.delete(uri);
    this.published.delete(uri);
    if (!this.pull) void this.connection.sendDiagnostics({ uri, diagnostics: [] }).catch(() => undefined);
  }

  /**
   * Settings changed what diagnostics show: every open document is checked again, one per turn of
   * the event loop, so that requests are answered in between (a pull client is asked to pull again).
   */
  revalidateAll(): void {
    this.published.clear();
    if (this.pull) {
      if (this.refreshSupport) void this.connection.languages.diagnostics.refresh().catch(() => undefined);
      return;
    }
    for (const doc of this.store.documents.all()) {
      const uri = doc.uri;
      this.cancel(uri);
      const t = setImmediate(() => {
        this.timers.delete(uri);
        this.validateNow(uri);
      });
      this.timers.set(uri, { cancel: () => clearImmediate(t) });
    }
  }

  private cancel(uri: string): void {
    this.timers.get(uri)?.cancel();
    this.timers.delete(uri);
    clearTimeout(this.preparing.get(uri));
    this.preparing.delete(uri);
  }

  /** Prepares the quick fixes of this version once the user has paused (see PREPARE_AFTER_MS), unless a newer version comes first. */
  private prepareLater(s: DocState): void {
    clearTimeout(this.preparing.get(s.uri));
    this.preparing.delete(s.uri);
    if (s.ms > PREPARE_MAX_MS) return;
    const t = setTimeout(() => {
      this.preparing.delete(s.uri);
      if (this.store.current(s.uri) !== s) return;
      try {
        prepareFixes(s.analysis);
        diagnosticsByKey(s); // how code actions find the diagnostic a client sends
      } catch (e) {
        logError(this.connection, `bartopo: preparing the fixes of ${s.uri} failed: ${describeError(e)}`);
      }
    }, PREPARE_AFTER_MS);
    t.unref?.();
    this.preparing.set(s.uri, t);
  }

  /** Analyses (or takes the cached analysis of) the current version and publishes it. */
  validateNow(uri: string): void {
    try {
      const fresh = !this.store.isCurrent(uri);
      const s = this.store.get(uri);
      if (!s) return;
      if (fresh) this.lastRun.set(uri, performance.now());
      this.publish(s);
      this.prepareLater(s);
    } catch (e) {
      logError(this.connection, `bartopo: validating ${uri} failed: ${describeError(e)}`);
    }
  }

  private publish(s: DocState): void {
    const doc = this.store.documents.get(s.uri);
    if (!doc || doc.version !== s.version) return; // stale: a newer version is on its way
    // A version whose diagnostics are those already published (a keystroke in a comment or label) sends nothing.
    const shown = diagnosticsVersion(s);
    if (this.published.get(s.uri) === shown) return;
    this.published.set(s.uri, shown);
    const { diagnostics } = lspDiagnostics(s);
    void this.connection.sendDiagnostics({ uri: s.uri, version: s.version, diagnostics }).catch(() => undefined);
  }

  /** textDocument/diagnostic. */
  async onPull(params: DocumentDiagnosticParams, token: CancellationToken): Promise<DocumentDiagnosticReport> {
    const uri = params.textDocument.uri;
    if (!this.store.documents.get(uri)) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
    const fresh = !this.store.isCurrent(uri);
    if (fresh) {
      // Throttle: during a burst, let the keystrokes that follow this one cancel this request.
      const wait = this.waitFor(uri);
      await new Promise((r) => setTimeout(r, wait));
      if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'a newer version of the document is being checked');
    }
    const wasCurrent = this.store.isCurrent(uri);
    const s = this.store.get(uri);
    if (s && !wasCurrent) this.lastRun.set(uri, performance.now());
    if (!s) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
    // Versions with identical diagnostics share a result id, so the client is told `unchanged`. The id names the
    // settings generation and the opening of the document too: versions start again at a reopen.
    const resultId = `${this.store.generation}:${this.store.openingOf(uri)}:${diagnosticsVersion(s)}`;
    this.prepareLater(s);
    this.published.set(uri, diagnosticsVersion(s));
    if (params.previousResultId === resultId) return { kind: DocumentDiagnosticReportKind.Unchanged, resultId };
    return { kind: DocumentDiagnosticReportKind.Full, resultId, items: lspDiagnostics(s).diagnostics };
  }
}
