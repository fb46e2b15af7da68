// Quick fixes (spec section 5). Each fix is a list of text edits that touch
// only the statements they change; before a fix is offered, the edited text is
// analysed again and the fix is dropped unless the diagnostic it targets is
// gone and no new error appeared.

import { analyze, Analysis, analyzeParsed } from './analyze';
import { editedGuestNode, lowerBound, parseEditedCopy } from './incremental';
import { applyEdits } from './textEdits';
import { isBlank } from './lexer';
import { analyzeEditedGuest, checkMsixPages, GuestAnalysis, IntervalSet, msixPageDiagnostics, msixRedoNames, walkFollowers } from './guest';
import { Bar, barAt, buildGuest, Device, devicesNamed, editedGuestModel, FOUR_G, Guest, HostWindow } from './model';
import { lineBreakOf } from './lineIndex';
import { parse } from './parser';
import { resourcesIn } from './host';
import { Reporter } from './report';
import { AssignBarNode, AssignNode, GuestNode } from './ast';
import { Stmt } from './tree';
import { Diagnostic, Fix, Span, TextEdit } from './types';
import { alignDown, alignUp, formatSize, hex, hexGrouped, readInteger, someOf, U64_LIMIT } from './values';

export { applyEdits };

/**
 * Keys of diagnostic objects, made once per object: a finding is never changed after it is made, and an
 * incremental analysis (each step of a fix-all, each fix check) takes most findings over from the one before.
 */
const keyOf = new WeakMap<Diagnostic, string>();

export function diagnosticKey(d: Diagnostic): string {
  let k = keyOf.get(d);
  if (k === undefined) {
    // A finding without a subject (a syntax error) is told apart by its message: offsets differ in an edited copy.
    k = d.subject === undefined ? `${d.rule}||${d.target?.guest ?? ''}|${d.message}` : `${d.rule}|${d.subject}|${d.target?.guest ?? ''}`;
    keyOf.set(d, k);
  }
  return k;
}

export interface Verified {
  ok: boolean;
  /** No diagnostic at all that the original did not have (by rule and subject). */
  clean: boolean;
}

/**
 * Verification of edits that stay inside one guest block: the host side cannot
 * change, so only that guest is parsed, built, placed and judged again (with
 * the host analysis and the other guests as they are). Undefined when the edits
 * are not of that kind; then the whole text is analysed again.
 */
function verifyInGuest(a: Analysis, d: Diagnostic | undefined, edits: TextEdit[], gone: (diags: Diagnostic[]) => boolean): Verified | undefined {
  // The same edits are checked for many diagnostics (`allocate page-match`, `msix relocate`: one edit per guest):
  // what they lead to is worked out once per analysis, and only the judging is per diagnostic.
  let byEdits = guestEditResults.get(a);
  if (!byEdits) guestEditResults.set(a, (byEdits = new Map()));
  const key = edits.map((e) => `${e.span.start}:${e.span.end}:${e.newText}`).join('\n');
  let found = byEdits.get(key);
  if (found === undefined) {
    found = guestEditFindings(a, edits) ?? null;
    if (byEdits.size >= MAX_GUEST_EDIT_RESULTS) byEdits.delete(byEdits.keys().next().value!);
  } else byEdits.delete(key); // kept as the most recently used
  byEdits.set(key, found);
  // A target outside that guest's scope (another guest's finding, a host-level one) is not among the findings made
  // again: only a whole analysis tells whether it goes.
  if (!found || (d !== undefined && !found.scope.byObject.has(d))) return undefined;
  return judgeEdit(found.scope, found.after, d, gone);
}

/** The findings of the guest scope after `edits` (all inside one guest block), made from `a`; undefined when they are not such edits. */
const guestEditResults = new WeakMap<Analysis, Map<string, { scope: KeySets; after: Diagnostic[] } | null>>();
/** Edit sets whose guest findings an analysis keeps (the most recently used; a code action checks a few). */
const MAX_GUEST_EDIT_RESULTS = 8;

function guestEditFindings(a: Analysis, edits: TextEdit[]): { scope: KeySets; after: Diagnostic[] } | undefined {
  const gn = a.file.guests.find((g) => edits.every((e) => e.span.start >= g.stmt.start && e.span.end <= g.stmt.end));
  const name = gn?.name?.value;
  if (!gn || !name || a.file.guests.filter((g) => g.name?.value === name).length !== 1) return undefined;
  const before = a.guests.find((x) => x.guest.name === name);
  if (!before) return undefined;
  const r = new Reporter(a.options.severities);
  const g = editedGuest(a, gn, before.guest, edits, r);
  if (!g) return undefined;
  const ga = analyzeEditedGuest(g, before, a.topology, a.host, a.options.severities ?? {});
  r.diagnostics.push(...ga.diagnostics);
  // MSI-X page findings change only for devices this guest assigns before or after the edit (see `msixRedoNames`).
  const guests = a.guests.map((x) => (x.guest.name === name ? ga : x));
  const names = msixRedoNames(
    a.guests.map((x) => x.guest),
    guests.map((x) => x.guest),
  );
  const msix = checkMsixPages(a.topology, a.host, guests, a.options.severities ?? {}, {
    findings: a.msixPages,
    redo: devicesNamed(a.topology, names),
    removed: [],
    consume: false,
  });
  r.diagnostics.push(...msixPageDiagnostics(msix));
  // What the old analysis said in the same scope: this guest's findings and msix-page-shared.
  return { scope: guestScope(a, name, gn.stmt), after: r.diagnostics };
}

/**
 * The model of guest `gn` (whose model in `a` is `before`) after `edits`, all inside its block, with the edited
 * block's syntax errors reported to `r`; undefined when the edited text is not one guest of the same name. Only
 * the statements the edits fall in are parsed again, and only their assigns built again (`editedGuestNode`,
 * `editedGuestModel`), unless that cannot be done (an edit across statements) or `whole` asks for the whole
 * block to be parsed and built again, which gives the same findings (exported for the test that checks so).
 */
export function editedGuest(a: Analysis, gn: GuestNode, before: Guest, edits: TextEdit[], r: Reporter, whole = false): Guest | undefined {
  const name = before.name;
  const e = whole ? undefined : editedGuestNode(gn, a.text, edits);
  if (e) {
    // The block's other statements parse as they did: their errors are the original's.
    const kept = (x: Span): boolean => x.start >= gn.stmt.start && x.end <= gn.stmt.end && !e.replaced.some((s) => x.start >= s.start && x.start < s.end);
    for (const x of a.syntaxErrors) if (kept(x.span)) r.add('syntax', x.span, x.message);
    for (const x of e.errors) r.add('syntax', x.span, x.message);
    return editedGuestModel(e.node, before, a.topology.deviceByName, r);
  }
  const base = gn.stmt.start;
  const snippet = applyEdits(
    a.text.slice(base, gn.stmt.end),
    edits.map((x) => ({ span: { start: x.span.start - base, end: x.span.end - base }, newText: x.newText })),
  );
  const p = parse(snippet);
  if (p.file.guests.length !== 1 || p.file.devices.length + p.file.hosts.length > 0 || p.file.guests[0].name?.value !== name) return undefined;
  for (const x of p.errors) r.add('syntax', x.span, x.message);
  return buildGuest(p.file.guests[0], name, a.topology.deviceByName, r);
}

/** How many diagnostics of some list have each key (`diagnosticKey`), how many of them are errors, and the key of each diagnostic object. */
interface KeySets {
  all: Map<string, number>;
  errors: Map<string, number>;
  /** An analysis of an edited copy reuses the objects of what the edit cannot affect: their keys are looked up, not built again. */
  byObject: Map<Diagnostic, string>;
}

const bump = (m: Map<string, number>, k: string): void => {
  m.set(k, (m.get(k) ?? 0) + 1);
};

function keySets(diags: Iterable<Diagnostic>): KeySets {
  const k: KeySets = { all: new Map(), errors: new Map(), byObject: new Map() };
  for (const x of diags) {
    const key = diagnosticKey(x);
    bump(k.all, key);
    k.byObject.set(x, key);
    if (x.severity === 'error') bump(k.errors, key);
  }
  return k;
}

/**
 * An edit's findings (`after`) against the findings before it in the same
 * scope: the target gone, no new error. Diagnostics are compared by key and
 * counted, so one more finding of a key that was there already (a second
 * overlap of a BAR, another syntax error) still counts as new.
 */
