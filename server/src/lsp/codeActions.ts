// Code actions: the engine's verified quick fixes for each diagnostic (spec
// section 5), the *Reorder assigned BARs in guest … for page-matched offsets* refactor on
// a guest block, and `source.fixAll.bartopo`. A diagnostic the client sends
// is found again in the current analysis (by rule, subject, guest and range),
// and its fixes are cached with that analysis, so asking twice never analyses
// twice. Each workspace
// edit is reduced to the lines that actually change, so applying it keeps
// every other line and comment as it was.

import { CodeAction, CodeActionKind, CodeActionParams, Command, Diagnostic as LspDiagnostic, TextEdit as LspTextEdit, WorkspaceEdit } from 'vscode-languageserver';
import { computeFixes, Diagnostic, fixAll, Fix, guestRefactors, isRuleId } from '../engine';
import { DiagnosticData, SOURCE } from '../protocol';
import { diffEdits, localLineEdits, toLspEdits, toSpan } from './convert';
import { diagnosticKey as key, diagnosticsByKey, DocState } from './documents';
import { locate } from './nav';
import { isRange } from './params';

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.${SOURCE}`;
export const REORDER_KIND = `${CodeActionKind.RefactorRewrite}.${SOURCE}`;
export const CODE_ACTION_KINDS = [CodeActionKind.QuickFix, REORDER_KIND, FIX_ALL_KIND];
/**
 * Fix-all in the editor: at most this many fixes, taking no new one once this long would be spent (fixes are
 * made in rounds, each checked with one analysis: see `fixAll`). The server answers nothing else meanwhile,
 * so the budget stays under a second; the action's title says when it stopped early, and running it again
 * continues.
 */
const FIX_ALL_STEPS = 1000;
const FIX_ALL_BUDGET_MS = 750;

/**
 * For a client that takes no code action literals (no `codeActionLiteralSupport`: it accepts only
 * `Command[]` from a code action request), each action is a command that carries its workspace edit;
 * executing it sends the edit back with `workspace/applyEdit`.
 */
export const APPLY_EDIT_COMMAND = 'bartopo.applyEdit';

/** The actions as commands (see `APPLY_EDIT_COMMAND`); actions without an edit have nothing to run and are left out. */
export function asCommands(actions: CodeAction[]): Command[] {
  const out: Command[] = [];
  for (const a of actions) if (a.edit) out.push({ title: a.title, command: APPLY_EDIT_COMMAND, arguments: [a.edit] });
  return out;
}

/** The workspace edit an `APPLY_EDIT_COMMAND` carries, if its arguments are one (a client may send anything). */
export function editOfCommand(args: unknown): WorkspaceEdit | undefined {
  const e = Array.isArray(args) ? (args[0] as unknown) : undefined;
  if (typeof e !== 'object' || e === null) return undefined;
  const w = e as WorkspaceEdit;
  const changesOk = w.changes === undefined || (typeof w.changes === 'object' && w.changes !== null);
  const docOk = w.documentChanges === undefined || Array.isArray(w.documentChanges);
  return changesOk && docOk && (w.changes !== undefined || w.documentChanges !== undefined) ? w : undefined;
}

function isData(v: unknown): v is DiagnosticData {
  return typeof v === 'object' && v !== null && typeof (v as DiagnosticData).rule === 'string' && typeof (v as DiagnosticData).version === 'number';
}

/** Whether an action of `kind` is wanted by a request restricted to `only`. */
function wants(only: string[] | undefined, kind: string, byDefault: boolean): boolean {
  if (!only || only.length === 0) return byDefault;
  return only.some((o) => kind === o || kind.startsWith(o + '.'));
}

/** Minimal line edits that have the same effect as `fix` on the state's text. */
function fixEdits(s: DocState, fix: Fix): LspTextEdit[] {
  return toLspEdits(s.index, localLineEdits(s.text, fix.edits));
}

export class CodeActions {
  constructor(private readonly documentChanges: boolean) {}

  private workspaceEdit(s: DocState, edits: LspTextEdit[]): WorkspaceEdit {
    if (this.documentChanges) return { documentChanges: [{ textDocument: { uri: s.uri, version: s.version }, edits }] };
    return { changes: { [s.uri]: edits } };
  }

  /** The engine diagnostic of the current analysis an LSP diagnostic stands for. */
  private resolve(current: DocState, d: LspDiagnostic): Diagnostic | undefined {
    // Whatever a client sends in `context.diagnostics`: entries that are not our diagnostics are skipped.
    if (typeof d !== 'object' || d === null || d.source !== SOURCE || !isData(d.data) || !isRuleId(d.data.rule)) return undefined;
    const data = d.data;
    const k = key(data.rule, data.subject, data.target?.guest);
    const candidates = diagnosticsByKey(current).get(k) ?? [];
    if (candidates.length === 0) return undefined; // fixed since, or not ours
    let diag = candidates[0];
    if (candidates.length > 1 && isRange(d.range)) {
      // Several findings share the key: the one at the diagnostic's range. A diagnostic is published again
      // unchanged only while its range still holds, so the range is the current one unless the client lags behind
      // (then any finding with the key is as good a guess as another).
      const at = toSpan(current.index, d.range);
      diag = candidates.find((x) => x.span.start === at.start && x.span.end === at.end) ?? candidates.find((x) => x.span.start === at.start) ?? diag;
    }
    return diag;
  }

  private fixesFor(s: DocState, d: Diagnostic): Fix[] {
    const k = `fix|${key(d.rule, d.subject, d.target?.guest)}|${d.span.start}`;
    let fixes = s.derived.fixes.get(k);
    if (!fixes) {
      fixes = computeFixes(s.analysis, d);
      s.derived.fixes.set(k, fixes);
    }
    return fixes;
  }

  get(current: DocState, params: CodeActionParams): CodeAction[] {
    const only = params.context.only;
    const out: CodeAction[] = [];

    if (wants(only, CodeActionKind.QuickFix, true)) {
      const seen = new Set<string>();
      for (const d of params.context.diagnostics) {
        const diag = this.resolve(current, d);
        if (!diag) continue;
        for (const fix of this.fixesFor(current, diag)) {
          const edits = fixEdits(current, fix);
          if (edits.length === 0) continue;
          // The same fix offered for several of the diagnostics (`allocate page-match` for each BAR of a guest) is one action.
          const same = `${fix.title}\n${JSON.stringify(edits)}`;
          if (seen.has(same)) continue;
          seen.add(same);
          out.push({
            title: fix.title,
            kind: fix.kind === 'refactor' ? REORDER_KIND : CodeActionKind.QuickFix,
            diagnostics: [d],
            isPreferred: fix.isPreferred,
            edit: this.workspaceEdit(current, edits),
          });
        }
      }
    }

    if (wants(only, REORDER_KIND, true)) {
      const at = current.index.offsetAt(params.range.start);
      const h = locate(current.analysis, at);
      const guest = h && (h.kind === 'guest' || h.kind === 'assign' || h.kind === 'assign-bar') ? h.guest.name?.value : undefined;
      if (guest !== undefined) {
        const k = `refactor|${guest}`;
        let fixes = current.derived.fixes.get(k);
        if (!fixes) {
          fixes = guestRefactors(current.analysis, guest);
          current.derived.fixes.set(k, fixes);
        }
        for (const fix of fixes) {
          if (out.some((x) => x.title === fix.title)) continue; // already offered as a quick fix
          const edits = fixEdits(current, fix);
          if (edits.length > 0) out.push({ title: fix.title, kind: REORDER_KIND, edit: this.workspaceEdit(current, edits) });
        }
      }
    }

    if (wants(only, FIX_ALL_KIND, false)) {
      // Bounded in time: on a topology with thousands of fixable findings the server must keep answering.
      const all = (current.derived.fixAll ??= fixAll(current.analysis, { maxSteps: FIX_ALL_STEPS, budgetMs: FIX_ALL_BUDGET_MS }));
      const edits = toLspEdits(current.index, diffEdits(current.text, all.text));
      const title = all.complete
        ? 'Fix all bartopo problems that have a verified fix'
        : `Fix ${all.applied.length} bartopo problems that have a verified fix (the first ones; run it again for the rest)`;
      if (edits.length > 0) out.push({ title, kind: FIX_ALL_KIND, edit: this.workspaceEdit(current, edits) });
    }
    return out;
  }
}
