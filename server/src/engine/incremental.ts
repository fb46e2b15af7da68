// Incremental re-parsing by top-level statement. An edit touches a few
// top-level statements (`host`, `device`, `guest` blocks); only those (and one
// untouched neighbour on each side, so that comments and block recovery see
// the same surroundings as a full parse) are scanned and parsed again. The
// statements before the edit are reused as they are; the ones after it are
// reused and moved by the edit's length change. The result is the parse a full
// `parse(text)` would give (test/incremental.test.ts checks exactly that);
// when the edit cannot be isolated (a `{` left open, a change of nesting that
// runs past the next statement) it answers undefined and the caller parses the
// whole text.

import { AssignNode, BarNode, DeviceNode, FileNode, GuestNode, HostNode, Val } from './ast';
import { Token } from './lexer';
import { parseStatements, ParseResult, SyntaxError } from './parser';
import { parseTree, Stmt, Tree } from './tree';
import { applyEdits } from './textEdits';
import { Span } from './types';

/** Below this many characters the search compares single characters instead of slices. */
const LINEAR = 64;

/**
 * Length of the common prefix of `a` and `b` within the first `n` characters (or,
 * with `fromEnd`, of the common suffix). Slices are compared natively (a memcmp
 * on flat strings), first growing (1K, 2K, 4K, …) until one differs, then
 * halving inside it: O(log n) native compares instead of a character loop.
 */
function commonLength(a: string, b: string, n: number, fromEnd: boolean): number {
  const al = a.length;
  const bl = b.length;
  const same = (from: number, to: number): boolean => (fromEnd ? a.slice(al - to, al - from) === b.slice(bl - to, bl - from) : a.slice(from, to) === b.slice(from, to));
  let lo = 0;
  let step = 1024;
  while (lo + step <= n && same(lo, lo + step)) {
    lo += step;
    step *= 2;
  }
  let hi = Math.min(lo + step, n);
  while (hi - lo > LINEAR) {
    const mid = (lo + hi) >>> 1;
    if (same(lo, mid)) lo = mid;
    else hi = mid;
  }
  if (fromEnd) while (lo < n && a.charCodeAt(al - 1 - lo) === b.charCodeAt(bl - 1 - lo)) lo++;
  else while (lo < n && a.charCodeAt(lo) === b.charCodeAt(lo)) lo++;
  return lo;
}

/** The changed region of `before` → `after`: common prefix length and common suffix length (not overlapping it). */
export function changedRegion(before: string, after: string): { prefix: number; suffix: number } {
  const n = Math.min(before.length, after.length);
  const prefix = commonLength(before, after, n, false);
  return { prefix, suffix: commonLength(before, after, n - prefix, true) };
}

/** End of a top-level statement including its trailing comment. */
function extentEnd(s: Stmt): number {
  return s.trailingComment ? Math.max(s.end, s.trailingComment.end) : s.end;
}

/** First index in `xs` (sorted by `key`) whose key is ≥ `at` (offsets, or addresses as bigints). */
export function lowerBound<T, K extends number | bigint>(xs: readonly T[], at: K, key: (x: T) => K): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(xs[mid]) < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---- moving reused nodes ------------------------------------------------

function moveSpan(s: Span | undefined, d: number): void {
  if (!s) return;
  s.start += d;
  s.end += d;
}

function moveVal(v: Val<unknown> | undefined, d: number): void {
  if (v) moveSpan(v.span, d);
}

function moveStmt(root: Stmt, d: number): void {
  const stack: Stmt[] = [root];
  while (stack.length > 0) {
    const s = stack.pop()!;
    s.start += d;
    s.end += d;
    s.wordsEnd += d;
    // The trailing comment is also in the tree's comment list, which moves it.
    if (s.block) {
      s.block.open += d;
      if (s.block.close !== undefined) s.block.close += d;
      for (const c of s.block.stmts) stack.push(c);
    }
  }
}

