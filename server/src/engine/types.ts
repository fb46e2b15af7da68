// Public result types of the bartopo engine. The engine is pure: it takes text
// and returns these plain objects. Ranges are UTF-16 offsets into the text (the
// unit of JavaScript strings and of LSP columns); `LineIndex` converts them.

export type Severity = 'error' | 'warning' | 'info';

/** Every rule id the engine emits: the spec's section 4 plus project rules (docs/rules.md). */
export const RULES = [
  'syntax',
  'unknown-reference',
  'duplicate',
  'bar-size',
  'bar-alignment',
  'bar64-slot',
  'bar32-above-4g',
  'bar-overlap',
  'bar-outside-window',
  'msix-layout',
  'guest-overlap',
  'guest-window-full',
  'subpage-unaligned',
  'subpage-shared',
  'page-shared-across-groups',
  'guest-offset-mismatch',
  'guest-page-conflict',
  'msix-page-shared',
  'msix-4k-sharing',
  'sriov-vf-subpage',
  'bar-unassigned',
  // project rules
  'region-outside-bar',
  'address-overflow',
  'guest-no-window',
  // language server only
  'file-too-large',
] as const;

export type RuleId = (typeof RULES)[number];

export const DEFAULT_SEVERITY: Record<RuleId, Severity> = {
  syntax: 'error',
  'unknown-reference': 'error',
  duplicate: 'error',
  'bar-size': 'error',
  'bar-alignment': 'error',
  'bar64-slot': 'error',
  'bar32-above-4g': 'error',
  'bar-overlap': 'error',
  'bar-outside-window': 'error',
  'msix-layout': 'error',
  'guest-overlap': 'error',
  'guest-window-full': 'error',
  'subpage-unaligned': 'warning',
  'subpage-shared': 'warning',
  'page-shared-across-groups': 'warning',
  'guest-offset-mismatch': 'warning',
  'guest-page-conflict': 'warning',
  'msix-page-shared': 'warning', // info for regions that are not `hot`
  'msix-4k-sharing': 'warning',
  'sriov-vf-subpage': 'warning',
  'bar-unassigned': 'info',
  'region-outside-bar': 'error',
  'address-overflow': 'error',
  'guest-no-window': 'warning',
  'file-too-large': 'warning',
};

export function isRuleId(s: string): s is RuleId {
  return (RULES as readonly string[]).includes(s);
}

/** Half-open range of UTF-16 offsets [start, end). */
export interface Span {
  start: number;
  end: number;
}

export interface RelatedInfo {
  span: Span;
  message: string;
}

/** What a fix needs to know about the diagnostic it targets (also LSP `data`). */
export interface FixTarget {
  /** The device, for BAR-level diagnostics. */
  device?: string;
  /** BAR index (or -1 for the ROM). */
  bar?: number;
  /** The BAR is a VF BAR (`bar` indexes the device's \`sriov\` block), not the device's own. */
  vf?: boolean;
  /** Guest name, for guest-level diagnostics. */
  guest?: string;
  /** Region name, for region diagnostics. */
  region?: string;
}

export interface Diagnostic {
  rule: RuleId;
  severity: Severity;
  message: string;
  span: Span;
  /** `DEVICE.barN`, `DEVICE.vfK.barN`, `DEVICE.rom`, a guest or device name. */
  subject?: string;
  related: RelatedInfo[];
  target?: FixTarget;
}

export type HostVerdict = 'mmap' | 'no-mmap';
export type GuestVerdict = 'direct' | 'partial' | 'trapped';

export interface GuestPlacement {
  /** Guest physical address; undefined when the allocator could not place the BAR. */
  address?: bigint;
  verdict: GuestVerdict;
  /** Host pages of the BAR that map directly / in total. */
  directPages: bigint;
  totalPages: bigint;
  /** One-line reasons for the pages that trap (for hover and the CLI's text). */
  reasons: string[];
}

export interface BarReport {
  /** `ohci1.bar0` or `nic.vf3.bar0`. */
  id: string;
  device: string;
  index: number;
  /** VF number for VF BARs. */
  vf?: number;
  kind: 'mem32' | 'mem64' | 'io';
  prefetch: boolean;
  size: bigint;
  host?: bigint;
  hostVerdict: HostVerdict;
  /** Why the host verdict is what it is. */
  hostReason: string;
  guests: Map<string, GuestPlacement>;
  /** The `bar` statement this BAR comes from. */
  span: Span;
}

export interface TextEdit {
  span: Span;
  newText: string;
}

export interface Fix {
  title: string;
  kind: 'quickfix' | 'refactor';
  isPreferred: boolean;
  edits: TextEdit[];
}

export type SeverityOverride = Severity | 'off';

export interface AnalyzeOptions {
  /** Overrides the host's page size (what-if analysis, `--page-size`). */
  pageSize?: bigint;
  /** Per-rule severity overrides; `off` drops the rule's diagnostics. */
  severities?: Partial<Record<RuleId, SeverityOverride>>;
  /** `msix-mappable` when the host block does not say (default true). */
  msixMappableDefault?: boolean;
}