function judgeEdit(before: KeySets, after: Diagnostic[], d: Diagnostic | undefined, gone: (diags: Diagnostic[]) => boolean): Verified {
  const target = d && diagnosticKey(d);
  // Keys of the diagnostics the copy computed again (not the original's objects), and whether one of them is an error.
  const fresh = new Map<string, boolean>();
  for (const x of after) {
    const reused = before.byObject.get(x);
    const key = reused ?? diagnosticKey(x);
    if (key === target) return { ok: false, clean: false };
    if (reused !== undefined) continue; // the very diagnostic the original had: neither new nor a new error
    fresh.set(key, fresh.get(key) === true || x.severity === 'error');
  }
  let clean = true;
  // Keys the original had too: compare how many there are now (reused objects included).
  const shared = new Map<string, { all: number; errors: number }>();
  for (const [key, error] of fresh) {
    if (before.all.has(key)) shared.set(key, { all: 0, errors: 0 });
    else if (error) return { ok: false, clean: false };
    else clean = false;
  }
  if (shared.size > 0) {
    for (const x of after) {
      const c = shared.get(before.byObject.get(x) ?? diagnosticKey(x));
      if (!c) continue;
      c.all++;
      if (x.severity === 'error') c.errors++;
    }
    for (const [key, c] of shared) {
      if (c.errors > (before.errors.get(key) ?? 0)) return { ok: false, clean: false };
      if (c.all > before.all.get(key)!) clean = false;
    }
  }
  if (!gone(after)) return { ok: false, clean: false };
  return { ok: true, clean };
}

/** Keys of the diagnostics an analysis gave in one guest's scope (its findings, its block, msix-page-shared), computed once per analysis and guest. */
const guestScopes = new WeakMap<Analysis, Map<string, KeySets>>();

function guestScope(a: Analysis, name: string, block: { start: number; end: number }): KeySets {
  let byGuest = guestScopes.get(a);
  if (!byGuest) guestScopes.set(a, (byGuest = new Map()));
  let k = byGuest.get(name);
  if (!k) {
    const inScope = (x: Diagnostic): boolean => x.target?.guest === name || x.subject === name || x.rule === 'msix-page-shared' || (x.span.start >= block.start && x.span.end <= block.end);
    byGuest.set(name, (k = keySets(a.diagnostics.filter(inScope))));
  }
  return k;
}

/**
 * The check every fix passes before it is offered (exported for tests): `ok` when
 * the edits remove `d` (and `gone` holds) and add no error, `clean` when they add
 * no diagnostic at all.
 */
export function verifyFix(a: Analysis, d: Diagnostic | undefined, edits: TextEdit[], gone: (diags: Diagnostic[]) => boolean = () => true): Verified {
  if (edits.length === 0) return { ok: false, clean: false };
  const scoped = verifyInGuest(a, d, edits, gone);
  if (scoped) return scoped;
  // Only the top-level statements the edits touch are parsed again (positions are not compared, only findings).
  const copy = parseEditedCopy({ tree: a.tree, file: a.file, errors: a.syntaxErrors }, a.text, edits);
  // The copy shares the untouched statements' nodes with `a`: its analysis reuses `a`'s for what the edits cannot affect.
  const b = copy ? analyzeParsed(a.text, copy, a.options, false, a, false, false) : analyze(applyEdits(a.text, edits), a.options);
  return judgeEdit(keysOf(a), b.diagnostics, d, gone);
}

/**
 * How the fix functions check a candidate. A quick fix offered on its own is verified (`verifyFix`); the
 * candidates of a fix-all round are taken as they come and checked together (see `fixAll`). `pagesTaken`:
 * host pages the round's other fixes move BARs from or to, which an align fix looks past.
 */
interface FixCheck {
  verify(a: Analysis, d: Diagnostic | undefined, edits: TextEdit[], gone?: (diags: Diagnostic[]) => boolean): Verified;
  pagesTaken?: { has(page: bigint): boolean };
  /** Guest pages the round's other fixes place BARs in (and the end of the highest), which a place fix looks past. */
  guestTaken?(guest: string): { set: IntervalSet; end: bigint };
}

const VERIFIED: FixCheck = { verify: verifyFix };

/** The keys of an analysis's diagnostics, computed once per analysis for every fix it verifies. */
const diagnosticKeys = new WeakMap<Analysis, KeySets>();

function keysOf(a: Analysis): KeySets {
  let k = diagnosticKeys.get(a);
  if (!k) diagnosticKeys.set(a, (k = keySets(a.diagnostics)));
  return k;
}

// ---- text helpers -------------------------------------------------------

function lineStart(text: string, off: number): number {
  let i = off;
  while (i > 0 && text[i - 1] !== '\n' && text[i - 1] !== '\r') i--;
  return i;
}

function indentOf(text: string, off: number): string {
  const s = lineStart(text, off);
  let e = s;
  while (e < text.length && (text[e] === ' ' || text[e] === '\t')) e++;
  return text.slice(s, e);
}

/** The line break of the analysed text (CRLF if it has any), found once per analysis: a fix may add a line to thousands of guests. */
const lineBreaks = new WeakMap<Analysis, string>();

function eol(a: Analysis): string {
  let nl = lineBreaks.get(a);
  if (nl === undefined) lineBreaks.set(a, (nl = lineBreakOf(a.text)));
  return nl;
}

/** Formats a new address in the style of the one it replaces (underscores or not). */
function formatAddressLike(v: bigint, like?: string): string {
  // Grouped as the file writes it: `0xf7c0_0000` stays grouped even with 8 digits or fewer.
  return like && like.includes('_') ? hexGrouped(v, 4) : hex(v);
}

/** Indentation step used in the file (two spaces unless the file uses tabs or four). */
function indentUnit(text: string): string {
  const m = /\n([ \t]+)\S/.exec(text);
  if (!m) return '  ';
  return m[1].startsWith('\t') ? '\t' : m[1].length >= 4 && m[1].length % 4 === 0 ? '    ' : '  ';
}

/**
 * An edit that adds `lines` (statements) first in the block opened at `open`: each on a line of its own after
 * the `{` (and after a comment on the `{` line, which stays there); in a one-line block (`{ bar 0 at … }`),
 * inside that line, separated by `;` and ended by one when something follows.
 */
function insertFirstInBlock(text: string, open: number, lines: string[], nl: string, ind: string): TextEdit {
  let i = open + 1;
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  const c = text[i];
  const ownLines = lines.map((l) => `${nl}${ind}${l}`).join('');
  if (c === '#') {
    while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
    return { span: { start: i, end: i }, newText: ownLines };
  }
  if (c === undefined || c === '\n' || c === '\r') return { span: { start: open + 1, end: open + 1 }, newText: ownLines };
  return { span: { start: open + 1, end: open + 1 }, newText: ` ${lines.join('; ')}${c === '}' ? '' : ';'}` };
}

// ---- lookups --------------------------------------------------------------

function findGuest(a: Analysis, name: string | undefined): GuestAnalysis | undefined {
  return a.guests.find((g) => g.guest.name === name);
}

function findBar(a: Analysis, device: string | undefined, index: number | undefined): Bar | undefined {
  if (device === undefined || index === undefined) return undefined;
  const d = a.topology.deviceByName.get(device);
  return d && barAt(d, index);
}

/** The first assign statements of each device name in a guest block, indexed once per block (a fix may look up thousands). */
const assignsByName = new WeakMap<GuestNode, Map<string, AssignNode>>();

function assignOf(gn: GuestNode, device: string): AssignNode | undefined {
  let m = assignsByName.get(gn);
  if (!m) {
    m = new Map();
    for (const an of gn.assigns) if (an.device && !m.has(an.device.value)) m.set(an.device.value, an);
    assignsByName.set(gn, m);
  }
  return m.get(device);
}

/** Edits that set the guest address of `bar` inside its assign statement. */
function setGuestAddress(a: Analysis, g: Guest, bar: Bar, addr: bigint): TextEdit[] {
  const text = a.text;
  const assign = g.assigns.find((x) => x.device === bar.device);
  if (!assign) return [];
  const an = assignOf(g.node, bar.device.name);
  if (!an) return [];
  const line = an.bars.find((x) => x.index?.value === bar.index);
  if (line) {
    if (line.address) return [{ span: line.address.span, newText: formatAddressLike(addr, text.slice(line.address.span.start, line.address.span.end)) }];
    const idxEnd = line.index!.span.end;
    return [{ span: { start: idxEnd, end: idxEnd }, newText: ` at ${hex(addr)}` }];
  }
  const nl = eol(a);
  const ind = indentOf(text, an.stmt.start);
  const unit = indentUnit(text);
  const block = an.stmt.block;
  if (block) return [insertFirstInBlock(text, block.open, [`bar ${bar.index} at ${hex(addr)}`], nl, ind + unit)];
  const lastWord = an.stmt.words[an.stmt.words.length - 1];
  return [{ span: { start: lastWord.end, end: lastWord.end }, newText: ` {${nl}${ind}${unit}bar ${bar.index} at ${hex(addr)}${nl}${ind}}` }];
}

/** Edits that set a guest-level single statement (`allocate`, `msix`) to `value`. */
function setGuestOption(a: Analysis, g: Guest, keyword: 'allocate' | 'msix', value: string): TextEdit[] {
  const vals = keyword === 'allocate' ? g.node.allocates : g.node.msixModes;
  if (vals.length > 0) return [{ span: vals[0].span, newText: value }];
  const block = g.node.stmt.block;
  if (!block) return [];
  const text = a.text;
  const nl = eol(a);
  const first = block.stmts[0];
  const ind = first ? indentOf(text, first.start) : indentOf(text, g.node.stmt.start) + indentUnit(text);
  // After the window line when there is one, else first in the block.
  const win = g.node.windows[0];
  if (!win) return [insertFirstInBlock(text, block.open, [`${keyword} ${value}`], nl, ind)];
  return [statementsAfter(text, win.stmt.trailingComment?.end ?? win.stmt.end, [`${keyword} ${value}`], nl, ind)];
}