function moveHost(h: HostNode, d: number): void {
  moveSpan(h.keyword, d);
  moveVal(h.name, d);
  moveVal(h.pageSize, d);
  moveVal(h.arch, d);
  moveVal(h.msixMappable, d);
  for (const w of h.windows) {
    moveVal(w.name, d);
    moveVal(w.address, d);
    moveVal(w.size, d);
  }
}

function moveBar(b: BarNode, d: number): void {
  moveVal(b.index, d);
  moveVal(b.size, d);
  moveVal(b.address, d);
}

function moveDevice(n: DeviceNode, d: number): void {
  moveVal(n.name, d);
  moveVal(n.pci, d);
  moveVal(n.group, d);
  moveVal(n.label, d);
  moveVal(n.id, d);
  for (const g of n.groups) moveVal(g, d);
  for (const b of n.bars) moveBar(b, d);
  for (const sr of n.sriovs) {
    moveVal(sr.vfs, d);
    for (const b of sr.bars) moveBar(b, d);
  }
  for (const m of n.msix) {
    moveVal(m.entries, d);
    moveVal(m.tableBar, d);
    moveVal(m.tableOffset, d);
    moveVal(m.pbaBar, d);
    moveVal(m.pbaOffset, d);
  }
  for (const r of n.regions) {
    moveVal(r.name, d);
    moveVal(r.bar, d);
    moveVal(r.offset, d);
    moveVal(r.size, d);
  }
  for (const r of n.roms) {
    moveVal(r.size, d);
    moveVal(r.address, d);
  }
}

function moveAssign(a: AssignNode, d: number): void {
  moveVal(a.device, d);
  for (const b of a.bars) {
    moveVal(b.index, d);
    moveVal(b.address, d);
  }
}

function moveGuest(g: GuestNode, d: number): void {
  moveVal(g.name, d);
  for (const w of g.windows) {
    moveVal(w.address, d);
    moveVal(w.size, d);
  }
  for (const a of g.allocates) moveVal(a, d);
  for (const m of g.msixModes) moveVal(m, d);
  for (const a of g.assigns) moveAssign(a, d);
}

const movedError = (e: SyntaxError, d: number): SyntaxError => ({ span: { start: e.span.start + d, end: e.span.end + d }, message: e.message });
const movedComment = (c: Token, d: number): Token => {
  c.start += d;
  c.end += d;
  return c;
};

// ---- the re-parse -------------------------------------------------------

/**
 * The parse of `text`, made from `prev` (the parse of `prevText`) by parsing
 * again only the top-level statements the change touches. `prev` is consumed:
 * its reused nodes move to the new offsets, so it must not be used afterwards.
 * Undefined when the change cannot be isolated; parse the whole text then.
 */
