// One analysis per document version, shared by every feature. The store keeps
// the analysis of each open document's current version (and whatever is
// derived from it: line index, LSP diagnostics, BAR reports, fixes) and drops
// it when the text or the settings change. Nothing here talks to the client
// except through the callbacks it is given.

import { TextDocument } from 'vscode-languageserver-textdocument';
import { Connection, DocumentSymbol, ErrorCodes, FoldingRange, ResponseError, TextDocuments } from 'vscode-languageserver';
import { paramsProblem } from './params';
import { analyze, Analysis, BarReport, barReports, changedRegion, computeFixes, Diagnostic, Fix, FixAllResult, LineIndex } from '../engine';
import { ConvertedDiagnostics, DiagnosticsSnapshot, sameAfterEdit, sameDiagnostics, snapshotDiagnostics, toLspDiagnostics } from './convert';
import { analysisKey, analyzeOptions, DEFAULT_SETTINGS, Settings } from './settings';
import { describeError, logError } from './log';

/** Everything known about one version of one document. */
export interface DocState {
  uri: string;
  /** The client's version number (published with the diagnostics; a client may reuse one for another text). */
  version: number;
  /** The store's own number for this analysis, never reused: what publishing and pull result ids compare. */
  seq: number;
  text: string;
  analysis: Analysis;
  index: LineIndex;
  /** Settings the analysis was made with. */
  settings: Settings;
  settingsKey: string;
  /** Milliseconds the analysis took. */
  ms: number;
  /**
   * Set when this version's LSP diagnostics show exactly what an earlier
   * version's did (a keystroke in a comment or a label): that analysis's
   * `seq`. What the client already shows stays valid and is not sent again.
   */
  sameAs?: number;
  /** Where this version's diagnostics are (the next version's are compared with it first). */
  snapshot: DiagnosticsSnapshot;
  /** Derived lazily, once per version. */
  derived: {
    lsp?: ConvertedDiagnostics;
    bars?: BarReport[];
    /** BAR reports of single devices (hover), by device name. */
    deviceBars?: Map<string, BarReport[]>;
    fixes: Map<string, Fix[]>;
    fixAll?: FixAllResult;
    /** Engine diagnostics by `rule|subject|guest` (code actions find theirs without a scan). */
    byKey?: Map<string, Diagnostic[]>;
    /** The outline and the folding ranges (both cut at `maxItemsComputed`). */
    symbols?: { symbols: DocumentSymbol[]; truncated: boolean };
    folding?: { ranges: FoldingRange[]; truncated: boolean };
  };
}

/**
 * A document over the size limit is not analysed (that would hold the server,
 * and every other document, for seconds): it gets an empty analysis and one
 * diagnostic that says why and what to do.
 */
function tooLarge(text: string, maxMB: number, settings: Settings): Analysis | undefined {
  const mb = text.length / (1024 * 1024);
  if (mb <= maxMB) return undefined;
  const empty = analyze('');
  // Its severity can be overridden like any rule's (`bartopo.severity`); `off` shows nothing.
  const level = settings.severity['file-too-large'];
  if (level === 'off') return empty;
  const diagnostic: Diagnostic = {
    rule: 'file-too-large',
    severity: level ?? 'warning',
    message: `This file is ${mb.toFixed(1)} MB; the editor analyses files up to ${maxMB} MB (setting bartopo.maxFileSizeMB), so it shows no diagnostics here. Check it with \`bartopo check\` on the command line, or split it.`,
    span: { start: 0, end: 0 },
    related: [],
  };
  return { ...empty, text, diagnostics: [diagnostic] };
}

/** VF BARs listed per VF in reports (hover and hints show the first few). */
const REPORT_VFS = 4;

export class DocumentStore {
  private readonly states = new Map<string, DocState>();
  /** Smoothed analysis time per document (for the adaptive debounce). */
  private readonly cost = new Map<string, number>();
  private settings: Settings = DEFAULT_SETTINGS;
  private key = analysisKey(DEFAULT_SETTINGS);
  /** Bumped on every settings change; part of pull diagnostics' result ids. */
  generation = 0;
  /** A number per opening of a document (versions start again when it is reopened); part of result ids too. */
  private readonly openings = new Map<string, number>();
  private lastOpening = 0;
  /** The last analysis's `seq`. */
  private lastSeq = 0;