/**
 * An edit that adds `lines` (statements) after the statement ending at `at`: each on a line of its own, unless more
 * follows on that line (`window … 1G; assign a`, `bar 0 }`): then on it, after a `;` each, as the file writes them.
 */
function statementsAfter(text: string, at: number, lines: string[], nl: string, ind: string): TextEdit {
  let j = at;
  while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
  const c = text[j];
  const ownLines = j >= text.length || c === '\n' || c === '\r' || c === '#';
  return { span: { start: at, end: at }, newText: ownLines ? lines.map((l) => `${nl}${ind}${l}`).join('') : lines.map((l) => `; ${l}`).join('') };
}

// ---- fixes per rule -------------------------------------------------------

/**
 * Most BARs that may follow one in its guest's allocator walk for a *Place* fix to be offered for it. Each of
 * them moves when the BAR gets an explicit address, so beyond a few dozen the fix is a guest-wide change that
 * its title does not tell (`allocate page-match` is the guest-wide fix), and checking each candidate address
 * judges them all: a code action in a guest of hundreds of devices took tens of milliseconds. Guests of about
 * 50 devices, whose small BARs come last under `size-descending`, lose no *Place* fix to it.
 */
export const MAX_PLACE_FOLLOWERS = 64;

function placeFixes(a: Analysis, d: Diagnostic, check: FixCheck): Fix[] {
  const ga = findGuest(a, d.target?.guest);
  const bar = findBar(a, d.target?.device, d.target?.bar);
  if (!ga || !bar || bar.host === undefined || bar.size === undefined) return [];
  // A place fix is a local one: where hundreds of BARs follow this one in the allocator's walk, an explicit address
  // would move them all (`allocate page-match` is the guest-wide fix), and checking each candidate would judge them all.
  const explicitNow = ga.placed.some((p) => p.bar === bar && p.explicit);
  if (!explicitNow && walkFollowers(ga.guest, ga.placed, bar) > MAX_PLACE_FOLLOWERS) return [];
  const P = a.topology.host.pageSize;
  const hOff = bar.host % P;
  const need = alignUp(hOff + bar.size, P);
  const align = bar.size > P ? bar.size : P;
  const pages = guestPages(a, ga);
  const own = ga.placements.get(bar)?.address;
  const inUse = own === undefined ? pages.without(bar, 0n, 0n) : pages.without(bar, alignDown(own, P), alignUp(own + bar.size, P));
  let top = pages.topWithout(bar);
  // In a fix-all round: the guest pages the round's other place fixes took, as if already placed.
  const taken = check.guestTaken?.(ga.guest.name);
  if (taken && taken.end > top) top = taken.end;
  const others = { overlapping: (x: bigint, y: bigint) => inUse(x, y) ?? taken?.set.overlapping(x, y) };
  const w = ga.guest.window;
  const start = w ? w.start : top;
  const end = w ? w.start + w.size : 1n << 64n;
  const candidates: bigint[] = [];
  let g0 = alignUp(start, align);
  for (let tries = 0; tries < 64 && candidates.length < 2 && g0 + need <= end; tries++) {
    const o = others.overlapping(g0, g0 + need);
    if (!o) {
      candidates.push(g0 + hOff);
      g0 = alignUp(g0 + need, align);
    } else g0 = alignUp(o[1], align);
  }
  const above = alignUp(top > start ? top : start, align);
  if (above + need <= end && !candidates.includes(above + hOff)) candidates.push(above + hOff);
  // Only a placement that adds no finding: giving the BAR an explicit address takes it out of the allocator's walk,
  // and the BARs after it move up; one that makes another BAR trap (a new warning) trades a trap for a trap, and
  // its title would not say so.
  for (const addr of candidates) {
    const edits = setGuestAddress(a, ga.guest, bar, addr);
    const v = check.verify(a, d, edits);
    if (v.ok && v.clean) return [{ title: `Place ${bar.id} at ${hex(addr)} in guest ${ga.guest.name} (offset ${hex(hOff)} matches the host)`, kind: 'quickfix', isPreferred: false, edits }];
  }
  return [];
}

function pageMatchFix(a: Analysis, d: Diagnostic, check: FixCheck): Fix[] {
  const ga = findGuest(a, d.target?.guest);
  if (!ga || ga.guest.policy === 'page-match') return [];
  const edits = setGuestOption(a, ga.guest, 'allocate', 'page-match');
  const v = check.verify(a, d, edits);
  if (!v.ok) return [];
  return [{ title: `Use \`allocate page-match\` in guest ${ga.guest.name} (guest offsets follow the host pages)`, kind: 'quickfix', isPreferred: v.clean, edits }];
}

const max = (u: bigint, v: bigint): bigint => (u > v ? u : v);
const min = (u: bigint, v: bigint): bigint => (u < v ? u : v);

/** Ranges longer than this many pages are kept apart from the per-page counts. */
const LONG_RANGE_PAGES = 32n;

/**
 * Pages in use in one address space (each range rounded out to whole pages), built once: a fix asks where
 * the free pages are as if its own BAR were gone. Runs of touching ranges are merged; inside the run that
 * holds the BAR, only the BAR's own pages can be free without it, and whether one is comes from how many
 * ranges cover that page (ranges of up to LONG_RANGE_PAGES pages are counted per page, longer ones kept in a
 * list of their own). So each question costs a binary search, whatever the size of the run.
 */
class PagesInUse {
  private readonly merged: IntervalSet;
  /** Ranges covering each page, for ranges of up to LONG_RANGE_PAGES pages. */
  private readonly perPage = new Map<bigint, number>();
  /** Those pages, sorted (which of them lie inside a long BAR's own pages: a binary search, not one step per page). */
  private readonly shortPages: bigint[];
  private readonly long: { start: bigint; end: bigint; bar: Bar | undefined }[] = [];
  /** Highest end of a range, and the BAR it belongs to (for the top as if that BAR were gone). */
  private top = 0n;
  private topBar: Bar | undefined;
  private nextTop = 0n;