export function reparse(prev: ParseResult, prevText: string, text: string): ParseResult | undefined {
  const K = prev.tree.stmts;
  if (K.length < 3) return undefined; // nothing worth reusing
  // (Not `prevText === text`: an edited text is usually a rope of slices, which that comparison walks character by character.)
  const { prefix, suffix } = changedRegion(prevText, text);
  if (prefix === text.length && prefix === prevText.length) return prev;
  const oldChangeEnd = prevText.length - suffix;
  const delta = text.length - prevText.length;

  // Statements wholly before the change, and the first one wholly after it.
  const firstTouched = lowerBound(K, prefix, extentEnd); // first with extentEnd ≥ prefix
  const firstAfter = lowerBound(K, oldChangeEnd + 1, (s) => s.start); // first with start > oldChangeEnd
  // One untouched statement on each side is parsed again with the change.
  const lo = Math.max(0, firstTouched - 1);
  const hi = firstAfter < K.length ? firstAfter : -1; // last statement parsed again (index), or -1: to the end
  const from = lo === 0 ? 0 : K[lo].start;
  // (hi === lo only when the change lies before the first statement: then from = 0 and that statement is the one parsed again.)
  if (hi >= 0 && hi < lo) return undefined;
  const sync = hi >= 0 ? K[hi] : undefined;
  // The neighbour after must end where a full parse would end it: a `}` of its own, not a recovery.
  if (sync && sync.block && sync.block.close === undefined) return undefined;
  const oldTo = sync ? extentEnd(sync) : prevText.length;
  const newTo = sync ? oldTo + delta : text.length;
  if (newTo < from) return undefined;

  // The region's statements share the reused tree's source, which moves to `text` once the region is in step.
  const source = prev.tree.source;
  const region: Tree = parseTree(text, from, newTo, source);
  if (sync) {
    // In step again at the neighbour: it is the region's last statement, in the same place.
    const last = region.stmts[region.stmts.length - 1];
    if (!last || last.start !== sync.start + delta || last.end !== sync.end + delta || !!last.block !== !!sync.block) return undefined;
    if (sync.block && last.block!.close === undefined) return undefined;
  }

  // From here on the re-parse cannot fail: every reused statement now reads `text`.
  source.text = text;

  // The typed parse of the region.
  const regionFile: FileNode = { hosts: [], devices: [], guests: [], repeated: [] };
  const regionTyped: SyntaxError[] = [];
  parseStatements(region.stmts, regionFile, regionTyped);

  // Reused statements: before `from` as they are, after `oldTo` moved by delta.
  // Typed top-level nodes are in document order: those starting before the
  // region are kept, those of the re-parsed statements replaced, those after it
  // moved. Classified by their old offsets, so before any statement moves.
  const pickTop = <N extends { stmt: Stmt }>(old: N[], fresh: N[], move: (n: N, d: number) => void): N[] => {
    const out: N[] = [];
    let i = 0;
    for (; i < old.length && old[i].stmt.start < from; i++) out.push(old[i]);
    for (const n of fresh) out.push(n);
    for (; i < old.length; i++) {
      const n = old[i];
      if (n.stmt.start < oldTo) continue;
      if (delta !== 0) move(n, delta);
      out.push(n);
    }
    return out;
  };
  const file: FileNode = {
    hosts: pickTop(prev.file.hosts, regionFile.hosts, moveHost),
    devices: pickTop(prev.file.devices, regionFile.devices, moveDevice),
    guests: pickTop(prev.file.guests, regionFile.guests, moveGuest),
    repeated: [],
  };

  const head = K.slice(0, lo);
  const tail = hi >= 0 ? K.slice(hi + 1) : [];
  if (delta !== 0) for (const s of tail) moveStmt(s, delta);
  const stmts = [...head, ...region.stmts, ...tail];

  for (const r of prev.file.repeated) if (r.span.start < from) file.repeated.push(r);
  file.repeated.push(...regionFile.repeated);
  for (const r of prev.file.repeated) if (r.span.start >= oldTo) file.repeated.push({ span: { start: r.span.start + delta, end: r.span.end + delta }, message: r.message });

  // Comments and errors by position: before, the region's, after (moved).
  const comments: Token[] = [];
  for (const c of prev.tree.comments) if (c.start < from) comments.push(c);
  comments.push(...region.comments);
  for (const c of prev.tree.comments) if (c.start >= oldTo) comments.push(movedComment(c, delta));

  const treeErrors: SyntaxError[] = [];
  const nTree = prev.tree.errors.length;
  for (const e of prev.tree.errors) if (e.span.start < from) treeErrors.push(e);
  treeErrors.push(...region.errors);
  for (const e of prev.tree.errors) if (e.span.start >= oldTo) treeErrors.push(movedError(e, delta));

  const typed: SyntaxError[] = [];
  const prevTyped = prev.errors.slice(nTree);
  for (const e of prevTyped) if (e.span.start < from) typed.push(e);
  typed.push(...regionTyped);
  for (const e of prevTyped) if (e.span.start >= oldTo) typed.push(movedError(e, delta));

  const tree: Tree = { stmts, comments, errors: treeErrors, source };
  return { tree, file, errors: [...treeErrors.map((e) => ({ span: e.span, message: e.message })), ...typed] };
}

// ---- parse of an edited copy, for checking fixes ----------------------------

/**
 * The parse of `text` with `edits` applied, made without touching `prev`:
 * each top-level statement an edit falls in is parsed again on its own (so the
 * offsets inside it start at 0), the others are shared with `prev` unmoved.
 * Offsets in the result are therefore not those of the edited text: it is for
 * comparing findings by rule and subject (fix verification), not for showing
 * them. Undefined when an edit is not inside a top-level statement, or the
 * edited statement does not parse back cleanly to one statement of the same
 * kind (its blocks balanced).
 */
