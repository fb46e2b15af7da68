// Typed parse of the generic statement tree (tree.ts) following section 2 of
// the spec. Each statement is matched word by word; the first mismatch yields
// one `syntax` diagnostic on the offending word and the rest of that statement
// is skipped, so one typo never hides the findings of the next statement.

import { fitted } from './fitted';
import { Scanner, Tok } from './lexer';
import { closestWord } from './suggest';
import { parseTree, Stmt, Tree } from './tree';
import {
  AssignBarNode,
  AssignNode,
  BarKind,
  BarNode,
  DeviceNode,
  FileNode,
  GuestNode,
  HostNode,
  MsixMode,
  Policy,
  Val,
  PciAddress,
  val,
  valAt,
} from './ast';
import { detach, isNameAt, isPowerOfTwo, readInteger, readPci, readSize, ValueError } from './values';
import { Span } from './types';

export interface SyntaxError {
  span: Span;
  message: string;
}

/** A statement's first word. */
interface Head {
  kind: Tok;
  start: number;
  end: number;
  text: string;
}

export interface ParseResult {
  tree: Tree;
  file: FileNode;
  errors: SyntaxError[];
}

/**
 * Reads one statement's words in order, straight from the source through a scanner: no token
 * objects, no word strings (a value is read in place; only names and strings become strings).
 * The first mismatch is one error; after it every read gives undefined.
 */
class Args {
  private readonly sc: Scanner;
  /** Whether the scanner holds the next, not yet consumed, word. */
  private pending: boolean;
  /** The last consumed word (at first: the keyword). */
  private kind: Tok;
  private wStart: number;
  private wEnd: number;
  private value = '';
  private unterminated = false;
  /** The statement's first word (its keyword, unless it is a string). */
  readonly head: Head;
  failed = false;

  /** For a statement with words (see `argsOf`). */
  constructor(
    private readonly text: string,
    stmt: Stmt,
    private readonly errors: SyntaxError[],
    /** What the statement is called in messages; by default its keyword in backquotes. */
    private readonly label?: string,
  ) {
    const sc = (this.sc = new Scanner(text, stmt.start, stmt.wordsEnd));
    sc.advance();
    this.kind = sc.kind;
    this.wStart = sc.start;
    this.wEnd = sc.end;
    this.head = { kind: sc.kind, start: sc.start, end: sc.end, text: text.slice(sc.start, sc.end) };
    this.pending = sc.advance();
  }

  private get what(): string {
    return this.label ?? '`' + this.head.text + '`';
  }

  private currentText(): string {
    return this.text.slice(this.wStart, this.wEnd);
  }

  private fail(start: number, end: number, message: string): undefined {
    if (!this.failed) this.errors.push({ span: { start, end }, message });
    this.failed = true;
    return undefined;
  }

  /** Consumes the next word; when there is none, the error says what was expected after the last one. */
  private take(expected: string): boolean {
    if (this.failed) return false;
    if (!this.pending) {
      this.fail(this.wStart, this.wEnd, `${this.what}: expected ${expected} after \`${this.currentText()}\``);
      return false;
    }
    const sc = this.sc;
    this.kind = sc.kind;
    this.wStart = sc.start;
    this.wEnd = sc.end;
    if (sc.kind === Tok.String) {
      this.value = sc.value;
      this.unterminated = sc.unterminated;
    }
    this.pending = sc.advance();
    return true;
  }

  private nextIs(word: string): boolean {
    const sc = this.sc;
    return !this.failed && this.pending && sc.kind === Tok.Word && sc.end - sc.start === word.length && this.text.startsWith(word, sc.start);
  }

  hasMore(): boolean {
    return !this.failed && this.pending;
  }

  keyword(word: string): boolean {
    if (!this.take('`' + word + '`')) return false;
    if (this.kind !== Tok.Word || this.wEnd - this.wStart !== word.length || !this.text.startsWith(word, this.wStart)) {
      this.fail(this.wStart, this.wEnd, `${this.what}: expected \`${word}\` here, found \`${this.currentText()}\``);
      return false;
    }
    return true;
  }