  /** @param ranges rounded ranges and the BAR each comes from (undefined for ROMs and VF apertures) */
  constructor(
    ranges: { start: bigint; end: bigint; bar: Bar | undefined }[],
    private readonly P: bigint,
  ) {
    this.merged = IntervalSet.of(ranges.map((x) => [x.start, x.end]));
    for (const r of ranges) {
      if (r.end > this.top) {
        this.nextTop = this.top;
        this.top = r.end;
        this.topBar = r.bar;
      } else if (r.end > this.nextTop) this.nextTop = r.end;
      if ((r.end - r.start) / P > LONG_RANGE_PAGES) this.long.push(r);
      else for (let pg = r.start; pg < r.end; pg += P) this.perPage.set(pg, (this.perPage.get(pg) ?? 0) + 1);
    }
    this.shortPages = [...this.perPage.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  }

  /** The end of the highest range in use, `bar` left out. */
  topWithout(bar: Bar): bigint {
    return this.topBar === bar ? this.nextTop : this.top;
  }

  /** A range in use that overlaps [x, y), with `bar` (whose pages are [own0, own1)) left out; skipping to its end finds the next free place. */
  without(bar: Bar, own0: bigint, own1: bigint): (x: bigint, y: bigint) => [bigint, bigint] | undefined {
    const run = own1 > own0 ? this.merged.overlapping(own0, own1) : undefined;
    if (!run) return (x, y) => this.merged.overlapping(x, y);
    const P = this.P;
    const ownIsLong = (own1 - own0) / P > LONG_RANGE_PAGES;
    /** The first page of [lo, hi) (a part of the BAR's own pages) that another range uses too, as [page, page + P]. */
    const sharedIn = (lo: bigint, hi: bigint): [bigint, bigint] | undefined => {
      let first: bigint | undefined;
      if (ownIsLong) {
        // A long BAR is not in the per-page counts: any short range's page in [lo, hi) is another's (a binary search).
        const i = lowerBound(this.shortPages, lo, (x) => x);
        if (i < this.shortPages.length && this.shortPages[i] < hi) first = this.shortPages[i];
      } else {
        // A short BAR has at most LONG_RANGE_PAGES pages of its own: one step per page, its own range counted once.
        for (let pg = lo; pg < hi && first === undefined; pg += P) if ((this.perPage.get(pg) ?? 0) > 1) first = pg;
      }
      for (const r of this.long) {
        if (r.bar === bar || r.start >= hi || r.end <= lo) continue;
        const pg = r.start > lo ? r.start : lo;
        if (first === undefined || pg < first) first = pg;
      }
      return first === undefined ? undefined : [first, first + P];
    };
    return (x, y) => {
      const o = this.merged.overlapping(x, y);
      if (!o || o[0] !== run[0]) return o; // a run without the BAR, the same with or without it
      // Inside the BAR's run, what lies outside its own pages is covered by other ranges (a run has no gaps).
      if (max(x, run[0]) < min(y, own0)) return [run[0], own0];
      if (max(x, own1) < min(y, run[1])) return [max(x, own1), run[1]];
      const shared = sharedIn(alignDown(max(x, own0), P), min(y, own1));
      if (shared) return shared;
      // Its own pages that nothing else uses: free without it; else a run before it.
      return x < run[0] ? this.merged.overlapping(x, run[0]) : undefined;
    };
  }
}

/** The host pages memory resources use, built once per analysis. */
const hostPagesInUse = new WeakMap<Analysis, PagesInUse>();

function hostPages(a: Analysis): PagesInUse {
  let u = hostPagesInUse.get(a);
  if (!u) {
    const P = a.topology.host.pageSize;
    const ranges: { start: bigint; end: bigint; bar: Bar | undefined }[] = [];
    for (const res of a.host.resources) {
      if (res.space !== 'mem') continue;
      const start = alignDown(res.start, P);
      const end = alignUp(res.end, P);
      if (end > start) ranges.push({ start, end, bar: res.bar });
    }
    hostPagesInUse.set(a, (u = new PagesInUse(ranges, P)));
  }
  return u;
}

/** The guest pages a guest's placed BARs use, built once per analysis and guest (a fix-all round places thousands in one guest). */
const guestPagesInUse = new WeakMap<Analysis, Map<GuestAnalysis, PagesInUse>>();

function guestPages(a: Analysis, ga: GuestAnalysis): PagesInUse {
  let byGuest = guestPagesInUse.get(a);
  if (!byGuest) guestPagesInUse.set(a, (byGuest = new Map()));
  let u = byGuest.get(ga);
  if (!u) {
    const P = a.topology.host.pageSize;
    const ranges: { start: bigint; end: bigint; bar: Bar | undefined }[] = [];
    for (const p of ga.placed) {
      if (p.address === undefined || p.bar.size === undefined) continue;
      ranges.push({ start: alignDown(p.address, P), end: alignUp(p.address + p.bar.size, P), bar: p.bar });
    }
    byGuest.set(ga, (u = new PagesInUse(ranges, P)));
  }
  return u;
}

/**
 * The lowest address from `from`, aligned to `align`, where `size` bytes end by `end` in host pages that no range of
 * `used` holds and (in a fix-all round) no other move of the round takes, as if already there: the first and last
 * page are asked. Undefined when the search runs past `end`.
 */
function freeHostRange(used: (x: bigint, y: bigint) => [bigint, bigint] | undefined, P: bigint, from: bigint, end: bigint, size: bigint, align: bigint, taken?: { has(page: bigint): boolean }): bigint | undefined {
  let at = alignUp(from, align);
  for (let tries = 0; tries < 10000 && at + size <= end; tries++) {
    const o = used(alignDown(at, P), alignUp(at + size, P));
    if (o) at = alignUp(o[1], align);
    else if (taken && (taken.has(alignDown(at, P)) || taken.has(alignDown(at + size - 1n, P)))) at += align;
    else break;
  }
  return at + size <= end ? at : undefined;
}

function alignHostFix(a: Analysis, d: Diagnostic, check: FixCheck): Fix[] {
  const bar = findBar(a, d.target?.device, d.target?.bar);
  if (!bar || bar.host === undefined || bar.size === undefined) return [];
  const P = a.topology.host.pageSize;
  const used = hostPages(a).without(bar, alignDown(bar.host, P), alignUp(bar.host + bar.size, P));
  const win = a.topology.host.windows.find((w) => bar.host! >= w.start && bar.host! + bar.size! <= w.start + w.size);
  const starts: bigint[] = win ? [win.start] : [];
  starts.push(alignDown(bar.host, P)); // nearest free page at or above its own page
  const end = win ? win.start + win.size : 1n << 64n;
  const seen = new Set<bigint>();
  const addrText = a.text.slice(bar.node.address!.span.start, bar.node.address!.span.end);
  let fallback: Fix | undefined;
  for (const s of starts) {
    const at = freeHostRange(used, P, s, end, P, P, check.pagesTaken);
    if (at === undefined || seen.has(at)) continue;
    seen.add(at);
    const edits: TextEdit[] = [{ span: bar.node.address!.span, newText: formatAddressLike(at, addrText) }];
    const v = check.verify(a, d, edits);
    if (!v.ok) continue;
    const fix: Fix = { title: `Align ${bar.id} to the ${formatSize(P)} page: move it to ${hex(at)}, a page of its own`, kind: 'quickfix', isPreferred: true, edits };
    if (v.clean) return [fix];
    fallback = fallback ?? fix;
  }
  return fallback ? [fallback] : [];
}

/** Windows an *into a window* fix tries for one BAR (the host may declare thousands). */
const MAX_WINDOWS_TRIED = 8;

/** The windows an into-a-window fix tries, per analysis and kind of BAR: worked out once, not for each of thousands of BARs. */
const windowChoices = new WeakMap<Analysis, Map<string, HostWindow[]>>();

function windowsFor(a: Analysis, mem32: boolean, prefetch: boolean): HostWindow[] {
  let byKind = windowChoices.get(a);
  if (!byKind) windowChoices.set(a, (byKind = new Map()));
  const key = `${mem32}|${prefetch}`;
  let l = byKind.get(key);
  if (!l) {
    // A mem32 BAR decodes below 4 GiB, or in a translated window of at most 4 GiB; the BAR's prefetch flag first.
    const fits32 = (w: HostWindow): boolean => w.start + w.size <= FOUR_G || w.size <= FOUR_G;
    const ok = a.topology.host.windows.filter((w) => !mem32 || fits32(w));
    l = [...ok.filter((w) => w.prefetch === prefetch), ...ok.filter((w) => w.prefetch !== prefetch)].slice(0, MAX_WINDOWS_TRIED);
    byKind.set(key, l);
  }
  return l;
}

/**
 * bar-outside-window of a BAR: move it to the lowest free address in a host window where it decodes — naturally
 * aligned, in pages no other resource uses. Windows of the BAR's kind first: below 4 GiB for a mem32 BAR (a
 * window reaching above is the host's translated 32-bit one, which the rule accepts too), and with the BAR's
 * prefetch flag. ROMs and VF BARs are left to the user.
 */
function intoWindowFix(a: Analysis, d: Diagnostic, check: FixCheck): Fix[] {
  const t = d.target;
  if (!t || t.vf || t.guest || t.bar === undefined || t.bar < 0) return [];
  const bar = findBar(a, t.device, t.bar);
  if (!bar || bar.host === undefined || bar.size === undefined || bar.kind === 'io' || !bar.node.address) return [];
  const P = a.topology.host.pageSize;
  const size = bar.size;
  const align = size > P ? size : P;
  const used = hostPages(a).without(bar, alignDown(bar.host, P), alignUp(bar.host + size, P));
  const windows = windowsFor(a, bar.kind === 'mem32', bar.prefetch).filter((w) => w.size >= size);
  const addrText = a.text.slice(bar.node.address.span.start, bar.node.address.span.end);
  let fallback: Fix | undefined;
  for (const w of windows) {
    const at = freeHostRange(used, P, w.start, w.start + w.size, size, align, check.pagesTaken);
    if (at === undefined) continue;
    const edits: TextEdit[] = [{ span: bar.node.address.span, newText: formatAddressLike(at, addrText) }];
    const v = check.verify(a, d, edits);
    if (!v.ok) continue;
    const fix: Fix = { title: `Move ${bar.id} into window ${w.name}: to ${hex(at)}, in pages of its own`, kind: 'quickfix', isPreferred: true, edits };
    if (v.clean) return [fix];
    fallback ??= fix;
  }
  return fallback ? [fallback] : [];
}

function relocateMsixFix(a: Analysis, d: Diagnostic, check: FixCheck): Fix[] {
  if (!a.topology.host.msixMappable) return [];
  const dev = a.topology.deviceByName.get(d.target?.device ?? '');
  if (!dev) return [];
  const edits: TextEdit[] = [];
  const names: string[] = [];
  for (const ga of a.guests) {
    const g = ga.guest;
    if (g.msix !== 'emulate' || !g.assigns.some((x) => x.device === dev)) continue;
    edits.push(...setGuestOption(a, g, 'msix', 'relocate'));
    names.push(g.name);
  }
  const v = check.verify(a, d, edits);
  if (!v.ok) return [];
  return [{ title: `Relocate the MSI-X table: \`msix relocate\` in guest${names.length > 1 ? 's' : ''} ${someOf(names, (n) => n)} (QEMU x-msix-relocation)`, kind: 'quickfix', isPreferred: true, edits }];
}

function alignmentFixes(a: Analysis, d: Diagnostic, check: FixCheck): Fix[] {
  const t = d.target;
  if (!t?.device) return [];
  const dev = a.topology.deviceByName.get(t.device);
  if (!dev) return [];
  let span: { start: number; end: number } | undefined;
  let addr: bigint | undefined;
  let size: bigint | undefined;
  if (t.guest) {
    const gn = a.file.guests.find((g) => g.name?.value === t.guest);
    const line = gn && assignOf(gn, t.device)?.bars.find((x) => x.index?.value === t.bar);
    const bar = barAt(dev, t.bar ?? -99);
    if (line?.address && bar?.size) {
      span = line.address.span;
      addr = line.address.value;
      size = bar.size;
    }
  } else if (t.bar === -1) {
    const rn = dev.node.roms[0];
    if (rn?.address && dev.rom?.size) {
      span = rn.address.span;
      addr = rn.address.value;
      size = dev.rom.size;
    }
  } else {
    const bn = (t.vf ? dev.sriov?.bars : dev.bars)?.find((b) => b.index === t.bar)?.node;
    if (bn?.address && bn.size) {
      span = bn.address.span;
      addr = bn.address.value;
      size = bn.size.value;
    }
  }
  if (!span || addr === undefined || !size) return [];
  // A VF BAR's address is VF 0's: the whole aperture (its VFs, one size each) must fit below 2^64.
  const extent = t.vf && !t.guest && dev.sriov ? size * dev.sriov.vfs : size;
  const like = a.text.slice(span.start, span.end);
  // Named, so that two such fixes asked for together (two guests' placements on one line) are told apart.
  const what = `${d.subject ?? t.device}${t.guest ? ` in guest ${t.guest}` : ''}`;
  // On the host, an aligned address that still lands on a resource the BAR already overlaps (an aligned one: a
  // misaligned one may move out of the way with its own fix) leaves that overlap as it is: the check lets it pass, as
  // it is not new. It is left out when the other direction does not land on one (else both stay offered: each still
  // removes the alignment error). Found through the page buckets of the range's first and last page (a resource
  // reaching over both is not seen).
  const P = a.topology.host.pageSize;
  const stillOn = (v: bigint): boolean => {
    if (t.guest) return false;
    for (const pg of [v / P, (v + extent - 1n) / P]) {
      for (const r of resourcesIn(a.host.pages, pg)) {
        if (r.addrSpan.start === span!.start && r.addrSpan.end === span!.end) continue; // itself
        const unit = r.vfSize ?? r.end - r.start;
        if (unit <= 0n || r.start % unit !== 0n) continue;
        if (r.start < v + extent && v < r.end && r.start < addr! + extent && addr! < r.end) return true;
      }
    }
    return false;
  };
  const out: Fix[] = [];
  const candidates = ([
    ['down', alignDown(addr, size)],
    ['up', alignDown(addr, size) + size],
  ] as const).filter(([, v]) => v + extent <= U64_LIMIT); // not past the end of the 64-bit address space
  const clear = candidates.filter(([, v]) => !stillOn(v));
  for (const [dir, v] of clear.length > 0 ? clear : candidates) {
    const edits: TextEdit[] = [{ span, newText: formatAddressLike(v, like) }];
    const res = check.verify(a, d, edits);
    if (res.ok) out.push({ title: `Align ${what} ${dir} to ${hex(v)} (a multiple of ${formatSize(size)})`, kind: 'quickfix', isPreferred: out.length === 0, edits });
  }
  return out;
}

/**
 * Builds what fix checks of this analysis share (the keys of its diagnostics, the
 * host pages in use), which the first fix asked for would otherwise pay for. The
 * language server calls it when the user pauses, so that the first quick fix after
 * an edit is as quick as the next ones. The results are kept with the analysis.
 */
export function prepareFixes(a: Analysis): void {
  keysOf(a);
  hostPages(a);
  eol(a);
}

export function computeFixes(a: Analysis, d: Diagnostic): Fix[] {
  return fixesOf(a, d, VERIFIED);
}

function fixesOrNone(f: () => Fix[]): Fix[] {
  try {
    return f();
  } catch {
    return [];
  }
}

/** The fixes of `d`, each candidate checked by `check` (verified, or taken as it is for a fix-all round). */
function fixesOf(a: Analysis, d: Diagnostic, check: FixCheck): Fix[] {
  try {
    switch (d.rule) {
      case 'guest-offset-mismatch':
      case 'guest-page-conflict': {
        // Each kind on its own: one that fails leaves the others offered.
        const out = [placeFixes, reorderFixesFor, pageMatchFix].flatMap((f) => fixesOrNone(() => f(a, d, check)));
        if (!out.some((f) => f.isPreferred) && out.length > 0) out[0].isPreferred = true;
        return out;
      }
      case 'subpage-unaligned':
      case 'subpage-shared':
        return alignHostFix(a, d, check);
      case 'msix-page-shared':
        return relocateMsixFix(a, d, check);
      case 'bar-alignment':
        return alignmentFixes(a, d, check);
      case 'bar-outside-window':
        return intoWindowFix(a, d, check);
      default:
        return [];
    }
  } catch {
    return []; // a fix is a convenience: never let it take the caller down
  }
}

// ---- reorder refactor -------------------------------------------------------

export type Cls = 'S' | 'B' | 'T';

interface DevItems {
  device: Device;
  S: Bar[];
  B: Bar[];
  T: Bar[];
}

/** Finds device and BAR orders for which `listed` gives every mappable BAR its own page at the host offset. */
function findOrder(ga: GuestAnalysis, a: Analysis): { device: Device; bars: Bar[] }[] | undefined {
  const P = a.topology.host.pageSize;
  const items: DevItems[] = [];
  for (const as of ga.guest.assigns) {
    const it: DevItems = { device: as.device, S: [], B: [], T: [] };
    for (const ab of as.bars) {
      const b = ab.bar;
      if (ab.address !== undefined || b.size === undefined) continue;
      const mmap = a.host.decisions.get(b)?.verdict === 'mmap';
      if (b.size >= P) it.B.push(b);
      else if (mmap) it.S.push(b);
      else it.T.push(b);
    }
    items.push(it);
  }
  items.forEach((it) => it.B.sort((x, y) => (x.size! > y.size! ? -1 : x.size! < y.size! ? 1 : x.index - y.index)));
  const found = classOrder(items.map((it) => ({ S: it.S.length, B: it.B.length, T: it.T.length })));
  if (!found) return undefined;
  const { types, seq } = found;
  // Types back to devices: each type's devices in file order, each device's BARs in its class order.
  const out: { device: Device; bars: Bar[] }[] = [];
  const opened = types.map(() => 0);
  const taken = items.map(() => ({ S: 0, B: 0, T: 0 }));
  let dev = -1;
  for (const { type, cls } of seq) {
    if (cls === 'start') {
      dev = types[type].devs[opened[type]++];
      const t = types[type];
      if (t.S + t.B + t.T > 0) out.push({ device: items[dev].device, bars: [] });
      continue;
    }
    out[out.length - 1].bars.push(items[dev][cls][taken[dev][cls]++]);
  }
  // Devices with nothing to place keep their place after the others.
  for (const it of items) if (it.S.length + it.B.length + it.T.length === 0) out.push({ device: it.device, bars: [] });
  return out;
}

/** Longest walk (devices + BARs of a guest) the reorder search takes on: its recursion is that deep. */
export const MAX_WALK = 2000;

/**
 * The class search behind *Reorder assigned BARs*: an order of devices (each
 * device's BARs kept together) and of each device's BARs by class — S (sub-page,
 * mappable), B (at least a page), T (trapped) — in which every S touches only
 * B's, so that \`listed\` gives every mappable BAR its own page. Devices with the
 * same counts are interchangeable, so the search runs over these types. Returns
 * the types (with the indexes of their devices) and the walk (\`start\` opens the
 * next device of a type), or undefined when there is no such order, the step
 * budget runs out, or the walk would be longer than MAX_WALK (the search recurses
 * once per step of the walk). Exported for tests.
 */
export function classOrder(devs: { S: number; B: number; T: number }[]): { types: { S: number; B: number; T: number; devs: number[] }[]; seq: { type: number; cls: Cls | 'start' }[] } | undefined {
  // Devices with the same numbers of small-mappable, big and trapped BARs are interchangeable: the search
  // runs over these types (how many of each are left), not over devices, and remembers failed states by them.
  const types: { S: number; B: number; T: number; devs: number[] }[] = [];
  const typeOf = new Map<string, number>();
  devs.forEach((it, i) => {
    const k = `${it.S},${it.B},${it.T}`;
    let ti = typeOf.get(k);
    if (ti === undefined) {
      typeOf.set(k, (ti = types.length));
      types.push({ S: it.S, B: it.B, T: it.T, devs: [] });
    }
    types[ti].devs.push(i);
  });
  if (devs.reduce((n, it) => n + 1 + it.S + it.B + it.T, 0) > MAX_WALK) return undefined;
  const left = types.map((t) => t.devs.length);
  let devicesLeft = devs.length;
  // Cheap proofs that no order exists. A small mappable BAR (S) may only touch big ones (B): every S but the
  // first needs a B right before it, so there are at most B + 1 of them; and in a device whose S outnumber its
  // B, the S take both ends and every gap, leaving no place for a trapped BAR (T).
  const totalS = devs.reduce((n, it) => n + it.S, 0);
  const totalB = devs.reduce((n, it) => n + it.B, 0);
  if (totalS > totalB + 1) return undefined;
  if (devs.some((it) => it.S > it.B + 1 || (it.S === it.B + 1 && it.T > 0))) return undefined;
  // Device ends: a device with one S more than B has an S at both ends, one with as many S as B (≥ 1) at one end
  // and at most one B end, any other with a B can show B at both. Each S end needs a neighbour's B end or an end
  // of the whole order: more S ends than B ends + 2 means no order.
  let sEnds = 0;
  let bEnds = 2;
  for (const it of devs) {
    const sn = it.S;
    const bn = it.B;
    if (sn === 0 && bn === 0) continue;
    if (sn === bn + 1) sEnds += 2;
    else if (sn === bn) {
      sEnds += 1;
      bEnds += 1;
    } else bEnds += 2;
  }
  if (sEnds > bEnds) return undefined;
  // Failed states (devices left of each type, last class) as numbers: the counts in mixed radix.
  const radix: number[] = [];
  let states = 1;
  for (const t of types) {
    radix.push(states);
    states *= t.devs.length + 1;
  }
  const numericKeys = states * 4 < Number.MAX_SAFE_INTEGER;
  let leftCode = types.reduce((n, t, i) => n + t.devs.length * radix[i], 0);
  const failed = new Set<number | string>();
  const lastCode = (c: Cls | undefined): number => (c === undefined ? 0 : c === 'S' ? 1 : c === 'B' ? 2 : 3);
  /** The walk: `start` opens the next device of a type, then one entry per BAR class taken from it. */
  const seq: { type: number; cls: Cls | 'start' }[] = [];
  let budget = 50000;
  const ok = (last: Cls | undefined, next: Cls): boolean => !((last === 'S' && next !== 'B') || (next === 'S' && last !== undefined && last !== 'B'));
  // dfs over: pick a device type, then arrange that device's BARs (by class counts), then continue.
  const arrange = (ti: number, s: number, b: number, t: number, last: Cls | undefined): boolean => {
    if (--budget < 0) return false;
    if (s === 0 && b === 0 && t === 0) return pick(last);
    for (const c of ['B', 'S', 'T'] as Cls[]) {
      const n = c === 'S' ? s : c === 'B' ? b : t;
      if (n === 0 || !ok(last, c)) continue;
      seq.push({ type: ti, cls: c });
      if (arrange(ti, s - (c === 'S' ? 1 : 0), b - (c === 'B' ? 1 : 0), t - (c === 'T' ? 1 : 0), c)) return true;
      seq.pop();
    }
    return false;
  };
  const pick = (last: Cls | undefined): boolean => {
    if (devicesLeft === 0) return true;
    const key = numericKeys ? leftCode * 4 + lastCode(last) : `${left.join(',')}|${last ?? ''}`;
    if (failed.has(key)) return false;
    for (let ti = 0; ti < types.length; ti++) {
      if (left[ti] === 0) continue;
      left[ti]--;
      leftCode -= radix[ti];
      devicesLeft--;
      const mark = seq.length;
      seq.push({ type: ti, cls: 'start' });
      const t = types[ti];
      if (arrange(ti, t.S, t.B, t.T, last)) return true;
      seq.length = mark;
      left[ti]++;
      leftCode += radix[ti];
      devicesLeft++;
    }
    failed.add(key);
    return false;
  };
  if (!pick(undefined)) return undefined;
  return { types, seq };
}

/** Whether a statement has more after it on its line (`bar 0; bar 2`, `bar 0 }`); one with a trailing comment has not. */
function moreOnLine(text: string, x: Stmt): boolean {
  if (x.trailingComment) return false;
  let i = x.end;
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  return i < text.length && text[i] !== '\n' && text[i] !== '\r';
}

/**
 * Whether statements swapping places may take their trailing comments along: not when a place has more on
 * its line after it, where a moved comment would swallow the rest of that line (then every comment stays put).
 */
function commentsCanMove(text: string, places: Stmt[]): boolean {
  return !places.some((x) => moreOnLine(text, x));
}

/** Text of one assign statement with its block listing `order` (explicit `bar … at` lines kept), with its trailing comment when `withComment`. */
function rewriteAssign(a: Analysis, g: Guest, dev: Device, order: Bar[], withComment: boolean): string {
  const text = a.text;
  const an = assignOf(g.node, dev.name)!;
  const stmt = an.stmt;
  const end = withComment ? (stmt.trailingComment?.end ?? stmt.end) : stmt.end;
  const original = text.slice(stmt.start, end);
  const natural = dev.bars.filter((b) => b.kind !== 'io').sort((x, y) => x.index - y.index);
  const listedNow = an.bars.filter((x) => !x.address && x.index).map((x) => x.index!.value);
  const current = [...listedNow, ...natural.map((b) => b.index).filter((i) => !listedNow.includes(i))];
  const wanted = order.map((b) => b.index);
  if (wanted.every((v, i) => current.filter((c) => wanted.includes(c))[i] === v)) return original;
  const nl = eol(a);
  const ind = indentOf(text, stmt.start);
  const unit = indentUnit(text);
  const textOf = (x: Stmt): string => text.slice(x.start, x.trailingComment?.end ?? x.end);
  const block = stmt.block;
  if (!block) {
    const lastWord = stmt.words[stmt.words.length - 1];
    const head = text.slice(stmt.start, lastWord.end);
    const tail = text.slice(lastWord.end, end); // trailing comment, if any
    return `${head} {${tail}${nl}${order.map((b) => ind + unit + `bar ${b.index}`).join(nl)}${nl}${ind}}`;
  }
  // Only the block's plain `bar N` lines of the BARs being ordered move, each with its comment, into the
  // places such lines held; every other line (`bar N at …`, an io BAR, a repeated or unreadable one) stays
  // where it is, as it is. BARs the block did not list follow its last `bar` line.
  const nodeOf = new Map<Stmt, AssignBarNode>(an.bars.map((x) => [x.stmt, x]));
  const movable = new Map<number, Stmt>();
  const places: Stmt[] = [];
  let last: Stmt | undefined;
  for (const x of block.stmts) {
    if (x.head() !== 'bar') continue;
    last = x;
    const n = nodeOf.get(x);
    const index = n && !n.address ? n.index?.value : undefined;
    if (index === undefined || !wanted.includes(index) || movable.has(index)) continue;
    movable.set(index, x);
    places.push(x);
  }
  const withComments = commentsCanMove(text, places);
  const lines = order.map((b) => {
    const listed = movable.get(b.index);
    return !listed ? `bar ${b.index}` : withComments ? textOf(listed) : text.slice(listed.start, listed.end);
  });
  const edits: TextEdit[] = [];
  places.forEach((x, i) => edits.push({ span: { start: x.start, end: withComments ? (x.trailingComment?.end ?? x.end) : x.end }, newText: lines[i] }));
  const extra = lines.slice(places.length);
  if (extra.length > 0) {
    if (!last) edits.push(insertFirstInBlock(text, block.open, extra, nl, ind + unit));
    else edits.push(statementsAfter(text, last.trailingComment?.end ?? last.end, extra, nl, indentOf(text, last.start)));
  }
  const rel = edits.map((e) => ({ span: { start: e.span.start - stmt.start, end: e.span.end - stmt.start }, newText: e.newText }));
  return applyEdits(original, rel);
}

/** Reorder edits by analysis and guest: the same for every diagnostic of the guest (fix-all asks for each). */
const reorders = new WeakMap<Analysis, Map<GuestAnalysis, TextEdit[] | undefined>>();

function reorderEdits(a: Analysis, ga: GuestAnalysis): TextEdit[] | undefined {
  let byGuest = reorders.get(a);
  if (!byGuest) reorders.set(a, (byGuest = new Map()));
  if (!byGuest.has(ga)) byGuest.set(ga, reorderEditsNow(a, ga));
  return byGuest.get(ga);
}

function reorderEditsNow(a: Analysis, ga: GuestAnalysis): TextEdit[] | undefined {
  const order = findOrder(ga, a);
  if (!order) return undefined;
  const g = ga.guest;
  const text = a.text;
  const slots = g.assigns.map((as) => assignOf(g.node, as.device.name)!.stmt);
  // A block still being typed (never closed) has no end to rewrite up to: its comments would be cut or doubled.
  if (slots.some((x) => x.block && x.block.close === undefined)) return undefined;
  const withComments = commentsCanMove(text, slots);
  const edits: TextEdit[] = [];
  order.forEach((o, i) => {
    const slot = slots[i];
    const newText = rewriteAssign(a, g, o.device, o.bars, withComments);
    const span = { start: slot.start, end: withComments ? (slot.trailingComment?.end ?? slot.end) : slot.end };
    if (text.slice(span.start, span.end) !== newText) edits.push({ span, newText });
  });
  return edits;
}

function reorderFix(a: Analysis, ga: GuestAnalysis, d: Diagnostic | undefined, check: FixCheck = VERIFIED): Fix | undefined {
  if (ga.guest.policy !== 'listed') return undefined;
  const edits = reorderEdits(a, ga);
  if (!edits || edits.length === 0) return undefined;
  const name = ga.guest.name;
  const v = check.verify(a, d, edits, (diags) => !diags.some((x) => x.target?.guest === name && (x.rule === 'guest-offset-mismatch' || x.rule === 'guest-page-conflict')));
  if (!v.ok) return undefined;
  return { title: `Reorder assigned BARs in guest ${name} for page-matched offsets`, kind: 'quickfix', isPreferred: false, edits };
}

function reorderFixesFor(a: Analysis, d: Diagnostic, check: FixCheck): Fix[] {
  const ga = findGuest(a, d.target?.guest);
  if (!ga) return [];
  const f = reorderFix(a, ga, d, check);
  return f ? [f] : [];
}

/** Refactors offered on a guest block (the *Reorder assigned BARs* action). */
export function guestRefactors(a: Analysis, guestName: string): Fix[] {
  try {
    const ga = findGuest(a, guestName);
    if (!ga) return [];
    const hasProblem = a.diagnostics.some((x) => x.target?.guest === guestName && (x.rule === 'guest-offset-mismatch' || x.rule === 'guest-page-conflict'));
    if (!hasProblem) return [];
    const f = reorderFix(a, ga, undefined);
    return f ? [{ ...f, kind: 'refactor' }] : [];
  } catch {
    return [];
  }
}

/** What `fixAll` did: the fixed text, the titles of the fixes applied, and whether it went through every diagnostic. */
export interface FixAllResult {
  text: string;
  applied: string[];
  /** False when it stopped at `maxSteps` or at `budgetMs` with fixable diagnostics perhaps left. */
  complete: boolean;
  /** Rounds of fixes made (see `fixAll`): the text was analysed again once per round, plus once per fix that had to be checked alone. */
  rounds: number;
}

/**
 * Fix-all's candidates: each fix function's first choice, unchecked (a round is checked as a whole); the
 * extra condition a candidate carries (the reorder fix's) is kept for that check.
 */
class Unchecked implements FixCheck {
  readonly goneOf = new WeakMap<TextEdit[], (diags: Diagnostic[]) => boolean>();
  readonly pagesTaken: { has(page: bigint): boolean };
  constructor(private readonly claims: RoundClaims) {
    this.pagesTaken = claims.host;
  }

