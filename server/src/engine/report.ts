// Collects diagnostics, applying the default severity of each rule and the
// user's per-rule overrides.

import { emptyList } from './fitted';
import { flat } from './values';
import { DEFAULT_SEVERITY, Diagnostic, FixTarget, RelatedInfo, RuleId, Severity, SeverityOverride, Span } from './types';

export interface AddOptions {
  subject?: string;
  related?: RelatedInfo[];
  target?: FixTarget;
  /** Severity before overrides, when the rule's default depends on the case (msix-page-shared). */
  severity?: Severity;
}

/** Longest word (a name, a number, a word the parser did not expect) a message quotes whole. */
const MAX_QUOTED_WORD = 80;
/** Longest message. */
const MAX_MESSAGE = 2000;

/**
 * A message with every run of more than MAX_QUOTED_WORD characters (other than blanks, quotes and
 * punctuation) shortened to its start, end and length (`aaaa…aaaa (200,000 characters)`), then cut
 * at MAX_MESSAGE. Names are not limited in length, and a message names its subject, often twice:
 * 3,000 findings about a device with a 200,000-character name were 566 million characters (more
 * than a JavaScript string holds, so `bartopo check` could not print them, and an editor would
 * have been sent 1,000 of them).
 */
export function readable(message: string): string {
  if (message.length <= MAX_QUOTED_WORD || (message.length <= MAX_MESSAGE && !hasLongWord(message))) return message;
  const out = message.replace(/[^\s`'"(),;:]{81,}/g, (w) => `${w.slice(0, 40)}…${w.slice(-20)} (${w.length.toLocaleString('en-US')} characters)`);
  return out.length <= MAX_MESSAGE ? out : `${out.slice(0, MAX_MESSAGE - 1)}…`;
}

/** Characters that end a word for `readable` (as in its regex: blanks, quotes and punctuation). */
function endsQuotedWord(c: number): boolean {
  // \s in the regex is these blanks and line breaks, Unicode ones included.
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12 || c === 96 || c === 39 || c === 34 || c === 40 || c === 41 || c === 44 || c === 59 || c === 58 || c === 0xa0 || c === 0xfeff || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0x1680;
}

/**
 * Whether a run of more than MAX_QUOTED_WORD word characters occurs: one pass, no allocation. (The
 * regex alone tries every start of every word: most messages are read once per finding, and a big
 * file has tens of thousands.)
 */
function hasLongWord(message: string): boolean {
  let run = 0;
  for (let i = 0; i < message.length; i++) {
    if (endsQuotedWord(message.charCodeAt(i))) run = 0;
    else if (++run > MAX_QUOTED_WORD) return true;
  }
  return false;
}

/** `related` with `readable` messages: the same array when none changes. */
function readableRelated(related: RelatedInfo[]): RelatedInfo[] {
  let out: RelatedInfo[] | undefined;
  related.forEach((r, i) => {
    const message = readable(r.message);
    if (message !== r.message) (out ??= related.slice())[i] = { span: r.span, message };
  });
  return out ?? related;
}

/** A message, or a function that builds it when it is first read (see `ReportedDiagnostic`). */
export type MessageText = string | (() => string);

/**
 * A diagnostic whose message may be built when it is first read. A big
 * topology has tens of thousands of findings with messages of about 300
 * characters, and an editor shows at most `bartopo.maxDiagnostics` of them: the
 * rules with thousands of findings pass a function of the few values their
 * message is made of (about 150 bytes instead of 350), and only the messages
 * read are built (once: the text replaces the function).
 */
class ReportedDiagnostic implements Diagnostic {
  constructor(
    readonly rule: RuleId,
    readonly severity: Severity,
    private text: MessageText,
    readonly span: Span,
    readonly subject: string | undefined,
    readonly related: RelatedInfo[],
    readonly target: FixTarget | undefined,
  ) {}

  get message(): string {
    const t = this.text;
    if (typeof t === 'string') return t;
    const m = flat(readable(t()));
    this.text = m;
    return m;
  }
}

/** Per-rule severity overrides (`off` drops a rule). */
export type Overrides = Partial<Record<RuleId, SeverityOverride>>;

/** A finding as a model records it, to be reported by every analysis that keeps the model (`Reporter.replay`). */
export type Finding = Parameters<Reporter['add']>;

/** The diagnostic each recorded finding was last reported as. */
const reportedAs = new WeakMap<Finding, Diagnostic>();

export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly overrides: Overrides = {}) {}

  /**
   * Reports a finding a model recorded. A model is kept across versions (and shared with the
   * analyses of edited copies that fixes are checked with), and so is the diagnostic its finding
   * was reported as, while the severity stays the same: the finding's span is the node's own and
   * moves with it. Reused diagnostics are not converted, keyed or compared again downstream (the
   * language server takes over their LSP form, fix checks recognise them as the original's).
   */
  replay(f: Finding): void {
    const [rule, , , opts] = f;
    const o = this.overrides[rule];
    if (o === 'off') return;
    const before = reportedAs.get(f);
    if (before !== undefined && before.severity === (o ?? opts?.severity ?? DEFAULT_SEVERITY[rule])) {
      this.diagnostics.push(before);
      return;
    }
    this.add(...f);
    reportedAs.set(f, this.diagnostics[this.diagnostics.length - 1]);
  }

  add(rule: RuleId, span: Span, message: MessageText, opts: AddOptions = {}): void {
    const o = this.overrides[rule];
    if (o === 'off') return;
    // A string built from template pieces is a tree of string parts in V8 until it is flattened (see `flat`).
    this.diagnostics.push(
      new ReportedDiagnostic(
        rule,
        o ?? opts.severity ?? DEFAULT_SEVERITY[rule],
        typeof message === 'string' ? flat(readable(message)) : message,
        span,
        opts.subject === undefined ? undefined : flat(opts.subject),
        opts.related && opts.related.length > 0 ? readableRelated(opts.related) : emptyList(),
        opts.target,
      ),
    );
  }
}