  optKeyword(word: string): boolean {
    if (this.nextIs(word)) {
      this.take(word);
      return true;
    }
    return false;
  }

  /** Consumes the next word, which must not be a string. */
  private takeWord(expected: string): boolean {
    if (!this.take(expected)) return false;
    if (this.kind !== Tok.Word) {
      this.fail(this.wStart, this.wEnd, `${this.what}: expected ${expected}, found a string`);
      return false;
    }
    return true;
  }

  private checked<T>(r: T | ValueError): Val<T> | undefined {
    if (r instanceof ValueError) return this.fail(this.wStart, this.wEnd, `${this.what}: ${r.message}`);
    return valAt(r, this.wStart, this.wEnd);
  }

  integer(expected: string): Val<bigint> | undefined {
    return this.takeWord(expected) ? this.checked(readInteger(this.text, this.wStart, this.wEnd)) : undefined;
  }

  size(expected = 'a size such as 4K'): Val<bigint> | undefined {
    return this.takeWord(expected) ? this.checked(readSize(this.text, this.wStart, this.wEnd)) : undefined;
  }

  smallInt(expected: string, max: number): Val<number> | undefined {
    if (!this.takeWord(expected)) return undefined;
    const r = readInteger(this.text, this.wStart, this.wEnd);
    if (r instanceof ValueError) return this.fail(this.wStart, this.wEnd, `${this.what}: ${r.message}`);
    if (r > BigInt(max)) return this.fail(this.wStart, this.wEnd, `${this.what}: BAR index ${r} is out of range; a function has BARs 0 to ${max}`);
    return valAt(Number(r), this.wStart, this.wEnd);
  }

  name(expected: string): Val<string> | undefined {
    if (!this.takeWord(expected)) return undefined;
    if (!isNameAt(this.text, this.wStart, this.wEnd)) {
      return this.fail(this.wStart, this.wEnd, `${this.what}: \`${this.currentText()}\` is not a valid name (letters, digits, \`_\` and \`-\`, not starting with a digit)`);
    }
    return valAt(kept(this.currentText()), this.wStart, this.wEnd);
  }

  word(expected: string): Val<string> | undefined {
    return this.takeWord(expected) ? valAt(kept(this.currentText()), this.wStart, this.wEnd) : undefined;
  }

  /** One of `options`; the value is the option itself (no copy of the word). */
  /** One of `options`; `refused` says why a word the language knows is not one of them here. */
  choice<T extends string>(expected: string, options: readonly T[], refused?: { word: string; why: string }): Val<T> | undefined {
    if (!this.takeWord(expected)) return undefined;
    for (const o of options) {
      if (this.wEnd - this.wStart === o.length && this.text.startsWith(o, this.wStart)) return valAt(o, this.wStart, this.wEnd);
    }
    if (refused && this.currentText() === refused.word) return this.fail(this.wStart, this.wEnd, `${this.what}: ${refused.why}`);
    return this.fail(this.wStart, this.wEnd, `${this.what}: expected ${orList(options)}; found \`${this.currentText()}\``);
  }

  string(expected: string): Val<string> | undefined {
    if (!this.take(expected)) return undefined;
    if (this.kind !== Tok.String) return this.fail(this.wStart, this.wEnd, `${this.what}: expected ${expected} in double quotes, found \`${this.currentText()}\``);
    if (this.unterminated) return this.fail(this.wStart, this.wEnd, `${this.what}: the string is missing its closing \`"\``);
    return valAt(kept(this.value), this.wStart, this.wEnd);
  }

  pci(): Val<PciAddress> | undefined {
    return this.takeWord('a PCI address such as 0000:01:00.0') ? this.checked(readPci(this.currentText())) : undefined;
  }