  guestTaken(guest: string): { set: IntervalSet; end: bigint } {
    return this.claims.guest(guest).taken;
  }

  verify(_a: Analysis, _d: Diagnostic | undefined, edits: TextEdit[], gone?: (diags: Diagnostic[]) => boolean): Verified {
    if (gone) this.goneOf.set(edits, gone);
    return edits.length > 0 ? { ok: true, clean: true } : { ok: false, clean: false };
  }
}

/** One fix of a fix-all round: the key of its diagnostic, the fix, and its extra condition. */
interface RoundFix {
  key: string;
  fix: Fix;
  gone?: (diags: Diagnostic[]) => boolean;
}

/** Which device or guest each top-level statement is. */
interface Owner {
  key: string;
  device?: string;
  guest?: GuestNode;
}

function ownersOf(a: Analysis): Map<Stmt, Owner> {
  const byStmt = new Map<Stmt, Owner>();
  for (const dn of a.file.devices) if (dn.name) byStmt.set(dn.stmt, { key: `d:${dn.name.value}`, device: dn.name.value });
  for (const gn of a.file.guests) if (gn.name) byStmt.set(gn.stmt, { key: `g:${gn.name.value}`, guest: gn });
  return byStmt;
}

/** The integer literal `text[start, end)` (as the parser reads it), or undefined. */
function integerIn(text: string, start = 0, end = text.length): bigint | undefined {
  const v = readInteger(text, start, end);
  return typeof v === 'bigint' ? v : undefined;
}

/** The pages of [start, start + size): all of them up to 32, else the first and last 16. */
function pagesOf(start: bigint, size: bigint, P: bigint): bigint[] {
  const out: bigint[] = [];
  const first = alignDown(start, P);
  const end = alignUp(start + size, P);
  const n = (end - first) / P;
  for (let k = 0n; k < n; k++) {
    if (n > 32n && k === 16n) k = n - 16n;
    out.push(first + k * P);
  }
  return out;
}

/** A BAR a fix moves, on the host or in one guest: the pages it leaves and those it goes to. */
interface Move {
  leaves: bigint[];
  goes: bigint[];
  /** Where it goes, whole (page-aligned): the round's other place fixes in that guest look past it. */
  to: [bigint, bigint];
}

interface Claims {
  /** Names only this fix of the round may claim: `d:device`, `g:guest`. */
  names: string[];
  /** Names fixes of the round may share, but not with a fix that claims them alone: the guest of a fix that edits one assign. */
  shared: string[];
  host?: Move;
  guest?: { name: string; move: Move };
}

/**
 * What a fix's outcome depends on or changes. As names: the device and guest of its diagnostic and the
 * statements it edits; a fix that only edits the assign of its own device in a guest (placing or aligning
 * that BAR there) shares the guest with other such fixes. As pages: those a BAR it moves leaves and those
 * it goes to, on the host or in the guest. Two fixes of one round share no name that one of them claims
 * alone and no page either goes to, and leave a page at most as often as the page has tenants besides one:
 * then each is checked as if the others were not there (and a BAR whose page-mate moved away stays).
 */
function claimsOf(a: Analysis, d: Diagnostic, fix: Fix, owners: Map<Stmt, Owner>): Claims {
  const c: Claims = { names: [], shared: [] };
  const t = d.target;
  const P = a.topology.host.pageSize;
  if (t?.device !== undefined) c.names.push(`d:${t.device}`);
  const stmts = a.tree.stmts;
  let guestWide = false;
  for (const e of fix.edits) {
    const s = stmts[lowerBound(stmts, e.span.start + 1, (x) => x.end)];
    const owner = s && s.start <= e.span.start ? owners.get(s) : undefined;
    if (!owner) continue;
    if (owner.device !== undefined) {
      c.names.push(owner.key);
      const bar = t && !t.vf && t.guest === undefined ? findBar(a, t.device, t.bar) : undefined;
      const from = integerIn(a.text, e.span.start, e.span.end);
      const to = integerIn(e.newText);
      if (bar?.size !== undefined && from !== undefined && to !== undefined) {
        c.host = { leaves: pagesOf(from, bar.size, P), goes: pagesOf(to, bar.size, P), to: [alignDown(to, P), alignUp(to + bar.size, P)] };
      }
      continue;
    }
    // In a guest: inside the assign of the diagnostic's own BAR, with its new guest address, or guest-wide.
    const gn = owner.guest!;
    const assign = t?.device !== undefined && t.guest === gn.name?.value ? assignOf(gn, t.device) : undefined;
    // The new address: the replaced address text, or what `at` says in the text added to the assign.
    const atWord = /\bat\s+([0-9a-fA-FxX_]+)/.exec(e.newText);
    const at = integerIn(e.newText) ?? (atWord ? integerIn(atWord[1]) : undefined);
    const inAssign = assign && e.span.start >= assign.stmt.start && e.span.end <= assign.stmt.end;
    const ga = inAssign ? findGuest(a, t?.guest) : undefined;
    const bar = ga ? findBar(a, t?.device, t?.bar) : undefined;
    if (!ga || !bar?.size || at === undefined || c.guest) {
      guestWide = true;
      c.names.push(owner.key);
      continue;
    }
    const old = ga.placements.get(bar)?.address;
    c.guest = {
      name: ga.guest.name,
      move: { leaves: old === undefined ? [] : pagesOf(old, bar.size, P), goes: pagesOf(at, bar.size, P), to: [alignDown(at, P), alignUp(at + bar.size, P)] },
    };
  }
  if (c.guest && !guestWide) c.shared.push(`g:${c.guest.name}`);
  else if (t?.guest !== undefined) c.names.push(`g:${t.guest}`);
  return c;
}

/** The pages of one address space (the host's, or a guest's) claimed in a fix-all round. */
class PageClaims {
  readonly goes = new Set<bigint>();
  readonly leaving = new Map<bigint, number>();
  /** Where the round's moves go, whole, and the end of the highest. */
  readonly taken = { set: new IntervalSet(), end: 0n };
  /** @param tenants how many resources (or placed BARs) a page holds now */
  constructor(private readonly tenants: (page: bigint) => number) {}

