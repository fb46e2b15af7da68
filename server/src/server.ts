// The bartopo language server: connection setup and wiring. Every feature
// lives in its own file under lsp/ and reads the one analysis per document
// version that lsp/documents.ts keeps. Every handler is guarded: an exception
// is logged and answered with an empty result, never allowed to end the
// process. The process ends when the client asks it to or when the client's
// process dies (`--clientProcessId` or initialize's `processId`, watched by
// vscode-languageserver).

import {
  ClientCapabilities,
  CodeLensRefreshRequest,
  Connection,
  createConnection,
  DidChangeConfigurationNotification,
  ErrorCodes,
  InitializeParams,
  InitializeResult,
  ProposedFeatures,
  ResponseError,
  SemanticTokens,
  SemanticTokensRefreshRequest,
  StreamMessageWriter,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { APPLY_EDIT_COMMAND, asCommands, CODE_ACTION_KINDS, CodeActions, editOfCommand } from './lsp/codeActions';
import { getCodeLenses } from './lsp/codeLens';
import { describeError, logError } from './lsp/log';
import { getCompletions } from './lsp/completion';
import { getDefinition, getReferences, prepareRename, rename } from './lsp/definition';
import { Diagnostics } from './lsp/diagnostics';
import { DocState, DocumentStore, guard, guardSync } from './lsp/documents';
import { getFoldingRanges } from './lsp/folding';
import { getFormattingEdits } from './lsp/formatting';
import { getHover } from './lsp/hover';
import { runImportLspci, runImportSysfs } from './lsp/imports';
import { getInlayHints } from './lsp/inlayHints';
import { KeptBufferJsonEncoder } from './lsp/jsonEncoder';
import { getPageMap } from './lsp/pageMap';
import { getSemanticTokens, LEGEND, SentTokens } from './lsp/semanticTokens';
import { analysisKey, DEFAULT_SETTINGS, parseSettings, Settings } from './lsp/settings';
import { getDocumentSymbols } from './lsp/symbols';
import { formatSize } from './engine';
import {
  ImportLspciParams,
  ImportLspciRequest,
  ImportResponse,
  ImportSysfsParams,
  ImportSysfsRequest,
  PageMapParams,
  PageMapRequest,
  PageMapResult,
  ResultLimitReachedNotification,
  ResultLimitReachedParams,
  SETTINGS_SECTION,
  StatusNotification,
  StatusParams,
} from './protocol';

declare const BARTOPO_VERSION: string | undefined;
export const SERVER_VERSION = typeof BARTOPO_VERSION === 'string' ? BARTOPO_VERSION : '0.0.0-dev';

/** How long to wait for the client's first `workspace/configuration` answer before using defaults. */
const SETTINGS_TIMEOUT_MS = 3000;

function settingsKey(s: Settings): string {
  return JSON.stringify({ ...s, pageSize: s.pageSize?.toString() ?? null, k: analysisKey(s) });
}

export function startServer(connection: Connection = createConnection(ProposedFeatures.all)): Connection {
  const documents = new TextDocuments(TextDocument);
  let caps: ClientCapabilities = {};
  let diagnostics: Diagnostics | undefined;
  let actions: CodeActions | undefined;
  let markdownHover = true;
  /** The client takes code action literals (else: commands, see `APPLY_EDIT_COMMAND`). */
  let literalActions = true;
  let pushedSettings: unknown; // settings a client without workspace/configuration sent
  let currentKey = settingsKey(DEFAULT_SETTINGS);
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((r) => (resolveReady = r));
  const limitsReported = new Set<string>();

  const log = (m: string): void => logError(connection, `bartopo: ${m}`);

  /** Last semantic tokens sent per document (for delta requests). */
  const sentTokens = new SentTokens();
  const store = new DocumentStore(
    documents,
    (s: DocState) => {
      if (!documents.get(s.uri)) return;
      let errors = 0;
      let warnings = 0;
      let infos = 0;
      for (const d of s.analysis.diagnostics) {
        if (d.severity === 'error') errors++;
        else if (d.severity === 'warning') warnings++;
        else infos++;
      }
      const host = s.analysis.topology.host;
      const params: StatusParams = {
        uri: s.uri,
        version: s.version,
        pageSize: formatSize(host.pageSize),
        pageSizeSource: host.pageSizeSource,
        errors,
        warnings,
        infos,
        omitted: Math.max(0, s.analysis.diagnostics.length - s.settings.maxDiagnostics),
        analysisMs: Math.round(s.ms * 10) / 10,
        incremental: s.analysis.reparsed,
        diagnosticsUnchanged: diagnostics ? diagnostics.sentAlready(s) : false,
      };
      void connection.sendNotification(StatusNotification, params).catch(() => undefined);
      if (params.omitted > 0) limitReached(s.uri, 'diagnostics', s.settings.maxDiagnostics);
    },
    log,
  );

  const limitReached = (uri: string, what: string, limit: number): void => {
    const k = `${uri}|${what}`;
    if (limitsReported.has(k)) return;
    limitsReported.add(k);
    const p: ResultLimitReachedParams = { uri, what, limit };
    void connection.sendNotification(ResultLimitReachedNotification, p).catch(() => undefined);
  };

  /** The current analysis of a document, once the first settings are known. */
  const stateOf = async (uri: string): Promise<DocState | undefined> => {
    await ready;
    return store.get(uri);
  };

  const applySettings = (raw: unknown): void => {
    const s = parseSettings(raw);
    const k = settingsKey(s);
    if (k === currentKey) return;
    currentKey = k;
    // A setting that changes neither the analysis nor the cap (inlay hints, debounce, …) re-checks nothing.
    const diagnosticsMayChange = store.setSettings(s);
    limitsReported.clear();
    if (diagnosticsMayChange) diagnostics?.revalidateAll();
    const ws = caps.workspace;
    if (ws?.inlayHint?.refreshSupport) void connection.languages.inlayHint.refresh().catch(() => undefined);
    if (ws?.codeLens?.refreshSupport) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
    if (ws?.semanticTokens?.refreshSupport) void connection.sendRequest(SemanticTokensRefreshRequest.type).catch(() => undefined);
  };

  const loadSettings = async (): Promise<void> => {
    if (caps.workspace?.configuration) {
      const raw: unknown = await connection.workspace.getConfiguration({ section: SETTINGS_SECTION });
      applySettings(raw);
    } else {
      applySettings(pushedSettings);
    }
  };

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    caps = params.capabilities ?? {};
    const opts = params.initializationOptions as { settings?: unknown } | undefined;
    if (opts && typeof opts === 'object') {
      pushedSettings = 'settings' in opts ? opts.settings : opts;
      applySettings(pushedSettings);
    }
    const td = caps.textDocument;
    const pull = !!td?.diagnostic;
    const formats = td?.hover?.contentFormat;
    markdownHover = !formats || formats.length === 0 || formats.includes('markdown');
    diagnostics = new Diagnostics(connection, store, pull, !!caps.workspace?.diagnostics?.refreshSupport);
    actions = new CodeActions(!!caps.workspace?.workspaceEdit?.documentChanges);
    literalActions = !!td?.codeAction?.codeActionLiteralSupport;
    const literal = literalActions;
    // Without literals, actions go out as commands that carry their edit: only useful if the client applies edits.
    const commandActions = !literal && !!caps.workspace?.applyEdit;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        ...(pull ? { diagnosticProvider: { identifier: 'bartopo', interFileDependencies: false, workspaceDiagnostics: false } } : {}),
        codeActionProvider: literal ? { codeActionKinds: CODE_ACTION_KINDS } : true,
        ...(commandActions ? { executeCommandProvider: { commands: [APPLY_EDIT_COMMAND] } } : {}),
        hoverProvider: true,
        inlayHintProvider: true,
        documentSymbolProvider: { label: 'bartopo' },
        foldingRangeProvider: true,
        completionProvider: { triggerCharacters: [' '] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: td?.rename?.prepareSupport ? { prepareProvider: true } : true,
        semanticTokensProvider: { legend: LEGEND, full: { delta: true }, range: true },
        documentFormattingProvider: true,
        documentRangeFormattingProvider: true,
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: 'bartopo-language-server', version: SERVER_VERSION },
    };
  });

  connection.onInitialized(
    guardSync(connection, 'initialized', () => {
      if (caps.workspace?.didChangeConfiguration?.dynamicRegistration) {
        void connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION }).catch(() => undefined);
      }
      store.warmUp();
      const timeout = setTimeout(resolveReady, SETTINGS_TIMEOUT_MS);
      loadSettings()
        .catch((e) => log(`reading settings failed: ${String(e)}`))
        .finally(() => {
          clearTimeout(timeout);
          resolveReady();
        });
    }),
  );

  connection.onDidChangeConfiguration(
    guardSync(connection, 'didChangeConfiguration', (params) => {
      const raw = (params?.settings as Record<string, unknown> | undefined)?.[SETTINGS_SECTION];
      if (raw !== undefined) pushedSettings = raw;
      void ready
        .then(loadSettings)
        .catch((e) => log(`reading settings failed: ${String(e)}`));
    }),
  );

  // TextDocuments fires onDidChangeContent right after onDidOpen, in the same turn, for the opened text; only real
  // edits are debounced. (Not told apart by version: a client may send an edit with the version it opened with.)
  const openEcho = new Set<string>();
  documents.onDidOpen(
    guardSync(connection, 'didOpen', (e) => {
      const uri = e.document.uri;
      openEcho.add(uri);
      void ready.then(() => diagnostics?.opened(uri));
    }),
  );
  documents.onDidChangeContent(
    guardSync(connection, 'didChange', (e) => {
      const uri = e.document.uri;
      if (openEcho.delete(uri)) return;
      void ready.then(() => diagnostics?.changed(uri));
    }),
  );
  documents.onDidClose(
    guardSync(connection, 'didClose', (e) => {
      store.delete(e.document.uri);
      sentTokens.forget(e.document.uri);
      openEcho.delete(e.document.uri);
      diagnostics?.closed(e.document.uri);
      for (const k of [...limitsReported]) if (k.startsWith(e.document.uri + '|')) limitsReported.delete(k);
    }),
  );

  connection.languages.diagnostics.on(
    guard(connection, 'diagnostic', { kind: 'full' as const, items: [] }, async (params, token) => {
      await ready;
      return diagnostics!.onPull(params, token);
    }),
  );

  connection.onCodeAction(
    guard(connection, 'codeAction', [], async (params) => {
      const s = await stateOf(params.textDocument.uri);
      if (!s || !actions) return [];
      const found = actions.get(s, params);
      if (literalActions) return found;
      return caps.workspace?.applyEdit ? asCommands(found) : [];
    }),
  );

  connection.onExecuteCommand(
    guard(connection, 'executeCommand', null, async (params) => {
      const edit = params.command === APPLY_EDIT_COMMAND ? editOfCommand(params.arguments) : undefined;
      if (!edit) throw new ResponseError(ErrorCodes.InvalidParams, `unknown command or arguments: ${String(params.command)}`);
      await connection.workspace.applyEdit(edit);
      return null;
    }),
  );

  connection.onHover(
    guard(connection, 'hover', null, async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? getHover(s, s.index.offsetAt(params.position), markdownHover) : null;
    }),
  );

  connection.languages.inlayHint.on(
    guard(connection, 'inlayHint', [], async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? getInlayHints(s, params.range) : [];
    }),
  );

  connection.onDocumentSymbol(
    guard(connection, 'documentSymbol', [], async (params) => {
      const s = await stateOf(params.textDocument.uri);
      if (!s) return [];
      const r = getDocumentSymbols(s);
      if (r.truncated) limitReached(s.uri, 'symbols', s.settings.maxItemsComputed);
      return r.symbols;
    }),
  );

  connection.onFoldingRanges(
    guard(connection, 'foldingRange', [], async (params) => {
      const s = await stateOf(params.textDocument.uri);
      if (!s) return [];
      const r = getFoldingRanges(s);
      if (r.truncated) limitReached(s.uri, 'folding', s.settings.maxItemsComputed);
      return r.ranges;
    }),
  );

  connection.onCompletion(
    guard(connection, 'completion', [], async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? getCompletions(s, params) : [];
    }),
  );

  connection.onDefinition(
    guard(connection, 'definition', [], async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? getDefinition(s, s.index.offsetAt(params.position)) : [];
    }),
  );

  connection.onReferences(
    guard(connection, 'references', [], async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? getReferences(s, s.index.offsetAt(params.position), params.context?.includeDeclaration ?? true) : [];
    }),
  );

  connection.onPrepareRename(
    guard(connection, 'prepareRename', null, async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? prepareRename(s, s.index.offsetAt(params.position)) : null;
    }),
  );

  connection.onRenameRequest(
    guard(connection, 'rename', null, async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? rename(s, s.index.offsetAt(params.position), params.newName) : null;
    }),
  );

  /** The whole document's tokens; a cut at the limit is reported once. */
  const documentTokens = (s: DocState): SemanticTokens => {
    const r = getSemanticTokens(s);
    if (r.truncated) limitReached(s.uri, 'semanticTokens', s.settings.maxItemsComputed * 10);
    return r.tokens;
  };

  connection.languages.semanticTokens.on(
    guard(connection, 'semanticTokens', { data: [] }, async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? sentTokens.full(s.uri, documentTokens(s)) : { data: [] };
    }),
  );

  connection.languages.semanticTokens.onDelta(
    guard(connection, 'semanticTokens/delta', { data: [] }, async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? sentTokens.delta(s.uri, params.previousResultId, documentTokens(s)) : { data: [] };
    }),
  );

  connection.languages.semanticTokens.onRange(
    guard(connection, 'semanticTokens/range', { data: [] }, async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? getSemanticTokens(s, params.range).tokens : { data: [] };
    }),
  );

  connection.onDocumentFormatting(
    guard(connection, 'formatting', [], async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? getFormattingEdits(s, params.options) : [];
    }),
  );

  connection.onDocumentRangeFormatting(
    guard(connection, 'rangeFormatting', [], async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? getFormattingEdits(s, params.options, params.range) : [];
    }),
  );

  connection.onCodeLens(
    guard(connection, 'codeLens', [], async (params) => {
      const s = await stateOf(params.textDocument.uri);
      return s ? getCodeLenses(s) : [];
    }),
  );

  connection.onRequest(
    PageMapRequest,
    guard(connection, PageMapRequest, null, async (params: PageMapParams): Promise<PageMapResult | null> => {
      if (typeof params?.uri !== 'string') throw new ResponseError(ErrorCodes.InvalidParams, 'uri is missing');
      const s = await stateOf(params.uri);
      return s ? getPageMap(s) : null;
    }),
  );

  /** Import requests answer an error the client can show, never an empty result. */
  const importing =
    <P>(name: string, f: (p: P) => ImportResponse | Promise<ImportResponse>) =>
    async (p: P): Promise<ImportResponse> => {
      try {
        return await f(p);
      } catch (e) {
        if (e instanceof ResponseError) throw e;
        log(`${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        throw new ResponseError(ErrorCodes.InternalError, `the import failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
  connection.onRequest(ImportLspciRequest, importing(ImportLspciRequest, (p: ImportLspciParams) => runImportLspci(p)));
  connection.onRequest(ImportSysfsRequest, importing(ImportSysfsRequest, (p: ImportSysfsParams) => runImportSysfs(p)));

  // Last line of defence: log, never die, on anything that escapes a handler.
  process.on('uncaughtException', (e) => log(`uncaught exception: ${describeError(e)}`));
  process.on('unhandledRejection', (e) => log(`unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));

  documents.listen(connection);
  connection.listen();
  return connection;
}

/**
 * The connection the command line asks for. With `--stdio`, what
 * vscode-languageserver sets up itself (stdin read as a stream, so the process
 * ends when stdin does), except that messages are encoded by
 * `KeptBufferJsonEncoder`, and console output goes to stderr: stdout carries the
 * protocol.
 */
export function connectionFromArgs(argv: string[] = process.argv): Connection {
  if (!argv.includes('--stdio')) return createConnection(ProposedFeatures.all);
  const writer = new StreamMessageWriter(process.stdout, { charset: 'utf-8', contentTypeEncoder: new KeptBufferJsonEncoder() });
  // A raw input stream with a message writer: vscode-languageserver accepts the mix
  // (it wraps a stream in a reader), though its typings offer streams or reader and writer.
  const connection = createConnection(ProposedFeatures.all, process.stdin as never, writer);
  const toStderr = new console.Console(process.stderr, process.stderr);
  for (const k of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'] as const) (console as unknown as Record<string, unknown>)[k] = toStderr[k].bind(toStderr);
  return connection;
}

if (require.main === module) startServer(connectionFromArgs());