export function parseEditedCopy(prev: ParseResult, text: string, edits: readonly { span: Span; newText: string }[]): ParseResult | undefined {
  const K = prev.tree.stmts;
  const groups = new Map<Stmt, { span: Span; newText: string }[]>();
  for (const e of edits) {
    const i = lowerBound(K, e.span.start + 1, (s) => s.end) ; // first statement ending at or after the edit's start
    const s = K[i];
    if (!s || !s.hasWords() || e.span.start <= s.start || e.span.end >= s.end) return undefined; // inside, not at its edges
    const g = groups.get(s);
    if (g) g.push(e);
    else groups.set(s, [e]);
  }
  if (groups.size === 0) return undefined;
  const file: FileNode = { hosts: [...prev.file.hosts], devices: [...prev.file.devices], guests: [...prev.file.guests], repeated: [] };
  const inside = (span: Span): boolean => {
    for (const s of groups.keys()) if (span.start >= s.start && span.start < s.end) return true;
    return false;
  };
  const errors = prev.errors.filter((e) => !inside(e.span));
  file.repeated = prev.file.repeated.filter((r) => !inside(r.span));
  // Where each edited statement's node sits in the copy's lists (one pass, not one search per statement: a fix may edit thousands).
  const places = new Map<Stmt, { list: { stmt: Stmt }[]; at: number }>();
  for (const list of [file.hosts, file.devices, file.guests] as { stmt: Stmt }[][]) list.forEach((n, at) => groups.has(n.stmt) && places.set(n.stmt, { list, at }));
  for (const [s, es] of groups) {
    // In one pass: a fix-all round may make thousands of edits in one guest block.
    const snippet = applyEdits(
      text.slice(s.start, s.end),
      es.map((e) => ({ span: { start: e.span.start - s.start, end: e.span.end - s.start }, newText: e.newText })),
    );
    const p = parseTree(snippet);
    // Block recovery depends on what follows: a statement that no longer parses cleanly on its own is left to a full analysis.
    if (p.stmts.length !== 1 || p.errors.length > 0) return undefined;
    const one: FileNode = { hosts: [], devices: [], guests: [], repeated: [] };
    const errs: SyntaxError[] = [];
    parseStatements(p.stmts, one, errs);
    const place = places.get(s);
    const swap = <N extends { stmt: Stmt }>(list: N[], fresh: N[]): boolean => {
      if (place?.list !== list) return fresh.length === 0;
      if (fresh.length !== 1) return false;
      list[place.at] = fresh[0];
      return true;
    };
    if (!swap(file.hosts, one.hosts) || !swap(file.devices, one.devices) || !swap(file.guests, one.guests)) return undefined;
    errors.push(...errs);
    file.repeated.push(...one.repeated);
  }
  return { tree: prev.tree, file, errors };
}

// ---- an edited guest block, for checking fixes inside one guest -----------------------------------

/** A guest node with some statements of its block edited (`editedGuestNode`). */
export interface EditedGuest {
  node: GuestNode;
  /** The typed-parse errors of the edited statements (offsets in their own snippets). */
  errors: SyntaxError[];
  /** The extents, in the original text, of the statements that were parsed again: the original's errors inside them are gone. */
  replaced: Span[];
}