  /** No words may follow. */
  end(): void {
    if (this.failed || !this.pending) return;
    const sc = this.sc;
    const start = sc.start;
    const word = this.text.slice(start, sc.end);
    // The error spans to the statement's last word.
    this.fail(start, lastWordEnd(sc), `${this.what}: unexpected \`${word}\` at the end of the statement`);
  }
}

/** Moves the scanner past its remaining words and gives the end of the last one. */
function lastWordEnd(sc: Scanner): number {
  let end = sc.end;
  while (sc.advance()) end = sc.end;
  return end;
}

const KINDS: readonly BarKind[] = ['mem32', 'mem64', 'io'];
/** SR-IOV gives VFs memory space only: the capability's control register enables VF memory space, and there is no VF I/O space. */
const VF_KINDS: readonly BarKind[] = ['mem32', 'mem64'];
const VF_IO = { word: 'io', why: 'a VF BAR is `mem32` or `mem64`, not `io`: SR-IOV gives VFs memory space only (the capability enables VF memory space; there is no VF I/O space)' };
const POLICIES: readonly Policy[] = ['listed', 'size-descending', 'page-match'];
const MSIX_MODES: readonly MsixMode[] = ['emulate', 'paravirt', 'relocate'];

const HOST_STMTS = ['page-size', 'arch', 'msix-mappable', 'window'];
const DEVICE_STMTS = ['group', 'name', 'id', 'bar', 'msix', 'region', 'rom', 'sriov'];
const GUEST_STMTS = ['window', 'allocate', 'msix', 'assign'];
const YES_NO = ['yes', 'no'] as const;

/**
 * The strings the current `parseStatements` has kept (names, ids, descriptions), by text. An
 * inventory repeats a few device descriptions and ids thousands of times and names each device
 * again in every guest that assigns it; a repeat shares the first one's string. The table lives
 * for one call, so nothing outlives the parse that made it.
 */
let keptStrings: Map<string, string> | undefined;

/**
 * Longest string `kept` shares. Names, ids and descriptions are far shorter; V8 hashes a string of
 * 16,384 characters or more by its length alone, so a table of long strings of one length would
 * compare each new one with all the others (a document of such labels would take quadratic time).
 */
const KEPT_MAX_LENGTH = 256;