  /** Whether a page is claimed at all (an align fix of the round looks past it). */
  has(p: bigint): boolean {
    return this.goes.has(p) || this.leaving.has(p);
  }

  fits(m: Move): boolean {
    if (m.goes.some((p) => this.has(p))) return false;
    if (m.leaves.some((p) => this.goes.has(p))) return false;
    // A page may be left by as many BARs as it has tenants besides one (the one left behind needs no move).
    // Tenants are counted where they are known, at the first and last page of each BAR: a middle page of
    // a 1M BAR counts none of the BARs over it, and 1,000 such BARs at one address would leave one a round.
    const first = m.leaves[0];
    const last = m.leaves[m.leaves.length - 1];
    const room = (p: bigint): boolean => (this.leaving.get(p) ?? 0) < Math.max(1, this.tenants(p) - 1);
    return m.leaves.length === 0 || (room(first) && room(last));
  }

  take(m: Move): void {
    for (const p of m.goes) this.goes.add(p);
    for (const p of m.leaves) this.leaving.set(p, (this.leaving.get(p) ?? 0) + 1);
    this.taken.set.add(m.to[0], m.to[1]);
    if (m.to[1] > this.taken.end) this.taken.end = m.to[1];
  }
}

/** What a fix-all round has claimed so far. */
class RoundClaims {
  private readonly names = new Set<string>();
  private readonly shared = new Set<string>();
  readonly host: PageClaims;
  private readonly guests = new Map<string, PageClaims>();

