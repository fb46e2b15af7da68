// Helpers of the integration suite (runs inside VS Code's extension host).
// Everything waits on events (diagnostics changes) or on a provider's answer;
// nothing sleeps a fixed time.

import { spawnSync } from 'child_process';
import * as path from 'path';
import * as vscode from 'vscode';

/** Repository root (this file runs compiled from out/test/vscode/). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** The extension's id (`publisher.name` of package.json). */
export function extensionId(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const p = require(path.join(REPO_ROOT, 'package.json')) as { publisher: string; name: string };
  return `${p.publisher}.${p.name}`;
}

/** The folder the tests work in: a copy of examples/ opened as the workspace. */
export function workspaceDir(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f) throw new Error('no workspace folder open: the suite needs a copy of examples/ as the workspace');
  return f.uri.fsPath;
}

export function exampleUri(name: string): vscode.Uri {
  return vscode.Uri.file(path.join(workspaceDir(), name));
}

// --- Expectations from the CLI -------------------------------------------------

export interface CliRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}
export interface CliDiagnostic {
  rule: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  range: CliRange;
  subject?: string;
  related?: { message: string; range: CliRange }[];
}
export interface CliBar {
  id: string;
  kind: string;
  size: string;
  host?: string;
  hostVerdict: string;
  guests: Record<string, { address?: string; verdict: string }>;
}
export interface CliFile {
  path: string;
  pageSize: string;
  diagnostics: CliDiagnostic[];
  bars: CliBar[];
}

/**
 * `bartopo check -f json` on files (the CLI: same engine, other code path).
 * Runs with the extension host's own executable: Node in code-server, Electron
 * in node mode under @vscode/test-electron.
 */
const cliCache = new Map<string, CliFile[]>();

export function cliCheck(files: string[], extraArgs: string[] = []): CliFile[] {
  // The suite only edits documents in memory (files on disk keep the examples' text): cache per call.
  const key = JSON.stringify([files, extraArgs]);
  const cached = cliCache.get(key);
  if (cached) return JSON.parse(JSON.stringify(cached)) as CliFile[];
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'bartopo.js'), 'check', '-f', 'json', ...extraArgs, ...files], {
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  let j: { files: CliFile[] };
  try {
    j = JSON.parse(r.stdout) as { files: CliFile[] };
  } catch {
    throw new Error(`bartopo check -f json failed (exit ${r.status}): ${r.stderr}\n${r.stdout}`);
  }
  cliCache.set(key, j.files);
  return JSON.parse(JSON.stringify(j.files)) as CliFile[];
}

// --- Diagnostics ----------------------------------------------------------------

const SEVERITY: Record<CliDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export function codeOf(d: vscode.Diagnostic): string | undefined {
  const c = d.code;
  if (c === undefined) return undefined;
  return typeof c === 'object' ? String(c.value) : String(c);
}

function r2s(r: vscode.Range | CliRange): string {
  return `${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}`;
}

/** Comparable form of a diagnostic: what a person sees and what tools read. */
export interface PlainDiagnostic {
  code: string | undefined;
  severity: vscode.DiagnosticSeverity;
  range: string;
  message: string;
  source?: string;
  related: string[];
}

export function plain(d: vscode.Diagnostic): PlainDiagnostic {
  return {
    code: codeOf(d),
    severity: d.severity,
    range: r2s(d.range),
    message: d.message,
    source: d.source,
    related: (d.relatedInformation ?? []).map((r) => `${r2s(r.location.range)} ${r.message}`),
  };
}

export function plainFromCli(d: CliDiagnostic): PlainDiagnostic {
  return {
    code: d.rule,
    severity: SEVERITY[d.severity],
    range: r2s(d.range),
    message: d.message,
    source: 'bartopo',
    related: (d.related ?? []).map((r) => `${r2s(r.range)} ${r.message}`),
  };
}

export function sortPlain(ds: PlainDiagnostic[]): PlainDiagnostic[] {
  return [...ds].sort((a, b) => (a.range + a.code + a.message < b.range + b.code + b.message ? -1 : 1));
}