/** `` `a`, `b` or `c` ``: the words a statement takes there. */
function orList(options: readonly string[]): string {
  const q = options.map((o) => '`' + o + '`');
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

/** `s` as a string a node may keep (see `detach`), shared with an equal one read before in this parse. */
function kept(s: string): string {
  if (!keptStrings || s.length > KEPT_MAX_LENGTH) return detach(s);
  let k = keptStrings.get(s);
  if (k === undefined) {
    k = detach(s);
    keptStrings.set(k, k);
  }
  return k;
}

/** A plain span of a token: the AST keeps no token (nor its text) alive. */
function spanOf(t: Span): Span {
  return { start: t.start, end: t.end };
}

/** The last word of a statement (error paths only: it scans the words). */
function lastWordSpan(s: Stmt): Span {
  const words = s.words;
  return spanOf(words[words.length - 1]);
}

/** The reader of a statement's words; undefined for a statement without words (a stray `{`, already reported). */
function argsOf(s: Stmt, errors: SyntaxError[], label?: string): Args | undefined {
  return s.hasWords() ? new Args(s.source.text, s, errors, label) : undefined;
}

/** A device node's lists at their exact sizes. */
function fitDevice(d: DeviceNode): void {
  d.bars = fitted(d.bars);
  d.msix = fitted(d.msix);
  d.regions = fitted(d.regions);
  d.roms = fitted(d.roms);
  d.sriovs = fitted(d.sriovs);
  d.groups = fitted(d.groups);
}

export function parse(text: string): ParseResult {
  const tree = parseTree(text);
  const errors: SyntaxError[] = tree.errors.map((e) => ({ span: e.span, message: e.message }));
  const file: FileNode = { hosts: [], devices: [], guests: [], repeated: [] };
  parseStatements(tree.stmts, file, errors);
  return { tree, file, errors };
}

/** The typed parse of top-level statements: their nodes are appended to `file`, their errors to `errors`. */
export function parseStatements(stmts: readonly Stmt[], file: FileNode, errors: SyntaxError[]): void {
  const outer = keptStrings;
  keptStrings = new Map();
  try {
    parseStatementsNow(stmts, file, errors);
  } finally {
    keptStrings = outer;
  }
}

function parseStatementsNow(stmts: readonly Stmt[], file: FileNode, errors: SyntaxError[]): void {
  const unexpectedBlock = (s: Stmt, what: string | Head): void => {
    if (s.block) errors.push({ span: { start: s.block.open, end: s.block.open + 1 }, message: `${typeof what === 'string' ? what : '`' + what.text + '`'} takes no \`{ … }\` block` });
  };
  const needBlock = (s: Stmt, what: string): boolean => {
    if (!s.block) {
      errors.push({ span: lastWordSpan(s), message: `${what}: expected \`{\` to open its block` });
      return false;
    }
    return true;
  };
  const unknown = (t: Head, where: string, allowed: string[]): void => {
    const hint = allowed.map((a) => '`' + a + '`').join(', ');
    const moved =
      where !== 'the top level' && ['host', 'device', 'guest'].includes(t.text)
        ? ` (\`${t.text}\` blocks go at the top level)`
        : '';
    const close = moved ? undefined : closestWord(t.text.toLowerCase(), allowed);
    errors.push({ span: spanOf(t), message: `unknown statement \`${t.text}\` in ${where}${moved}; ${close !== undefined ? `did you mean \`${close}\`? Expected` : 'expected'} one of ${hint}` });
  };

  const parseBar = (s: Stmt, a: Args, vf = false): BarNode => {
    const node: BarNode = { incomplete: false, index: undefined, kind: undefined, prefetch: false, size: undefined, address: undefined, stmt: s };
    node.index = a.smallInt('a BAR index 0-5', 5);
    node.kind = (vf ? a.choice('a VF BAR kind', VF_KINDS, VF_IO) : a.choice('a BAR kind', KINDS))?.value;
    node.prefetch = a.optKeyword('prefetch');
    if (a.keyword('size')) node.size = a.size();
    if (a.optKeyword('at')) node.address = a.integer('an address such as 0xfe000000');
    a.end();
    node.incomplete = a.failed;
    unexpectedBlock(s, 'a `bar` statement');
    return node;
  };

  for (const s of stmts) {
    const a = argsOf(s, errors);
    if (!a) continue;
    const kw = a.head;
    if (kw.kind !== Tok.Word) {
      errors.push({ span: spanOf(kw), message: 'a statement must start with a keyword (`host`, `device` or `guest`), not a string' });
      continue;
    }
    switch (kw.text) {
      case 'host': {
        const h: HostNode = { keyword: spanOf(kw), name: undefined, pageSize: undefined, arch: undefined, msixMappable: undefined, windows: [], stmt: s };
        if (a.hasMore()) h.name = a.name('a host name');
        a.end();
        file.hosts.push(h);
        if (!needBlock(s, '`host`')) break;
        for (const c of s.block!.stmts) {
          const ca = argsOf(c, errors);
          if (!ca) continue;
          const ck = ca.head;
          switch (ck.text) {
            case 'page-size': {
              const v = ca.size('a page size such as 4K or 64K');
              if (v && (!isPowerOfTwo(v.value) || v.value < 4096n)) {
                errors.push({ span: spanOf(v.span), message: `\`page-size\`: ${s.source.text.slice(v.span.start, v.span.end)} is not a power of two of at least 4K (use 4K, 16K or 64K)` });
              } else if (v) {
                if (h.pageSize) file.repeated.push({ span: spanOf(ck), message: '`page-size` is given twice in this host block; the first one counts.' });
                else h.pageSize = v;
              }
              ca.end();
              break;
            }
            case 'arch': {
              const v = ca.word('an architecture such as x86_64, ppc64le or arm64');
              if (v && h.arch) file.repeated.push({ span: spanOf(ck), message: '`arch` is given twice in this host block; the first one counts.' });
              else if (v) h.arch = v;
              ca.end();
              break;
            }
            case 'msix-mappable': {
              const v = ca.choice('`yes` or `no`', YES_NO);
              if (v && h.msixMappable) file.repeated.push({ span: spanOf(ck), message: '`msix-mappable` is given twice in this host block; the first one counts.' });
              else if (v) h.msixMappable = val(v.value === 'yes', v.span);
              ca.end();
              break;
            }
            case 'window': {
              const w: HostNode['windows'][number] = { name: undefined, address: undefined, size: undefined, prefetch: false, stmt: c };
              w.name = ca.name('a window name');
              w.address = ca.integer('the window address');
              if (ca.keyword('size')) w.size = ca.size();
              w.prefetch = ca.optKeyword('prefetch');
              ca.end();
              h.windows.push(w);
              break;
            }
            default:
              unknown(ck, 'a `host` block', HOST_STMTS);
              continue;
          }
          unexpectedBlock(c, ck);
        }
        break;
      }
      case 'device': {
        const d: DeviceNode = { name: undefined, pci: undefined, label: undefined, id: undefined, bars: [], msix: [], regions: [], roms: [], sriovs: [], groups: [], stmt: s, model: undefined };
        d.name = a.name('a device name');
        if (a.keyword('at')) d.pci = a.pci();
        a.end();
        file.devices.push(d);
        if (!needBlock(s, '`device`')) break;
        for (const c of s.block!.stmts) {
          const ca = argsOf(c, errors);
          if (!ca) continue;
          const ck = ca.head;
          if (ck.text === 'bar') {
            d.bars.push(parseBar(c, ca));
            continue;
          }
          switch (ck.text) {
            case 'group': {
              const g = ca.integer('an IOMMU group number');
              if (g) d.groups.push(g);
              ca.end();
              break;
            }
            case 'name': {
              const v = ca.string('a device description');
              if (v && d.label) file.repeated.push({ span: spanOf(ck), message: `\`name\` is given twice in ${d.name ? `device ${d.name.value}` : 'this device block'}; the first one counts.` });
              else if (v) d.label = v;
              ca.end();
              break;
            }
            case 'id': {
              const v = ca.word('a vendor:device id such as 1033:0035');
              if (v && !/^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/.test(v.value)) {
                errors.push({ span: spanOf(v.span), message: `\`id\`: \`${v.value}\` is not a vendor:device id (four hex digits each, e.g. 1033:0035)` });
              } else if (v && d.id) file.repeated.push({ span: spanOf(ck), message: `\`id\` is given twice in ${d.name ? `device ${d.name.value}` : 'this device block'}; the first one counts.` });
              else if (v) d.id = v;
              ca.end();
              break;
            }
            case 'msix': {
              const m: DeviceNode['msix'][number] = { entries: undefined, tableBar: undefined, tableOffset: undefined, pbaBar: undefined, pbaOffset: undefined, stmt: c };
              if (ca.keyword('entries')) m.entries = ca.integer('the number of MSI-X vectors');
              if (ca.keyword('table') && ca.keyword('bar')) m.tableBar = ca.smallInt('the table BAR index', 5);
              if (ca.keyword('offset')) m.tableOffset = ca.integer('the table offset');
              if (ca.optKeyword('pba')) {
                if (ca.keyword('bar')) m.pbaBar = ca.smallInt('the PBA BAR index', 5);
                if (ca.keyword('offset')) m.pbaOffset = ca.integer('the PBA offset');
              }
              ca.end();
              d.msix.push(m);
              break;
            }
            case 'region': {
              const r: DeviceNode['regions'][number] = { name: undefined, bar: undefined, offset: undefined, size: undefined, hot: false, stmt: c };
              r.name = ca.name('a region name');
              if (ca.keyword('bar')) r.bar = ca.smallInt('a BAR index 0-5', 5);
              if (ca.keyword('offset')) r.offset = ca.integer('the offset inside the BAR');
              if (ca.keyword('size')) r.size = ca.size();
              r.hot = ca.optKeyword('hot');
              ca.end();
              d.regions.push(r);
              break;
            }
            case 'rom': {
              const r: DeviceNode['roms'][number] = { size: undefined, address: undefined, stmt: c };
              if (ca.keyword('size')) r.size = ca.size();
              if (ca.optKeyword('at')) r.address = ca.integer('an address');
              ca.end();
              d.roms.push(r);
              break;
            }
            case 'sriov': {
              const sr: DeviceNode['sriovs'][number] = { vfs: undefined, bars: [], stmt: c };
              if (ca.keyword('vfs')) sr.vfs = ca.integer('the number of VFs');
              ca.end();
              d.sriovs.push(sr);
              if (!c.block) {
                errors.push({ span: lastWordSpan(c), message: '`sriov`: expected `{` with the VF BARs' });
                continue;
              }
              for (const vb of c.block.stmts) {
                const va = argsOf(vb, errors, 'VF `bar`');
                if (!va) continue;
                if (va.head.text === 'bar') sr.bars.push(parseBar(vb, va, true));
                else unknown(va.head, 'an `sriov` block', ['bar']);
              }
              sr.bars = fitted(sr.bars);
              continue;
            }
            default:
              unknown(ck, 'a `device` block', DEVICE_STMTS);
              continue;
          }
          unexpectedBlock(c, ck);
        }
        fitDevice(d);
        break;
      }
      case 'guest': {
        const g: GuestNode = { name: undefined, windows: [], allocates: [], msixModes: [], assigns: [], stmt: s };
        g.name = a.name('a guest name');
        a.end();
        file.guests.push(g);
        if (!needBlock(s, '`guest`')) break;
        for (const c of s.block!.stmts) {
          const ca = argsOf(c, errors);
          if (!ca) continue;
          const ck = ca.head;
          switch (ck.text) {
            case 'window': {
              const w: GuestNode['windows'][number] = { address: undefined, size: undefined, stmt: c };
              w.address = ca.integer('the window address');
              if (ca.keyword('size')) w.size = ca.size();
              ca.end();
              g.windows.push(w);
              break;
            }
            case 'allocate': {
              const p = ca.choice('an allocation policy', POLICIES);
              if (p) g.allocates.push(p);
              ca.end();
              break;
            }
            case 'msix': {
              const m = ca.choice('an MSI-X mode', MSIX_MODES);
              if (m) g.msixModes.push(m);
              ca.end();
              break;
            }
            case 'assign': {
              const as: AssignNode = { device: undefined, bars: [], stmt: c };
              as.device = ca.name('a device name');
              ca.end();
              g.assigns.push(as);
              if (c.block) {
                for (const b of c.block.stmts) {
                  const ba = argsOf(b, errors);
                  if (!ba) continue;
                  if (ba.head.text !== 'bar') {
                    unknown(ba.head, 'an `assign` block', ['bar']);
                    continue;
                  }
                  const ab: AssignBarNode = { index: undefined, address: undefined, stmt: b };
                  ab.index = ba.smallInt('a BAR index 0-5', 5);
                  if (ba.optKeyword('at')) ab.address = ba.integer('a guest address');
                  ba.end();
                  unexpectedBlock(b, '`bar`');
                  as.bars.push(ab);
                }
              }
              as.bars = fitted(as.bars);
              continue;
            }
            default:
              unknown(ck, 'a `guest` block', GUEST_STMTS);
              continue;
          }
          unexpectedBlock(c, ck);
        }
        g.windows = fitted(g.windows);
        g.allocates = fitted(g.allocates);
        g.msixModes = fitted(g.msixModes);
        g.assigns = fitted(g.assigns);
        break;
      }
      default:
        unknown(kw, 'the top level', ['host', 'device', 'guest']);
    }
  }
}