  constructor(private readonly a: Analysis) {
    const P = a.topology.host.pageSize;
    this.host = new PageClaims((p) => resourcesIn(a.host.pages, p / P).length);
  }

  /** The pages claimed in one guest (tenants: the placed BARs whose first or last page it is). */
  guest(name: string): PageClaims {
    let g = this.guests.get(name);
    if (!g) {
      const P = this.a.topology.host.pageSize;
      const count = new Map<bigint, number>();
      for (const p of findGuest(this.a, name)?.placed ?? []) {
        if (p.address === undefined || p.bar.size === undefined) continue;
        const first = alignDown(p.address, P);
        const last = alignDown(p.address + p.bar.size - 1n, P);
        count.set(first, (count.get(first) ?? 0) + 1);
        if (last !== first) count.set(last, (count.get(last) ?? 0) + 1);
      }
      this.guests.set(name, (g = new PageClaims((p) => count.get(p) ?? 0)));
    }
    return g;
  }

  /** Whether a diagnostic's own device or guest is already claimed alone (its fix need not be computed). */
  blocks(d: Diagnostic): boolean {
    const t = d.target;
    return (t?.device !== undefined && this.names.has(`d:${t.device}`)) || (t?.guest !== undefined && this.names.has(`g:${t.guest}`));
  }