export function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'bartopo');
}

/**
 * Resolves with the document's bartopo diagnostics as soon as `ok` accepts
 * them: checked now, then on every onDidChangeDiagnostics event for the uri.
 * Rejects after `timeoutMs` with what was there last.
 */
export function waitForDiagnostics(uri: vscode.Uri, ok: (ds: vscode.Diagnostic[]) => boolean, what: string, timeoutMs = 20_000): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const now = ours(uri);
    if (ok(now)) return resolve(now);
    const timer = setTimeout(() => {
      sub.dispose();
      const last = ours(uri);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for diagnostics of ${path.basename(uri.fsPath)}: ${what}; last seen:\n${JSON.stringify(last.map(plain), null, 1)}`));
    }, timeoutMs);
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (!e.uris.some((u) => u.toString() === uri.toString())) return;
      const ds = ours(uri);
      if (ok(ds)) {
        clearTimeout(timer);
        sub.dispose();
        resolve(ds);
      }
    });
  });
}

/** Waits until the document's diagnostics are exactly `expected` (order aside). */
export function waitForExactly(uri: vscode.Uri, expected: PlainDiagnostic[], what: string, timeoutMs?: number): Promise<vscode.Diagnostic[]> {
  const want = JSON.stringify(sortPlain(expected));
  return waitForDiagnostics(uri, (ds) => JSON.stringify(sortPlain(ds.map(plain))) === want, what, timeoutMs);
}

// --- Documents ----------------------------------------------------------------------

export async function openExample(name: string): Promise<{ uri: vscode.Uri; doc: vscode.TextDocument; editor: vscode.TextEditor }> {
  const uri = exampleUri(name);
  const doc = await vscode.workspace.openTextDocument(uri);
  // Shown in an editor: pull diagnostics are requested for visible documents.
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  return { uri, doc, editor };
}

export function fullRange(doc: vscode.TextDocument): vscode.Range {
  return new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
}

/** Replaces the whole text of a document (unsaved), through workspace.applyEdit. */
export async function setText(doc: vscode.TextDocument, text: string): Promise<void> {
  if (doc.getText() === text) return;
  const e = new vscode.WorkspaceEdit();
  e.replace(doc.uri, fullRange(doc), text);
  if (!(await vscode.workspace.applyEdit(e))) throw new Error(`could not restore ${doc.uri.fsPath}`);
}

/** Position of the `nth` occurrence of `needle` in the document (plus `delta` characters). */
export function positionOf(doc: vscode.TextDocument, needle: string | RegExp, delta = 0, nth = 0): vscode.Position {
  const text = doc.getText();
  let at = -1;
  if (typeof needle === 'string') {
    for (let i = 0; i <= nth; i++) {
      at = text.indexOf(needle, at + 1);
      if (at < 0) break;
    }
  } else {
    const re = new RegExp(needle.source, needle.flags.includes('g') ? needle.flags : needle.flags + 'g');
    let m: RegExpExecArray | null = null;
    for (let i = 0; i <= nth; i++) m = re.exec(text);
    at = m ? m.index : -1;
  }
  if (at < 0) throw new Error(`${String(needle)} not found in ${doc.uri.fsPath}`);
  return doc.positionAt(at + delta);
}

/** Page of `addr` (hex string) for a page size (hex string), as the engine prints it. */
export function pageOf(addrHex: string, pageHex: string): string {
  const a = BigInt(addrHex);
  const p = BigInt(pageHex);
  return '0x' + (a - (a % p)).toString(16);
}

export function offsetIn(addrHex: string, pageHex: string): string {
  return '0x' + (BigInt(addrHex) % BigInt(pageHex)).toString(16);
}

export function sizeName(bytesHex: string): string {
  const v = BigInt(bytesHex);
  for (const [unit, n] of [['G', 1n << 30n], ['M', 1n << 20n], ['K', 1n << 10n]] as const) if (v % n === 0n) return `${v / n}${unit}`;
  return String(v);
}

export function markdownText(h: vscode.Hover): string {
  return h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : String(c))).join('\n');
}
