// The `bartopo.*` settings as the server sees them: read from the client
// (workspace/configuration, didChangeConfiguration or initializationOptions),
// validated field by field so that a malformed value falls back to its default
// instead of breaking the server, and turned into engine options.

import { AnalyzeOptions, isRuleId, parseSize, RuleId, SeverityOverride } from '../engine';

export interface Settings {
  /** Host page size override (`--page-size`), or undefined to use the file's. */
  pageSize?: bigint;
  /** Per-rule severity overrides. */
  severity: Partial<Record<RuleId, SeverityOverride>>;
  /** `msix-mappable` when the host block does not say. */
  msixMappable: boolean;
  /** Published diagnostics per document, beyond which one info diagnostic says how many were left out. */
  maxDiagnostics: number;
  /** Delay between the last keystroke and analysis, in ms; undefined = adaptive. */
  debounceMs?: number;
  inlayHints: { endAddress: boolean; guestAddress: boolean };
  codeLens: boolean;
  /** Upper bound of outline symbols, folding ranges and semantic tokens per document. */
  maxItemsComputed: number;
  /** Documents larger than this (MB of text) are not analysed; one diagnostic says so. */
  maxFileSizeMB: number;
}

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  severity: {},
  msixMappable: true,
  maxDiagnostics: 1000,
  inlayHints: { endAddress: true, guestAddress: true },
  codeLens: true,
  maxItemsComputed: 5000,
  maxFileSizeMB: 16,
});

const SEVERITIES = new Set(['error', 'warning', 'info', 'information', 'hint', 'off', 'none']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonNegativeInt(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : fallback;
}

function bool(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

/** Page size from `"64K"`, `"65536"`, `"0x10000"` or a number; undefined when absent or invalid. */
export function parsePageSize(v: unknown): bigint | undefined {
  let text: string | undefined;
  if (typeof v === 'number' && Number.isInteger(v)) text = String(v);
  else if (typeof v === 'string') text = v.trim();
  if (!text || text === 'auto' || text === 'file') return undefined;
  const r = parseSize(text);
  if (!r.ok) return undefined;
  const p = r.value;
  return p >= 4096n && (p & (p - 1n)) === 0n ? p : undefined;
}

/**
 * Settings from the raw `bartopo` section. Accepts both the nested form a
 * client sends (`{ inlayHints: { endAddress: false } }`) and dotted keys
 * (`{ "inlayHints.endAddress": false }`) as some editors pass them through.
 */
export function parseSettings(raw: unknown): Settings {
  const r = isObject(raw) ? expandDotted(raw) : {};
  const severity: Partial<Record<RuleId, SeverityOverride>> = {};
  if (isObject(r.severity)) {
    for (const [rule, sev] of Object.entries(r.severity)) {
      if (!isRuleId(rule) || typeof sev !== 'string' || !SEVERITIES.has(sev)) continue;
      severity[rule] = sev === 'information' || sev === 'hint' ? 'info' : sev === 'none' ? 'off' : (sev as SeverityOverride);
    }
  }
  const ih = isObject(r.inlayHints) ? r.inlayHints : {};
  const debounce = r.debounceMs;
  return {
    pageSize: parsePageSize(r.pageSize),
    severity,
    msixMappable: bool(r.msixMappable, DEFAULT_SETTINGS.msixMappable),
    maxDiagnostics: nonNegativeInt(r.maxDiagnostics, DEFAULT_SETTINGS.maxDiagnostics),
    debounceMs: typeof debounce === 'number' && Number.isFinite(debounce) && debounce >= 0 ? Math.min(5000, Math.floor(debounce)) : undefined,
    inlayHints: {
      endAddress: bool(ih.endAddress, DEFAULT_SETTINGS.inlayHints.endAddress),
      guestAddress: bool(ih.guestAddress, DEFAULT_SETTINGS.inlayHints.guestAddress),
    },
    codeLens: bool(r.codeLens, DEFAULT_SETTINGS.codeLens),
    maxItemsComputed: nonNegativeInt(r.maxItemsComputed, DEFAULT_SETTINGS.maxItemsComputed),
    maxFileSizeMB: typeof r.maxFileSizeMB === 'number' && Number.isFinite(r.maxFileSizeMB) && r.maxFileSizeMB >= 0 ? r.maxFileSizeMB : DEFAULT_SETTINGS.maxFileSizeMB,
  };
}

function expandDotted(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const parts = k.split('.');
    if (parts.length === 1) {
      out[k] = isObject(v) && isObject(out[k]) ? { ...(out[k] as object), ...v } : v;
      continue;
    }
    let cur = out;
    for (const p of parts.slice(0, -1)) {
      if (!isObject(cur[p])) cur[p] = {};
      cur = cur[p] as Record<string, unknown>;
    }
    cur[parts[parts.length - 1]] = v;
  }
  return out;
}

/** Engine options for these settings. */
export function analyzeOptions(s: Settings): AnalyzeOptions {
  return { pageSize: s.pageSize, severities: s.severity, msixMappableDefault: s.msixMappable };
}

/** A key that changes exactly when the analysis would change. */
export function analysisKey(s: Settings): string {
  const sev = Object.entries(s.severity)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${s.pageSize ?? ''}|${s.msixMappable}|${sev}|${s.maxFileSizeMB}`;
}