  fits(c: Claims): boolean {
    if (c.names.some((n) => this.names.has(n) || this.shared.has(n)) || c.shared.some((n) => this.names.has(n))) return false;
    if (c.host && !this.host.fits(c.host)) return false;
    return !c.guest || this.guest(c.guest.name).fits(c.guest.move);
  }

  take(c: Claims): void {
    for (const n of c.names) this.names.add(n);
    for (const n of c.shared) this.shared.add(n);
    if (c.host) this.host.take(c.host);
    if (c.guest) this.guest(c.guest.name).take(c.guest.move);
  }
}

/**
 * Whether a round's fixes, applied together to `a`, remove every diagnostic they target, meet their extra
 * conditions, and add no error: what `verifyFix` asks of one fix, with one analysis of the edited copy.
 */
function roundHolds(a: Analysis, round: RoundFix[]): boolean {
  const edits = round.flatMap((r) => r.fix.edits);
  const copy = parseEditedCopy({ tree: a.tree, file: a.file, errors: a.syntaxErrors }, a.text, edits);
  const b = copy ? analyzeParsed(a.text, copy, a.options, false, a, false, false) : analyze(applyEdits(a.text, edits), a.options);
  const before = keysOf(a);
  const targets = new Set(round.map((r) => r.key));
  for (const x of b.diagnostics) if (targets.has(before.byObject.get(x) ?? diagnosticKey(x))) return false;
  return judgeEdit(before, b.diagnostics, undefined, (diags) => round.every((r) => !r.gone || r.gone(diags))).ok;
}

/**
 * Applies the preferred fix of every fixable diagnostic, in rounds. A round takes the diagnostics in
 * document order and the first choice of each one's fix functions, unchecked, passing over those whose fix
 * would touch what an earlier fix of the round touches (`claimsOf`: the same device, guest or host page;
 * they come up again in the next round, if still there); an align fix looks past the pages already taken.
 * The round is then checked as a whole with one analysis: every targeted diagnostic gone, no error
 * added. If that fails, the longest first part that passes is kept (binary search) and the first fix that
 * failed is replaced by its diagnostic's verified preferred fix, as a quick fix would offer it. The text is
 * analysed again after each round (incrementally from the second: the first analysis is `a`, which is left
 * as it is). So a file with thousands of independent fixes takes a few rounds, not one analysis per fix.
 * `budgetMs` bounds the time spent (the language server must stay responsive); the text returned then holds
 * the rounds finished so far.
 */
export function fixAll(a: Analysis, opts: { maxSteps?: number; budgetMs?: number; maxAttempts?: number } = {}): FixAllResult {
  const maxSteps = opts.maxSteps ?? 100;
  const deadline = opts.budgetMs === undefined ? Infinity : Date.now() + opts.budgetMs;
  // Diagnostics whose fixes were computed, found or not: a bound that does not depend on the machine.
  let attempts = 0;
  const maxAttempts = opts.maxAttempts ?? Infinity;
  let text = a.text;
  let last = a; // the analysis of `text` once `current()` has made it
  /** The analysis of the text as fixed so far: made when needed, so that the text of the last round is not analysed for nothing. */
  const current = (): Analysis => {
    // `a` belongs to the caller; the analyses made here are ours to consume.
    if (last.text !== text) last = last === a ? analyze(text, a.options) : analyze(text, a.options, last);
    return last;
  };
  const applied: string[] = [];
  const skip = new Set<string>();
  /** First choices in a guest that failed their own check where a quick fix chose another, by guest and title: the same fix for another diagnostic is not a first choice any more. */
  const refused = new Set<string>();
  let rounds = 0;
  let checkMs = 0;
  const apply = (fixes: Fix[]): void => {
    text = applyEdits(
      text,
      fixes.flatMap((f) => f.edits),
    );
    for (const f of fixes) applied.push(f.title);
    // A diagnostic without a fix may have one now: its fix may have failed only because of where the round's other
    // fixes stood (or were about to go) at that moment. Each is tried again, after the text changed.
    skip.clear();
  };
  for (;;) {
    const cur = current();
    const claims = new RoundClaims(cur);
    const unchecked = new Unchecked(claims);
    const round: RoundFix[] = [];
    let owners: Map<Stmt, Owner> | undefined;
    let stopped = false;
    for (const d of cur.diagnostics) {
      const key = diagnosticKey(d);
      if (skip.has(key)) continue;
      if (claims.blocks(d)) continue; // next round
      // A round is checked once it ends: room is left for that check (as long as the last one took).
      if (applied.length + round.length >= maxSteps || Date.now() + checkMs >= deadline || attempts >= maxAttempts) {
        stopped = true;
        break;
      }
      attempts++;
      // A first choice that failed its own check before (a guest-wide fix such as page-match, same title) is not taken again.
      const fixes = fixesOf(cur, d, unchecked).filter((x) => d.target?.guest === undefined || !refused.has(`${d.target.guest}|${x.title}`));
      const fix = fixes.find((x) => x.isPreferred) ?? fixes[0];
      if (!fix) {
        skip.add(key);
        continue;
      }
      const c = claimsOf(cur, d, fix, (owners ??= ownersOf(cur)));
      if (!claims.fits(c)) continue; // next round
      claims.take(c);
      round.push({ key, fix, gone: unchecked.goneOf.get(fix.edits) });
    }
    if (round.length === 0) return { text, applied, complete: !stopped, rounds };
    rounds++;
    let holds = round.length;
    const checkStart = Date.now();
    const whole = roundHolds(cur, round);
    checkMs = Date.now() - checkStart;
    if (!whole) {
      let lo = 0; // a first part that holds (the empty one does)
      let hi = round.length; // one that does not
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (roundHolds(cur, round.slice(0, mid))) lo = mid;
        else hi = mid;
      }
      holds = lo;
    }
    if (holds > 0) apply(round.slice(0, holds).map((r) => r.fix));
    if (holds < round.length && applied.length < maxSteps && Date.now() < deadline) {
      // The first fix that failed: its diagnostic, if still there, gets its verified preferred fix, or none.
      const { key, fix: failed } = round[holds];
      const now = current();
      const d = now.diagnostics.find((x) => diagnosticKey(x) === key);
      if (d) {
        const fixes = computeFixes(now, d);
        const fix = fixes.find((x) => x.isPreferred) ?? fixes[0];
        // Only when a quick fix chose another one: no fix at all may just mean that the moment was wrong. Only in a
        // guest (a guest-wide fix, same title for every diagnostic there): on the host, a title names an address, and
        // another BAR's fix to that address ("Align b.rom down to 0xfe200000") may well hold.
        if (fix && fix.title !== failed.title && d.target?.guest !== undefined) refused.add(`${d.target.guest}|${failed.title}`);
        if (fix) apply([fix]);
        else skip.add(key);
      }
    }
    if (stopped) return { text, applied, complete: false, rounds };
  }
}

/** One edit replacing the changed middle of `before` with that of `after`. */
export function diffEdit(before: string, after: string): TextEdit | undefined {
  if (before === after) return undefined;
  let s = 0;
  while (s < before.length && s < after.length && before[s] === after[s]) s++;
  let e1 = before.length;
  let e2 = after.length;
  while (e1 > s && e2 > s && before[e1 - 1] === after[e2 - 1]) {
    e1--;
    e2--;
  }
  return { span: { start: s, end: e1 }, newText: after.slice(s, e2) };
}