  constructor(
    readonly documents: TextDocuments<TextDocument>,
    private readonly onAnalyzed: (state: DocState) => void = () => {},
    private readonly log: (message: string) => void = () => {},
  ) {}

  get currentSettings(): Settings {
    return this.settings;
  }

  /**
   * New settings. When they change what an analysis is made with (`analysisKey`), every cached
   * analysis is dropped; otherwise each document keeps its analysis, and only its LSP diagnostics
   * are converted again if the cap changed. Returns whether the diagnostics shown may change.
   */
  setSettings(s: Settings): boolean {
    const before = this.settings;
    const key = analysisKey(s);
    this.settings = s;
    if (key !== this.key) {
      this.key = key;
      this.states.clear();
      this.generation++;
      return true;
    }
    const capChanged = s.maxDiagnostics !== before.maxDiagnostics;
    if (capChanged) this.generation++;
    const itemsChanged = s.maxItemsComputed !== before.maxItemsComputed;
    for (const st of this.states.values()) {
      st.settings = s;
      if (itemsChanged) st.derived.symbols = st.derived.folding = undefined;
      if (capChanged) {
        st.derived.lsp = undefined;
        st.sameAs = undefined;
      }
    }
    return capChanged;
  }

  /** The analysis of the document's current version; computed at most once per version. */
  get(uri: string): DocState | undefined {
    const doc = this.documents.get(uri);
    if (!doc) return undefined;
    const cached = this.states.get(uri);
    const text = doc.getText();
    // The text check guards against clients that reuse version numbers; it is a pointer comparison when nothing changed.
    if (cached && cached.version === doc.version && cached.settingsKey === this.key && cached.text === text) return cached;
    const t0 = performance.now();
    let analysis: Analysis;
    // The previous version's analysis (same settings) lets the engine parse again only the statements the edit touched.
    // It is consumed by that: the cached state is dropped before anything else can read it.
    const before = cached && cached.settingsKey === this.key ? cached : undefined;
    const previous = before?.analysis;
    if (cached) this.states.delete(uri);
    try {
      analysis = tooLarge(text, this.settings.maxFileSizeMB, this.settings) ?? analyze(text, analyzeOptions(this.settings), previous);
    } catch (e) {
      // The engine promises not to throw; if it does, this document gets no features rather than a dead server.
      this.log(`analysis of ${uri} (version ${doc.version}) failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return undefined;
    }
    const ms = performance.now() - t0;
    const prev = this.cost.get(uri);
    this.cost.set(uri, prev === undefined ? ms : prev * 0.6 + ms * 0.4);
    const region = before ? changedRegion(before.text, text) : undefined;
    const state: DocState = {
      uri,
      version: doc.version,
      seq: ++this.lastSeq,
      text,
      analysis,
      // The previous version's line index, updated where the texts differ (no scan of the whole text).
      index: before && region ? LineIndex.edited(before.index, text, region.prefix, region.suffix) : new LineIndex(text),
      settings: this.settings,
      settingsKey: this.key,
      ms,
      snapshot: snapshotDiagnostics(analysis.diagnostics),
      derived: { fixes: new Map() },
    };
    const shown = before?.derived.lsp;
    if (before && shown) {
      // Compared with what the previous version showed: unchanged diagnostics are neither converted twice nor sent again.
      // Most keystrokes (in a label or comment) are settled from the engine's diagnostics and where they moved; the rest by
      // converting, which takes over the previous version's LSP diagnostics wherever they still hold.
      if (region && sameAfterEdit(before.snapshot, analysis.diagnostics, text, before.text, region.prefix, region.suffix)) {
        state.sameAs = diagnosticsVersion(before);
        state.derived.lsp = shown;
      } else {
        const lsp = toLspDiagnostics(state.index, uri, state.version, analysis.diagnostics, this.settings.maxDiagnostics, shown);
        state.derived.lsp = lsp;
        if (sameDiagnostics(shown.diagnostics, lsp.diagnostics)) state.sameAs = diagnosticsVersion(before);
      }
    }
    this.states.set(uri, state);
    try {
      this.onAnalyzed(state);
    } catch (e) {
      this.log(`status callback failed: ${String(e)}`);
    }
    return state;
  }

  /** The cached state of the document's current version, if it has been analysed (never analyses). */
  current(uri: string): DocState | undefined {
    return this.isCurrent(uri) ? this.states.get(uri) : undefined;
  }

  /** Whether `get` would answer from the cache. */
  isCurrent(uri: string): boolean {
    const doc = this.documents.get(uri);
    const s = this.states.get(uri);
    return !!doc && !!s && s.version === doc.version && s.settingsKey === this.key && s.text === doc.getText();
  }

  /** Smoothed analysis time of a document, in ms (0 before the first analysis). */
  costOf(uri: string): number {
    return this.cost.get(uri) ?? 0;
  }

  /**
   * Warms the JIT up: analyses a synthetic topology that uses every statement
   * kind a few times, one run per macrotask so that requests are never held
   * up for long. Each run also analyses an edit incrementally and computes the
   * quick fixes of its diagnostics. The first keystroke and the first code
   * action in a large file then run optimised code (a cold analysis is several
   * times slower than a warm one).
   */
  warmUp(runs = 8): void {
    const text = warmUpText();
    let left = runs;
    const step = (): void => {
      try {
        const first = analyze(text, analyzeOptions(this.settings));
        // A keystroke (one address digit) analysed incrementally, then the quick fixes of what it reports.
        const at = text.indexOf(' at 0x', text.indexOf('device w5 ')) + ' at 0x'.length + 9;
        const edited = text.slice(0, at) + (text[at] === '1' ? '2' : '1') + text.slice(at + 1);
        const a = analyze(edited, analyzeOptions(this.settings), first);
        barReports(a, { maxVfs: REPORT_VFS });
        const index = new LineIndex(edited);
        toLspDiagnostics(index, 'warm-up:', 1, a.diagnostics, 1000, toLspDiagnostics(index, 'warm-up:', 0, a.diagnostics, 1000));
        for (const d of a.diagnostics) computeFixes(a, d);
      } catch {
        return;
      }
      if (--left > 0) setTimeout(step, 0).unref?.();
    };
    setTimeout(step, 0).unref?.();
  }

  /** Which opening of the document this is (a new number after it was closed). */
  openingOf(uri: string): number {
    let n = this.openings.get(uri);
    if (n === undefined) this.openings.set(uri, (n = ++this.lastOpening));
    return n;
  }

  delete(uri: string): void {
    this.openings.delete(uri);
    this.states.delete(uri);
    this.cost.delete(uri);
  }
}

/**
 * The analysis whose diagnostics a state shows (its own, or the earlier one they are identical to), by `seq`:
 * a client's version numbers cannot tell two texts apart when the client reuses one.
 */
export function diagnosticsVersion(s: DocState): number {
  return s.sameAs ?? s.seq;
}

/** LSP diagnostics of a state, converted once. */
export function lspDiagnostics(s: DocState): ConvertedDiagnostics {
  if (!s.derived.lsp) s.derived.lsp = toLspDiagnostics(s.index, s.uri, s.version, s.analysis.diagnostics, s.settings.maxDiagnostics);
  return s.derived.lsp;
}

/** The key code actions use to find an engine diagnostic again. */
export function diagnosticKey(rule: string, subject: string | undefined, guest: string | undefined): string {
  return `${rule}|${subject ?? ''}|${guest ?? ''}`;
}

/** Engine diagnostics of a state by key, indexed once. */
export function diagnosticsByKey(s: DocState): Map<string, Diagnostic[]> {
  if (!s.derived.byKey) {
    const m = new Map<string, Diagnostic[]>();
    for (const d of s.analysis.diagnostics) {
      const k = diagnosticKey(d.rule, d.subject, d.target?.guest);
      const l = m.get(k);
      if (l) l.push(d);
      else m.set(k, [d]);
    }
    s.derived.byKey = m;
  }
  return s.derived.byKey;
}

/** Per-BAR reports of a state (VF BARs for the first few VFs), computed once. */
export function bars(s: DocState): BarReport[] {
  if (!s.derived.bars) s.derived.bars = barReports(s.analysis, { maxVfs: REPORT_VFS });
  return s.derived.bars;
}

/** Per-BAR reports of one device (VF BARs for the first few VFs), computed once per device and version: a hover costs the device, not the file. */
export function deviceBars(s: DocState, device: string | undefined): BarReport[] {
  if (device === undefined) return [];
  if (s.derived.bars) return s.derived.bars.filter((r) => r.device === device);
  const m = (s.derived.deviceBars ??= new Map());
  let r = m.get(device);
  if (!r) m.set(device, (r = barReports(s.analysis, { maxVfs: REPORT_VFS, device })));
  return r;
}

/**
 * Runs a request or notification handler so that nothing it throws reaches
 * the connection: the error is logged and the fallback answered instead.
 */
export function guard<P extends unknown[], R>(connection: Connection, name: string, fallback: R, f: (...args: P) => R | Promise<R>): (...args: P) => Promise<R> {
  return async (...args: P): Promise<R> => {
    const problem = paramsProblem(name, args[0]);
    if (problem) throw new ResponseError(ErrorCodes.InvalidParams, problem);
    try {
      return await f(...args);
    } catch (e) {
      if (isCancellation(e)) throw e;
      logError(connection, `bartopo: ${name} failed: ${describeError(e)}`);
      return fallback;
    }
  };
}

/** Synchronous flavour of `guard` for notification handlers. */
export function guardSync<P extends unknown[]>(connection: Connection, name: string, f: (...args: P) => void): (...args: P) => void {
  return (...args: P): void => {
    try {
      f(...args);
    } catch (e) {
      logError(connection, `bartopo: ${name} failed: ${describeError(e)}`);
    }
  };
}

/** Errors meant for the client (invalid rename, cancellation) pass through. */
function isCancellation(e: unknown): boolean {
  return e instanceof ResponseError;
}

/** A small topology with every statement kind, several rules firing and all three policies. */
function warmUpText(): string {
  const L = ['host warm {', '  page-size 64K', '  window mmio32 0x3fe0_8000_0000 size 2G', '  window mmio64 0x2100_0000_0000 size 1T', '}'];
  for (let i = 0; i < 24; i++) {
    const base = 0x3fe080000000n + BigInt(i) * 0x20000n + (i % 3 === 0 ? 0x1000n : 0n);
    L.push(`device w${i} at 0001:00:${(i & 31).toString(16).padStart(2, '0')}.${i % 8} {  # warm-up`);
    L.push(`  group ${i % 5}`, `  name "warm ${i}"`, '  id 1033:0035');
    L.push(`  bar 0 mem32 size 4K at 0x${base.toString(16)}`);
    L.push(`  bar 2 mem64 prefetch size 32M at 0x${(0x210000000000n + BigInt(i) * 0x4000000n).toString(16)}`);
    L.push('  msix entries 64 table bar 2 offset 0x2000 pba bar 2 offset 0x3000', '  region doorbells bar 2 offset 0x0 size 8K hot');
    if (i % 6 === 0) L.push(`  rom size 64K at 0x${(0x3fe0c0000000n + BigInt(i) * 0x10000n).toString(16)}`, '  sriov vfs 4 {', `    bar 0 mem64 size 16K at 0x${(0x220000000000n + BigInt(i) * 0x100000n).toString(16)}`, '  }');
    L.push('}');
  }
  const policies = ['listed', 'size-descending', 'page-match'];
  const modes = ['emulate', 'relocate', 'paravirt'];
  for (let g = 0; g < 3; g++) {
    L.push(`guest wg${g} {`, `  window 0x${(0x200080000000n + BigInt(g) * 0x10000000000n).toString(16)} size 64G`, `  allocate ${policies[g]}`, `  msix ${modes[g]}`);
    for (let i = g; i < 24; i += 3) L.push(i % 4 === 0 ? `  assign w${i} {\n    bar 2\n    bar 0 at 0x${(0x200080000000n + BigInt(g) * 0x10000000000n + 0x8000000000n + BigInt(i) * 0x10000n).toString(16)}\n  }` : `  assign w${i}`);
    L.push('}');
  }
  L.push('bogus statement', 'device broken at zz { bar 9 }');
  return L.join('\n') + '\n';
}