/** Whether only blanks follow `at` up to the end of its line. */
function endsItsLine(text: string, at: number): boolean {
  for (let k = at; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === 10 || c === 13) return true;
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** Where a guest-block item starts: its statement, or (an `allocate` or `msix` value) its own span. */
const itemStart = (x: { stmt: Stmt } | Val<unknown>): number => ('stmt' in x ? x.stmt.start : x.span.start);

/**
 * The node of guest `gn` with `edits` applied, made without parsing the block again: each statement of
 * the block an edit falls in (a `window`, `allocate`, `msix` or `assign` statement with its own block)
 * is parsed again on its own, in a guest block of the same name, and its nodes take the place of that
 * statement's in the node's lists; the other nodes are shared with `gn`. Offsets in the edited
 * statements' nodes are their snippet's. So a fix check in a guest of thousands of assigns parses one
 * line, not the guest. Undefined (the caller parses the whole guest) when an edit is not inside one
 * statement of the block (from its first word to the end of its line's comment), when the statement is
 * not the last on its line or a stray `{ … }` follows it, or when the edited text does not parse back
 * cleanly inside a block (its braces balanced) or starts with a `{`: what the edited text means must
 * not depend on the statements around it.
 */
export function editedGuestNode(gn: GuestNode, text: string, edits: readonly { span: Span; newText: string }[]): EditedGuest | undefined {
  const block = gn.stmt.block;
  const name = gn.name?.value;
  if (!block || block.close === undefined || name === undefined || edits.length === 0) return undefined;
  const kids = block.stmts;
  const groups = new Map<number, { span: Span; newText: string }[]>();
  for (const e of edits) {
    const i = lowerBound(kids, e.span.start + 1, (s) => s.start) - 1; // the last statement starting at or before the edit
    const s = kids[i];
    if (!s || e.span.start < s.start || e.span.end > extentEnd(s)) return undefined;
    const g = groups.get(i);
    if (g) g.push(e);
    else if (endsItsLine(text, extentEnd(s)) && kids[i + 1]?.hasWords() !== false) groups.set(i, [e]);
    // What follows on its line (`; assign b`, the block's `}`) could be commented out by the edit, and a `{` on the
    // next line taken as its block if the edit removed its own: such a statement is parsed in its block.
    else return undefined;
  }
  const errors: SyntaxError[] = [];
  const replaced: Span[] = [];
  // Per edited statement (in block order): its original extent and the nodes its edited text gives.
  const fresh: { from: number; to: number; node: GuestNode }[] = [];
  const head = `guest ${name} {\n`;
  for (const i of [...groups.keys()].sort((x, y) => x - y)) {
    const s = kids[i];
    const from = s.start;
    const to = extentEnd(s);
    const snippet = head + applyEdits(text.slice(from, to), groups.get(i)!.map((e) => ({ span: { start: e.span.start - from, end: e.span.end - from }, newText: e.newText }))) + '\n}';
    const tree = parseTree(snippet);
    // Among the tree errors: a `{` that starts the edited text (in its block, the block of the statement before it).
    if (tree.errors.length > 0 || tree.stmts.length !== 1) return undefined;
    const one: FileNode = { hosts: [], devices: [], guests: [], repeated: [] };
    const errs: SyntaxError[] = [];
    parseStatements(tree.stmts, one, errs);
    // The header reads back as it was: any error is the edited statement's.
    if (one.guests.length !== 1 || one.guests[0].name?.value !== name) return undefined;
    errors.push(...errs);
    replaced.push({ start: from, end: to });
    fresh.push({ from, to, node: one.guests[0] });
  }
  /** `list` with the items of each edited statement replaced by what its edited text gives. */
  const spliced = <T extends { stmt: Stmt } | Val<unknown>>(list: T[], pick: (g: GuestNode) => T[]): T[] => {
    let out: T[] | undefined;
    let at = 0;
    for (const f of fresh) {
      const lo = lowerBound(list, f.from, itemStart);
      const hi = lowerBound(list, f.to, itemStart);
      const add = pick(f.node);
      if (lo === hi && add.length === 0) continue;
      out ??= [];
      for (let k = at; k < lo; k++) out.push(list[k]);
      for (const x of add) out.push(x);
      at = hi;
    }
    if (!out) return list;
    for (let k = at; k < list.length; k++) out.push(list[k]);
    return out;
  };
  const node: GuestNode = {
    name: gn.name,
    windows: spliced(gn.windows, (g) => g.windows),
    allocates: spliced(gn.allocates, (g) => g.allocates),
    msixModes: spliced(gn.msixModes, (g) => g.msixModes),
    assigns: spliced(gn.assigns, (g) => g.assigns),
    stmt: gn.stmt,
  };
  return { node, errors, replaced };
}
