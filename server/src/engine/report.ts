// Collects diagnostics, applying the default severity of each rule and the
// user's per-rule overrides.

import { emptyList } from './fitted';
import { DEFAULT_SEVERITY, Diagnostic, FixTarget, RelatedInfo, RuleId, Severity, SeverityOverride, Span } from './types';

export interface AddOptions {
  subject?: string;
  related?: RelatedInfo[];
  target?: FixTarget;
  /** Severity before overrides, when the rule's default depends on the case (msix-page-shared). */
  severity?: Severity;
}

/** Per-rule severity overrides (`off` drops a rule). */
export type Overrides = Partial<Record<RuleId, SeverityOverride>>;

export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly overrides: Overrides = {}) {}

  add(rule: RuleId, span: Span, message: string, opts: AddOptions = {}): void {
    const o = this.overrides[rule];
    if (o === 'off') return;
    // A message built from template pieces is a tree of string parts in V8; reading a character
    // flattens it in place into one string, so a kept diagnostic keeps one string, not a dozen.
    message.charCodeAt(0);
    if (opts.subject) opts.subject.charCodeAt(0);
    this.diagnostics.push({
      rule,
      severity: o ?? opts.severity ?? DEFAULT_SEVERITY[rule],
      message,
      span,
      subject: opts.subject,
      related: opts.related && opts.related.length > 0 ? opts.related : emptyList(),
      target: opts.target,
    });
  }
}
